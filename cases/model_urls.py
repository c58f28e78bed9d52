from django.urls import path

from cases import views_models

app_name = "models"

urlpatterns = [
    path("", views_models.model_versions, name="list"),
    path("<int:pk>/rollback/", views_models.model_version_rollback, name="rollback"),
]
