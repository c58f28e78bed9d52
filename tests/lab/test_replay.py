"""Replaying a small labelled file through the real services."""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from cases.models import Case, Label, Order
from cases.schemas import OrderIn
from cases.services.intake import orders_ingest
from lab.demo_data import TRUTH_KEYS, generate_orders
from lab.replay import (
    LiveConfig,
    ReplayRefused,
    StaticConfig,
    mapping_build,
    replay_live_run,
    replay_static_run,
)
from lab.replay.source import (
    labelled_orders_read,
    mapping_resolve,
    payloads_build,
)
from lab.replay.world import capacity_threshold
from models_ml.models import FeatureTile, ModelVersion, Score
from tests.factories import OrderFactory

pytestmark = pytest.mark.slow

START = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _generated(n: int, days: int) -> pd.DataFrame:
    rows = generate_orders(n, seed=7, start=START, days=days)
    frame = pd.DataFrame(rows).drop(columns=["attributes", "pattern"])
    frame["amount"] = frame["amount"].astype(float)
    return frame


def _file(tmp_path: Path, n: int = 1200, days: int = 6) -> Path:
    """Orders under the API's field names, the truth in `is_fraud`."""
    path = tmp_path / "orders.csv"
    _generated(n, days).to_csv(path, index=False)
    return path


def _handbook_file(tmp_path: Path, n: int = 1200, days: int = 6) -> Path:
    """The same orders under the handbook's raw column names."""
    frame = _generated(n, days)
    handbook = pd.DataFrame(
        {
            "TRANSACTION_ID": np.arange(len(frame)),
            "TX_DATETIME": frame["created_at"].dt.tz_convert(None),
            "CUSTOMER_ID": frame["customer_id"],
            "TERMINAL_ID": frame["seller_id"],
            "TX_AMOUNT": frame["amount"],
            "TX_FRAUD": frame["is_fraud"].astype(int),
        }
    )
    path = tmp_path / "handbook.parquet"
    handbook.to_parquet(path, index=False)
    return path


@pytest.fixture
def model_dir(settings, tmp_path) -> Path:
    settings.MODEL_DIR = tmp_path / "models"
    return settings.MODEL_DIR


# The loop as it was before issue 12 (no gate, no matured labels, one round
# of reviews); `test_replay_loop.py` runs the product's loop.
LIVE = LiveConfig(
    start=date(2026, 1, 2),
    days=4,
    k=15,
    delay_days=1,
    warmup_days=1,
    retrain_every_days=1,
    seed=1,
    gate=False,
    maturity_days=0,
    review_rounds=1,
)


@pytest.mark.django_db
def test_live_replay_labels_come_from_reviews_and_chargebacks(tmp_path, model_dir):
    path = _file(tmp_path)
    truth = pd.read_csv(path).set_index("order_id")["is_fraud"]

    result = replay_live_run(path, {}, LIVE)

    reviewer = Label.objects.filter(source="reviewer").select_related("order")
    assert reviewer.count() == sum(d["reviewed"] for d in result["days"])
    assert all(d["reviewed"] <= LIVE.k for d in result["days"])
    for label in reviewer:
        day = datetime.combine(label.order.created_at.date(), datetime.min.time(), UTC)
        assert label.known_at == day + DAY  # known when the day's work is done
        assert label.is_fraud == truth[label.order.order_id]
    charged = Label.objects.filter(source="chargeback").select_related("order")
    assert charged.exists()
    for label in charged:
        assert label.is_fraud and truth[label.order.order_id]
        assert label.known_at == label.order.created_at + DAY
    # Every fraud is labelled once, by a reviewer or after the delay.
    end = START + DAY + LIVE.days * DAY
    due = Order.objects.filter(created_at__gte=START + DAY, created_at__lt=end - DAY)
    for order in due:
        frauds = order.labels.filter(value="fraud").count()
        assert frauds == int(truth[order.order_id])
    assert not Label.objects.filter(known_at__lt=START + DAY).exists()


