"""Import of the history of sessions: the four pages, idempotence, every malformed row, who may
import."""

import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from tablee.accounts.models import AuditEvent
from tablee.activities.imports import (
    CREATE,
    UNCHANGED,
    UPDATE,
    CellError,
    ImportRefused,
    build_plan,
    check_mapping,
    guess_mapping,
    parse_duration,
    parse_mapping_option,
    parse_time,
    sessions_import,
)
from tablee.activities.models import Headcount, Session
from tablee.activities.tests.factories import SessionFactory, at
from tablee.activities.tests.factories_evaluations import (
    FORBIDDEN_ROLES,
    EvaluationWorld,
    text,
)
from tablee.core.spreadsheets import read_table
from tablee.plans.tests.factories import ActionFactory, ActionPlanFactory
from tablee.territories.models import Audience, SessionKind
from tablee.territories.tests.factories import CommuneFactory

pytestmark = pytest.mark.django_db

HEADER = "Date;Début;Fin;EPCI;Atelier;Public;Lieu;Commune;Statut;Nombre de participants;Action"
ROWS = [
    "12/03/2025;14h00;16h30;CC Une;Atelier cuisine;Personnes;Salle des fêtes;Loudéac;Réalisée;12;A1",
    "20/05/2025;09:30;;cc deux;REPERER ET ORIENTER;PROFESSIONNEL·LES;;;realisee;8;",
    "02/06/2025;10:00;12:00;{t1_siren};Atelier cuisine;;;;annulée;;",
]


def csv_bytes(*rows, header=HEADER, world=None) -> bytes:
    lines = [header, *rows]
    content = "\n".join(lines)
    if world is not None:
        content = content.replace("{t1_siren}", world.t1.territory_id)
    return content.encode("utf-8")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world():
    world = EvaluationWorld()
    world.loudeac = world.diagnostic.directory.commune1
    plan = ActionPlanFactory(programme_territory=world.t1)
    world.action = ActionFactory(plan=plan, code="A1", title="Ateliers cuisine mensuels")
    ActionFactory(plan=plan, code="A2")
    return world


def default_file(world) -> bytes:
    return csv_bytes(*ROWS, world=world)


def run(world, data: bytes, *, mapping=None, user=None, dry_run=False, allowed=None):
    sheet = read_table(data)
    return sessions_import(
        sheet=sheet,
        programme=world.programme,
        mapping=mapping if mapping is not None else guess_mapping(sheet.columns),
        acting_user=user,
        territories_allowed=allowed,
        dry_run=dry_run,
    )


def refused(world, data: bytes, **kwargs) -> list[str]:
    with pytest.raises(ImportRefused) as error:
        run(world, data, **kwargs)
    return [str(problem) for problem in error.value.plan.problems]


def snapshot():
    """Everything an import may write, to check that nothing was."""
    return (
        sorted(Session.objects.values_list("id", "version", "updated_at", "import_key")),
        sorted(Headcount.objects.values_list("id", "count")),
    )


# ---- Mapping ------------------------------------------------------------------------------------


def test_columns_are_guessed_from_their_folded_names(world):
    sheet = read_table(default_file(world))

    assert guess_mapping(sheet.columns) == {
        "date": "Date",
        "debut": "Début",
        "fin": "Fin",
        "territoire": "EPCI",
        "format": "Atelier",
        "public": "Public",
        "lieu": "Lieu",
        "commune": "Commune",
        "statut": "Statut",
        "participants": "Nombre de participants",
        "action": "Action",
    }


def test_a_mapping_option_is_read_and_checked():
    sheet = read_table(csv_bytes("12/03/2025;CC Une", header="Quand;Où"))
    mapping = parse_mapping_option("date=quand, territoire=Où,format=Quoi")

    errors = check_mapping(mapping, sheet.columns)

    assert mapping["date"] == "Quand"  # found by its folded name
    assert errors == ["Format : le fichier n'a pas de colonne « Quoi » (colonnes : Quand, Où)."]
    with pytest.raises(ValueError, match="champ « couleur » inconnu ; champs possibles"):
        parse_mapping_option("couleur=Rouge")
    with pytest.raises(ValueError, match="écrivez champ=Nom de la colonne"):
        parse_mapping_option("date")


