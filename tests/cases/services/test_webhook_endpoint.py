import pytest

from cases.models import AuditEvent
from cases.services.webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
)
from tests.factories import ApiClientFactory

pytestmark = pytest.mark.django_db


def test_deleting_an_endpoint_deactivates_it_and_is_audited():
    endpoint, _secret = webhook_endpoint_create(
        ApiClientFactory(), "https://shop.example/hooks", ["case.decided"], actor="t"
    )

    webhook_endpoint_deactivate(endpoint, actor="client:shop")

    endpoint.refresh_from_db()
    assert endpoint.active is False
    event = AuditEvent.objects.get(action="webhook.deactivated")
    assert (event.actor, event.object_id) == ("client:shop", str(endpoint.pk))
