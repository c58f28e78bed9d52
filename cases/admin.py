from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

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
)


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "token_prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    readonly_fields = ["token_prefix", "created_at", "last_used_at"]
    fields = [
        "name",
        "expires_at",
        "revoked_at",
        "token_prefix",
        "created_at",
        "last_used_at",
    ]

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
            expires_at=obj.expires_at,
            actor=f"user:{request.user.get_username()}",
        )
        obj.pk = client.pk
        obj.token_prefix = client.token_prefix
        messages.warning(request, f"Token for {client.name} (shown only once): {token}")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "order_id",
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
    list_filter = ["channel"]
    date_hierarchy = "created_at"


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["id", "order", "status", "priority", "queue_reason", "created_at"]
    list_filter = ["status", "queue_reason"]
    raw_id_fields = ["order"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["order", "value", "source", "known_at", "created_by"]
    list_filter = ["value", "source"]
    raw_id_fields = ["order", "case"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail can be searched, never edited or deleted."""

    list_display = ["created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    # created_at is not editable, so the detail page shows it only when named.
    fields = readonly_fields = [
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "before",
        "after",
    ]
    search_fields = ["actor", "object_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "client", "events", "active", "created_at"]
    list_filter = ["active"]
    fields = ["client", "url", "events", "active"]
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
class WebhookDeliveryAdmin(admin.ModelAdmin):
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
class ReasonCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "applies_to", "active"]
    list_filter = ["applies_to", "active"]
