"""The live replay with the product's loop: gate, matured labels, rounds of
reviews with same-day propagation, the cold-start policy."""

from dataclasses import replace

import pandas as pd
import pytest

from cases.models import Case, Label
from lab.replay import LiveConfig, replay_live_run
from models_ml.models import ModelVersion
from tests.lab.test_replay import DAY, LIVE, START, _file

pytestmark = pytest.mark.slow

LOOP = replace(LIVE, gate=True, maturity_days=1, review_rounds=3)


@pytest.fixture
def loop_settings(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    settings.COLD_START_AMOUNT, settings.COLD_START_AUDIT_SHARE = 300.0, 0.3
    settings.GATE_MIN_CASES, settings.GATE_MIN_FRAUDS = 20, 2


@pytest.mark.django_db
def test_the_product_loop_replays_with_its_own_labels_and_gate(tmp_path, loop_settings):
    result = replay_live_run(_file(tmp_path), {}, LOOP)

    first = result["days"][0]
    assert 0 < first["cases"] < first["orders"]  # the cold-start policy, not all
    assert Case.objects.filter(queue_reason="audit", selection_probability=0.3)
    matured = Label.objects.filter(source="matured").select_related("order")
    assert matured and sum(d["matured"] for d in result["days"]) == matured.count()
    assert all(m.known_at == m.order.created_at + DAY for m in matured)
    day_one = Label.objects.filter(
        source="reviewer", order__created_at__lt=START + 2 * DAY
    )
    assert len(set(day_one.values_list("known_at", flat=True))) == 3  # 3 rounds
    trained = [t for t in result["trainings"] if "version" in t]
    assert trained and all(t["gate_verdict"] for t in trained)
    assert ModelVersion.objects.exclude(gate_verdict="").count() == len(trained)
    summary = result["summary"]
    assert sum(summary["gate_verdicts"].values()) == len(trained)
    assert "propagated_frauds" in summary
    (week,) = result["weeks"]
    assert {"share_of_perfect", "cp_at_k_final", "propagated_frauds"} <= set(week)


@pytest.mark.django_db
def test_by_default_the_replay_trains_nightly_and_serves_the_day_its_model(
    tmp_path, loop_settings
):
    assert LiveConfig(start=START.date(), days=1).retrain_every_days == 1
    # Without the gate: on these few days it may hold every challenger.
    config = replace(LOOP, gate=False, retrain_every_days=LiveConfig.retrain_every_days)

    result = replay_live_run(_file(tmp_path), {}, config)

    days = {d["day"]: d for d in result["days"]}
    trained = [t for t in result["trainings"] if "version" in t]
    # Once there is a model, a training every day, at the day's start: a
    # version promoted that night scores that day's intake.
    assert [t["day"] for t in result["trainings"]] == list(days)
    promoted = [t for t in trained if t["status"] == "active"]
    assert promoted
    for t in promoted:
        assert days[t["day"]]["model_version"] == t["version"]


@pytest.mark.django_db
def test_frauds_declined_by_rules_are_counted_apart_from_reviewers(
    tmp_path, loop_settings
):
    from cases.services.bulk import import_client
    from cases.services.rules import rule_create
    from lab.replay.world import REPLAY_CLIENT
    from models_ml.models import Score

    tenant_id = import_client(REPLAY_CLIENT).tenant_id
    rule_create(
        tenant_id,
        actor="test",
        owner=None,
        name="large orders",
        expression="amount > 150.0",
        action="decline",
        state="active",
    )

    path = _file(tmp_path)
    truth = pd.read_csv(path).set_index("order_id")["is_fraud"]

    result = replay_live_run(path, {}, LIVE)

    declined = Score.objects.latest_per_order().filter(decision="decline")
    ids = list(declined.values_list("order__order_id", flat=True))
    frauds = {i for i in ids if truth[i]}
    days = result["days"]
    assert sum(d["rule_declined"] for d in days) == declined.count() > 0
    assert sum(d["rule_frauds"] for d in days) == len(frauds) > 0
    assert result["summary"]["rule_frauds"] == len(frauds)
    assert sum(w["rule_frauds"] for w in result["weeks"]) == len(frauds)
    # Nobody reviewed them: the reviewers' count does not include them.
    assert not Label.objects.filter(
        source="reviewer", order__order_id__in=frauds
    ).exists()
