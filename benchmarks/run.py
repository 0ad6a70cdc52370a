"""Run every benchmark at one scale (or all three) and print one table.

    python -m benchmarks.run --scale association|region|national|all [--json PATH] [--quick]
                             [--skip-load] [--skip-import] [--database-url URL] [--only cycle]
    python -m benchmarks.run --growth results-association.json results-national.json

Each figure is printed beside a reference measured in the same run, because the machine is shared
and noisy: pages (and downloads) beside the framework floor (a trivial view through the same
client), report PDFs beside a one-page PDF with the same stylesheet, network computations beside
the same indicators of a fixed graph, imports beside a plain sqlite3 executemany of the same rows,
and with ``--scale all`` (or ``--growth``) each measure at the three scales side by side. The last
columns give each measure's goal (issue 9 for every page; issues 6 to 8 for the cycle's pages) and
whether it is met (OK / MANQUÉ). See benchmarks/README.md for how to read the table.
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import ROOT, SCALE_ORDER, SCALES, VAR, configure_environment, sqlite_path

# Targets of issue 9, to hold at national scale.
PAGE_MAX_RATIO = 5.0
PAGE_MAX_MS = 150.0
IMPORT_MIN_PERCENT = 30.0
MAX_MEMORY_MB = 300.0
LOAD_MAX_P95_MS = 500.0
LOAD_USERS = 20
LOAD_SECONDS = 60
LOAD_SECONDS_QUICK = 10
IMPORT_SOURCE = "bench-import"
DEMO_COORDINATOR = "coordination@demo.tablee.fr"
DEMO_FUNDER = "financeur@demo.tablee.fr"
FOOD = "equipement-et-alimentation--alimentation"
PAGE_GOAL = "≤ 5×, < 150 ms"
# Targets of issue 8: dashboards and a territory's report PDF; "flat" (issues 7 and 8): the
# measure must not grow with the other programmes, judged across scales (see print_growth).
DASHBOARD_MAX_MS = 300.0
TERRITORY_PDF_MAX_MS = 3000.0
FLAT_MAX_GROWTH = 1.5  # ratio to the reference at the largest scale / at the smallest
CALENDAR_MONTH = "2025-03"
GROUPS = ("base", "cycle")  # issue 9's pages, exports and import; the cycle's (issues 6 to 8)


@dataclass
class Result:
    name: str
    # "page", "floor", "import", "export", "load"; "document" (a PDF), "function" (a computation
    # called directly) and "reference" (the floor of documents or of computations)
    kind: str
    median_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    runs: int = 0
    reference: str = ""
    ratio: float | None = None
    ratio_label: str = ""
    peak_mb: float | None = None
    memory_kind: str = ""  # "tracemalloc" (in process) or "maxrss" (subprocess)
    queries: int | None = None
    target: str = ""  # "OK", "MANQUÉ" or "" (no target)
    note: str = ""
    extra: dict = field(default_factory=dict)
    goal: str = ""  # the target in words, printed beside OK / MANQUÉ
    flat: bool = False  # must not grow with the other programmes (judged by print_growth)
    group: str = "base"


@dataclass(frozen=True)
class Case:
    """A page or a download measured through the test client, with its goal."""

    name: str
    user: str  # "coord", "funder", "admin" or "anon"
    url: str
    group: str = "base"
    max_ms: float = PAGE_MAX_MS
    max_ratio: float | None = PAGE_MAX_RATIO
    goal: str = PAGE_GOAL
    flat: bool = False
    kind: str = "page"
    # Called before every request (outside the timing): e.g. forget a stored report so that
    # each request generates it again.
    before: Callable[[], None] | None = None


# --- Measuring pages ---------------------------------------------------------------------------


def fetch(client, url: str):
    """One GET, read to the end (a streamed download too); the response and its body."""
    response = client.get(url)
    if getattr(response, "streaming", False):
        # Reading the stream closes it; response.close() would also close the database
        # connection inside a test transaction on PostgreSQL (request_finished).
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    return response, body


def time_request(
    client, url: str, runs: int, warmup: int = 2, before: Callable[[], None] | None = None
) -> tuple[list[float], int, bytes]:
    """Times in ms of ``runs`` GETs after ``warmup`` ones (``before`` is called before each, out
    of the timing); the status and the body of the last answer."""
    response = body = None
    for _ in range(warmup):
        if before:
            before()
        response, body = fetch(client, url)
    times = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        response, body = fetch(client, url)
        times.append((time.perf_counter() - started) * 1000)
    return times, response.status_code, body


def peak_and_queries(
    client, url: str, before: Callable[[], None] | None = None
) -> tuple[float, int]:
    """Peak Python memory (tracemalloc, MB) of one request, and its number of SQL queries."""
    return call_peak_and_queries(lambda: fetch(client, url), before)


def call_peak_and_queries(
    function: Callable[[], object], before: Callable[[], None] | None = None
) -> tuple[float, int]:
    """Peak Python memory (tracemalloc, MB) of one call of ``function``, and its SQL queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if before:
        before()
    with CaptureQueriesContext(connection) as captured:
        function()
    # Read now: the next request empties the connection's query log.
    queries = len(captured.captured_queries)
    if before:
        before()
    tracemalloc.start()
    tracemalloc.reset_peak()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6, queries


def page_targets(result: Result, floor_ms: float, case: Case | None = None) -> None:
    case = case or Case(result.name, "", "")
    result.ratio = result.median_ms / floor_ms if floor_ms else None
    result.reference = f"plancher {floor_ms:.1f} ms"
    result.ratio_label = f"{result.ratio:.1f}×" if result.ratio is not None else "—"
    result.goal = case.goal
    result.flat = case.flat
    ok = (
        result.ratio is not None
        and (case.max_ratio is None or result.ratio <= case.max_ratio)
        and result.median_ms < case.max_ms
        and (result.peak_mb or 0) < MAX_MEMORY_MB
        and not result.note.startswith("statut")
    )
    result.target = "OK" if ok else "MANQUÉ"


def demo_scope():
    """The demonstration programme and the territory whose pages are measured (the same six EPCI
    and the same territory at every scale)."""
    from tablee.territories.models import Programme, ProgrammeTerritory

    programme = Programme.objects.get(is_demo=True)
    pt = (
        ProgrammeTerritory.objects.filter(programme=programme)
        .select_related("programme", "territory")
        .order_by("territory_id")
        .first()
    )
    return programme, pt


