"""The case page's reviewing extras over HTTP: notes, skip, snooze, undo."""

import time

import pytest
import time_machine
from django.test import Client

from cases.models import CaseDeferral, CaseNote, Label
from cases.services.review import case_claim

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _decided(case, reviewer) -> Client:
    """A client of `reviewer`, who has just decided `case` through the page."""
    claim = case_claim(case, reviewer)
    client = _signed_in(reviewer)
    client.post(
        f"/cases/{case.pk}/decide/",
        {"claim": claim.pk, "value": "fraud", "reasons": ["other"], "note": ""},
    )
    return client


def test_note_is_shown_escaped_on_the_case_page(make_case, reviewer):
    case = make_case()
    client = _signed_in(reviewer)

    client.post(f"/cases/{case.pk}/notes/", {"body": "<script>x()</script> called"})

    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt; called" in html
    assert CaseNote.objects.get().author == reviewer


def test_blank_note_is_refused_with_a_message(make_case, reviewer):
    case = make_case()
    response = _signed_in(reviewer).post(
        f"/cases/{case.pk}/notes/", {"body": "  "}, follow=True
    )
    assert not CaseNote.objects.exists()
    assert b"msg-error" in response.content


def test_skip_opens_another_case(make_case, reviewer):
    top, other = make_case(priority=90), make_case(priority=10)
    case_claim(top, reviewer)

    response = _signed_in(reviewer).post(f"/cases/{top.pk}/skip/")

    assert response["Location"] == f"/cases/{other.pk}/"
    assert CaseDeferral.objects.get().case == top


def test_snooze_into_the_past_keeps_the_case(make_case, reviewer):
    case = make_case()
    case_claim(case, reviewer)

    response = _signed_in(reviewer).post(
        f"/cases/{case.pk}/snooze/", {"until": "2000-01-01T09:00"}
    )

    assert response.status_code == 409
    assert not CaseDeferral.objects.exists()


def test_undo_is_offered_after_a_decision_and_gone_after_the_window(
    make_case, reviewer, settings
):
    settings.QA_SHARE = 0
    settings.DECISION_UNDO_SECONDS = 10
    case = make_case()
    client = _decided(case, reviewer)
    label = Label.objects.get()

    assert f'name="label" value="{label.pk}"' in client.get("/queue/").content.decode()
    with time_machine.travel(time.time() + 11):
        assert 'id="undo-bar"' not in client.get("/queue/").content.decode()


def test_undo_over_http_reopens_the_case(make_case, reviewer, settings):
    settings.QA_SHARE = 0
    case = make_case()
    client = _decided(case, reviewer)

    response = client.post("/cases/undo/", {"label": Label.objects.get().pk})

    assert response["Location"] == f"/cases/{case.pk}/"
    assert not Label.objects.exists()
