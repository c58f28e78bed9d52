"""Template helpers for the case page's reviewing extras."""

from __future__ import annotations

import time
from typing import Any

from django import template
from django.http import HttpRequest

from cases.models import AuditEvent, Case, CaseNote, Label
from cases.selectors_review import (
    case_escalation,
    case_notes,
    label_describe,
    reason_labels,
)

register = template.Library()


@register.inclusion_tag("cases/_undo_bar.html", takes_context=True)
def undo_bar(context: dict[str, Any]) -> dict[str, Any]:
    """The "Undo" offer for the decision just made, while its window is open."""
    request: HttpRequest | None = context.get("request")
    offer = request.session.get("undo") if request is not None else None
    left = int(offer["until"] - time.time()) if offer else 0
    return {"offer": offer if left > 0 else None, "seconds": left}


@register.simple_tag
def notes_of(case: Case) -> list[CaseNote]:
    return case_notes(case)


@register.simple_tag
def escalation_of(case: Case) -> AuditEvent | None:
    return case_escalation(case)


@register.simple_tag
def labels_described(labels: list[Label]) -> list[dict[str, Any]]:
    names = reason_labels()
    return [{"label": label, **label_describe(label, names)} for label in labels]


@register.filter
def reason_names(codes: list[str]) -> str:
    names = reason_labels()
    return ", ".join(names.get(code, code) for code in codes or [])
