from django.db import migrations

# The shared taxonomy of barriers (issue "Territorial diagnostic"); admins extend it as data.
CATEGORIES = [
    ("economique", "Économique"),
    ("mobilite-distance", "Mobilité et distance"),
    ("equipement-cuisine-stockage", "Équipement, cuisine et stockage"),
    ("connaissances-competences", "Connaissances et compétences"),
    ("sante-regimes-allergies", "Santé, régimes et allergies"),
    ("isolement", "Isolement"),
    ("droits-demarches", "Droits et démarches"),
    ("langue", "Langue"),
    ("logement", "Logement"),
    ("offre-alimentaire-locale", "Offre alimentaire locale"),
    ("honte-non-recours", "Honte et non-recours"),
    ("autre", "Autre"),
]


def load(apps, schema_editor):
    BarrierCategory = apps.get_model("diagnostic", "BarrierCategory")
    for position, (code, label) in enumerate(CATEGORIES, start=1):
        BarrierCategory.objects.get_or_create(
            code=code, defaults={"label": label, "position": position * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("diagnostic", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