def test_required_fields_and_columns_used_twice_are_refused():
    sheet = read_table(csv_bytes("12/03/2025;x", header="Date;Autre"))

    errors = check_mapping({"date": "Date", "format": "Autre", "lieu": "Autre"}, sheet.columns)

    assert "Choisissez la colonne du champ « Territoire (EPCI) »." in errors
    assert (
        "La colonne « Autre » est associée à deux champs (« Format » et « Lieu ») : gardez-en "
        "un seul." in errors
    )


# ---- Plan and apply -----------------------------------------------------------------------------


def test_an_import_creates_sessions_headcounts_and_an_audit_event(world):
    result = run(world, default_file(world), user=world.coordinator)

    assert result.written
    assert result.counts == {CREATE: 3, UPDATE: 0, UNCHANGED: 0}
    cooking = Session.objects.get(starts_at=at(2025, 3, 12, 14))
    assert cooking.programme_territory == world.t1
    assert cooking.format == world.cooking
    assert cooking.title == "Atelier cuisine"
    assert (cooking.kind, cooking.audience) == (SessionKind.WORKSHOP, Audience.PEOPLE)
    assert cooking.ends_at == at(2025, 3, 12, 16, 30)
    assert cooking.place_address == "Salle des fêtes"
    assert cooking.commune == world.loudeac
    assert cooking.status == Session.Status.HELD
    assert cooking.action == world.action
    assert cooking.created_by == world.coordinator
    assert cooking.import_key.startswith("h:")
    headcount = Headcount.objects.get(session=cooking)
    assert (headcount.audience, headcount.age_band, headcount.gender, headcount.count) == (
        Audience.PEOPLE,
        "",
        "",
        12,
    )
    # A training for professionals: its participants are a headcount too (no names in history).
    training = Session.objects.get(programme_territory=world.t2)
    assert training.audience == Audience.PROFESSIONALS
    assert training.kind == SessionKind.TRAINING
    assert training.ends_at == at(2025, 5, 20, 9, 30) + datetime.timedelta(minutes=180)
    assert Headcount.objects.get(session=training).count == 8
    cancelled = Session.objects.get(starts_at=at(2025, 6, 2, 10))
    assert cancelled.status == Session.Status.CANCELLED
    assert not Headcount.objects.filter(session=cancelled).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_IMPORTED)
    assert event.actor == world.coordinator
    assert event.target == str(world.programme.pk)
    assert event.detail == {
        "source": "upload",
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
    }


def test_importing_the_same_file_twice_changes_nothing_the_second_time(world):
    run(world, default_file(world))
    before = snapshot()

    result = run(world, default_file(world))

    assert result.counts == {CREATE: 0, UPDATE: 0, UNCHANGED: 3}
    assert snapshot() == before


def test_a_changed_row_updates_its_session(world):
    run(world, default_file(world))
    cooking = Session.objects.get(starts_at=at(2025, 3, 12, 14))
    changed = ROWS[0].replace(";12;A1", ";15;A2").replace("16h30", "17h00")

    result = run(world, csv_bytes(changed, *ROWS[1:], world=world))

    assert result.counts == {CREATE: 0, UPDATE: 1, UNCHANGED: 2}
    update = next(row for row in result.plan.rows if row.action == UPDATE)
    assert sorted(update.changes) == ["action", "fin", "participants"]
    cooking.refresh_from_db()
    assert cooking.ends_at == at(2025, 3, 12, 17)
    assert cooking.action.code == "A2"
    assert cooking.version == 2
    assert Headcount.objects.get(session=cooking).count == 15
    assert Headcount.objects.count() == 2


def test_an_identifier_column_is_the_key(world):
    header = "Identifiant;Date;Début;Territoire;Format"
    first = csv_bytes(
        "S-001;12/03/2025;14:00;CC Une;Atelier cuisine",
        "S-002;13/03/2025;14:00;CC Une;Atelier cuisine",
        header=header,
    )
    run(world, first)
    # The same identifier, a new date: the session moves instead of being duplicated.
    moved = csv_bytes("S-001;19/03/2025;14:00;CC Une;Atelier cuisine", header=header)

    result = run(world, moved)

    assert result.counts == {CREATE: 0, UPDATE: 1, UNCHANGED: 0}
    assert sorted(Session.objects.values_list("import_key", flat=True)) == ["id:S-001", "id:S-002"]
    assert Session.objects.get(import_key="id:S-001").starts_at == at(2025, 3, 19, 14)