def page_cases() -> list[Case]:
    """Every page measured: "coord" is the demonstration programme's coordinator (the same six
    EPCI at every scale), "funder" its funder, "admin" sees the whole database."""
    from django.urls import reverse

    programme, pt = demo_scope()
    directory = reverse("directory:list")
    map_data = reverse("directory:map_data")
    pages = [
        (
            "annuaire : recherche filtrée",
            "coord",
            f"{directory}?secteur=food_aid&thematique={FOOD}",
        ),
        ("annuaire : recherche texte", "coord", f"{directory}?q=solidaire"),
        ("annuaire : liste, 2e page", "coord", f"{directory}?page=2"),
        ("annuaire : filtrée, admin (toute la base)", "admin", f"{directory}?thematique={FOOD}"),
        ("annuaire : données de carte", "coord", map_data),
        ("annuaire : carte, admin (santé)", "admin", f"{map_data}?secteur=health"),
        ("annuaire public : recherche", "anon", f"{reverse('public_directory:list')}?q=epicerie"),
        ("territoire : page", "coord", reverse("territories:territory_detail", args=[pt.pk])),
        ("programme : page", "coord", reverse("territories:programme_detail", args=[programme.pk])),
        ("programmes : liste, admin", "admin", reverse("territories:programme_list")),
        ("référentiel : recherche", "coord", f"{reverse('referential:index')}?q=saint"),
        ("indicateurs : liste", "coord", reverse("indicators:list")),
        ("diagnostic : synthèse", "coord", reverse("synthesis:detail", args=[pt.pk])),
        ("diagnostic : accueil", "coord", reverse("diagnostic_records:index", args=[pt.pk])),
    ]
    return [Case(name, user, url) for name, user, url in pages] + cycle_page_cases(programme, pt)


def cycle_page_cases(programme, pt) -> list[Case]:
    """The pages of issues 6 (calendars, targets), 7 (network) and 8 (dashboards)."""
    from django.urls import reverse

    month = f"?mois={CALENDAR_MONTH}"
    dashboard = {
        "max_ms": DASHBOARD_MAX_MS,
        "max_ratio": None,
        "goal": "< 300 ms, plat",
        "flat": True,
    }
    territory_dashboard = reverse("reports:territory_dashboard", args=[pt.pk])
    cases = [
        Case(
            "ateliers : agenda du territoire (mars 2025)",
            "coord",
            reverse("activities:calendar", args=[pt.pk]) + month,
        ),
        Case(
            "ateliers : agenda du programme (mars 2025)",
            "coord",
            reverse("activities:programme_calendar", args=[programme.pk]) + month,
        ),
        Case(
            "ateliers : objectifs (programme)",
            "coord",
            reverse("activities:targets", args=[programme.pk]),
        ),
        Case(
            "réseau : page du territoire",
            "coord",
            reverse("network:territory", args=[pt.pk]),
            goal=PAGE_GOAL + ", plat",
            flat=True,
        ),
        Case(
            "tableau de bord : programme",
            "coord",
            reverse("reports:programme_dashboard", args=[programme.pk]),
            **dashboard,
        ),
        Case(
            "tableau de bord : territoire (coordination)", "coord", territory_dashboard, **dashboard
        ),
        Case(
            "tableau de bord : territoire (financeur)", "funder", territory_dashboard, **dashboard
        ),
    ]
    return [replace(case, group="cycle") for case in cases]


def clients() -> dict:
    from django.test import Client

    from benchmarks.seed import ADMIN_EMAIL
    from tablee.accounts.models import User

    coord, funder, admin, anon = Client(), Client(), Client(), Client()
    coord.force_login(User.objects.get(email=DEMO_COORDINATOR))
    funder.force_login(User.objects.get(email=DEMO_FUNDER))
    admin.force_login(User.objects.get(email=ADMIN_EMAIL))
    return {"coord": coord, "funder": funder, "admin": admin, "anon": anon}


def measure_case(client, case: Case, runs: int, warmup: int = 2) -> Result:
    """Time ``case`` through ``client``: median, min, max, peak memory and SQL queries."""
    times, status, body = time_request(client, case.url, runs, warmup=warmup, before=case.before)
    peak, queries = peak_and_queries(client, case.url, before=case.before)
    return Result(
        name=case.name,
        kind=case.kind,
        median_ms=statistics.median(times),
        min_ms=min(times),
        max_ms=max(times),
        runs=runs,
        peak_mb=peak,
        memory_kind="tracemalloc",
        queries=queries,
        note="" if status == 200 else f"statut {status}",
        extra={"url": case.url, "bytes": len(body or b""), "user": case.user},
        group=case.group,
        goal=case.goal,
        flat=case.flat,
    )


def measure_pages(runs: int, say, groups=GROUPS) -> list[Result]:
    """The floor, then every page of ``groups``, then the floor again."""
    from django.test.utils import override_settings

    from benchmarks.urls import FLOOR_PATH

    results = []
    with override_settings(ROOT_URLCONF="benchmarks.urls"):
        by_user = clients()
        floor_url = "/" + FLOOR_PATH
        # The floor is measured first and last: the reference is the better of the two medians
        # (the machine may be busier at one end of the run).
        floor_times, _, _ = time_request(by_user["coord"], floor_url, runs * 2, warmup=5)
        cases = [case for case in page_cases() if case.group in groups]
        for case in cases:
            result = measure_case(by_user[case.user], case, runs)
            results.append(result)
            say(f"{case.name} : {result.median_ms:.1f} ms ({result.queries} requêtes SQL)")
        floor_again, _, _ = time_request(by_user["coord"], floor_url, runs * 2, warmup=2)
        floor_peak, floor_queries = peak_and_queries(by_user["coord"], floor_url)
    floor_ms = min(statistics.median(floor_times), statistics.median(floor_again))
    all_floor = floor_times + floor_again
    floor = Result(
        name="plancher : vue triviale (référence)",
        kind="floor",
        median_ms=floor_ms,
        min_ms=min(all_floor),
        max_ms=max(all_floor),
        runs=len(all_floor),
        reference="—",
        ratio=1.0,
        ratio_label="1.0×",
        peak_mb=floor_peak,
        memory_kind="tracemalloc",
        queries=floor_queries,
    )
    for case, result in zip(cases, results, strict=True):
        page_targets(result, floor_ms, case)
    return [floor, *results]


# --- Exports -----------------------------------------------------------------------------------


