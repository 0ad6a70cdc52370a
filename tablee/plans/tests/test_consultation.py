"""Co-construction sessions: the page of a territory, who may see and record sessions, headcounts
per stakeholder group, named professionals, the public link, bad input and concurrent edits."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.diagnostic.tests.factories_i import NeedFactory
from tablee.directory.tests.factories import StructureFactory
from tablee.plans.models import (
    ConsultationSession,
    NamedParticipant,
    ParticipantCount,
    Proposal,
    StakeholderGroup,
)
from tablee.plans.tests.factories import ConsultationSessionFactory, ProposalFactory
from tablee.plans.tests.factories_consultation import (
    EDITOR_ROLES,
    FUNDER_ROLES,
    OUT_OF_SCOPE_ROLES,
    PROPOSER_ROLES,
    ConsultationWorld,
    named,
    proposal_with_votes,
    session_with_counts,
)
from tablee.plans.views_consultation import action_create_url

pytestmark = pytest.mark.django_db

G = StakeholderGroup


def text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    return ConsultationWorld()


def url(name, world, *args):
    return reverse(f"consultation:{name}", args=[world.t1.pk, *args])


def session_data(world, **overrides):
    data = {
        "kind": ConsultationSession.Kind.WORKSHOP,
        "date": "2025-03-12",
        "title": "Atelier « mieux manger » à Loudéac",
        "place": "Salle des fêtes",
        "structures": [str(world.own.pk), str(world.neighbour.pk)],
        "count_professionals": "6",
        "count_volunteers": "4",
        "count_elected": "1",
        "count_people": "9",
        "count_authority": "2",
        "count_association": "0",
        "notes": "Les transports restent le premier frein évoqué.",
    }
    data.update(overrides)
    return data


def audit_events(**detail):
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_CHANGED)
    return [e for e in events if all(e.detail.get(k) == v for k, v in detail.items())]


# ---- Who may see and write ---------------------------------------------------------------------


def reading_urls(world):
    session = ConsultationSessionFactory(programme_territory=world.t1)
    return [url("index", world), url("session_detail", world, session.pk)]


def editing_urls(world):
    session = ConsultationSessionFactory(programme_territory=world.t1)
    return [
        url("session_create", world),
        url("session_edit", world, session.pk),
        url("session_delete", world, session.pk),
    ]


@pytest.mark.parametrize("role", EDITOR_ROLES)
def test_coordinators_and_admin_open_every_session_page(client, world, role):
    client.force_login(getattr(world, role))
    for address in reading_urls(world) + editing_urls(world):
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("role", PROPOSER_ROLES)
def test_partner_and_local_authority_read_but_do_not_record_sessions(client, world, role):
    client.force_login(getattr(world, role))
    for address in reading_urls(world):
        assert client.get(address).status_code == 200, address
    for address in editing_urls(world):
        assert client.get(address).status_code == 403, address
    before = ConsultationSession.objects.count()
    assert client.post(url("session_create", world), session_data(world)).status_code == 403
    session = ConsultationSession.objects.first()
    response = client.post(url("session_public_link", world, session.pk), {"ouvert": "1"})
    assert response.status_code == 403
    response = client.post(
        url("named_participant_add", world, session.pk),
        {"full_name": "Claude Fictif", "consent": "on"},
    )
    assert response.status_code == 403
    assert client.post(url("session_delete", world, session.pk)).status_code == 403
    assert ConsultationSession.objects.count() == before
    assert not NamedParticipant.objects.exists()
    assert not ConsultationSession.objects.filter(public_proposals_open=True).exists()
    assert not audit_events()


@pytest.mark.parametrize("role", FUNDER_ROLES)
def test_the_funder_has_no_access_to_the_co_construction(client, world, role):
    client.force_login(getattr(world, role))
    for address in reading_urls(world) + editing_urls(world):
        assert client.get(address).status_code == 403, address


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_a_territory_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    for address in reading_urls(world) + editing_urls(world):
        assert client.get(address).status_code == 404, address


def test_anonymous_is_sent_to_the_login_page(client, world):
    for address in reading_urls(world) + editing_urls(world):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_a_session_of_another_territory_answers_404(client, world):
    elsewhere = ConsultationSessionFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    for name in ("session_detail", "session_edit", "session_delete"):
        assert client.get(url(name, world, elsewhere.pk)).status_code == 404, name
    response = client.post(url("session_public_link", world, elsewhere.pk), {"ouvert": "1"})
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.public_proposals_open is False


# ---- The co-construction page ------------------------------------------------------------------


def test_the_page_lists_sessions_proposals_and_results(client, world, django_assert_num_queries):
    march = session_with_counts(
        world.t1,
        {G.PROFESSIONALS: 12, G.PEOPLE: 14, G.VOLUNTEERS: 3},
        date=datetime.date(2025, 3, 12),
        title="Atelier de Loudéac",
    )
    june = session_with_counts(
        world.t1,
        {G.ELECTED: 2, G.AUTHORITY: 1},
        date=datetime.date(2025, 6, 20),
        kind=ConsultationSession.Kind.STEERING,
        title="Comité de pilotage",
    )
    ConsultationSessionFactory(programme_territory=world.t2, title="Atelier de Rostrenen")
    need = NeedFactory(programme_territory=world.t1, title="Transport vers l'épicerie")
    bus = proposal_with_votes(
        world.t1,
        {G.PEOPLE: 12, G.PROFESSIONALS: 2},
        text="Un minibus solidaire le samedi",
        session=march,
    )
    bus.needs.set([need])
    kitchen = proposal_with_votes(
        world.t1,
        {G.PROFESSIONALS: 9, G.ELECTED: 8},
        text="Des ateliers cuisine à l'épicerie",
        origin_group=G.PROFESSIONALS,
        session=march,
    )
    proposal_with_votes(world.t1, text="Une carte des distributions", origin_group=G.AUTHORITY)
    ProposalFactory(programme_territory=world.t2, text="Proposition d'ailleurs")
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, sessions count, page of sessions with
    # headcounts per group, proposals count, page of proposals with votes, their needs, the
    # ranked results, the sessions of the filter
    with django_assert_num_queries(11):
        response = client.get(url("index", world))
    assert response.status_code == 200
    rows = response.context["session_rows"]
    assert [row["session"] for row in rows] == [june, march]
    # Columns in group order: professionals, volunteers, elected, people, authority, association.
    assert rows[1]["cells"] == [12, 3, 0, 14, 0, 0] and rows[1]["total"] == 29
    assert rows[0]["cells"] == [0, 0, 2, 0, 1, 0] and rows[0]["total"] == 3
    page = text(response)
    assert "Atelier de Loudéac" in page and "Atelier de Rostrenen" not in page
    assert "Proposition d'ailleurs" not in page
    assert "Transport vers l'épicerie" in page  # the linked need, next to the proposal
    assert [row["proposal"] for row in response.context["result_rows"]] == [kitchen, bus]
    assert response.context["result_rows"][1]["cells"] == [2, 0, 0, 12, 0, 0]
    assert "Personnes concernées" in page


def test_results_can_be_ranked_by_the_votes_of_people_concerned(client, world):
    bus = proposal_with_votes(world.t1, {G.PEOPLE: 12, G.PROFESSIONALS: 2})
    kitchen = proposal_with_votes(world.t1, {G.PROFESSIONALS: 9, G.ELECTED: 8})
    map_ = proposal_with_votes(world.t1, {G.PEOPLE: 3, G.ELECTED: 30})
    proposal_with_votes(world.t1, {})  # no vote: not ranked
    client.force_login(world.partner)
    response = client.get(url("index", world))
    assert [r["proposal"] for r in response.context["result_rows"]] == [map_, kitchen, bus]
    response = client.get(url("index", world), {"classement": "-people"})
    assert [r["proposal"] for r in response.context["result_rows"]] == [bus, map_, kitchen]
    response = client.get(url("index", world), {"classement": "people"})
    assert [r["proposal"] for r in response.context["result_rows"]] == [kitchen, map_, bus]
    people = next(c for c in response.context["result_columns"] if c["key"] == "people")
    assert people["direction"] == "ascending"
    # An unknown ranking falls back to the total.
    response = client.get(url("index", world), {"classement": "hack"})
    assert [r["proposal"] for r in response.context["result_rows"]] == [map_, kitchen, bus]


def test_proposals_are_filtered_and_sorted(client, world):
    march = ConsultationSessionFactory(programme_territory=world.t1)
    other_session = ConsultationSessionFactory(programme_territory=world.t2)
    people = proposal_with_votes(world.t1, {G.PEOPLE: 4}, session=march)
    pro = proposal_with_votes(
        world.t1, {G.PEOPLE: 9}, origin_group=G.PROFESSIONALS, status=Proposal.Status.RETAINED
    )
    elected = proposal_with_votes(world.t1, {}, origin_group=G.ELECTED, session=march)
    client.force_login(world.coordinator)

    def listed(**params):
        response = client.get(url("index", world), params)
        return list(response.context["proposals"].object_list)

    assert listed() == [elected, pro, people]  # newest first
    assert listed(tri="-voix") == [pro, people, elected]
    assert listed(tri="voix") == [elected, people, pro]
    assert listed(groupe="people") == [people]
    assert listed(statut="retained") == [pro]
    assert listed(seance=str(march.pk)) == [elected, people]
    assert listed(seance=str(march.pk), groupe="elected") == [elected]
    # A session of another territory is not a valid filter: nothing is filtered.
    assert listed(seance=str(other_session.pk)) == [elected, pro, people]
    # The filters apply to the results too.
    response = client.get(url("index", world), {"seance": str(march.pk)})
    assert [r["proposal"] for r in response.context["result_rows"]] == [people]
    response = client.get(url("index", world), {"groupe": "volunteers"})
    assert "Aucune proposition ne correspond à ces filtres." in text(response)


def test_sessions_and_proposals_are_paginated_separately(client, world):
    for day in range(1, 23):
        ConsultationSessionFactory(programme_territory=world.t1, date=datetime.date(2025, 1, day))
    for _ in range(31):
        ProposalFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    response = client.get(url("index", world), {"page_seances": 2, "tri": "date"})
    assert len(response.context["sessions"].object_list) == 2
    assert len(response.context["proposals"].object_list) == 30
    content = response.content.decode()
    # The proposals' pagination keeps the sessions' page and the sort.
    assert "page_seances=2&amp;tri=date&amp;page_propositions=2#propositions" in content
    response = client.get(url("index", world), {"page_propositions": 2})
    assert len(response.context["proposals"].object_list) == 1
    assert len(response.context["sessions"].object_list) == 20
    assert "Page 2 sur 2" in text(response)


def test_the_empty_page_says_what_to_do(client, world):
    client.force_login(world.coordinator)
    page = text(client.get(url("index", world)))
    assert "Aucune séance de concertation enregistrée pour l'instant." in page
    assert "Commencez par enregistrer une séance" in page
    assert "Aucune proposition pour l'instant." in page
    assert "ouvrez le lien public d'une séance" in page
    assert "Aucune voix enregistrée." in page
    client.force_login(world.partner)
    page = text(client.get(url("index", world)))
    assert "L'équipe de coordination les enregistrera ici" in page
    assert "Vous pouvez déjà ajouter une proposition" in page
    assert "Enregistrer une séance" not in page


def test_transform_into_action_is_offered_to_coordinators_only(client, world):
    proposal = ProposalFactory(programme_territory=world.t1)
    target = action_create_url(world.t1)
    client.force_login(world.coordinator)
    content = client.get(url("index", world)).content.decode()
    if target is None:
        # The action plan's pages are not installed: no link to a page that does not exist.
        assert "Transformer en action" not in content
    else:
        assert f'href="{target}?proposition={proposal.pk}"' in content
    client.force_login(world.partner)
    assert "Transformer en action" not in client.get(url("index", world)).content.decode()


def test_small_headcounts_are_masked_outside_the_association(client, world):
    session_with_counts(world.t1, {G.PROFESSIONALS: 12, G.PEOPLE: 4, G.VOLUNTEERS: 15})
    client.force_login(world.local_authority)
    response = client.get(url("index", world))
    row = response.context["session_rows"][0]
    # 4 is masked; 12, the smallest other positive count, too, so the total rebuilds nothing.
    assert row["cells"] == ["s", 15, 0, "s", 0, 0] and row["total"] == 31
    assert "secret statistique" in text(response)
    client.force_login(world.coordinator)
    row = client.get(url("index", world)).context["session_rows"][0]
    assert row["cells"] == [12, 15, 0, 4, 0, 0]


# ---- Recording a session -----------------------------------------------------------------------


def test_coordinator_records_a_session_with_headcounts_and_structures(client, world):
    client.force_login(world.territory_coordinator)
    response = client.get(url("session_create", world))
    page = text(response)
    assert "Épicerie solidaire du Centre" in page and "CADA de Rostrenen" not in page
    assert "N'écrivez ni le nom d'une personne accompagnée" in page
    for group in G:
        assert group.label in page

    response = client.post(url("session_create", world), session_data(world))
    session = ConsultationSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("session_detail", world, session.pk)
    assert session.programme_territory == world.t1
    assert session.created_by == world.territory_coordinator
    assert set(session.structures.all()) == {world.own, world.neighbour}
    # One row per group that had someone: the association's zero is not stored.
    assert dict(session.participant_counts.values_list("group", "count")) == {
        "professionals": 6,
        "volunteers": 4,
        "elected": 1,
        "people": 9,
        "authority": 2,
    }
    assert session.public_proposals_open is False
    [event] = audit_events(action="session_create")
    assert event.detail == {
        "action": "session_create",
        "session": str(session.pk),
        "participants": "22",
    }
    assert event.target == str(world.t1.pk)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"count_people": "-1"},
            "count_people",
            "« Personnes concernées » : le nombre doit être compris entre 0 et 500.",
        ),
        (
            {"count_professionals": "501"},
            "count_professionals",
            "« Professionnel·les » : le nombre doit être compris entre 0 et 500.",
        ),
        (
            {"count_volunteers": "beaucoup"},
            "count_volunteers",
            "« Bénévoles » : indiquez un nombre entier (0 si personne).",
        ),
        ({"title": ""}, "title", "Indiquez l'objet de la séance."),
        ({"date": ""}, "date", "Indiquez la date de la séance."),
        ({"date": "2021-01-01"}, "date", "antérieure de plus d'un an au début du programme"),
        ({"date": "future"}, "date", "La date ne peut pas dépasser d'un an la date du jour"),
        ({"kind": "banquet"}, "kind", ""),
        ({"structures": ["sibling"]}, "structures", "Choisissez des structures du territoire."),
    ],
)
def test_bad_session_input_is_refused_and_nothing_written(client, world, overrides, field, message):
    if overrides.get("date") == "future":
        overrides = {"date": (timezone.localdate() + datetime.timedelta(days=400)).isoformat()}
    if overrides.get("structures") == ["sibling"]:
        overrides = {"structures": [str(world.sibling.pk)]}  # a structure of another territory
    client.force_login(world.coordinator)
    response = client.post(url("session_create", world), session_data(world, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    if message:
        assert message in text(response)
    assert "Le formulaire contient des erreurs" in text(response)
    assert not ConsultationSession.objects.exists()
    assert not ParticipantCount.objects.exists()
    assert not audit_events()


def test_the_session_service_refuses_headcounts_out_of_range(world):
    from django.core.exceptions import ValidationError

    from tablee.plans.services_consultation import session_create

    for counts in ({"people": -3}, {"people": 501}, {"friends": 2}):
        with pytest.raises(ValidationError):
            session_create(
                programme_territory=world.t1,
                acting_user=world.coordinator,
                date=datetime.date(2025, 3, 12),
                title="Atelier",
                counts=counts,
            )
    assert not ConsultationSession.objects.exists()


def test_coordinator_edits_a_session_and_its_headcounts(client, world):
    session = session_with_counts(world.t1, {G.PEOPLE: 5, G.ASSOCIATION: 2}, title="Premier objet")
    client.force_login(world.coordinator)
    response = client.get(url("session_edit", world, session.pk))
    form = response.context["form"]
    assert form.initial["version"] == 1
    assert form.initial["count_people"] == 5 and form.initial["count_professionals"] == 0
    response = client.post(
        url("session_edit", world, session.pk),
        session_data(
            world,
            version="1",
            title="Objet corrigé",
            structures=[str(world.own.pk)],
            count_people="7",
            count_association="0",
        ),
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.version == 2 and session.title == "Objet corrigé"
    assert list(session.structures.all()) == [world.own]
    counts = dict(session.participant_counts.values_list("group", "count"))
    assert counts["people"] == 7 and "association" not in counts
    assert audit_events(action="session_update")


def test_concurrent_edits_of_a_session_do_not_overwrite_each_other(client, world):
    session = session_with_counts(world.t1, {G.PEOPLE: 5}, title="Premier objet")
    client.force_login(world.coordinator)
    first = client.post(
        url("session_edit", world, session.pk),
        session_data(world, version="1", title="Objet de la première personne"),
    )
    assert first.status_code == 302
    # The second person opened the form on version 1 too.
    second = client.post(
        url("session_edit", world, session.pk),
        session_data(world, version="1", title="Objet de la seconde personne", count_people="40"),
    )
    assert second.status_code == 200
    page = text(second)
    assert "Quelqu'un d'autre a modifié cette fiche" in page
    assert "Objet de la première personne" in page  # the stored value, shown to compare
    session.refresh_from_db()
    assert session.title == "Objet de la première personne" and session.version == 2
    assert session.participant_counts.get(group="people").count == 9  # from the first edit


def test_an_edit_posted_without_its_version_is_refused(client, world):
    session = ConsultationSessionFactory(programme_territory=world.t1, title="Premier objet")
    client.force_login(world.coordinator)
    response = client.post(url("session_edit", world, session.pk), session_data(world))
    assert response.status_code == 200
    assert "version" in response.context["form"].errors
    session.refresh_from_db()
    assert session.title == "Premier objet" and session.version == 1


def test_deleting_a_session_asks_first_and_keeps_its_proposals(client, world):
    session = session_with_counts(world.t1, {G.PEOPLE: 5}, title="Atelier à supprimer")
    named(session)
    proposal = ProposalFactory(programme_territory=world.t1, session=session)
    client.force_login(world.coordinator)
    response = client.get(url("session_delete", world, session.pk))
    page = text(response)
    assert "Supprimer la séance" in page
    assert "Ses 1 proposition restera, sans séance." in page
    assert ConsultationSession.objects.filter(pk=session.pk).exists()
    response = client.post(url("session_delete", world, session.pk))
    assert response["Location"] == url("index", world)
    assert not ConsultationSession.objects.exists()
    assert not ParticipantCount.objects.exists() and not NamedParticipant.objects.exists()
    proposal.refresh_from_db()
    assert proposal.session is None
    [event] = audit_events(action="session_delete")
    assert event.detail["proposals_kept"] == "1"


# ---- Session page, named professionals, public link ---------------------------------------------


def test_the_session_page_shows_headcounts_structures_and_proposals(
    client, world, django_assert_num_queries
):
    session = session_with_counts(
        world.t1, {G.PEOPLE: 14, G.PROFESSIONALS: 12}, notes="Compte rendu interne."
    )
    session.structures.set([world.own])
    named(session, "Dominique Fictif", job_title="Conseillère ESF", structure=world.neighbour)
    proposal_with_votes(world.t1, {G.PEOPLE: 3}, session=session, text="Un minibus le samedi")
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, the session, its headcounts, its
    # proposals with votes, its structures, its named professionals, the audit of that reading,
    # the structures of the naming form
    with django_assert_num_queries(11):
        response = client.get(url("session_detail", world, session.pk))
    page = text(response)
    assert "Personnes concernées 14" in page and "Total 26" in page
    assert "Épicerie solidaire du Centre" in page
    assert "Un minibus le samedi" in page
    assert "Dominique Fictif, Conseillère ESF — CCAS de Loudéac" in page
    assert "Compte rendu interne." in page
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.NAMED_RECORD_READ)
    assert event.detail == {"record": "consultation_participants", "count": 1}


def test_names_notes_and_the_public_link_are_for_the_coordination_only(client, world):
    session = session_with_counts(world.t1, {G.PEOPLE: 14}, notes="Compte rendu interne.")
    named(session, "Dominique Fictif")
    client.force_login(world.partner)
    response = client.get(url("session_detail", world, session.pk))
    page = text(response)
    assert "Dominique Fictif" not in page
    assert "Compte rendu interne." not in page
    assert session.proposal_token not in response.content.decode()
    assert "Ajouter une proposition issue de cette séance" in page
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.NAMED_RECORD_READ).exists()


def test_coordinator_names_and_removes_a_professional(client, world):
    session = ConsultationSessionFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    response = client.post(
        url("named_participant_add", world, session.pk),
        {
            "full_name": "Camille Fictive",
            "job_title": "Travailleuse sociale",
            "structure": str(world.own.pk),
            "consent": "on",
        },
    )
    assert response.status_code == 302
    participant = NamedParticipant.objects.get()
    assert (participant.full_name, participant.structure) == ("Camille Fictive", world.own)
    [event] = audit_events(action="named_participant_add")
    assert "Camille" not in str(event.detail)
    response = client.post(url("named_participant_remove", world, session.pk, participant.pk))
    assert response.status_code == 302
    assert not NamedParticipant.objects.exists()
    assert audit_events(action="named_participant_remove")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"full_name": "Camille Fictive"},
            "Seul·es les professionnel·les qui l'acceptent sont nommé·es",
        ),
        ({"full_name": "", "consent": "on"}, "Indiquez le nom et le prénom"),
        (
            {"full_name": "Camille Fictive", "consent": "on", "structure": "sibling"},
            "Choisissez une structure du territoire.",
        ),
    ],
)
def test_a_professional_is_named_only_with_consent_and_a_structure_of_the_territory(
    client, world, data, message
):
    session = ConsultationSessionFactory(programme_territory=world.t1)
    if data.get("structure") == "sibling":
        data = {**data, "structure": str(world.sibling.pk)}
    client.force_login(world.coordinator)
    response = client.post(url("named_participant_add", world, session.pk), data)
    assert response.status_code == 200
    assert message in text(response)
    assert not NamedParticipant.objects.exists()
    assert not audit_events()


def test_the_public_link_is_opened_shown_and_closed(client, world):
    session = ConsultationSessionFactory(programme_territory=world.t1)
    public = reverse("proposals_public:propose", args=[session.proposal_token])
    client.force_login(world.coordinator)
    response = client.get(url("session_detail", world, session.pk))
    assert "Fermé" in text(response) and public in response.content.decode()
    assert response.context["qr_data_uri"] == ""

    response = client.post(url("session_public_link", world, session.pk), {"ouvert": "1"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.public_proposals_open is True
    assert session.version == 1  # an edit form open elsewhere must not conflict
    response = client.get(url("session_detail", world, session.pk))
    assert "Ouvert" in text(response)
    assert response.context["qr_data_uri"].startswith("data:image/svg+xml")
    assert f"http://testserver{public}" in response.content.decode()

    client.post(url("session_public_link", world, session.pk), {"ouvert": "0"})
    session.refresh_from_db()
    assert session.public_proposals_open is False
    actions = [e.detail["action"] for e in audit_events()]
    assert sorted(actions) == ["public_link_close", "public_link_open"]
    assert client.get(url("session_public_link", world, session.pk)).status_code == 405


def test_the_structure_search_is_for_editors_only(client, world):
    for n in range(55):
        StructureFactory(name=f"Association n°{n}", commune=world.own.commune)
    client.force_login(world.coordinator)
    response = client.get(url("session_create", world))
    assert response.context["picker"]["search"] is True
    assert reverse("consultation:structure_options", args=[world.t1.pk]) in (
        response.content.decode()
    )
    response = client.get(url("structure_options", world), {"q": "epicerie"})
    assert "Épicerie solidaire du Centre" in text(response)
    response = client.get(url("structure_options", world), {"q": "rostrenen"})
    assert "CADA de Rostrenen" not in text(response)
    client.force_login(world.partner)
    assert client.get(url("structure_options", world), {"q": "a"}).status_code == 403
