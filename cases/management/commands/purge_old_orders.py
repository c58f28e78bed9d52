from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from cases.services.retention import orders_purge


class Command(BaseCommand):
    help = "Delete orders older than RETENTION_DAYS (or --days) with their features."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Override RETENTION_DAYS.")

    def handle(self, *args: object, **options: int | None) -> None:
        before = None
        if options["days"] is not None:
            before = timezone.now() - timedelta(days=options["days"])
        report = orders_purge(before)
        self.stdout.write(
            f"Purged {report.orders} orders; {report.label_stats_kept} labels kept as "
            "daily aggregates."
        )
