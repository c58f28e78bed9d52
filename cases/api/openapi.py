"""OpenAPI schema details: error responses, and request bodies from pydantic."""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent

ERROR = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "extra": {"type": "object", "additionalProperties": True},
    },
    "required": ["message", "extra"],
}


def _codes(path: str, method: str, operation: dict[str, Any]) -> dict[str, str]:
    codes = {
        "401": "Missing, invalid, revoked or expired token.",
        "429": "Too many requests for this client: see Retry-After.",
    }
    if "{" in path:
        codes["404"] = "No such object for this client."
    query = any(p["in"] == "query" for p in operation.get("parameters", []))
    if method in {"post", "put", "patch"} or query:
        codes["400"] = "Invalid input: field-level messages in extra.fields."
    if method in {"post", "put", "patch"}:
        codes["413"] = "Request body too large."
        codes["415"] = "Unsupported content type (send application/json)."
    headers = {
        p["name"] for p in operation.get("parameters", []) if p["in"] == "header"
    }
    if "Idempotency-Key" in headers:
        codes["409"] = "The first request with this Idempotency-Key is still running."
        codes["422"] = "This Idempotency-Key was used with a different body."
    return codes


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            for code, description in _codes(path, method, operation).items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": ref}
                )
    return result


class RequestModelExtension(OpenApiSerializerExtension):
    """Request bodies as pydantic validates them (drf-spectacular's own pydantic
    extension uses serialization mode, which drops the input rules)."""

    target_class = "cases.schemas.ApiModel"
    match_subclasses = True
    priority = 1

    def get_name(self, auto_schema: Any, direction: str) -> str:
        return self.target.__name__

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        from pydantic.json_schema import model_json_schema

        schema = model_json_schema(
            self.target, ref_template="#/components/schemas/{model}", mode="validation"
        )
        for name, sub_schema in schema.pop("$defs", {}).items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(
                    name=name,
                    type=ResolvedComponent.SCHEMA,
                    object=name,
                    schema=sub_schema,
                )
            )
        return schema