def test_a_session_typed_by_hand_is_recognised_not_duplicated(world):
    by_hand = SessionFactory(
        programme_territory=world.t1,
        format=world.cooking,
        starts_at=at(2025, 3, 12, 14),
        ends_at=at(2025, 3, 12, 16, 30),
        status=Session.Status.HELD,
    )

    result = run(world, default_file(world))

    assert result.counts[CREATE] == 2
    by_hand.refresh_from_db()
    assert by_hand.import_key.startswith("h:")
    assert by_hand.place_address == "Salle des fêtes"
    assert Session.objects.count() == 3


def test_dates_with_times_durations_and_defaults(world):
    header = "Date;Durée;Territoire;Format;Type;Public"
    data = csv_bytes(
        "2025-04-01 18:00;1h30;CC Une;atelier cuisine;Formation;Élus",
        "01.04.25 10h;90 min;CC Une;Repérer et orienter;;",
        "03/04/2025 09:00;;CC Une;Repérer et orienter;;bénévoles",
        header=header,
    )

    run(world, data)

    first, second, third = Session.objects.order_by("starts_at")
    assert (second.starts_at, second.ends_at) == (at(2025, 4, 1, 18), at(2025, 4, 1, 19, 30))
    assert (second.kind, second.audience) == (SessionKind.TRAINING, Audience.ELECTED)
    assert (first.starts_at, first.ends_at) == (at(2025, 4, 1, 10), at(2025, 4, 1, 11, 30))
    assert first.audience == Audience.PROFESSIONALS  # the format's
    assert third.ends_at == at(2025, 4, 3, 12)  # the format's 180 minutes
    assert third.audience == Audience.VOLUNTEERS


def test_without_a_status_past_sessions_are_held_and_future_ones_planned(world):
    soon = timezone.localdate() + datetime.timedelta(days=10)
    world.programme.end_date = soon + datetime.timedelta(days=365)
    world.programme.save()
    data = csv_bytes(
        "12/03/2025;14:00;CC Une;Atelier cuisine",
        f"{soon:%d/%m/%Y};14:00;CC Une;Atelier cuisine",
        header="Date;Heure;Territoire;Format",
    )

    run(world, data)

    past, future = Session.objects.order_by("starts_at")
    assert past.status == Session.Status.HELD
    assert future.status == Session.Status.PLANNED


