"""python manage.py rebuild_feature_tiles: the online feature state from the
stored orders and labels, after a restore, a schema change or a new feature."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from cases.services.feature_rebuild import feature_tiles_rebuild


class Command(BaseCommand):
    help = "Rebuild the online feature tiles from the stored orders and labels."

    def handle(self, *args: Any, **options: Any) -> None:
        bar = tqdm(unit="tenant", desc="feature tiles", file=self.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        events = feature_tiles_rebuild(progress)
        bar.close()
        self.stdout.write(f"Rebuilt the feature tiles from {events:,} events.")
