"""`create_demo_users`: the demo accounts work for the demo tenant."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cases.services.bulk import import_client
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def test_demo_users_join_the_demo_tenant_whichever_runs_first():
    call_command("create_demo_users", stdout=StringIO())
    client = import_client("demo")  # what seed_demo loads its orders with
    call_command("create_demo_users", stdout=StringIO())  # idempotent

    memberships = Membership.objects.select_related("user", "tenant")
    assert {(m.user.username, m.tenant.name) for m in memberships} == {
        ("reviewer", "demo"),
        ("lead", "demo"),
        ("admin", "demo"),
    }
    assert client.tenant.name == "demo"
    assert get_user_model().objects.count() == 3
