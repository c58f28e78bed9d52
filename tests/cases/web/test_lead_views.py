"""What leads see and do: escalated cases decided without a claim, the
escalation note on top, labels in words, confirmed model activation, audit
times."""

import re

import pytest
from django.test import Client

from cases.models import AuditEvent, Case, Claim
from cases.services.review import case_claim, case_decide, case_escalate
from cases.services.users import user_create
from models_ml.models import ModelVersion
from tests.cases.web.conftest import PASSWORD
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def second_lead(db):
    return user_create("lead-two", PASSWORD, "lead", tenant=TenantFactory())


@pytest.fixture
def escalated(make_case, reviewer) -> Case:
    case = make_case()
    claim = case_claim(case, reviewer)
    case_escalate(claim.pk, reviewer, note="Card <b>BIN</b> looks odd")
    case.refresh_from_db()
    return case


def test_escalation_note_is_at_the_top_of_the_case(escalated, lead):
    html = _signed_in(lead).get(f"/cases/{escalated.pk}/").content.decode()
    note = html.index('id="escalation-note"')
    assert note < html.index("<h2>Order")
    assert "Card &lt;b&gt;BIN&lt;/b&gt; looks odd" in html[note:]
    assert "Decide as lead" in html


def test_lead_decides_an_escalated_case_without_claiming_it(escalated, lead):
    response = _signed_in(lead).post(
        f"/cases/{escalated.pk}/override/",
        {"value": "fraud", "reasons": ["stolen_card", "card_testing"], "note": "ok"},
    )

    assert response.status_code == 302
    escalated.refresh_from_db()
    assert escalated.status == Case.Status.DECIDED
    assert not Claim.objects.filter(case=escalated, reviewer=lead).exists()
    label = escalated.labels.get()
    assert label.reasons == ["stolen_card", "card_testing", "lead_override"]


def test_second_lead_deciding_a_case_already_decided_is_refused(
    escalated, lead, second_lead
):
    seen = {"value": "fraud", "reasons": ["other"], "note": "ok"}
    seen["expected_status"] = "escalated"
    _signed_in(lead).post(f"/cases/{escalated.pk}/override/", seen)

    response = _signed_in(second_lead).post(f"/cases/{escalated.pk}/override/", seen)

    assert response.status_code == 409
    assert escalated.labels.count() == 1


def test_labels_read_in_words(make_case, reviewer, lead, settings):
    settings.QA_SHARE = 0
    case = make_case()
    claim = case_claim(case, reviewer)
    case_decide(claim.pk, reviewer, value="fraud", reasons=["stolen_card"], note="")
    _signed_in(lead).post(
        f"/cases/{case.pk}/override/",
        {"value": "legitimate", "reasons": ["verified_customer"], "note": "phoned"},
    )

    html = _signed_in(lead).get(f"/cases/{case.pk}/").content.decode()

    labels = re.search(r'<ul class="labels">(.*?)</ul>', html, re.S).group(1)
    assert "fraud</strong> · reviewer reviewer-one" in labels
    assert "legitimate</strong> · override by lead lead-one" in labels
    assert "Stolen card" in labels and "Customer verified" in labels
    assert "stolen_card" not in labels and "lead_override" not in labels


def test_make_active_asks_for_confirmation(lead):
    ModelVersion.objects.create(tenant=TenantFactory(), status="retired")
    html = _signed_in(lead).get("/models/").content.decode()
    assert "data-confirm=" in html


def test_audit_event_detail_shows_its_time(site_admin, make_case):
    event = AuditEvent.objects.create(
        actor="user:x", action="case.viewed", object_type="case", object_id="1"
    )
    html = (
        _signed_in(site_admin)
        .get(f"/admin/cases/auditevent/{event.pk}/change/")
        .content.decode()
    )
    assert "Created at" in html
    assert event.created_at.strftime("%Y") in html
