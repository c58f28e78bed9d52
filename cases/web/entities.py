"""Entity pages: one customer, card, device, IP, email or seller of a tenant
(the URL names one of the tenant's API clients).

Views: authorise and fetch, validate, call one selector, respond.
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from cases.models import ApiClient
from cases.selectors_entities import ENTITY_KINDS, entity_profile, used_with_sentence
from cases.web.views import reviewer_required
from riskreview.http import AuthenticatedHttpRequest
from tenants.web import request_tenant

CURSOR = re.compile(r"^\d{4}-\d\d-\d\dT[0-9:.+\-]+_\d{1,18}$")


@require_GET
@login_required
@reviewer_required
def entity_detail(
    request: AuthenticatedHttpRequest, client: int, kind: str
) -> HttpResponse:
    tenant = request_tenant(request)
    client_obj = get_object_or_404(ApiClient, pk=client, tenant=tenant)
    value = request.GET.get("value", "")
    # No stored value is empty, longer than a field or holds a NUL (which
    # PostgreSQL text refuses outright): none of those names an entity.
    if kind not in ENTITY_KINDS or not value or len(value) > 254 or "\x00" in value:
        raise Http404("No such entity.")
    before = request.GET.get("before") or None
    if before is not None and not CURSOR.match(before):
        before = None
    profile = entity_profile(client_obj.tenant_id, kind, value, before=before)
    if profile.orders_count == 0:
        raise Http404("No orders for this entity.")
    context = {
        "profile": profile,
        "client": client_obj,
        "sentence": used_with_sentence(profile),
    }
    return render(request, "cases/entity_detail.html", context)