def test_an_xlsx_file_is_imported_like_a_csv(world):
    # Spreadsheet cells hold naive dates and times, in the time zone of whoever typed them.
    date_and_time = datetime.datetime(2025, 3, 19, 14, 30)  # noqa: DTZ001
    excel_time = datetime.datetime(1899, 12, 30, 9, 15)  # noqa: DTZ001 (a time cell, as Excel stores it)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Date", "Début", "Territoire", "Format", "Participants"])
    sheet.append([datetime.date(2025, 3, 12), datetime.time(14, 0), "CC Une", "Atelier cuisine", 9])
    sheet.append([date_and_time, None, "CC Deux", "Atelier cuisine", 11])
    sheet.append([datetime.date(2025, 3, 26), excel_time, "CC Deux", "Atelier cuisine", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = run(world, buffer.getvalue())

    assert result.counts[CREATE] == 3
    assert sorted(Headcount.objects.values_list("count", flat=True)) == [9, 11]
    assert sorted(Session.objects.values_list("starts_at", flat=True)) == [
        at(2025, 3, 12, 14),
        at(2025, 3, 19, 14, 30),
        at(2025, 3, 26, 9, 15),
    ]


def test_a_dry_run_writes_nothing(world):
    result = run(world, default_file(world), dry_run=True)

    assert not result.written
    assert result.counts[CREATE] == 3
    assert not Session.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SESSIONS_IMPORTED).exists()


def test_planning_takes_a_fixed_number_of_queries(world, django_assert_num_queries):
    run(world, default_file(world))
    many = [
        f"{day:02d}/04/2025;14:00;;CC Une;Atelier cuisine;Personnes;;Loudéac;;{day};A1"
        for day in range(1, 29)
    ]
    sheet = read_table(csv_bytes(*ROWS, *many, world=world))

    # programme territories, formats, actions, communes; sessions by key, sessions typed by hand,
    # their headcounts
    with django_assert_num_queries(7):
        plan = build_plan(sheet, programme=world.programme, mapping=guess_mapping(sheet.columns))

    assert plan.counts == {CREATE: 28, UPDATE: 0, UNCHANGED: 3}


# ---- Malformed rows: a French problem naming line, column and value; nothing written ----------

BAD_ROWS = [
    (
        "31/02/2025;14h00;16h00;CC Une;Atelier cuisine;;;;;;",
        "Ligne 2, colonne « Date » : date invalide « 31/02/2025 » : ce jour n'existe pas.",
    ),
    (
        "mardi;14h00;16h00;CC Une;Atelier cuisine;;;;;;",
        "Ligne 2, colonne « Date » : date illisible « mardi » : écrivez-la JJ/MM/AAAA.",
    ),
    (
        ";14h00;16h00;CC Une;Atelier cuisine;;;;;;",
        "Ligne 2, colonne « Date » : la date est manquante.",
    ),
    (
        "12/03/2019;14h00;16h00;CC Une;Atelier cuisine;;;;;;",
        "Ligne 2, colonne « Date » : date hors de la période du programme « 12/03/2019 » (du "
        "01/01/2024 au 31/12/2026).",
    ),
    (
        "12/03/2025;;16h00;CC Une;Atelier cuisine;;;;;;",
        "Ligne 2, colonne « Début » : l'heure de début manque (date « 12/03/2025 »).",
    ),
    (
        "12/03/2025;25h00;;CC Une;Atelier cuisine;;;;;;",
        "Ligne 2, colonne « Début » : heure invalide « 25h00 ».",
    ),
    (
        "12/03/2025;14h00;12h00;CC Une;Atelier cuisine;;;;;;",
        "Ligne 2, colonne « Fin » : l'heure de fin « 12h00 » n'est pas après l'heure de début "
        "(14:00).",
    ),
    (
        "12/03/2025;14h00;16h00;CC Inconnue;Atelier cuisine;;;;;;",
        "Ligne 2, colonne « EPCI » : territoire inconnu dans ce programme « CC Inconnue » ; "
        "territoires du programme : CC Deux, CC Une.",
    ),
    (
        "12/03/2025;14h00;16h00;CC Autre Programme;Atelier cuisine;;;;;;",
        "Ligne 2, colonne « EPCI » : territoire inconnu dans ce programme « CC Autre Programme »",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier pâtisserie;;;;;;",
        "Ligne 2, colonne « Atelier » : format inconnu « Atelier pâtisserie » ; formats du "
        "catalogue : Atelier cuisine, Repérer et orienter.",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier cuisine;Retraité·es;;;;;",
        "Ligne 2, colonne « Public » : public inconnu « Retraité·es » ; valeurs acceptées",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier cuisine;;;;Peut-être;;",
        "Ligne 2, colonne « Statut » : statut inconnu « Peut-être » ; valeurs acceptées : "
        "réalisée, annulée, programmée, reportée.",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier cuisine;;;;;-3;",
        "Ligne 2, colonne « Nombre de participants » : nombre négatif « -3 ».",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier cuisine;;;;;501;",
        "Ligne 2, colonne « Nombre de participants » : « 501 » dépasse 500 participant·es : "
        "vérifiez la saisie.",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier cuisine;;;;;douze;",
        "Ligne 2, colonne « Nombre de participants » : « douze » n'est pas un nombre entier.",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier cuisine;;;;;12,5;",
        "Ligne 2, colonne « Nombre de participants » : « 12,5 » n'est pas un nombre entier.",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier cuisine;;;;annulée;12;",
        "Ligne 2, colonne « Nombre de participants » : 12 participant·es pour une séance "
        "annulée : une séance qui n'a pas eu lieu n'a pas de participant·es.",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier cuisine;;;;;;Z9",
        "Ligne 2, colonne « Action » : action inconnue « Z9 » dans le plan de CC Une ; codes : "
        "A1, A2.",
    ),
    (
        "12/03/2025;14h00;16h00;CC Une;Atelier cuisine;;;Atlantis;;;",
        "Ligne 2, colonne « Commune » : commune inconnue « Atlantis » : écrivez son nom ou son "
        "code INSEE.",
    ),
]


@pytest.mark.parametrize(
    "row, message",
    BAD_ROWS,
    ids=[
        "no-such-day",
        "unreadable-date",
        "missing-date",
        "outside-period",
        "missing-start",
        "bad-hour",
        "end-before-start",
        "unknown-territory",
        "other-programme-territory",
        "unknown-format",
        "unknown-audience",
        "unknown-status",
        "negative-headcount",
        "headcount-over-500",
        "headcount-not-a-number",
        "headcount-not-whole",
        "headcount-on-cancelled",
        "unknown-action",
        "unknown-commune",
    ],
)
def test_a_malformed_row_is_refused_and_nothing_is_written(world, row, message):
    good = ROWS[0]
    problems = refused(world, csv_bytes(good, row, world=world))

    expected = message.replace("Ligne 2", "Ligne 3")
    assert any(problem.startswith(expected) for problem in problems), problems
    assert not Session.objects.exists()
    assert not Headcount.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SESSIONS_IMPORTED).exists()


