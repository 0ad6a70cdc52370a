from django.apps import AppConfig


class DiagnosticConfig(AppConfig):
    name = "tablee.diagnostic"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Diagnostic territorial"
