"""Same-day feedback: a fraud label re-scores the open orders linked to it."""

import contextlib
import threading

import pytest
from django.db import connection

from cases.models import Case, Order, WebhookDelivery
from cases.schemas import OutcomeIn
from cases.selectors_links import score_risk_cause
from cases.services import linked as linked_module
from cases.services.linked import linked_candidates, orders_linked_rescore
from cases.services.opening import CaseOpening, cases_open
from cases.services.outcomes import outcome_record
from cases.services.rules import list_entry_add, rule_create
from cases.services.scoring import orders_decide, orders_score
from cases.services.webhooks import webhook_endpoint_create
from models_ml.models import Score
from models_ml.policy import decision_policy
from tests.factories import CaseFactory, LabelFactory, OrderFactory, TenantFactory

pytestmark = pytest.mark.django_db

CARD = {"card_fingerprint": "fp-stolen", "customer_id": "c-1", "device_id": "d-1"}


def _scored_case(**order) -> Case:
    case = CaseFactory(order=OrderFactory(**order))
    (score,) = orders_score([case.order], decision_policy())
    score.save()
    case.probability = score.probability
    case.save(update_fields=["probability"])
    return case


@pytest.fixture
def linked(active_version):
    source = OrderFactory(**CARD, amount=900)
    same_card = _scored_case(**CARD)  # the same customer, card and device
    unrelated = _scored_case(card_fingerprint="fp-ok", customer_id="c-9", device_id="x")
    other = TenantFactory(name="other")
    elsewhere = OrderFactory(**CARD, client__tenant=other)
    return source, same_card, unrelated, elsewhere


def test_candidates_share_an_entity_within_the_tenant(linked):
    source, same_card, unrelated, elsewhere = linked
    assert [o.pk for o in linked_candidates(source)] == [same_card.order_id]


def test_a_chargeback_rescores_and_reprioritises_linked_cases_on_commit(
    linked, django_capture_on_commit_callbacks
):
    source, same_card, unrelated, elsewhere = linked
    before = same_card.probability

    with django_capture_on_commit_callbacks(execute=True):
        label, _ = outcome_record(
            source.client, source, OutcomeIn(outcome="chargeback")
        )

    score = Score.objects.filter(order=same_card.order).order_by("-id").first()
    assert score.cause_label_id == label.pk
    assert score.probability > before
    same_card.refresh_from_db()
    assert same_card.probability == score.probability
    assert same_card.priority == pytest.approx(score.probability * 49.90, abs=1e-3)
    assert not Score.objects.filter(cause_label=label).exclude(order=same_card.order)
    assert score_risk_cause(score).startswith(
        f"Risk raised by the chargeback on order {source.order_id}"
    )


def test_rescoring_a_label_twice_adds_nothing(linked):
    source, same_card, *_ = linked
    label, _ = outcome_record(source.client, source, OutcomeIn(outcome="chargeback"))

    assert orders_linked_rescore(label.pk).scored == 1
    assert orders_linked_rescore(label.pk).scored == 0


def test_a_legitimate_outcome_rescores_nothing(
    linked, django_capture_on_commit_callbacks
):
    source, same_card, *_ = linked
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcome_record(source.client, source, OutcomeIn(outcome="confirmed_legitimate"))
    assert callbacks == []
    assert not Score.objects.filter(cause_label__isnull=False).exists()


def _decided(**order) -> Order:
    """An order decided as intake decides it (lists and rules), no case."""
    order = OrderFactory(**order)
    (score,) = orders_decide([order], decision_policy())
    score.save()
    return order


def _fraud_label(source):
    label, _ = outcome_record(source.client, source, OutcomeIn(outcome="chargeback"))
    return label


def _list(kind: str) -> None:
    list_entry_add(
        TenantFactory().pk,
        kind=kind,
        entity_type="card",
        value=CARD["card_fingerprint"],
        actor="user:lead",
    )


def _latest(order: Order) -> Score:
    return Score.objects.filter(order=order).order_by("-id").first()


def test_an_allow_listed_linked_order_gets_no_case_and_keeps_its_reason(
    active_version, settings
):
    settings.RISK_REVIEW_THRESHOLD = 0.0  # the model alone would review it
    _list("allow")
    source = OrderFactory(**CARD, amount=900)
    allowed = _decided(**CARD)

    result = orders_linked_rescore(_fraud_label(source).pk)

    assert (result.scored, result.opened) == (1, 0)
    assert not Case.objects.filter(order=allowed).exists()
    score = _latest(allowed)
    assert score.cause_label_id is not None
    assert score.decision == "approve"
    (hit,) = score.rule_hits
    assert (hit["kind"], hit["action"], hit["decided"]) == ("list", "allow", True)


