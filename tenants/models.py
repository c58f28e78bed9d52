"""Tenants: the organisations that own API clients, orders, cases, feature
state and reviewers. One tenant never sees another's data (docs/architecture.md,
"Tenants")."""

from django.conf import settings
from django.db import models


class Tenant(models.Model):
    """An organisation. Its API clients share its entities (a shop's web and
    app backends); other tenants' customers, cards and sellers are other
    entities, even with the same identifiers."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user works for one tenant: the workbench, dashboard and exports show
    that tenant's cases only. A user without a membership sees nothing."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}"