def test_every_problem_of_the_file_is_listed_at_once(world):
    problems = refused(
        world,
        csv_bytes(
            "31/02/2025;14h00;16h00;CC Une;Atelier cuisine;;;;;;",
            "12/03/2025;14h00;16h00;CC Une;Atelier pâtisserie;;;;;-1;",
        ),
    )

    assert [p.split(" :")[0] for p in problems] == [
        "Ligne 2, colonne « Date »",
        "Ligne 3, colonne « Atelier »",
        "Ligne 3, colonne « Nombre de participants »",
    ]


def test_the_same_session_twice_in_a_file_is_refused(world):
    problems = refused(world, csv_bytes(ROWS[0], ROWS[0].replace(";12;", ";13;")))

    assert problems == [
        "Ligne 3, colonne « Date » : séance en double « 12/03/2025 » : même territoire, même "
        "date, même heure de début et même format que la ligne 2."
    ]
    assert not Session.objects.exists()


def test_an_update_that_breaks_a_rule_leaves_the_first_import_untouched(world):
    run(world, default_file(world))
    before = snapshot()

    refused(world, csv_bytes(ROWS[0].replace(";12;", ";900;"), *ROWS[1:], world=world))

    assert snapshot() == before


def test_a_territory_coordinator_imports_only_into_its_territory(world):
    allowed = [world.t1.pk]

    problems = refused(world, default_file(world), allowed=allowed)

    assert problems == [
        "Ligne 3, colonne « EPCI » : le territoire « cc deux » n'est pas dans votre périmètre "
        "d'import."
    ]
    assert not Session.objects.exists()


def test_too_many_rows_are_refused(world, monkeypatch):
    from tablee.activities import imports

    monkeypatch.setattr(imports, "MAX_ROWS", 2)

    problems = refused(world, default_file(world))

    assert problems == [
        "Le fichier a 3 lignes : 2 au plus par import. Découpez-le en plusieurs fichiers."
    ]


# ---- The pages ----------------------------------------------------------------------------------


def upload_url(world):
    return reverse("session_imports:upload", args=[world.programme.pk])


def step_url(name, world, token):
    return reverse(f"session_imports:{name}", args=[world.programme.pk, token])


def upload(client, world, data: bytes, name="historique.csv"):
    return client.post(upload_url(world), {"file": SimpleUploadedFile(name, data)})


def token_of(response) -> str:
    return re.search(r"/([A-Za-z0-9_-]{32})/colonnes/", response.url)[1]


def mapping_data(mapping: dict) -> dict:
    from tablee.activities.imports import FIELDS

    return {f.key: mapping.get(f.key, "") for f in FIELDS}


def uploaded_files(settings) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "imports" / "sessions"
    return sorted(folder.glob("*")) if folder.exists() else []


