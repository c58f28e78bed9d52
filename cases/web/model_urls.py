from django.urls import path

from cases.web import model_views

app_name = "models"

urlpatterns = [
    path("", model_views.model_versions, name="list"),
    path("<int:pk>/rollback/", model_views.model_version_rollback, name="rollback"),
]
