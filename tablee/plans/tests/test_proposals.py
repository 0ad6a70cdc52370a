"""Proposals: who may add, read and edit them, their linked needs, the votes of each stakeholder
group, bad input and concurrent edits."""

import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.diagnostic.tests.factories_i import NeedFactory
from tablee.plans import services_consultation as services
from tablee.plans.models import Proposal, ProposalVote, StakeholderGroup
from tablee.plans.tests.factories import (
    ActionFactory,
    ActionPlanFactory,
    ConsultationSessionFactory,
    ProposalFactory,
)
from tablee.plans.tests.factories_consultation import (
    EDITOR_ROLES,
    FUNDER_ROLES,
    OUT_OF_SCOPE_ROLES,
    PROPOSER_ROLES,
    ConsultationWorld,
    proposal_with_votes,
)

pytestmark = pytest.mark.django_db

G = StakeholderGroup


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    return ConsultationWorld()


def url(name, world, *args):
    return reverse(f"consultation:{name}", args=[world.t1.pk, *args])


def proposal_data(**overrides):
    data = {
        "text": "Un minibus solidaire vers l'épicerie le samedi matin",
        "origin_group": G.PEOPLE,
        "session": "",
        "needs": [],
        "status": Proposal.Status.OPEN,
    }
    data.update(overrides)
    return data


def votes_data(version="1", **overrides):
    data = {"version": version} | {f"votes_{group}": "0" for group in G.values}
    data.update(overrides)
    return data


def audit_events(action=None):
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_CHANGED)
    return [e for e in events if action is None or e.detail.get("action") == action]


# ---- Who may propose, read and edit -------------------------------------------------------------


@pytest.mark.parametrize("role", EDITOR_ROLES)
def test_coordinators_and_admin_open_every_proposal_page(client, world, role):
    proposal = ProposalFactory(programme_territory=world.t1)
    client.force_login(getattr(world, role))
    for name, args in [
        ("proposal_create", ()),
        ("proposal_detail", (proposal.pk,)),
        ("proposal_edit", (proposal.pk,)),
        ("proposal_votes", (proposal.pk,)),
        ("proposal_delete", (proposal.pk,)),
    ]:
        assert client.get(url(name, world, *args)).status_code == 200, name


@pytest.mark.parametrize("role", PROPOSER_ROLES)
def test_partner_and_local_authority_propose_and_read_but_do_not_edit(client, world, role):
    proposal = ProposalFactory(programme_territory=world.t1, text="Texte d'origine")
    client.force_login(getattr(world, role))
    assert client.get(url("proposal_create", world)).status_code == 200
    assert client.get(url("proposal_detail", world, proposal.pk)).status_code == 200
    for name in ("proposal_edit", "proposal_votes", "proposal_delete"):
        assert client.get(url(name, world, proposal.pk)).status_code == 403, name
    assert (
        client.post(
            url("proposal_edit", world, proposal.pk), proposal_data(version="1", text="Changé")
        ).status_code
        == 403
    )
    assert (
        client.post(
            url("proposal_votes", world, proposal.pk), votes_data(votes_people="9")
        ).status_code
        == 403
    )
    assert client.post(url("proposal_delete", world, proposal.pk)).status_code == 403
    proposal.refresh_from_db()
    assert proposal.text == "Texte d'origine" and not ProposalVote.objects.exists()


@pytest.mark.parametrize("role", FUNDER_ROLES)
def test_the_funder_can_neither_propose_nor_read_proposals(client, world, role):
    proposal = ProposalFactory(programme_territory=world.t1)
    client.force_login(getattr(world, role))
    assert client.get(url("proposal_create", world)).status_code == 403
    assert client.post(url("proposal_create", world), proposal_data()).status_code == 403
    for name in ("proposal_detail", "proposal_edit", "proposal_votes", "proposal_delete"):
        assert client.get(url(name, world, proposal.pk)).status_code == 403, name
    assert Proposal.objects.count() == 1


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_proposals_of_a_territory_out_of_scope_answer_404(client, world, role):
    proposal = ProposalFactory(programme_territory=world.t1)
    client.force_login(getattr(world, role))
    assert client.get(url("proposal_create", world)).status_code == 404
    for name in ("proposal_detail", "proposal_edit", "proposal_votes", "proposal_delete"):
        assert client.get(url(name, world, proposal.pk)).status_code == 404, name


