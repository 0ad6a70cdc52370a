"""Browser harness: one system Chromium for the journeys, a fresh context per test, axe on each page.

The browser is Debian's Chromium (``apt-get install chromium``), never a build downloaded by
Playwright: CI has no internet. Every page visited through ``Browsing.visit`` is checked with axe
(WCAG 2.1 A and AA), and a test fails on any console error (CSP violations show up there), any
uncaught JavaScript error and any request leaving the live server other than map tiles.
"""

import base64
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Chromium's own connections (updates, sync, QUIC probes) would hit this machine's closed network.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

# A 1×1 transparent PNG, served in place of map tiles (the tile server is on the internet).
TRANSPARENT_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII="
)

DESKTOP = {"width": 1280, "height": 900}
# Generous waits: CI runs the suite on two cores, sometimes beside other work.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep the outcome of the test itself, so that the teardown does not report a failure twice.
    report = yield
    if report.when == "call":
        item.tablee_call_failed = report.failed
    return report


def chromium_path() -> str:
    path = os.environ.get("TABLEE_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "Chromium est introuvable : installez-le avec `apt-get install chromium` "
            "(Chromium not found: install it with `apt-get install chromium`).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="package")
def browser(django_db_setup):
    """One Chromium for the browser tests of this package.

    Playwright's sync API keeps an asyncio loop running in the test thread while it is started, and
    Django refuses ORM calls from a thread with a running loop: DJANGO_ALLOW_ASYNC_UNSAFE lifts that
    for as long as the browser runs (the ORM calls of these tests are plain synchronous ones). The
    package scope stops both before the rest of the suite, which must not inherit the variable
    (``check --deploy`` warns about it in a subprocess).
    """
    executable = chromium_path()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    migration_data = _serialized_migration_data()
    try:
        with sync_playwright() as playwright:
            _share_serialized_migration_data(migration_data)
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _serialized_migration_data() -> dict:
    from django.db import connections

    return {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }


def _share_serialized_migration_data(migration_data: dict) -> None:
    """Let ``django_db_serialized_rollback`` work while Playwright's loop runs.

    Django keeps its connections in an asgiref ``Local`` that hands out other connection objects
    when an event loop is running in the thread. Those lack the copy of what data migrations wrote,
    taken when the test database was created, so a serialized rollback would restore nothing after
    the live server's database is emptied.
    """
    from django.db import connections

    for alias, contents in migration_data.items():
        connections[alias]._test_serialized_contents = contents


@pytest.fixture(scope="session")
def axe():
    return Axe()


def _tile_origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


@dataclass
class Browsing:
    """A browser page on the live server that records what a developer would see in the console."""

    page: Page
    base_url: str
    axe: Axe
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    # Pages deliberately opened with an error status: Chromium logs their status in the console.
    expected_error_pages: set[str] = field(default_factory=set)

    def url(self, path: str) -> str:
        return self.base_url + path

    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)

    def visit(self, path: str, *, status: int = 200):
        """Open ``path``, check the HTTP status, the console and accessibility; return the page."""
        if status >= 400:
            self.expected_error_pages.add(self.url(path))
        response = self.page.goto(self.url(path))
        assert response is not None, f"Aucune réponse pour {path}"
        assert response.status == status, (
            f"{path} : statut HTTP {response.status}, attendu {status} (page {self.path()})"
        )
        self.check_page()
        return self.page

    def check_page(self):
        """Run axe on the current page and fail on console errors or requests that left the server."""
        self.page.wait_for_load_state("load")
        self.assert_accessible()
        self.assert_clean_console()

    def assert_accessible(self):
        results = self.axe.run(self.page, options=AXE_OPTIONS)
        violations = results.response["violations"]
        if violations:
            lines = [
                f"Accessibilité (axe, WCAG 2.1 A/AA) : {len(violations)} règle(s) non respectée(s)"
            ]
            lines.append(f"sur {self.path()}")
            for violation in violations:
                lines.append(f"- {violation['id']} ({violation['impact']}) : {violation['help']}")
                for node in violation["nodes"]:
                    lines.append(f"    cible : {' '.join(str(t) for t in node['target'])}")
                    checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
                    if checks:
                        lines.append(f"      {checks[0]['message']}")
            pytest.fail("\n".join(lines), pytrace=False)

    def assert_clean_console(self):
        problems = [f"erreur de console : {e}" for e in self.console_errors]
        problems += [f"requête sortante : {u}" for u in self.external_requests]
        self.console_errors.clear()
        self.external_requests.clear()
        if problems:
            pytest.fail(f"Sur {self.path()} :\n" + "\n".join(problems), pytrace=False)

    def _on_console(self, message):
        if message.type != "error":
            return
        location = message.location.get("url", "")
        if location in self.expected_error_pages and message.text.startswith(
            "Failed to load resource: the server responded"
        ):
            return
        self.console_errors.append(f"{message.text} ({location})")

    def _on_page_error(self, error):
        self.console_errors.append(f"exception JavaScript : {error}")


@pytest.fixture(scope="session")
def static_root():
    """WhiteNoise warns (an error in tests) when STATIC_ROOT is missing, as in a fresh clone."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def browsing(request, browser, axe, static_root, live_server, settings):
    """A new browser context (no cookies, no history) on the live server, at desktop size.

    A test for phones calls ``browsing.page.set_viewport_size(...)`` before its first visit.
    """
    if request.node.get_closest_marker("browser") is None:
        pytest.fail(
            "Un test qui ouvre un navigateur porte la marque @pytest.mark.browser "
            "(make test-fast l'exclut).",
            pytrace=False,
        )
    base_url = live_server.url
    tile_origin = _tile_origin(settings.MAP_TILE_URL)
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    browsing = Browsing(page=page, base_url=base_url, axe=axe)

    def leave_no_request_out(route):
        url = route.request.url
        if url.startswith(tile_origin + "/") and route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/png", body=TRANSPARENT_PNG)
            return
        browsing.external_requests.append(url)
        route.abort()

    context.route(lambda url: not url.startswith(base_url + "/"), leave_no_request_out)
    page.on("console", browsing._on_console)
    page.on("pageerror", browsing._on_page_error)
    try:
        yield browsing
        if not getattr(request.node, "tablee_call_failed", True):
            browsing.assert_clean_console()
    finally:
        context.close()
