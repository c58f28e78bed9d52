from django.urls import include, path

from bench.floor import FloorOrderCreateApi

urlpatterns = [
    path("bench/floor/", FloorOrderCreateApi.as_view(), name="bench-floor"),
    path("", include("riskreview.urls")),
]
