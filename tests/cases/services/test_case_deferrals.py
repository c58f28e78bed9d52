"""Skip and snooze: the case leaves the reviewer's hands and "next case"."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.exceptions import InvalidTransition, LeaseLost
from cases.models import AuditEvent, Claim
from cases.services.deferrals import case_skip, case_snooze
from cases.services.review import case_claim_next

pytestmark = pytest.mark.django_db


def test_skip_gives_the_next_case_and_the_skipped_one_does_not_come_back(
    make_case, reviewer
):
    top = make_case(priority=90)
    second = make_case(priority=50)
    claim = case_claim_next(reviewer)
    assert claim.case == top

    case_skip(claim.pk, reviewer)

    assert case_claim_next(reviewer).case == second
    claim.refresh_from_db()
    assert claim.end == Claim.End.SKIPPED


def test_skipped_case_is_still_offered_to_other_reviewers(
    make_case, reviewer, second_reviewer
):
    top = make_case(priority=90)
    make_case(priority=50)
    case_skip(case_claim_next(reviewer).pk, reviewer)

    assert case_claim_next(second_reviewer).case == top


def test_skipped_case_comes_back_after_the_skip_period(make_case, reviewer, settings):
    settings.CASE_SKIP_MINUTES = 60
    top = make_case(priority=90)
    case_skip(case_claim_next(reviewer).pk, reviewer)
    assert case_claim_next(reviewer) is None

    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert case_claim_next(reviewer).case == top


def test_snooze_hides_the_case_from_everyone_until_the_time(
    make_case, reviewer, second_reviewer
):
    top = make_case(priority=90)
    until = timezone.now() + timedelta(hours=2)
    case_snooze(case_claim_next(reviewer).pk, reviewer, until=until)

    assert case_claim_next(second_reviewer) is None
    with time_machine.travel(until + timedelta(seconds=1)):
        assert case_claim_next(second_reviewer).case == top


def test_snooze_into_the_past_is_refused(make_case, reviewer):
    make_case()
    claim = case_claim_next(reviewer)
    with pytest.raises(InvalidTransition):
        case_snooze(claim.pk, reviewer, until=timezone.now() - timedelta(minutes=1))


def test_skip_needs_the_callers_live_claim(make_case, reviewer, second_reviewer):
    make_case()
    claim = case_claim_next(reviewer)
    with pytest.raises(LeaseLost):
        case_skip(claim.pk, second_reviewer)


def test_skip_and_snooze_are_audited(make_case, reviewer):
    case = make_case(priority=90)
    make_case(priority=50)
    case_skip(case_claim_next(reviewer).pk, reviewer)
    case_snooze(
        case_claim_next(reviewer).pk,
        reviewer,
        until=timezone.now() + timedelta(hours=1),
    )
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"case.skipped", "case.snoozed"} <= actions
    assert AuditEvent.objects.filter(
        action="case.skipped", object_id=str(case.pk)
    ).exists()
