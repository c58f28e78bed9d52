"""Reads for the reviewing extras on the case page: notes, the escalation note,
the reason list with its keys, labels in words."""

from __future__ import annotations

from dataclasses import dataclass

from cases.models import AuditEvent, Case, CaseNote, Label, ReasonCode

# Keys for the reasons, in list order: digits, then letters no other shortcut
# uses (c claim, e escalate, f fraud, l legitimate, n next, r release, s skip,
# u undo, z snooze).
REASON_KEYS = "1234567890abdghijkmopqtvwxy"
LEAD_OVERRIDE = "lead_override"


@dataclass(frozen=True)
class KeyedReason:
    code: str
    label: str
    applies_to: str
    key: str


def reasons_keyed() -> list[KeyedReason]:
    """Active reasons, fraud first, then legitimate, then any; each with the
    key that toggles it ("" once the keys run out)."""
    rank = {"fraud": 0, "legitimate": 1, "any": 2}
    codes = sorted(
        ReasonCode.objects.filter(active=True),
        key=lambda r: (rank.get(r.applies_to, 3), r.label),
    )
    keys = list(REASON_KEYS) + [""] * max(0, len(codes) - len(REASON_KEYS))
    return [
        KeyedReason(r.code, r.label, r.applies_to, key)
        for r, key in zip(codes, keys, strict=False)
    ]


def reason_labels() -> dict[str, str]:
    return dict(ReasonCode.objects.values_list("code", "label"))


def label_describe(label: Label, names: dict[str, str]) -> dict[str, object]:
    """ "legitimate · override by lead bob", with the reasons by their labels."""
    who = label.created_by.get_username() if label.created_by else ""
    if LEAD_OVERRIDE in label.reasons:
        source = f"override by lead {who}"
    elif label.source == Label.Source.REVIEWER:
        source = f"reviewer {who}".strip()
    else:
        source = label.get_source_display().lower()
    reasons = [names.get(code, code) for code in label.reasons if code != LEAD_OVERRIDE]
    return {"source": source, "reasons": reasons}


def case_notes(case: Case) -> list[CaseNote]:
    return list(case.notes.select_related("author").order_by("created_at", "id"))


def case_escalation(case: Case) -> AuditEvent | None:
    """The escalation that put the case in the lead's queue, while it is there."""
    if case.status != Case.Status.ESCALATED:
        return None
    return (
        AuditEvent.objects.filter(
            object_type="case",
            object_id=str(case.pk),
            action__in=["case.escalated", "case.decided"],
        )
        .order_by("-id")
        .first()
    )
