"""Importing order history from warehouse exports (CSV or Parquet): no scoring.

A file is read chunk by chunk, so only one chunk of rows is ever held as Python
dicts. Each row is normalised by `import_rows` (column mapping, timestamps by
an optional format and zone, integer ids as text, integer IPv4 addresses as
dotted quads, float amounts to cents), validated by `OrderIn` exactly as the
API does, and the valid rows of a chunk are stored by `orders_bulk_load` in one
transaction. Orders already stored for the client are skipped, so an
interrupted or repeated import can simply be run again.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from django.core.exceptions import ValidationError
from pydantic import ValidationError as PayloadError

from cases.models import ApiClient
from cases.schemas import OrderIn
from cases.services.bulk import bulk_tables_analyze, orders_bulk_load
from cases.services.feature_rebuild import entity_values_add, feature_tiles_refresh
from cases.services.import_rows import (
    DATETIME_FIELDS,
    ORDER_FIELDS,
    ImportPlan,
    LabelSpec,
    ReadSpec,
    import_plan,
    row_label_value,
    row_payload,
)

__all__ = ["LabelSpec", "ReadSpec", "column_mapping_parse", "orders_import_file"]

# row: 1-based among data rows, the header not counted (CSV: line number - 1).
REJECT_COLUMNS = ("row", "order_id", "field", "value", "reason")
_CSV_ENCODING = "utf-8-sig"  # tolerates the BOM some exporters write


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

    The feature tiles of every entity in the file's valid rows are recomputed
    once, after the last chunk; a run that stops before that leaves them to
    the next run of the same file (or to `rebuild_feature_tiles`).
    """
    if chunk_size < 1:
        raise ValidationError("chunk size must be at least 1")
    kind, columns, _rows = _file_header(path)
    plan = import_plan(
        columns, mapping or {}, label, read or ReadSpec(), extras=extra_to_attributes
    )
    rejects_path = rejects_path or default_rejects_path(path)
    report = ImportReport(rejects_path=rejects_path)
    # Rewritten on every run, so a stale file never outlives a fixed import.
    with rejects_path.open("w", newline="", encoding="utf-8") as rejects_file:
        rejects = csv.writer(rejects_file)
        rejects.writerow(REJECT_COLUMNS)
        entities: dict[str, set[str]] = {}
        for rows in _chunks(path, kind, plan.columns, chunk_size):
            payloads = _chunk_import(
                rows, report.read + 1, client, plan, rejects, report
            )
            entity_values_add(entities, (p.model_fields_for_db() for p in payloads))
            report.read += len(rows)
            if on_progress is not None:
                on_progress(len(rows))
    feature_tiles_refresh(client.tenant_id, entities)
    bulk_tables_analyze()
    return report


def _chunk_import(
    rows: list[dict[str, Any]],
    first_row: int,
    client: ApiClient,
    plan: ImportPlan,
    rejects: Any,
    report: ImportReport,
) -> list[OrderIn]:
    payloads: dict[str, OrderIn] = {}
    labels: list[tuple[str, str, datetime]] = []
    rejected = 0
    delay = plan.label.delay if plan.label else timedelta(0)
    for number, row in enumerate(rows, start=first_row):
        data = row_payload(row, plan)
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
        value = row_label_value(row, plan.label)
        if value is not None:
            labels.append((order.order_id, value, order.created_at + delay))
    stored, labelled = orders_bulk_load(
        client, list(payloads.values()), labels, tiles=False
    )
    report.stored += stored
    report.labels += labelled
    report.rejected += rejected
    report.already_present += len(rows) - rejected - stored
    return list(payloads.values())


def _reject_line(
    number: int, data: Mapping[str, Any], error: Any, read: ReadSpec
) -> list[Any]:
    # Only the top-level name: union members add validator names to the loc.
    name = str(error["loc"][0]) if error["loc"] else ""
    reason = error["msg"]
    if name in DATETIME_FIELDS and read.time_format is None:
        reason += " (for another layout, pass --time-format, e.g. '%m/%d/%Y %H:%M')"
    value = "" if name not in data else str(data[name])[:200]
    return [number, data.get("order_id", ""), name, value, reason]


# --- Files --------------------------------------------------------------------


def file_kind(path: Path) -> str:
    """ "parquet" or "csv" by the file's name; ValidationError naming the file
    when the name says neither or there is no such file."""
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
    kind = file_kind(path)
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
