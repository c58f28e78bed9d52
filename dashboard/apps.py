from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The leads' metrics pages. Reads cases and models_ml; nothing imports it."""

    name = "dashboard"
