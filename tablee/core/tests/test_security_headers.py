"""Every page is served with the security headers of the design."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_login_page_has_a_strict_content_security_policy(client):
    response = client.get(reverse("accounts:login"))
    policy = directives(response)
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy["script-src"]
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"]).group(1)
    # Every script of the page carries that nonce: none would run otherwise.
    page = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts
    assert all(f'nonce="{nonce}"' in tag for tag in scripts if "application/json" not in tag)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_nonce_changes_on_every_response(client):
    first = directives(client.get(reverse("accounts:login")))["script-src"]
    second = directives(client.get(reverse("accounts:login")))["script-src"]
    assert first != second
