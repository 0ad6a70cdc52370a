"""Loading the national referential: a small file written in tmp_path, and once the shipped one."""

import csv
import gzip
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tablee.directory.models import Structure
from tablee.territories import referential
from tablee.territories.models import Commune, Departement, Region, Territory
from tablee.territories.referential import COLUMNS, ReferentialError, load_referential
from tablee.territories.tests.factories import ProgrammeTerritoryFactory

pytestmark = pytest.mark.django_db

REGIONS = [{"code": "53", "name": "Bretagne"}, {"code": "52", "name": "Pays de la Loire"}]
DEPARTEMENTS = [
    {"code": "22", "name": "Côtes-d'Armor", "region": "53"},
    {"code": "29", "name": "Finistère", "region": "53"},
    {"code": "44", "name": "Loire-Atlantique", "region": "52"},
]
EPCI = [
    {
        "siren": "200067460",
        "name": "CC Loudéac Communauté - Bretagne Centre",
        "kind": "CC",
        "population": "52946",
        "departement": "22",
    },
    {
        "siren": "200069409",
        "name": "CA Saint-Brieuc Armor Agglomération",
        "kind": "CA",
        "population": "153318",
        "departement": "22",
    },
    {
        "siren": "244400404",
        "name": "Nantes Métropole",
        "kind": "METRO",
        "population": "692279",
        "departement": "44",
    },
]
COMMUNES = [
    {
        "code": "22136",
        "name": "Loudéac",
        "population": "9571",
        "latitude": "48.17448",
        "longitude": "-2.75058",
        "departement": "22",
        "epci": "200067460",
    },
    {
        "code": "22278",
        "name": "Saint-Brieuc",
        "population": "44372",
        "latitude": "48.51489",
        "longitude": "-2.76332",
        "departement": "22",
        "epci": "200069409",
    },
    {
        "code": "22016",
        "name": "Île-de-Bréhat",
        "population": "377",
        "latitude": "48.84714",
        "longitude": "-3.00312",
        "departement": "22",
        "epci": "",
    },
    {
        "code": "29083",
        "name": "Île-de-Sein",
        "population": "249",
        "latitude": "48.03707",
        "longitude": "-4.85227",
        "departement": "29",
        "epci": "",
    },
    {
        "code": "44109",
        "name": "Nantes",
        "population": "323204",
        "latitude": "47.23200",
        "longitude": "-1.54800",
        "departement": "44",
        "epci": "244400404",
    },
    # A commune re-established recently: no published outline, so no centre.
    {
        "code": "22999",
        "name": "Commune rétablie",
        "population": "0",
        "latitude": "",
        "longitude": "",
        "departement": "22",
        "epci": "200067460",
    },
]


