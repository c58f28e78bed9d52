from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import ApiClient
from cases.services.clients import api_client_create
from tenants.services import tenant_find


class Command(BaseCommand):
    help = (
        "Create an API client and print its token (shown only this once). "
        "Without --tenant the client gets a new tenant of its own, named after "
        "it; with --tenant it joins that tenant and shares its entities."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--tenant",
            help="Name or slug of an existing tenant for the client to join.",
        )

    def handle(self, *args: object, **options: str) -> None:
        name = options["name"]
        if ApiClient.objects.filter(name=name).exists():
            raise CommandError(f"an API client named {name!r} exists")
        tenant = None
        if options["tenant"] is not None:
            tenant = tenant_find(options["tenant"])
            if tenant is None:
                raise CommandError(
                    f"no tenant named {options['tenant']!r}; leave out --tenant "
                    "to give the client a new tenant of its own"
                )
        try:
            client, token = api_client_create(name, tenant=tenant, actor="system:cli")
        except ValidationError as exc:
            raise CommandError(
                f"{'; '.join(exc.messages)}: pass --tenant {name!r} to join it"
            ) from None
        self.stdout.write(
            f"Created API client {client.name} in tenant {client.tenant.name}. "
            f"Token: {token}"
        )
