"""Personas and case builders shared by the workbench (HTML) tests."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from cases.models import Case, Claim
from cases.services.users import user_create
from tests.factories import CaseFactory, OrderFactory, TenantFactory

PASSWORD = "correct-horse-battery-9"
CASE_FIELDS = {"status", "probability", "priority", "queue_reason"}


@pytest.fixture
def reviewer(db: None) -> AbstractBaseUser:
    return user_create("reviewer-one", PASSWORD, "reviewer", tenant=TenantFactory())


@pytest.fixture
def second_reviewer(db: None) -> AbstractBaseUser:
    return user_create("reviewer-two", PASSWORD, "reviewer", tenant=TenantFactory())


@pytest.fixture
def lead(db: None) -> AbstractBaseUser:
    return user_create("lead-one", PASSWORD, "lead", tenant=TenantFactory())


@pytest.fixture
def site_admin(db: None) -> AbstractBaseUser:
    return user_create("admin-one", PASSWORD, "admin", tenant=TenantFactory())


@pytest.fixture
def outsider(db: None) -> AbstractBaseUser:
    """Signed in, but in no role."""
    return get_user_model().objects.create_user("outsider-one", password=PASSWORD)


@pytest.fixture
def make_case(db: None) -> Callable[..., Case]:
    """A case on a fresh order; case fields and order fields in one call."""

    def make(**fields: object) -> Case:
        case_fields = {k: fields.pop(k) for k in CASE_FIELDS & fields.keys()}
        case_fields.setdefault("probability", 0.5)
        return CaseFactory(order=OrderFactory(**fields), **case_fields)

    return make


def claim_for(case: Case, user: AbstractBaseUser, *, minutes: int = 15) -> Claim:
    """A lease written directly, ending `minutes` from now (negative: expired)."""
    return Claim.objects.create(
        case=case, reviewer=user, expires_at=timezone.now() + timedelta(minutes=minutes)
    )
