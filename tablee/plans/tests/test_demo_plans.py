"""The demonstration co-construction and plans: idempotent, fictional, complete enough to show
every page of the plan, on the real demonstration programme (referential, directory, diagnostic)."""

import pytest
from django.urls import reverse

from tablee.accounts.models import User
from tablee.demo.plans import load_demo_plans
from tablee.demo.services import DEMO_PROGRAMME_NAME, load_demo
from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionIndicator,
    ActionPlan,
    ActionStatus,
    Axis,
    ConsultationSession,
    IndicatorMeasure,
    ParticipantCount,
    PlanValidation,
    ProgressUpdate,
    Proposal,
    ProposalVote,
    StakeholderGroup,
)
from tablee.territories.models import Programme
from tablee.territories.referential import load_referential

pytestmark = pytest.mark.django_db

MODELS = [
    ConsultationSession,
    ParticipantCount,
    Proposal,
    ProposalVote,
    ActionPlan,
    ActionPlan.history.model,
    Axis,
    Action,
    Action.history.model,
    ActionBudgetLine,
    ActionIndicator,
    IndicatorMeasure,
    ProgressUpdate,
    PlanValidation,
]


@pytest.fixture
def programme():
    """The demonstration programme as ``make demo`` loads it (the referential first)."""
    load_referential()
    load_demo()
    # load_demo() loads the directory and the diagnostic, whose structures and needs the plans use.
    return Programme.objects.get(name=DEMO_PROGRAMME_NAME, is_demo=True)


def snapshot() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_load_demo_plans_is_idempotent(programme):
    first = load_demo_plans(programme)
    after_first = snapshot()
    second = load_demo_plans(programme)
    assert first == second
    assert snapshot() == after_first  # no new row, not even a history record
    assert first["plans d'action"] == 6
    assert first["séances de concertation"] == 12
    assert first["validations"] == 6


def test_each_demo_territory_has_a_complete_fictional_plan_shown_on_every_page(client, programme):
    load_demo_plans(programme)
    for pt in programme.territories.select_related("territory"):
        sessions = {s.kind: s for s in pt.consultation_sessions.all()}
        assert set(sessions) == {"workshop", "steering"}
        for session in sessions.values():
            assert "(fictif)" in session.title and session.date.year == 2025
            groups = set(session.participant_counts.values_list("group", flat=True))
            assert groups == set(StakeholderGroup.values)
        proposals = list(pt.proposals.prefetch_related("votes", "needs"))
        assert 6 <= len(proposals) <= 8
        assert len({p.origin_group for p in proposals}) >= 3
        assert all(p.votes.all() for p in proposals)
        assert sum(1 for p in proposals if p.needs.all()) >= 3

        plan = pt.action_plan
        assert plan.axes.count() == 3
        actions = list(plan.actions.prefetch_related("pilots", "needs", "proposals"))
        assert 5 <= len(actions) <= 7
        statuses = {a.status for a in actions}
        assert {ActionStatus.LATE, ActionStatus.BLOCKED} <= statuses
        assert len(statuses) >= 4
        territory_id = pt.territory_id
        for action in actions:
            assert "(fictif)" in action.title
            pilots = list(action.pilots.all())
            assert pilots and all(s.commune.territory_id == territory_id for s in pilots)
            assert action.start_date.year in (2025, 2026) and action.end_date.year in (2025, 2026)
        assert sum(1 for a in actions if a.needs.all()) >= 5
        assert sum(1 for a in actions if a.proposals.all()) >= 5
        funders = set(
            ActionBudgetLine.objects.filter(action__plan=plan).values_list("funder", flat=True)
        )
        assert funders == {"DREETS Bretagne", pt.territory.name}
        years = set(
            ActionBudgetLine.objects.filter(action__plan=plan).values_list("year", flat=True)
        )
        assert years == {2025, 2026}
        indicator = ActionIndicator.objects.get(action__plan=plan)
        assert indicator.target and indicator.measures.count() == 1
        assert ProgressUpdate.objects.filter(action__plan=plan).count() == 1
        validation = plan.validations.get()
        assert (validation.number, validation.committee) == (1, sessions["steering"])
        assert len(validation.snapshot) == len(actions)
        retained = pt.proposals.filter(status=Proposal.Status.RETAINED).count()
        assert retained == sum(1 for p in proposals if p.actions.exists())

    pt = programme.territories.get(territory_id="200067460")
    action = pt.action_plan.actions.get(code="A1")
    client.force_login(User.objects.get(email="coordination@demo.tablee.fr"))
    for name, args in [
        ("plans:detail", [pt.pk]),
        ("plans:steering", [pt.pk]),
        ("plans:timeline", [pt.pk]),
        ("plans:history", [pt.pk]),
        ("plans:action_detail", [pt.pk, action.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200, name
    client.force_login(User.objects.get(email="collectivite@demo.tablee.fr"))
    response = client.get(reverse("plans:action_detail", args=[pt.pk, action.pk]))
    assert "Épicerie solidaire itinérante" in response.content.decode()
