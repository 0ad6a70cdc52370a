from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tablee.accounts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Comptes et rôles"
