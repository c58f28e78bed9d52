"""Demo data: a month of generated orders ending today (see lab/demo_seed.py)."""

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from lab.demo_seed import demo_history_load, demo_seed


class Command(BaseCommand):
    help = (
        "Seed the demo: labelled history, a first model, the last week through "
        "intake with reviewed and open cases (once; a second run does nothing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument(
            "--history-only",
            action="store_true",
            help="Only unscored history from a fixed date, the older 75 %% "
            "labelled (the benchmarks' world); idempotent.",
        )

    def handle(self, *args: object, **options: int) -> None:
        if options["history_only"]:
            stored, labelled = demo_history_load(
                options["orders"], options["seed"], options["days"]
            )
            self.stdout.write(f"Stored {stored} new demo orders, {labelled} labels.")
            return
        report = demo_seed(
            options["orders"], options["seed"], options["days"], timezone.now()
        )
        if report is None:
            self.stdout.write("Demo data already seeded: nothing to do.")
        else:
            self.stdout.write(report.summary())
