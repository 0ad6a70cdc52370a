"""A plan with axes, needs, actions and budget on T1 of the diagnostic's world, for the tests of
the spreadsheet, the public accountability page and the PAT PDF."""

import datetime
import io
from decimal import Decimal

from openpyxl import load_workbook

from tablee.diagnostic.tests.factories_i import DiagnosticWorld, NeedFactory, barrier_category
from tablee.plans.models import ActionBudgetLine, ActionStatus, ParticipationLevel
from tablee.plans.tests.factories import ActionFactory, ActionPlanFactory, AxisFactory
from tablee.territories.models import Audience

# Roles, by what they get on the plan of T1 (VIEW_PLAN / EDIT_PLAN).
EDITORS = ["admin", "coordinator", "territory_coordinator"]
READERS = ["partner", "local_authority"]
OUT_OF_SCOPE = ["t2_coordinator", "no_role"]


class PlanWorld(DiagnosticWorld):
    """DiagnosticWorld (programme P on T1 and T2, one person per role) and T1's action plan:
    two axes, two needs, three actions (A1 with needs, pilot, partner and budget; A2; A3 outside
    any axis)."""

    def __init__(self):
        super().__init__()
        self.plan = ActionPlanFactory(programme_territory=self.t1, title="Plan d'action de CC Une")
        self.access = AxisFactory(plan=self.plan, title="Accès à l'alimentation", position=1)
        self.skills = AxisFactory(plan=self.plan, title="Savoir-faire et lien social", position=2)
        self.transport = NeedFactory(
            programme_territory=self.t1,
            title="Pas de transport le samedi",
            category=barrier_category("mobilite-distance"),
        )
        self.money = NeedFactory(
            programme_territory=self.t1,
            title="Reste à vivre trop faible",
            category=barrier_category("economique"),
        )
        self.a1 = ActionFactory(
            plan=self.plan,
            axis=self.access,
            code="A1",
            title="Navette solidaire vers l'épicerie",
            description="Une navette le samedi matin.",
            objectives="Deux trajets par semaine.",
            status=ActionStatus.IN_PROGRESS,
            progress=40,
            weight=2,
            audiences=[Audience.PEOPLE, Audience.VOLUNTEERS],
            elected_referent="Élue fictive aux solidarités",
            pat_axis="Accessibilité",
            participation_level=ParticipationLevel.CO_CONSTRUCTION,
            start_date=datetime.date(2025, 1, 15),
            end_date=datetime.date(2025, 12, 31),
            position=1,
        )
        self.a1.needs.set([self.transport])
        self.a1.pilots.set([self.own])
        self.a1.partners.set([self.neighbour])
        self.a2 = ActionFactory(
            plan=self.plan,
            axis=self.skills,
            code="A2",
            title="Ateliers cuisine à petit budget",
            status=ActionStatus.PLANNED,
            progress=0,
            start_date=datetime.date(2025, 9, 1),
            end_date=datetime.date(2026, 6, 30),
            position=2,
        )
        self.a2.needs.set([self.money])
        self.a3 = ActionFactory(
            plan=self.plan,
            axis=None,
            code="A3",
            title="Guide des aides alimentaires",
            status=ActionStatus.DONE,
            progress=100,
            start_date=None,
            end_date=None,
            position=3,
        )
        self.budget = ActionBudgetLine.objects.create(
            action=self.a1,
            year=2025,
            funder="DREETS Bretagne",
            planned=Decimal("12000"),
            spent=Decimal("3000.50"),
        )


def workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def to_bytes(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet_rows(book, title: str) -> list[dict]:
    """The rows of a sheet as dicts keyed by header."""
    rows = list(book[title].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def set_cell(book, title: str, code: str, header: str, value) -> None:
    """Write ``value`` in the column ``header`` of the row whose Code is ``code``."""
    sheet = book[title]
    headers = [cell.value for cell in sheet[1]]
    column = headers.index(header) + 1
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == code:
            # Assigned, not passed to cell(): cell(value=None) would leave the old value.
            sheet.cell(row=row[0].row, column=column).value = value
            return
    raise AssertionError(f"pas de ligne {code} dans {title}")


def append_row(book, title: str, values: dict) -> None:
    sheet = book[title]
    headers = [cell.value for cell in sheet[1]]
    sheet.append([values.get(header) for header in headers])
