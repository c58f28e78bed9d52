"""Importing order history from warehouse exports (CSV or Parquet): no scoring.

A file is read chunk by chunk, so only one chunk of rows is ever held as Python
dicts. Each row is normalised (column mapping, timestamps by an optional format
and zone, integer ids as text, integer IPv4 addresses as dotted quads, float
amounts to cents), validated by `OrderIn` exactly as the API
does, and the valid rows of a chunk are stored by `orders_bulk_load` in one
transaction. Orders already stored for the client are skipped, so an interrupted
or repeated import can simply be run again.
"""

from __future__ import annotations

import csv
import hashlib
import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from django.core.exceptions import ValidationError
from pydantic import ValidationError as PayloadError

from cases.models import ApiClient, Label
from cases.schemas import OrderIn
from cases.services.bulk import orders_bulk_load

ORDER_FIELDS = tuple(OrderIn.model_fields)
REQUIRED_FIELDS = tuple(n for n, f in OrderIn.model_fields.items() if f.is_required())
# row: 1-based among data rows, the header not counted (CSV: line number - 1).
REJECT_COLUMNS = ("row", "order_id", "field", "value", "reason")
_DATETIME_FIELDS = frozenset({"created_at", "account_created_at"})
_NUMBER = re.compile(r"\d+(\.\d+)?")  # an epoch, not an ISO basic-format date
_IPV4_SPACE = 2**32
_CSV_ENCODING = "utf-8-sig"  # tolerates the BOM some exporters write


@dataclass(frozen=True)
class LabelSpec:
    """Which column holds the truth, which of its values mean fraud, and how long
    after the order the truth became known."""

    column: str
    fraud_values: frozenset[str] = frozenset({"1", "true", "fraud"})  # lower case
    delay: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class ReadSpec:
    """How to read values that exports write in their own ways.

    `time_format`: a strptime format for timestamps (e.g. US-style
    `%m/%d/%Y %H:%M`); `timezone`: the zone of naive timestamps (default UTC);
    `generate_order_ids`: the file has no order id column, so each row gets
    `gen-` + a hash of its mapped values (a re-run of the same file gives the
    same ids, so the import stays idempotent; two identical rows are one order).
    """

    time_format: str | None = None
    timezone: tzinfo = UTC
    generate_order_ids: bool = False


@dataclass
class ImportReport:
    read: int = 0
    stored: int = 0
    already_present: int = 0
    rejected: int = 0
    labels: int = 0
    rejects_path: Path | None = None

    def summary(self) -> str:
        return (
            f"read {self.read} / stored {self.stored} / "
            f"already present {self.already_present} / rejected {self.rejected} / "
            f"labels {self.labels} (rejects: {self.rejects_path})"
        )


@dataclass
class _Plan:
    """Which source column feeds which OrderIn field, and which go to attributes."""

    fields: dict[str, str]  # source column -> OrderIn field
    extras: list[str] = field(default_factory=list)
    label: LabelSpec | None = None
    read: ReadSpec = field(default_factory=ReadSpec)

    @property
    def columns(self) -> list[str]:
        label = [self.label.column] if self.label else []
        return list(dict.fromkeys([*self.fields, *self.extras, *label]))


def column_mapping_parse(items: Sequence[str]) -> dict[str, str]:
    """Turn `["TX_ID=order_id", ...]` into `{"TX_ID": "order_id"}`, checking fields."""
    mapping: dict[str, str] = {}
    for item in items:
        source, sep, target = item.rpartition("=")
        if not sep or not source or not target:
            raise ValidationError(f"--map {item!r}: expected SOURCE_COLUMN=FIELD")
        if target not in ORDER_FIELDS:
            raise ValidationError(
                f"--map {item!r}: {target!r} is not an order field "
                f"(one of: {', '.join(ORDER_FIELDS)})"
            )
        if target in mapping.values():
            raise ValidationError(f"--map {item!r}: field {target!r} is mapped twice")
        mapping[source] = target
    return mapping


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def orders_file_row_count(path: Path) -> int | None:
    """Rows in the file if known without reading it (Parquet), else None."""
    return _file_header(path)[2]


