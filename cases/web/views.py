"""The reviewer workbench (HTML). Views: authorise and fetch, validate, call one
service, respond."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from cases.exception_handlers import error_message, web_error_status
from cases.exceptions import DomainError, LeaseLost
from cases.models import Case
from cases.selectors import case_live_claim, case_review_get, queue_page
from cases.selectors_links import score_risk_cause
from cases.selectors_queue import queue_count
from cases.services.group import case_group
from cases.services.review import (
    case_claim,
    case_claim_next,
    case_decide,
    case_escalate,
    case_override,
    case_reassign,
    case_release,
    case_view_record,
)
from cases.web.charts import explanation_build
from cases.web.forms import DecisionForm, OverrideForm, QueueFilterForm, ReassignForm
from cases.web.undo_offer import undo_offer
from riskreview.http import AuthenticatedHttpRequest
from tenants.web import request_tenant, tenant_required


def reviewer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Reviewers (and leads) of a tenant: 403 without the role or a tenant."""
    role = permission_required("cases.review_case", raise_exception=True)
    return role(tenant_required(view))


def lead_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    role = permission_required("cases.lead_case", raise_exception=True)
    return role(tenant_required(view))


def _errors_text(form: Form) -> str:
    return "; ".join(str(m) for errs in form.errors.values() for m in errs)


def _get_case(request: AuthenticatedHttpRequest, pk: int) -> Case:
    """The case, if it is of the user's tenant; 404 otherwise (another
    tenant's case does not exist for this user)."""
    cases = Case.objects.select_related("order")
    return get_object_or_404(cases, pk=pk, tenant=request_tenant(request))


def _refused(
    request: AuthenticatedHttpRequest, case: Case, exc: DomainError | ValidationError
) -> HttpResponse:
    """The workbench's error handler: the case page again, with the reason."""
    messages.error(request, error_message(exc))
    return case_page(request, case, status=web_error_status(exc))


@require_GET
@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    return redirect("cases:queue")


@require_GET
@login_required
@reviewer_required
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    tenant = request_tenant(request)
    page = queue_page(filters, settings.QUEUE_PAGE_SIZE, tenant)
    params = request.GET.copy()
    params.pop("after", None)
    context = {
        "form": form,
        "page": page,
        # Later pages (htmx "more") do not show the total again.
        "count": None if filters.get("after") else queue_count(filters, tenant),
        "params": params.urlencode(),
    }
    template = "cases/_queue_rows.html" if request.htmx else "cases/queue.html"
    return render(request, template, context)


@require_POST
@login_required
@reviewer_required
def case_next(request: AuthenticatedHttpRequest) -> HttpResponse:
    claim = case_claim_next(request.user)
    if claim is None:
        messages.info(request, "The queue is empty: no case is waiting for you.")
        return redirect("cases:queue")
    return redirect("cases:detail", pk=claim.case_id)


@require_GET
@login_required
@reviewer_required
def case_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    case_view_record(case, request.user)
    return case_page(request, case)


def case_page(
    request: AuthenticatedHttpRequest, case: Case, status: int = 200
) -> HttpResponse:
    is_lead = request.user.has_perm("cases.lead_case")
    blind = case.status == Case.Status.QA and not is_lead
    review = case_review_get(case, blind=blind, is_lead=is_lead)  # case's tenant
    score, claim = review.score, review.claim
    mine = claim is not None and claim.reviewer_id == request.user.pk
    explanation = None
    if (
        score
        and score.contributions
        and score.base_value is not None
        and score.probability is not None
    ):
        explanation = explanation_build(
            score.base_value, score.contributions, score.probability
        )
    context = {
        "case": case,
        "order": case.order,
        "risk_cause": score_risk_cause(score),
        # Not `order.attributes.items` in the template: a key named "items"
        # would shadow the method.
        "attributes": list(case.order.attributes.items()),
        **vars(review),
        "explanation": explanation,
        "mine": mine,
        "blind": blind,
        "is_lead": is_lead,
        "decision_form": DecisionForm(initial={"claim": claim.pk})
        if claim is not None and mine
        else None,
        "override_form": OverrideForm() if is_lead else None,
        "group": [] if blind else case_group(case, request.user),
    }
    return render(request, "cases/case_detail.html", context, status=status)


@require_POST
@login_required
@reviewer_required
def case_claim_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    try:
        case_claim(case, request.user)
    except DomainError as exc:
        return _refused(request, case, exc)
    return redirect("cases:detail", pk=case.pk)


@require_POST
@login_required
@reviewer_required
def case_release_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    claim = case_live_claim(case)
    try:
        case_release(claim.pk if claim else 0, request.user)
    except DomainError as exc:
        return _refused(request, case, exc)
    messages.info(request, f"Case {case.pk} released to the queue.")
    return redirect("cases:queue")


@require_POST
@login_required
@reviewer_required
def case_decide_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors_text(form))
        return case_page(request, case, status=400)
    data = form.cleaned_data
    if not case.claims.filter(pk=data["claim"]).exists():
        return _refused(request, case, LeaseLost("That claim is for another case."))
    try:
        if data["value"] == "escalate":
            case_escalate(data["claim"], request.user, note=data["note"])
        else:
            label = case_decide(
                data["claim"],
                request.user,
                value=data["value"],
                reasons=data["reasons"],
                note=data["note"],
            )
            undo_offer(request, label)
    except (DomainError, ValidationError) as exc:
        return _refused(request, case, exc)
    messages.success(request, f"Case {case.pk}: {data['value']}.")
    return case_next(request)


@require_POST
@login_required
@lead_required
def case_override_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors_text(form))
        return case_page(request, case, status=400)
    try:
        case_override(case, request.user, **form.cleaned_data)
    except (DomainError, ValidationError) as exc:
        return _refused(request, case, exc)
    messages.success(
        request, f"Case {case.pk} overridden: {form.cleaned_data['value']}."
    )
    return redirect("cases:detail", pk=case.pk)


@require_POST
@login_required
@lead_required
def case_reassign_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    form = ReassignForm(request.POST)
    target = None
    if form.is_valid():
        target = (
            get_user_model()
            .objects.filter(
                username=form.cleaned_data["reviewer"],
                is_active=True,
                membership__tenant=case.tenant_id,
            )
            .first()
        )
    if target is None or not target.has_perm("cases.review_case"):
        messages.error(request, "Pick an active reviewer of this tenant.")
        return case_page(request, case, status=400)
    try:
        case_reassign(case, request.user, target)
    except DomainError as exc:
        return _refused(request, case, exc)
    messages.success(request, f"Case {case.pk} reassigned to {target.get_username()}.")
    return redirect("cases:detail", pk=case.pk)
