from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "tablee.activities"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Ateliers et formations"
