import ipaddress
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lab.demo_data import DEFAULT_START, FRAUD_PATTERNS, generate_orders

EXPECTED_KEYS = {
    "order_id",
    "created_at",
    "amount",
    "currency",
    "customer_id",
    "account_created_at",
    "email",
    "device_id",
    "ip_address",
    "card_fingerprint",
    "card_bin",
    "card_country",
    "billing_country",
    "billing_postcode",
    "shipping_country",
    "shipping_postcode",
    "seller_id",
    "channel",
    "item_count",
    "attributes",
    "is_fraud",
    "pattern",
}
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module", params=SEEDS)
def orders(request):
    return generate_orders(5000, seed=request.param)


def by_pattern(orders, pattern):
    return [o for o in orders if o["pattern"] == pattern]


def test_same_seed_gives_identical_output():
    assert generate_orders(1500, seed=42) == generate_orders(1500, seed=42)


def test_different_seed_gives_different_output():
    a = generate_orders(1500, seed=1)
    b = generate_orders(1500, seed=2)
    assert [o["amount"] for o in a] != [o["amount"] for o in b]
    assert {o["card_fingerprint"] for o in a}.isdisjoint(
        {o["card_fingerprint"] for o in b}
    )


@pytest.mark.parametrize("n", [0, 1, 7, 500, 5000])
def test_length_order_and_unique_ids(n):
    orders = generate_orders(n, seed=3)
    assert len(orders) == n
    times = [o["created_at"] for o in orders]
    assert times == sorted(times)
    assert len({o["order_id"] for o in orders}) == n


def test_orders_fall_inside_default_window():
    orders = generate_orders(2000)
    assert min(o["created_at"] for o in orders) >= DEFAULT_START
    assert max(o["created_at"] for o in orders) < DEFAULT_START + timedelta(days=30)


def test_custom_start_and_days_are_respected():
    start = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    orders = generate_orders(3000, seed=5, start=start, days=3)
    assert min(o["created_at"] for o in orders) >= start
    assert max(o["created_at"] for o in orders) < start + timedelta(days=3)
    # All five patterns still fit into a short window.
    assert {o["pattern"] for o in orders} >= set(FRAUD_PATTERNS)


def test_naive_start_is_treated_as_utc():
    naive = generate_orders(200, seed=4, start=datetime(2025, 3, 1))
    aware = generate_orders(200, seed=4, start=datetime(2025, 3, 1, tzinfo=UTC))
    assert naive == aware


@pytest.mark.parametrize("kwargs", [{"n": -1}, {"n": 10, "days": 0}])
def test_invalid_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError):
        generate_orders(**kwargs)


def test_field_types(orders):
    for o in orders:
        assert set(o) == EXPECTED_KEYS
        assert o["order_id"].startswith("ord-")
        assert isinstance(o["amount"], Decimal)
        assert o["amount"].as_tuple().exponent == -2
        assert o["amount"] > 0
        assert o["currency"] in {"EUR", "GBP", "USD"}
        for key in ("created_at", "account_created_at"):
            assert isinstance(o[key], datetime)
            assert o[key].utcoffset() == timedelta(0)
        assert isinstance(ipaddress.ip_address(o["ip_address"]), ipaddress.IPv4Address)
        assert len(o["card_bin"]) == 6 and o["card_bin"].isdigit()
        int(o["card_fingerprint"], 16)
        for key in ("card_country", "billing_country", "shipping_country"):
            assert len(o[key]) == 2 and o[key].isupper()
        for key in ("customer_id", "email", "device_id", "seller_id"):
            assert isinstance(o[key], str) and o[key]
        assert "@" in o["email"]
        assert o["billing_postcode"] and o["shipping_postcode"]
        assert o["channel"] in {"web", "app", "phone"}
        assert isinstance(o["item_count"], int) and o["item_count"] >= 1
        assert isinstance(o["attributes"], dict)
        assert isinstance(o["is_fraud"], bool)
        assert o["is_fraud"] == (o["pattern"] != "legit")


def test_mostly_eur(orders):
    currencies = Counter(o["currency"] for o in orders)
    assert currencies["EUR"] > 0.6 * len(orders)
    assert currencies["GBP"] > 0 and currencies["USD"] > 0


def test_all_patterns_present(orders):
    assert {o["pattern"] for o in orders} == {"legit", *FRAUD_PATTERNS}


def test_fraud_rate_in_range(orders):
    rate = sum(o["is_fraud"] for o in orders) / len(orders)
    assert 0.01 <= rate <= 0.08


def test_account_created_before_every_order(orders):
    assert all(o["account_created_at"] < o["created_at"] for o in orders)


