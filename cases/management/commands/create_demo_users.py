from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from cases.services.users import user_create

DEMO_USERS = [("reviewer", "reviewer"), ("lead", "lead"), ("admin", "admin")]


class Command(BaseCommand):
    help = "Demo accounts reviewer/lead/admin (idempotent). For demos only."

    def handle(self, *args: object, **options: object) -> None:
        users = get_user_model().objects
        for username, role in DEMO_USERS:
            password = f"{username}-demo-pass"
            if not users.filter(username=username).exists():
                user_create(username, password, role)
            self.stdout.write(f"Demo {role}: {username} / {password}")
