"""API clients authenticate with `Authorization: Token <token>` (or Bearer)."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from cases.models import ApiClient
from cases.services.clients import token_hash

# last_used_at is written at most this often, not on every request.
_TOUCH_EVERY = timedelta(minutes=1)


def request_client(request: Request) -> ApiClient:
    """The API client that authenticated `request` (ApiTokenAuthentication puts
    it on `request.auth`); NotAuthenticated if the request came another way."""
    client = request.auth
    if not isinstance(client, ApiClient):
        raise exceptions.NotAuthenticated()
    return client


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = (b"token", b"bearer")

    def authenticate(self, request: Any) -> tuple[ApiClient, ApiClient] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        client = ApiClient.objects.filter(token_hash=token_hash(token)).first()
        now = timezone.now()
        if client is None or client.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if client.expires_at is not None and client.expires_at <= now:
            raise exceptions.AuthenticationFailed("Token expired.")
        if client.last_used_at is None or now - client.last_used_at > _TOUCH_EVERY:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return client, client

    def authenticate_header(self, request: Any) -> str:
        return "Token"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Tells the OpenAPI schema how clients authenticate."""

    target_class = ApiTokenAuthentication
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Per-client token: "Token <token>".',
        }
