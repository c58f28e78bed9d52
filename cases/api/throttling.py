"""Per-client API rate limits: 429 with Retry-After (DRF does the headers)."""

from typing import Any

from rest_framework.throttling import SimpleRateThrottle


class ApiClientRateThrottle(SimpleRateThrottle):
    scope = "api_client"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        client = getattr(request, "auth", None)
        if client is None or not hasattr(client, "token_hash"):
            return None  # anonymous requests are refused before this matters
        return self.cache_format % {"scope": self.scope, "ident": client.pk}