def test_a_block_listed_linked_order_stays_declined(active_version, settings):
    settings.RISK_REVIEW_THRESHOLD = 1.0  # the model alone would approve it
    settings.RISK_DECLINE_THRESHOLD = 1.0
    _list("block")
    source = OrderFactory(**CARD, amount=900)
    blocked = _decided(**CARD)
    assert _latest(blocked).decision == "decline"

    orders_linked_rescore(_fraud_label(source).pk)

    score = _latest(blocked)
    assert score.cause_label_id is not None
    assert score.decision == "decline"
    assert not Case.objects.filter(order=blocked).exists()


def test_boost_rules_raise_the_linked_cases_priority(linked):
    source, same_card, *_ = linked
    rule_create(
        TenantFactory().pk,
        actor="user:lead",
        owner=None,
        name="boost all",
        expression="amount > 0.0",
        action="boost",
        boost=100.0,
        state="active",
    )

    orders_linked_rescore(_fraud_label(source).pk)

    score = _latest(same_card.order)
    same_card.refresh_from_db()
    assert same_card.priority == pytest.approx(
        score.probability * 49.90 + 100.0, abs=1e-3
    )
    assert [h["name"] for h in score.rule_hits] == ["boost all"]


def test_a_case_opened_meanwhile_is_kept_and_not_opened_twice(
    active_version, settings, monkeypatch
):
    """Another task commits a case for the order between this task's read of
    the cases and its opening: no IntegrityError, still one case."""
    settings.RISK_REVIEW_THRESHOLD = 0.0
    source = OrderFactory(**CARD, amount=900)
    order = _decided(**CARD)
    real = linked_module.openings_for_review

    def concurrent(scores, policy=None):
        CaseFactory(order=order)
        return real(scores, policy)

    monkeypatch.setattr(linked_module, "openings_for_review", concurrent)

    result = orders_linked_rescore(_fraud_label(source).pk)

    assert (result.scored, result.opened) == (1, 0)
    assert Case.objects.filter(order=order).count() == 1


def test_opening_a_case_for_an_order_that_has_one_is_skipped(active_version):
    case = CaseFactory()
    opening = CaseOpening(case.order_id, 0.5, Case.QueueReason.HIGH_RISK, 1.0)

    assert cases_open([opening, opening]) == {}
    assert Case.objects.filter(order=case.order).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_labels_rescoring_one_order_at_once_open_one_case(
    champion, settings, monkeypatch
):
    """Two tasks reach case opening together when nothing serialises them;
    with the orders locked the second waits (the first gives up waiting for
    it after a few seconds) and then re-prioritises the first one's case."""
    settings.RISK_REVIEW_THRESHOLD = 0.0
    champion(TenantFactory())
    labels = [LabelFactory(order=OrderFactory(**CARD)).pk for _ in range(2)]
    order = _decided(**CARD)
    together = threading.Barrier(2, timeout=3)
    real = linked_module.openings_for_review
    errors: list[BaseException] = []

    def meet_then_open(scores, policy=None):
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait()
        return real(scores, policy)

    def rescore(label_id: int) -> None:
        try:
            orders_linked_rescore(label_id)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    monkeypatch.setattr(linked_module, "openings_for_review", meet_then_open)
    threads = [threading.Thread(target=rescore, args=(pk,)) for pk in labels]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Case.objects.filter(order=order).count() == 1
    causes = Score.objects.filter(order=order, cause_label__isnull=False)
    assert sorted(causes.values_list("cause_label_id", flat=True)) == sorted(labels)


def _subscribe(order: Order) -> None:
    webhook_endpoint_create(
        order.client, "http://127.0.0.1:9/h", ["order.decision_changed"], actor="t"
    )


def test_a_linked_rescore_that_changes_the_decision_queues_an_event(
    active_version, settings
):
    settings.RISK_REVIEW_THRESHOLD = settings.RISK_DECLINE_THRESHOLD = 1.0
    source = OrderFactory(**CARD, amount=900)
    order = _decided(**CARD)
    assert _latest(order).decision == "approve"
    _subscribe(order)
    _list("block")  # the re-scoring declines it

    orders_linked_rescore(_fraud_label(source).pk)

    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "order.decision_changed"
    data = delivery.payload["data"]
    assert (data["previous_decision"], data["decision"]) == ("approve", "decline")
    assert data["order_id"] == order.order_id


def test_a_linked_rescore_that_keeps_the_decision_queues_no_event(
    active_version, settings
):
    settings.RISK_REVIEW_THRESHOLD = settings.RISK_DECLINE_THRESHOLD = 1.0
    source = OrderFactory(**CARD, amount=900)
    order = _decided(**CARD)
    _subscribe(order)

    assert orders_linked_rescore(_fraud_label(source).pk).scored == 1

    assert _latest(order).decision == "approve"
    assert not WebhookDelivery.objects.exists()


def test_a_label_undone_before_its_task_ran_rescores_nothing(linked):
    source, same_card, *_ = linked
    label = _fraud_label(source)
    label_id = label.pk
    label.delete()

    assert orders_linked_rescore(label_id).scored == 0
    assert (
        not Score.objects.filter(order=same_card.order)
        .exclude(cause_label=None)
        .exists()
    )
