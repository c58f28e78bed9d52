"""Retraining is promoted only through the unbiased gate (held-out audit cases)."""

import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.datasets import training_set
from cases.models import Case, Label, Order
from cases.schemas import OrderIn
from cases.services.bulk import import_client, orders_bulk_load
from cases.services.gate_samples import (
    audit_sample,
    gate_policy,
    gate_sample,
    matured_sample,
)
from cases.services.training import model_retrain, model_retrain_if_due
from lab.demo_data import TRUTH_KEYS, generate_orders
from models_ml.models import ModelVersion
from models_ml.services import model_train

FAST = {"max_iter": 40}
AUDIT_PI = 0.05


@pytest.fixture
def history(settings, tmp_path) -> int:
    """1,500 labelled orders of one tenant; every other one an audit case."""
    settings.MODEL_DIR = tmp_path
    settings.GATE_MIN_CASES, settings.GATE_MIN_FRAUDS = 200, 10
    rows = generate_orders(1500, seed=2, days=20)
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    labels = [
        (
            r["order_id"],
            "fraud" if r["is_fraud"] else "legitimate",
            r["created_at"] + timedelta(days=3),
        )
        for r in rows
    ]
    client = import_client()
    orders_bulk_load(client, payloads, labels)
    return client.tenant_id


def _audit(tenant_id: int, every: int) -> None:
    ids = Order.objects.filter(tenant_id=tenant_id).order_by("id")
    Case.objects.bulk_create(
        Case(
            order_id=i,
            tenant_id=tenant_id,
            priority=0,
            queue_reason=Case.QueueReason.AUDIT,
            selection_probability=AUDIT_PI,
            status=Case.Status.DECIDED,
        )
        for i in ids.values_list("id", flat=True)[::every]
    )


@pytest.mark.django_db
def test_too_few_audit_cases_hold_the_first_model_with_the_reason(history):
    _audit(history, every=100)  # 15 cases

    version = model_retrain(history, params=FAST)

    assert version.gate_verdict == "held"
    assert version.status == ModelVersion.Status.REJECTED
    assert "15 audit cases" in version.promotion_reason
    assert "at least 200 cases" in version.promotion_reason
    assert not ModelVersion.objects.filter(status="active").exists()


def _labels_come_later(tenant_id: int, every: int) -> list[Label]:
    """Take the labels of every `every`-th audit case away; put them back
    with `_labels_back` (created anew, after whatever trains in between)."""
    audited = Case.objects.filter(tenant_id=tenant_id, queue_reason="audit")
    ids = list(audited.order_by("order_id").values_list("order_id", flat=True))
    later = list(Label.objects.filter(order_id__in=ids[::every]))
    Label.objects.filter(pk__in=[label.pk for label in later]).delete()
    return later


def _labels_back(labels: list[Label]) -> None:
    for label in labels:
        label.pk = label.created_at = None
    Label.objects.bulk_create(labels)


def shuffled_label_challenger(tenant_id: int) -> ModelVersion:
    """A challenger trained, through the gate, on labels shuffled among the
    orders it learns from (the gate's sample keeps its truth)."""

    def shuffled():
        data = training_set(tenant_id)
        learn = ~np.isin(data.order_ids, gate_sample(tenant_id, data).reserved)
        rng = np.random.default_rng(0)
        data.target[learn] = rng.permutation(data.target[learn])
        return data

    return model_train(
        shuffled,
        tenant_id=tenant_id,
        force=True,
        params=FAST,
        gate_sample=lambda data: gate_sample(tenant_id, data),
        gate_policy=gate_policy(),
    )


@pytest.mark.django_db
def test_a_challenger_trained_on_shuffled_labels_is_refused(history):
    _audit(history, every=2)
    later = _labels_come_later(history, every=2)
    champion = model_retrain(history, params=FAST)
    assert champion.status == ModelVersion.Status.ACTIVE, champion.promotion_reason
    assert champion.gate["source"] == "audit"
    assert champion.gate["population"] == pytest.approx(375 / AUDIT_PI)
    _labels_back(later)

    challenger = shuffled_label_challenger(history)

    assert challenger.gate_verdict == "reject", challenger.promotion_reason
    assert challenger.status == ModelVersion.Status.REJECTED
    # Compared on every audit case: the champion kept them all out of its fit,
    # those labelled before its training and those labelled after.
    assert challenger.gate["cases"] == 750 == 2 * len(later)
    assert challenger.gate["champion"]["ap"] > challenger.gate["challenger"]["ap"]
    assert "refit_rows" not in challenger.gate  # a rejected one is not refit
    champion.refresh_from_db()
    assert champion.status == ModelVersion.Status.ACTIVE


