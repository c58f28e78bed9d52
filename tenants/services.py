"""Creating tenants and adding users to them."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from tenants.models import Membership, Tenant


@transaction.atomic
def tenant_create(name: str) -> Tenant:
    """A new tenant; ValidationError if the name (or its slug) is taken."""
    name = name.strip()
    slug = slugify(name)[:100] or "tenant"
    if Tenant.objects.filter(name=name).exists():
        raise ValidationError({"name": [f"a tenant named {name!r} exists"]})
    base, n = slug, 2
    while Tenant.objects.filter(slug=slug).exists():
        slug = f"{base[:90]}-{n}"
        n += 1
    return Tenant.objects.create(name=name, slug=slug)


def tenant_find(name_or_slug: str) -> Tenant | None:
    """The tenant with this name, else this slug; None if there is none."""
    return (
        Tenant.objects.filter(name=name_or_slug).first()
        or Tenant.objects.filter(slug=name_or_slug).first()
    )


def membership_set(user: User, tenant: Tenant) -> Membership:
    """Put the user in `tenant` (a user belongs to one tenant)."""
    membership, _ = Membership.objects.update_or_create(
        user=user, defaults={"tenant": tenant}
    )
    return membership


def user_tenant_id(user: User) -> int | None:
    """The id of the tenant the user works for; None if it has none."""
    return (
        Membership.objects.filter(user_id=user.pk)
        .values_list("tenant_id", flat=True)
        .first()
    )
