"""Request types for views, so the type checker knows what middleware and
decorators guarantee."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """Any request: django-htmx's middleware sets `htmx` on every one."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request behind `@login_required`: `user` is a signed-in account, never
    AnonymousUser."""

    user: User
