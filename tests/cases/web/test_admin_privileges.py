"""The admin role manages accounts without raising privileges; every admin
change is audited; the audit table cannot be emptied (finding 5)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction

from cases.models import ApiClient, AuditEvent
from cases.services.clients import api_client_create
from cases.services.users import user_create
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def ada(client):
    user = user_create("ada", PASSWORD, "admin", tenant=TenantFactory())
    client.force_login(user)
    return user


def _user_change(client, user, **fields):
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "last_login_0": "",
        "last_login_1": "",
        **fields,
    }
    return client.post(f"/admin/auth/user/{user.pk}/change/", data)


def test_the_admin_role_cannot_make_itself_superuser(client, ada):
    lead = Group.objects.get(name="lead")

    response = _user_change(
        client,
        ada,
        is_staff="on",
        is_superuser="on",
        groups=[lead.pk, *ada.groups.values_list("pk", flat=True)],
    )

    assert response.status_code == 302
    ada.refresh_from_db()
    assert not ada.is_superuser
    assert list(ada.groups.values_list("name", flat=True)) == ["admin"]


def test_the_admin_role_cannot_grant_staff_to_another_user(client, ada):
    rita = user_create("rita", PASSWORD, "reviewer", tenant=TenantFactory())

    _user_change(client, rita, is_staff="on", is_superuser="on")

    rita.refresh_from_db()
    assert not rita.is_staff and not rita.is_superuser


def test_the_admin_role_cannot_edit_a_superuser(client, ada):
    root = get_user_model().objects.create_superuser("root", "", PASSWORD)

    deactivate = _user_change(client, root, is_active="")

    assert deactivate.status_code == 403
    assert client.get(f"/admin/auth/user/{root.pk}/password/").status_code == 403
    root.refresh_from_db()
    assert root.is_active


def test_the_admin_role_cannot_change_a_roles_permissions(client, ada):
    admin_group = Group.objects.get(name="admin")

    response = client.post(
        f"/admin/auth/group/{admin_group.pk}/change/", {"name": "admin"}
    )

    assert response.status_code == 403


def test_revoking_an_api_client_in_the_admin_is_audited(client, ada):
    api_client, _token = api_client_create("shop-a")

    response = client.post(
        f"/admin/cases/apiclient/{api_client.pk}/change/",
        {
            "name": "shop-a",
            "expires_at_0": "",
            "expires_at_1": "",
            "revoked_at_0": "2026-11-26",
            "revoked_at_1": "12:00:00",
        },
    )

    assert response.status_code == 302
    assert ApiClient.objects.get().revoked_at is not None
    event = AuditEvent.objects.get(action="admin.changed")
    assert event.actor == "user:ada"
    assert (event.object_type, event.object_id) == ("apiclient", str(api_client.pk))


def test_deleting_several_objects_in_the_admin_audits_each(client, ada):
    superuser = get_user_model().objects.create_superuser("root", "", PASSWORD)
    client.force_login(superuser)
    clients = [api_client_create(f"shop-{n}")[0] for n in range(3)]

    client.post(
        "/admin/cases/apiclient/",
        {
            "action": "delete_selected",
            "_selected_action": [c.pk for c in clients],
            "post": "yes",
        },
    )

    assert not ApiClient.objects.exists()
    assert AuditEvent.objects.filter(action="admin.deleted").count() == 3


def test_the_audit_table_refuses_truncate(db):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL riskreview.audit_truncate = 'no'")
        with pytest.raises(DatabaseError, match="TRUNCATE refused"):  # noqa: SIM117
            with transaction.atomic():
                cursor.execute("TRUNCATE cases_auditevent")
