"""The reviewer workbench (HTML). Views: authorise and fetch, validate, call one
service, respond."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import APIException

from cases.charts import explanation_build
from cases.exceptions import LeaseLost
from cases.forms import DecisionForm, OverrideForm, QueueFilterForm, ReassignForm
from cases.models import Case
from cases.selectors import case_live_claim, case_timeline, queue_page
from cases.selectors_entities import entity_summaries
from cases.selectors_links import linked_order_groups
from cases.selectors_queue import queue_count
from cases.selectors_review import reasons_keyed
from cases.services.audit import audit_record
from cases.services.review import (
    actor_name,
    case_claim,
    case_claim_next,
    case_decide,
    case_escalate,
    case_override,
    case_reassign,
    case_release,
)
from cases.undo_offer import undo_offer
from models_ml.models import Score
from riskreview.http import AuthenticatedHttpRequest

reviewer_required = permission_required("cases.review_case", raise_exception=True)
lead_required = permission_required("cases.lead_case", raise_exception=True)


def _errors_text(form: Form) -> str:
    return "; ".join(str(m) for errs in form.errors.values() for m in errs)


def _get_case(pk: int) -> Case:
    return get_object_or_404(Case.objects.select_related("order"), pk=pk)


def _conflict(
    request: AuthenticatedHttpRequest, case: Case, exc: APIException
) -> HttpResponse:
    messages.error(request, str(exc.detail))
    response = case_page(request, case, status=409)
    return response


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
    page = queue_page(filters, settings.QUEUE_PAGE_SIZE)
    params = request.GET.copy()
    params.pop("after", None)
    context = {
        "form": form,
        "page": page,
        # Later pages (htmx "more") do not show the total again.
        "count": None if filters.get("after") else queue_count(filters),
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
    case = _get_case(pk)
    audit_record(actor_name(request.user), "case.viewed", case)
    return case_page(request, case)


def case_page(
    request: AuthenticatedHttpRequest, case: Case, status: int = 200
) -> HttpResponse:
    user = request.user
    claim = case_live_claim(case)
    mine = claim is not None and claim.reviewer_id == user.pk
    is_lead = user.has_perm("cases.lead_case")
    blind = case.status == Case.Status.QA and not is_lead
    score = Score.objects.filter(order=case.order).order_by("-id").first()
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
        # Not `order.attributes.items` in the template: a key named "items"
        # would shadow the method.
        "attributes": list(case.order.attributes.items()),
        "score": score,
        "explanation": explanation,
        "claim": claim,
        "mine": mine,
        "blind": blind,
        "is_lead": is_lead,
        "linked": linked_order_groups(case.order),
        "entity_summaries": entity_summaries(case.order),
        "labels": []
        if blind
        else list(case.labels.select_related("created_by").order_by("id")),
        "timeline": [] if blind else case_timeline(case),
        "decision_form": DecisionForm(initial={"claim": claim.pk})
        if claim is not None and mine
        else None,
        "reason_codes": reasons_keyed(),
        "override_form": OverrideForm() if is_lead else None,
        "reviewers": get_user_model()
        .objects.filter(is_active=True)
        .order_by("username")
        if is_lead
        else [],
    }
    return render(request, "cases/case_detail.html", context, status=status)


@require_POST
@login_required
@reviewer_required
def case_claim_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(pk)
    try:
        case_claim(case, request.user)
    except APIException as exc:
        return _conflict(request, case, exc)
    return redirect("cases:detail", pk=case.pk)


@require_POST
@login_required
@reviewer_required
def case_release_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(pk)
    claim = case_live_claim(case)
    try:
        case_release(claim.pk if claim else 0, request.user)
    except APIException as exc:
        return _conflict(request, case, exc)
    messages.info(request, f"Case {case.pk} released to the queue.")
    return redirect("cases:queue")


@require_POST
@login_required
@reviewer_required
def case_decide_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors_text(form))
        return case_page(request, case, status=400)
    data = form.cleaned_data
    if not case.claims.filter(pk=data["claim"]).exists():
        return _conflict(request, case, LeaseLost("That claim is for another case."))
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
    except APIException as exc:
        return _conflict(request, case, exc)
    messages.success(request, f"Case {case.pk}: {data['value']}.")
    return case_next(request)


@require_POST
@login_required
@lead_required
def case_override_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(pk)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors_text(form))
        return case_page(request, case, status=400)
    try:
        case_override(case, request.user, **form.cleaned_data)
    except APIException as exc:
        return _conflict(request, case, exc)
    messages.success(
        request, f"Case {case.pk} overridden: {form.cleaned_data['value']}."
    )
    return redirect("cases:detail", pk=case.pk)


@require_POST
@login_required
@lead_required
def case_reassign_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(pk)
    form = ReassignForm(request.POST)
    target = None
    if form.is_valid():
        target = (
            get_user_model()
            .objects.filter(username=form.cleaned_data["reviewer"], is_active=True)
            .first()
        )
    if target is None or not target.has_perm("cases.review_case"):
        messages.error(request, "Pick an active reviewer.")
        return case_page(request, case, status=400)
    try:
        case_reassign(case, request.user, target)
    except APIException as exc:
        return _conflict(request, case, exc)
    messages.success(request, f"Case {case.pk} reassigned to {target.get_username()}.")
    return redirect("cases:detail", pk=case.pk)