def measure_exports(runs: int, say) -> list[Result]:
    """The exports of the demonstration coordinator's directory (its six EPCI), in process."""
    from tablee.accounts.models import User
    from tablee.directory.exporters import export_directory
    from tablee.directory.models import Structure

    user = User.objects.get(email=DEMO_COORDINATOR)
    results = []
    for fmt, label in (("di-json", "data·inclusion JSON"), ("xlsx", "XLSX")):
        times = []
        counts = None
        for _ in range(runs):
            queryset = Structure.objects.for_user(user)
            started = time.perf_counter()
            _, _, _, counts = export_directory(queryset, fmt)
            times.append((time.perf_counter() - started) * 1000)
        tracemalloc.start()
        tracemalloc.reset_peak()
        export_directory(Structure.objects.for_user(user), fmt)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        rows = counts.structures + counts.services
        median = statistics.median(times)
        result = Result(
            name=f"export {label} (territoires de la coordination)",
            kind="export",
            median_ms=median,
            min_ms=min(times),
            max_ms=max(times),
            runs=runs,
            reference=f"{rows} lignes",
            ratio_label=f"{rows / (median / 1000):.0f} l/s" if median else "—",
            peak_mb=peak,
            memory_kind="tracemalloc",
            target="OK" if peak < MAX_MEMORY_MB else "MANQUÉ",
            extra={"rows": rows},
        )
        results.append(result)
        say(f"{result.name} : {median:.0f} ms, {rows} lignes")
    return results


# --- The cycle's downloads, documents and computations (issues 6 to 8) ------------------------

PDF_FLOOR_HTML = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Plancher</title>
<link rel="stylesheet" href="%(css)s"></head>
<body><h1>Plancher</h1><p>Une page, la feuille de style des rapports.</p></body></html>
"""


def pdf_floor() -> bytes:
    """A one-page PDF with the reports' stylesheet: what WeasyPrint costs at this minute on this
    machine for any document (the reference of the report PDFs)."""
    from django.templatetags.static import static
    from weasyprint import HTML

    from tablee.core.pdf import BASE_URL, LocalURLFetcher

    html = PDF_FLOOR_HTML % {"css": static("css/report_print.css")}
    return HTML(string=html, base_url=BASE_URL, url_fetcher=LocalURLFetcher()).write_pdf()


def time_call(function: Callable[[], object], runs: int, warmup: int = 1) -> list[float]:
    """Times in ms of ``runs`` calls of ``function`` after ``warmup`` ones."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_call(name: str, kind: str, function: Callable[[], object], runs: int) -> Result:
    times = time_call(function, runs)
    peak, queries = call_peak_and_queries(function)
    return Result(
        name=name,
        kind=kind,
        median_ms=statistics.median(times),
        min_ms=min(times),
        max_ms=max(times),
        runs=runs,
        peak_mb=peak,
        memory_kind="tracemalloc",
        queries=queries,
        group="cycle",
    )


class Reference:
    """The reference of a group of measures (a one-page PDF, a fixed computation), measured
    before and after them: its median is the better of the two, as for the floor of pages (the
    machine may be busier at one end)."""

    def __init__(self, name: str, short: str, function: Callable[[], object], runs: int):
        self.name, self.short, self.function, self.runs = name, short, function, runs
        self.times = time_call(function, runs, warmup=3)

    def finish(self) -> Result:
        again = time_call(self.function, self.runs)
        peak, queries = call_peak_and_queries(self.function)
        both = self.times + again
        return Result(
            name=self.name,
            kind="reference",
            median_ms=min(statistics.median(self.times), statistics.median(again)),
            min_ms=min(both),
            max_ms=max(both),
            runs=len(both),
            reference="—",
            ratio=1.0,
            ratio_label="1.0×",
            peak_mb=peak,
            memory_kind="tracemalloc",
            queries=queries,
            group="cycle",
            extra={"short": self.short},
        )


def _beside(result: Result, reference: Result) -> None:
    """Set ``result``'s ratio to a reference measured in the same run."""
    result.ratio = result.median_ms / reference.median_ms if reference.median_ms else None
    result.reference = f"{reference.extra['short']} {_ms(reference.median_ms)}"
    result.ratio_label = f"{result.ratio:.1f}×" if result.ratio is not None else "—"


