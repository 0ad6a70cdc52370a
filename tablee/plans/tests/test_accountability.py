"""The public page « Vous avez dit, nous avons fait »: open to anyone, aggregated, never a name."""

import html
import re

import pytest
from django.urls import reverse

from tablee.activities.models import Session
from tablee.activities.tests.factories import SessionFactory
from tablee.diagnostic.tests.factories_i import (
    MeetingFactory,
    NeedFactory,
    barrier_category,
)
from tablee.diagnostic.tests.factories_i import (
    TestimonyFactory as ParoleFactory,
)
from tablee.directory.tests.factories import ContactFactory
from tablee.plans.models import (
    ActionStatus,
    ParticipantCount,
    PlanValidation,
    StakeholderGroup,
)
from tablee.plans.tests.factories import ActionFactory, ConsultationSessionFactory, ProposalFactory
from tablee.plans.tests.factories_sheets import PlanWorld

pytestmark = pytest.mark.django_db

TESTIMONY = "Je viens à pied, trois kilomètres avec les enfants."
MEETING_NOTES = "Notes internes de la rencontre avec Mme Fictive."
NEED_DESCRIPTION = "Description interne du besoin, à ne pas publier."
CONTACT = "Contact fictif à ne pas publier"


@pytest.fixture
def world():
    w = PlanWorld()
    meeting = MeetingFactory(programme_territory=w.t1, notes=MEETING_NOTES, people_concerned=4)
    meeting.structures.set([w.own, w.neighbour])
    MeetingFactory(programme_territory=w.t1, people_concerned=3)
    w.transport.description = NEED_DESCRIPTION
    w.transport.meeting = meeting
    w.transport.save()
    NeedFactory(
        programme_territory=w.t1,
        title="Factures d'énergie",
        category=barrier_category("economique"),
    )
    ParoleFactory(programme_territory=w.t1, text=TESTIMONY, shareable=True)
    ContactFactory(structure=w.own, full_name=CONTACT)
    session = ConsultationSessionFactory(programme_territory=w.t1)
    ParticipantCount.objects.create(session=session, group=StakeholderGroup.PEOPLE, count=4)
    ParticipantCount.objects.create(session=session, group=StakeholderGroup.PROFESSIONALS, count=15)
    ParticipantCount.objects.create(session=session, group=StakeholderGroup.VOLUNTEERS, count=12)
    ProposalFactory(programme_territory=w.t1, origin_group=StakeholderGroup.PEOPLE)
    ProposalFactory(programme_territory=w.t1, origin_group=StakeholderGroup.PEOPLE)
    ProposalFactory(programme_territory=w.t1, origin_group=StakeholderGroup.AUTHORITY)
    PlanValidation.objects.create(
        plan=w.plan,
        number=1,
        date="2025-02-10",
        validated_by="Comité de pilotage",
    )
    for status in (Session.Status.HELD, Session.Status.HELD, Session.Status.PLANNED):
        SessionFactory(programme_territory=w.t1, action=w.a1, status=status)
    return w


def url(pt):
    return reverse("accountability:territory", args=[pt.pk])


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def test_anyone_reads_what_was_heard_decided_and_done(client, world):
    response = client.get(url(world.t1))

    assert response.status_code == 200
    page = text(response)
    assert "Vous avez dit, nous avons fait — CC Une" in page
    assert world.programme.name in page
    assert "Plan d'action de CC Une — version 1 validée le 10 février 2025" in page
    # Heard: needs per barrier category, with the actions that address them.
    assert "2 rencontres avec 2 structures du territoire, 1 séance de concertation" in page
    assert "3 besoins recensés" in page
    assert "Pas de transport le samedi — pris en compte par l'action A1" in page
    assert "Factures d'énergie — pas encore d'action" in page
    categories = {c.label: c.count for c in response.context["heard"].categories}
    assert categories == {
        barrier_category("mobilite-distance").label: 1,
        barrier_category("economique").label: 2,
    }
    # Decided and done: every action, its status, its progress, its workshops held.
    assert "A1 Navette solidaire vers l'épicerie En cours 40 % 01/2025 – 12/2025 2" in page
    assert "A2 Ateliers cuisine à petit budget À venir 0 %" in page
    assert "A3 Guide des aides alimentaires Réalisée 100 %" in page
    assert "Actions hors axe" in page
    assert "3 actions décidées 1 réalisée 1 en cours 2 ateliers ou formations réalisés" in page
    # Weighted: (40 × 2 + 0 + 100) / 4 = 45.
    assert "Avancement du plan : 45 % 45 %" in page


def test_counts_of_persons_under_11_are_masked_and_nothing_names_anyone(client, world):
    client.force_login(world.coordinator)  # the association sees the public page as anyone does

    response = client.get(url(world.t1))

    page = text(response)
    # 4 + 3 people concerned met in meetings: masked.
    assert "Personnes concernées rencontrées pendant le diagnostic : < 11." in page
    participants = response.context["heard"].participants
    shown = {label: cell.display for label, cell in participants.row_totals.items()}
    assert shown["Personnes concernées"] == "s"
    assert shown["Professionnel·les"] == 15
    assert shown["Bénévoles"] == "s"  # masked too, so that 4 cannot be rebuilt from the total
    assert shown["Élu·es"] == 0
    assert participants.total.display == 31
    for private in (TESTIMONY, MEETING_NOTES, NEED_DESCRIPTION, CONTACT):
        assert private not in page
    assert "Élue fictive aux solidarités" not in page  # the elected referent's name
    assert "Une navette le samedi matin." not in page  # an action's free text
    assert "Épicerie solidaire du Centre" not in page  # no structure named either


def test_an_unknown_territory_or_one_without_a_plan_answers_404(client, world):
    assert client.get(url(world.t2)).status_code == 404
    assert client.get(url(world.programme)).status_code == 404  # a uuid, but not a territory


def test_an_empty_plan_says_so(client, world):
    world.plan.actions.all().delete()
    world.plan.axes.all().delete()

    response = client.get(url(world.t1))

    assert response.status_code == 200
    assert "Aucune action n'a encore été décidée." in text(response)


# 1 programme territory (with its programme, EPCI and plan), 2 the latest validation, 3 axes,
# 4 actions with their axis and workshops held, 5 barrier categories with their need counts,
# 6 needs, 7 the actions addressing them, 8 meetings (count and people concerned), 9 structures
# met, 10 co-construction sessions, 11 participants per group, 12 proposals per group.
PAGE_QUERIES = 12


def test_the_page_runs_in_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    for n in range(8):
        action = ActionFactory(
            plan=world.plan,
            axis=world.skills if n % 2 else None,
            code=f"B{n}",
            status=ActionStatus.IN_PROGRESS,
        )
        action.needs.set([world.transport, world.money])
        SessionFactory(programme_territory=world.t1, action=action, status=Session.Status.HELD)
    for n in range(5):
        NeedFactory(programme_territory=world.t1, title=f"Besoin supplémentaire {n}")

    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(url(world.t1))

    assert response.status_code == 200
    assert response.context["delivered"].action_count == 11
    assert response.context["delivered"].sessions_held == 10
