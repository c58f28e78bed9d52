"""Comments on a case, apart from its decision."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from cases.models import Case, CaseNote
from cases.services.audit import audit_record
from cases.services.review import actor_name

NOTE_MAX = 4000


def case_note_add(case: Case, author: User, body: str) -> CaseNote:
    """Append a note (plain text, at most 4,000 characters) and audit it."""
    body = body.strip()
    if not body:
        raise ValidationError("A note needs some text.")
    if len(body) > NOTE_MAX:
        raise ValidationError(f"A note has at most {NOTE_MAX} characters.")
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=author, body=body)
        audit_record(actor_name(author), "case.noted", case, after={"note_id": note.pk})
    return note