def zip_rows(body: bytes) -> int:
    """The rows of a full export: the lengths of its JSON arrays."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return sum(
            len(json.loads(archive.read(name)))
            for name in archive.namelist()
            if name.endswith(".json")
        )


def measure_downloads(runs: int, say) -> list[Result]:
    """Issue 6's XLSX of the programme's sessions and issue 8's full export (through the client,
    beside their rows per second), the funder report PDF of the programme (its download, generated
    again each time) and of one territory, beside a one-page PDF."""
    from django.test.utils import override_settings
    from django.urls import reverse

    from tablee.activities.models import Session
    from tablee.reports.models import Report, ReportFile

    programme, pt = demo_scope()
    report = (
        Report.objects.filter(programme=programme, kind=Report.Kind.FUNDER_REPORT)
        .select_related("programme")
        .order_by("period_end", "pk")
        .last()
    )
    territories = programme.territories.count()
    results = []
    # Generated reports are stored: in a temporary folder, not in the project's media.
    with (
        tempfile.TemporaryDirectory(dir=VAR) as media,
        override_settings(ROOT_URLCONF="benchmarks.urls", MEDIA_ROOT=media),
    ):
        by_user = clients()
        sessions = Case(
            "ateliers : export XLSX des séances du programme",
            "coord",
            reverse("activities:programme_sessions_export", args=[programme.pk]),
            group="cycle",
            kind="export",
        )
        result = measure_case(by_user["coord"], sessions, runs, warmup=1)
        rows = Session.objects.filter(programme_territory__programme=programme).count()
        _per_second(result, rows, "séances")
        results.append(result)
        say(f"{result.name} : {result.median_ms:.0f} ms, {rows} séances")

        full = Case(
            "export complet ZIP (programme de démonstration)",
            "coord",
            reverse("reports:full_export", args=[programme.pk]),
            group="cycle",
            kind="export",
        )
        result = measure_case(by_user["coord"], full, runs, warmup=1)
        _, body = fetch(by_user["coord"], full.url)
        rows = zip_rows(body) if result.note == "" else 0
        _per_second(result, rows, "lignes")
        results.append(result)
        say(f"{result.name} : {result.median_ms:.0f} ms, {rows} lignes")

        floor = Reference("plancher PDF : une page (référence)", "PDF 1 page", pdf_floor, runs * 4)
        documents = []

        download = Case(
            f"rapport financeur PDF : programme ({territories} territoires), téléchargement",
            "coord",
            reverse("reports:report_download", args=[programme.pk, report.pk, "pdf"]),
            group="cycle",
            kind="document",
            before=lambda: ReportFile.objects.filter(report=report).delete(),
        )
        result = measure_case(by_user["coord"], download, runs, warmup=1)
        _memory_target(result)
        documents.append(result)
        say(f"{result.name} : {result.median_ms:.0f} ms")

        territory = Case(
            "rapport financeur PDF : un territoire, téléchargement",
            "coord",
            reverse("reports:territory_report_pdf", args=[programme.pk, report.pk, pt.pk]),
            group="cycle",
            kind="document",
        )
        result = measure_case(by_user["coord"], territory, runs, warmup=1)
        result.goal = "< 3 s"
        ok = result.median_ms < TERRITORY_PDF_MAX_MS and result.peak_mb < MAX_MEMORY_MB
        result.target = "OK" if ok else "MANQUÉ"
        documents.append(result)
        say(f"{result.name} : {result.median_ms:.0f} ms")
        floor_result = floor.finish()
        say(f"{floor_result.name} : {floor_result.median_ms:.0f} ms")
    for result in documents:
        _beside(result, floor_result)
    return [*results, floor_result, *documents]


def _per_second(result: Result, rows: int, unit: str) -> None:
    result.reference = f"{rows} {unit}"
    result.ratio_label = f"{rows / (result.median_ms / 1000):.0f} l/s" if result.median_ms else "—"
    result.extra["rows"] = rows
    _memory_target(result)


def _memory_target(result: Result) -> None:
    result.goal = f"< {MAX_MEMORY_MB:.0f} Mo"
    ok = (result.peak_mb or 0) < MAX_MEMORY_MB and not result.note.startswith("statut")
    result.target = "OK" if ok else "MANQUÉ"


REFERENCE_GRAPH = (120, 360)  # structures, links


def reference_graph():
    """A fixed graph of the size of a territory's network, with sectors: the reference of the
    network computations (the same indicators, no database, the same work at every scale)."""
    import networkx as nx

    from tablee.directory.models import Sector

    nodes, edges = REFERENCE_GRAPH
    graph = nx.gnm_random_graph(nodes, edges, seed=0)
    sectors = list(Sector.values)
    for node in graph:
        graph.nodes[node].update(name=f"Structure {node}", sector=sectors[node % len(sectors)])
    return graph


def measure_network(runs: int, say) -> list[Result]:
    """Issue 7: a territory's network indicators and the programme's quarterly series, computed
    for the demonstration programme (the same links at every scale: the time must not grow with
    the other territories), beside the same indicators of a fixed graph (``runs`` × 2 calls each,
    the reference ``runs`` × 4 before and after)."""
    from django.utils import timezone

    from tablee.network.metrics import (
        indicators,
        load_network,
        network_indicators,
        quarterly_series,
    )

    programme, pt = demo_scope()
    territories = list(
        programme.territories.select_related("programme", "territory").order_by("territory_id")
    )
    at = min(timezone.localdate(), programme.end_date)
    graph = reference_graph()
    reference = Reference(
        f"référence calcul : indicateurs d'un graphe fixe ({REFERENCE_GRAPH[0]} structures, "
        f"{REFERENCE_GRAPH[1]} liens)",
        "graphe fixe",
        lambda: indicators(graph),
        runs * 4,
    )
    results = []
    data = load_network(territories)
    for name, function, extra in (
        (
            "réseau : indicateurs d'un territoire (calcul)",
            lambda: network_indicators(pt, at=at),
            {"links": len(data.links_of(pt)), "structures": len(data.structures_of(pt))},
        ),
        (
            f"réseau : série trimestrielle du programme ({len(territories)} territoires, calcul)",
            lambda: quarterly_series(territories, start=programme.start_date, end=at),
            {"links": len(data.links), "structures": len(data.structures)},
        ),
    ):
        result = measure_call(name, "function", function, runs * 2)
        result.goal, result.flat = "plat", True
        result.extra.update(extra)
        results.append(result)
        say(
            f"{name} : {result.median_ms:.1f} ms ({extra['structures']} structures, "
            f"{extra['links']} liens, {result.queries} requêtes SQL)"
        )
    finished = reference.finish()
    say(f"{finished.name} : {finished.median_ms:.1f} ms")
    for result in results:
        _beside(result, finished)
    return [finished, *results]


# Runs the measured command in a child of its own and writes down that child's peak RSS. Python's
# subprocess starts a process by vfork: until it calls exec, the new process shares this one's
# memory, and Linux counts that memory in the new process's peak (ru_maxrss). This runner holds a
# whole generated file in memory; a small launcher in between starts the command from a process
# of a few megabytes, so that the peak read is the command's own.
LAUNCHER = """
import os, sys
peak_file, command = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(command[0], command)
_, status, usage = os.wait4(pid, 0)
with open(peak_file, "w") as peak:
    peak.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_command(args: list[str], env: dict) -> tuple[float, float, str, int]:
    """Run a command; returns (seconds, peak RSS in MB of that process, output, exit status)."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as peak:
        started = time.perf_counter()
        status = subprocess.call(
            [sys.executable, "-c", LAUNCHER, peak.name, *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        elapsed = time.perf_counter() - started
        kilobytes = int(peak.read() or 0)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    # ru_maxrss is in kilobytes on Linux.
    return elapsed, kilobytes / 1024, output, status


def _one_run(seconds: float) -> dict:
    """The timings of a Result measured once (a command, a whole import)."""
    return {
        "median_ms": seconds * 1000,
        "min_ms": seconds * 1000,
        "max_ms": seconds * 1000,
        "runs": 1,
    }


def measure_full_export(env: dict, say) -> Result:
    """``manage.py export_structures`` of the whole database, as an operator runs it."""
    with tempfile.TemporaryDirectory(dir=VAR) as tmp:
        output = Path(tmp) / "export.zip"
        seconds, rss, text, status = run_command(
            [
                sys.executable,
                "manage.py",
                "export_structures",
                "--format",
                "di-json",
                "--output",
                str(output),
            ],
            env,
        )
    match = re.search(r"(\d+) structure\(s\) et (\d+) service\(s\)", text)
    rows = int(match.group(1)) + int(match.group(2)) if match else 0
    result = Result(
        name="export_structures di-json (toute la base)",
        kind="export",
        **_one_run(seconds),
        reference=f"{rows} lignes",
        ratio_label=f"{rows / seconds:.0f} l/s" if seconds else "—",
        peak_mb=rss,
        memory_kind="maxrss",
        target="OK" if status == 0 and rss < MAX_MEMORY_MB else "MANQUÉ",
        note="" if status == 0 else f"échec : {text.strip().splitlines()[-1:]}",
        extra={"rows": rows},
    )
    say(f"{result.name} : {seconds:.1f} s, {rss:.0f} Mo")
    return result


# --- Imports -----------------------------------------------------------------------------------


def import_file(scale_name: str, path: Path, structures: int | None = None) -> list[dict]:
    """A data·inclusion file (JSON lines) of as many structures as the scale holds (or
    ``structures``), on the same communes, from another seed and another source; returns the
    rows written."""
    import random

    from benchmarks.generate import Generator
    from tablee.directory.models import Category
    from tablee.territories.models import Commune, ProgrammeTerritory

    scale = SCALES[scale_name]
    epci = ProgrammeTerritory.objects.values_list("territory_id", flat=True)
    communes = list(
        Commune.objects.filter(territory_id__in=epci)
        .order_by("code")
        .values_list("code", "name", "latitude", "longitude", "population")
    )
    kinds = dict.fromkeys(Category.Kind.values)
    values = {k: [] for k in kinds}
    for kind, value in Category.objects.values_list("kind", "value"):
        values[kind].append(value)
    generator = Generator(
        random.Random(scale.seed + 1),
        communes,
        thematiques=values[Category.Kind.THEMATIQUE],
        publics=values[Category.Kind.PUBLIC],
        id_prefix="imp",
    )
    rows = []
    with open(path, "w", encoding="utf-8") as handle:
        count = scale.structures if structures is None else structures
        for record in generator.structures(count, scale.services_per_structure):
            for data in [record.data, *(s.data for s in record.services)]:
                data = {**data, "source": IMPORT_SOURCE}
                handle.write(json.dumps(data, ensure_ascii=False) + "\n")
                rows.append(data)
    return rows


def raw_insert_rate(rows: list[dict], directory: Path) -> tuple[float, float]:
    """Rows per second of a plain sqlite3 executemany of ``rows`` into one table (the ceiling no
    import can beat), and the seconds it took. Same pragmas as the application's database."""
    columns = sorted({key for row in rows for key in row})
    values = [
        tuple(json.dumps(row[c]) if isinstance(row.get(c), list) else row.get(c) for c in columns)
        for row in rows
    ]
    path = directory / "raw.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    quoted = ", ".join(f'"{c}"' for c in columns)
    connection.execute(f"CREATE TABLE raw ({quoted})")
    started = time.perf_counter()
    with connection:
        connection.executemany(
            f"INSERT INTO raw ({quoted}) VALUES ({', '.join('?' * len(columns))})", values
        )
    seconds = time.perf_counter() - started
    connection.close()
    return len(values) / seconds, seconds


