from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "tablee.network"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Réseau des structures"