@pytest.mark.django_db
def test_audit_cases_stay_out_of_every_fit_so_each_champion_is_compared_unseen(
    history,
):
    _audit(history, every=2)
    labelled = len(training_set(history).target)
    champion = model_retrain(history, params=FAST)
    assert champion.status == ModelVersion.Status.ACTIVE, champion.promotion_reason
    assert champion.gate["reserved_rows"] == 750
    assert champion.training_rows == labelled - 750
    assert "refit_rows" not in champion.gate  # it serves the fit it was compared on

    challenger = model_retrain(history, params=FAST, force=True)

    assert challenger.gate["source"] == "audit"
    assert challenger.gate["cases"] == 750
    assert challenger.gate["selection"].startswith("audit: enough cases and frauds")


@pytest.mark.django_db
def test_a_matured_window_promotion_serves_a_refit_without_the_audit_cases_and_is_not_compared_on_what_it_saw(  # noqa: E501
    history, settings
):
    from models_ml.scoring import model_version_load
    from models_ml.training import model_fit

    settings.RISK_MATURITY_DAYS = 5
    settings.GATE_MIN_CASES, settings.GATE_MIN_FRAUDS = 100, 3
    _audit(history, every=20)  # 75 cases: under the minimum
    # Every label known before the champion trains (the fixture dates some
    # days after their orders, the newest ones in the future).
    Label.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    data = training_set(history)
    reserved = np.isin(data.order_ids, audit_sample(history, data).order_ids)
    window = matured_sample(history, data)
    assert window is not None
    audited = np.isin(window.order_ids, data.order_ids[reserved]).sum()

    champion = model_retrain(history, params=FAST)

    assert champion.status == ModelVersion.Status.ACTIVE, champion.promotion_reason
    assert champion.gate["source"] == "matured"
    assert champion.training_rows == champion.gate["refit_rows"] == (~reserved).sum()
    rows = data.features.to_numpy(float)
    served = model_version_load(champion).predict(rows)
    without = model_fit(data.features[~reserved], data.target[~reserved], FAST)
    assert np.allclose(served, without.predict_proba(rows)[:, 1])

    challenger = model_retrain(history, params=FAST, force=True)

    # The refit saw the whole window but its audit cases: only they are left.
    assert 0 < audited < len(window.order_ids)
    assert f"matured window {audited} cases" in challenger.gate["selection"]
    assert challenger.gate["source"] == "audit"
    assert challenger.gate_verdict == "held"


@pytest.mark.django_db
def test_the_first_model_trains_as_soon_as_the_gate_sample_is_big_enough(
    history, settings
):
    settings.RETRAIN_MIN_NEW_LABELS = 100_000  # never due by count
    _audit(history, every=100)  # 15 cases: too few
    assert model_retrain_if_due() == {}

    _audit_more(history)  # now 750
    (version,) = model_retrain_if_due().values()

    assert version.status == ModelVersion.Status.ACTIVE, version.promotion_reason
    assert version.gate_verdict == "promote"
    assert model_retrain_if_due() == {}  # has a model: due by count again


def _audit_more(tenant_id: int) -> None:
    Case.objects.filter(tenant_id=tenant_id).delete()
    _audit(tenant_id, every=2)