def orders_import_file(
    path: Path,
    *,
    client: ApiClient,
    mapping: Mapping[str, str] | None = None,
    rejects_path: Path | None = None,
    chunk_size: int = 5000,
    extra_to_attributes: bool = False,
    label: LabelSpec | None = None,
    read: ReadSpec | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store the file's valid orders for `client`; write one rejects line per error.

    Idempotent: an order_id already stored for the client (by an earlier run, an
    earlier chunk, or an earlier row of the same file) is skipped and counted as
    already present; a label is added only together with its order. Each chunk
    commits on its own, so a failed run keeps what it stored and can be re-run.
    Raises ValidationError before reading any row when a mapped column, a
    required field or the label column is missing, or the file type is unknown.
    `on_progress` is called with the number of rows read after each chunk.
    """
    if chunk_size < 1:
        raise ValidationError("chunk size must be at least 1")
    kind, columns, _rows = _file_header(path)
    plan = _plan(
        columns, mapping or {}, label, read or ReadSpec(), extras=extra_to_attributes
    )
    rejects_path = rejects_path or default_rejects_path(path)
    report = ImportReport(rejects_path=rejects_path)
    # Rewritten on every run, so a stale file never outlives a fixed import.
    with rejects_path.open("w", newline="", encoding="utf-8") as rejects_file:
        rejects = csv.writer(rejects_file)
        rejects.writerow(REJECT_COLUMNS)
        for rows in _chunks(path, kind, plan.columns, chunk_size):
            _chunk_import(rows, report.read + 1, client, plan, rejects, report)
            report.read += len(rows)
            if on_progress is not None:
                on_progress(len(rows))
    return report


def _chunk_import(
    rows: list[dict[str, Any]],
    first_row: int,
    client: ApiClient,
    plan: _Plan,
    rejects: Any,
    report: ImportReport,
) -> None:
    payloads: dict[str, OrderIn] = {}
    labels: list[tuple[str, str, datetime]] = []
    rejected = 0
    delay = plan.label.delay if plan.label else timedelta(0)
    for number, row in enumerate(rows, start=first_row):
        data = _payload(row, plan)
        try:
            order = OrderIn.model_validate(data)
        except PayloadError as exc:
            rejected += 1
            rejects.writerows(
                _reject_line(number, data, err, plan.read) for err in exc.errors()
            )
            continue
        if order.order_id in payloads:
            continue  # a repeat within the file counts as already present
        payloads[order.order_id] = order
        value = _label_value(row, plan.label)
        if value is not None:
            labels.append((order.order_id, value, order.created_at + delay))
    stored, labelled = orders_bulk_load(client, list(payloads.values()), labels)
    report.stored += stored
    report.labels += labelled
    report.rejected += rejected
    report.already_present += len(rows) - rejected - stored


def _reject_line(
    number: int, data: Mapping[str, Any], error: Any, read: ReadSpec
) -> list[Any]:
    # Only the top-level name: union members add validator names to the loc.
    name = str(error["loc"][0]) if error["loc"] else ""
    reason = error["msg"]
    if name in _DATETIME_FIELDS and read.time_format is None:
        reason += " (for another layout, pass --time-format, e.g. '%m/%d/%Y %H:%M')"
    value = "" if name not in data else str(data[name])[:200]
    return [number, data.get("order_id", ""), name, value, reason]


# --- Files --------------------------------------------------------------------


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        kind = "parquet"
    elif name.endswith((".csv", ".csv.gz")):
        kind = "csv"
    else:
        raise ValidationError(
            f"{path}: unknown file type (expected .csv, .csv.gz, .parquet or .pq)"
        )
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    return kind


def _file_header(path: Path) -> tuple[str, list[str], int | None]:
    """The file's kind, column names and, for Parquet, row count."""
    kind = _file_kind(path)
    try:
        if kind == "parquet":
            file = pq.ParquetFile(path)
            return kind, list(file.schema_arrow.names), file.metadata.num_rows
        header = pd.read_csv(path, nrows=0, encoding=_CSV_ENCODING)
    except (OSError, ValueError) as exc:  # Arrow's and pandas' errors included
        raise ValidationError(f"{path}: cannot read it as {kind}: {exc}") from exc
    return kind, [str(c) for c in header.columns], None


def _chunks(
    path: Path, kind: str, columns: list[str], size: int
) -> Iterator[list[dict[str, Any]]]:
    if kind == "parquet":
        for batch in pq.ParquetFile(path).iter_batches(
            batch_size=size, columns=columns
        ):
            yield batch.to_pylist()
        return
    # Text as text: ids and postcodes keep leading zeros; empty cells stay "".
    reader = pd.read_csv(
        path,
        usecols=columns,
        dtype=str,
        keep_default_na=False,
        chunksize=size,
        encoding=_CSV_ENCODING,
    )
    with reader:
        for frame in reader:
            yield frame.to_dict("records")


def _plan(
    columns: list[str],
    mapping: Mapping[str, str],
    label: LabelSpec | None,
    read: ReadSpec,
    *,
    extras: bool,
) -> _Plan:
    """Mapped columns first; then columns named like an order field that no
    mapping replaces; the rest go to attributes when `extras`, else are ignored."""
    label_columns = [label.column] if label else []
    for source in [*mapping, *label_columns]:
        if source not in columns:
            raise ValidationError(
                f"column {source!r} is not in the file (it has: {', '.join(columns)})"
            )
    fields = dict(mapping)
    for column in columns:
        if (
            column in ORDER_FIELDS
            and column not in fields
            and column not in label_columns
            and column not in mapping.values()
        ):
            fields[column] = column
    generated = {"order_id"} if read.generate_order_ids else set()
    if generated & set(fields.values()):
        raise ValidationError(
            "the file has an order id column: drop --generate-order-id, "
            "or the file's ids would be replaced"
        )
    for required in REQUIRED_FIELDS:
        if required not in fields.values() and required not in generated:
            hint = " or pass --generate-order-id" if required == "order_id" else ""
            raise ValidationError(
                f"the file has no column for required field {required!r}: "
                f"map one with --map COLUMN={required}{hint}"
            )
    used = {*fields, *label_columns}
    rest = [c for c in columns if c not in used] if extras else []
    return _Plan(fields=fields, extras=rest, label=label, read=read)


# --- Rows ---------------------------------------------------------------------


def _payload(row: Mapping[str, Any], plan: _Plan) -> dict[str, Any]:
    """The OrderIn input for one row; a missing value leaves the field's default."""
    data: dict[str, Any] = {}
    for source, name in plan.fields.items():
        value = row[source]
        if _missing(value):
            continue
        if name in _DATETIME_FIELDS:
            data[name] = _datetime(value, plan.read)
        else:
            data[name] = _CONVERTERS.get(name, _text)(value)
    if plan.read.generate_order_ids:
        data["order_id"] = _generated_order_id(row, plan)
    extras = {c: _json_value(row[c]) for c in plan.extras if not _missing(row[c])}
    if extras:
        attributes = data.get("attributes", {})
        # A malformed attributes value is left for OrderIn to reject.
        data["attributes"] = (
            {**extras, **attributes} if isinstance(attributes, dict) else attributes
        )
    return data


def _missing(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or (isinstance(value, float) and math.isnan(value))
        or value is pd.NaT
    )


def _generated_order_id(row: Mapping[str, Any], plan: _Plan) -> str:
    values = [str(row[source]) for source in plan.fields]
    digest = hashlib.sha256(json.dumps(values).encode()).hexdigest()
    return f"gen-{digest[:24]}"


def _datetime(value: Any, read: ReadSpec) -> Any:
    """Naive means the import's time zone (UTC by default). With a time format,
    text is parsed by it. Epoch seconds or millis (numbers or digit strings;
    above 2e10 read as millis, as pydantic does) become UTC datetimes."""
    if isinstance(value, str) and read.time_format is not None:
        try:
            value = datetime.strptime(value.strip(), read.time_format)
        except ValueError:
            return value  # OrderIn says what is wrong with it
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > 2e10 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return value  # OrderIn says what is wrong with it
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # OrderIn says what is wrong with it
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=read.timezone)
    return value


