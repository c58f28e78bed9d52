"""Leads' view of the model registry: versions, metrics, failures, rollback."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from cases.services.review import actor_name
from cases.services.training import model_rollback
from cases.web.views import lead_required
from models_ml.artifacts import ArtifactError
from models_ml.models import ModelVersion
from models_ml.scoring import model_health
from riskreview.http import AuthenticatedHttpRequest
from tenants.web import request_tenant

ROLLBACK_TARGETS = {ModelVersion.Status.RETIRED, ModelVersion.Status.REJECTED}


@require_GET
@login_required
@lead_required
def model_versions(request: AuthenticatedHttpRequest) -> HttpResponse:
    tenant = request_tenant(request)
    versions = ModelVersion.objects.filter(tenant=tenant).order_by("-id")[:100]
    return render(
        request,
        "cases/model_versions.html",
        {
            "versions": versions,
            "rollback_targets": ROLLBACK_TARGETS,
            "health": model_health(tenant.pk),
        },
    )


@require_POST
@login_required
@lead_required
def model_version_rollback(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion, pk=pk, tenant=request_tenant(request))
    if version.status not in ROLLBACK_TARGETS:
        messages.error(request, f"v{version.pk} is {version.status}: not activated.")
        return redirect("models:list")
    try:
        model_rollback(version.pk, actor=actor_name(request.user))
    except ArtifactError as exc:
        messages.error(request, f"v{version.pk} was not activated: {exc}")
        return redirect("models:list")
    messages.success(request, f"Model v{version.pk} is active again.")
    return redirect("models:list")
