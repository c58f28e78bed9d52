import csv
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from cases.models import Label, Order

BASE_TIME = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _orders(n: int = 3, **columns: list) -> pd.DataFrame:
    """n valid orders under the API's field names; `columns` add or replace."""
    frame = pd.DataFrame(
        {
            "order_id": [f"imp-{i:04d}" for i in range(1, n + 1)],
            "created_at": [BASE_TIME + timedelta(hours=i) for i in range(n)],
            "amount": ["49.90"] * n,
            "customer_id": [f"cust-{i}" for i in range(n)],
            "billing_country": ["DE"] * n,
        }
    )
    for name, values in columns.items():
        frame[name] = values
    return frame


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def _import(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_orders", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def _rejects(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def test_csv_file_is_imported_keeping_ids_as_text(db, tmp_path):
    frame = _orders(order_id=["0041", "0042", "0043"], billing_postcode=["01067"] * 3)
    path = _write(frame, tmp_path / "orders.csv")

    summary = _import(path)

    assert summary.startswith(
        "read 3 / stored 3 / already present 0 / rejected 0 / labels 0"
    )
    order = Order.objects.get(order_id="0041")
    assert (order.amount, order.billing_postcode) == (Decimal("49.90"), "01067")
    assert order.created_at == BASE_TIME
    assert order.client.name == "warehouse-import"


def test_parquet_file_with_warehouse_types_is_imported(db, tmp_path):
    frame = _orders(
        order_id=[1001, 1002, 1003],
        amount=[19.99, 0.1 + 0.2, 7.0],
        item_count=[1, 2, 3],
        account_created_at=[BASE_TIME - timedelta(days=9), None, None],
    )
    path = _write(frame, tmp_path / "orders.parquet")

    _import(path, "--client", "hive")

    stored = Order.objects.order_by("order_id")
    assert [o.order_id for o in stored] == ["1001", "1002", "1003"]
    assert [o.amount for o in stored] == [Decimal(x) for x in ("19.99", "0.30", "7")]
    assert [o.item_count for o in stored] == [1, 2, 3]
    assert stored[1].account_created_at is None
    assert {o.client.name for o in stored} == {"hive"}


def test_mapping_renames_columns_and_ignores_the_rest(db, tmp_path):
    frame = pd.DataFrame(
        {
            "TX_ID": [1, 2],
            "TX_DATETIME": ["2026-03-02 12:00:00", "2026-03-02 13:00:00"],
            "CUSTOMER_ID": [17, 18],
            "TERMINAL_ID": [5, 6],
            "TX_AMOUNT": [12.5, 80.0],
            "TX_TIME_DAYS": [0, 0],
        }
    )
    path = _write(frame, tmp_path / "hive.parquet")

    _import(
        path,
        *("--map", "TX_ID=order_id", "--map", "TX_DATETIME=created_at"),
        *("--map", "CUSTOMER_ID=customer_id", "--map", "TERMINAL_ID=seller_id"),
        *("--map", "TX_AMOUNT=amount"),
    )

    order = Order.objects.get(order_id="2")
    assert (order.customer_id, order.seller_id) == ("18", "6")
    assert order.amount == Decimal("80.00")
    assert order.attributes == {}


def test_extra_columns_go_to_attributes_only_when_asked(db, tmp_path):
    path = _write(_orders(1, promo=["SPRING"], score=[0.5]), tmp_path / "o.csv")

    _import(path, "--extra-to-attributes")

    assert Order.objects.get().attributes == {"promo": "SPRING", "score": "0.5"}


def test_rerun_stores_nothing_new_and_reports_rows_already_present(db, tmp_path):
    fraud = ["1", "0", "1"]
    path = _write(_orders(is_fraud=fraud), tmp_path / "orders.parquet")
    _import(path, "--label-column", "is_fraud")

    summary = _import(path, "--label-column", "is_fraud")

    assert summary.startswith(
        "read 3 / stored 0 / already present 3 / rejected 0 / labels 0"
    )
    assert (Order.objects.count(), Label.objects.count()) == (3, 3)


@pytest.mark.parametrize("chunk_size", ["1", "10"])
def test_repeated_order_id_in_file_keeps_the_first_row(db, tmp_path, chunk_size):
    frame = _orders(order_id=["a-1", "a-2", "a-1"], amount=["1.00", "2.00", "3.00"])
    path = _write(frame, tmp_path / "orders.csv")

    summary = _import(path, "--chunk-size", chunk_size)

    assert "stored 2 / already present 1 / rejected 0" in summary
    assert Order.objects.get(order_id="a-1").amount == Decimal("1.00")


def test_rejected_rows_land_in_rejects_file_and_valid_rows_are_stored(db, tmp_path):
    frame = _orders(
        4,
        amount=["10.00", "-5", "12.00", "13.00"],
        email=["", "", "no-at-sign", ""],
        billing_country=["DE", "DE", "germany", "DE"],
    )
    path = _write(frame, tmp_path / "orders.csv")

    summary = _import(path, "--chunk-size", "2")

    assert "stored 2 / already present 0 / rejected 2" in summary
    assert set(Order.objects.values_list("order_id", flat=True)) == {
        "imp-0001",
        "imp-0004",
    }
    header, *lines = _rejects(tmp_path / "orders.csv.rejects.csv")
    assert header == ["row", "order_id", "field", "value", "reason"]
    assert [line[:3] for line in lines] == [
        ["2", "imp-0002", "amount"],
        ["3", "imp-0003", "email"],
        ["3", "imp-0003", "billing_country"],
    ]
    assert lines[0][3] == "-5"
    assert "greater than or equal to 0" in lines[0][4]


def test_rejects_go_to_the_given_file(db, tmp_path):
    path = _write(_orders(1, amount=["x"]), tmp_path / "orders.csv")

    _import(path, "--rejects", str(tmp_path / "bad.csv"))

    assert _rejects(tmp_path / "bad.csv")[1][:3] == ["1", "imp-0001", "amount"]
    assert not (tmp_path / "orders.csv.rejects.csv").exists()


def test_missing_mapped_column_raises_command_error_naming_it(db, tmp_path):
    path = _write(_orders(), tmp_path / "orders.csv")

    with pytest.raises(CommandError, match="'TX_AMOUNT' is not in the file"):
        _import(path, "--map", "TX_AMOUNT=amount")
    assert Order.objects.count() == 0


def test_missing_required_field_raises_command_error_naming_it(db, tmp_path):
    path = _write(_orders().drop(columns="customer_id"), tmp_path / "orders.csv")

    with pytest.raises(CommandError, match="required field 'customer_id'"):
        _import(path)


def test_unknown_file_type_raises_command_error(db, tmp_path):
    path = tmp_path / "orders.json"
    path.write_text("[]")

    with pytest.raises(CommandError, match="unknown file type"):
        _import(path)


def test_labels_are_created_with_known_at_after_the_delay(db, tmp_path):
    frame = _orders(TX_FRAUD=[1, 0, None])
    path = _write(frame, tmp_path / "orders.parquet")

    summary = _import(path, "--label-column", "TX_FRAUD", "--label-delay-days", "10")

    assert summary.startswith("read 3 / stored 3 / already present 0 / rejected 0")
    assert "labels 2" in summary
    labels = {
        label.order.order_id: (label.value, label.source, label.known_at)
        for label in Label.objects.select_related("order")
    }
    assert labels == {
        "imp-0001": ("fraud", "chargeback", BASE_TIME + timedelta(days=10)),
        "imp-0002": (
            "legitimate",
            "merchant",
            BASE_TIME + timedelta(hours=1, days=10),
        ),
    }


@pytest.mark.parametrize("name", ["orders.csv", "orders.parquet"])
def test_naive_timestamps_are_treated_as_utc(db, tmp_path, name):
    naive = [datetime(2026, 3, 2, 12, 0), datetime(2026, 3, 2, 23, 30)]
    path = _write(_orders(2, created_at=naive), tmp_path / name)

    _import(path)

    assert list(Order.objects.order_by("order_id").values_list("created_at")) == [
        (datetime(2026, 3, 2, 12, 0, tzinfo=UTC),),
        (datetime(2026, 3, 2, 23, 30, tzinfo=UTC),),
    ]


def test_epoch_seconds_and_millis_are_read_as_utc(db, tmp_path):
    epoch = int(BASE_TIME.timestamp())
    path = _write(_orders(2, created_at=[epoch, epoch * 1000]), tmp_path / "o.csv")

    _import(path)

    assert list(Order.objects.values_list("created_at", flat=True)) == [BASE_TIME] * 2


# --- Foreign exports: no order id, US-style local times, integer IPs -----------


def _foreign_export(n: int = 40) -> pd.DataFrame:
    """Generated orders laid out like a public e-commerce fraud export: no order
    id, naive US-style local times, the IPv4 address as a float, a 0/1 class."""
    from lab.demo_data import generate_orders

    rows = generate_orders(n, seed=5)
    eastern = ZoneInfo("America/New_York")

    def local(moment: datetime) -> str:
        return moment.astimezone(eastern).strftime("%m/%d/%Y %H:%M")

    return pd.DataFrame(
        {
            "user_id": [r["customer_id"] for r in rows],
            "signup_time": [local(r["account_created_at"]) for r in rows],
            "purchase_time": [local(r["created_at"]) for r in rows],
            "purchase_value": [str(r["amount"]) for r in rows],
            "device_id": [r["device_id"] for r in rows],
            "ip_address": [f"{3232235777 + i}.{i * 37 % 100:02d}" for i in range(n)],
            "class": [int(r["is_fraud"]) for r in rows],
        }
    )


FOREIGN_ARGS = [
    *("--map", "user_id=customer_id", "--map", "signup_time=account_created_at"),
    *("--map", "purchase_time=created_at", "--map", "purchase_value=amount"),
    *("--label-column", "class", "--generate-order-id"),
    *("--time-format", "%m/%d/%Y %H:%M", "--timezone", "America/New_York"),
]


def test_foreign_export_imports_with_generated_ids_local_times_and_integer_ips(
    db, tmp_path
):
    frame = _foreign_export()
    path = _write(frame, tmp_path / "fraud_data.csv")

    first = _import(path, *FOREIGN_ARGS)
    again = _import(path, *FOREIGN_ARGS)

    assert first.startswith("read 40 / stored 40 / already present 0 / rejected 0")
    assert again.startswith("read 40 / stored 0 / already present 40 / rejected 0")
    order = Order.objects.get(ip_address="192.168.1.1")
    assert order.order_id.startswith("gen-")
    eastern = ZoneInfo("America/New_York")
    written = datetime.strptime(frame["purchase_time"][0], "%m/%d/%Y %H:%M")
    assert order.created_at == written.replace(tzinfo=eastern)
    assert Label.objects.count() == 40


def test_us_style_times_without_a_format_are_rejected_naming_row_and_value(
    db, tmp_path
):
    frame = _orders(2, created_at=["2/24/2015 22:55", BASE_TIME.isoformat()])
    path = _write(frame, tmp_path / "orders.csv")

    summary = _import(path)

    assert "stored 1 / already present 0 / rejected 1" in summary
    _header, line = _rejects(tmp_path / "orders.csv.rejects.csv")
    assert line[:4] == ["1", "imp-0001", "created_at", "2/24/2015 22:55"]
    assert "--time-format" in line[4]


def test_a_file_without_order_ids_names_the_generate_option(db, tmp_path):
    path = _write(_orders().drop(columns="order_id"), tmp_path / "orders.csv")

    with pytest.raises(CommandError, match="--generate-order-id"):
        _import(path)


def test_generated_ids_are_refused_when_the_file_has_ids(db, tmp_path):
    path = _write(_orders(), tmp_path / "orders.csv")

    with pytest.raises(CommandError, match="has an order id column"):
        _import(path, "--generate-order-id")


def test_an_unknown_timezone_is_refused(db, tmp_path):
    path = _write(_orders(), tmp_path / "orders.csv")

    with pytest.raises(CommandError, match="--timezone 'Mars/Olympus': unknown"):
        _import(path, "--timezone", "Mars/Olympus")


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("3232235777", "192.168.1.1"),
        ("3232235777.8125", "192.168.1.1"),
        ("0", "0.0.0.0"),
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::1"),
    ],
)
def test_integer_ipv4_addresses_become_dotted_quads(db, tmp_path, written, stored):
    path = _write(_orders(1, ip_address=[written]), tmp_path / "orders.csv")

    _import(path)

    assert Order.objects.get().ip_address == stored


def test_an_integer_beyond_ipv4_is_rejected(db, tmp_path):
    path = _write(_orders(1, ip_address=["4294967296"]), tmp_path / "orders.csv")

    assert "rejected 1" in _import(path)
