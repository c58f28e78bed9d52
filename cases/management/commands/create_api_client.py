from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import ApiClient
from cases.services.clients import api_client_create


class Command(BaseCommand):
    help = "Create an API client and print its token (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: object, **options: str) -> None:
        if ApiClient.objects.filter(name=options["name"]).exists():
            raise CommandError(f"an API client named {options['name']!r} exists")
        client, token = api_client_create(options["name"], actor="system:cli")
        self.stdout.write(f"Created API client {client.name}. Token: {token}")
