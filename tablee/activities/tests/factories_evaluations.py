"""Factories and the world of the evaluation and import tests."""

import datetime
import html
import re

import factory
from django.utils import timezone

from tablee.activities.models import Evaluation
from tablee.activities.tests.factories import ActivityFormatFactory, SessionFactory
from tablee.territories.models import Audience, SessionKind

# Who may open the team's pages, who is refused (403), who is outside the scope (404).
TEAM_ROLES = ["admin", "coordinator", "territory_coordinator"]
FORBIDDEN_ROLES = ["partner", "local_authority", "funder"]
OUT_OF_SCOPE_ROLES = ["t2_coordinator", "no_role"]


class EvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evaluation

    session = factory.SubFactory(SessionFactory)
    satisfaction = 4
    intends_to_change = Evaluation.Intention.YES


def text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def recent_session(pt, *, hours_ago=3, **fields):
    """A session of ``pt`` that ended ``hours_ago - 2`` hours ago: its questionnaire is open."""
    starts = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=hours_ago)
    fields.setdefault("format__programme", pt.programme)
    return SessionFactory(
        programme_territory=pt,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        **fields,
    )


class EvaluationWorld:
    """The diagnostic's world (programme P on T1 and T2, programme Q on U, one person per role,
    a coordinator of T2 only) with a catalogue of two formats for P."""

    def __init__(self):
        from tablee.diagnostic.tests.factories_i import DiagnosticWorld

        self.diagnostic = DiagnosticWorld()
        for name in (
            "programme",
            "t1",
            "t2",
            "u",
            "own",
            "admin",
            "coordinator",
            "territory_coordinator",
            "partner",
            "local_authority",
            "funder",
            "no_role",
            "t2_coordinator",
        ):
            setattr(self, name, getattr(self.diagnostic, name))
        self.other_programme = self.u.programme
        self.cooking = ActivityFormatFactory(
            programme=self.programme,
            name="Atelier cuisine",
            kind=SessionKind.WORKSHOP,
            audience=Audience.PEOPLE,
            duration_minutes=150,
        )
        self.training = ActivityFormatFactory(
            programme=self.programme,
            name="Repérer et orienter",
            kind=SessionKind.TRAINING,
            audience=Audience.PROFESSIONALS,
            duration_minutes=180,
        )
