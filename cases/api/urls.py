from django.urls import path

from cases.api import rules, views, webhooks

app_name = "api"

urlpatterns = [
    path("orders/", views.OrderCreateApi.as_view(), name="orders-create"),
    path("orders/batch/", views.OrderBatchCreateApi.as_view(), name="orders-batch"),
    path(
        "orders/<str:order_id>/", views.OrderDetailApi.as_view(), name="orders-detail"
    ),
    path(
        "orders/<str:order_id>/outcomes/",
        views.OutcomeCreateApi.as_view(),
        name="orders-outcomes",
    ),
    path("cases/<int:case_id>/", views.CaseDetailApi.as_view(), name="cases-detail"),
    path("lists/", rules.ListEntryListCreateApi.as_view(), name="lists"),
    path(
        "lists/<int:entry_id>/", rules.ListEntryDeleteApi.as_view(), name="lists-delete"
    ),
    path("rules/backtest/", rules.RuleBacktestApi.as_view(), name="rules-backtest"),
    path("webhooks/", webhooks.WebhookListCreateApi.as_view(), name="webhooks"),
    path(
        "webhooks/<int:webhook_id>/",
        webhooks.WebhookDeleteApi.as_view(),
        name="webhooks-delete",
    ),
    path(
        "webhooks/<int:webhook_id>/rotate-secret/",
        webhooks.WebhookRotateApi.as_view(),
        name="webhooks-rotate",
    ),
]
