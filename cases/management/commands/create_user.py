from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.services.users import ROLES, user_create


class Command(BaseCommand):
    help = "Create a reviewer, lead or admin account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLES, default="reviewer")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args: object, **options: str) -> None:
        try:
            user = user_create(
                options["username"],
                options["password"],
                options["role"],
                options["email"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created {options['role']} {user.get_username()}.")
