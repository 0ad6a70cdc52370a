"""PDF documents from HTML templates, with WeasyPrint, without any network access.

Static files (stylesheets, images) are read through Django's staticfiles finders, so a PDF renders
the same before and after ``collectstatic``. Every other URL is refused: a PDF never fetches map
tiles or anything else from the internet, and a URL slipped into a text field cannot make the
server call out. ``data:`` URIs (the SVG charts) are read in place.
"""

import mimetypes
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# The documents' base URL: relative and root-relative links resolve under it, and only URLs under
# it (or data: URIs) are ever read.
BASE_URL = "https://tablee.invalid/"


class RefusedURL(ValueError):
    """A PDF asked for a URL outside the project's static files."""


class LocalURLFetcher(URLFetcher):
    """Serve the project's static files and data: URIs; refuse everything else."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        static_prefix = BASE_URL + settings.STATIC_URL.lstrip("/")
        if not url.startswith(static_prefix):
            raise RefusedURL(f"URL refusée dans un PDF : {url[:100]}")
        relative = unquote(urlsplit(url).path).removeprefix(urlsplit(static_prefix).path)
        if ".." in relative.split("/"):
            raise RefusedURL(f"URL refusée dans un PDF : {url[:100]}")
        path = finders.find(relative)
        if not path:
            raise RefusedURL(f"Fichier statique introuvable : {relative[:100]}")
        with open(path, "rb") as file:
            body = file.read()
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": content_type})


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """Render ``template_name`` with ``context`` and return the PDF's bytes."""
    html = render_to_string(template_name, context, request=request)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=LocalURLFetcher())
    return document.write_pdf()
