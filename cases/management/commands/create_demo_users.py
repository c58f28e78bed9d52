from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from cases.services.users import user_create
from tenants.services import membership_set, tenant_create, tenant_find

DEMO_USERS = [("reviewer", "reviewer"), ("lead", "lead"), ("admin", "admin")]
DEMO_TENANT = "demo"  # the tenant of seed_demo's orders (lab.demo_seed)


class Command(BaseCommand):
    help = (
        "Demo accounts reviewer/lead/admin (idempotent), members of the demo "
        "tenant. For demos only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default=DEMO_TENANT)

    def handle(self, *args: object, **options: str) -> None:
        name = options["tenant"]
        tenant = tenant_find(name) or tenant_create(name)
        users = get_user_model().objects
        for username, role in DEMO_USERS:
            password = f"{username}-demo-pass"
            user = users.filter(username=username).first()
            if user is None:
                user_create(username, password, role, tenant=tenant)
            else:
                membership_set(user, tenant)
            self.stdout.write(f"Demo {role}: {username} / {password} ({tenant.name})")
