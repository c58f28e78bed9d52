from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from cases.admin_audit import AuditedAdmin
from cases.models import (
    ApiClient,
    AuditEvent,
    Case,
    Label,
    Order,
    ReasonCode,
    WebhookDelivery,
    WebhookEndpoint,
)
from cases.services.clients import api_client_create
from cases.services.webhooks import (
    webhook_endpoint_create,
    webhook_replay,
    webhook_secret_rotate,
    webhook_url_validate,
)
from rules.lists import list_value
from rules.models import ListEntry, Rule, RuleVersion
from tenants.models import Membership, Tenant

User = get_user_model()
# Only a superuser may grant privileges: these fields are read-only for others.
PRIVILEGE_FIELDS = ["is_superuser", "is_staff", "groups", "user_permissions"]


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class RestrictedUserAdmin(UserAdmin, AuditedAdmin):
    """The admin role manages accounts but cannot raise anyone's privileges,
    its own included, nor touch a superuser's account."""

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += PRIVILEGE_FIELDS
        return fields

    def has_change_permission(
        self, request: HttpRequest, obj: AbstractUser | None = None
    ) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(
        self, request: HttpRequest, obj: AbstractUser | None = None
    ) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Group)
class RestrictedGroupAdmin(GroupAdmin, AuditedAdmin):
    """Roles' permissions change only by a superuser."""

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser


class WebhookEndpointForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("url"):
            webhook_url_validate(data["url"])
        return data


@admin.register(ApiClient)
class ApiClientAdmin(AuditedAdmin):
    list_display = [
        "name",
        "tenant",
        "token_prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    readonly_fields = ["token_prefix", "created_at", "last_used_at"]
    list_filter = ["tenant"]
    fields = [
        "name",
        "tenant",
        "expires_at",
        "revoked_at",
        "token_prefix",
        "created_at",
        "last_used_at",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list:
        # Its orders carry its tenant: a client never moves to another.
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["tenant"] if obj is not None else fields

    def save_model(
        self,
        request: HttpRequest,
        obj: ApiClient,
        form: object,
        change: bool,  # noqa: FBT001
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        client, token = api_client_create(
            obj.name,
            tenant=obj.tenant,
            expires_at=obj.expires_at,
            actor=f"user:{request.user.get_username()}",
        )
        obj.pk = client.pk
        obj.token_prefix = client.token_prefix
        messages.warning(request, f"Token for {client.name} (shown only once): {token}")


@admin.register(Tenant)
class TenantAdmin(AuditedAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "tenant", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["user__username", "tenant__name"]


@admin.register(Order)
class OrderAdmin(AuditedAdmin):
    list_display = [
        "order_id",
        "tenant",
        "created_at",
        "amount",
        "currency",
        "customer_id",
        "seller_id",
    ]
    search_fields = [
        "order_id",
        "customer_id",
        "email",
        "device_id",
        "card_fingerprint",
    ]
    list_filter = ["tenant", "channel"]
    date_hierarchy = "created_at"


@admin.register(Case)
class CaseAdmin(AuditedAdmin):
    list_display = ["id", "order", "status", "priority", "queue_reason", "created_at"]
    list_filter = ["tenant", "status", "queue_reason"]
    raw_id_fields = ["order"]


@admin.register(Label)
class LabelAdmin(AuditedAdmin):
    list_display = ["order", "value", "source", "known_at", "created_by"]
    list_filter = ["value", "source"]
    raw_id_fields = ["order", "case"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(AuditedAdmin):
    """Shown in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail can be searched, never edited or deleted."""

    list_display = ["created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    # created_at is not editable, so the detail page shows it only when named.
    fields = readonly_fields = (
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "before",
        "after",
    )
    search_fields = ["actor", "object_id"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditedAdmin):
    list_display = ["url", "client", "events", "active", "created_at"]
    list_filter = ["active"]
    fields = ["client", "url", "events", "active"]
    form = WebhookEndpointForm
    actions = ["rotate_secret"]

    def save_model(
        self,
        request: HttpRequest,
        obj: WebhookEndpoint,
        form: object,
        change: bool,  # noqa: FBT001
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        endpoint, secret = webhook_endpoint_create(
            obj.client, obj.url, obj.events, actor=f"user:{request.user.get_username()}"
        )
        obj.pk = endpoint.pk
        messages.warning(request, f"Signing secret (shown only once): {secret}")

    @admin.action(description="Rotate the signing secret (old one valid 24 h)")
    def rotate_secret(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> None:
        for endpoint in queryset:
            secret = webhook_secret_rotate(
                endpoint, actor=f"user:{request.user.get_username()}"
            )
            messages.warning(request, f"New secret for {endpoint.url}: {secret}")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AuditedAdmin):
    """Deliveries, with the dead-letter list (filter status = dead) and replay."""

    list_display = [
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_error",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Replay the selected deliveries")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset:
            webhook_replay(delivery, actor=f"user:{request.user.get_username()}")
        messages.success(request, "Replay queued.")


@admin.register(ReasonCode)
class ReasonCodeAdmin(AuditedAdmin):
    list_display = ["code", "label", "applies_to", "active"]
    list_filter = ["applies_to", "active"]


# Rules are written on the workbench's rules pages, where every change is
# checked, versioned and audited; the admin shows them.
@admin.register(Rule)
class RuleAdmin(ReadOnlyAdmin):
    list_display = ["name", "tenant", "state", "action", "version", "run_errors"]
    list_filter = ["tenant", "state", "action"]
    search_fields = ["name", "expression"]


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdmin):
    list_display = ["rule", "number", "state", "action", "changed_by", "created_at"]
    raw_id_fields = ["rule"]


class ListEntryForm(forms.ModelForm):
    class Meta:
        model = ListEntry
        fields = ["tenant", "kind", "entity_type", "value", "expires_at", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("entity_type") and data.get("value"):
            try:
                data["value"] = list_value(data["entity_type"], data["value"])
            except ValidationError as exc:
                self.add_error("value", exc.message_dict.get("value", exc.messages))
        return data


@admin.register(ListEntry)
class ListEntryAdmin(AuditedAdmin):
    form = ListEntryForm
    list_display = ["value", "entity_type", "kind", "tenant", "expires_at", "added_by"]
    list_filter = ["tenant", "kind", "entity_type"]
    search_fields = ["value", "reason"]

    def save_model(
        self,
        request: HttpRequest,
        obj: Any,
        form: Any,
        change: Any,  # noqa: FBT001
    ) -> None:
        if not change:
            obj.added_by = f"user:{request.user.get_username()}"
        super().save_model(request, obj, form, change)