def _amount(value: Any) -> Any:
    """A float within rounding noise of whole cents becomes that Decimal; any other
    float keeps its digits so OrderIn rejects it for its decimal places."""
    if isinstance(value, float):
        cents = round(value * 100)
        if math.isclose(value * 100, cents, rel_tol=1e-9, abs_tol=1e-6):
            return Decimal(cents).scaleb(-2)
        return Decimal(repr(value))
    return value


def _text(value: Any) -> Any:
    """Warehouse ids are often integer columns; the API's fields are text."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _ip_address(value: Any) -> Any:
    """Exports often keep IPv4 addresses as integers (or floats, with noise
    after the point): 3232235777 is 192.168.1.1. Text stays text."""
    number = value
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value)
    if isinstance(number, int | float) and not isinstance(number, bool):
        if 0 <= number < _IPV4_SPACE:
            return str(ipaddress.IPv4Address(int(number)))
        return str(value)  # OrderIn says what is wrong with it
    return value


def _attributes(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _passthrough(value: Any) -> Any:
    return value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "amount": _amount,
    "attributes": _attributes,
    "ip_address": _ip_address,
    "item_count": _passthrough,
}


def _json_value(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str))
    return str(value)


def _label_value(row: Mapping[str, Any], label: LabelSpec | None) -> str | None:
    if label is None or _missing(row[label.column]):
        return None
    raw = row[label.column]
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    else:
        text = str(_text(raw)).strip().lower()
    return Label.Value.FRAUD if text in label.fraud_values else Label.Value.LEGITIMATE
