from cases.models import WebhookEndpoint


def test_client_registers_a_webhook_and_sees_its_secret_once(api):
    response = api.post(
        "/api/v1/webhooks/",
        {"url": "https://shop.example/hooks", "events": ["case.decided"]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    listed = api.get("/api/v1/webhooks/").json()
    assert [w["url"] for w in listed] == ["https://shop.example/hooks"]
    assert "secret" not in listed[0]


def test_unknown_event_type_is_a_field_error(api):
    response = api.post(
        "/api/v1/webhooks/",
        {"url": "https://shop.example/hooks", "events": ["order.teleported"]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["events.0"]
    assert not WebhookEndpoint.objects.exists()


def test_rotation_keeps_the_old_secret_valid_for_a_while(api):
    created = api.post(
        "/api/v1/webhooks/",
        {"url": "https://shop.example/hooks", "events": ["case.decided"]},
        format="json",
    ).json()

    rotated = api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret/").json()

    endpoint = WebhookEndpoint.objects.get()
    assert rotated["secret"] != created["secret"]
    assert endpoint.previous_secret == created["secret"]
    assert endpoint.previous_secret_expires_at is not None


def test_another_clients_webhook_cannot_be_deleted(api, other_api):
    created = api.post(
        "/api/v1/webhooks/",
        {"url": "https://shop.example/hooks", "events": ["case.decided"]},
        format="json",
    ).json()

    assert other_api.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 404
    assert api.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    assert api.get("/api/v1/webhooks/").json() == []
