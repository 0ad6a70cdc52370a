"""The BAN geocoder against a local fake of the Base Adresse Nationale API.

The real service (api-adresse.data.gouv.fr) cannot be reached from the test machines, and tests
must not depend on it anyway: ``FakeBan`` is a real HTTP server on 127.0.0.1, on a random port,
in a thread, that answers ``/search/`` the way the BAN does (GeoJSON) or the ways it can fail
(low score, another commune, error 500, too slow, not JSON).
"""

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from tablee.directory import geocoding
from tablee.directory.geocoding import GeoResult, geocode, place
from tablee.directory.models import Structure
from tablee.territories.models import Commune

ADDRESS = "12 rue de la Chesnaie"
LOUDEAC = {"code": "22136", "name": "Loudéac", "latitude": 48.1779, "longitude": -2.7536}
# Where the fake BAN puts the address: a little way from the centroid of the commune.
STREET = (48.1801, -2.7498)


def ban_answer(*, score=0.93, citycode="22136", coordinates=(STREET[1], STREET[0])):
    """A BAN search answer with one feature, trimmed to the fields Tablée reads."""
    return {
        "type": "FeatureCollection",
        "version": "draft",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(coordinates)},
                "properties": {
                    "label": f"{ADDRESS} 22600 Loudéac",
                    "score": score,
                    "citycode": citycode,
                    "postcode": "22600",
                    "type": "housenumber",
                },
            }
        ],
        "query": ADDRESS,
        "limit": 1,
    }


class FakeBan:
    """What the next answers of the fake server are, and the requests it received."""

    def __init__(self):
        self.status = 200
        self.body: bytes = json.dumps(ban_answer()).encode()
        self.delay = 0.0
        self.requests: list[dict] = []

    def answer(self, payload=None, *, status=200, body=None, delay=0.0):
        self.status = status
        self.body = body if body is not None else json.dumps(payload).encode()
        self.delay = delay


def make_handler(fake: FakeBan):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            fake.requests.append({"path": parts.path, "query": parse_qs(parts.query)})
            if fake.delay:
                time.sleep(fake.delay)
            try:
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(fake.body)))
                self.end_headers()
                self.wfile.write(fake.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout test)

        def log_message(self, format, *args):
            pass  # keep the test output clean

    return Handler


@pytest.fixture(scope="module")
def ban_server():
    fake = FakeBan()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _fresh_breaker():
    geocoding.reset_failures()
    yield
    geocoding.reset_failures()


@pytest.fixture
def ban(ban_server, settings):
    """The fake BAN, reset, with the geocoder setting pointing at it."""
    ban_server.answer(ban_answer())
    ban_server.requests.clear()
    settings.TABLEE_GEOCODER_URL = ban_server.url
    settings.TABLEE_GEOCODER_TIMEOUT = 2
    return ban_server


@pytest.fixture
def loudeac():
    return Commune(**LOUDEAC)


@pytest.fixture
def structure(loudeac):
    return SimpleNamespace(address=ADDRESS, postal_code="22600", commune=loudeac)


def test_geocode_reads_the_ban_answer_and_restricts_the_search_to_the_commune(ban, loudeac):
    result = geocode(address=ADDRESS, postal_code="22600", commune=loudeac)

    assert result == GeoResult(lat=STREET[0], lon=STREET[1], score=0.93, citycode="22136")
    [request] = ban.requests
    assert request["path"] == "/search/"
    assert request["query"] == {
        "q": [f"{ADDRESS} 22600 Loudéac"],
        "citycode": ["22136"],
        "limit": ["1"],
    }


def test_geocode_accepts_an_insee_code_for_the_commune(ban):
    result = geocode(address=ADDRESS, postal_code="", commune="22136")

    assert result.score == 0.93
    assert ban.requests[0]["query"]["citycode"] == ["22136"]


def test_place_uses_a_good_ban_answer(ban, structure):
    assert place(structure) == (STREET[0], STREET[1], False)


def test_place_works_with_a_structure(ban, loudeac):
    structure = Structure(name="CCAS de Loudéac", address=ADDRESS, commune=loudeac)

    assert place(structure) == (STREET[0], STREET[1], False)


def test_place_uses_the_centroid_when_the_ban_is_not_sure(ban, structure):
    ban.answer(ban_answer(score=0.42))

    assert place(structure) == (LOUDEAC["latitude"], LOUDEAC["longitude"], True)


def test_place_accepts_a_score_of_exactly_one_half(ban, structure):
    ban.answer(ban_answer(score=0.5))

    assert place(structure) == (STREET[0], STREET[1], False)


def test_place_uses_the_centroid_when_the_ban_answers_in_another_commune(ban, structure):
    ban.answer(ban_answer(citycode="22278"))

    assert place(structure) == (LOUDEAC["latitude"], LOUDEAC["longitude"], True)


