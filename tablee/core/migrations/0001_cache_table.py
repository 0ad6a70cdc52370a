"""The table of the default cache (``CACHES`` in the settings): created with the others by
``migrate``, so that no deployment forgets ``createcachetable``. It does nothing when the cache
is elsewhere (TABLEE_CACHE_URL: Redis) or the table exists already."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
