"""The backtest: what a rule would have done, equal to what it then does live."""

from datetime import UTC, datetime, timedelta

import pytest

from cases.models import Label, Order
from cases.schemas import OrderIn
from cases.services.backtest import rule_backtest
from cases.services.clients import api_client_create
from cases.services.intake import orders_ingest
from cases.services.rules import list_entry_add, rule_create
from models_ml.models import Score
from tests.factories import TenantFactory, order_payload

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RULE = "customer_orders_1d >= 2.0 && amount > 60.0 || block.ip"
# Fails (null) on orders whose customer has no order in the last day.
FRAGILE = "customer_mean_amount_1d > 60.0"
FIELDS = (
    'has_score && score > 0.0001 && email.endsWith("1@example.com")'
    ' && created_at > timestamp("2026-03-02T12:00:00Z") && item_count == 2'
)


def _payloads(n: int = 36) -> list[OrderIn]:
    return [
        OrderIn.model_validate(
            order_payload(
                order_id=f"bt-{i}",
                created_at=(START + timedelta(minutes=47 * i)).isoformat(),
                amount=f"{20 + (i * 37) % 90}.00",
                customer_id=f"cust-{i % 4}",
                email=f"c{i % 4}@example.com",
                card_fingerprint=f"fp-{i % 5}",
                device_id=f"dev-{i % 3}",
                ip_address=f"198.51.100.{i % 7}",
            )
        )
        for i in range(n)
    ]


@pytest.fixture
def shop(db, settings, active_version):
    settings.RISK_REVIEW_THRESHOLD = 0.5
    settings.RISK_DECLINE_THRESHOLD = 0.95
    client, _token = api_client_create("bt-shop", tenant=TenantFactory())
    return client


def test_backtest_hits_exactly_the_orders_the_rule_then_hits_live(shop):
    tenant_id = shop.tenant_id
    list_entry_add(
        tenant_id, kind="block", entity_type="ip", value="198.51.100.3", actor="t"
    )
    rules = [
        rule_create(
            tenant_id,
            actor="user:lead",
            owner=None,
            name=name,
            expression=expression,
            action="review",
            state="active",
        )
        for name, expression in [
            ("busy customer", RULE),
            ("fragile", FRAGILE),
            ("fields", FIELDS),
        ]
    ]
    for payload in _payloads():  # one by one, as live intake sees them
        orders_ingest(shop, [payload], explain_all=False)
    scores = list(Score.objects.filter(order__tenant_id=tenant_id))

    for rule in rules:
        rule.refresh_from_db()
        live = {
            s.order_id
            for s in scores
            if any(h["kind"] == "rule" and h["id"] == rule.pk for h in s.rule_hits)
        }
        result = rule_backtest(
            tenant_id, rule.expression, days=7, exclude_rule_id=rule.pk
        )

        assert 0 < len(live) < 36
        assert set(result.hit_ids) == live
        assert result.orders == 36
        assert result.errors == rule.run_errors


def test_backtest_counts_truth_amount_model_decisions_and_overlap(shop):
    tenant_id = shop.tenant_id
    orders_ingest(shop, _payloads(12), explain_all=False)
    rule_create(
        tenant_id,
        actor="user:lead",
        owner=None,
        name="big",
        expression="amount >= 70.0",
        action="review",
        state="active",
    )
    hits = Order.objects.filter(tenant_id=tenant_id, amount__gte=80).order_by("id")
    Label.objects.create(
        order=hits[0], value="fraud", source="chargeback", known_at=START
    )
    Label.objects.create(
        order=hits[1], value="legitimate", source="reviewer", known_at=START
    )

    result = rule_backtest(tenant_id, "amount >= 80.0", days=30)

    assert result.hits == hits.count() >= 3
    assert (result.fraud, result.legitimate) == (1, 1)
    assert result.unlabelled == result.hits - 2
    assert result.amount == float(sum(o.amount for o in hits))
    assert sum(result.by_model_decision.values()) == result.hits
    assert result.overlap == [("big", result.hits)]
    assert {s["order_id"] for s in result.samples} == {o.order_id for o in hits}


def test_backtest_of_a_wrong_rule_says_where(shop):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="column 10"):
        rule_backtest(shop.tenant_id, "amount > ")


def test_backtest_features_agree_with_live_after_months_of_history(shop):
    rule = rule_create(
        shop.tenant_id,
        actor="user:lead",
        owner=None,
        name="new cards",
        expression="device_new_cards_30d >= 5.0 || card_orders_30d >= 2.0",
        action="review",
        state="active",
    )
    for i in range(40):  # one order every 2.5 days: 100 days of history
        payload = order_payload(
            order_id=f"old-{i}",
            created_at=(START + timedelta(hours=60 * i)).isoformat(),
            card_fingerprint=f"fp-{i % 7}",
            device_id=f"dev-{i % 2}",
            customer_id=f"cust-{i % 2}",
        )
        orders_ingest(shop, [OrderIn.model_validate(payload)], explain_all=False)
    newest = START + timedelta(hours=60 * 39)
    live = {
        s.order_id
        for s in Score.objects.filter(
            order__tenant_id=shop.tenant_id,
            order__created_at__gte=newest - timedelta(days=20),
        )
        if s.rule_hits
    }

    result = rule_backtest(shop.tenant_id, rule.expression, days=20)

    assert live and set(result.hit_ids) == live
