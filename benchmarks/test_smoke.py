"""The seed and the runner work, at a tiny scale, in the test database.

Nothing here times anything (performance is measured by ``python -m benchmarks.run``, never
asserted in tests): these tests check that every stage of the seed writes what it says, that
every measured page answers 200 to its user, that the generated data·inclusion file is accepted
whole by the real import, and that the table prints.
"""

import io

import pytest

from benchmarks.common import Scale
from benchmarks.run import (
    Result,
    import_file,
    measure_exports,
    measure_pages,
    print_growth,
    print_table,
    raw_insert_rate,
)
from benchmarks.seed import ADMIN_EMAIL, is_seeded, seed

TINY = Scale(
    "tiny", 7, epci=9, programmes=1, structures=150, services_per_structure=1.5, regions=("53",)
)


@pytest.fixture
def seeded(db):
    return seed(TINY)


def test_seed_writes_every_stage_at_a_tiny_scale(seeded):
    from tablee.accounts.models import Membership, Role
    from tablee.directory.models import Service, Structure
    from tablee.territories.models import IndicatorValue, Programme, ProgrammeTerritory

    assert is_seeded()
    assert Programme.objects.count() == 2  # the demonstration programme and one more
    assert ProgrammeTerritory.objects.count() == 9
    assert Membership.objects.filter(role=Role.ADMIN, user__email=ADMIN_EMAIL).exists()
    assert Structure.objects.count() == 150
    assert seeded["structures"] == 150
    assert Service.objects.count() == seeded["services"] > 100
    assert Service.thematiques.through.objects.exists()
    assert Service.publics.through.objects.exists()
    assert IndicatorValue.objects.filter(level="epci").values("geo_code").distinct().count() == 9
    # Every structure is on a commune of an EPCI of a programme.
    assert not Structure.objects.exclude(
        commune__territory__programme_territories__isnull=False
    ).exists()


def test_generator_is_reproducible():
    import random

    from benchmarks.generate import Generator

    communes = [("22136", "Loudéac", 48.17, -2.75, 9500), ("29003", "Bannalec", 47.93, -3.7, 5600)]

    def records(seed_value):
        generator = Generator(
            random.Random(seed_value),
            communes,
            thematiques=["equipement-et-alimentation--alimentation", "sante--acces-aux-soins"],
            publics=["tous-publics", "familles"],
        )
        return [(r.data, [s.data for s in r.services]) for r in generator.structures(50, 1.5)]

    assert records(3) == records(3)
    assert records(3) != records(4)


def test_every_page_answers_200_and_gets_a_ratio(seeded):
    results = measure_pages(1, say=lambda message: None)
    floor, *pages = results
    assert floor.kind == "floor" and floor.median_ms > 0
    assert len(pages) >= 12  # 13 once the diagnostic synthesis exists
    for page in pages:
        assert page.note == "", f"{page.name} : {page.note}"
        assert page.ratio is not None and page.target in {"OK", "MANQUÉ"}
        assert page.queries and page.queries > 0


def test_exports_count_the_coordinators_rows(seeded):
    results = measure_exports(1, say=lambda message: None)
    assert [r.kind for r in results] == ["export", "export"]
    assert all(r.extra["rows"] > 0 for r in results)


def test_generated_file_is_accepted_whole_by_the_real_import(seeded, tmp_path):
    from tablee.directory.imports import directory_import

    path = tmp_path / "import.jsonl"
    rows = import_file("association", path, structures=40)
    result = directory_import(files=[(path, path.name)], source="bench-import", dry_run=True)
    assert result.plan.refused == 0
    assert len(result.plan.rows) == len(rows)
    rate, seconds = raw_insert_rate(rows, tmp_path)
    assert rate > 0 and seconds > 0


def test_table_and_growth_print():
    page = Result(
        name="annuaire : recherche filtrée",
        kind="page",
        median_ms=12.0,
        min_ms=10.0,
        max_ms=15.0,
        ratio=4.0,
        ratio_label="4.0×",
        target="OK",
        peak_mb=1.0,
        memory_kind="tracemalloc",
        queries=7,
    )
    load = Result(name="charge", kind="load", target="MANQUÉ", note="wrk absent")
    out = io.StringIO()
    print_table("association", [page, load], out=out)
    text = out.getvalue()
    assert "annuaire : recherche filtrée" in text and "4.0×" in text and "MANQUÉ" in text
    report = {"results": [{"name": page.name, "kind": "page", "median_ms": 12.0, "ratio": 4.0}]}
    bigger = {"results": [{"name": page.name, "kind": "page", "median_ms": 24.0, "ratio": 8.0}]}
    out = io.StringIO()
    print_growth({"association": report, "national": bigger}, out=out)
    assert "2.0×" in out.getvalue()


def test_the_seed_fills_plans_sessions_and_links_of_the_other_programmes(seeded):
    from django.db.models import F

    from tablee.activities.models import Attendance, Headcount, Session
    from tablee.network.models import Link
    from tablee.plans.models import Action, ActionPlan

    others = {"programme_territory__programme__is_demo": False}
    assert ActionPlan.objects.filter(**others).count() == 3  # TINY: nine EPCI, six of the demo
    assert Action.objects.filter(plan__programme_territory__programme__is_demo=False).count() == 12
    assert Session.objects.filter(**others).count() == 3 * 56
    held = Session.objects.filter(**others, status=Session.Status.HELD)
    assert Attendance.objects.filter(session__in=held).exists()
    assert Headcount.objects.filter(session__in=held).exists()
    assert Link.objects.filter(**others).count() > 0
    # Sessions are hosted on their own territory.
    assert (
        not Session.objects.filter(**others)
        .exclude(place_structure__commune__territory=F("programme_territory__territory"))
        .exclude(place_structure=None)
        .exists()
    )