def test_anonymous_is_sent_to_the_login_page(client, world):
    proposal = ProposalFactory(programme_territory=world.t1)
    for address in (url("proposal_create", world), url("proposal_detail", world, proposal.pk)):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_a_proposal_of_another_territory_answers_404(client, world):
    elsewhere = ProposalFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    for name in ("proposal_detail", "proposal_edit", "proposal_votes", "proposal_delete"):
        assert client.get(url(name, world, elsewhere.pk)).status_code == 404, name


# ---- Adding a proposal ------------------------------------------------------------------------


def test_a_partner_proposes_as_a_professional_by_default(client, world):
    client.force_login(world.partner)
    response = client.get(url("proposal_create", world))
    form = response.context["form"]
    assert form.initial["origin_group"] == G.PROFESSIONALS
    assert "status" not in form.fields  # the coordination decides what follows
    response = client.post(
        url("proposal_create", world),
        proposal_data(origin_group=G.PROFESSIONALS, status=Proposal.Status.RETAINED),
    )
    proposal = Proposal.objects.get()
    assert response["Location"] == url("proposal_detail", world, proposal.pk)
    assert proposal.origin_group == G.PROFESSIONALS
    assert proposal.status == Proposal.Status.OPEN
    assert proposal.created_by == world.partner
    assert proposal.submitted_publicly is False
    [event] = audit_events("proposal_create")
    assert event.detail == {"action": "proposal_create", "proposal": str(proposal.pk), "needs": "0"}
    # The partner reads it back, without the editing buttons.
    page = text(client.get(response["Location"]))
    assert "Un minibus solidaire" in page and "Modifier" not in page


def test_the_local_authority_proposes_as_the_authority_by_default(client, world):
    client.force_login(world.local_authority)
    response = client.get(url("proposal_create", world))
    assert response.context["form"].initial["origin_group"] == G.AUTHORITY


def test_a_facilitator_enters_proposals_of_people_concerned_one_after_another(client, world):
    session = ConsultationSessionFactory(programme_territory=world.t1)
    needs = NeedFactory.create_batch(2, programme_territory=world.t1)
    client.force_login(world.coordinator)
    response = client.get(
        url("proposal_create", world), {"seance": str(session.pk), "groupe": "people"}
    )
    form = response.context["form"]
    assert form.initial["session"] == session.pk and form.initial["origin_group"] == "people"
    assert needs[0].title in text(response)
    response = client.post(
        url("proposal_create", world),
        proposal_data(session=str(session.pk), needs=[str(n.pk) for n in needs], _autre="1"),
    )
    assert response.status_code == 302
    assert response["Location"] == (
        url("proposal_create", world) + f"?groupe=people&seance={session.pk}"
    )
    proposal = Proposal.objects.get()
    assert proposal.session == session and set(proposal.needs.all()) == set(needs)
    assert proposal.origin_group == G.PEOPLE
    assert audit_events("proposal_create")[0].detail["needs"] == "2"


