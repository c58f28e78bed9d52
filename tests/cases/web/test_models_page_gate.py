"""The models page shows each version's gate comparison."""

import pytest
from django.test import Client

from models_ml.models import ModelVersion
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

GATE = {
    "source": "audit",
    "cases": 412,
    "frauds": 37,
    "population": 8240.0,
    "effective_cases": 96.4,
    "effective_frauds": 3.2,
    "k_share": 0.05,
    "champion_version": 3,
    "challenger": {
        "ap": 0.41,
        "ap_ci": [0.33, 0.5],
        "auc": 0.9,
        "auc_ci": [0.86, 0.93],
        "cp_at_k": 0.6,
        "cp_at_k_ci": [0.5, 0.7],
    },
    "champion": {
        "ap": 0.52,
        "ap_ci": [0.44, 0.6],
        "auc": 0.92,
        "auc_ci": [0.9, 0.95],
        "cp_at_k": 0.7,
        "cp_at_k_ci": [0.6, 0.8],
    },
    "ap_diff": -0.11,
    "ap_diff_ci": [-0.16, -0.06],
}


def test_the_gate_verdict_sample_and_intervals_are_shown(lead):
    ModelVersion.objects.create(
        tenant=TenantFactory(), status="rejected", gate_verdict="reject", gate=GATE
    )
    html = _models_page(lead)
    assert "reject</strong>: 412 audit cases, 37 frauds" in html
    assert "weighted, worth 96 cases and 3.2 frauds" in html
    assert "weighted AP 0.410 [0.330, 0.500]" in html
    assert "champion v3: AP 0.520" in html
    assert "ΔAP -0.110 [-0.160, -0.060]" in html
    assert "CP@5%" in html


def test_the_page_says_which_sample_the_gate_used_and_why(lead):
    why = "matured window: more frauds (audit 1296 cases, 11 frauds; ...)"
    ModelVersion.objects.create(
        tenant=TenantFactory(),
        status="active",
        gate_verdict="promote",
        gate={**GATE, "source": "matured", "selection": why},
    )
    html = _models_page(lead)
    assert "412 matured cases" in html
    assert "sample: matured window: more frauds (audit 1296 cases, 11 frauds" in html


def test_the_page_says_a_promoted_version_serves_the_refit(lead):
    ModelVersion.objects.create(
        tenant=TenantFactory(),
        status="active",
        gate_verdict="promote",
        gate={**GATE, "compared_rows": 1200, "refit_rows": 1500, "reserved_rows": 90},
    )
    html = _models_page(lead)
    assert "serves a refit on 1500 labelled orders" in html
    assert "compared fit: 1200" in html
    assert "90 audit cases kept out of training" in html


def test_an_empty_sample_has_no_effective_size_to_show(lead):
    empty = {"source": "audit", "cases": 0, "frauds": 0, "population": 0.0}
    ModelVersion.objects.create(
        tenant=TenantFactory(),
        status="rejected",
        gate_verdict="held",
        gate={**empty, "effective_cases": 0.0, "effective_frauds": 0.0},
    )
    html = _models_page(lead)
    assert "held</strong>: 0 audit cases, 0 frauds" in html
    assert "worth" not in html


def _models_page(lead) -> str:
    client = Client()
    client.force_login(lead)
    return client.get("/models/").content.decode()
