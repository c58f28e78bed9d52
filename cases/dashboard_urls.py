from django.urls import path

from cases import views_dashboard

app_name = "dashboard"

urlpatterns = [
    path("", views_dashboard.overview, name="overview"),
    path("reviewers/", views_dashboard.reviewers, name="reviewers"),
    path("models/", views_dashboard.models, name="models"),
    path("export/<slug:table>.csv", views_dashboard.export, name="export"),
]