def test_a_prefill_from_another_territory_is_ignored(client, world):
    elsewhere = ConsultationSessionFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    response = client.get(
        url("proposal_create", world), {"seance": str(elsewhere.pk), "groupe": "pirates"}
    )
    form = response.context["form"]
    assert "session" not in form.initial and form.initial["origin_group"] == ""
    response = client.get(url("proposal_create", world), {"seance": "pas-un-uuid"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"text": ""}, "text", "Écrivez la proposition : le texte ne peut pas être vide."),
        ({"text": "   \n  "}, "text", "Écrivez la proposition : le texte ne peut pas être vide."),
        ({"text": "x" * 2001}, "text", "au plus 2000 caractères"),
        ({"origin_group": ""}, "origin_group", "Indiquez le groupe qui a fait la proposition."),
        ({"origin_group": "pirates"}, "origin_group", "Sélectionnez un choix valide"),
        ({"needs": "elsewhere"}, "needs", "Choisissez des besoins de ce territoire."),
        ({"session": "elsewhere"}, "session", "Choisissez une séance de ce territoire."),
        ({"status": "forgotten"}, "status", "Sélectionnez un choix valide"),
    ],
)
def test_bad_proposal_input_is_refused_and_nothing_written(
    client, world, overrides, field, message
):
    if overrides.get("needs") == "elsewhere":
        overrides = {"needs": [str(NeedFactory(programme_territory=world.t2).pk)]}
    if overrides.get("session") == "elsewhere":
        overrides = {"session": str(ConsultationSessionFactory(programme_territory=world.t2).pk)}
    client.force_login(world.coordinator)
    response = client.post(url("proposal_create", world), proposal_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in text(response)
    assert "Le formulaire contient des erreurs" in text(response)
    assert not Proposal.objects.exists()
    assert not audit_events()


def test_the_proposal_service_refuses_a_need_of_another_territory_and_an_empty_text(world):
    other_need = NeedFactory(programme_territory=world.t2)
    with pytest.raises(ValidationError) as error:
        services.proposal_create(
            programme_territory=world.t1,
            acting_user=world.coordinator,
            text="Une épicerie mobile",
            origin_group=G.PEOPLE,
            needs=[other_need],
        )
    assert error.value.message_dict == {"needs": ["Choisissez des besoins de ce territoire."]}
    with pytest.raises(ValidationError):
        services.proposal_create(
            programme_territory=world.t1,
            acting_user=world.coordinator,
            text="  ",
            origin_group="people",
        )
    assert not Proposal.objects.exists()


# ---- Editing, votes, deleting ------------------------------------------------------------------


def test_coordinator_edits_a_proposal_and_its_needs(client, world):
    need = NeedFactory(programme_territory=world.t1)
    proposal = ProposalFactory(programme_territory=world.t1, text="Premier texte")
    client.force_login(world.coordinator)
    assert (
        client.get(url("proposal_edit", world, proposal.pk)).context["form"].initial["version"] == 1
    )
    response = client.post(
        url("proposal_edit", world, proposal.pk),
        proposal_data(version="1", text="Texte corrigé", needs=[str(need.pk)], status="retained"),
    )
    assert response["Location"] == url("proposal_detail", world, proposal.pk)
    proposal.refresh_from_db()
    assert (proposal.text, proposal.status, proposal.version) == ("Texte corrigé", "retained", 2)
    assert list(proposal.needs.all()) == [need]
    assert audit_events("proposal_update")


def test_concurrent_edits_of_a_proposal_do_not_overwrite_each_other(client, world):
    proposal = ProposalFactory(programme_territory=world.t1, text="Premier texte")
    client.force_login(world.coordinator)
    first = client.post(
        url("proposal_edit", world, proposal.pk),
        proposal_data(version="1", text="Texte de la première personne"),
    )
    assert first.status_code == 302
    second = client.post(
        url("proposal_edit", world, proposal.pk),
        proposal_data(version="1", text="Texte de la seconde personne", status="not_retained"),
    )
    assert second.status_code == 200
    page = text(second)
    assert "Quelqu'un d'autre a modifié cette fiche" in page
    assert "Texte de la première personne" in page
    proposal.refresh_from_db()
    assert proposal.text == "Texte de la première personne" and proposal.status == "open"


def test_coordinator_records_the_votes_of_each_group(client, world):
    proposal = proposal_with_votes(world.t1, {G.ASSOCIATION: 4})
    client.force_login(world.coordinator)
    response = client.get(url("proposal_votes", world, proposal.pk))
    assert response.context["form"].initial["version"] == 1
    assert response.context["form"]["votes_association"].value() == 4
    response = client.post(
        url("proposal_votes", world, proposal.pk),
        votes_data(votes_people="12", votes_professionals="3", votes_elected=""),
    )
    assert response["Location"] == url("index", world) + "#resultats"
    assert dict(proposal.votes.values_list("group", "votes")) == {"people": 12, "professionals": 3}
    proposal.refresh_from_db()
    assert proposal.version == 2
    [event] = audit_events("proposal_votes")
    assert event.detail["votes"] == "15"
    # The results show them next to each other.
    row = client.get(url("index", world)).context["result_rows"][0]
    assert row["cells"] == [3, 0, 0, 12, 0, 0] and row["total"] == 15


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"votes_people": "-1"},
            "« Personnes concernées » : le nombre de voix doit être compris entre 0 et 5000.",
        ),
        (
            {"votes_elected": "5001"},
            "« Élu·es » : le nombre de voix doit être compris entre 0 et 5000.",
        ),
        ({"votes_volunteers": "deux"}, "« Bénévoles » : indiquez un nombre entier"),
    ],
)
def test_bad_votes_are_refused_and_nothing_written(client, world, overrides, message):
    proposal = proposal_with_votes(world.t1, {G.PEOPLE: 2})
    client.force_login(world.coordinator)
    response = client.post(
        url("proposal_votes", world, proposal.pk),
        votes_data(votes_professionals="7", **overrides),
    )
    assert response.status_code == 200
    assert message in text(response)
    assert dict(proposal.votes.values_list("group", "votes")) == {"people": 2}
    proposal.refresh_from_db()
    assert proposal.version == 1
    assert not audit_events()


