"""The reviewer workbench: queue, decisions, escalation, QA, leads' actions."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from cases.exceptions import CaseNotAvailable, LeaseLost
from cases.models import AuditEvent, Case, Claim, Label
from cases.selectors import queue_page
from cases.services.review import (
    case_claim,
    case_claim_next,
    case_decide,
    case_escalate,
    case_reassign,
)
from cases.web.forms import QueueFilterForm
from tests.cases.web.conftest import claim_for
from tests.factories import BASE_TIME, TenantFactory

pytestmark = pytest.mark.django_db

# filter name: (query parameters, fields of the case that matches, of one that doesn't)
FILTERS = {
    "status": ({"status": "qa"}, {"status": "qa"}, {"status": "open"}),
    "score_min": ({"score_min": "0.6"}, {"probability": 0.7}, {"probability": 0.5}),
    "score_max": ({"score_max": "0.6"}, {"probability": 0.5}, {"probability": 0.7}),
    "amount_min": (
        {"amount_min": "100"},
        {"amount": Decimal("100.00")},
        {"amount": Decimal("99.99")},
    ),
    "amount_max": (
        {"amount_max": "100"},
        {"amount": Decimal("100.00")},
        {"amount": Decimal("100.01")},
    ),
    "seller": (
        {"seller": "seller-x"},
        {"seller_id": "seller-x"},
        {"seller_id": "seller-y"},
    ),
    "country": (
        {"country": "FR"},
        {"billing_country": "FR"},
        {"billing_country": "DE"},
    ),
    "reason": (
        {"reason": "exploration"},
        {"queue_reason": "exploration"},
        {"queue_reason": "high_risk"},
    ),
    "date_from": (
        {"date_from": "2026-03-03"},
        {"created_at": BASE_TIME.replace(day=3)},
        {"created_at": BASE_TIME},
    ),
    "date_to": (
        {"date_to": "2026-03-02"},
        {"created_at": BASE_TIME},
        {"created_at": BASE_TIME.replace(day=3)},
    ),
    "search order id": ({"q": "o-match"}, {}, {}),
    "search customer": (
        {"q": "cust-x"},
        {"customer_id": "cust-x"},
        {"customer_id": "cust-y"},
    ),
    "search email": (
        {"q": "x@example.org"},
        {"email": "x@example.org"},
        {"email": "y@example.org"},
    ),
    "search device": (
        {"q": "dev-x"},
        {"device_id": "dev-x"},
        {"device_id": "dev-y"},
    ),
    "search IP": (
        {"q": "203.0.113.9"},
        {"ip_address": "203.0.113.9"},
        {"ip_address": "203.0.113.10"},
    ),
    "search card": (
        {"q": "card-x"},
        {"card_fingerprint": "card-x"},
        {"card_fingerprint": "card-y"},
    ),
    "search seller": (
        {"q": "seller-x"},
        {"seller_id": "seller-x"},
        {"seller_id": "seller-y"},
    ),
    "assignee": ({"assignee": "reviewer-one"}, {"claimed": True}, {}),
}


@pytest.fixture
def match_and_miss(request, make_case, reviewer):
    params, match_fields, miss_fields = FILTERS[request.param]
    match_fields = dict(match_fields)
    claimed = match_fields.pop("claimed", False)
    match = make_case(order_id="o-match", **match_fields)
    miss = make_case(order_id="o-miss", **miss_fields)
    if claimed:
        claim_for(match, reviewer)
    return params, match, miss


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _case_ids(html: str) -> list[int]:
    """Cases linked from the page, in order (a row links its case twice)."""
    return list(
        dict.fromkeys(int(pk) for pk in re.findall(r'href="/cases/(\d+)/"', html))
    )


@pytest.mark.parametrize("match_and_miss", FILTERS, indirect=True)
def test_queue_page_filter_keeps_only_matching_cases(match_and_miss):
    params, match, _miss = match_and_miss
    form = QueueFilterForm(params)
    assert form.is_valid(), form.errors

    page = queue_page(form.cleaned_data, page_size=50, tenant=TenantFactory())

    assert [c.pk for c in page.cases] == [match.pk]


@pytest.mark.parametrize("match_and_miss", FILTERS, indirect=True)
def test_queue_view_filter_lists_only_matching_cases(match_and_miss, reviewer):
    params, match, _miss = match_and_miss

    response = _signed_in(reviewer).get("/queue/", params)

    assert response.status_code == 200
    assert _case_ids(response.content.decode()) == [match.pk]


def test_queue_shows_the_live_assignee(make_case, reviewer):
    case = make_case()
    claim_for(case, reviewer)

    page = queue_page({}, page_size=50, tenant=TenantFactory())

    assert page.cases[0].assignee == "reviewer-one"


def test_queue_hides_decided_cases_by_default(make_case, reviewer):
    pending = make_case(status="open")
    make_case(status="decided")

    response = _signed_in(reviewer).get("/queue/")

    assert _case_ids(response.content.decode()) == [pending.pk]


# Ties and priorities that do not print exactly in decimal.
PRIORITIES = [1 / 3, 1 / 3, 0.1 + 0.2, 0.3, 7.0, 7.0, 7.0, 1e-7, 1e16, 0.0, 42.5]


@pytest.fixture
def prioritised_cases(make_case) -> list[int]:
    """23 cases; their ids in queue order (priority high to low, then id)."""
    cases = [make_case(priority=PRIORITIES[i % len(PRIORITIES)]) for i in range(23)]
    return [c.pk for c in sorted(cases, key=lambda c: (-c.priority, c.pk))]


def test_keyset_pages_return_every_case_once_in_priority_order(prioritised_cases):
    seen, cursor = [], None
    while True:
        page = queue_page(
            {"after": cursor} if cursor else {}, page_size=5, tenant=TenantFactory()
        )
        seen += [c.pk for c in page.cases]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == prioritised_cases


def test_queue_next_page_links_walk_every_case_once(
    prioritised_cases, reviewer, settings
):
    settings.QUEUE_PAGE_SIZE = 4
    client, url, seen = _signed_in(reviewer), "/queue/?status=pending", []
    while url:
        html = client.get(url).content.decode()
        seen += _case_ids(html)
        more = re.search(r'class="pager"><a href="([^"]+)"', html)
        url = "/queue/" + more.group(1).replace("&amp;", "&") if more else None

    assert seen == prioritised_cases


MALFORMED_CURSORS = ["e_1", "._1", "1e_2", "+-_3", "1_99999999999999999999"]


@pytest.mark.parametrize("cursor", MALFORMED_CURSORS)
def test_queue_with_malformed_cursor_answers_200(cursor, make_case, reviewer):
    make_case()

    response = _signed_in(reviewer).get("/queue/", {"after": cursor})

    assert response.status_code == 200


@pytest.fixture
def my_claim(make_case, reviewer) -> Claim:
    make_case(priority=10.0)
    return case_claim(make_case(priority=99.0), reviewer)


def _nothing_decided(claim: Claim) -> None:
    claim.refresh_from_db()
    claim.case.refresh_from_db()
    assert Label.objects.count() == 0
    assert not AuditEvent.objects.filter(action="case.decided").exists()
    assert claim.case.status == Case.Status.OPEN
    assert claim.released_at is None


def _decide(client: Client, claim: Claim, **data: object):
    return client.post(
        f"/cases/{claim.case_id}/decide/", {"claim": claim.pk, "note": "", **data}
    )


def test_decide_without_reason_is_refused_and_stores_nothing(my_claim, reviewer):
    response = _decide(_signed_in(reviewer), my_claim, value="fraud")

    assert response.status_code == 400
    assert b"Pick at least one reason." in response.content
    _nothing_decided(my_claim)


def test_decide_stores_label_and_opens_the_next_case(my_claim, reviewer):
    response = _decide(
        _signed_in(reviewer), my_claim, value="fraud", reasons=["stolen_card"]
    )

    label = Label.objects.get()
    assert (label.case_id, label.value, label.reasons, label.created_by) == (
        my_claim.case_id,
        "fraud",
        ["stolen_card"],
        reviewer,
    )
    assert response.status_code == 302
    assert response.url != f"/cases/{my_claim.case_id}/"
    assert re.fullmatch(r"/cases/\d+/", response.url)


def test_decide_with_a_claim_on_another_case_is_refused(my_claim, reviewer, make_case):
    other = make_case()

    response = _signed_in(reviewer).post(
        f"/cases/{other.pk}/decide/",
        {"claim": my_claim.pk, "value": "fraud", "reasons": ["stolen_card"]},
    )

    assert response.status_code == 409
    _nothing_decided(my_claim)


def test_decide_after_the_claim_was_released_conflicts(my_claim, reviewer):
    Claim.objects.filter(pk=my_claim.pk).update(released_at=BASE_TIME, end="released")

    response = _decide(
        _signed_in(reviewer), my_claim, value="fraud", reasons=["stolen_card"]
    )

    assert response.status_code == 409
    assert Label.objects.count() == 0


def test_escalate_without_note_is_refused(my_claim, reviewer):
    response = _decide(_signed_in(reviewer), my_claim, value="escalate")

    assert response.status_code == 400
    assert b"Say why you escalate." in response.content
    my_claim.case.refresh_from_db()
    assert my_claim.case.status == Case.Status.OPEN


def test_escalate_with_note_sends_the_case_to_leads(my_claim, reviewer):
    _decide(_signed_in(reviewer), my_claim, value="escalate", note="odd address")

    my_claim.case.refresh_from_db()
    event = AuditEvent.objects.get(action="case.escalated")
    assert my_claim.case.status == Case.Status.ESCALATED
    assert event.after == {"status": "escalated", "note": "odd address"}
    assert Label.objects.count() == 0


def test_escalated_case_is_offered_to_leads_not_reviewers(
    my_claim, reviewer, second_reviewer, lead
):
    case_escalate(my_claim.pk, reviewer, note="odd address")

    offered = case_claim_next(second_reviewer)
    assert offered is not None and offered.case_id != my_claim.case_id
    assert case_claim_next(lead).case_id == my_claim.case_id


LEAD_ONLY = {
    "override": {"value": "legitimate", "reasons": ["other"], "note": "n"},
    "reassign": {"reviewer": "reviewer-two"},
}


@pytest.mark.parametrize("action", LEAD_ONLY)
def test_lead_only_view_refuses_reviewers(action, my_claim, reviewer, second_reviewer):
    response = _signed_in(reviewer).post(
        f"/cases/{my_claim.case_id}/{action}/", LEAD_ONLY[action]
    )

    assert response.status_code == 403
    assert Label.objects.count() == 0
    assert Claim.objects.get().reviewer == reviewer


def test_lead_override_adds_a_label_and_keeps_the_first(my_claim, reviewer, lead):
    first = case_decide(
        my_claim.pk, reviewer, value="fraud", reasons=["stolen_card"], note=""
    )

    response = _signed_in(lead).post(
        f"/cases/{my_claim.case_id}/override/",
        {"value": "legitimate", "reasons": ["verified_customer"], "note": "called"},
    )

    assert response.status_code == 302
    labels = list(Label.objects.order_by("id").values_list("pk", "value", "reasons"))
    assert labels == [
        (first.pk, "fraud", ["stolen_card"]),
        (labels[1][0], "legitimate", ["verified_customer", "lead_override"]),
    ]
    event = AuditEvent.objects.get(action="case.overridden")
    assert (event.before["label"], event.after["label"]) == ("fraud", "legitimate")


def test_override_without_note_is_refused(my_claim, lead):
    response = _signed_in(lead).post(
        f"/cases/{my_claim.case_id}/override/", {"value": "fraud", "note": ""}
    )

    assert response.status_code == 400
    assert Label.objects.count() == 0


@pytest.fixture
def qa_case(settings, make_case, reviewer) -> Case:
    """A case the first reviewer labelled fraud, sampled for QA (QA_SHARE=1)."""
    settings.QA_SHARE = 1
    claim = case_claim(make_case(), reviewer)
    case_decide(
        claim.pk, reviewer, value="fraud", reasons=["stolen_card"], note="first-note"
    )
    claim.case.refresh_from_db()
    return claim.case


def test_first_decision_sampled_for_qa_waits_for_qa(qa_case):
    assert qa_case.status == Case.Status.QA


def test_qa_reviewer_decides_blind(qa_case, second_reviewer):
    claim = case_claim_next(second_reviewer)

    html = _signed_in(second_reviewer).get(f"/cases/{claim.case_id}/").content
    assert claim.case_id == qa_case.pk
    assert b"Blind QA review" in html
    assert b"decision-form" in html
    for leak in (b"first-note", b"reviewer-one", b"label-fraud"):
        assert leak not in html


def test_qa_disagreement_escalates_the_case(qa_case, second_reviewer):
    claim = case_claim_next(second_reviewer)

    case_decide(
        claim.pk, second_reviewer, value="legitimate", reasons=["other"], note=""
    )

    qa_case.refresh_from_db()
    assert qa_case.status == Case.Status.ESCALATED


def test_qa_agreement_decides_the_case(qa_case, second_reviewer):
    claim = case_claim_next(second_reviewer)

    case_decide(claim.pk, second_reviewer, value="fraud", reasons=["other"], note="")

    qa_case.refresh_from_db()
    assert qa_case.status == Case.Status.DECIDED
    assert qa_case.labels.count() == 2


def test_first_reviewer_is_never_offered_their_own_qa_case(qa_case, reviewer):
    assert case_claim_next(reviewer) is None


def test_first_reviewer_cannot_claim_their_own_qa_case(qa_case, reviewer):
    with pytest.raises(CaseNotAvailable):
        case_claim(qa_case, reviewer)


def test_qa_case_cannot_be_reassigned_to_its_first_reviewer(qa_case, lead, reviewer):
    with pytest.raises(CaseNotAvailable):
        case_reassign(qa_case, lead, reviewer)


def test_lead_reassigns_a_claimed_case(my_claim, reviewer, second_reviewer, lead):
    response = _signed_in(lead).post(
        f"/cases/{my_claim.case_id}/reassign/", {"reviewer": "reviewer-two"}
    )

    assert response.status_code == 302
    my_claim.refresh_from_db()
    assert my_claim.end == Claim.End.REASSIGNED
    assert case_claim_next(second_reviewer).case_id == my_claim.case_id
    with pytest.raises(LeaseLost):
        case_decide(my_claim.pk, reviewer, value="fraud", reasons=["x"], note="")


def test_reassign_to_a_user_without_review_role_is_refused(my_claim, lead, outsider):
    response = _signed_in(lead).post(
        f"/cases/{my_claim.case_id}/reassign/", {"reviewer": "outsider-one"}
    )

    assert response.status_code == 400
    assert Claim.objects.get().pk == my_claim.pk


def test_release_returns_the_case_to_the_queue(my_claim, reviewer, second_reviewer):
    response = _signed_in(reviewer).post(f"/cases/{my_claim.case_id}/release/")

    assert (response.status_code, response.url) == (302, "/queue/")
    my_claim.refresh_from_db()
    assert my_claim.end == Claim.End.RELEASED
    assert case_claim_next(second_reviewer).case_id == my_claim.case_id


def test_release_of_someone_elses_claim_conflicts(my_claim, second_reviewer):
    response = _signed_in(second_reviewer).post(f"/cases/{my_claim.case_id}/release/")

    assert response.status_code == 409
    my_claim.refresh_from_db()
    assert my_claim.released_at is None


def test_next_with_an_empty_queue_goes_back_to_the_queue(reviewer):
    response = _signed_in(reviewer).post("/cases/next/", follow=True)

    assert response.redirect_chain == [("/queue/", 302)]
    assert b"The queue is empty" in response.content


def test_sign_out_leads_back_to_the_workbench_sign_in(reviewer):
    response = _signed_in(reviewer).post("/logout/")

    assert response.status_code == 200
    assert b'href="/login/"' in response.content
    assert b"/admin/" not in response.content
