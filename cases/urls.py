from django.urls import path

from cases import apis, apis_webhooks

app_name = "api"

urlpatterns = [
    path("orders/", apis.OrderCreateApi.as_view(), name="orders-create"),
    path("orders/batch/", apis.OrderBatchCreateApi.as_view(), name="orders-batch"),
    path("orders/<str:order_id>/", apis.OrderDetailApi.as_view(), name="orders-detail"),
    path(
        "orders/<str:order_id>/outcomes/",
        apis.OutcomeCreateApi.as_view(),
        name="orders-outcomes",
    ),
    path("cases/<int:case_id>/", apis.CaseDetailApi.as_view(), name="cases-detail"),
    path("webhooks/", apis_webhooks.WebhookListCreateApi.as_view(), name="webhooks"),
    path(
        "webhooks/<int:webhook_id>/",
        apis_webhooks.WebhookDeleteApi.as_view(),
        name="webhooks-delete",
    ),
    path(
        "webhooks/<int:webhook_id>/rotate-secret/",
        apis_webhooks.WebhookRotateApi.as_view(),
        name="webhooks-rotate",
    ),
]
