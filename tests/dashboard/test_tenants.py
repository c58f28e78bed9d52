"""The dashboard and its exports show the lead's tenant only."""

import csv
import io

import pytest
from django.core.cache import cache
from django.test import Client

from cases.services.users import user_create
from dashboard.tables import TABLES
from models_ml.models import ModelVersion
from tests.dashboard.conftest import world_build
from tests.dashboard.data import PASSWORD
from tests.factories import ApiClientFactory, TenantFactory

pytestmark = pytest.mark.django_db
RANGE = {"date_from": "2026-03-02", "date_to": "2026-03-03"}


def _tables(client: Client) -> dict[str, list[list[str]]]:
    out = {}
    for table in TABLES:
        response = client.get(f"/dashboard/export/{table}.csv", RANGE)
        assert response.status_code == 200, table
        out[table] = list(csv.reader(io.StringIO(response.content.decode())))
    return out


def _same(a: dict, b: dict) -> bool:
    """Equal tables; versions compared without their (per-row) ids."""

    def plain(tables: dict) -> dict:
        versions = [row[1:] for row in tables["versions"]]
        return {**tables, "versions": versions}

    return plain(a) == plain(b)


def _lead(name: str, tenant) -> Client:
    client = Client()
    client.force_login(user_create(name, PASSWORD, "lead", tenant=tenant))
    return client


def test_another_tenants_world_changes_no_table_and_each_lead_sees_its_own(
    world, active
):
    default_lead = _lead("lead-default", TenantFactory())
    other = TenantFactory(name="other")
    other_lead = _lead("lead-other", other)
    before = _tables(default_lead)
    assert _tables(other_lead) != before  # the other tenant has nothing yet
    outcomes = before["outcomes"]
    assert int(outcomes[1][outcomes[0].index("caught")]) == 2

    # The same world and model in another tenant.
    world_build(ApiClientFactory(tenant=other))
    theirs = ModelVersion.objects.get(pk=active.pk)
    theirs.pk, theirs.tenant = None, other
    theirs.save()
    ModelVersion.objects.filter(pk=theirs.pk).update(created_at=active.created_at)
    cache.clear()

    assert _tables(default_lead) == before
    assert _same(_tables(other_lead), before)
    assert _tables(other_lead)["versions"][1][0] == f"v{theirs.pk}"


@pytest.mark.parametrize(
    "url", ["/dashboard/", "/dashboard/export/outcomes.csv", "/queue/", "/models/"]
)
def test_a_user_of_no_tenant_gets_a_403_that_says_why(url):
    client = Client()
    user = user_create("lead-nowhere", PASSWORD, "lead")
    client.force_login(user)

    response = client.get(url)

    assert response.status_code == 403
    assert b"belongs to no tenant" in response.content