def write_referential(directory, **overrides):
    """Write the four files of a small referential; ``overrides`` replaces the rows of a file."""
    directory.mkdir(parents=True, exist_ok=True)
    data = {"regions": REGIONS, "departements": DEPARTEMENTS, "epci": EPCI, "communes": COMMUNES}
    data.update(overrides)
    for name, columns in COLUMNS.items():
        text = io.StringIO()
        rows = data[name]
        # A test may drop a column: write only those the rows have.
        present = [c for c in columns if not rows or c in rows[0]]
        writer = csv.DictWriter(text, fieldnames=present, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        (directory / f"{name}.csv.gz").write_bytes(gzip.compress(text.getvalue().encode()))
    return directory


def snapshot():
    return {
        model.__name__: sorted(model.objects.values_list())
        for model in (Region, Departement, Territory, Commune)
    }


def writes(queries) -> list[str]:
    return [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]


def test_load_creates_every_level_with_search_names(tmp_path):
    counts = load_referential(path=write_referential(tmp_path))

    assert {level: c["created"] for level, c in counts.items()} == {
        "regions": 2,
        "departements": 3,
        "territories": 3,
        "communes": 6,
    }
    loudeac = Commune.objects.select_related("territory", "departement__region").get(code="22136")
    assert loudeac.name == "Loudéac"
    assert loudeac.search_name == "loudeac"  # bulk_create skips save(): the loader folds names
    assert loudeac.population == 9571
    assert (loudeac.latitude, loudeac.longitude) == (48.17448, -2.75058)
    assert loudeac.territory.name == "CC Loudéac Communauté - Bretagne Centre"
    assert loudeac.territory.kind == Territory.Kind.CC
    assert loudeac.departement.region.name == "Bretagne"
    assert Territory.objects.get(siren="244400404").search_name == "nantes metropole"
    assert Departement.objects.get(code="22").search_name == "cotes d armor"
    sein = Commune.objects.get(code="29083")
    assert sein.territory is None
    retablie = Commune.objects.get(code="22999")
    assert retablie.latitude is None and retablie.longitude is None


def test_loading_the_same_file_twice_writes_nothing(tmp_path):
    path = write_referential(tmp_path)
    load_referential(path=path)
    before = snapshot()

    with CaptureQueriesContext(connection) as queries:
        counts = load_referential(path=path)

    assert writes(queries.captured_queries) == []
    assert snapshot() == before
    assert all(c["created"] == c["updated"] == c["deleted"] == 0 for c in counts.values())
    assert counts["communes"]["unchanged"] == 6


def test_changed_names_and_populations_are_updated(tmp_path):
    load_referential(path=write_referential(tmp_path / "v1"))
    communes = [dict(row) for row in COMMUNES]
    communes[0] |= {"name": "Loudéac-Nouvelle", "population": "9600", "epci": "200069409"}
    epci = [dict(row) for row in EPCI]
    epci[2]["population"] = "700000"

    counts = load_referential(path=write_referential(tmp_path / "v2", communes=communes, epci=epci))

    assert counts["communes"] == {
        "created": 0,
        "updated": 1,
        "unchanged": 5,
        "deleted": 0,
        "kept": 0,
    }
    assert counts["territories"]["updated"] == 1
    loudeac = Commune.objects.get(code="22136")
    assert (loudeac.name, loudeac.search_name, loudeac.population, loudeac.territory_id) == (
        "Loudéac-Nouvelle",
        "loudeac nouvelle",
        9600,
        "200069409",
    )
    assert Territory.objects.get(siren="244400404").population == 700000


def test_rows_missing_from_the_file_are_deleted_unless_used_elsewhere(tmp_path):
    load_referential(path=write_referential(tmp_path / "v1"))
    # Loudéac holds a structure and its EPCI runs a programme: both must survive.
    Structure.objects.create(name="Épicerie sociale", commune_id="22136")
    ProgrammeTerritoryFactory(territory=Territory.objects.get(siren="200067460"))
    keep = {"22278", "44109"}
    communes = [row for row in COMMUNES if row["code"] in keep]
    epci = [row for row in EPCI if row["siren"] != "200067460"]
    departements = [row for row in DEPARTEMENTS if row["code"] != "29"]

    counts = load_referential(
        path=write_referential(
            tmp_path / "v2", communes=communes, epci=epci, departements=departements
        )
    )

    assert set(Commune.objects.values_list("code", flat=True)) == keep | {"22136"}
    assert counts["communes"]["deleted"] == 3  # Bréhat, Sein, the re-established one...and
    assert counts["communes"]["kept"] == 1  # ...not Loudéac, which a structure points to
    assert Territory.objects.filter(siren="200067460").exists()
    assert counts["territories"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "deleted": 0,
        "kept": 1,
    }
    # Finistère left the file with its only commune: nothing else points to it any more.
    assert not Departement.objects.filter(code="29").exists()
    assert counts["departements"]["deleted"] == 1


def _without_column(rows, column):
    return [{k: v for k, v in row.items() if k != column} for row in rows]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"communes": _without_column(COMMUNES, "population")},
            "Le fichier communes.csv.gz n'a pas la colonne « population »",
        ),
        (
            {"epci": _without_column(EPCI, "departement")},
            "Le fichier epci.csv.gz n'a pas la colonne « departement »",
        ),
        (
            {"communes": [COMMUNES[0] | {"population": "beaucoup"}]},
            "Fichier communes.csv.gz, ligne 2 : population « beaucoup »",
        ),
        (
            {"communes": [COMMUNES[0] | {"departement": "99"}]},
            "département « 99 » absent du référentiel",
        ),
        (
            {"communes": [COMMUNES[0] | {"epci": "123456789"}]},
            "EPCI « 123456789 » absent du référentiel",
        ),
        ({"communes": [COMMUNES[0], COMMUNES[0]]}, "le code 22136 figure deux fois"),
        ({"epci": [EPCI[0] | {"kind": "SIVOM"}] + EPCI[1:]}, "nature « SIVOM » inconnue"),
        ({"communes": [COMMUNES[0] | {"latitude": "148.2"}]}, "latitude « 148.2 » invalide"),
        ({"communes": [COMMUNES[0] | {"longitude": ""}]}, "latitude et longitude vont ensemble"),
        ({"regions": [REGIONS[0] | {"code": "5 3"}]}, "code « 5 3 » invalide"),
    ],
)
def test_malformed_file_raises_a_french_error_and_writes_nothing(tmp_path, overrides, message):
    path = write_referential(tmp_path, **overrides)

    with pytest.raises(ReferentialError, match=message):
        load_referential(path=path)

    assert snapshot() == {"Region": [], "Departement": [], "Territory": [], "Commune": []}


