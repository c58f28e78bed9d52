from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.services.users import ROLES, user_create
from tenants.services import tenant_find


class Command(BaseCommand):
    help = "Create a reviewer, lead or admin account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLES, default="reviewer")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--tenant",
            help="Name or slug of the tenant the account works for "
            "(without one it sees nothing until added to a tenant).",
        )

    def handle(self, *args: object, **options: str) -> None:
        tenant = None
        if options["tenant"] is not None:
            tenant = tenant_find(options["tenant"])
            if tenant is None:
                raise CommandError(f"no tenant named {options['tenant']!r}")
        try:
            user = user_create(
                options["username"],
                options["password"],
                options["role"],
                options["email"],
                tenant=tenant,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created {options['role']} {user.get_username()}.")
