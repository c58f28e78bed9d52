"""Load a warehouse export (CSV or Parquet) into Orders; see services/imports.py."""

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from cases.services.bulk import import_client
from cases.services.imports import (
    LabelSpec,
    ReadSpec,
    column_mapping_parse,
    orders_file_row_count,
    orders_import_file,
)


class Command(BaseCommand):
    help = (
        "Import orders from a CSV or Parquet export, validated like the API. "
        "Idempotent: orders already stored for the client are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="SOURCE_COLUMN=FIELD",
            help="Read an order field from a differently named column (repeatable).",
        )
        parser.add_argument(
            "--extra-to-attributes",
            action="store_true",
            help="Put unmapped, non-field columns into attributes (default: ignore).",
        )
        parser.add_argument(
            "--client",
            default="warehouse-import",
            help="The API client the orders belong to, and so its tenant; a "
            "new name makes a client in the tenant of that name (a new one "
            "unless it exists). To load a tenant's history, create its client "
            "first: create_api_client NAME --tenant TENANT.",
        )
        parser.add_argument(
            "--rejects", type=Path, help="Default: PATH.rejects.csv next to the input."
        )
        parser.add_argument("--chunk-size", type=int, default=5000)
        parser.add_argument("--label-column", help="Column holding the truth.")
        parser.add_argument(
            "--fraud-values",
            default="1,true,fraud",
            help="Comma-separated label values meaning fraud; any other is legit.",
        )
        parser.add_argument("--label-delay-days", type=float, default=7)
        parser.add_argument(
            "--time-format",
            help="strptime format of the file's timestamps, e.g. '%%m/%%d/%%Y %%H:%%M' "
            "(default: ISO 8601 or epoch seconds/millis).",
        )
        parser.add_argument(
            "--timezone",
            default="UTC",
            help="Time zone of timestamps without one, e.g. America/New_York.",
        )
        parser.add_argument(
            "--generate-order-id",
            action="store_true",
            help="The file has no order id: derive one from each row's values.",
        )

    def handle(self, *args: object, **options: Any) -> None:
        if options["label_delay_days"] < 0:
            raise CommandError("--label-delay-days must not be negative")
        label = None
        if options["label_column"]:
            label = LabelSpec(
                column=options["label_column"],
                fraud_values=frozenset(
                    v.strip().lower() for v in options["fraud_values"].split(",")
                ),
                delay=timedelta(days=options["label_delay_days"]),
            )
        try:
            zone = ZoneInfo(options["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(f"--timezone {options['timezone']!r}: unknown") from exc
        read = ReadSpec(
            time_format=options["time_format"],
            timezone=zone,
            generate_order_ids=options["generate_order_id"],
        )
        path = options["path"]
        try:
            mapping = column_mapping_parse(options["map"])
            total = orders_file_row_count(path)
            with tqdm(
                total=total,
                unit="row",
                file=sys.stderr,
                disable=options["verbosity"] == 0,
            ) as bar:
                report = orders_import_file(
                    path,
                    client=import_client(options["client"]),
                    mapping=mapping,
                    rejects_path=options["rejects"],
                    chunk_size=options["chunk_size"],
                    extra_to_attributes=options["extra_to_attributes"],
                    label=label,
                    read=read,
                    on_progress=bar.update,
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(report.summary())
