"""Every change made in the admin is also an AuditEvent (README, "Audit").

The admin writes a LogEntry for each addition, change and deletion; each one
saved becomes an audit event by the same user. Deleting several objects at
once writes its LogEntries in bulk, without signals: `AuditedAdmin` audits
those itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.db.models.signals import post_save
from django.http import HttpRequest

from cases.models import AuditEvent

ACTIONS = {1: "admin.added", 2: "admin.changed", 3: "admin.deleted"}


def _audit_event(entry: LogEntry) -> AuditEvent:
    return AuditEvent(
        actor=f"user:{entry.user.get_username()[:140]}",
        action=ACTIONS.get(entry.action_flag, "admin.changed"),
        object_type=(entry.content_type.model if entry.content_type else "")[:40],
        object_id=str(entry.object_id or "")[:64],
        after={"repr": entry.object_repr, "change": entry.get_change_message()},
    )


def _log_entry_saved(sender: Any, instance: LogEntry, created: bool, **kw: Any) -> None:  # noqa: FBT001
    if created:
        _audit_event(instance).save()


def connect() -> None:
    post_save.connect(_log_entry_saved, sender=LogEntry, dispatch_uid="admin_audit")


class AuditedAdmin(admin.ModelAdmin):
    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        entries = super().log_deletions(request, queryset)
        if isinstance(entries, list) and len(entries) > 1:  # bulk: no post_save
            AuditEvent.objects.bulk_create(_audit_event(e) for e in entries)
        return entries
