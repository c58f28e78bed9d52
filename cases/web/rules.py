"""Rules pages (leads): list, write, backtest, enable. And the case page's
"block this card" button."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.exception_handlers import error_message
from cases.models import ReasonCode
from cases.services.backtest import rule_backtest
from cases.services.group import case_group, cases_decide_together
from cases.services.review import actor_name
from cases.services.rules import order_entity_block, rule_create, rule_update
from cases.web.views import (
    _errors_text,
    _get_case,
    case_page,
    lead_required,
    reviewer_required,
)
from riskreview.http import AuthenticatedHttpRequest
from rules.language import FEATURE_VARIABLES, ORDER_VARIABLES, OTHER_VARIABLES
from rules.models import Rule
from tenants.web import request_tenant


class RuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea({"rows": 2}))
    expression = forms.CharField(
        max_length=2000,
        strip=False,  # positions in errors are the ones the lead typed
        widget=forms.Textarea({"rows": 4, "spellcheck": "false", "class": "code"}),
    )
    action = forms.ChoiceField(choices=Rule.Action.choices)
    boost = forms.FloatField(required=False, min_value=0, max_value=1e9)
    state = forms.ChoiceField(choices=Rule.State.choices)
    days = forms.IntegerField(min_value=1, max_value=90, initial=30, required=False)


def _catalogue() -> dict[str, object]:
    return {
        "order_variables": ORDER_VARIABLES,
        "feature_variables": FEATURE_VARIABLES,
        "other_variables": OTHER_VARIABLES,
    }


@require_GET
@login_required
@lead_required
def rule_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    rules = Rule.objects.filter(tenant=request_tenant(request)).order_by(
        "state", "name"
    )
    return render(request, "rules/rule_list.html", {"rules": rules})


@require_http_methods(["GET", "POST"])
@login_required
@lead_required
def rule_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    tenant = request_tenant(request)
    rule = get_object_or_404(Rule, pk=pk, tenant=tenant) if pk else None
    initial = {"state": "draft", "action": "review", "days": 30}
    if rule is not None:
        initial.update(
            {f: getattr(rule, f) for f in RuleForm.base_fields if f != "days"}
        )
    form = RuleForm(request.POST or None, initial=initial)
    backtest = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        days = data.pop("days") or 30
        data["boost"] = data["boost"] or 0.0
        try:
            if "backtest" in request.POST:
                backtest = rule_backtest(
                    tenant.pk,
                    data["expression"],
                    days=days,
                    exclude_rule_id=rule.pk if rule else None,
                )
            else:
                rule = _save(request, rule, data)
                messages.success(
                    request, f"Rule '{rule.name}' saved (v{rule.version})."
                )
                return redirect("cases:rule", pk=rule.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
    status = 400 if form.errors else 200
    context = {"form": form, "rule": rule, "backtest": backtest, **_catalogue()}
    return render(request, "rules/rule_edit.html", context, status=status)


def _save(request: AuthenticatedHttpRequest, rule: Rule | None, data: dict) -> Rule:
    actor = actor_name(request.user)
    if rule is None:
        return rule_create(
            request_tenant(request).pk, actor=actor, owner=request.user, **data
        )
    return rule_update(rule.pk, actor=actor, **data)


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error_message(exc))


@require_POST
@login_required
@reviewer_required
def case_block(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Block the case's card, e-mail, device or IP (button or Shift+B)."""
    case = _get_case(request, pk)
    entity_type = request.POST.get("entity_type", "")
    try:
        entry, created = order_entity_block(
            case.order,
            entity_type,
            actor=actor_name(request.user),
            lead=request.user.has_perm("cases.lead_case"),
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return case_page(request, case, status=403)
    except ValidationError as exc:
        messages.error(request, error_message(exc))
        return case_page(request, case, status=400)
    label = "IP" if entity_type == "ip" else entity_type.capitalize()
    if created:
        messages.success(request, f"{label} {entry.value} is on the block list.")
    else:
        messages.info(request, f"{label} {entry.value} was already on the block list.")
    return redirect("cases:detail", pk=case.pk)


class GroupDecisionForm(forms.Form):
    cases = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    value = forms.ChoiceField(
        choices=[("fraud", "Fraud"), ("legitimate", "Legitimate")]
    )
    reasons = forms.MultipleChoiceField(choices=[], required=False)
    note = forms.CharField(max_length=2000, required=False)

    def __init__(self, data: Any, *, case_ids: list[int], codes: list[str]) -> None:
        super().__init__(data)
        self.fields["cases"].choices = [(i, i) for i in case_ids]  # type: ignore[attr-defined]
        self.fields["reasons"].choices = [(c, c) for c in codes]  # type: ignore[attr-defined]


@require_POST
@login_required
@reviewer_required
def case_group_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Decide the chosen cases of this case's group together."""
    case = _get_case(request, pk)
    allowed = [case.pk, *(m.case.pk for m in case_group(case, request.user))]
    codes = list(ReasonCode.objects.filter(active=True).values_list("code", flat=True))
    form = GroupDecisionForm(request.POST, case_ids=allowed, codes=codes)
    if not form.is_valid():
        messages.error(request, _errors_text(form))
        return redirect("cases:detail", pk=case.pk)
    data = form.cleaned_data
    try:
        result = cases_decide_together(
            data["cases"],
            request.user,
            value=data["value"],
            reasons=data["reasons"],
            note=data["note"],
        )
    except ValidationError as exc:
        messages.error(request, error_message(exc))
        return redirect("cases:detail", pk=case.pk)
    messages.success(request, f"{len(result.decided)} case(s) decided {data['value']}.")
    for case_id, why in sorted(result.refused.items()):
        messages.warning(request, f"Case {case_id} left alone: {why}")
    return redirect("cases:detail", pk=case.pk)