@pytest.mark.django_db
def test_live_replay_starts_cold_then_trains_and_ranks(tmp_path, model_dir):
    result = replay_live_run(_file(tmp_path), {}, LIVE)

    first, *later = result["days"]
    assert first["model_version"] is None and first["cp_at_k"] is None
    # Without a model every order is queued, by amount: reviewers take the largest.
    assert first["cases"] == first["orders"]
    day_one = Case.objects.filter(order__created_at__lt=START + 2 * DAY)
    decided = day_one.filter(status="decided").values_list("order__amount", flat=True)
    amounts = sorted(day_one.values_list("order__amount", flat=True), reverse=True)
    assert sorted(decided, reverse=True) == amounts[: LIVE.k]
    assert ModelVersion.objects.filter(status="active").exists()
    scored = [d for d in later if d["model_version"] is not None]
    assert scored and all(0 <= d["cp_at_k"] <= 1 for d in scored)
    summary = result["summary"]
    assert summary["labels_used"] == Label.objects.count()
    assert summary["trainings"] >= 1 and summary["k"] == LIVE.k
    assert [w["week"] for w in result["weeks"]] == [1]


@pytest.mark.django_db
def test_static_replay_trains_on_the_window_and_scores_the_test_days(
    tmp_path, model_dir
):
    path = _file(tmp_path, n=1600, days=8)
    config = StaticConfig(
        train_start=date(2026, 1, 3),
        train_days=2,
        delay_days=1,
        test_days=2,
        k=10,
        warmup_days=2,
    )

    result = replay_static_run(path, {}, config)

    version = ModelVersion.objects.get(status="active")
    times = pd.to_datetime(pd.read_csv(path)["created_at"], utc=True)
    in_window = (times >= "2026-01-03") & (times < "2026-01-05")
    assert version.training_rows == in_window.sum()
    assert [d["day"] for d in result["days"]] == ["2026-01-06", "2026-01-07"]
    test_orders = Order.objects.filter(created_at__gte=datetime(2026, 1, 6, tzinfo=UTC))
    assert test_orders.count() == test_orders.filter(scores__isnull=False).count()
    assert not Label.objects.filter(order__in=test_orders).exists()
    summary = result["summary"]
    assert 0 < summary["auc"] <= 1 and 0 <= summary["cp_at_k"] <= 1
    assert summary["cp_at_k"] <= summary["cp_at_k_perfect"]


def _replay_three_live_days(tmp_path: Path, *options: str) -> None:
    call_command(
        "replay",
        "--data",
        str(_handbook_file(tmp_path)),
        "--mapping",
        "handbook",
        "--mode",
        "live",
        "--start",
        "2026-01-02",
        "--days",
        "3",
        "--k",
        "15",
        "--delay-days",
        "1",
        "--warmup-days",
        "1",
        "--retrain-every-days",
        "1",
        *options,
        verbosity=0,
    )


@pytest.mark.django_db
def test_replay_command_writes_the_json_contract(tmp_path, model_dir):
    out = tmp_path / "out.json"

    _replay_three_live_days(tmp_path, "--json", str(out))

    result = json.loads(out.read_text())
    assert result["mode"] == "live"
    assert {"auc", "ap", "cp_at_k", "p_at_k", "k"} <= set(result["summary"])
    assert len(result["days"]) == 3
    for day in result["days"]:
        assert {"day", "cp_at_k", "p_at_k", "ap", "auc", "labels"} <= set(day)
    # The handbook preset reads the customer as the card too.
    order = Order.objects.first()
    assert order.card_fingerprint == order.customer_id != ""


@pytest.mark.django_db
def test_replay_refuses_a_database_with_orders(tmp_path):
    OrderFactory()

    with pytest.raises(ReplayRefused, match="--reset"):
        replay_live_run(_file(tmp_path, n=300, days=3), {}, LIVE)

    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_replay_reset_deletes_earlier_orders(tmp_path, model_dir):
    old = OrderFactory(order_id="old-order")

    replay_live_run(_file(tmp_path, n=300, days=3), {}, LIVE, reset=True)

    assert not Order.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_replay_reset_deletes_earlier_feature_tiles(tmp_path, model_dir):
    OrderFactory(order_id="old-order")
    FeatureTile.objects.create(key="seller", res="d", value="old-seller", start=0, n=9)

    replay_live_run(_file(tmp_path, n=300, days=3), {}, LIVE, reset=True)

    assert not FeatureTile.objects.filter(value="old-seller").exists()


