"""Everything is denied by default: a sweep of every URL of the project.

Each app tests its views for the roles that may use them; this test makes sure no view was
forgotten: an anonymous visitor is sent to the login page, and a signed-in person without any role
gets nothing (403 or 404), except on the few pages that are public by design, listed below.
"""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tablee.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Pages anyone may open without an account (DESIGN.md: the public directory, the public
# accountability pages, the anonymous questionnaires; and of course logging in).
PUBLIC_PREFIXES = (
    "accounts:login",
    "accounts:password_reset",
    "public_directory:",
    "questionnaire:",
    "proposals_public:",
    "accountability:",
    "registration_public:",
    "calendar_feed:",
    "evaluation_public:",
)
# Pages any signed-in person may open: their own home and the sign-out.
SIGNED_IN_PAGES = {"core:home", "accounts:logout", "territories:programme_list"}
# Django's own admin has its own login and staff check.
SKIPPED_NAMESPACES = ("admin",)

SAMPLE_ARGUMENTS = {
    "uuid": lambda: str(uuid.uuid4()),
    "int": lambda: "987654",
    "str": lambda: "99999",
    "slug": lambda: "inconnu",
    "path": lambda: "inconnu",
}


def named_patterns(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def sample_url(name: str, pattern: URLPattern) -> str:
    converters = pattern.pattern.converters
    kwargs = {}
    for key, converter in converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        kwargs[key] = SAMPLE_ARGUMENTS.get(kind, SAMPLE_ARGUMENTS["str"])()
    return reverse(name, kwargs=kwargs)


ALL_VIEWS = sorted(
    (name, pattern) for name, pattern in named_patterns() if not name.startswith(SKIPPED_NAMESPACES)
)
PROTECTED = [(n, p) for n, p in ALL_VIEWS if not n.startswith(PUBLIC_PREFIXES)]


def test_the_sweep_sees_the_views_of_every_app():
    names = {name for name, _ in ALL_VIEWS}
    for expected in [
        "core:home",
        "accounts:login",
        "territories:territory_detail",
        "referential:index",
        "reports:territory_report_pdf",
    ]:
        assert expected in names


@pytest.mark.parametrize("name,pattern", PROTECTED, ids=[n for n, _ in PROTECTED])
def test_anonymous_visitors_are_sent_to_login(client, name, pattern):
    url = sample_url(name, pattern)
    response = client.get(url)
    if response.status_code == 405:  # POST-only views: try the method they accept
        response = client.post(url)
    assert response.status_code == 302, f"{name} répond {response.status_code}"
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    "name,pattern",
    [(n, p) for n, p in PROTECTED if n not in SIGNED_IN_PAGES],
    ids=[n for n, _ in PROTECTED if n not in SIGNED_IN_PAGES],
)
def test_a_person_without_any_role_gets_nothing(client, name, pattern):
    client.force_login(UserFactory())
    url = sample_url(name, pattern)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code in {403, 404, 405}, f"{name} répond {response.status_code}"
