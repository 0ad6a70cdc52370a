from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "tablee.reports"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Tableaux de bord et rapports"