def test_the_whole_journey_upload_columns_preview_import(client, world, settings):
    client.force_login(world.coordinator)

    page = client.get(upload_url(world))
    assert page.status_code == 200
    assert "Importer l'historique des séances" in text(page)
    assert "Nombre de participant·es" in text(page)

    response = upload(client, world, default_file(world))
    assert response.status_code == 302
    token = token_of(response)
    [kept] = uploaded_files(settings)
    assert kept.name == f"{token}.upload"  # a random name, not the person's

    columns = client.get(response.url)
    assert columns.status_code == 200
    assert "Associer les colonnes de « historique.csv »" in text(columns)
    assert re.search(r'<option value="EPCI"[^>]*selected', columns.content.decode())

    mapped = client.post(
        response.url, mapping_data(guess_mapping(read_table(default_file(world)).columns))
    )
    assert mapped.status_code == 302
    assert mapped.url == step_url("preview", world, token)

    preview = client.get(mapped.url)
    page = text(preview)
    assert "3 séances à créer, 0 à mettre à jour, 0 inchangée." in page
    assert "Importer 3 séances" in page
    assert "Personnes en situation de précarité alimentaire" in page
    assert not Session.objects.exists()

    done = client.post(step_url("apply", world, token), follow=True)
    assert "Import terminé : 3 séance(s) créée(s), 0 mise(s) à jour, 0 inchangée(s)." in text(done)
    assert Session.objects.count() == 3
    assert uploaded_files(settings) == []
    # The file is gone: its pages now send back to the first step.
    gone = client.get(step_url("preview", world, token), follow=True)
    assert "Ce fichier n'est plus disponible" in text(gone)


def test_the_same_file_again_shows_nothing_to_import(client, world):
    run(world, default_file(world))
    client.force_login(world.coordinator)
    token = token_of(upload(client, world, default_file(world)))
    client.post(
        step_url("mapping", world, token),
        mapping_data(guess_mapping(read_table(default_file(world)).columns)),
    )

    page = text(client.get(step_url("preview", world, token)))

    assert "0 séance à créer, 0 à mettre à jour, 3 inchangées." in page
    assert "Ce fichier ne change rien" in page


def test_the_preview_lists_the_problems_and_nothing_is_written(client, world):
    client.force_login(world.coordinator)
    data = csv_bytes(ROWS[0], "12/03/2025;14h00;12h00;CC Une;Atelier cuisine;;;;;;", world=world)
    token = token_of(upload(client, world, data))
    client.post(
        step_url("mapping", world, token), mapping_data(guess_mapping(read_table(data).columns))
    )

    preview = client.get(step_url("preview", world, token))
    forced = client.post(step_url("apply", world, token), follow=True)

    assert "Rien ne peut être importé : 1 problème à corriger" in text(preview)
    assert "Ligne 3, colonne « Fin » : l'heure de fin « 12h00 » n'est pas après" in text(preview)
    assert step_url("apply", world, token) not in preview.content.decode()
    assert "Rien n'a été importé : 1 problème(s) à corriger" in text(forced)
    assert not Session.objects.exists()


def test_a_mapping_without_the_required_columns_is_refused(client, world):
    client.force_login(world.coordinator)
    token = token_of(upload(client, world, default_file(world)))

    response = client.post(
        step_url("mapping", world, token), mapping_data({"date": "Date", "format": "Atelier"})
    )

    assert response.status_code == 200
    assert "Choisissez la colonne du champ « Territoire (EPCI) »." in text(response)
    assert not Session.objects.exists()


def test_an_unreadable_file_is_refused_at_once(client, world, settings):
    client.force_login(world.coordinator)

    response = upload(client, world, b"\x00\x01\x02binary", name="photo.csv")

    assert response.status_code == 200
    assert "Ce fichier n'a pas pu être lu" in text(response)
    assert "il contient des octets binaires" in text(response)
    assert uploaded_files(settings) == []


def test_a_file_over_five_megabytes_is_refused(client, world, settings):
    client.force_login(world.coordinator)
    big = HEADER.encode() + b"\n" + b"x" * (5 * 1024 * 1024)

    response = upload(client, world, big, name="enorme.csv")

    assert response.status_code == 200
    assert "Le fichier « enorme.csv » pèse 5,0 Mio : la taille maximale est de 5,0 Mio." in text(
        response
    )
    assert uploaded_files(settings) == []


def test_an_empty_upload_is_refused(client, world):
    client.force_login(world.coordinator)

    response = client.post(upload_url(world), {})

    assert "Choisissez un fichier." in text(response)


def test_cancelling_deletes_the_kept_file(client, world, settings):
    client.force_login(world.coordinator)
    token = token_of(upload(client, world, default_file(world)))

    response = client.post(step_url("cancel", world, token), follow=True)

    assert "Import abandonné : le fichier a été supprimé." in text(response)
    assert uploaded_files(settings) == []


