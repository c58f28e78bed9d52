from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Review cases"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from cases import admin_audit, views_auth

        user_logged_in.connect(views_auth.login_succeeded_audit)
        user_locked_out.connect(views_auth.login_locked_out_audit)
        admin_audit.connect()
