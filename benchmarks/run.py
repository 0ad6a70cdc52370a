"""Run every benchmark at one scale (or all three) and print one table.

    python -m benchmarks.run --scale association|region|national|all [--json PATH] [--quick]
                             [--skip-load] [--skip-import] [--database-url URL]

Each figure is printed beside a reference measured in the same run, because the machine is shared
and noisy: pages beside the framework floor (a trivial view through the same client), imports
beside a plain sqlite3 executemany of the same rows, and with ``--scale all`` each page at the
three scales side by side. The last column says whether issue 9's target is met (OK / MANQUÉ).
See benchmarks/README.md for how to read the table.
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
from dataclasses import asdict, dataclass, field
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
FOOD = "equipement-et-alimentation--alimentation"


@dataclass
class Result:
    name: str
    kind: str  # "page", "floor", "import", "export", "load"
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


# --- Measuring pages ---------------------------------------------------------------------------


def time_request(client, url: str, runs: int, warmup: int = 2) -> tuple[list[float], int, int]:
    """Times in ms of ``runs`` GETs after ``warmup`` ones; the status and the size of the answer."""
    response = None
    for _ in range(warmup):
        response = client.get(url)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    content = getattr(response, "content", b"")
    return times, response.status_code, len(content)


def peak_and_queries(client, url: str) -> tuple[float, int]:
    """Peak Python memory (tracemalloc, MB) of one request, and its number of SQL queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Read now: the next request empties the connection's query log.
    queries = len(captured.captured_queries)
    tracemalloc.start()
    tracemalloc.reset_peak()
    client.get(url)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6, queries


def page_targets(result: Result, floor_ms: float) -> None:
    result.ratio = result.median_ms / floor_ms if floor_ms else None
    result.reference = f"plancher {floor_ms:.1f} ms"
    result.ratio_label = f"{result.ratio:.1f}×" if result.ratio is not None else "—"
    ok = (
        result.ratio is not None
        and result.ratio <= PAGE_MAX_RATIO
        and result.median_ms < PAGE_MAX_MS
        and (result.peak_mb or 0) < MAX_MEMORY_MB
        and not result.note.startswith("statut")
    )
    result.target = "OK" if ok else "MANQUÉ"


def page_cases() -> list[tuple[str, str, str]]:
    """(name, user key, URL) of every page measured: "coord" is the demonstration programme's
    coordinator (the same six EPCI at every scale), "admin" sees the whole database."""
    from django.urls import reverse

    from tablee.territories.models import Programme, ProgrammeTerritory

    programme = Programme.objects.get(is_demo=True)
    pt = ProgrammeTerritory.objects.filter(programme=programme).order_by("territory_id").first()
    directory = reverse("directory:list")
    map_data = reverse("directory:map_data")
    later = [
        ("diagnostic : synthèse", "coord", reverse("synthesis:detail", args=[pt.pk])),
        ("diagnostic : accueil", "coord", reverse("diagnostic_records:index", args=[pt.pk])),
    ]
    return [
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
        *later,
    ]


def clients() -> dict:
    from django.test import Client

    from benchmarks.seed import ADMIN_EMAIL
    from tablee.accounts.models import User

    coord, admin, anon = Client(), Client(), Client()
    coord.force_login(User.objects.get(email=DEMO_COORDINATOR))
    admin.force_login(User.objects.get(email=ADMIN_EMAIL))
    return {"coord": coord, "admin": admin, "anon": anon}


def measure_pages(runs: int, say) -> list[Result]:
    from django.test.utils import override_settings

    from benchmarks.urls import FLOOR_PATH

    results = []
    with override_settings(ROOT_URLCONF="benchmarks.urls"):
        by_user = clients()
        floor_url = "/" + FLOOR_PATH
        # The floor is measured first and last: the reference is the better of the two medians
        # (the machine may be busier at one end of the run).
        floor_times, _, _ = time_request(by_user["coord"], floor_url, runs * 2, warmup=5)
        for name, user, url in page_cases():
            client = by_user[user]
            times, status, size = time_request(client, url, runs)
            peak, queries = peak_and_queries(client, url)
            result = Result(
                name=name,
                kind="page",
                median_ms=statistics.median(times),
                min_ms=min(times),
                max_ms=max(times),
                runs=runs,
                peak_mb=peak,
                memory_kind="tracemalloc",
                queries=queries,
                note="" if status == 200 else f"statut {status}",
                extra={"url": url, "bytes": size, "user": user},
            )
            results.append(result)
            say(f"{name} : {result.median_ms:.1f} ms ({queries} requêtes SQL)")
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
    for result in results:
        page_targets(result, floor_ms)
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


def run_command(args: list[str], env: dict) -> tuple[float, float, str, int]:
    """Run a command; returns (seconds, peak RSS in MB of that process, output, exit status)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    # ru_maxrss is in kilobytes on Linux.
    return elapsed, usage.ru_maxrss / 1024, output, process.returncode


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
        median_ms=seconds * 1000,
        min_ms=seconds * 1000,
        max_ms=seconds * 1000,
        runs=1,
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
        if not database_url:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            copy = tmp / "import.sqlite3"
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
    return [result]


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
    cases = {name: url for name, _, url in page_cases()}
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


def print_table(scale: str, results: list[Result], out=sys.stdout) -> None:
    headers = [
        "mesure",
        "médiane",
        "min",
        "max",
        "référence",
        "rapport",
        "mémoire max",
        "SQL",
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
                r.target or "—",
            ]
        )
    _print_rows(f"Échelle {scale}", headers, rows, out)


def _print_rows(title: str, headers: list[str], rows: list[list[str]], out) -> None:
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


def print_growth(reports: dict[str, dict], out=sys.stdout) -> None:
    """The same measure at each scale, in ms and as a multiple of that scale's floor."""
    scales = [s for s in SCALE_ORDER if s in reports]
    names = []
    for s in scales:
        for r in reports[s]["results"]:
            if r["kind"] in {"page", "floor", "export"} and r["name"] not in names:
                names.append(r["name"])
    headers = ["mesure", *scales, f"{scales[-1]} / {scales[0]}"]
    rows = []
    for name in names:
        cells, medians = [], []
        for s in scales:
            found = next((r for r in reports[s]["results"] if r["name"] == name), None)
            if found is None or found["median_ms"] is None:
                cells.append("—")
                medians.append(None)
                continue
            ratio = f" ({found['ratio']:.1f}×)" if found["kind"] != "export" else ""
            cells.append(_ms(found["median_ms"]) + ratio)
            medians.append(found["median_ms"])
        growth = (
            f"{medians[-1] / medians[0]:.1f}×" if medians[0] and medians[-1] is not None else "—"
        )
        rows.append([name, *cells, growth])
    _print_rows("Croissance : la même mesure aux trois échelles", headers, rows, out)


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
    child_env = _child_env(env)
    results = measure_pages(runs, say)
    results += measure_exports(2 if args.quick else 5, say)
    results.append(measure_full_export(child_env, say))
    if not args.skip_import:
        results += measure_import(scale, child_env, args.database_url, say)
    if not args.skip_load:
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
            if args.database_url:
                raise SystemExit("--scale all utilise les bases SQLite de chaque échelle.")
            subprocess.run(command, cwd=ROOT, check=True)
            reports[scale] = json.loads(path.read_text(encoding="utf-8"))
    print_growth(reports)
    return {"scale": "all", "reports": reports}


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
    args = parser.parse_args(argv)
    report = run_all(args) if args.scale == "all" else run_scale(args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