def import_floor(source: Path, database: Path) -> tuple[float, float, int]:
    """The least any import of ``source`` can cost on this machine: decoding its JSON lines, then
    writing its rows, already shaped, into Tablée's own tables in a copy of the database (the
    structures, the services and their link tables, with their indexes and foreign keys) by a
    bare sqlite3 executemany, without checking or comparing anything.

    Returns (seconds to decode, seconds to write, rows written in all tables). Shaping the rows
    (columns, defaults, identifiers) is left out of the time, as it is for the raw insert; the
    decoding runs without the garbage collector, the fastest it can be.
    """
    import gc

    from django.db import connection as django_connection

    from tablee.core.text import fold
    from tablee.directory.importers import (
        SERVICE_M2M,
        SERVICE_MODEL_FIELDS,
        STRUCTURE_M2M,
        STRUCTURE_MODEL_FIELDS,
        OrderedIds,
    )
    from tablee.directory.imports import IMPORT_PAGE_CACHE_KIB
    from tablee.directory.models import Category, Service, Structure

    gc.disable()
    try:
        started = time.perf_counter()
        with open(source, encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle]
        decode_seconds = time.perf_counter() - started
    finally:
        gc.enable()

    categories = {(c.kind, c.value): c.pk for c in Category.objects.all()}
    # Increasing keys, as the import gives its new rows: written at the end of each index.
    new_pk = OrderedIds()
    now = datetime.now(UTC)

    def shaper(model, mapping):
        fields = list(model._meta.concrete_fields)
        defaults = {
            f.attname: f.get_db_prep_save(
                now
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else f.get_default(),
                django_connection,
            )
            for f in fields
        }
        by_attname = {f.attname: f for f in fields}
        wanted = {key: name for key, name in mapping.items() if name in by_attname}

        def shaped(record, extra):
            values = dict(defaults)
            for key, name in wanted.items():
                if record.get(key) is not None:
                    values[name] = by_attname[name].get_db_prep_save(record[key], django_connection)
            values.update(extra)
            return tuple(values[f.attname] for f in fields)

        columns = ", ".join(f'"{f.column}"' for f in fields)
        sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({', '.join('?' * len(fields))})"
        return shaped, sql

    structure_row, structure_sql = shaper(Structure, STRUCTURE_MODEL_FIELDS)
    service_row, service_sql = shaper(Service, SERVICE_MODEL_FIELDS)
    structures, services = [], []
    links = {relation: [] for relation, _ in [*STRUCTURE_M2M.values(), *SERVICE_M2M.values()]}
    pks = {}
    for record in records:
        pk = new_pk().hex
        common = {"id": pk, "source": record["source"], "source_id": record["id"]}
        if "structure_id" in record:
            structure_id = pks[record["structure_id"]]
            services.append(service_row(record, {**common, "structure_id": structure_id}))
            spec = SERVICE_M2M
        else:
            pks[record["id"]] = pk
            structures.append(structure_row(record, {**common, "search_name": fold(record["nom"])}))
            spec = STRUCTURE_M2M
        for key, (relation, kind) in spec.items():
            for value in record.get(key) or []:
                links[relation].append((pk, categories[(kind, value)]))
    del records
    link_sql = {}
    for model, spec in ((Structure, STRUCTURE_M2M), (Service, SERVICE_M2M)):
        for relation, _ in spec.values():
            through = getattr(model, relation).through
            owner = f"{model._meta.model_name}_id"
            link_sql[relation] = (
                f"INSERT INTO {through._meta.db_table} ({owner}, category_id) VALUES (?, ?)"
            )

    connection = sqlite3.connect(database)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        f"cache_size=-{IMPORT_PAGE_CACHE_KIB}",
    ):
        connection.execute(f"PRAGMA {pragma}")
    started = time.perf_counter()
    with connection:
        connection.executemany(structure_sql, structures)
        connection.executemany(service_sql, services)
        for relation, pairs in links.items():
            connection.executemany(link_sql[relation], pairs)
    write_seconds = time.perf_counter() - started
    connection.close()
    written = len(structures) + len(services) + sum(len(pairs) for pairs in links.values())
    return decode_seconds, write_seconds, written


