"""The seed and the runner work, at a tiny scale, in the test database.

Nothing here times anything (performance is measured by ``python -m benchmarks.run``, never
asserted in tests): these tests check that every stage of the seed writes what it says, that
every measured page answers 200 to its user, that the generated data·inclusion file is accepted
whole by the real import, and that the table prints.
"""

import io
import json
import os
import sqlite3
import sys

import pytest
from django.conf import settings

from benchmarks.common import Scale
from benchmarks.run import (
    Result,
    import_file,
    import_floor,
    main,
    measure_downloads,
    measure_exports,
    measure_network,
    measure_pages,
    page_cases,
    print_growth,
    print_table,
    raw_insert_rate,
    run_command,
)
from benchmarks.seed import ADMIN_EMAIL, is_seeded, seed
from benchmarks.seed_cycle import links_wanted

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
    # Issue 9's 14 pages and the cycle's 7: calendars, targets, network, three dashboards.
    assert [page.name for page in pages] == [case.name for case in page_cases()]
    assert len(pages) == 21
    assert {page.extra["user"] for page in pages} == {"coord", "funder", "admin", "anon"}
    for page in pages:
        assert page.note == "", f"{page.name} : {page.note}"
        assert page.ratio is not None and page.target in {"OK", "MANQUÉ"}
        assert page.queries and page.queries > 0
        assert page.goal
    dashboards = [page for page in pages if page.name.startswith("tableau de bord")]
    assert len(dashboards) == 3 and all(page.flat for page in dashboards)
    assert all(page.goal == "< 300 ms, plat" for page in dashboards)


def test_only_the_cycle_measures_the_floor_and_the_cycle_pages(seeded):
    floor, *pages = measure_pages(1, say=lambda message: None, groups=("cycle",))
    assert floor.kind == "floor"
    assert [page.group for page in pages] == ["cycle"] * 7


def test_downloads_answer_200_and_count_their_rows(seeded, settings):
    from pathlib import Path

    from tablee.reports.models import ReportFile

    results = measure_downloads(1, say=lambda message: None)
    assert [r.kind for r in results] == ["export", "export", "reference", "document", "document"]
    for result in results:
        assert result.note == "", f"{result.name} : {result.note}"
        assert result.median_ms > 0 and result.peak_mb > 0
    sessions, full, floor, programme_pdf, territory_pdf = results
    assert sessions.extra["rows"] > 0 and sessions.extra["bytes"] > 0
    assert full.extra["rows"] > sessions.extra["rows"]  # every table of the programme
    assert programme_pdf.extra["bytes"] > 0 and "6 territoires" in programme_pdf.name
    assert programme_pdf.ratio and territory_pdf.ratio and floor.ratio == 1.0
    assert territory_pdf.goal == "< 3 s" and territory_pdf.target in {"OK", "MANQUÉ"}
    assert territory_pdf.extra["bytes"] > 0 and "un territoire" in territory_pdf.name
    # The report was generated, into a temporary folder that is gone: not the project's media.
    stored = list(ReportFile.objects.all())
    assert stored
    assert not any((Path(settings.MEDIA_ROOT) / f.file.name).exists() for f in stored)


def test_network_computations_run_beside_their_reference(seeded):
    reference, territory, series = measure_network(1, say=lambda message: None)
    assert reference.kind == "reference" and reference.median_ms > 0
    for result in (territory, series):
        assert result.kind == "function" and result.flat
        assert result.ratio is not None and result.queries > 0
        assert result.extra["links"] > 0 and result.extra["structures"] > 0
    assert series.extra["links"] > territory.extra["links"]


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


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the import floor is a SQLite measurement (beside a sqlite3 raw insert)",
)
def test_import_floor_writes_every_row_of_the_file_into_a_copy(
    transactional_db, django_db_serialized_rollback, tmp_path
):
    from django.db import connection

    from tablee.directory.models import Service, Structure

    seed(TINY)
    path = tmp_path / "import.jsonl"
    rows = import_file("association", path, structures=40)
    copy = tmp_path / "copy.sqlite3"
    # A copy of the test database, as the runner copies the benchmark's (outside a transaction:
    # hence transactional_db; the serialized rollback gives it back the referential that an
    # earlier transactional test may have flushed).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(copy)])
    decode_seconds, write_seconds, written = import_floor(path, copy)
    assert decode_seconds > 0 and write_seconds > 0
    links = sum(
        len(row.get(key) or [])
        for row in rows
        for key in ("thematiques", "publics", "reseaux_porteurs")
    )
    assert written == len(rows) + links
    check = sqlite3.connect(copy)
    counts = [
        check.execute(
            f"SELECT COUNT(*) FROM {model._meta.db_table} WHERE source = 'bench-import'"
        ).fetchone()[0]
        for model in (Structure, Service)
    ]
    check.close()
    services = sum(1 for row in rows if "structure_id" in row)
    assert counts == [len(rows) - services, services]
    # The test database itself is left as it was.
    assert not Structure.objects.filter(source="bench-import").exists()


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


def test_growth_judges_flat_measures_on_their_ratio(tmp_path, capsys):
    def scale(name, dashboard_ms, floor_ms, series_ratio):
        return {
            "scale": name,
            "results": [
                {"name": "plancher", "kind": "floor", "median_ms": floor_ms, "ratio": 1.0},
                {
                    "name": "tableau de bord : programme",
                    "kind": "page",
                    "median_ms": dashboard_ms,
                    "ratio": dashboard_ms / floor_ms,
                    "flat": True,
                },
                {
                    "name": "réseau : série",
                    "kind": "function",
                    "median_ms": 10.0 * series_ratio,
                    "ratio": series_ratio,
                    "flat": True,
                },
            ],
        }

    # The machine was twice as slow at national scale: the dashboard's ratio did not move, the
    # series' ratio grew threefold.
    files = []
    for report in (scale("association", 100.0, 2.0, 1.0), scale("national", 200.0, 4.0, 3.0)):
        path = tmp_path / f"{report['scale']}.json"
        path.write_text(json.dumps(report), encoding="utf-8")
        files.append(str(path))
    assert main(["--growth", *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    dashboard = next(line for line in lines if line.startswith("tableau de bord"))
    series = next(line for line in lines if line.startswith("réseau : série"))
    assert dashboard.split()[-1] == "OK" and "2.0×" in dashboard
    assert series.split()[-1] == "MANQUÉ" and "3.0×" in series


def test_links_follow_the_structures_and_reach_the_average():
    # Territories of 3, 10 and 200 structures, 400 links each on average: the smallest gets
    # its 3 pairs, the others in proportion to their structures.
    wanted = links_wanted([3, 10, 200], average=400)
    assert sum(wanted) == 1200
    assert wanted[0] == 3
    assert wanted[1] <= 45 and wanted[2] > 20 * wanted[1] - 20
    assert links_wanted([2, 3], average=400) == [1, 3]  # every pair, no more
    assert links_wanted([0, 1], average=400) == [0, 0]


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


def test_a_command_s_peak_memory_is_its_own_not_the_runner_s():
    # The runner holds 300 MB; the command itself about 60 MB more than an empty Python.
    ballast = b"x" * (300 * 2**20)
    seconds, peak_mb, output, status = run_command(
        [sys.executable, "-c", "data = b'y' * (60 * 2**20); print('fait', len(data))"],
        dict(os.environ),
    )
    assert status == 0 and "fait" in output and seconds > 0
    assert 60 <= peak_mb < 200
    assert len(ballast) == 300 * 2**20
