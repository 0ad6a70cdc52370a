from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tablee.accounts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Comptes et rôles"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from tablee.accounts import signals

        user_logged_in.connect(signals.on_logged_in, dispatch_uid="tablee_audit_login")
        user_logged_out.connect(signals.on_logged_out, dispatch_uid="tablee_audit_logout")
        user_login_failed.connect(signals.on_login_failed, dispatch_uid="tablee_audit_failed")
        user_locked_out.connect(signals.on_locked_out, dispatch_uid="tablee_audit_lockout")
