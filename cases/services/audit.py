"""The append-only audit trail."""

from typing import Any

from django.db import models

from cases.models import AuditEvent


def _object_type(obj: models.Model) -> str:
    # Options.model_name is the class name in lower case for every model; the
    # stubs allow None only for Options not yet attached to a class.
    return obj._meta.model_name or type(obj).__name__.lower()


def audit_record(
    actor: str,
    action: str,
    obj: models.Model,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=_object_type(obj),
        object_id=str(obj.pk),
        before=before,
        after=after,
    )


def audit_event(
    actor: str, action: str, obj: models.Model, after: dict[str, Any] | None = None
) -> AuditEvent:
    """An unsaved event, for bulk_create with the rows it describes."""
    return AuditEvent(
        actor=actor,
        action=action,
        object_type=_object_type(obj),
        object_id=str(obj.pk),
        after=after,
    )
