from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "tablee.territories"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Territoires et programmes"