def test_the_votes_service_refuses_negative_votes(world):
    proposal = ProposalFactory(programme_territory=world.t1)
    with pytest.raises(ValidationError):
        services.proposal_set_votes(
            proposal=proposal, version=1, votes={"people": -4}, acting_user=world.coordinator
        )
    assert not ProposalVote.objects.exists()


def test_concurrent_vote_counts_do_not_overwrite_each_other(client, world):
    proposal = ProposalFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    first = client.post(url("proposal_votes", world, proposal.pk), votes_data(votes_people="10"))
    assert first.status_code == 302
    second = client.post(url("proposal_votes", world, proposal.pk), votes_data(votes_people="6"))
    assert second.status_code == 200
    assert "Quelqu'un d'autre a modifié cette fiche" in text(second)
    assert proposal.votes.get().votes == 10


def test_the_proposal_page_shows_needs_votes_and_the_actions_it_led_to(
    client, world, django_assert_num_queries
):
    session = ConsultationSessionFactory(programme_territory=world.t1, title="Atelier de mars")
    need = NeedFactory(programme_territory=world.t1, title="Transport le samedi")
    proposal = proposal_with_votes(world.t1, {G.PEOPLE: 12, G.ELECTED: 1}, session=session)
    proposal.needs.set([need])
    action = ActionFactory(
        plan=ActionPlanFactory(programme_territory=world.t1), code="A1", title="Minibus solidaire"
    )
    action.proposals.set([proposal])
    client.force_login(world.local_authority)
    # session, user, memberships, programme territory, the proposal with its session, its votes,
    # the actions it led to, its needs
    with django_assert_num_queries(8):
        response = client.get(url("proposal_detail", world, proposal.pk))
    page = text(response)
    assert "Transport le samedi" in page
    assert "Personnes concernées 12" in page and "Total 13" in page
    assert "A1 — Minibus solidaire" in page
    assert "Atelier de mars" in page


def test_deleting_a_proposal_asks_first(client, world):
    proposal = proposal_with_votes(world.t1, {G.PEOPLE: 3})
    client.force_login(world.coordinator)
    response = client.get(url("proposal_delete", world, proposal.pk))
    assert "Non retenue" in text(response)
    assert Proposal.objects.exists()
    response = client.post(url("proposal_delete", world, proposal.pk))
    assert response["Location"] == url("index", world) + "#propositions"
    assert not Proposal.objects.exists() and not ProposalVote.objects.exists()
    assert audit_events("proposal_delete")