@pytest.mark.django_db
def test_a_fully_labelled_matured_window_is_a_sample_and_a_gappy_one_is_not(history):
    data = training_set(history)

    sample = matured_sample(history, data, maturity_days=5)

    assert sample is not None and sample.source == "matured"
    assert len(sample.order_ids) > 200 and set(sample.weights) == {1.0}
    window = Order.objects.filter(pk__in=sample.order_ids.tolist())
    Label.objects.filter(order__in=window[: len(sample.order_ids) // 10]).delete()
    assert matured_sample(history, training_set(history), maturity_days=5) is None


@pytest.mark.django_db
def test_the_matured_window_ends_where_the_maturity_task_has_got_to(history):
    # Labels as the maturity task writes them, which last ran a day ago: the
    # newest day before the maturity delay is not matured yet.
    Label.objects.update(source=Label.Source.MATURED)
    newest = Order.objects.filter(tenant_id=history).latest("created_at").created_at
    frontier = newest - timedelta(days=6)
    Label.objects.filter(order__created_at__gt=frontier).delete()

    sample = matured_sample(history, training_set(history), maturity_days=5)

    assert sample is not None and len(sample.order_ids) > 200
    times = Order.objects.filter(pk__in=sample.order_ids.tolist()).values_list(
        "created_at", flat=True
    )
    assert max(times) <= frontier


@pytest.mark.django_db
def test_an_operator_installs_a_first_model_from_history_the_gate_holds(history):
    call_command("train_model", stdout=io.StringIO())

    version = ModelVersion.objects.get(status="active")
    assert version.gate_verdict == "held"
    assert version.promotion_reason.startswith("first model, installed by an operator")


def _frauds(data, sample) -> int:
    return int(data.target[np.isin(data.order_ids, sample.order_ids)].sum())


@pytest.mark.django_db
def test_an_audit_sample_under_its_minimum_gives_way_to_a_window_with_more_frauds(
    history, settings
):
    settings.RISK_MATURITY_DAYS = 5  # a fully labelled window exists
    settings.GATE_MIN_CASES, settings.GATE_MIN_FRAUDS = 200, 3
    _audit(history, every=10)  # 150 cases: under the minimum
    data = training_set(history)
    audit, matured = audit_sample(history, data), matured_sample(history, data)
    assert matured is not None
    assert _frauds(data, matured) > _frauds(data, audit)

    version = model_retrain(history, params=FAST)

    assert version.gate["source"] == "matured"
    assert version.gate["frauds"] == _frauds(data, matured)
    assert version.gate["selection"].startswith("matured window: more frauds")
    assert f"{_frauds(data, audit)} frauds" in version.gate["selection"]
    assert version.gate["reserved_rows"] == 150


@pytest.mark.django_db
def test_an_audit_sample_that_meets_the_minimum_is_the_gates_own(history, settings):
    settings.RISK_MATURITY_DAYS = 5
    settings.GATE_MIN_CASES, settings.GATE_MIN_FRAUDS = 100, 3
    _audit(history, every=10)  # 150 cases: enough
    data = training_set(history)
    matured = matured_sample(history, data)
    assert matured is not None

    sample = gate_sample(history, data)

    assert sample.source == "audit"
    assert _frauds(data, matured) > _frauds(data, sample) >= 3
    assert sample.why.startswith("audit: enough cases and frauds")
    assert set(sample.reserved) == set(sample.order_ids)


@pytest.mark.django_db
def test_too_few_frauds_in_either_sample_still_hold(history, settings):
    settings.RISK_MATURITY_DAYS = 5
    settings.GATE_MIN_FRAUDS = 10_000
    _audit(history, every=2)

    version = model_retrain(history, params=FAST)

    assert version.gate_verdict == "held"
    assert version.status == ModelVersion.Status.REJECTED
    assert "the gate needs at least 200 cases and 10000 frauds" in (
        version.promotion_reason
    )
    assert version.gate["selection"]


@pytest.mark.django_db
def test_a_version_promoted_on_audit_cases_serves_the_fit_it_was_compared_on(
    history, tmp_path
):
    from models_ml.scoring import model_version_load
    from models_ml.training import model_fit

    _audit(history, every=2)
    data = training_set(history)
    held = np.isin(data.order_ids, gate_sample(history, data).order_ids)

    version = model_retrain(history, params=FAST)

    assert version.status == ModelVersion.Status.ACTIVE, version.promotion_reason
    assert version.training_rows == int((~held).sum())
    rows = data.features.to_numpy(float)
    served = model_version_load(version).predict(rows)
    everything = model_fit(data.features, data.target, FAST)
    without = model_fit(data.features[~held], data.target[~held], FAST)
    assert np.allclose(served, without.predict_proba(rows)[:, 1])
    assert not np.allclose(served, everything.predict_proba(rows)[:, 1])
    assert [p.name for p in tmp_path.glob("*.skops")] == [f"model-v{version.pk}.skops"]


@pytest.mark.django_db
def test_a_held_or_rejected_challenger_is_not_refit(history):
    _audit(history, every=100)  # 15 cases: held
    held = model_retrain(history, params=FAST)
    data = training_set(history)
    sample = gate_sample(history, data)

    assert held.gate_verdict == "held"
    assert held.training_rows == len(data.target) - len(sample.order_ids)
    assert "refit_rows" not in held.gate
    assert not held.artifact_path.endswith("-refit.skops")


@pytest.mark.django_db
def test_a_training_window_fits_on_the_newest_days_and_compares_on_every_audit_case(
    history, settings
):
    settings.TRAINING_WINDOW_DAYS = 5
    _audit(history, every=2)
    data = training_set(history)
    audited = np.isin(data.order_ids, audit_sample(history, data).order_ids)
    recent = data.created_ts >= data.created_ts.max() - 5 * 86_400_000

    version = model_retrain(history, params=FAST)

    assert 0 < version.training_rows == int((recent & ~audited).sum())
    assert version.training_rows < int((~audited).sum())
    assert version.gate["cases"] == int(audited.sum())  # old audit cases too
