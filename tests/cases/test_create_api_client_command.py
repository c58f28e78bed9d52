"""`create_api_client NAME [--tenant TENANT]`: a new tenant, or an existing one."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases.models import ApiClient
from cases.services.clients import token_hash
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def _create(*args: str) -> str:
    out = StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue()


def test_without_tenant_the_client_gets_a_tenant_of_its_own():
    output = _create("shop-a")
    _create("shop-b")

    a, b = ApiClient.objects.get(name="shop-a"), ApiClient.objects.get(name="shop-b")
    assert a.tenant.name == "shop-a" and b.tenant.name == "shop-b"
    assert a.tenant_id != b.tenant_id
    token = output.split()[-1]
    assert token_hash(token) == a.token_hash  # the last word is the token


def test_with_tenant_the_client_joins_it_by_name_or_slug():
    _create("Shop Web")
    _create("shop-app", "--tenant", "Shop Web")
    _create("shop-pos", "--tenant", "shop-web")

    tenants = set(ApiClient.objects.values_list("tenant__name", flat=True).distinct())
    assert tenants == {"Shop Web"}
    assert Tenant.objects.count() == 1


def test_an_unknown_tenant_is_a_clear_error_and_creates_nothing():
    with pytest.raises(CommandError, match="no tenant named 'nope'"):
        _create("shop-a", "--tenant", "nope")

    assert not ApiClient.objects.exists() and not Tenant.objects.exists()


def test_a_client_named_like_an_existing_tenant_must_join_it_explicitly():
    _create("acme")
    ApiClient.objects.filter(name="acme").update(name="acme-old")

    with pytest.raises(CommandError, match="--tenant 'acme'"):
        _create("acme")

    assert ApiClient.objects.count() == 1 and Tenant.objects.count() == 1
