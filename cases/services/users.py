"""Accounts and their roles (the groups created by migration 0004)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from cases.services.audit import audit_record
from tenants.models import Tenant
from tenants.services import membership_set

ROLES = ("reviewer", "lead", "admin")


@transaction.atomic
def user_create(
    username: str,
    password: str,
    role: str,
    email: str = "",
    *,
    tenant: Tenant | None = None,
    actor: str = "system",
) -> User:
    """An account with one role, working for `tenant` (without one it sees
    nothing until an admin adds it to a tenant)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        raise ValueError(f"user {username!r} exists")
    user = users(username=username, email=email, is_staff=role == "admin")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from exc
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    if tenant is not None:
        membership_set(user, tenant)
    audit_record(
        actor,
        "user.created",
        user,
        after={
            "username": username,
            "role": role,
            "tenant": tenant.name if tenant else None,
        },
    )
    return user
