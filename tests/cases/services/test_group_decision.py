"""Deciding the open cases that share a card (or device, IP, e-mail, customer)."""

import pytest

from cases.models import AuditEvent, Case, Label
from cases.services.group import case_group, cases_decide_together
from cases.services.review import case_claim
from tests.factories import CaseFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _case(**order_fields) -> Case:
    return CaseFactory(order=OrderFactory(**order_fields))


def test_the_group_is_the_pending_cases_sharing_an_entity(reviewer):
    case = _case(card_fingerprint="fp-burst", device_id="d-1")
    same_card = _case(card_fingerprint="fp-burst", device_id="d-2")
    same_device = _case(card_fingerprint="fp-other", device_id="d-1")
    _case(card_fingerprint="fp-unrelated", device_id="d-9")
    decided = _case(card_fingerprint="fp-burst")
    Case.objects.filter(pk=decided.pk).update(status="decided")

    group = {m.case.pk: m.shared for m in case_group(case, reviewer)}

    assert group.keys() == {same_card.pk, same_device.pk}
    assert "card" in group[same_card.pk] and "device" in group[same_device.pk]


def test_each_case_gets_its_own_label_and_events_and_held_ones_are_left(
    reviewer, second_reviewer, settings
):
    settings.QA_SHARE = 0
    cases = [_case(card_fingerprint="fp-burst") for _ in range(3)]
    case_claim(cases[2], second_reviewer)

    result = cases_decide_together(
        [c.pk for c in cases],
        reviewer,
        value="fraud",
        reasons=["other"],
        note="card testing",
    )

    assert result.decided == [cases[0].pk, cases[1].pk]
    assert list(result.refused) == [cases[2].pk]
    assert Label.objects.filter(case__in=cases[:2], note="card testing").count() == 2
    assert not Label.objects.filter(case=cases[2]).exists()
    decided_events = AuditEvent.objects.filter(action="case.decided")
    assert sorted(decided_events.values_list("object_id", flat=True)) == sorted(
        str(c.pk) for c in cases[:2]
    )


def test_a_group_decision_needs_a_fitting_reason(reviewer):
    from django.core.exceptions import ValidationError

    case = _case()
    with pytest.raises(ValidationError):
        cases_decide_together([case.pk], reviewer, value="fraud", reasons=[], note="")
    assert case.labels.count() == 0


def test_another_tenants_case_is_refused(reviewer):
    from tests.factories import ApiClientFactory, TenantFactory

    theirs = CaseFactory(
        order=OrderFactory(client=ApiClientFactory(tenant=TenantFactory(name="b")))
    )

    result = cases_decide_together(
        [theirs.pk], reviewer, value="fraud", reasons=["other"], note=""
    )

    assert result.decided == [] and theirs.pk in result.refused


def test_a_reviewers_group_leaves_out_qa_escalated_and_others_claims(
    reviewer, second_reviewer
):
    case = _case(card_fingerprint="fp-burst")
    open_one = _case(card_fingerprint="fp-burst")
    qa = _case(card_fingerprint="fp-burst")
    escalated = _case(card_fingerprint="fp-burst")
    held = _case(card_fingerprint="fp-burst")
    Case.objects.filter(pk=qa.pk).update(status="qa")
    Case.objects.filter(pk=escalated.pk).update(status="escalated")
    case_claim(held, second_reviewer)

    assert [m.case.pk for m in case_group(case, reviewer)] == [open_one.pk]


def test_a_leads_group_keeps_qa_and_escalated_cases(lead):
    case = _case(card_fingerprint="fp-burst")
    qa = _case(card_fingerprint="fp-burst")
    Case.objects.filter(pk=qa.pk).update(status="qa")

    assert [m.case.pk for m in case_group(case, lead)] == [qa.pk]


def test_a_reviewer_cannot_decide_a_qa_case_in_a_group(reviewer, settings):
    settings.QA_SHARE = 0
    qa = _case(card_fingerprint="fp-burst")
    Case.objects.filter(pk=qa.pk).update(status="qa")

    result = cases_decide_together(
        [qa.pk], reviewer, value="legitimate", reasons=["other"], note=""
    )

    assert result.decided == []
    assert "QA" in result.refused[qa.pk]
    assert not Label.objects.filter(case=qa).exists()
    assert Case.objects.get(pk=qa.pk).status == "qa"
