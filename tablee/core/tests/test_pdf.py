"""PDF rendering with WeasyPrint: a real PDF, static files from the finders, no network."""

import shutil
import subprocess

import pytest

from tablee.core.charts import horizontal_bar_chart, svg_data_uri
from tablee.core.pdf import BASE_URL, LocalURLFetcher, RefusedURL, render_pdf

SMALL_DOCUMENT = """{% load static %}<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Essai</title>
<link rel="stylesheet" href="{% static 'css/synthesis_print.css' %}"></head>
<body><h1>Synthèse d'essai</h1><p>{{ message }}</p>
<img src="{{ chart }}" alt="graphique">
<img src="https://tile.openstreetmap.org/1/1/1.png" alt="tuile">
</body></html>"""


@pytest.fixture
def small_template(tmp_path, settings):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "essai_pdf.html").write_text(SMALL_DOCUMENT, encoding="utf-8")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], folder]}
    ]
    # Django's setting_changed signal resets the template engines.
    return "essai_pdf.html"


def pdftoppm() -> str:
    path = shutil.which("pdftoppm")
    if not path:
        pytest.fail(
            "pdftoppm est introuvable : apt-get install poppler-utils "
            "(pdftoppm not found: apt-get install poppler-utils).",
            pytrace=False,
        )
    return path


def test_a_small_pdf_renders_and_converts_to_an_image(small_template, tmp_path):
    chart = svg_data_uri(horizontal_bar_chart(["a", "b"], [2, 3], title="t", description="d"))

    content = render_pdf(small_template, {"message": "Bonjour Tablée", "chart": chart})

    assert content.startswith(b"%PDF")
    pdf = tmp_path / "essai.pdf"
    pdf.write_bytes(content)
    subprocess.run(
        [pdftoppm(), "-png", "-r", "50", str(pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    assert pages[0].read_bytes().startswith(b"\x89PNG")


def test_the_fetcher_reads_static_files_through_the_finders():
    response = LocalURLFetcher().fetch(BASE_URL + "static/css/synthesis_print.css")

    assert b"@page" in response.read()
    assert response.content_type == "text/css"


@pytest.mark.parametrize(
    "url",
    [
        "https://tile.openstreetmap.org/1/1/1.png",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        BASE_URL + "media/rencontres/secret.pdf",
        BASE_URL + "static/../../config/settings.py",
        BASE_URL + "static/css/absent.css",
    ],
)
def test_the_fetcher_refuses_everything_else(url):
    with pytest.raises(RefusedURL):
        LocalURLFetcher().fetch(url)
