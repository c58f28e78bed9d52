"""API clients and their tokens. A token is shown once and stored hashed."""

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cases.models import ApiClient
from cases.services.audit import audit_record
from tenants.models import Tenant
from tenants.services import tenant_create

TOKEN_PREFIX = "rr_"


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; no salt needed.
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_client_create(
    name: str,
    *,
    tenant: Tenant | None = None,
    expires_at: datetime | None = None,
    actor: str = "system",
) -> tuple[ApiClient, str]:
    """Create a client and return it with its token (the only time it is seen).

    The client joins `tenant` and shares its entities; without one it gets a
    new tenant of its own, named after it (ValidationError if that name is
    taken: join that tenant explicitly instead).
    """
    if tenant is None:
        tenant = tenant_create(name)
        audit_record(actor, "tenant.created", tenant, after={"name": tenant.name})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name,
        tenant=tenant,
        token_prefix=token[:10],
        token_hash=token_hash(token),
        expires_at=expires_at,
    )
    audit_record(
        actor, "api_client.created", client, after={"name": name, "tenant": tenant.name}
    )
    return client, token


@transaction.atomic
def api_client_revoke(client: ApiClient, *, actor: str) -> None:
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    audit_record(actor, "api_client.revoked", client)