def test_card_testing_comes_in_bursts(orders):
    by_card = defaultdict(list)
    for o in by_pattern(orders, "card_testing"):
        by_card[o["card_fingerprint"]].append(o)
    assert by_card
    for burst in by_card.values():
        assert len(burst) >= 5
        assert len({o["device_id"] for o in burst}) == 1
        assert all(Decimal(1) <= o["amount"] <= Decimal(5) for o in burst)
        times = sorted(o["created_at"] for o in burst)
        assert any(
            times[i + 4] - times[i] <= timedelta(minutes=30)
            for i in range(len(times) - 4)
        )
        top_seller_count = Counter(o["seller_id"] for o in burst).most_common(1)
        assert top_seller_count[0][1] >= len(burst) / 2


def test_promo_abuse_shares_device_and_code(orders):
    by_device = defaultdict(list)
    for o in by_pattern(orders, "promo_abuse"):
        by_device[o["device_id"]].append(o)
    assert by_device
    for group in by_device.values():
        assert len(group) >= 5
        assert len({o["customer_id"] for o in group}) == len(group)
        codes = {o["attributes"].get("promo_code") for o in group}
        assert len(codes) == 1 and None not in codes
        for o in group:
            assert o["created_at"] - o["account_created_at"] < timedelta(hours=1)


def test_stolen_card_countries_all_differ(orders):
    stolen = by_pattern(orders, "stolen_card")
    for o in stolen:
        countries = {o["card_country"], o["billing_country"], o["shipping_country"]}
        assert len(countries) == 3
    legit = by_pattern(orders, "legit")
    assert statistics.median(o["amount"] for o in stolen) > 3 * statistics.median(
        o["amount"] for o in legit
    )


def test_account_takeover_looks_unusual_for_the_customer(orders):
    legit_amounts = defaultdict(list)
    legit_devices = defaultdict(set)
    for o in by_pattern(orders, "legit"):
        legit_amounts[o["customer_id"]].append(o["amount"])
        legit_devices[o["customer_id"]].add(o["device_id"])
    ato = by_pattern(orders, "account_takeover")
    for o in ato:
        assert o["created_at"] - o["account_created_at"] > timedelta(days=180)
        assert o["shipping_country"] != o["billing_country"]
        assert o["device_id"] not in legit_devices[o["customer_id"]]
    with_history = [o for o in ato if len(legit_amounts[o["customer_id"]]) >= 3]
    assert with_history
    ratios = [
        o["amount"] / statistics.median(legit_amounts[o["customer_id"]])
        for o in with_history
    ]
    assert statistics.median(ratios) > 2


def test_compromised_seller_window_is_mostly_fraud(orders):
    fraud = by_pattern(orders, "compromised_seller")
    seller, _ = Counter(o["seller_id"] for o in fraud).most_common(1)[0]
    times = [o["created_at"] for o in fraud if o["seller_id"] == seller]
    assert max(times) - min(times) <= timedelta(days=4)
    window = [
        o
        for o in orders
        if o["seller_id"] == seller and min(times) <= o["created_at"] <= max(times)
    ]
    assert sum(o["is_fraud"] for o in window) / len(window) > 0.5


def test_no_seller_dominates(orders):
    sellers = Counter(o["seller_id"] for o in orders)
    assert len(sellers) >= 24
    assert max(sellers.values()) <= 0.10 * len(orders)


def test_fewer_orders_at_night(orders):
    hours = Counter(o["created_at"].hour for o in by_pattern(orders, "legit"))
    night = sum(hours[h] for h in range(1, 5))
    evening = sum(hours[h] for h in range(18, 22))
    assert night * 5 < evening


def test_legit_orders_are_not_trivially_separable(orders):
    legit = by_pattern(orders, "legit")
    odd = {
        "card country mismatch": [
            o for o in legit if o["card_country"] != o["billing_country"]
        ],
        "shipping abroad": [
            o for o in legit if o["shipping_country"] != o["billing_country"]
        ],
        "brand-new account": [
            o
            for o in legit
            if o["created_at"] - o["account_created_at"] < timedelta(hours=1)
        ],
        "tiny amount": [o for o in legit if o["amount"] <= 5],
    }
    for reason, rows in odd.items():
        assert len(rows) >= 10, reason


def test_country_mismatch_is_a_useful_but_imperfect_signal(orders):
    mismatch = [o for o in orders if o["card_country"] != o["billing_country"]]
    base_rate = sum(o["is_fraud"] for o in orders) / len(orders)
    mismatch_rate = sum(o["is_fraud"] for o in mismatch) / len(mismatch)
    assert mismatch_rate > 3 * base_rate
    assert mismatch_rate < 0.95


def test_fifty_thousand_orders_stay_unique_and_ordered():
    # Speed is not asserted here (no timed tests); it was measured at 0.7-1.0 s.
    orders = generate_orders(50_000, seed=9)
    assert len(orders) == 50_000
    assert len({o["order_id"] for o in orders}) == 50_000
    times = [o["created_at"] for o in orders]
    assert times == sorted(times)