def measure_import(scale_name: str, env: dict, database_url: str | None, say) -> list[Result]:
    """``manage.py import_structures`` of a generated data·inclusion file, on a copy of the
    benchmark database (the original stays as seeded), beside the raw insert rate."""
    from django.db import connection

    with tempfile.TemporaryDirectory(dir=VAR) as tmp:
        tmp = Path(tmp)
        source = tmp / "structures-services.jsonl"
        rows = import_file(scale_name, source)
        raw_rate, raw_seconds = raw_insert_rate(rows, tmp)
        # A national file is larger than the upload limit of the web form; the operator raises
        # it for the command line, as here.
        size = source.stat().st_size
        child_env = {**env, "TABLEE_MAX_DIRECTORY_IMPORT_BYTES": str(max(size * 2, 50 * 2**20))}
        drop_copy = None
        floor = None
        if not database_url:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            copy = tmp / "import.sqlite3"
            shutil.copyfile(sqlite_path(scale_name), copy)
            floor = import_floor(source, copy)
            # The floor wrote into the copy: the import gets a fresh one (and no journal of the
            # old one, which SQLite would replay into it).
            for written in (
                copy,
                copy.with_name(f"{copy.name}-wal"),
                copy.with_name(f"{copy.name}-shm"),
            ):
                written.unlink(missing_ok=True)
            shutil.copyfile(sqlite_path(scale_name), copy)
            child_env["TABLEE_SQLITE_PATH"] = str(copy)
        elif connection.vendor == "postgresql":
            child_env["DATABASE_URL"], drop_copy = _postgres_copy(database_url)
        else:
            say("import : base ni SQLite ni PostgreSQL, import non mesuré")
            return []
        try:
            seconds, rss, text, status = run_command(
                [
                    sys.executable,
                    "manage.py",
                    "import_structures",
                    str(source),
                    "--source",
                    IMPORT_SOURCE,
                ],
                child_env,
            )
        finally:
            if drop_copy is not None:
                drop_copy()
    # The command prints the time of the import itself, without Python's and Django's start-up.
    match = re.search(r"Import terminé en ([\d.]+) s", text)
    import_seconds = float(match.group(1)) if match else seconds
    if status == 0:
        rate = len(rows) / import_seconds if import_seconds else 0.0
        percent = 100 * rate / raw_rate if raw_rate else 0.0
        label = f"{rate:.0f} l/s = {percent:.1f} %"
    else:  # refused or failed: no rate to compare
        rate, percent, label = 0.0, 0.0, "échec"
    ok = status == 0 and percent >= IMPORT_MIN_PERCENT and rss < MAX_MEMORY_MB
    last_line = text.strip().splitlines()[-1] if text.strip() else ""
    if status != 0:
        say(f"import refusé : {text.strip()[-600:]}")
    result = Result(
        name=f"import data·inclusion ({len(rows)} lignes)",
        kind="import",
        median_ms=import_seconds * 1000,
        min_ms=import_seconds * 1000,
        max_ms=seconds * 1000,
        runs=1,
        reference=f"brut {raw_rate:.0f} l/s",
        ratio=percent,
        ratio_label=label,
        peak_mb=rss,
        memory_kind="maxrss",
        target="OK" if ok else "MANQUÉ",
        note="" if status == 0 else f"échec : {last_line[:120]}",
        extra={
            "rows": len(rows),
            "rows_per_second": rate,
            "raw_rows_per_second": raw_rate,
            "raw_seconds": raw_seconds,
            "command_seconds": seconds,
        },
    )
    say(f"{result.name} : {import_seconds:.1f} s, {percent:.1f} % du brut, {rss:.0f} Mo")
    if floor is None:
        return [result]
    decode_seconds, write_seconds, written = floor
    floor_seconds = decode_seconds + write_seconds
    floor_percent = 100 * raw_seconds / floor_seconds
    if status == 0:
        result.note = f"{import_seconds / floor_seconds:.1f}× le plancher"
        result.extra["floor_seconds"] = floor_seconds
    floor_result = Result(
        name="plancher de l'import (lecture JSON, écriture nue dans les tables de Tablée)",
        kind="import",
        **_one_run(floor_seconds),
        reference=f"brut {raw_rate:.0f} l/s",
        ratio=floor_percent,
        ratio_label=f"{len(rows) / floor_seconds:.0f} l/s = {floor_percent:.1f} %",
        note=(
            f"lecture {decode_seconds:.1f} s + écriture {write_seconds:.1f} s de {written} "
            "lignes, sans aucune vérification"
        ),
        extra={
            "rows": len(rows),
            "decode_seconds": decode_seconds,
            "write_seconds": write_seconds,
            "rows_written": written,
        },
    )
    say(
        f"plancher de l'import : {floor_seconds:.1f} s ({decode_seconds:.1f} s de lecture, "
        f"{write_seconds:.1f} s d'écriture), {floor_percent:.1f} % du brut"
    )
    return [floor_result, result]


def _postgres_copy(database_url: str):
    """A copy of the benchmark database (CREATE DATABASE … TEMPLATE), so that the import leaves
    the original as seeded; returns its URL and the function that drops it."""
    from urllib.parse import urlsplit, urlunsplit

    from django.db import connection

    name = connection.settings_dict["NAME"]
    copy = f"{name}_import"
    # A template database must have no other session: ours is closed first.
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        cursor.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')

    def drop() -> None:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{copy}"')

    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=f"/{copy}")), drop


# --- Load test ---------------------------------------------------------------------------------

