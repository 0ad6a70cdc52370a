"""Every page a demo account can reach by following links answers without a server error.

For each of the five demonstration accounts, a crawler starts from the home page and follows the
links of each page (GET only, inside the site), visiting each kind of page (URL name) once, through
the first link found to it. It catches what unit tests of one view miss: a link to a page that
breaks on the demo's real data, or a page that links to another the account may not open (a 403
or 404 reached by a link is a dead end the person would see).
"""

from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.urls import Resolver404, resolve

from tablee.accounts.models import User
from tablee.demo.services import load_demo
from tablee.territories.referential import load_referential

PER_NAME = 1
MAX_PAGES = 400
# Downloads and feeds: followed, but their content is not HTML.
NOT_HTML = ("application/", "text/csv", "text/calendar", "image/")
# Links that act rather than show (sign-out is a POST form; django-admin has its own checks).
SKIPPED_PREFIXES = ("/compte/deconnexion", "/django-admin/", "/static/", "/media/")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def internal_links(html: str, base: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        href, _ = urldefrag(href)
        if not href or href.startswith(("mailto:", "tel:", "javascript:")):
            continue
        parts = urlsplit(href)
        if parts.scheme or parts.netloc:
            continue
        path = parts.path if parts.path.startswith("/") else base.rsplit("/", 1)[0] + "/" + href
        found.append(path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(client) -> tuple[Counter, list[str]]:
    seen_names: Counter = Counter()
    visited: set[str] = set()
    problems: list[str] = []
    queue = deque([("/", "(départ)")])
    while queue and len(visited) < MAX_PAGES:
        url, origin = queue.popleft()
        if url in visited or url.startswith(SKIPPED_PREFIXES):
            continue
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            problems.append(f"{url} (lien de {origin}) ne correspond à aucune page")
            continue
        if seen_names[match.view_name] >= PER_NAME:
            continue
        seen_names[match.view_name] += 1
        visited.add(url)
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            # A download: reading it closes its file through the test client's wrapper (calling
            # response.close() would also close the test's database connection on PostgreSQL).
            b"".join(response.streaming_content)
        if response.status_code >= 400:
            problems.append(f"{url} (lien de {origin}) répond {response.status_code}")
            continue
        content_type = response.get("Content-Type", "")
        if (
            response.status_code != 200
            or content_type.startswith(NOT_HTML)
            or hasattr(response, "streaming_content")
        ):
            continue
        for link in internal_links(response.content.decode(), url):
            if link not in visited:
                queue.append((link, url))
    return seen_names, problems


@pytest.fixture
def demo_db(db):
    load_referential()
    load_demo()


@pytest.mark.parametrize(
    "email,stages",
    [
        (
            "coordination@demo.tablee.fr",
            [
                "diagnostic_records:index",
                "consultation:index",
                "plans:detail",
                "plans:action_detail",
                "activities:calendar",
                "activities:session_detail",
                "network:territory",
                "reports:programme_dashboard",
                "reports:report_list",
                "reports:territory_report_pdf",
            ],
        ),
        ("partenaire@demo.tablee.fr", ["plans:detail", "activities:calendar", "network:territory"]),
        ("collectivite@demo.tablee.fr", ["plans:detail", "reports:territory_dashboard"]),
        (
            "financeur@demo.tablee.fr",
            ["reports:programme_dashboard", "reports:report_list", "reports:territory_report_pdf"],
        ),
        ("admin@demo.tablee.fr", ["territories:programme_detail", "accounts:user_list"]),
    ],
    ids=["coordination", "partenaire", "collectivite", "financeur", "admin"],
)
def test_every_page_a_demo_account_reaches_by_its_links_answers(client, demo_db, email, stages):
    client.force_login(User.objects.get(email=email))
    seen, problems = crawl(client)
    assert problems == []
    missing = [name for name in stages if name not in seen]
    assert missing == [], f"pages jamais atteintes par les liens : {missing}"
