"""One row of an exported file → the `OrderIn` input and the label it carries.

How a file's columns map to order fields (`import_plan`), and how each value
is normalised: timestamps by an optional format and zone, integer ids as text,
integer IPv4 addresses as dotted quads, float amounts to cents.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError

from cases.models import Label
from cases.schemas import OrderIn

ORDER_FIELDS = tuple(OrderIn.model_fields)
REQUIRED_FIELDS = tuple(n for n, f in OrderIn.model_fields.items() if f.is_required())
DATETIME_FIELDS = frozenset({"created_at", "account_created_at"})
_NUMBER = re.compile(r"\d+(\.\d+)?")  # an epoch, not an ISO basic-format date
_IPV4_SPACE = 2**32


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
class ImportPlan:
    """Which source column feeds which OrderIn field, and which go to attributes."""

    fields: dict[str, str]  # source column -> OrderIn field
    extras: list[str] = field(default_factory=list)
    label: LabelSpec | None = None
    read: ReadSpec = field(default_factory=ReadSpec)

    @property
    def columns(self) -> list[str]:
        label = [self.label.column] if self.label else []
        return list(dict.fromkeys([*self.fields, *self.extras, *label]))


def import_plan(
    columns: list[str],
    mapping: Mapping[str, str],
    label: LabelSpec | None,
    read: ReadSpec,
    *,
    extras: bool,
) -> ImportPlan:
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
    return ImportPlan(fields=fields, extras=rest, label=label, read=read)


# --- Rows ---------------------------------------------------------------------


def row_payload(row: Mapping[str, Any], plan: ImportPlan) -> dict[str, Any]:
    """The OrderIn input for one row; a missing value leaves the field's default."""
    data: dict[str, Any] = {}
    for source, name in plan.fields.items():
        value = row[source]
        if _missing(value):
            continue
        if name in DATETIME_FIELDS:
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


def _generated_order_id(row: Mapping[str, Any], plan: ImportPlan) -> str:
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


def row_label_value(row: Mapping[str, Any], label: LabelSpec | None) -> str | None:
    if label is None or _missing(row[label.column]):
        return None
    raw = row[label.column]
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    else:
        text = str(_text(raw)).strip().lower()
    return Label.Value.FRAUD if text in label.fraud_values else Label.Value.LEGITIMATE
