from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "tablee.plans"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Concertation et plans d'action"
