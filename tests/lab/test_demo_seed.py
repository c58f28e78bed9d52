"""The demo seed: history with known truth, a model, a reviewed last week."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from cases.models import Case, Label, Order
from lab.demo_seed import LIVE_DAYS, OPEN_DAYS, demo_seed
from models_ml.models import ModelVersion, Score
from tenants.models import Membership

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

NOW = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)


def test_demo_seed_tells_a_month_of_review_ending_now(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    settings.RISK_REVIEW_THRESHOLD = 0.05  # a queue with work on a small demo

    report = demo_seed(1500, seed=3, days=21, now=NOW)

    assert Order.objects.filter(created_at__gte=NOW).count() == 0
    # One demo tenant owns all of it; the demo users work for it.
    assert set(Order.objects.values_list("tenant__name", flat=True)) == {"demo"}
    call_command("create_demo_users", stdout=io.StringIO())
    assert set(Membership.objects.values_list("tenant__name", flat=True)) == {"demo"}
    # History: unscored, its truth known a week after each order, never later
    # than now.
    live_start = datetime(2026, 11, 20, tzinfo=UTC)
    assert not Score.objects.filter(order__created_at__lt=live_start).exists()
    truth = Label.objects.filter(source__in=["chargeback", "merchant"])
    assert 0 < truth.count() < report.history
    assert max(truth.values_list("known_at", flat=True)) <= NOW
    # The last week went through intake with the model trained on history.
    live = Order.objects.filter(created_at__gte=live_start)
    assert live.count() == report.live > 0
    assert Score.objects.filter(order__in=live).count() == live.count()
    assert ModelVersion.objects.filter(status="active").count() == 1
    # Reviewers decided over several days; the newest days' cases stay open.
    decided = Case.objects.filter(status="decided")
    assert decided.count() == report.decided > 0
    assert len({c.decided_at.date() for c in decided}) > 1
    assert max(c.decided_at for c in decided) < NOW - timedelta(days=OPEN_DAYS - 1)
    open_since = NOW.replace(hour=0, minute=0) - timedelta(days=OPEN_DAYS - 1)
    assert not decided.filter(order__created_at__gte=open_since).exists()
    assert Case.objects.pending().filter(order__created_at__gte=open_since).exists()
    assert LIVE_DAYS > OPEN_DAYS

    orders = Order.objects.count()
    assert demo_seed(1500, seed=3, days=21, now=NOW) is None
    assert Order.objects.count() == orders


def test_history_only_loads_the_benchmarks_fixed_world_once():
    out = io.StringIO()

    call_command("seed_demo", "--history-only", "--orders", "200", stdout=out)
    call_command("seed_demo", "--history-only", "--orders", "200", stdout=out)

    first, second = out.getvalue().splitlines()
    assert first == "Stored 200 new demo orders, 150 labels."
    assert second == "Stored 0 new demo orders, 0 labels."
    assert not Score.objects.exists()
