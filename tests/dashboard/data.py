"""Hand-built metrics data for the dashboard's tests."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser

from cases.models import ApiClient, Case, Claim, Label, Order
from dashboard.selectors import common
from models_ml.models import ModelVersion, Score
from models_ml.scoring import decision_for
from tests.factories import CaseFactory, OrderFactory

PASSWORD = "correct-horse-battery-9"


D0, D1, D2 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


DAY1 = common.MetricsWindow(D1, D1)


BOTH = common.MetricsWindow(D1, D2)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)


def scored_order(
    day: date,
    p: float,
    amount: str = "100.00",
    card: str = "",
    version: ModelVersion | None = None,
    features: dict | None = None,
    client: ApiClient | None = None,
) -> Order:
    """An order of `client` (a client of the "default" tenant if None)."""
    more = {} if client is None else {"client": client}
    order = OrderFactory(
        created_at=at(day), amount=Decimal(amount), card_fingerprint=card, **more
    )
    Score.objects.create(
        order=order,
        probability=p,
        decision=decision_for(p),
        model_version=version,
        features=features or {},
    )
    return order


def reviewed(
    order: Order, reason: str, value: str, pi: float = 1.0, status: str = "decided"
) -> Case:
    """A case on `order` decided `value` by a reviewer an hour after the order."""
    case = Case.objects.create(
        order=order,
        tenant_id=order.tenant_id,
        priority=1.0,
        queue_reason=reason,
        selection_probability=pi,
        status=status,
        decided_at=order.created_at + timedelta(hours=1),
    )
    label(order, value, case=case)
    return case


def label(
    order: Order,
    value: str,
    source: str = "reviewer",
    case: Case | None = None,
    known_at: datetime | None = None,
    by: AbstractBaseUser | None = None,
    reasons: tuple[str, ...] = (),
) -> Label:
    return Label.objects.create(
        order=order,
        case=case,
        value=value,
        source=source,
        created_by=by,
        reasons=list(reasons),
        known_at=known_at or order.created_at + timedelta(hours=1),
    )


def case_created(day: date, status: str = "open", decided: date | None = None) -> Case:
    case = CaseFactory(priority=1.0, queue_reason="high_risk", status=status)
    Case.objects.filter(pk=case.pk).update(
        created_at=at(day, 9), decided_at=at(decided, 15) if decided else None
    )
    return case


def claim(case: Case, user: AbstractBaseUser, start: datetime, seconds: int) -> None:
    claim = Claim.objects.create(
        case=case,
        reviewer=user,
        expires_at=start + timedelta(minutes=15),
        released_at=start + timedelta(seconds=seconds),
        end=Claim.End.DECIDED,
    )
    Claim.objects.filter(pk=claim.pk).update(claimed_at=start)