WRK_SCRIPT = """
local paths = {%(paths)s}
local counter = 0
wrk.headers["Cookie"] = "%(cookie)s"
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50": %%d, "p95": %%d, "p99": %%d, '
    .. '"max": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_cookie(email: str) -> str:
    """A signed-in session for ``email``, made with Django's own session machinery."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from tablee.accounts.models import User

    user = User.objects.get(email=email)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def load_paths() -> list[tuple[str, str]]:
    """The three busiest pages: the directory list, its map data and the territory page."""
    cases = {case.name: case.url for case in page_cases()}
    return [
        ("annuaire", cases["annuaire : recherche filtrée"]),
        ("carte", cases["annuaire : données de carte"]),
        ("territoire", cases["territoire : page"]),
    ]


def _wrk(wrk: str, base: str, paths: list[str], cookie: str, seconds: int) -> dict | None:
    """One wrk run over ``paths`` in turn; its summary (latencies in µs), or None if it failed."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            WRK_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in paths), "cookie": cookie}
        )
    try:
        completed = subprocess.run(
            [
                wrk,
                "-t2",
                f"-c{LOAD_USERS}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    finally:
        os.unlink(script.name)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        return None
    data = json.loads(line.removeprefix("WRKJSON "))
    data["errors"] = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    data["requests_per_second"] = data["requests"] / (data["duration_us"] / 1e6)
    for key in ("p50", "p95", "p99", "max"):
        data[f"{key}_ms"] = data[key] / 1000
    return data


def measure_load(env: dict, seconds: int, say) -> list[Result]:
    """gunicorn (2 workers) on 127.0.0.1 and wrk with 20 connections: first on the floor view
    (the reference: what this server and machine give for a trivial page right now), then for
    ``seconds`` on the three busiest pages in turn."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return [
            Result(
                name="charge : 3 pages",
                kind="load",
                target="MANQUÉ",
                note="wrk absent (apt-get install -y wrk)",
            )
        ]
    from benchmarks.urls import FLOOR_PATH

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cookie = session_cookie(DEMO_COORDINATOR)
    paths = load_paths()
    floor_seconds = max(3, seconds // 6)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "benchmarks.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_up(base, server)
        # Every page must answer 200 to this session: a redirect to the sign-in page would be
        # fast and counted as a success by wrk.
        for label, path in [("plancher", "/" + FLOOR_PATH), *paths]:
            request = urllib.request.Request(base + path, headers={"Cookie": cookie})
            opener = urllib.request.build_opener(_NoRedirect)
            with opener.open(request, timeout=30) as response:
                if response.status != 200:
                    raise RuntimeError(f"{label} : statut {response.status}")
        say(f"charge : wrk {LOAD_USERS} connexions sur {base}, plancher {floor_seconds} s")
        floor = _wrk(wrk, base, ["/" + FLOOR_PATH], cookie, floor_seconds)
        say(f"charge : 3 pages, {seconds} s")
        pages = _wrk(wrk, base, [p for _, p in paths], cookie, seconds)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    results = []
    for data, name in (
        (floor, f"charge : plancher, {LOAD_USERS} connexions, {floor_seconds} s (référence)"),
        (pages, f"charge : 3 pages, {LOAD_USERS} utilisateur·ices, {seconds} s"),
    ):
        if data is None:
            results.append(Result(name=name, kind="load", target="MANQUÉ", note="wrk a échoué"))
            continue
        results.append(
            Result(
                name=name,
                kind="load",
                median_ms=data["p50_ms"],
                max_ms=data["max_ms"],
                runs=data["requests"],
                reference=f"{data['requests_per_second']:.1f} req/s",
                ratio_label=f"p95 {data['p95_ms']:.0f} ms, p99 {data['p99_ms']:.0f} ms",
                note=f"{data['errors']} erreur(s)",
                extra=data,
            )
        )
    floor_result, pages_result = results
    if pages is not None:
        ok = pages["errors"] == 0 and pages["p95_ms"] < LOAD_MAX_P95_MS
        pages_result.target = "OK" if ok else "MANQUÉ"
        pages_result.extra["pages"] = [p for _, p in paths]
        if floor is not None:
            # How many floor requests the server answers in the time of one page request.
            pages_result.ratio = floor["requests_per_second"] / pages["requests_per_second"]
            pages_result.reference = (
                f"{pages['requests_per_second']:.1f} req/s "
                f"(plancher {floor['requests_per_second']:.0f}, ×{pages_result.ratio:.0f})"
            )
        say(
            f"{pages_result.name} : {pages['requests_per_second']:.1f} req/s, "
            f"p95 {pages['p95_ms']:.0f} ms, {pages['errors']} erreur(s)"
        )
    return results


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _wait_until_up(base: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn s'est arrêté : {server.stderr.read().decode()[-500:]}")
        try:
            with urllib.request.urlopen(base + "/compte/connexion/", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn ne répond pas")


# --- Printing ----------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.1f} ms"


def print_table(scale: str, results: list[Result], out=None) -> None:
    headers = [
        "mesure",
        "médiane",
        "min",
        "max",
        "référence",
        "rapport",
        "mémoire max",
        "SQL",
        "objectif",
        "cible",
    ]
    rows = []
    for r in results:
        memory = (
            f"{r.peak_mb:.1f} Mo ({'rss' if r.memory_kind == 'maxrss' else 'py'})"
            if r.peak_mb is not None
            else "—"
        )
        rows.append(
            [
                r.name + (f" [{r.note}]" if r.note else ""),
                _ms(r.median_ms),
                _ms(r.min_ms),
                _ms(r.max_ms),
                r.reference or "—",
                r.ratio_label or "—",
                memory,
                str(r.queries) if r.queries is not None else "—",
                r.goal or "—",
                r.target or "—",
            ]
        )
    _print_rows(f"Échelle {scale}", headers, rows, out)


def _print_rows(title: str, headers: list[str], rows: list[list[str]], out) -> None:
    out = out or sys.stdout
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}", file=out)
    print(line, file=out)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), file=out)
    print(line, file=out)
    for row in rows:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells), file=out)
    print(line, file=out)


GROWTH_KINDS = {"page", "floor", "export", "document", "function", "reference"}


