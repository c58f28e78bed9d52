"""The leads' metrics dashboard: three pages of SVG charts and tables, and a
CSV export of every table. Leads only.

Each view parses its query string with DashboardFilterForm (a bad value is a
400 with the field's message on the page), reads through `dashboard.pages`
and renders.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import replace

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.forms import DashboardFilterForm
from dashboard.pages import PAGES, page_context, page_frame
from dashboard.selectors import common
from dashboard.tables import TABLES, Inputs, csv_cell, table_rows
from tenants.web import request_tenant, tenant_required


def lead_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Leads of a tenant only: every figure is of the lead's tenant."""
    lead = permission_required("cases.lead_case", raise_exception=True)
    return lead(tenant_required(view))


def _window(request: HttpRequest, form: DashboardFilterForm) -> common.MetricsWindow:
    """The form's days, of the lead's tenant."""
    window: common.MetricsWindow = form.cleaned_data["window"]
    return replace(window, tenant_id=request_tenant(request).pk)


def _page(request: HttpRequest, name: str) -> HttpResponse:
    form = DashboardFilterForm(request.GET)
    template = PAGES[name].template
    if not form.is_valid():
        return render(request, template, page_frame(name, form), status=400)
    context = page_context(name, _window(request, form), form.cleaned_data["k"])
    return render(request, template, page_frame(name, form) | context)


@require_GET
@login_required
@lead_required
def overview(request: HttpRequest) -> HttpResponse:
    return _page(request, "overview")


@require_GET
@login_required
@lead_required
def reviewers(request: HttpRequest) -> HttpResponse:
    return _page(request, "reviewers")


@require_GET
@login_required
@lead_required
def models(request: HttpRequest) -> HttpResponse:
    return _page(request, "models")


@require_GET
@login_required
@lead_required
def export(request: HttpRequest, table: str) -> HttpResponse:
    spec = TABLES.get(table)
    if spec is None:
        raise Http404("no such table")
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8"
        )
    window = _window(request, form)
    with common.metrics_reads():
        rows = table_rows(table, Inputs(window, form.cleaned_data["k"]))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"{table}_{window.first}_{window.last}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow([c.key for c in spec.columns])
    writer.writerows([csv_cell(row.get(c.key)) for c in spec.columns] for row in rows)
    return response
