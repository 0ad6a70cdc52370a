from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "tablee.directory"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Annuaire"
