"""Site-wide views that belong to no app."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without a link tag (error pages, the
    API docs before they load): answer with the app's icon instead of a 404."""
    return redirect(static("favicon.svg"), permanent=True)
