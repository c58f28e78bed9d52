"""The queue's total: exact while counting is cheap, estimated beyond."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import OuterRef, QuerySet
from django.utils import timezone

from cases.models import Claim
from cases.selectors import _filtered
from tenants.models import Tenant

# Counting stops here: up to this many rows PostgreSQL walks an index in a few
# milliseconds; past it the planner's estimate stands in, labelled as such.
EXACT_UP_TO = 10_000


@dataclass(frozen=True)
class QueueCount:
    value: int
    exact: bool
    # Counted exactly up to this many; an estimate beyond.
    exact_up_to: int = EXACT_UP_TO


def queue_count(filters: dict[str, Any], tenant: Tenant) -> QueueCount:
    """How many of the tenant's cases match the queue's filters (all pages)."""
    live = Claim.objects.filter(
        case=OuterRef("pk"), released_at__isnull=True, expires_at__gt=timezone.now()
    )
    cases = _filtered(tenant, filters, live).order_by()
    counted = cases[: EXACT_UP_TO + 1].count()
    if counted <= EXACT_UP_TO:
        return QueueCount(counted, exact=True, exact_up_to=EXACT_UP_TO)
    estimate = max(_planner_rows(cases), EXACT_UP_TO + 1)
    return QueueCount(estimate, exact=False, exact_up_to=EXACT_UP_TO)


def _planner_rows(query: QuerySet) -> int:
    """The planner's row estimate for the query (EXPLAIN, not run)."""
    sql, params = query.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