def test_malformed_file_leaves_a_loaded_referential_untouched(tmp_path):
    load_referential(path=write_referential(tmp_path / "v1"))
    before = snapshot()
    broken = write_referential(tmp_path / "v2", communes=_without_column(COMMUNES, "name"))

    with pytest.raises(ReferentialError, match="colonne « name »"):
        load_referential(path=broken)

    assert snapshot() == before


def test_missing_or_unreadable_files_raise_a_french_error(tmp_path):
    with pytest.raises(ReferentialError, match="Fichier introuvable"):
        load_referential(path=tmp_path / "absent")

    path = write_referential(tmp_path / "bad")
    (path / "communes.csv.gz").write_text("code,name\n22136,Loudéac\n")  # not compressed
    with pytest.raises(ReferentialError, match="communes.csv.gz est illisible"):
        load_referential(path=path)
    assert not Region.objects.exists()


def test_an_empty_file_is_refused_rather_than_deleting_everything(tmp_path):
    load_referential(path=write_referential(tmp_path / "v1"))
    before = snapshot()

    with pytest.raises(ReferentialError, match="communes.csv.gz ne contient aucune ligne"):
        load_referential(path=write_referential(tmp_path / "v2", communes=[]))

    assert snapshot() == before


def test_a_line_with_too_many_values_is_refused(tmp_path):
    path = write_referential(tmp_path)
    text = "code,name\n53,Bretagne\n52,Pays de la Loire,en trop\n"
    (path / "regions.csv.gz").write_bytes(gzip.compress(text.encode()))

    with pytest.raises(ReferentialError, match="regions.csv.gz, ligne 3 : le nombre de valeurs"):
        load_referential(path=path)

    assert not Region.objects.exists()


def test_a_failure_while_writing_rolls_everything_back(tmp_path, monkeypatch):
    def fail(model, wanted):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(referential, "_delete_missing", fail)

    with pytest.raises(RuntimeError):
        load_referential(path=write_referential(tmp_path))

    assert snapshot() == {"Region": [], "Departement": [], "Territory": [], "Commune": []}


def test_command_prints_counts_in_french(tmp_path):
    path = write_referential(tmp_path)
    out = io.StringIO()

    call_command("load_referential", "--dossier", str(path), stdout=out)
    call_command("load_referential", "--dossier", str(path), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[3] == (
        "Communes : 6 (ajouts : 6, mises à jour : 0, sans changement : 0, suppressions : 0)"
    )
    assert lines[8] == (
        "Communes : 6 (ajouts : 0, mises à jour : 0, sans changement : 6, suppressions : 0)"
    )
    assert lines[4].startswith("Référentiel chargé en ")


def test_command_refuses_a_malformed_file(tmp_path):
    path = write_referential(tmp_path, regions=_without_column(REGIONS, "name"))

    with pytest.raises(CommandError, match="colonne « name ».*Rien n'a été modifié"):
        call_command("load_referential", "--dossier", str(path), stdout=io.StringIO())

    assert not Region.objects.exists()


def test_shipped_referential_holds_all_of_france():
    """The one test that loads the real file (about two seconds on SQLite)."""
    counts = load_referential()

    assert counts["communes"]["created"] > 34_000
    assert counts["territories"]["created"] >= 1_250
    assert counts["departements"]["created"] == 101
    assert counts["regions"]["created"] == 18
    loudeac = Commune.objects.select_related("territory", "departement__region").get(code="22136")
    assert loudeac.name == "Loudéac"
    assert loudeac.territory.siren == "200067460"
    assert "Loudéac Communauté - Bretagne Centre" in loudeac.territory.name
    assert loudeac.departement.code == "22"
    assert loudeac.departement.region.code == "53"
    assert loudeac.population > 9_000
    assert 48.1 < loudeac.latitude < 48.3 and -2.9 < loudeac.longitude < -2.6
    assert loudeac.territory.departement_id == "22"
    # Corsica's letters, overseas départements, and INSEE articles in names.
    assert Commune.objects.get(code="2A004").name == "Ajaccio"
    assert Commune.objects.get(code="97411").departement.region.name == "La Réunion"
    assert Commune.objects.get(code="01001").name == "L'Abergement-Clémenciat"
    assert Territory.objects.get(siren="200046977").kind == Territory.Kind.MET69
    assert Commune.objects.search("saint brieuc").filter(code="22278").exists()