def test_missing_mapped_column_is_named(tmp_path):
    path = _handbook_file(tmp_path, n=50, days=2)
    mapping = mapping_build("handbook", ["TX_SELLER=seller_id"])

    with pytest.raises(ValidationError, match="'TX_SELLER' .mapped to seller_id"):
        mapping_resolve(path, mapping)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("created_at", "not a time", "row 3, column 'created_at': cannot read"),
        ("amount", "12,5", "row 3, column 'amount': cannot read this as an amount"),
        ("is_fraud", "maybe", "row 3, column 'is_fraud': the truth must be"),
        ("customer_id", "", "row 3, column 'customer_id'"),
    ],
)
def test_unreadable_value_names_column_and_row(tmp_path, column, value, message):
    frame = _generated(20, 1)
    frame[column] = frame[column].astype(object)
    frame.loc[2, column] = value
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)

    with pytest.raises(ValidationError, match=message):
        fields = mapping_resolve(path, {})
        labelled = labelled_orders_read(path, fields, START, START + 2 * DAY)
        list(payloads_build(labelled.frame, fields))


def test_a_truncated_last_row_is_left_out_and_listed(tmp_path):
    path = tmp_path / "orders.csv"
    _generated(1200, 2).to_csv(path, index=False)
    whole = path.read_text().splitlines()
    path.write_text("\n".join([*whole[:-1], whole[-1][:12]]) + "\n")

    fields = mapping_resolve(path, {})
    labelled = labelled_orders_read(path, fields, START, START + 3 * DAY)

    assert len(labelled.frame) == 1199
    assert labelled.rejects.count == 1
    rejects = pd.read_csv(tmp_path / "orders.csv.rejects.csv", dtype=str)
    assert rejects["row"].tolist() == ["1200"]
    assert rejects["column"].tolist() == ["created_at"]


def test_many_bad_rows_refuse_the_file(tmp_path):
    frame = _generated(1200, 2)
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[[5, 6], "amount"] = "n/a"
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False)
    fields = mapping_resolve(path, {})

    with pytest.raises(ValidationError, match=r"row 6, column 'amount'.*2 bad rows"):
        labelled_orders_read(path, fields, START, START + 3 * DAY)


def test_unknown_mapping_field_is_refused():
    with pytest.raises(ValidationError, match="'colour' is not a field"):
        mapping_build(None, ["COLOUR=colour"])


@pytest.mark.django_db
def test_command_reports_bad_options_without_a_traceback(tmp_path):
    with pytest.raises(CommandError, match="needs --train-start"):
        call_command(
            "replay",
            "--data",
            str(_file(tmp_path, n=50, days=1)),
            "--mode",
            "static",
            verbosity=0,
        )


@pytest.mark.django_db
def test_live_replay_can_confirm_orders_without_chargeback(tmp_path, model_dir):
    path = _file(tmp_path)
    truth = pd.read_csv(path).set_index("order_id")["is_fraud"]
    config = LiveConfig(**{**LIVE.__dict__, "confirm_legitimate": True})

    replay_live_run(path, {}, config)

    confirmed = Label.objects.filter(source="merchant").select_related("order")
    assert confirmed.exists()
    for label in confirmed:
        assert not label.is_fraud and not truth[label.order.order_id]
        assert label.known_at == label.order.created_at + DAY
        assert label.order.labels.count() == 1  # reviewed orders are not confirmed


@pytest.mark.django_db
def test_capacity_threshold_queues_the_requested_number(
    client_and_token, active_version
):
    client, _token = client_and_token
    rows = generate_orders(300, seed=5, start=START, days=1)
    payloads = [
        OrderIn.model_validate({k: v for k, v in r.items() if k not in TRUTH_KEYS})
        for r in rows
    ]
    orders_ingest(client, payloads, explain_all=False)

    cut = capacity_threshold(client, START, START + DAY, 40)

    probabilities = Score.objects.values_list("probability", flat=True)
    assert sum(p >= cut for p in probabilities) == 40


@pytest.mark.django_db
def test_replay_command_trains_into_its_model_dir_and_rescores_when_asked(
    tmp_path, model_dir
):
    replay_models = tmp_path / "replay-models"

    # A fourth day: a model trained at the third day's start has too few labels.
    _replay_three_live_days(
        tmp_path,
        *("--days", "4", "--model-dir", str(replay_models)),
        *("--run-tasks", "--no-gate"),
    )

    active = ModelVersion.objects.get(status="active")
    assert Path(active.artifact_path).parent == replay_models
    assert not list(model_dir.glob("*.skops"))
    rescored = Score.objects.filter(model_version=active).values("order_id")
    assert Score.objects.filter(order_id__in=rescored, model_version=None).exists()
