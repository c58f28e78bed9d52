"""The workbench shows the user's tenant only: another tenant's case does not
exist for a reviewer (404), its queue holds none of them, and nobody of
another tenant can be handed a case."""

import pytest
from django.test import Client

from cases.exceptions import CaseNotAvailable
from cases.models import Claim
from cases.services.review import case_claim, case_claim_next, case_reassign
from cases.services.users import user_create
from tests.cases.web.conftest import PASSWORD
from tests.factories import ApiClientFactory, CaseFactory, OrderFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_case():
    """A pending case of another tenant, the highest priority of all."""
    client = ApiClientFactory(tenant=TenantFactory(name="other"))
    return CaseFactory(order=OrderFactory(client=client), priority=1e9)


@pytest.fixture
def own_case():
    return CaseFactory(priority=1.0)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_queue_lists_the_users_tenant_only(reviewer, own_case, foreign_case):
    response = _signed_in(reviewer).get("/queue/")

    assert response.status_code == 200
    ids = [c.pk for c in response.context["page"].cases]
    assert ids == [own_case.pk]
    assert response.context["count"].value == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/cases/{pk}/"),
        ("post", "/cases/{pk}/claim/"),
        ("post", "/cases/{pk}/release/"),
        ("post", "/cases/{pk}/decide/"),
        ("post", "/cases/{pk}/override/"),
        ("post", "/cases/{pk}/reassign/"),
        ("post", "/cases/{pk}/skip/"),
        ("post", "/cases/{pk}/snooze/"),
        ("post", "/cases/{pk}/notes/"),
    ],
)
def test_another_tenants_case_is_404_everywhere(lead, foreign_case, method, path):
    client = _signed_in(lead)

    response = getattr(client, method)(path.format(pk=foreign_case.pk), {})

    assert response.status_code == 404
    assert not Claim.objects.filter(case=foreign_case).exists()


def test_next_case_never_offers_another_tenants_case(reviewer, own_case, foreign_case):
    claim = case_claim_next(reviewer)

    assert claim.case == own_case
    case_claim(own_case, reviewer)  # already hers
    assert (
        case_claim_next(user_create("r2", PASSWORD, "reviewer", tenant=TenantFactory()))
        is None
    )


def test_a_user_of_no_tenant_is_offered_nothing(own_case):
    nobody = user_create("r-nowhere", PASSWORD, "reviewer")

    assert case_claim_next(nobody) is None
    with pytest.raises(CaseNotAvailable):
        case_claim(own_case, nobody)


def test_a_case_is_reassigned_within_its_tenant_only(lead, own_case):
    stranger = user_create(
        "r-other", PASSWORD, "reviewer", tenant=TenantFactory(name="other")
    )
    response = _signed_in(lead).post(
        f"/cases/{own_case.pk}/reassign/", {"reviewer": stranger.username}
    )

    assert response.status_code == 400
    assert b"reviewer of this tenant" in response.content
    with pytest.raises(CaseNotAvailable):
        case_reassign(own_case, lead, stranger)
    assert not Claim.objects.filter(case=own_case).exists()


def test_the_reassign_list_holds_the_tenants_reviewers_only(lead, reviewer, own_case):
    user_create("r-other", PASSWORD, "reviewer", tenant=TenantFactory(name="other"))

    response = _signed_in(lead).get(f"/cases/{own_case.pk}/")

    names = {u.username for u in response.context["reviewers"]}
    assert "r-other" not in names and reviewer.username in names


def test_an_entity_page_through_another_tenants_client_is_404(reviewer, foreign_case):
    order = foreign_case.order
    response = _signed_in(reviewer).get(
        f"/entities/{order.client_id}/customer/", {"value": order.customer_id}
    )

    assert response.status_code == 404


def test_the_models_page_lists_and_rolls_back_the_tenants_versions_only(lead, champion):
    mine = champion(TenantFactory())
    theirs = champion(TenantFactory(name="other"))
    client = _signed_in(lead)

    page = client.get("/models/")
    response = client.post(f"/models/{theirs.pk}/rollback/")

    assert [v.pk for v in page.context["versions"]] == [mine.pk]
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "active"
