"""Sign-in with throttling: too many failures for a username → wait."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from cases.models import AuditEvent


def _failures(username: str) -> int:
    since = timezone.now() - timedelta(minutes=settings.LOGIN_THROTTLE_MINUTES)
    return AuditEvent.objects.filter(
        action="login.failed",
        object_type="user",
        object_id=username[:64],
        created_at__gte=since,
    ).count()


def _record(action: str, username: str, request: HttpRequest) -> None:
    AuditEvent.objects.create(
        actor=f"user:{username[:140]}",
        action=action,
        object_type="user",
        object_id=username[:64],
        after={"ip": request.META.get("REMOTE_ADDR", "")},
    )


class ThrottledLoginView(auth_views.LoginView):
    def post(
        self, request: HttpRequest, *args: object, **kwargs: object
    ) -> HttpResponse:
        username = str(request.POST.get("username", ""))
        if _failures(username) >= settings.LOGIN_THROTTLE_FAILURES:
            form = self.get_form()
            form.add_error(
                None, "Too many failed sign-ins. Try again in a few minutes."
            )
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(settings.LOGIN_THROTTLE_MINUTES * 60)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        _record(
            "login.failed", str(self.request.POST.get("username", "")), self.request
        )
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        _record("login.succeeded", form.get_user().get_username(), self.request)
        return super().form_valid(form)
