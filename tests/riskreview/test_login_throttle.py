"""One sign-in throttle for every login form, keyed on the normalised username
and the client address (findings 3 and 4 of the second hardening round)."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.utils import timezone

from cases.models import AuditEvent
from cases.services.users import user_create
from tests.factories import TenantFactory

PASSWORD = "correct-horse-battery"
ATTACKER = "203.0.113.5"
OFFICE = "198.51.100.7"

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return user_create("rita", PASSWORD, "admin", tenant=TenantFactory())


def _login(client, url, username, password, ip=ATTACKER):
    return client.post(
        url, {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_the_admin_login_is_throttled(client, rita):
    codes = [_login(client, "/admin/login/", "rita", "x").status_code for _ in "abc"]
    assert codes == [200, 200, 429]  # the failure that reaches the limit locks

    blocked = _login(client, "/admin/login/", "rita", PASSWORD)

    assert blocked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_on_the_site_login_lock_the_admin_login_too(client, rita):
    for _ in range(3):
        _login(client, "/login/", "rita", "x")

    assert _login(client, "/admin/login/", "rita", PASSWORD).status_code == 429


@pytest.mark.parametrize("variants", [[" rita", "rita\t", "ｒｉｔａ"], ["RITA"] * 3])
def test_username_variants_share_one_counter(client, rita, variants):
    for username in variants:
        _login(client, "/login/", username, "x")

    blocked = _login(client, "/login/", "rita", PASSWORD)

    assert blocked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(client, rita):
    for _ in range(5):
        _login(client, "/login/", "rita", "x", ip=ATTACKER)

    response = _login(client, "/login/", "rita", PASSWORD, ip=OFFICE)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(rita.pk)


def test_failed_sign_ins_are_counted_not_logged_one_row_each(client, rita):
    for n in range(60):
        _login(client, "/login/", f"nobody-{n}", "x")

    assert not AuditEvent.objects.filter(action__startswith="login.").exists()
    assert AccessAttempt.objects.count() == 60
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        _login(client, "/login/", "nobody-else", "x")
        assert AccessAttempt.objects.count() == 1  # expired counters are removed


def test_a_lockout_and_a_sign_in_are_audited(client, rita):
    for _ in range(3):
        _login(client, "/login/", "rita", "x")
    _login(client, "/login/", "rita", PASSWORD, ip=OFFICE)

    actions = list(
        AuditEvent.objects.filter(action__startswith="login.").values_list(
            "action", flat=True
        )
    )
    assert actions == ["login.locked_out", "login.succeeded"]
