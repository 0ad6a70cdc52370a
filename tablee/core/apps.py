from django.apps import AppConfig
from django.db.models.signals import post_migrate


def analyze_sqlite(using, **kwargs):
    """Refresh SQLite's planner statistics after migrations.

    A migration that rebuilds a table drops them, and the planner then picks poor indexes on large
    tables (seen in benchmarks/ at national scale). PostgreSQL's autovacuum does this by itself.
    """
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class CoreConfig(AppConfig):
    name = "tablee.core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(analyze_sqlite, sender=self)
