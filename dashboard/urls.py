from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("reviewers/", views.reviewers, name="reviewers"),
    path("models/", views.models, name="models"),
    path("export/<slug:table>.csv", views.export, name="export"),
]
