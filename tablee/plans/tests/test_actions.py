"""Actions of a plan: every field, creation from a proposal, bad input, concurrent edits and
history, budget, indicators, follow-up notes, documents, comments and the action's story."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.activities.tests.factories import SessionFactory, at
from tablee.diagnostic.tests.factories_i import MeetingFactory, NeedFactory
from tablee.diagnostic.tests.factories_i import TestimonyFactory as ParoleFactory
from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionComment,
    ActionDocument,
    ActionIndicator,
    ActionStatus,
    ConsultationSession,
    IndicatorMeasure,
    ProgressUpdate,
    Proposal,
    ProposalVote,
    StakeholderGroup,
)
from tablee.plans.tests.factories import ConsultationSessionFactory, ProposalFactory
from tablee.plans.tests.factories_actions import (
    EDITORS,
    FUNDER,
    OUT_OF_SCOPE,
    READERS,
    PlanWorld,
    text,
    url,
)
from tablee.territories.models import Audience

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


@pytest.fixture
def world():
    world = PlanWorld()
    world.need = NeedFactory(programme_territory=world.t1, title="Pas de bus le samedi (fictif)")
    return world


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def action_data(world, **overrides):
    data = {
        "code": "A1",
        "title": "Épicerie mobile le samedi",
        "axis": str(world.axis1.pk),
        "description": "Une tournée dans les villages sans commerce.",
        "objectives": "Toucher les familles sans voiture.",
        "needs": [str(world.need.pk)],
        "proposals": [],
        "audiences": [Audience.PEOPLE, Audience.VOLUNTEERS],
        "pilots": [str(world.own.pk)],
        "partners": [str(world.neighbour.pk)],
        "elected_referent": "Vice-président·e aux solidarités (fictif)",
        "pat_axis": "Accessibilité pour tous",
        "participation_level": "co_construction",
        "start_date": "2025-03-01",
        "end_date": "2026-06-30",
        "status": ActionStatus.IN_PROGRESS,
        "priority": "1",
        "progress": "30",
        "weight": "3",
    }
    data.update(overrides)
    return data


# ---- Who may do what ---------------------------------------------------------------------------


def action_pages(world):
    action = world.action(code="A1")
    return action, [
        url("action_detail", world, action.pk),
        url("action_create", world),
        url("action_edit", world, action.pk),
        url("action_delete", world, action.pk),
        url("action_budget", world, action.pk),
        url("action_indicators", world, action.pk),
        url("update_add", world, action.pk),
    ]


@pytest.mark.parametrize("role", EDITORS)
def test_coordinators_and_admin_open_every_action_page(client, world, role):
    _, pages = action_pages(world)
    client.force_login(getattr(world, role))
    for address in pages:
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("role", READERS)
def test_partner_and_local_authority_read_the_action_only(client, world, role):
    action, pages = action_pages(world)
    client.force_login(getattr(world, role))
    response = client.get(pages[0])
    assert response.status_code == 200
    assert "Modifier l'action" not in text(response)
    for address in pages[1:]:
        assert client.get(address).status_code == 403, address
    assert (
        client.post(url("action_create", world), action_data(world, code="Z9")).status_code == 403
    )
    assert client.post(url("action_delete", world, action.pk)).status_code == 403
    assert list(Action.objects.values_list("code", flat=True)) == ["A1"]


@pytest.mark.parametrize("role", FUNDER)
def test_the_funder_is_refused_every_action_page(client, world, role):
    action, pages = action_pages(world)
    client.force_login(getattr(world, role))
    for address in pages:
        assert client.get(address).status_code == 403, address
    response = client.post(url("comment_add", world, action.pk), {"text": "Bravo"})
    assert response.status_code == 403
    assert not ActionComment.objects.exists()


@pytest.mark.parametrize("role", OUT_OF_SCOPE)
def test_action_pages_out_of_scope_answer_404(client, world, role):
    _, pages = action_pages(world)
    client.force_login(getattr(world, role))
    for address in pages:
        assert client.get(address).status_code == 404, address


def test_an_action_of_another_territory_answers_404(client, world):
    from tablee.plans.tests.factories import ActionFactory, ActionPlanFactory

    elsewhere = ActionFactory(plan=ActionPlanFactory(programme_territory=world.t2))
    client.force_login(world.coordinator)
    for name in ("action_detail", "action_edit", "action_budget", "update_add"):
        assert client.get(url(name, world, elsewhere.pk)).status_code == 404, name


# ---- Create -------------------------------------------------------------------------------------


def test_coordinator_creates_an_action_with_every_field(client, world):
    client.force_login(world.territory_coordinator)
    response = client.get(url("action_create", world))
    page = text(response)
    assert response.context["form"]["code"].value() == "A1"  # the next free code
    assert "Pas de bus le samedi (fictif)" in page  # the needs of the territory are offered
    assert "Épicerie solidaire du Centre" in page and "CADA de Rostrenen" not in page

    response = client.post(url("action_create", world), action_data(world))
    action = Action.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("action_detail", world, action.pk)
    assert action.plan == world.plan and action.axis == world.axis1
    assert action.audiences == [Audience.PEOPLE, Audience.VOLUNTEERS]
    assert list(action.needs.all()) == [world.need]
    assert list(action.pilots.all()) == [world.own]
    assert list(action.partners.all()) == [world.neighbour]
    assert (action.start_date, action.end_date) == (
        datetime.date(2025, 3, 1),
        datetime.date(2026, 6, 30),
    )
    assert (action.status, action.progress, action.weight, action.priority) == (
        ActionStatus.IN_PROGRESS,
        30,
        3,
        Action.Priority.HIGH,
    )
    assert action.participation_level == "co_construction"
    assert action.created_by == world.territory_coordinator
    record = action.history.get()
    assert (record.history_type, record.history_user) == ("+", world.territory_coordinator)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAN_CHANGED)
    assert event.detail == {"action": "action_create", "plan_action": str(action.pk)}


def test_an_action_from_a_proposal_is_prefilled_and_retains_it(client, world):
    proposal = ProposalFactory(
        programme_territory=world.t1,
        text="Une épicerie qui passe dans les villages le samedi\nAvec des produits frais.",
        origin_group=StakeholderGroup.PEOPLE,
    )
    proposal.needs.set([world.need])
    client.force_login(world.coordinator)
    response = client.get(url("action_create", world), {"proposition": str(proposal.pk)})
    form = response.context["form"]
    assert form["title"].value() == "Une épicerie qui passe dans les villages le samedi"
    assert "Avec des produits frais." in form["description"].value()
    assert form["proposals"].value() == [proposal.pk]
    assert form["needs"].value() == [world.need.pk]
    assert "Action préparée à partir d'une proposition (Personnes concernées)" in text(response)

    data = action_data(
        world,
        title=form["title"].value(),
        proposals=[str(proposal.pk)],
        needs=[str(world.need.pk)],
    )
    response = client.post(url("action_create", world) + f"?proposition={proposal.pk}", data)
    assert response.status_code == 302
    action = Action.objects.get()
    assert list(action.proposals.all()) == [proposal]
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.RETAINED
    assert proposal.version == 2  # an editor of the proposal would get a conflict


@pytest.mark.parametrize("value", ["pas-un-uuid", "6b1c5a8e-3f7d-4a55-9b1e-2f0c3d4e5f60"])
def test_an_unknown_proposal_in_the_address_prefills_nothing(client, world, value):
    client.force_login(world.coordinator)
    response = client.get(url("action_create", world), {"proposition": value})
    assert response.status_code == 200
    assert response.context["from_proposal"] is None


def test_a_proposal_of_another_territory_is_not_offered(client, world):
    elsewhere = ProposalFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    response = client.get(url("action_create", world), {"proposition": str(elsewhere.pk)})
    assert response.context["from_proposal"] is None
    response = client.post(
        url("action_create", world), action_data(world, proposals=[str(elsewhere.pk)])
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text(response)
    assert not Action.objects.exists()
    elsewhere.refresh_from_db()
    assert elsewhere.status == Proposal.Status.OPEN


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"start_date": "2026-01-01", "end_date": "2025-06-30"},
            "La date de fin (30/06/2025) est antérieure à la date de début (01/01/2026)",
        ),
        ({"progress": "150"}, "L'avancement doit être compris entre 0 et 100 %."),
        ({"progress": "-5"}, "L'avancement doit être compris entre 0 et 100 %."),
        ({"progress": "beaucoup"}, "Indiquez l'avancement en nombre entier, de 0 à 100."),
        ({"weight": "11"}, "Le poids est un nombre de 1 à 10."),
        ({"code": ""}, "Donnez un code à l'action, par exemple A1."),
        ({"end_date": "31/02/2026"}, "Indiquez une date de fin valide"),
        ({"audiences": ["martiens"]}, "Sélectionnez un choix valide"),
        ({"pilots": ["00000000-0000-0000-0000-000000000000"]}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_action_input_is_refused_in_french_and_nothing_written(
    client, world, overrides, message
):
    client.force_login(world.coordinator)
    response = client.post(url("action_create", world), action_data(world, **overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert not Action.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_CHANGED).exists()


def test_a_structure_of_another_territory_cannot_pilot(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        url("action_create", world), action_data(world, pilots=[str(world.sibling.pk)])
    )
    assert "Sélectionnez un choix valide" in text(response)
    assert not Action.objects.exists()


def test_a_code_already_used_in_the_plan_is_refused(client, world):
    world.action(code="A1", title="Première")
    client.force_login(world.coordinator)
    response = client.post(url("action_create", world), action_data(world, code="A1"))
    assert "Le code « A1 » est déjà utilisé par une autre action de ce plan." in text(response)
    assert Action.objects.count() == 1
    # The same code in another territory's plan is no conflict.
    other = world.action(code="B7")
    response = client.post(
        url("action_edit", world, other.pk), action_data(world, code="B7", version=1)
    )
    assert response.status_code == 302


def test_done_below_100_percent_asks_for_an_explicit_confirmation(client, world):
    client.force_login(world.coordinator)
    data = action_data(world, status=ActionStatus.DONE, progress="10")
    response = client.post(url("action_create", world), data)
    assert response.status_code == 200
    page = text(response)
    assert "Confirmer : l'action est réalisée alors que son avancement est de 10 %" in page
    assert "cochez la case de confirmation" in page
    assert not Action.objects.exists()

    response = client.post(url("action_create", world), {**data, "confirm_done": "on"})
    assert response.status_code == 302
    action = Action.objects.get()
    assert (action.status, action.progress) == (ActionStatus.DONE, 10)


def test_done_at_100_percent_needs_no_confirmation(client, world):
    client.force_login(world.coordinator)
    data = action_data(world, status=ActionStatus.DONE, progress="100")
    assert client.post(url("action_create", world), data).status_code == 302


# ---- Edit, conflicts, history, delete ----------------------------------------------------------


def test_edit_records_who_changed_what(client, world):
    action = world.action(code="A1", title="Épicerie mobile", progress=10)
    client.force_login(world.coordinator)
    response = client.get(url("action_edit", world, action.pk))
    form = response.context["form"]
    assert form["pilots"].value() == [world.own.pk]
    response = client.post(
        url("action_edit", world, action.pk),
        action_data(world, title="Épicerie mobile", progress="45", version="1"),
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.progress, action.version) == (45, 2)
    latest = action.history.first()
    assert latest.history_user == world.coordinator
    assert latest.progress == 45


def test_two_editors_never_silently_overwrite_each_other(client, world):
    action = world.action(code="A1", title="Épicerie mobile", progress=10)
    client.force_login(world.coordinator)
    first = client.post(
        url("action_edit", world, action.pk),
        action_data(world, title="Épicerie mobile et solidaire", progress="40", version="1"),
    )
    assert first.status_code == 302

    client.force_login(world.territory_coordinator)
    second = client.post(
        url("action_edit", world, action.pk),
        action_data(world, title="Épicerie itinérante", progress="20", version="1"),
    )
    assert second.status_code == 200
    page = text(second)
    assert "Quelqu'un d'autre a modifié cette fiche pendant que vous la modifiiez" in page
    # The stored values are shown next to the form, which keeps the second editor's values.
    assert "Épicerie mobile et solidaire" in page and "40" in page
    assert 'value="Épicerie itinérante"' in second.content.decode()
    action.refresh_from_db()
    assert (action.title, action.progress, action.version) == (
        "Épicerie mobile et solidaire",
        40,
        2,
    )
    assert action.history.count() == 2


def test_a_form_posted_without_its_version_is_refused(client, world):
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    response = client.post(url("action_edit", world, action.pk), action_data(world))
    assert response.status_code == 200
    action.refresh_from_db()
    assert action.version == 1


def test_deleting_an_action_asks_first_and_keeps_a_trace(client, world):
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    response = client.get(url("action_delete", world, action.pk))
    assert "sera supprimée" in text(response)
    response = client.post(url("action_delete", world, action.pk))
    assert response["Location"] == url("detail", world)
    assert not Action.objects.exists()
    record = Action.history.filter(id=action.pk).first()
    assert (record.history_type, record.history_user) == ("-", world.coordinator)


# ---- Budget -------------------------------------------------------------------------------------


def budget_data(**overrides):
    return {"year": "2025", "funder": "DREETS Bretagne", "planned": "1500,50", "spent": "200"} | (
        overrides
    )


def test_budget_lines_per_year_and_funder(client, world):
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    client.post(url("action_budget", world, action.pk), budget_data())
    client.post(
        url("action_budget", world, action.pk),
        budget_data(year="2026", funder="Loudéac Communauté", planned="800", spent=""),
    )
    lines = list(action.budget_lines.order_by("year"))
    assert [(line.year, line.funder, str(line.planned), str(line.spent)) for line in lines] == [
        (2025, "DREETS Bretagne", "1500.50", "200.00"),
        (2026, "Loudéac Communauté", "800.00", "0.00"),
    ]
    response = client.get(url("action_detail", world, action.pk))
    assert "2 300,50 €" in text(response)  # the total planned

    line = lines[1]
    response = client.post(
        url("budget_edit", world, action.pk, line.pk),
        budget_data(year="2026", funder="Loudéac Communauté", planned="900", spent="100"),
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert str(line.planned) == "900.00"
    assert "sera supprimée" in text(client.get(url("budget_delete", world, action.pk, line.pk)))
    client.post(url("budget_delete", world, action.pk, line.pk))
    assert action.budget_lines.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"planned": "-100"}, "Le montant prévu ne peut pas être négatif."),
        ({"spent": "-1"}, "Le montant dépensé ne peut pas être négatif."),
        ({"planned": "mille"}, "Indiquez un montant en euros"),
        ({"year": "1850"}, "Indiquez une année entre 2000 et 2100."),
        ({"funder": ""}, "Indiquez le financeur."),
        ({"funder": "DREETS Bretagne"}, "Une ligne existe déjà pour « DREETS Bretagne » en 2025"),
    ],
)
def test_bad_budget_input_is_refused_and_nothing_written(client, world, overrides, message):
    action = world.action(code="A1")
    ActionBudgetLine.objects.create(action=action, year=2025, funder="DREETS Bretagne", planned=10)
    client.force_login(world.coordinator)
    data = budget_data(**({"funder": "EPCI"} | overrides))
    response = client.post(url("action_budget", world, action.pk), data)
    assert response.status_code == 400
    assert message in text(response)
    assert ActionBudgetLine.objects.count() == 1


# ---- Indicators ---------------------------------------------------------------------------------


def test_indicators_with_a_target_and_measured_values(client, world):
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    response = client.post(
        url("action_indicators", world, action.pk),
        {"label": "Familles servies par mois", "unit": "familles", "baseline": "0", "target": "40"},
    )
    assert response.status_code == 302
    indicator = ActionIndicator.objects.get()
    response = client.post(
        url("measure_add", world, action.pk, indicator.pk),
        {
            f"m{indicator.pk}-date": "2025-09-30",
            f"m{indicator.pk}-value": "18,5",
            f"m{indicator.pk}-note": "Après trois mois",
        },
    )
    assert response.status_code == 302
    measure = IndicatorMeasure.objects.get()
    assert (str(measure.value), measure.recorded_by) == ("18.50", world.coordinator)
    page = text(client.get(url("action_detail", world, action.pk)))
    assert "Familles servies par mois (familles)" in page
    assert "18,50 au 30/09/2025" in page

    response = client.post(
        url("measure_add", world, action.pk, indicator.pk),
        {f"m{indicator.pk}-date": "", f"m{indicator.pk}-value": "beaucoup"},
    )
    assert response.status_code == 400
    page = text(response)
    assert "Indiquez la date de la mesure." in page and "Indiquez un nombre" in page
    assert IndicatorMeasure.objects.count() == 1

    response = client.post(
        url("indicator_edit", world, action.pk, indicator.pk),
        {"label": "Familles servies", "unit": "", "baseline": "", "target": "50"},
    )
    assert response.status_code == 302
    indicator.refresh_from_db()
    assert (indicator.label, str(indicator.target)) == ("Familles servies", "50.00")
    client.post(url("indicator_delete", world, action.pk, indicator.pk))
    assert not ActionIndicator.objects.exists() and not IndicatorMeasure.objects.exists()


def test_an_indicator_without_label_is_refused(client, world):
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    response = client.post(url("action_indicators", world, action.pk), {"label": "", "target": "x"})
    assert response.status_code == 400
    page = text(response)
    assert "Nommez l'indicateur." in page and "Indiquez un nombre" in page
    assert not ActionIndicator.objects.exists()


# ---- Follow-up notes ----------------------------------------------------------------------------


def update_data(**overrides):
    return {
        "date": "2025-12-15",
        "status": ActionStatus.IN_PROGRESS,
        "progress": "60",
        "note": "La tournée passe dans quatre communes.",
        "version": "1",
    } | overrides


def test_a_follow_up_note_sets_the_status_and_progress_of_the_action(client, world):
    action = world.action(code="A1", progress=20)
    client.force_login(world.coordinator)
    response = client.get(url("update_add", world, action.pk))
    assert response.context["form"]["progress"].value() == 20
    response = client.post(url("update_add", world, action.pk), update_data())
    assert response.status_code == 302
    update = ProgressUpdate.objects.get()
    assert (update.status, update.progress, update.author) == (
        ActionStatus.IN_PROGRESS,
        60,
        world.coordinator,
    )
    action.refresh_from_db()
    assert (action.progress, action.version) == (60, 2)
    assert action.history.first().history_user == world.coordinator
    page = text(client.get(url("action_detail", world, action.pk)))
    assert "Suivi du 15/12/2025 — En cours, 60 %" in page
    assert "La tournée passe dans quatre communes." in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"progress": "101"}, "L'avancement doit être compris entre 0 et 100 %."),
        ({"note": ""}, "Écrivez la note de suivi."),
        (
            {"status": ActionStatus.DONE, "progress": "10"},
            "Confirmer : l'action est réalisée alors que son avancement est de 10 %",
        ),
        ({"version": "7"}, "Quelqu'un d'autre a modifié cette fiche"),
    ],
)
def test_bad_follow_up_notes_are_refused_and_nothing_written(client, world, overrides, message):
    action = world.action(code="A1", progress=20)
    client.force_login(world.coordinator)
    response = client.post(url("update_add", world, action.pk), update_data(**overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert not ProgressUpdate.objects.exists()
    action.refresh_from_db()
    assert (action.progress, action.version) == (20, 1)


def test_a_confirmed_done_follow_up_is_saved(client, world):
    action = world.action(code="A1", progress=20)
    client.force_login(world.coordinator)
    data = update_data(status=ActionStatus.DONE, progress="90", confirm_done="on")
    assert client.post(url("update_add", world, action.pk), data).status_code == 302
    action.refresh_from_db()
    assert (action.status, action.progress) == (ActionStatus.DONE, 90)


# ---- Documents ----------------------------------------------------------------------------------


def test_a_document_is_stored_under_a_random_name_and_downloaded_with_permission(
    client, world, settings
):
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    upload = SimpleUploadedFile("convention-epicerie.pdf", PDF, content_type="application/pdf")
    response = client.post(url("document_add", world, action.pk), {"file": upload})
    assert response.status_code == 302
    document = ActionDocument.objects.get()
    assert document.original_name == "convention-epicerie.pdf"
    assert "convention" not in document.file.name
    assert document.content_type == "application/pdf"

    client.force_login(world.local_authority)  # the plan's readers download it
    response = client.get(url("document_download", world, action.pk, document.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "convention-epicerie.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(url("document_delete", world, action.pk, document.pk)).status_code == 403

    client.force_login(world.funder)
    assert client.get(url("document_download", world, action.pk, document.pk)).status_code == 403

    client.force_login(world.coordinator)
    path = settings.MEDIA_ROOT / document.file.name
    assert path.exists()
    with_callbacks = client.post(url("document_delete", world, action.pk, document.pk))
    assert with_callbacks.status_code == 302
    assert not ActionDocument.objects.exists()


def test_the_file_goes_once_the_deletion_is_committed(
    client, world, settings, django_capture_on_commit_callbacks
):
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    upload = SimpleUploadedFile("cr.pdf", PDF, content_type="application/pdf")
    client.post(url("document_add", world, action.pk), {"file": upload})
    document = ActionDocument.objects.get()
    path = settings.MEDIA_ROOT / document.file.name
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("document_delete", world, action.pk, document.pk))
    assert not path.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("programme.exe", EXE, "Ce type de fichier n'est pas accepté"),
        ("faux.docx", PDF, "Le contenu du fichier ne correspond pas à son extension"),
        ("vide.pdf", b"", "Le fichier soumis est vide"),
    ],
)
def test_a_bad_document_is_refused_and_nothing_written(
    client, world, settings, name, content, message
):
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    upload = SimpleUploadedFile(name, content)
    response = client.post(url("document_add", world, action.pk), {"file": upload})
    assert response.status_code == 400
    assert message in text(response)
    assert not ActionDocument.objects.exists()
    assert not (settings.MEDIA_ROOT / "actions").exists()


def test_a_document_too_large_is_refused(client, world, settings):
    settings.TABLEE_MAX_ATTACHMENT_BYTES = 50
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    upload = SimpleUploadedFile("gros.pdf", PDF)
    response = client.post(url("document_add", world, action.pk), {"file": upload})
    assert "Le fichier dépasse la taille maximale" in text(response)
    assert not ActionDocument.objects.exists()


# ---- Comments -----------------------------------------------------------------------------------


def test_the_local_authority_comments_an_action(client, world):
    action = world.action(code="A1")
    client.force_login(world.local_authority)
    response = client.get(url("action_detail", world, action.pk))
    assert "Publier le commentaire" in text(response)
    response = client.post(
        url("comment_add", world, action.pk), {"text": "Le PAT peut financer le véhicule."}
    )
    assert response["Location"] == url("action_detail", world, action.pk) + "#commentaires"
    comment = ActionComment.objects.get()
    assert (comment.author, comment.text) == (
        world.local_authority,
        "Le PAT peut financer le véhicule.",
    )
    assert "Le PAT peut financer le véhicule." in text(
        client.get(url("action_detail", world, action.pk))
    )
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAN_CHANGED)
    assert "véhicule" not in str(event.detail)


def test_the_partner_reads_but_does_not_comment(client, world):
    action = world.action(code="A1")
    client.force_login(world.partner)
    response = client.get(url("action_detail", world, action.pk))
    assert "Publier le commentaire" not in text(response)
    response = client.post(url("comment_add", world, action.pk), {"text": "Une remarque"})
    assert response.status_code == 403
    assert not ActionComment.objects.exists()


@pytest.mark.parametrize(
    ("comment", "message"),
    [("", "Écrivez votre commentaire."), ("x" * 2001, "Le commentaire est trop long")],
)
def test_a_bad_comment_is_refused(client, world, comment, message):
    action = world.action(code="A1")
    client.force_login(world.coordinator)
    response = client.post(url("comment_add", world, action.pk), {"text": comment})
    assert response.status_code == 400
    assert message in text(response)
    assert not ActionComment.objects.exists()


# ---- The action's story -------------------------------------------------------------------------


def story(world):
    meeting = MeetingFactory(
        programme_territory=world.t1, title="Réunion des acteurs (fictif)", structures=[world.own]
    )
    needs = [
        NeedFactory(
            programme_territory=world.t1,
            title=f"Besoin n°{n} (fictif)",
            meeting=meeting,
            structures=[world.own, world.neighbour],
        )
        for n in range(2)
    ]
    ParoleFactory(
        programme_territory=world.t1,
        text="Le samedi il n'y a pas de bus.",
        shareable=True,
        needs=needs,
    )
    ParoleFactory(
        programme_territory=world.t1,
        text="Parole interne à l'équipe.",
        shareable=False,
        needs=needs,
    )
    session = ConsultationSessionFactory(
        programme_territory=world.t1,
        kind=ConsultationSession.Kind.WORKSHOP,
        title="Atelier de concertation de mars",
        date=datetime.date(2025, 3, 12),
    )
    proposals = []
    for n in range(2):
        proposal = ProposalFactory(
            programme_territory=world.t1, session=session, text=f"Proposition {n} : épicerie mobile"
        )
        ProposalVote.objects.create(proposal=proposal, group=StakeholderGroup.PEOPLE, votes=12)
        ProposalVote.objects.create(
            proposal=proposal, group=StakeholderGroup.PROFESSIONALS, votes=4
        )
        proposals.append(proposal)
    action = world.action(code="A1", title="Épicerie mobile", pilots=[world.own, world.neighbour])
    action.needs.set(needs)
    action.proposals.set(proposals)
    action.partners.set([world.neighbour])
    for n in range(2):
        SessionFactory(
            programme_territory=world.t1,
            action=action,
            title=f"Atelier cuisine n°{n + 1}",
            starts_at=at(2025, 5, 10 + n),
        )
    ActionBudgetLine.objects.create(action=action, year=2025, funder="DREETS Bretagne", planned=100)
    ActionBudgetLine.objects.create(action=action, year=2026, funder="EPCI", planned=50)
    for n in range(2):
        indicator = ActionIndicator.objects.create(
            action=action, label=f"Indicateur {n}", target=10
        )
        IndicatorMeasure.objects.create(
            indicator=indicator, date=datetime.date(2025, 6, 1), value=4
        )
    ProgressUpdate.objects.create(
        action=action,
        date=datetime.date(2025, 6, 30),
        status="in_progress",
        progress=30,
        note="Bien",
    )
    ActionComment.objects.create(action=action, text="Un commentaire", author=world.local_authority)
    ActionDocument.objects.create(
        action=action, file="x", original_name="cr.pdf", content_type="application/pdf", size=10
    )
    return action


def test_the_action_page_tells_its_story(client, world, django_assert_num_queries):
    action = story(world)
    client.force_login(world.coordinator)
    client.post(
        url("update_add", world, action.pk),
        update_data(status=ActionStatus.BLOCKED, progress="30"),
    )
    # session, user, memberships, programme territory, plan, action and axis, pilots, partners,
    # needs, their structures, their testimonies, proposals with sessions, their votes, delivered
    # sessions, history records, follow-up notes, budget lines, indicators, their measures,
    # documents, comments
    with django_assert_num_queries(21):
        response = client.get(url("action_detail", world, action.pk))
    page = text(response)
    # The needs, the meeting and the structures behind them, and the testimonies.
    assert "Besoin n°0 (fictif)" in page and "Besoin n°1 (fictif)" in page
    assert "exprimé par CCAS de Loudéac, Épicerie solidaire du Centre" in page
    assert "« Le samedi il n'y a pas de bus. »" in page
    assert "Parole interne à l'équipe." in page  # the coordinator reads every testimony
    meeting_url = reverse(
        "diagnostic_records:meeting_detail",
        args=[world.t1.pk, action.needs.first().meeting_id],
    )
    assert f'href="{meeting_url}"' in response.content.decode()
    # The proposals, their session and the votes per group.
    assert "Proposition 0 : épicerie mobile" in page
    assert "Atelier de concertation du 12/03/2025 : Atelier de concertation de mars" in page
    assert "Voix : Personnes concernées 12 ; Professionnel·les 4" in page
    # The sessions that delivered it.
    assert "10/05/2025 Atelier cuisine n°1 Programmée" in page
    assert "11/05/2025 Atelier cuisine n°2" in page
    # Status changes over time, follow-up notes, budget, indicators, documents, comments.
    assert "À venir → Bloquée" in page
    assert "Bien" in page and "150,00 €" in page
    assert "Indicateur 1" in page and "cr.pdf" in page and "Un commentaire" in page


def test_the_local_authority_sees_shareable_testimonies_only(client, world):
    action = story(world)
    client.force_login(world.local_authority)
    response = client.get(url("action_detail", world, action.pk))
    page = text(response)
    assert "« Le samedi il n'y a pas de bus. »" in page
    assert "Parole interne à l'équipe." not in page
    assert (
        "diagnostic/"
        not in response.content.decode().split("Son histoire")[1].split("Les propositions")[0]
    )  # no link into the association's working records
    assert "Entretien du 14/03/2025" in page  # the meeting, without its notes


def test_an_action_without_sessions_says_so(client, world):
    action = world.action(code="A1")
    client.force_login(world.partner)
    page = text(client.get(url("action_detail", world, action.pk)))
    assert "Aucun atelier ni aucune formation n'est encore relié à cette action." in page
    assert "Aucun besoin du diagnostic n'est relié à cette action." in page
    assert "Cette action ne vient d'aucune proposition enregistrée." in page
