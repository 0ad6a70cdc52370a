from django.db import migrations


def load(apps, schema_editor):
    from tablee.directory.referentials import load_categories

    load_categories(apps.get_model("directory", "Category"))


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_structures_services_contacts")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
