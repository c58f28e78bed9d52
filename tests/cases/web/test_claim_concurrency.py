"""Claiming on the real PostgreSQL: many reviewers, one decision per case.

The threads open their own database connections, so these tests commit
(transaction=True); serialized_rollback brings back the roles and reason
codes the migrations created, which the flush after each test removes.
"""

import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from cases.exceptions import LeaseLost
from cases.models import AuditEvent, Case, Claim, Label, Order
from cases.selectors import queue_page
from cases.services.review import case_claim, case_claim_next, case_decide
from cases.services.users import user_create
from tests.cases.web.conftest import PASSWORD
from tests.factories import BASE_TIME, ApiClientFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REVIEWERS = 20
CASES = 500
ROUNDS = 2


def _open_cases(n: int, tag: str) -> list[int]:
    client = ApiClientFactory()
    orders = Order.objects.bulk_create(
        Order(
            client=client,
            tenant_id=client.tenant_id,
            order_id=f"{tag}-{i}",
            created_at=BASE_TIME + timedelta(seconds=i),
            amount=Decimal(10 + i % 90),
            customer_id=f"cust-{i}",
        )
        for i in range(n)
    )
    cases = Case.objects.bulk_create(
        Case(
            order=o,
            tenant_id=o.tenant_id,
            probability=0.5,
            priority=float(i % 37),  # many ties: the id breaks them
            queue_reason=Case.QueueReason.HIGH_RISK,
        )
        for i, o in enumerate(orders)
    )
    return [c.pk for c in cases]


def _drain(user, decided: list[int], errors: list[BaseException], start) -> None:
    """Claim and decide until the queue is empty; runs in its own thread."""
    try:
        start.wait()
        while (claim := case_claim_next(user)) is not None:
            case_decide(claim.pk, user, value="fraud", reasons=["other"], note="")
            decided.append(claim.case_id)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        connection.close()


@pytest.fixture
def reviewers() -> list:
    return [
        user_create(f"r{i}", PASSWORD, "reviewer", tenant=TenantFactory())
        for i in range(REVIEWERS)
    ]


@pytest.mark.slow
def test_concurrent_reviewers_decide_every_case_exactly_once(settings, reviewers):
    settings.QA_SHARE = 0
    for round_ in range(ROUNDS):
        case_ids = _open_cases(CASES, f"round{round_}")
        decided: list[int] = []
        errors: list[BaseException] = []
        start = threading.Barrier(REVIEWERS)
        threads = [
            threading.Thread(target=_drain, args=(user, decided, errors, start))
            for user in reviewers
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)

        assert errors == []
        assert [n for n in Counter(decided).values() if n > 1] == []
        assert sorted(decided) == sorted(case_ids)
        labels = Counter(
            Label.objects.filter(case_id__in=case_ids).values_list("case_id", flat=True)
        )
        assert set(labels) == set(case_ids)
        assert set(labels.values()) == {1}
        assert not Case.objects.filter(pk__in=case_ids).pending().exists()
        assert (
            AuditEvent.objects.filter(
                action="case.decided", object_id__in=map(str, case_ids)
            ).count()
            == CASES
        )
    decided_claims = Claim.objects.filter(end=Claim.End.DECIDED).values("case")
    assert not decided_claims.annotate(n=Count("id")).filter(n__gt=1).exists()


@pytest.fixture
def two_reviewers() -> tuple:
    return (
        user_create("first", PASSWORD, "reviewer", tenant=TenantFactory()),
        user_create("second", PASSWORD, "reviewer", tenant=TenantFactory()),
    )


def _after_lease() -> time_machine.travel:
    later = timezone.now() + timedelta(minutes=django_settings.CASE_LEASE_MINUTES + 1)
    return time_machine.travel(later, tick=True)


def test_expired_lease_returns_the_case_to_the_queue(two_reviewers):
    first, second = two_reviewers
    (case_id,) = _open_cases(1, "expiry")
    case_claim_next(first)

    with _after_lease():
        assert (
            queue_page({}, page_size=10, tenant=TenantFactory()).cases[0].assignee
            is None
        )
        taken = case_claim_next(second)

    assert taken.case_id == case_id


def test_decision_under_an_expired_lease_raises_and_stores_nothing(two_reviewers):
    first, _second = two_reviewers
    _open_cases(1, "expired")
    claim = case_claim_next(first)

    with _after_lease(), pytest.raises(LeaseLost):
        case_decide(claim.pk, first, value="fraud", reasons=["other"], note="")

    assert Label.objects.count() == 0
    assert not AuditEvent.objects.filter(action="case.decided").exists()
    assert Case.objects.get().status == Case.Status.OPEN


def test_decision_under_a_taken_over_lease_raises_and_stores_nothing(two_reviewers):
    first, second = two_reviewers
    _open_cases(1, "taken")
    stale = case_claim_next(first)
    Claim.objects.filter(pk=stale.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    taken = case_claim(stale.case, second)

    with pytest.raises(LeaseLost):
        case_decide(stale.pk, first, value="fraud", reasons=["other"], note="")

    stale.refresh_from_db()
    assert (stale.end, taken.reviewer) == (Claim.End.EXPIRED, second)
    assert Label.objects.count() == 0
    case_decide(taken.pk, second, value="legitimate", reasons=["other"], note="")
    assert list(Label.objects.values_list("created_by__username", flat=True)) == [
        "second"
    ]
