"""Undo: a reviewer takes back her decision within a few seconds."""

from datetime import timedelta

import pytest
import time_machine
from django.db.models import Sum
from django.utils import timezone

from cases.exceptions import InvalidTransition
from cases.models import AuditEvent, Case, Claim, Label
from cases.services.review import case_claim, case_claim_next, case_decide
from cases.services.undo import case_decision_undo
from models_ml.models import FeatureTile

pytestmark = pytest.mark.django_db


def _decide(case: Case, user, value: str = "fraud") -> Label:
    claim = case_claim(case, user)
    return case_decide(claim.pk, user, value=value, reasons=["other"], note="")


def test_undo_removes_the_label_and_gives_the_case_back(make_case, reviewer, settings):
    settings.QA_SHARE = 0
    case = make_case()
    label = _decide(case, reviewer)

    claim = case_decision_undo(label.pk, reviewer)

    case.refresh_from_db()
    assert (case.status, case.decided_at) == (Case.Status.OPEN, None)
    assert not Label.objects.filter(pk=label.pk).exists()
    assert (claim.case, claim.reviewer, claim.released_at) == (case, reviewer, None)
    event = AuditEvent.objects.get(action="case.decision_undone")
    assert event.before["label"] == "fraud"


def test_undo_is_refused_once_the_window_passed(make_case, reviewer, settings):
    settings.QA_SHARE = 0
    settings.DECISION_UNDO_SECONDS = 10
    label = _decide(make_case(), reviewer)

    with (
        time_machine.travel(timezone.now() + timedelta(seconds=11)),
        pytest.raises(InvalidTransition, match="window"),
    ):
        case_decision_undo(label.pk, reviewer)
    assert Label.objects.filter(pk=label.pk).exists()


def test_undo_is_refused_once_the_case_moved_on(
    make_case, reviewer, second_reviewer, settings
):
    settings.QA_SHARE = 1  # the decision sends the case to QA
    case = make_case()
    label = _decide(case, reviewer)
    case_claim_next(second_reviewer)

    with pytest.raises(InvalidTransition, match="moved on"):
        case_decision_undo(label.pk, reviewer)
    case.refresh_from_db()
    assert case.status == Case.Status.QA


def test_undo_of_someone_elses_decision_is_refused(
    make_case, reviewer, second_reviewer, settings
):
    settings.QA_SHARE = 0
    label = _decide(make_case(), reviewer)
    with pytest.raises(InvalidTransition):
        case_decision_undo(label.pk, second_reviewer)


def test_undo_restores_the_status_before_a_qa_decision(
    make_case, reviewer, second_reviewer, settings
):
    settings.QA_SHARE = 1
    case = make_case()
    _decide(case, reviewer, "fraud")
    qa = _decide(case, second_reviewer, "legitimate")
    case.refresh_from_db()
    assert case.status == Case.Status.ESCALATED

    case_decision_undo(qa.pk, second_reviewer)

    case.refresh_from_db()
    assert case.status == Case.Status.QA
    assert Claim.objects.get(case=case, released_at__isnull=True).reviewer == (
        second_reviewer
    )


def test_undo_takes_the_label_out_of_the_feature_state(make_case, reviewer, settings):
    settings.QA_SHARE = 0
    label = _decide(make_case(), reviewer)
    assert _label_tiles() > 0

    case_decision_undo(label.pk, reviewer)

    assert _label_tiles() == 0


def _label_tiles() -> int:
    return FeatureTile.objects.aggregate(n=Sum("labels"))["n"] or 0


def test_undoing_a_fraud_decision_undoes_its_linked_rescores(
    make_case, reviewer, active_version, settings, django_capture_on_commit_callbacks
):
    from models_ml.models import Score
    from tests.cases.services.test_linked_rescore import CARD, _scored_case

    settings.QA_SHARE = 0
    case = make_case(**CARD, amount=900)
    linked = _scored_case(**CARD)
    before, first = linked.probability, linked.order.scores.get()
    with django_capture_on_commit_callbacks(execute=True):
        label = _decide(case, reviewer)
    raised = linked.order.scores.latest("id")
    assert raised.cause_label_id == label.pk and raised.probability > before

    case_decision_undo(label.pk, reviewer)

    latest = linked.order.scores.latest("id")
    assert latest.pk != raised.pk and latest.cause_label_id is None
    assert latest.probability == pytest.approx(before)
    assert latest.features == first.features
    linked.refresh_from_db()
    assert linked.probability == pytest.approx(before)
    assert linked.priority == pytest.approx(before * float(linked.order.amount), 1e-3)
    event = AuditEvent.objects.get(action="case.decision_undone")
    assert event.after["linked_rescored"] == 1
    assert not Score.objects.filter(cause_label__isnull=False).exists()
