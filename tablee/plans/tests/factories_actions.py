"""The world of the action plan tests: the diagnostic's world (programme P on T1 and T2, one person
per role) with a plan on T1, and helpers shared by the plan, action, validation and steering tests."""

import html
import re

from django.urls import reverse

from tablee.diagnostic.tests.factories_i import DiagnosticWorld
from tablee.plans.models import Action
from tablee.plans.tests.factories import ActionFactory, ActionPlanFactory, AxisFactory

# Who may do what on the plan of T1.
EDITORS = ["admin", "coordinator", "territory_coordinator"]
READERS = ["partner", "local_authority"]
FUNDER = ["funder"]
OUT_OF_SCOPE = ["t2_coordinator", "no_role"]


class PlanWorld(DiagnosticWorld):
    """A plan on T1 with two axes; ``own`` and ``neighbour`` are structures of T1."""

    def __init__(self):
        super().__init__()
        self.plan = ActionPlanFactory(
            programme_territory=self.t1, title="Plan d'action de CC Une (fictif)"
        )
        self.axis1 = AxisFactory(plan=self.plan, title="Accès à l'alimentation", position=1)
        self.axis2 = AxisFactory(plan=self.plan, title="Pouvoir d'agir", position=2)

    def action(self, **fields) -> Action:
        pilots = fields.pop("pilots", [self.own])
        fields.setdefault("plan", self.plan)
        action = ActionFactory(**fields)
        action.pilots.set(pilots)
        return action


def text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def url(name: str, world, *args) -> str:
    return reverse(f"plans:{name}", args=[world.t1.pk, *args])
