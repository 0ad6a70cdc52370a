"""Importing the plan from a spreadsheet: the round trip, the preview, every refusal (and nothing
written), the version check, idempotence, and who may import."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.core.spreadsheets import SpreadsheetRejected
from tablee.plans.models import Action, ActionBudgetLine, ActionStatus
from tablee.plans.services_sheets import ImportOutdated, plan_export, plan_import_apply
from tablee.plans.spreadsheet import MAX_IMPORT_BYTES, plan_import
from tablee.plans.tests.factories_sheets import (
    EDITORS,
    OUT_OF_SCOPE,
    READERS,
    PlanWorld,
    append_row,
    set_cell,
    to_bytes,
    workbook,
)

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def world():
    return PlanWorld()


def url(name, pt):
    return reverse(f"plan_sheets:{name}", args=[pt.pk])


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def exported(world):
    return workbook(plan_export(plan=world.plan, acting_user=world.coordinator))


def upload(client, world, content: bytes, name="plan.xlsx"):
    return client.post(
        url("import", world.t1), {"file": SimpleUploadedFile(name, content, content_type=XLSX)}
    )


def snapshot(world) -> list:
    """Everything an import may write, to assert that nothing was."""
    actions = list(
        Action.objects.order_by("code").values_list(
            "code", "title", "status", "progress", "version", "start_date", "end_date", "axis"
        )
    )
    budget = list(ActionBudgetLine.objects.order_by("pk").values_list("year", "planned", "spent"))
    needs = list(Action.needs.through.objects.order_by("pk").values_list("action_id", "need_id"))
    history = Action.history.count()
    return [actions, budget, needs, history]


def confirm(client, world):
    preview = client.get(url("import_preview", world.t1))
    assert preview.status_code == 200
    fingerprint = preview.context["import_plan"].fingerprint
    return client.post(url("import_confirm", world.t1), {"empreinte": fingerprint})


# ---- The round trip -----------------------------------------------------------------------------


def test_the_round_trip_updates_progress_and_changes_nothing_the_second_time(client, world):
    client.force_login(world.coordinator)
    book = workbook(client.get(url("export", world.t1)).content)
    set_cell(book, "Actions", "A1", "Avancement (%)", 60)
    set_cell(book, "Actions", "A2", "Statut", "En cours")
    set_cell(book, "Actions", "A2", "Avancement (%)", 10)
    set_cell(book, "Budget", "A1", "Dépensé", 4500)
    content = to_bytes(book)
    versions_before = {a.code: a.version for a in Action.objects.all()}

    response = upload(client, world, content)

    assert response.status_code == 302
    assert response["Location"] == url("import_preview", world.t1)
    preview = client.get(url("import_preview", world.t1))
    page = text(preview)
    assert "Avancement (%) : 40 % → 60 %" in page
    assert "Statut : À venir → En cours" in page
    assert "Avancement (%) : 0 % → 10 %" in page
    assert "Dépensé : 3 000,50 € → 4 500,00 €" in page
    assert "Actions : 0 créée, 2 mises à jour, 1 inchangée." in page
    assert Action.objects.get(code="A1").progress == 40  # nothing written by the preview

    response = client.post(
        url("import_confirm", world.t1), {"empreinte": preview.context["import_plan"].fingerprint}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("plans:detail", args=[world.t1.pk])
    a1, a2, a3 = Action.objects.order_by("code")
    assert (a1.progress, a1.version) == (60, versions_before["A1"] + 1)
    assert (a2.status, a2.progress, a2.version) == ("in_progress", 10, versions_before["A2"] + 1)
    assert a3.version == versions_before["A3"]
    assert ActionBudgetLine.objects.get().spent == Decimal("4500.00")
    assert a1.history.first().history_user == world.coordinator
    assert a1.history.first().progress == 60
    assert not a1.updates.exists()  # no follow-up note: only the fields changed
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAN_IMPORTED)
    assert event.actor == world.coordinator
    assert event.detail == {
        "created": 0,
        "updated": 2,
        "unchanged": 1,
        "budget_created": 0,
        "budget_updated": 1,
        "budget_unchanged": 0,
    }
    assert client.get(url("import_preview", world.t1)).status_code == 302  # the file is gone

    # The same file again: its versions are now old, but it changes nothing, so nothing is refused
    # and nothing is written.
    before = snapshot(world)
    upload(client, world, content)
    preview = client.get(url("import_preview", world.t1))
    assert "Ce classeur ne change rien au plan." in text(preview)
    assert "Confirmer l'import" not in text(preview)
    confirm(client, world)
    assert snapshot(world) == before
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_IMPORTED).count() == 1


def test_an_unedited_export_is_unchanged_even_with_line_breaks_and_lists(world):
    world.a1.description = "Une navette le samedi.\nDépart de la mairie à 9 h."
    world.a1.save()
    world.a1.needs.set([world.transport, world.money])
    content = plan_export(plan=world.plan, acting_user=world.coordinator)
    before = snapshot(world)

    result = plan_import_apply(plan=world.plan, data=content, acting_user=world.coordinator)

    assert result.counts["unchanged"] == 3
    assert not result.has_changes
    assert snapshot(world) == before


def test_a_row_with_a_new_code_creates_an_action_with_its_budget(client, world):
    client.force_login(world.coordinator)
    book = exported(world)
    append_row(
        book,
        "Actions",
        {
            "Code": "A4",
            "Axe": "accès à l'alimentation",  # case and accents do not matter
            "Intitulé": "Jardin partagé",
            "Statut": "en_cours",
            "Avancement (%)": "15 %",
            "Priorité": "Haute",
            "Poids": 3,
            "Début": datetime.date(2025, 4, 1),  # a date cell
            "Fin": "30/09/2026",
            "Publics": "Élu·es ; Personnes en situation de précarité alimentaire",
            "Besoins": "Pas de transport le samedi ; Reste à vivre trop faible",
            "Structures pilotes": "ccas de loudeac",
            "Participation": "Concertation",
        },
    )
    append_row(
        book, "Budget", {"Code": "A4", "Année": 2026, "Financeur": "CC Une", "Prévu": "1 500,5"}
    )

    upload(client, world, to_bytes(book))
    response = confirm(client, world)

    assert response.status_code == 302
    action = Action.objects.get(code="A4")
    assert action.title == "Jardin partagé"
    assert action.axis == world.access
    assert (action.status, action.progress, action.priority, action.weight) == (
        "in_progress",
        15,
        1,
        3,
    )
    assert action.start_date == datetime.date(2025, 4, 1)
    assert action.end_date == datetime.date(2026, 9, 30)
    assert action.audiences == ["elected", "people"]
    assert set(action.needs.all()) == {world.transport, world.money}
    assert list(action.pilots.all()) == [world.neighbour]
    assert action.participation_level == "concertation"
    assert action.created_by == world.coordinator
    assert action.position == 4
    assert action.version == 1
    line = action.budget_lines.get()
    assert (line.year, line.funder, line.planned, line.spent) == (
        2026,
        "CC Une",
        Decimal("1500.50"),
        Decimal("0"),
    )
    assert action.history.get().history_user == world.coordinator


def test_a_sheet_of_two_columns_updates_progress_only(world):
    content = b"Code;Avancement (%)\r\nA1;75\r\nA2;\r\n"

    result = plan_import_apply(plan=world.plan, data=content, acting_user=world.coordinator)

    assert result.counts == {
        "created": 0,
        "updated": 1,
        "unchanged": 1,
        "budget_created": 0,
        "budget_updated": 0,
        "budget_unchanged": 0,
    }
    world.a1.refresh_from_db()
    assert world.a1.progress == 75
    assert world.a1.title == "Navette solidaire vers l'épicerie"  # no column: untouched
    assert world.a1.needs.count() == 1


def test_done_below_100_is_accepted_when_confirmed(world):
    book = exported(world)
    set_cell(book, "Actions", "A2", "Statut", "Réalisée")
    set_cell(book, "Actions", "A2", "Avancement (%)", 90)
    set_cell(book, "Actions", "A2", "Confirmer", "Oui")

    plan_import_apply(plan=world.plan, data=to_bytes(book), acting_user=world.coordinator)

    world.a2.refresh_from_db()
    assert (world.a2.status, world.a2.progress) == (ActionStatus.DONE, 90)


def test_empty_cells_clear_texts_dates_axis_and_lists_but_keep_the_status(world):
    book = exported(world)
    for header in ("Axe", "Description", "Fin", "Besoins", "Partenaires", "Statut"):
        set_cell(book, "Actions", "A1", header, None)

    plan_import_apply(plan=world.plan, data=to_bytes(book), acting_user=world.coordinator)

    world.a1.refresh_from_db()
    assert world.a1.axis is None
    assert world.a1.description == ""
    assert world.a1.end_date is None
    assert not world.a1.needs.exists()
    assert not world.a1.partners.exists()
    assert world.a1.status == ActionStatus.IN_PROGRESS


# ---- Refusals: a clear French message, and nothing written ------------------------------------


def edit(**cells):
    """Set cells of the exported sheet: edit(A1={"Avancement (%)": 120})."""

    def apply(book):
        for code, values in cells.items():
            for header, value in values.items():
                set_cell(book, "Actions", code, header, value)

    return apply


def add_action(values):
    return lambda book: append_row(book, "Actions", values)


def add_budget(values):
    return lambda book: append_row(book, "Budget", values)


def set_budget(header, value):
    return lambda book: set_cell(book, "Budget", "A1", header, value)


BAD_FILES = {
    "progress above 100": (
        edit(A1={"Avancement (%)": 120}),
        "Ligne 2, colonne « Avancement (%) » : « 120 » n'est pas un avancement valide : écrivez "
        "un nombre entier de 0 à 100.",
    ),
    "progress not a number": (
        edit(A1={"Avancement (%)": "beaucoup"}),
        "Ligne 2, colonne « Avancement (%) » : « beaucoup » n'est pas un avancement valide",
    ),
    "end before start": (
        edit(A2={"Fin": "01/01/2025"}),
        "Ligne 3, colonne « Fin » : la fin (01/01/2025) est avant le début (01/09/2025).",
    ),
    "done at 10 % without confirmation": (
        edit(A2={"Statut": "Réalisée", "Avancement (%)": 10}),
        "Ligne 3, colonne « Statut » : « Réalisée » avec un avancement de 10 % : corrigez "
        "l'avancement, ou écrivez « oui » dans une colonne « Confirmer »",
    ),
    "unknown status": (
        edit(A1={"Statut": "Presque finie"}),
        "Ligne 2, colonne « Statut » : statut inconnu « Presque finie ». Valeurs possibles : "
        "« À venir », « En cours », « Réalisée »",
    ),
    "unknown axis": (
        edit(A1={"Axe": "Axe imaginaire"}),
        "Ligne 2, colonne « Axe » : axe inconnu « Axe imaginaire ». Les axes du plan sont : "
        "« Accès à l'alimentation », « Savoir-faire et lien social ».",
    ),
    "unknown need": (
        edit(A1={"Besoins": "Pas de transport le samedi ; Besoin inventé"}),
        "Ligne 2, colonne « Besoins » : besoin inconnu « Besoin inventé » : aucun besoin du "
        "diagnostic du territoire ne porte ce titre.",
    ),
    "unknown structure": (
        edit(A1={"Structures pilotes": "CHRS de Vitré"}),  # a structure of another territory
        "Ligne 2, colonne « Structures pilotes » : structure inconnue « CHRS de Vitré »",
    ),
    "unknown audience": (
        edit(A1={"Publics": "Touristes"}),
        "Ligne 2, colonne « Publics » : public inconnu « Touristes ».",
    ),
    "bad date": (
        edit(A1={"Début": "le 3 mars"}),
        "Ligne 2, colonne « Début » : « le 3 mars » n'est pas une date : écrivez-la JJ/MM/AAAA",
    ),
    "weight out of range": (
        edit(A1={"Poids": 11}),
        "Ligne 2, colonne « Poids » : « 11 » n'est pas un poids valide : écrivez un nombre "
        "entier de 1 à 10.",
    ),
    "empty title": (
        edit(A1={"Intitulé": None}),
        "Ligne 2, colonne « Intitulé » : l'intitulé ne peut pas être vide.",
    ),
    "new action without a title": (
        add_action({"Code": "A7", "Statut": "À venir"}),
        "Ligne 5, colonne « Intitulé » : « A7 » est un nouveau code : indiquez l'intitulé",
    ),
    "new code with a version": (
        add_action({"Code": "A8", "Intitulé": "Action supprimée ?", "Version": 3}),
        "Ligne 5, colonne « Code » : aucune action n'a le code « A8 » dans ce plan",
    ),
    "duplicated code": (
        add_action({"Code": "A2", "Intitulé": "Doublon"}),
        "Ligne 5, colonne « Code » : le code « A2 » figure déjà ligne 3",
    ),
    "row without a code": (
        add_action({"Intitulé": "Sans code"}),
        "Ligne 5, colonne « Code » : indiquez le code de l'action (par exemple A1).",
    ),
    "negative budget": (
        set_budget("Prévu", -100),
        "Onglet « Budget », ligne 2, colonne « Prévu » : « -100 » : un montant ne peut pas être "
        "négatif.",
    ),
    "budget of an unknown action": (
        add_budget({"Code": "Z9", "Année": 2025, "Financeur": "CAF", "Prévu": 10}),
        "Onglet « Budget », ligne 3, colonne « Code » : aucune action n'a le code « Z9 », ni dans "
        "le plan, ni dans l'onglet « Actions ».",
    ),
    "budget year out of range": (
        set_budget("Année", 1990),
        "Onglet « Budget », ligne 2, colonne « Année » : « 1990 » n'est pas une année valide",
    ),
    "budget line twice": (
        add_budget({"Code": "A1", "Année": 2025, "Financeur": "dreets bretagne", "Prévu": 10}),
        "Onglet « Budget », ligne 3, colonne « Financeur » : l'action « A1 » a déjà une ligne",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_row_is_refused_with_its_line_and_column_and_nothing_is_written(client, world, case):
    change, message = BAD_FILES[case]
    book = exported(world)
    # A valid change on another row, which must not be written either.
    set_cell(book, "Actions", "A3", "Intitulé", "Guide des aides, édition 2026")
    change(book)
    client.force_login(world.coordinator)
    before = snapshot(world)

    response = upload(client, world, to_bytes(book))

    assert response.status_code == 200
    page = text(response)
    assert "Rien n'a été importé" in page
    assert message in page
    assert snapshot(world) == before
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_IMPORTED).exists()
    assert "tablee.plan_import." + str(world.t1.pk) not in client.session


def test_every_problem_is_listed_at_once(world):
    book = exported(world)
    set_cell(book, "Actions", "A1", "Avancement (%)", -5)
    set_cell(book, "Actions", "A2", "Début", "hier")
    set_cell(book, "Budget", "A1", "Prévu", "douze")

    with pytest.raises(SpreadsheetRejected) as refused:
        plan_import(world.plan, to_bytes(book))

    assert [str(problem).split(" :")[0] for problem in refused.value.problems] == [
        "Ligne 2, colonne « Avancement (%) »",
        "Ligne 3, colonne « Début »",
        "Onglet « Budget », ligne 2, colonne « Prévu »",
    ]


def test_a_file_without_a_code_column_is_refused(client, world):
    client.force_login(world.coordinator)
    content = "Intitulé;Avancement (%)\r\nNavette;50\r\n".encode()

    response = upload(client, world, content, name="plan.csv")

    assert "Ligne 1 : la première ligne de l'onglet « Actions » n'a pas de colonne « Code »" in (
        text(response)
    )


def test_a_workbook_without_an_actions_sheet_is_refused(client, world):
    book = exported(world)
    book["Actions"].title = "Feuil1"
    client.force_login(world.coordinator)

    response = upload(client, world, to_bytes(book))

    assert "Le classeur n'a pas d'onglet « Actions »." in text(response)


def test_a_file_over_2_mb_is_refused_before_reading(client, world):
    client.force_login(world.coordinator)
    before = snapshot(world)

    response = upload(client, world, b"PK\x03\x04" + b"0" * MAX_IMPORT_BYTES)

    assert response.status_code == 200
    assert "Le fichier dépasse 2 Mo" in text(response)
    assert snapshot(world) == before


def test_a_file_that_is_not_a_spreadsheet_is_refused(client, world):
    client.force_login(world.coordinator)
    response = upload(client, world, b"\x00\x01\x02binaire", name="plan.xlsx")
    assert "Rien n'a été importé" in text(response)


# ---- Concurrent changes -----------------------------------------------------------------------


def test_a_row_exported_before_someone_else_s_change_is_refused_with_who_and_when(world):
    book = exported(world)
    set_cell(book, "Actions", "A1", "Avancement (%)", 70)
    # Meanwhile a colleague edits A1 in Tablée.
    world.a1.progress = 55
    world.a1.version += 1
    world.a1._history_user = world.territory_coordinator
    world.a1.save()
    before = snapshot(world)

    with pytest.raises(SpreadsheetRejected) as refused:
        plan_import_apply(plan=world.plan, data=to_bytes(book), acting_user=world.coordinator)

    message = str(refused.value.problems[0])
    assert message.startswith(
        "Ligne 2, colonne « Version » : l'action a été modifiée depuis l'export (par "
        f"{world.territory_coordinator.full_name}, le "
    )
    assert message.endswith(": exportez à nouveau le plan et reportez-y vos changements.")
    assert snapshot(world) == before


def test_a_change_between_preview_and_confirmation_sends_back_to_the_preview(client, world):
    client.force_login(world.coordinator)
    book = exported(world)
    set_cell(book, "Actions", "A2", "Avancement (%)", 20)
    upload(client, world, to_bytes(book))
    preview = client.get(url("import_preview", world.t1))
    fingerprint = preview.context["import_plan"].fingerprint
    # Meanwhile someone edits A3, a row of the file the import does not change.
    Action.objects.filter(pk=world.a3.pk).update(version=world.a3.version + 1)
    before = snapshot(world)

    response = client.post(url("import_confirm", world.t1), {"empreinte": fingerprint})

    assert response.status_code == 302
    assert response["Location"] == url("import_preview", world.t1)
    assert snapshot(world) == before
    assert "Le plan a changé depuis l'aperçu" in text(client.get(response["Location"]))


def test_apply_refuses_a_plan_other_than_the_one_previewed(world):
    book = exported(world)
    set_cell(book, "Actions", "A2", "Avancement (%)", 20)
    before = snapshot(world)

    with pytest.raises(ImportOutdated):
        plan_import_apply(
            plan=world.plan,
            data=to_bytes(book),
            acting_user=world.coordinator,
            expected_fingerprint="0" * 32,
        )

    assert snapshot(world) == before


# ---- The uploaded file between preview and confirmation ---------------------------------------


def test_confirming_without_a_file_waiting_writes_nothing(client, world):
    client.force_login(world.coordinator)
    before = snapshot(world)

    response = client.post(url("import_confirm", world.t1), {"empreinte": "x"}, follow=True)

    assert "Aucun classeur n'attend d'être importé" in text(response)
    assert snapshot(world) == before


def test_cancelling_forgets_the_file(client, world):
    client.force_login(world.coordinator)
    book = exported(world)
    set_cell(book, "Actions", "A2", "Avancement (%)", 20)
    upload(client, world, to_bytes(book))

    response = client.post(url("import_cancel", world.t1), follow=True)

    assert "Import annulé : rien n'a été modifié." in text(response)
    assert client.get(url("import_preview", world.t1)).status_code == 302
    assert Action.objects.get(code="A2").progress == 0


def test_the_import_page_shows_the_form_and_the_export_link(client, world):
    client.force_login(world.coordinator)

    response = client.get(url("import", world.t1))

    assert response.status_code == 200
    assert url("export", world.t1) in response.content.decode()


# ---- Who may import ---------------------------------------------------------------------------


def import_urls(world):
    return [url(name, world.t1) for name in ("import", "import_preview")]


@pytest.mark.parametrize("role", EDITORS)
def test_the_association_imports(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("import", world.t1)).status_code == 200
    book = exported(world)
    set_cell(book, "Actions", "A2", "Avancement (%)", 20)
    assert upload(client, world, to_bytes(book)).status_code == 302
    assert confirm(client, world).status_code == 302
    assert Action.objects.get(code="A2").progress == 20


@pytest.mark.parametrize("role", [*READERS, "funder"])
def test_partners_local_authorities_and_funders_may_not_import(client, world, role):
    client.force_login(getattr(world, role))
    book = exported(world)
    set_cell(book, "Actions", "A2", "Avancement (%)", 20)
    for address in import_urls(world):
        assert client.get(address).status_code == 403, address
    assert upload(client, world, to_bytes(book)).status_code == 403
    assert client.post(url("import_confirm", world.t1)).status_code == 403
    assert client.post(url("import_cancel", world.t1)).status_code == 403
    assert Action.objects.get(code="A2").progress == 0


@pytest.mark.parametrize("role", OUT_OF_SCOPE)
def test_another_territory_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    for address in import_urls(world):
        assert client.get(address).status_code == 404, address
    assert client.post(url("import_confirm", world.t1)).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client, world):
    for address in import_urls(world):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]
    assert client.post(url("import_confirm", world.t1)).status_code == 302
