"""The signed-in user's tenant, for the workbench and the dashboard.

A user works for one tenant (`Membership`); every page shows that tenant's
cases, orders and metrics only, superusers included (the Django admin is the
operators' cross-tenant tool). A user without a membership gets a 403 page
that says why.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from tenants.models import Membership, Tenant

NO_TENANT = (
    "Your account belongs to no tenant, so there is nothing for it to see. "
    "Ask an administrator to add it to one (admin › Memberships)."
)


def request_tenant(request: HttpRequest) -> Tenant:
    """The tenant of the signed-in user (read once per request);
    PermissionDenied when the user has none."""
    tenant: Tenant | None = getattr(request, "_tenant", None)
    if tenant is None:
        user_id = request.user.pk
        membership = (
            Membership.objects.select_related("tenant").filter(user_id=user_id).first()
            if user_id is not None
            else None
        )
        if membership is None:
            raise PermissionDenied(NO_TENANT)
        tenant = membership.tenant
        request._tenant = tenant  # type: ignore[attr-defined]
    return tenant


def tenant_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """403 before the view runs when the user belongs to no tenant."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request_tenant(request)
        return view(request, *args, **kwargs)

    return wrapped