def test_place_uses_the_centroid_when_the_ban_finds_nothing(ban, structure, caplog):
    ban.answer({"type": "FeatureCollection", "features": []})

    assert geocode(address=ADDRESS, postal_code="22600", commune=structure.commune) is None
    assert place(structure) == (LOUDEAC["latitude"], LOUDEAC["longitude"], True)
    assert caplog.records == []  # an unknown address is not an incident


@pytest.mark.parametrize(
    ("failure", "logged"),
    [
        ({"status": 500, "body": b"Internal Server Error"}, "réponse HTTP 500"),
        ({"status": 503, "body": b""}, "réponse HTTP 503"),
        ({"body": b"<html>Maintenance</html>"}, "réponse illisible"),
        ({"body": b'{"features": [{"geometry": null}]}'}, "réponse inattendue"),
        ({"body": b'{"features": [{"geometry": {"coordinates": [0, 95]}}]}'}, "hors limites"),
    ],
)
def test_place_survives_a_failing_ban_and_logs_without_the_address(
    ban, structure, caplog, failure, logged
):
    ban.answer(**failure)

    with caplog.at_level(logging.WARNING, logger="tablee.directory.geocoding"):
        assert place(structure) == (LOUDEAC["latitude"], LOUDEAC["longitude"], True)

    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert logged in record.getMessage()
    assert "Chesnaie" not in record.getMessage()


def test_place_gives_up_when_the_ban_is_too_slow(ban, structure, settings, caplog):
    settings.TABLEE_GEOCODER_TIMEOUT = 0.2
    ban.answer(ban_answer(), delay=1.0)

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="tablee.directory.geocoding"):
        assert place(structure) == (LOUDEAC["latitude"], LOUDEAC["longitude"], True)

    # The fallback does not wait for the slow answer (a generous bound: no timing is measured).
    assert time.monotonic() - started < 0.9
    [record] = caplog.records
    assert "injoignable" in record.getMessage()
    assert "Chesnaie" not in record.getMessage()


def test_place_survives_a_ban_that_cannot_be_reached(structure, settings, caplog):
    # A port nobody listens on: bind, note the port, close.
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    settings.TABLEE_GEOCODER_URL = f"http://127.0.0.1:{port}"

    with caplog.at_level(logging.WARNING, logger="tablee.directory.geocoding"):
        assert place(structure) == (LOUDEAC["latitude"], LOUDEAC["longitude"], True)

    [record] = caplog.records
    assert "injoignable" in record.getMessage()


def test_place_never_asks_the_ban_when_the_setting_is_empty(ban, structure, settings):
    settings.TABLEE_GEOCODER_URL = ""

    assert geocode(address=ADDRESS, postal_code="22600", commune=structure.commune) is None
    assert place(structure) == (LOUDEAC["latitude"], LOUDEAC["longitude"], True)
    assert ban.requests == []


def test_place_refuses_a_geocoder_url_that_is_not_http(structure, settings, caplog):
    settings.TABLEE_GEOCODER_URL = "file:///etc"

    with caplog.at_level(logging.WARNING, logger="tablee.directory.geocoding"):
        assert place(structure) == (LOUDEAC["latitude"], LOUDEAC["longitude"], True)

    assert "http(s)" in caplog.records[0].getMessage()


def test_place_without_an_address_uses_the_centroid_without_asking(ban, structure):
    structure.address = "  "

    assert place(structure) == (LOUDEAC["latitude"], LOUDEAC["longitude"], True)
    assert ban.requests == []


def test_place_without_a_commune_has_no_position(ban):
    service = SimpleNamespace(address=ADDRESS, postal_code="22600", commune=None)

    assert place(service) == (None, None, True)
    assert ban.requests == []  # an answer could not be checked against a commune


def test_place_in_a_commune_without_centroid_has_no_position(settings):
    settings.TABLEE_GEOCODER_URL = ""
    commune = Commune(code="22136", name="Loudéac", latitude=None, longitude=None)
    item = SimpleNamespace(address=ADDRESS, postal_code="22600", commune=commune)

    assert place(item) == (None, None, True)


def test_a_failing_ban_is_paused_so_that_an_import_does_not_wait_on_every_row(
    ban, structure, caplog
):
    ban.answer(status=500, body=b"")

    with caplog.at_level(logging.WARNING, logger="tablee.directory.geocoding"):
        positions = [place(structure) for _ in range(10)]

    assert positions == [(LOUDEAC["latitude"], LOUDEAC["longitude"], True)] * 10
    assert len(ban.requests) == geocoding.FAILURES_BEFORE_PAUSE
    assert "mis en pause" in caplog.records[-1].getMessage()


def test_a_success_resets_the_count_of_failures(ban, structure):
    for _ in range(5):
        ban.answer(status=500, body=b"")
        place(structure)
        place(structure)
        ban.answer(ban_answer())
        assert place(structure) == (STREET[0], STREET[1], False)

    assert len(ban.requests) == 15
