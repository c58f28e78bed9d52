import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cases.api.throttling import ApiClientRateThrottle
from cases.services.users import user_create
from riskreview.security import RedactPIIFilter, redact
from tests.factories import TenantFactory, order_payload

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_deploy_checks_pass_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "riskreview.settings",
        "DEBUG": "false",
        "HTTPS_ONLY": "true",
        "SECRET_KEY": "k" * 20 + "Z9x!q2Lp0-vR7mT4sW8yB1nC6dF3hJ5gK_aE",
        "ALLOWED_HOSTS": "risk.example.com",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def _check_without_secret_key(var_dir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "riskreview.settings",
        "DEBUG": "false",
        "VAR_DIR": str(var_dir),
    }
    env.pop("SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_secret_key_without_debug_fails_loudly(tmp_path):
    result = _check_without_secret_key(tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.slow
def test_a_local_run_reads_the_generated_secret_key(tmp_path):
    """`make run` writes var/secret_key; README commands pasted later use it."""
    (tmp_path / "secret_key").write_text("generated-by-make-run-" + "x" * 40 + "\n")

    result = _check_without_secret_key(tmp_path)

    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_scripts_and_deny_framing(client):
    response = client.get("/login/")

    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_templates_have_no_inline_scripts_styles_or_handlers():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|\sstyle=|<style")
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "templates").rglob("*.html")
        if inline.search(path.read_text())
    ]

    assert offenders == []


@pytest.mark.django_db
def test_intake_is_rate_limited_per_client_with_retry_after(api, monkeypatch):
    monkeypatch.setattr(
        ApiClientRateThrottle, "THROTTLE_RATES", {"api_client": "2/min"}
    )
    from django.core.cache import cache

    cache.clear()
    codes = [
        api.post(
            "/api/v1/orders/", order_payload(order_id=f"r-{i}"), format="json"
        ).status_code
        for i in range(3)
    ]

    assert codes[:2] != [429, 429] and codes[2] == 429
    response = api.post("/api/v1/orders/", order_payload(order_id="r-9"), format="json")
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_login_is_throttled_after_repeated_failures(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user_create("rita", "correct-horse-battery", "reviewer", tenant=TenantFactory())
    for _ in range(3):
        client.post("/login/", {"username": "rita", "password": "x"})

    blocked = client.post(
        "/login/", {"username": "rita", "password": "correct-horse-battery"}
    )

    assert blocked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_server_errors_do_not_leak_tracebacks(client_and_token, monkeypatch):
    _client, token = client_and_token

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: DATABASE password=hunter2")

    monkeypatch.setattr("cases.api.views.orders_ingest", broken)
    raw = APIClient(raise_request_exception=False)
    raw.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = raw.post("/api/v1/orders/", order_payload(), format="json")

    assert response.status_code == 500
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content


def test_logs_mask_emails_and_ips():
    assert redact("login by ana.maria@example.com from 203.0.113.77") == (
        "login by a***@example.com from 203.0.x.x"
    )
    record = logging.LogRecord(
        "x", logging.INFO, "f", 1, "ip %s", ("198.51.100.1",), None
    )
    RedactPIIFilter().filter(record)
    assert record.getMessage() == "ip 198.51.x.x"


def test_anonymous_browser_user_reaches_only_the_sign_in_page(db):
    response = Client().get("/queue/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
