"""Demo history: generated orders, the older three quarters already labelled."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser

from cases.models import Label
from cases.schemas import OrderIn
from cases.services.bulk import import_client, orders_bulk_load
from lab.demo_data import TRUTH_KEYS, generate_orders

LABEL_DELAY = timedelta(days=7)
LABELLED_SHARE = 0.75


class Command(BaseCommand):
    help = "Load N generated demo orders; label the older 75 % (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args: object, **options: int) -> None:
        rows = generate_orders(
            options["orders"], seed=options["seed"], days=options["days"]
        )
        payloads = [
            OrderIn.model_validate(
                {k: v for k, v in row.items() if k not in TRUTH_KEYS}
            )
            for row in rows
        ]
        cutoff = int(len(rows) * LABELLED_SHARE)
        labels = [
            (
                row["order_id"],
                Label.Value.FRAUD if row["is_fraud"] else Label.Value.LEGITIMATE,
                row["created_at"] + LABEL_DELAY,
            )
            for row in rows[:cutoff]
        ]
        orders, labelled = orders_bulk_load(import_client("demo"), payloads, labels)
        self.stdout.write(f"Stored {orders} new demo orders, {labelled} labels.")
