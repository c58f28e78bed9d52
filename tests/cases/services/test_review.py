"""The review service's decision rules, checked where they live."""

import pytest
from django.core.exceptions import ValidationError

from cases.models import Case, Label
from cases.services.review import case_claim, case_decide, case_escalate, case_override
from cases.services.users import user_create
from tests.factories import CaseFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return user_create(
        "reviewer-s", "correct-horse-battery-9", "reviewer", tenant=TenantFactory()
    )


@pytest.fixture
def lead():
    return user_create(
        "lead-s", "correct-horse-battery-9", "lead", tenant=TenantFactory()
    )


@pytest.fixture
def claim(reviewer):
    return case_claim(CaseFactory(probability=0.5), reviewer)


def test_decide_fails_without_a_reason(claim, reviewer):
    with pytest.raises(ValidationError, match="at least one reason"):
        case_decide(claim.pk, reviewer, value="fraud", reasons=[], note="")

    assert Label.objects.count() == 0


@pytest.mark.parametrize(
    ("value", "reasons"),
    [("fraud", ["verified_customer"]), ("legitimate", ["stolen_card", "other"])],
)
def test_decide_fails_when_a_reason_belongs_to_the_other_value(
    claim, reviewer, value, reasons
):
    with pytest.raises(ValidationError, match=f"Not a reason for {value}"):
        case_decide(claim.pk, reviewer, value=value, reasons=reasons, note="")

    assert Label.objects.count() == 0


def test_decide_fails_for_an_unknown_or_inactive_reason(claim, reviewer):
    from cases.models import ReasonCode

    ReasonCode.objects.filter(code="card_testing").update(active=False)

    for reasons in (["no_such_reason"], ["card_testing"]):
        with pytest.raises(ValidationError):
            case_decide(claim.pk, reviewer, value="fraud", reasons=reasons, note="")


def test_decide_accepts_reasons_that_fit_the_value(claim, reviewer):
    label = case_decide(
        claim.pk, reviewer, value="fraud", reasons=["stolen_card", "other"], note=""
    )

    assert label.reasons == ["stolen_card", "other"]


def test_escalate_fails_without_a_note(claim, reviewer):
    with pytest.raises(ValidationError, match="Say why you escalate"):
        case_escalate(claim.pk, reviewer, note="  ")

    assert Case.objects.get().status == Case.Status.OPEN


def test_override_fails_without_a_note_or_with_an_unfitting_reason(claim, lead):
    case = claim.case
    with pytest.raises(ValidationError, match="Say why you override"):
        case_override(case, lead, value="fraud", reasons=[], note="")
    with pytest.raises(ValidationError, match="Not a reason for fraud"):
        case_override(case, lead, value="fraud", reasons=["good_history"], note="x")

    assert Label.objects.count() == 0
