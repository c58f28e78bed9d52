from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from cases.views_health import health
from riskreview.views import favicon

urlpatterns = [
    path("", include("cases.web_urls")),
    path("models/", include("cases.model_urls")),
    path("dashboard/", include("dashboard.urls")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon),
    path("api/v1/", include("cases.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/v1/docs/",
        SpectacularRedocView.as_view(url_name="schema"),
        name="api-docs",
    ),
]

handler404 = "riskreview.errors.not_found"
handler500 = "riskreview.errors.server_error"
