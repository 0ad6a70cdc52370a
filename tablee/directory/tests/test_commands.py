"""The import_structures and export_structures commands."""

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from tablee.accounts.models import AuditEvent
from tablee.directory.models import Structure
from tablee.directory.tests.test_import import CSV_HEADER, FIXTURE, csv_line
from tablee.territories.tests.factories import CommuneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def loudeac():
    return CommuneFactory(code="22136", name="Loudéac")


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_prints_progress_and_a_summary(tmp_path, loudeac):
    path = tmp_path / "ccas.csv"
    path.write_text(CSV_HEADER + "\n" + csv_line() + "\n", encoding="utf-8")
    out, err = call("import_structures", str(path))
    assert "écriture : 1/1" in err
    assert "Structures : 1 créée(s), 0 mise(s) à jour" in out
    assert "Import terminé" in out
    assert Structure.objects.get().source == "ccas"  # the file name by default
    out, _ = call("import_structures", str(path), "--source", "ccas")
    assert "0 créée(s), 0 mise(s) à jour, 1 inchangée(s)" in out


def test_refused_rows_stop_the_command_and_nothing_is_written(tmp_path, loudeac):
    path = tmp_path / "ccas.csv"
    path.write_text(
        CSV_HEADER + "\n" + csv_line() + "\n" + csv_line(id="s2", code_insee="99999") + "\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as caught:
        call("import_structures", str(path), "--source", "ccas")
    assert "Rien n'a été écrit." in str(caught.value)
    assert not Structure.objects.exists()
    out, err = call("import_structures", str(path), "--source", "ccas", "--skip-invalid")
    assert "ccas.csv, ligne 3 : code_insee : le code commune 99999 n'existe pas." in err
    assert Structure.objects.count() == 1


def test_dry_run_writes_nothing(tmp_path, loudeac):
    path = tmp_path / "ccas.csv"
    path.write_text(CSV_HEADER + "\n" + csv_line() + "\n", encoding="utf-8")
    out, _ = call("import_structures", str(path), "--dry-run")
    assert "Essai à blanc : rien n'a été écrit." in out
    assert not Structure.objects.exists()


def test_official_fixture_is_refused_with_reasons(loudeac):
    with pytest.raises(CommandError) as caught:
        call("import_structures", str(FIXTURE / "dataset.xlsx"), "--source", "test")
    assert "3 ligne(s) refusée(s). Rien n'a été écrit." in str(caught.value)


def test_unreadable_or_missing_files(tmp_path):
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call("import_structures", str(tmp_path / "absent.csv"))
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="Fichier refusé. Rien n'a été écrit."):
        call("import_structures", str(empty))
    other = tmp_path / "liste.csv"
    other.write_text("Structure;Ville\nCCAS;Loudéac\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_structures", str(other), stderr=err)
    assert "n'est pas au format data·inclusion" in err.getvalue()


@pytest.mark.parametrize("fmt", ["di-json", "di-csv", "xlsx"])
def test_export_writes_the_file_and_an_audit_event(tmp_path, loudeac, fmt):
    from tablee.directory.tests.factories import StructureFactory

    StructureFactory(name="Restos du Cœur", commune=loudeac)
    target = tmp_path / f"annuaire.{'xlsx' if fmt == 'xlsx' else 'zip'}"
    out, _ = call("export_structures", "--format", fmt, "--output", str(target))
    assert "1 structure(s) et 0 service(s) exportés" in out
    assert target.stat().st_size > 0
    if fmt == "di-json":
        with zipfile.ZipFile(target) as archive:
            assert json.loads(archive.read("structures.json"))[0]["nom"] == "Restos du Cœur"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.detail["structures"] == 1


def test_refused_rows_beyond_those_kept_are_counted(tmp_path, loudeac, monkeypatch):
    from tablee.directory import importers

    monkeypatch.setattr(importers, "PREVIEW_REFUSED_ROWS", 1)
    path = tmp_path / "ccas.csv"
    lines = [csv_line(id=f"s{i}", code_insee="99999") for i in range(3)]
    path.write_text(CSV_HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call("import_structures", str(path))
    assert "3 ligne(s) refusée(s). Rien n'a été écrit." in str(caught.value)
    out, err = call("import_structures", str(path), "--skip-invalid")
    assert err.count("le code commune 99999 n'existe pas.") == 1
    assert "… et 2 autre(s) ligne(s) refusée(s)." in err
    assert not Structure.objects.exists()
