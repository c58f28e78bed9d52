"""Fixtures of the dashboard's tests: the hand-worked day, a lead, a model."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.test import Client

from cases.models import ApiClient, Order
from cases.services.users import user_create
from models_ml.models import ModelVersion
from tests.dashboard.data import (
    D1,
    D2,
    PASSWORD,
    at,
    label,
    reviewed,
    scored_order,
)
from tests.factories import TenantFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The dashboard caches its rows; every test starts from the database."""
    cache.clear()
    yield
    cache.clear()


def world_build(client: ApiClient | None = None) -> dict[str, Order]:
    """Day 1: six orders, worked through by hand in the selector tests.

    order  score  decision  case            truth                     stopped
    o1     .95    decline   audit π=.25     legitimate (merchant)     yes
    o2     .80    review    high-risk       fraud (reviewer)          yes
    o3     .50    review    high-risk       fraud (chargeback over a  no
                                            reviewer's "legitimate")
    o4     .10    approve   —               fraud (chargeback)        no
    o5     .20    approve   audit π=.25     legitimate (reviewer)     no
    o6     .05    approve   audit π=.25     fraud (reviewer)          yes
    Day 2: o7 (.60, review, high-risk, decided fraud). o1 and o2 share card A.
    """
    o1 = scored_order(D1, 0.95, "30.00", card="card-A", client=client)
    reviewed(o1, "audit", "legitimate", pi=0.25)
    label(o1, "legitimate", "merchant", known_at=at(D1 + timedelta(days=3)))
    o2 = scored_order(D1, 0.80, "100.00", card="card-A", client=client)
    reviewed(o2, "high_risk", "fraud")
    o3 = scored_order(D1, 0.50, "50.00", card="card-B", client=client)
    reviewed(o3, "high_risk", "legitimate")
    label(o3, "fraud", "chargeback", known_at=at(D1 + timedelta(days=20)))
    o4 = scored_order(D1, 0.10, "20.00", card="card-C", client=client)
    label(o4, "fraud", "chargeback", known_at=at(D1 + timedelta(days=30)))
    o5 = scored_order(D1, 0.20, "10.00", card="card-D", client=client)
    reviewed(o5, "audit", "legitimate", pi=0.25)
    o6 = scored_order(D1, 0.05, "10.00", card="card-E", client=client)
    reviewed(o6, "audit", "fraud", pi=0.25)
    o7 = scored_order(D2, 0.60, "200.00", card="card-F", client=client)
    reviewed(o7, "high_risk", "fraud")
    return {"o1": o1, "o2": o2, "o3": o3, "o4": o4, "o5": o5, "o6": o6, "o7": o7}


@pytest.fixture
def world() -> dict[str, Order]:
    return world_build()


@pytest.fixture
def reviewers() -> tuple[AbstractBaseUser, AbstractBaseUser]:
    return (
        user_create("rev-one", PASSWORD, "reviewer", tenant=TenantFactory()),
        user_create("rev-two", PASSWORD, "reviewer", tenant=TenantFactory()),
    )


@pytest.fixture
def active() -> ModelVersion:
    version = ModelVersion.objects.create(
        tenant=TenantFactory(),
        status=ModelVersion.Status.ACTIVE,
        feature_names=["amount", "hour"],
        metrics={"holdout": {"ap": 0.5, "auc": 0.8, "p_at_k": 0.4, "brier": 0.1}},
    )
    ModelVersion.objects.filter(pk=version.pk).update(created_at=at(D1, 0))
    version.refresh_from_db()
    return version


@pytest.fixture
def lead_client() -> Client:
    client = Client()
    client.force_login(
        user_create("lead-dash", PASSWORD, "lead", tenant=TenantFactory())
    )
    return client


@pytest.fixture
def reviewer_client() -> Client:
    client = Client()
    client.force_login(
        user_create("reviewer-dash", PASSWORD, "reviewer", tenant=TenantFactory())
    )
    return client
