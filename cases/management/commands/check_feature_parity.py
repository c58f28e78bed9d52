"""python manage.py check_feature_parity [--share 0.01] [--days 7]: the
features served with scores against the offline backfill, on a sample."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from cases.services.feature_audit import features_mismatch_count


class Command(BaseCommand):
    help = (
        "Recompute offline the features of the orders of a sample of customers "
        "and count where the served ones differ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--share", type=float, default=0.01)
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        since = timezone.now() - timedelta(days=options["days"])
        report = features_mismatch_count(options["share"], since)
        self.stdout.write(
            f"{report.mismatched} of {report.orders} sampled orders differ"
            + (f": {report.by_feature}" if report.by_feature else ".")
        )
