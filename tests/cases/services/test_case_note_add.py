"""Notes: a comment thread on the case, apart from the decision."""

import pytest
from django.core.exceptions import ValidationError

from cases.models import AuditEvent, CaseNote
from cases.services.notes import case_note_add

pytestmark = pytest.mark.django_db


def test_note_is_stored_and_audited(make_case, reviewer):
    case = make_case()
    note = case_note_add(case, reviewer, "  Called the customer.  ")
    assert (note.body, note.author, note.case) == (
        "Called the customer.",
        reviewer,
        case,
    )
    event = AuditEvent.objects.get(action="case.noted")
    assert event.after == {"note_id": note.pk}


def test_blank_note_is_refused(make_case, reviewer):
    with pytest.raises(ValidationError):
        case_note_add(make_case(), reviewer, "   ")
    assert not CaseNote.objects.exists()


def test_note_leaves_the_case_status_alone(make_case, reviewer):
    case = make_case()
    case_note_add(case, reviewer, "looks like a reseller")
    case.refresh_from_db()
    assert case.status == "open" and not case.labels.exists()