def print_growth(reports: dict[str, dict], out=None) -> None:
    """The same measure at each scale, in ms and as a multiple of that scale's reference (the
    floor of pages, of PDFs or of computations). A measure that must stay flat (issues 7 and 8)
    is OK when its multiple at the largest scale is at most FLAT_MAX_GROWTH times the one at the
    smallest (its time in ms when it has no reference): the machine's noise cancels out."""
    scales = [s for s in SCALE_ORDER if s in reports]
    names = []
    for s in scales:
        for r in reports[s]["results"]:
            if r["kind"] in GROWTH_KINDS and r["name"] not in names:
                names.append(r["name"])
    first, last = scales[0], scales[-1]
    headers = ["mesure", *scales, f"{last} / {first}", "rapport", "plat"]
    rows = []
    for name in names:
        cells, found_at = [], []
        for s in scales:
            found = next((r for r in reports[s]["results"] if r["name"] == name), None)
            if found is None or found["median_ms"] is None:
                cells.append("—")
                found_at.append(None)
                continue
            ratio = found.get("ratio")
            shown = f" ({ratio:.1f}×)" if ratio is not None and found["kind"] != "export" else ""
            cells.append(_ms(found["median_ms"]) + shown)
            found_at.append(found)
        low, high = found_at[0], found_at[-1]
        growth = ratio_growth = None
        if low and high and low["median_ms"]:
            growth = high["median_ms"] / low["median_ms"]
            if low["kind"] != "export" and low.get("ratio") and high.get("ratio") is not None:
                ratio_growth = high["ratio"] / low["ratio"]
        flat = ""
        if any(r and r.get("flat") for r in found_at) and growth is not None:
            judged = ratio_growth if ratio_growth is not None else growth
            flat = "OK" if judged <= FLAT_MAX_GROWTH else "MANQUÉ"
        rows.append(
            [
                name,
                *cells,
                f"{growth:.1f}×" if growth is not None else "—",
                f"{ratio_growth:.1f}×" if ratio_growth is not None else "—",
                flat or "—",
            ]
        )
    _print_rows("Croissance : la même mesure à chaque échelle", headers, rows, out)


# --- Orchestration -----------------------------------------------------------------------------


def run_scale(args) -> dict:
    scale = args.scale
    env = configure_environment(scale, args.database_url)
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{scale} {time.perf_counter() - started:6.1f} s] {message}", flush=True)

    from benchmarks.common import setup_django

    setup_django(scale, args.database_url)
    from benchmarks.seed import is_seeded, seed

    if not is_seeded():
        say("base absente ou incomplète : remplissage")
        seed(scale)
    _analyze()
    runs = 7 if args.quick else 20
    few = 2 if args.quick else 5
    child_env = _child_env(env)
    groups = GROUPS if args.only is None else (args.only,)
    results = measure_pages(runs, say, groups)
    if "base" in groups:
        results += measure_exports(few, say)
        results.append(measure_full_export(child_env, say))
    if "cycle" in groups:
        results += measure_downloads(few, say)
        results += measure_network(few, say)
    if not args.skip_import and "base" in groups:
        results += measure_import(scale, child_env, args.database_url, say)
    if not args.skip_load and "base" in groups:
        results += measure_load(child_env, LOAD_SECONDS_QUICK if args.quick else LOAD_SECONDS, say)
    report = {
        "scale": scale,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "database": "PostgreSQL/DATABASE_URL" if args.database_url else str(sqlite_path(scale)),
        "quick": args.quick,
        "only": args.only,
        "seconds": round(time.perf_counter() - started, 1),
        "results": [asdict(r) for r in results],
    }
    print_table(scale, results)
    return report


def _analyze() -> None:
    """Refresh the planner's statistics. On SQLite a migration that rebuilds a table (its way of
    altering one) drops them, and without them SQLite walks a whole table through the wrong
    index: a production database needs the same (``PRAGMA optimize``). On PostgreSQL,
    autovacuum would do it, but only some time after a bulk load such as the seed."""
    from django.db import connection

    if connection.vendor in {"sqlite", "postgresql"}:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _child_env(env: dict) -> dict:
    from benchmarks.common import subprocess_env

    return subprocess_env(env)


def run_all(args) -> dict:
    """Each scale in its own process (Django's settings are per process), then growth."""
    reports = {}
    with tempfile.TemporaryDirectory() as tmp:
        for scale in SCALE_ORDER:
            path = Path(tmp) / f"{scale}.json"
            command = [
                sys.executable,
                "-m",
                "benchmarks.run",
                "--scale",
                scale,
                "--json",
                str(path),
            ]
            for flag in ("quick", "skip_load", "skip_import"):
                if getattr(args, flag):
                    command.append("--" + flag.replace("_", "-"))
            if args.only:
                command += ["--only", args.only]
            if args.database_url:
                raise SystemExit("--scale all utilise les bases SQLite de chaque échelle.")
            subprocess.run(command, cwd=ROOT, check=True)
            reports[scale] = json.loads(path.read_text(encoding="utf-8"))
    print_growth(reports)
    return {"scale": "all", "reports": reports}


def load_reports(paths: list[Path]) -> dict[str, dict]:
    """Reports written by ``--json`` (one scale each, or ``--scale all``), by scale."""
    reports = {}
    for path in paths:
        report = json.loads(path.read_text(encoding="utf-8"))
        reports.update(report["reports"] if report["scale"] == "all" else {report["scale"]: report})
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Mesure les pages, les imports, les exports et la tenue en charge.",
    )
    parser.add_argument("--scale", choices=[*sorted(SCALES), "all"], default="association")
    parser.add_argument("--json", type=Path, default=None, help="Écrire les résultats en JSON.")
    parser.add_argument("--quick", action="store_true", help="Moins de répétitions, charge 10 s.")
    parser.add_argument("--skip-load", action="store_true", help="Sans le test de charge.")
    parser.add_argument("--skip-import", action="store_true", help="Sans l'import.")
    parser.add_argument("--database-url", default=None, help="Base à mesurer (déjà remplie).")
    parser.add_argument(
        "--only",
        choices=GROUPS,
        default=None,
        help="Une partie seulement : « base » (pages de l'issue 9, exports, import, charge) ou "
        "« cycle » (pages, téléchargements et calculs des issues 6 à 8), toujours avec le plancher.",
    )
    parser.add_argument(
        "--growth",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="Imprimer la croissance à partir de résultats déjà écrits par --json, sans mesurer.",
    )
    args = parser.parse_args(argv)
    if args.growth:
        print_growth(load_reports(args.growth))
        return 0
    report = run_all(args) if args.scale == "all" else run_scale(args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
