"""Retraining is promoted only through the unbiased gate (held-out audit cases)."""

import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import call_command

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


@pytest.mark.django_db
def test_a_challenger_trained_on_shuffled_labels_is_refused(history):
    _audit(history, every=2)
    later = _labels_come_later(history, every=2)
    champion = model_retrain(history, params=FAST)
    assert champion.status == ModelVersion.Status.ACTIVE, champion.promotion_reason
    assert champion.gate["source"] == "audit"
    assert champion.gate["population"] == pytest.approx(375 / AUDIT_PI)
    _labels_back(later)

    def shuffled():
        data = training_set(history)
        audited = np.isin(data.order_ids, gate_sample(history, data).order_ids)
        rng = np.random.default_rng(0)
        data.target[~audited] = rng.permutation(data.target[~audited])
        return data

    challenger = model_train(
        shuffled,
        tenant_id=history,
        force=True,
        params=FAST,
        gate_sample=lambda data: gate_sample(history, data),
        gate_policy=gate_policy(),
    )

    assert challenger.gate_verdict == "reject", challenger.promotion_reason
    assert challenger.status == ModelVersion.Status.REJECTED
    # Compared on the audit cases labelled after the champion was trained.
    assert challenger.gate["cases"] == len(later)
    assert challenger.gate["champion"]["ap"] > challenger.gate["challenger"]["ap"]
    assert "refit_rows" not in challenger.gate  # a rejected one is not refit
    champion.refresh_from_db()
    assert champion.status == ModelVersion.Status.ACTIVE


@pytest.mark.django_db
def test_the_gate_does_not_compare_on_orders_the_refit_champion_trained_on(
    history,
):
    _audit(history, every=2)
    champion = model_retrain(history, params=FAST)
    assert champion.status == ModelVersion.Status.ACTIVE, champion.promotion_reason
    assert champion.gate["refit_rows"] == len(training_set(history).target)

    challenger = model_retrain(history, params=FAST, force=True)

    assert challenger.gate_verdict == "held"
    assert challenger.gate["cases"] == 0  # the champion has seen every label


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
def test_with_both_samples_the_gate_uses_the_one_with_more_frauds(history, settings):
    settings.RISK_MATURITY_DAYS = 5  # a fully labelled window exists
    settings.GATE_MIN_CASES, settings.GATE_MIN_FRAUDS = 100, 3
    _audit(history, every=10)  # 150 cases: enough on their own
    data = training_set(history)
    audit, matured = audit_sample(history, data), matured_sample(history, data)
    assert matured is not None
    assert len(audit.order_ids) >= 100 and _frauds(data, audit) >= 3
    assert _frauds(data, matured) > _frauds(data, audit)

    version = model_retrain(history, params=FAST)

    assert version.gate["source"] == "matured"
    assert version.gate["frauds"] == _frauds(data, matured)
    assert version.gate["selection"].startswith("matured window: more frauds")
    assert f"{_frauds(data, audit)} frauds" in version.gate["selection"]


@pytest.mark.django_db
def test_the_audit_sample_is_kept_when_it_holds_more_frauds(history, settings):
    settings.RISK_MATURITY_DAYS = 5
    _audit(history, every=2)  # 750 cases, more than the window's orders
    data = training_set(history)
    matured = matured_sample(history, data)
    assert matured is not None

    sample = gate_sample(history, data)

    assert sample.source == "audit"
    assert _frauds(data, sample) > _frauds(data, matured)
    assert sample.why.startswith("audit: at least as many frauds")


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
def test_a_promoted_version_serves_a_refit_on_every_label_incl_the_gate_sample(
    history, tmp_path
):
    from models_ml.scoring import model_version_load
    from models_ml.training import model_fit

    _audit(history, every=2)
    data = training_set(history)
    held = np.isin(data.order_ids, gate_sample(history, data).order_ids)

    version = model_retrain(history, params=FAST)

    assert version.status == ModelVersion.Status.ACTIVE, version.promotion_reason
    assert version.training_rows == len(data.target) == version.gate["refit_rows"]
    assert version.gate["compared_rows"] == int((~held).sum())
    served = model_version_load(version).predict(data.features.to_numpy(float))
    everything = model_fit(data.features, data.target, FAST)
    without = model_fit(data.features[~held], data.target[~held], FAST)
    rows = data.features.to_numpy(float)
    assert np.allclose(served, everything.predict_proba(rows)[:, 1])
    assert not np.allclose(served, without.predict_proba(rows)[:, 1])
    # Only the served file is kept: the compared fit is not left on disk.
    assert [p.name for p in tmp_path.glob("*.skops")] == [
        f"model-v{version.pk}-refit.skops"
    ]


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
