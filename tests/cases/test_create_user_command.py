"""`create_user … --tenant`: the account works for that tenant."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenants.models import Membership
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-9"


def test_create_user_with_a_tenant_makes_it_a_member():
    TenantFactory(name="My Shop")

    call_command(
        "create_user",
        "alice",
        "--password",
        PASSWORD,
        "--tenant",
        "my-shop",
        stdout=StringIO(),
    )

    assert Membership.objects.get(user__username="alice").tenant.name == "My Shop"


def test_an_unknown_tenant_is_refused_and_creates_no_account():
    with pytest.raises(CommandError, match="no tenant named 'nope'"):
        call_command(
            "create_user",
            "bob",
            "--password",
            PASSWORD,
            "--tenant",
            "nope",
            stdout=StringIO(),
        )

    assert not Membership.objects.exists()
