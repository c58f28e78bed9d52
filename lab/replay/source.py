"""Reading a labelled order file for a replay: column mapping, checks, payloads.

A mapping names, for each order field, the file column that feeds it; one
column may feed several fields (the handbook's CUSTOMER_ID is both customer and
card). The truth is the field `is_fraud`. Columns named exactly like a field are
taken without a mapping. Only the mapped columns are read, and only the rows in
the replayed time range are kept.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from pydantic import ValidationError as PayloadError

from cases.schemas import OrderIn
from cases.services.imports import file_kind

TRUTH_FIELD = "is_fraud"
ORDER_FIELDS = tuple(OrderIn.model_fields)
REQUIRED_FIELDS = ("order_id", "created_at", "customer_id", "amount", TRUTH_FIELD)
FRAUD_VALUES = frozenset({"1", "1.0", "true", "t", "yes", "y", "fraud"})
LEGIT_VALUES = frozenset({"0", "0.0", "false", "f", "no", "n", "legitimate", "legit"})
# Fields the file may not set: the replay builds plain orders.
_UNMAPPABLE = frozenset({"attributes"})
# A replay leaves out at most this share of a file's rows (a truncated last line,
# a stray bad value) and lists them in PATH.rejects.csv; more means the mapping
# or the file is wrong, and the replay is refused naming the first bad row.
MAX_REJECTED_SHARE = 0.001
REJECT_COLUMNS = ("row", "column", "value", "reason")

MAPPING_PRESETS: dict[str, dict[str, str]] = {
    # The Fraud Detection Handbook's raw columns (see its README): the card is
    # the customer, the terminal is the seller.
    "handbook": {
        "order_id": "TRANSACTION_ID",
        "created_at": "TX_DATETIME",
        "customer_id": "CUSTOMER_ID",
        "card_fingerprint": "CUSTOMER_ID",
        "seller_id": "TERMINAL_ID",
        "amount": "TX_AMOUNT",
        TRUTH_FIELD: "TX_FRAUD",
    },
}


def mapping_build(preset: str | None, items: Sequence[str]) -> dict[str, str]:
    """field → column from a preset name and `SOURCE=FIELD` items (items win)."""
    if preset is not None and preset not in MAPPING_PRESETS:
        known = ", ".join(MAPPING_PRESETS)
        raise ValidationError(f"--mapping {preset!r}: unknown preset (known: {known})")
    mapping = dict(MAPPING_PRESETS[preset]) if preset else {}
    allowed = (*ORDER_FIELDS, TRUTH_FIELD)
    for item in items:
        source, sep, target = item.rpartition("=")
        if not sep or not source or not target:
            raise ValidationError(f"--map {item!r}: expected SOURCE_COLUMN=FIELD")
        if target not in allowed or target in _UNMAPPABLE:
            fields = ", ".join(f for f in allowed if f not in _UNMAPPABLE)
            raise ValidationError(
                f"--map {item!r}: {target!r} is not a field (one of: {fields})"
            )
        mapping[target] = source
    return mapping


@dataclass
class Rejects:
    """Rows a replay leaves out, and why; written to `path` as they are found."""

    path: Path
    allowed: int
    count: int = 0
    first: str = ""

    def __post_init__(self) -> None:
        with self.path.open("w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerow(REJECT_COLUMNS)

    def add(self, raw: pd.DataFrame, bad: np.ndarray, column: str, what: str) -> None:
        """Record the rows of `raw` where `bad`; refuse the file past `allowed`."""
        if not bad.any():
            return
        rows = raw["row"].to_numpy()[bad]
        values = raw[column].to_numpy()[bad]
        if not self.first:
            self.first = (
                f"row {rows[0]}, column {column!r}: {what} "
                f"(got {values[0]!r}; {int(bad.sum())} such rows)"
            )
        with self.path.open("a", newline="", encoding="utf-8") as file:
            csv.writer(file).writerows(
                [int(r), column, str(v)[:200], what]
                for r, v in zip(rows, values, strict=True)
            )
        self.count += int(bad.sum())
        if self.count > self.allowed:
            raise ValidationError(
                f"{self.first}; {self.count} bad rows in all, more than the "
                f"{MAX_REJECTED_SHARE:.1%} a replay may leave out (see {self.path})"
            )


@dataclass(frozen=True)
class LabelledOrders:
    """The replayed rows of a file, in time order.

    `frame` has the mapped fields as columns (`created_at` as UTC timestamps,
    `amount` as float, `is_fraud` as bool) and `row`, the 1-based data row of
    the file (the header not counted), for error messages.
    """

    frame: pd.DataFrame
    fields: tuple[str, ...]
    start: datetime  # the earliest moment read
    rejects: Rejects | None = field(default=None, compare=False)

    @property
    def card_field(self) -> str:
        """What identifies a card for card precision: the card, else the customer."""
        return (
            "card_fingerprint" if "card_fingerprint" in self.fields else "customer_id"
        )

    def between(self, start: datetime, end: datetime) -> pd.DataFrame:
        times = self.frame["created_at"]
        return self.frame[(times >= start) & (times < end)]


def mapping_resolve(path: Path, mapping: Mapping[str, str]) -> dict[str, str]:
    """field → column for this file: the mapping, plus columns named like a
    field that the mapping leaves out. Raises ValidationError naming a mapped
    column the file lacks, or a required field without a column."""
    columns = _file_columns(path)
    fields = dict(mapping)
    for column in columns:
        known = column in (*ORDER_FIELDS, TRUTH_FIELD) and column not in _UNMAPPABLE
        if known and column not in fields:
            fields[column] = column
    for field_name, column in fields.items():
        if column not in columns:
            raise ValidationError(
                f"column {column!r} (mapped to {field_name}) is not in {path.name} "
                f"(it has: {', '.join(columns)})"
            )
    for required in REQUIRED_FIELDS:
        if required not in fields:
            raise ValidationError(
                f"no column for {required!r}: map one with --map COLUMN={required}"
            )
    return fields


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def labelled_orders_read(
    path: Path,
    fields: Mapping[str, str],
    start: datetime,
    end: datetime,
    rejects_path: Path | None = None,
) -> LabelledOrders:
    """The file's rows with created_at in [start, end), checked and sorted by time.

    `fields` comes from `mapping_resolve`. A row whose time, amount or truth
    cannot be read is left out and listed in `rejects_path` (default
    PATH.rejects.csv); past MAX_REJECTED_SHARE of the file's rows, raises
    ValidationError naming the column and the row of the first bad value.
    """
    raw = _file_read(path, sorted(set(fields.values())))
    raw.insert(0, "row", np.arange(1, len(raw) + 1))
    rejects = Rejects(
        rejects_path or default_rejects_path(path),
        allowed=int(len(raw) * MAX_REJECTED_SHARE),
    )
    created = _times(raw, fields["created_at"], rejects)
    raw = raw[(created >= start) & (created < end)]
    amounts = _amounts(raw, fields["amount"], rejects)
    truth = _truth(raw, fields[TRUTH_FIELD], rejects)
    readable = ~np.isnan(amounts) & ~pd.isna(truth)
    raw = raw[readable]
    frame = pd.DataFrame(
        {"row": raw["row"], "created_at": created[raw.index]}, index=raw.index
    )
    frame["amount"] = amounts[readable]
    frame[TRUTH_FIELD] = truth[readable].astype(bool)
    for field_name, column in fields.items():
        if field_name not in frame:
            frame[field_name] = _texts(raw[column])
    frame = frame.sort_values(["created_at", "row"], kind="stable")
    return LabelledOrders(
        frame=frame.reset_index(drop=True),
        fields=tuple(sorted(fields)),
        start=start,
        rejects=rejects,
    )


def payloads_build(
    rows: pd.DataFrame, mapping: Mapping[str, str]
) -> Iterator[tuple[OrderIn, bool]]:
    """(OrderIn, is_fraud) per row, validated exactly as the API validates."""
    fields = [f for f in rows.columns if f in ORDER_FIELDS]
    for record in rows.to_dict("records"):
        data = {f: record[f] for f in fields if not _missing(record[f])}
        if "item_count" in data:
            data["item_count"] = _integer(data["item_count"])
        data["created_at"] = record["created_at"].to_pydatetime()
        data["amount"] = Decimal(round(record["amount"] * 100)).scaleb(-2)
        try:
            order = OrderIn.model_validate(data)
        except PayloadError as exc:
            error = exc.errors()[0]
            name = str(error["loc"][0]) if error["loc"] else ""
            column = mapping.get(name, name)
            raise ValidationError(
                f"row {record['row']}, column {column!r}: {error['msg']}"
            ) from None
        yield order, bool(record[TRUTH_FIELD])


# --- Files --------------------------------------------------------------------


def _file_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    kind = file_kind(path)
    try:
        if kind == "parquet":
            return list(pq.ParquetFile(path).schema_arrow.names)
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: cannot read it as {kind}: {exc}") from exc


def _file_read(path: Path, columns: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if file_kind(path) == "parquet":
        return pq.read_table(path, columns=columns).to_pandas()
    # Text as text: ids keep leading zeros, empty cells stay "".
    return pd.read_csv(path, usecols=columns, dtype=str, keep_default_na=False)


# --- Values -------------------------------------------------------------------


def _blank(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.strip()
    return (values.isna() | (text == "")).to_numpy()


def _times(raw: pd.DataFrame, column: str, rejects: Rejects) -> pd.Series:
    """UTC timestamps (NaT where unreadable, those rows rejected); naive values
    are UTC, numbers are Unix seconds."""
    values = raw[column]
    blank = _blank(values)
    rejects.add(raw, blank, column, "missing time")
    if pd.api.types.is_datetime64_any_dtype(values):
        times = pd.Series(values)
        if times.dt.tz is None:
            return times.dt.tz_localize("UTC")
        return times.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values, unit="s", utc=True)
    times = pd.to_datetime(
        values.where(~blank), errors="coerce", utc=True, format="mixed"
    )
    unreadable = times.isna().to_numpy() & ~blank
    rejects.add(raw, unreadable, column, "cannot read this as a time")
    return times


def _amounts(raw: pd.DataFrame, column: str, rejects: Rejects) -> np.ndarray:
    """Amounts as floats; NaN where unreadable, negative or not whole cents."""
    values = pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype=float)
    unreadable = np.isnan(values)
    rejects.add(raw, unreadable, column, "cannot read this as an amount")
    negative = values < 0
    rejects.add(raw, negative, column, "amounts must not be negative")
    cents = values * 100
    fractional = np.abs(cents - np.round(cents)) > 1e-6 * np.maximum(1, np.abs(cents))
    rejects.add(raw, fractional, column, "amounts must be whole cents")
    return np.where(unreadable | negative | fractional, np.nan, values)


def _truth(raw: pd.DataFrame, column: str, rejects: Rejects) -> np.ndarray:
    """True for fraud, False for legitimate, None where unreadable."""
    values = raw[column]
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=object)
    text = values.astype("string").str.strip().str.lower().fillna("")
    fraud = text.isin(FRAUD_VALUES).to_numpy()
    legit = text.isin(LEGIT_VALUES).to_numpy()
    unknown = ~(fraud | legit)
    rejects.add(
        raw, unknown, column, "the truth must be 1/0, true/false or fraud/legitimate"
    )
    truth = fraud.astype(object)
    truth[unknown] = None
    return truth


def _texts(values: pd.Series) -> pd.Series:
    """Ids as text: integer columns lose no digits and get no '.0'."""
    if pd.api.types.is_integer_dtype(values):
        return values.astype("int64").astype(str).astype(object)
    if pd.api.types.is_float_dtype(values):
        return values.map(
            lambda v: "" if math.isnan(v) else str(int(v)) if v.is_integer() else str(v)
        )
    return values.astype(object).where(values.notna(), "").map(str)


def _integer(value: object) -> object:
    """Whole numbers written as text or float become ints; the rest is left to
    OrderIn to refuse."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _missing(value: object) -> bool:
    return (
        value is None or value == "" or (isinstance(value, float) and math.isnan(value))
    )
