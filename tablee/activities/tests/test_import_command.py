"""``manage.py import_sessions``: the same import as the pages, from the command line."""

import io

import pytest
from django.core.management import CommandError, call_command

from tablee.accounts.models import AuditEvent
from tablee.activities.models import Headcount, Session
from tablee.activities.tests.factories_evaluations import EvaluationWorld
from tablee.territories.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

CONTENT = (
    "Date;Heure;Fin;Communauté de communes;Atelier;Participant·es\n"
    "12/03/2025;14:00;16:00;CC Une;Atelier cuisine;12\n"
    "13/03/2025;09:00;12:00;CC Deux;Repérer et orienter;7\n"
)


@pytest.fixture
def world():
    return EvaluationWorld()


@pytest.fixture
def history(tmp_path):
    path = tmp_path / "historique.csv"
    path.write_text(CONTENT, encoding="utf-8")
    return path


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_sessions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_and_prints_the_counts(world, history):
    out, err = call(str(history), "--programme", str(world.programme.pk))

    assert "Import terminé : 2 séance(s) créée(s), 0 mise(s) à jour, 0 inchangée(s)." in out
    assert "territoire = « Communauté de communes »" in out
    assert err == ""
    assert Session.objects.count() == 2
    assert sorted(Headcount.objects.values_list("count", flat=True)) == [7, 12]
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_IMPORTED)
    assert event.actor is None
    assert event.detail["source"] == "command"
    assert event.detail["created"] == 2


def test_the_programme_may_be_named_exactly(world, history):
    out, _ = call(str(history), "--programme", "P")

    assert "2 séance(s) créée(s)" in out


def test_a_second_run_changes_nothing(world, history):
    call(str(history), "--programme", "P")
    before = sorted(Session.objects.values_list("id", "version", "updated_at"))

    out, _ = call(str(history), "--programme", "P")

    assert "0 séance(s) créée(s), 0 mise(s) à jour, 2 inchangée(s)." in out
    assert sorted(Session.objects.values_list("id", "version", "updated_at")) == before


def test_a_dry_run_writes_nothing(world, history):
    out, _ = call(str(history), "--programme", "P", "--dry-run")

    assert "Simulation, rien n'a été écrit : 2 séance(s) à créer, 0 à mettre à jour" in out
    assert not Session.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SESSIONS_IMPORTED).exists()


def test_a_mapping_names_the_columns_the_guess_misses(world, tmp_path):
    path = tmp_path / "autre.csv"
    path.write_text("Quand;Où;Quoi\n12/03/2025 14:00;CC Une;Atelier cuisine\n", encoding="utf-8")

    out, _ = call(
        str(path), "--programme", "P", "--mapping", "date=Quand,territoire=Où,format=Quoi"
    )

    assert "1 séance(s) créée(s)" in out
    assert Session.objects.get().format == world.cooking


def test_bad_rows_are_printed_and_nothing_is_written(world, tmp_path):
    path = tmp_path / "faux.csv"
    path.write_text(
        CONTENT + "31/02/2025;14:00;16:00;CC Une;Atelier cuisine;-2\n", encoding="utf-8"
    )
    err = io.StringIO()

    with pytest.raises(
        CommandError, match="2 problème\\(s\\) dans le fichier : rien n'a été écrit."
    ):
        call_command("import_sessions", str(path), "--programme", "P", stderr=err)

    assert "Ligne 4, colonne « Date » : date invalide « 31/02/2025 »" in err.getvalue()
    assert "Ligne 4, colonne « Participant·es » : nombre négatif « -2 »." in err.getvalue()
    assert not Session.objects.exists()


def test_missing_columns_are_refused(world, tmp_path):
    path = tmp_path / "incomplet.csv"
    path.write_text("Date;Lieu\n12/03/2025;Salle\n", encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(CommandError, match="Les colonnes ne conviennent pas : rien n'a été écrit."):
        call_command("import_sessions", str(path), "--programme", "P", stderr=err)

    assert "Choisissez la colonne du champ « Territoire (EPCI) »." in err.getvalue()
    assert "Choisissez la colonne du champ « Format »." in err.getvalue()
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--programme", "Programme inexistant"], "Programme inconnu : « Programme inexistant »"),
        (
            ["--programme", "P", "--mapping", "couleur=Bleu"],
            "--mapping : champ « couleur » inconnu",
        ),
        (["--programme", "P", "--mapping", "date"], "écrivez champ=Nom de la colonne"),
    ],
    ids=["unknown-programme", "unknown-field", "no-equals"],
)
def test_bad_options_are_refused(world, history, args, message):
    with pytest.raises(CommandError, match=message):
        call(str(history), *args)

    assert not Session.objects.exists()


def test_two_programmes_with_the_same_name_need_the_identifier(world, history):
    ProgrammeFactory(name="P")

    with pytest.raises(CommandError, match="Plusieurs programmes s'appellent « P »"):
        call(str(history), "--programme", "P")


def test_an_unreadable_or_missing_file_is_refused(world, tmp_path):
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x00\x01\x02\x03")
    err = io.StringIO()

    with pytest.raises(CommandError, match="Le fichier n'a pas pu être lu"):
        call_command("import_sessions", str(binary), "--programme", "P", stderr=err)
    with pytest.raises(CommandError, match="Impossible de lire"):
        call(str(tmp_path / "absent.csv"), "--programme", "P")

    assert "octets binaires" in err.getvalue()
    assert not Session.objects.exists()
