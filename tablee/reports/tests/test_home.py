"""The home page lists what needs the person's attention, within their scope and permissions."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import Role
from tablee.accounts.tests.factories import MembershipFactory, UserFactory
from tablee.activities.models import Session
from tablee.activities.tests.factories import SessionFactory
from tablee.directory.tests.factories import StructureFactory
from tablee.plans.models import ActionStatus
from tablee.plans.tests.factories import ActionFactory, ActionPlanFactory
from tablee.reports.attention import attention_for
from tablee.reports.models import Report
from tablee.territories.tests.factories import (
    CommuneFactory,
    ProgrammeFactory,
    ProgrammeTerritoryFactory,
)

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 28)


def at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour), tzinfo=timezone.get_current_timezone()
    )


def build_world(today: datetime.date):
    programme = ProgrammeFactory(start_date=datetime.date(2024, 1, 1), end_date=today)
    pt = ProgrammeTerritoryFactory(programme=programme)
    other = ProgrammeTerritoryFactory()  # another programme: never listed
    soon = SessionFactory(
        programme_territory=pt, starts_at=at(today, 14), ends_at=at(today, 16), title="Atelier A"
    )
    SessionFactory(
        programme_territory=pt,
        starts_at=at(today + datetime.timedelta(days=2), 9),
        ends_at=at(today + datetime.timedelta(days=2), 11),
        title="Atelier annulé",
        status=Session.Status.CANCELLED,
    )
    SessionFactory(
        programme_territory=pt,
        starts_at=at(today + datetime.timedelta(days=9), 9),
        ends_at=at(today + datetime.timedelta(days=9), 11),
        title="Atelier lointain",
    )
    SessionFactory(
        programme_territory=other,
        starts_at=at(today, 10),
        ends_at=at(today, 12),
        title="Atelier d'ailleurs",
    )
    plan = ActionPlanFactory(programme_territory=pt)
    late = ActionFactory(plan=plan, code="A1", status=ActionStatus.LATE, title="Action en retard")
    overdue = ActionFactory(
        plan=plan,
        code="A2",
        status=ActionStatus.IN_PROGRESS,
        end_date=today - datetime.timedelta(days=3),
        title="Action échue",
    )
    ActionFactory(
        plan=plan,
        code="A3",
        status=ActionStatus.DONE,
        end_date=today - datetime.timedelta(days=3),
        title="Action réalisée",
    )
    commune = CommuneFactory(territory=pt.territory)
    StructureFactory(commune=commune, data_updated_on=today - datetime.timedelta(days=400))
    StructureFactory(commune=commune, data_updated_on=today - datetime.timedelta(days=30))
    return programme, pt, soon, late, overdue


@pytest.fixture
def world():
    return build_world(TODAY)


def member(role, **scope):
    return MembershipFactory(user=UserFactory(), role=role, **scope).user


def test_the_coordinator_sees_this_weeks_sessions_late_actions_records_to_check_and_reports_due(
    world,
):
    programme, pt, soon, late, overdue = world
    attention = attention_for(member(Role.COORDINATOR, programme=programme), today=TODAY)
    assert [s.title for s in attention.sessions] == ["Atelier A"]
    assert {a.title for a in attention.actions} == {"Action en retard", "Action échue"}
    assert attention.stale_structures == 1
    assert [due.label for due in attention.reports_due] == [
        "Rapport d'activité 2026",
        "Évaluation de fin de programme",
    ]
    assert all(due.can_write for due in attention.reports_due)


def test_a_written_report_is_no_longer_due(world):
    programme, *_ = world
    Report.objects.create(
        programme=programme,
        kind=Report.Kind.FINAL_EVALUATION,
        title="Évaluation finale",
        period_start=programme.start_date,
        period_end=programme.end_date,
    )
    attention = attention_for(member(Role.COORDINATOR, programme=programme), today=TODAY)
    assert [due.label for due in attention.reports_due] == ["Rapport d'activité 2026"]


def test_the_funder_sees_only_the_reports_due_and_cannot_write_them(world):
    programme, *_ = world
    attention = attention_for(member(Role.FUNDER, programme=programme), today=TODAY)
    assert attention.sessions == []
    assert attention.actions == []
    assert attention.stale_structures == 0
    assert len(attention.reports_due) == 2
    assert not any(due.can_write for due in attention.reports_due)


def test_a_person_without_role_has_nothing_to_follow(world):
    attention = attention_for(UserFactory(), today=TODAY)
    assert attention.empty


def test_the_home_page_links_each_item_to_its_record(client, django_assert_num_queries):
    # The page reads today's date: the records are placed around it.
    programme, pt, soon, late, overdue = build_world(timezone.localdate())
    user = member(Role.COORDINATOR, programme=programme)
    client.force_login(user)
    # session, user, memberships, territories in scope with their programmes, sessions of the
    # week, late actions, stale structures, reports, then the programmes and territories lists
    with django_assert_num_queries(10):
        response = client.get(reverse("core:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("activities:session_detail", args=[pt.pk, soon.pk]) in page
    assert reverse("plans:action_detail", args=[pt.pk, late.pk]) in page
    assert reverse("reports:report_create", args=[programme.pk]) in page
    assert "1 fiche de structure" in page
