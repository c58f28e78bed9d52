"""Error pages are styled, say what happened and offer a way back."""

import pytest
from django.test import Client, RequestFactory

from cases.services.users import user_create
from riskreview.errors import server_error
from tests.factories import TenantFactory

PASSWORD = "correct-horse-battery-9"


def _assert_styled(html: str, heading: str) -> None:
    assert f"<h1>{heading}</h1>" in html
    assert 'href="/">Back to the start page' in html
    assert "/static/css/app.css" in html or "css/app." in html


@pytest.mark.django_db
def test_unknown_page_answers_a_styled_404(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    _assert_styled(response.content.decode(), "Not found")


@pytest.mark.django_db
def test_forbidden_page_answers_a_styled_403():
    client = Client()
    client.force_login(
        user_create("rev-403", PASSWORD, "reviewer", tenant=TenantFactory())
    )

    response = client.get("/dashboard/")

    assert response.status_code == 403
    _assert_styled(response.content.decode(), "Not allowed")


def test_server_error_page_is_styled_without_a_request_context():
    response = server_error(RequestFactory().get("/queue/"))

    assert response.status_code == 500
    _assert_styled(response.content.decode(), "Something went wrong")


def test_a_bad_host_answers_a_styled_400(client):
    response = client.get("/login/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    _assert_styled(response.content.decode(), "Bad request")
