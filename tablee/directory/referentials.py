"""The shared lists of the directory (Category rows), loaded from the shipped référentiels."""

import csv
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

# Tablée's own list of food-aid forms, the facets Soliguide users rely on.
FOOD_AID_KINDS = [
    ("colis", "Colis alimentaire"),
    ("epicerie-solidaire", "Épicerie solidaire"),
    ("repas", "Repas (restaurant social, distribution)"),
    ("frigo-solidaire", "Frigo solidaire"),
    ("cheques-alimentaires", "Chèques ou bons alimentaires"),
    ("jardin", "Jardin partagé ou solidaire"),
    ("atelier-cuisine", "Atelier cuisine"),
]


def category_rows() -> list[tuple[str, str, str, str]]:
    """Every (kind, value, label, description) of the shipped lists."""
    rows = []
    for kind, filename in [
        ("thematique", "thematiques_v1.csv"),
        ("public", "publics_v1.csv"),
        ("reseau", "reseaux_porteurs_v1.csv"),
    ]:
        with open(DATA_DIR / filename, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.append((kind, row["value"], row["label"], row.get("description") or ""))
    with open(
        DATA_DIR / "nomenclature_categorie_finess.csv", encoding="utf-8", newline=""
    ) as handle:
        lines = (line for line in handle if not line.startswith("#"))
        for row in csv.DictReader(lines, delimiter=";"):
            # Closed categories are kept out: no new structure can belong to them.
            if row["statut"] == "ouverte":
                rows.append(("finess", row["code"], row["libelle"], ""))
    rows.extend(("food_aid", value, label, "") for value, label in FOOD_AID_KINDS)
    return rows


def load_categories(category_model) -> int:
    """Create missing entries and refresh labels; never deletes (structures may point to them).

    Takes the model as an argument so that the data migration can pass its historical model.
    """
    existing = {(c.kind, c.value): c for c in category_model.objects.all()}
    to_create, to_update = [], []
    for kind, value, label, description in category_rows():
        current = existing.get((kind, value))
        if current is None:
            to_create.append(
                category_model(kind=kind, value=value, label=label, description=description)
            )
        elif (current.label, current.description) != (label, description):
            current.label, current.description = label, description
            to_update.append(current)
    category_model.objects.bulk_create(to_create)
    category_model.objects.bulk_update(to_update, ["label", "description"])
    return len(to_create) + len(to_update)