def test_someone_else_cannot_reach_an_upload(client, world, settings):
    client.force_login(world.coordinator)
    token = token_of(upload(client, world, default_file(world)))
    client.logout()
    client.force_login(world.admin)

    preview = client.get(step_url("mapping", world, token), follow=True)
    applied = client.post(step_url("apply", world, token), follow=True)

    assert "Ce fichier n'est plus disponible" in text(preview)
    assert "Ce fichier n'est plus disponible" in text(applied)
    assert not Session.objects.exists()
    assert len(uploaded_files(settings)) == 1


def test_the_preview_of_a_territory_coordinator_refuses_other_territories(client, world):
    client.force_login(world.territory_coordinator)
    token = token_of(upload(client, world, default_file(world)))
    client.post(
        step_url("mapping", world, token),
        mapping_data(guess_mapping(read_table(default_file(world)).columns)),
    )

    page = text(client.get(step_url("preview", world, token)))

    assert "« cc deux » n'est pas dans votre périmètre d'import." in page


@pytest.mark.parametrize("role", ["admin", "coordinator", "territory_coordinator"])
def test_the_team_may_import(client, world, role):
    client.force_login(getattr(world, role))

    assert client.get(upload_url(world)).status_code == 200


@pytest.mark.parametrize("role", FORBIDDEN_ROLES)
def test_partners_local_authorities_and_funders_may_not_import(client, world, role):
    client.force_login(getattr(world, role))

    assert client.get(upload_url(world)).status_code == 403
    assert upload(client, world, default_file(world)).status_code == 403
    assert client.post(step_url("apply", world, "x" * 32)).status_code == 403
    assert not Session.objects.exists()


@pytest.mark.parametrize("role", ["no_role"])
def test_outside_the_programme_the_import_does_not_exist(client, world, role):
    client.force_login(getattr(world, role))

    assert client.get(upload_url(world)).status_code == 404


def test_a_coordinator_of_another_programme_gets_404(client, world):
    client.force_login(world.coordinator)

    response = client.get(reverse("session_imports:upload", args=[world.other_programme.pk]))

    assert response.status_code == 404


def test_a_commune_is_found_by_code_or_by_name_in_the_territory(world):
    homonym = CommuneFactory(name="Loudéac", territory=world.u.territory)
    data = csv_bytes(
        f"12/03/2025;14:00;CC Une;Atelier cuisine;{world.loudeac.code}",
        "13/03/2025;14:00;CC Une;Atelier cuisine;LOUDEAC",
        f"14/03/2025;14:00;CC Une;Atelier cuisine;{homonym.code}",
        header="Date;Début;Territoire;Format;Commune",
    )

    run(world, data)

    assert list(Session.objects.order_by("starts_at").values_list("commune", flat=True)) == [
        world.loudeac.code,
        world.loudeac.code,
        homonym.code,
    ]


@pytest.mark.parametrize(
    "written, expected",
    [
        ("14:00", datetime.time(14, 0)),
        ("14h", datetime.time(14, 0)),
        ("14h30", datetime.time(14, 30)),
        ("14 h 30", datetime.time(14, 30)),
        ("9.45", datetime.time(9, 45)),
        ("14:00:00", datetime.time(14, 0)),
        ("14", datetime.time(14, 0)),
        ("30/12/1899 08:05", datetime.time(8, 5)),
    ],
)
def test_hours_are_read_as_people_write_them(written, expected):
    assert parse_time(written) == expected


@pytest.mark.parametrize(
    "written, minutes",
    [("90", 90), ("90 min", 90), ("1h30", 90), ("2 h", 120), ("1,5 h", 90), ("2h05", 125)],
)
def test_durations_are_read_in_minutes_or_hours(written, minutes):
    assert parse_duration(written) == minutes


@pytest.mark.parametrize(
    "written, message",
    [
        ("midi", "heure illisible « midi »"),
        ("14h75", "heure invalide « 14h75 »"),
    ],
)
def test_unreadable_hours_are_refused_in_french(written, message):
    with pytest.raises(CellError, match=message):
        parse_time(written)


@pytest.mark.parametrize(
    "written, message",
    [
        ("longtemps", "durée illisible « longtemps »"),
        ("5", "durée invalide « 5 » : entre 15 minutes et 24 heures."),
        ("30 h", "durée invalide « 30 h »"),
    ],
)
def test_unreadable_durations_are_refused_in_french(written, message):
    with pytest.raises(CellError, match=message):
        parse_duration(written)
