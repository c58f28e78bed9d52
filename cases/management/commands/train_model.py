from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.services.rescoring import orders_rescore, rescore_candidates
from cases.services.training import model_retrain
from models_ml.models import ModelVersion
from models_ml.services import TrainingDataError


class Command(BaseCommand):
    help = "Train a challenger on all labels; promote it if it beats the champion."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Train on unchanged data."
        )
        parser.add_argument(
            "--unless-active",
            action="store_true",
            help="Do nothing when a model is already active (make run).",
        )

    def handle(self, *args: object, **options: object) -> None:
        active = ModelVersion.objects.filter(status="active").first()
        if options["unless_active"] and active is not None:
            self.stdout.write(f"Model v{active.pk} is active: not training.")
            return
        try:
            version = model_retrain(force=bool(options["force"]))
        except TrainingDataError as exc:
            active = ModelVersion.objects.filter(status="active").first()
            if active is None:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Not trained: {exc}. Active model stays v{active.pk}.")
            return
        holdout = version.metrics.get("holdout") or {}
        self.stdout.write(
            f"Model v{version.pk}: {version.status} ({version.promotion_reason}); "
            f"holdout AP {holdout.get('ap')}, AUC {holdout.get('auc')}"
        )
        if version.status == ModelVersion.Status.ACTIVE:
            scored = orders_rescore(rescore_candidates())
            self.stdout.write(f"Re-scored {scored} open or recent orders.")
