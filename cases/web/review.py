"""Reviewing extras on the case page: skip, snooze, undo, notes.

Views: authorise and fetch, validate, call one service, respond.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases.exceptions import DomainError
from cases.models import Case
from cases.selectors import case_live_claim
from cases.services.deferrals import case_skip, case_snooze
from cases.services.notes import case_note_add
from cases.services.undo import case_decision_undo
from cases.web.forms_review import NoteForm, SnoozeForm, UndoForm
from cases.web.views import (
    _errors_text,
    _get_case,
    _refused,
    case_next,
    reviewer_required,
)
from riskreview.http import AuthenticatedHttpRequest


def _claim_id(case: Case) -> int:
    claim = case_live_claim(case)
    return claim.pk if claim is not None else 0


@require_POST
@login_required
@reviewer_required
def case_skip_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    try:
        case_skip(_claim_id(case), request.user)
    except DomainError as exc:
        return _refused(request, case, exc)
    messages.info(request, f"Case {case.pk} skipped: back in the queue for others.")
    return case_next(request)


@require_POST
@login_required
@reviewer_required
def case_snooze_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors_text(form))
        return redirect("cases:detail", pk=case.pk)
    until = form.cleaned_data["until"]
    try:
        case_snooze(_claim_id(case), request.user, until=until)
    except DomainError as exc:
        return _refused(request, case, exc)
    messages.info(request, f"Case {case.pk} snoozed until {until:%Y-%m-%d %H:%M}.")
    return case_next(request)


@require_POST
@login_required
@reviewer_required
def case_undo_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UndoForm(request.POST)
    request.session.pop("undo", None)
    if not form.is_valid():
        messages.error(request, "Nothing to undo.")
        return redirect("cases:queue")
    try:
        claim = case_decision_undo(form.cleaned_data["label"], request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("cases:queue")
    messages.success(request, f"Decision on case {claim.case_id} undone.")
    return redirect("cases:detail", pk=claim.case_id)


@require_POST
@login_required
@reviewer_required
def case_note_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    form = NoteForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_errors_text(form))
        case_note_add(case, request.user, form.cleaned_data["body"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("cases:detail", args=[case.pk]) + "#notes")
