from django.apps import AppConfig


class ModelsMlConfig(AppConfig):
    name = "models_ml"
    verbose_name = "Models"
