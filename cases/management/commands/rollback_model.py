from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.services.training import model_rollback
from models_ml.models import ModelVersion


class Command(BaseCommand):
    help = "Make an earlier model version the active one again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", type=int)

    def handle(self, *args: object, **options: int) -> None:
        if not ModelVersion.objects.filter(pk=options["version"]).exists():
            raise CommandError(f"no model version {options['version']}")
        try:
            version = model_rollback(options["version"], actor="system:cli")
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Model v{version.pk} is active.")
