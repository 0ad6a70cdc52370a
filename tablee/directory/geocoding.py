"""Placing structures and services on the map.

Tablée must work without network: by default a place without coordinates is put at the centroid
of its commune and marked approximate. When ``TABLEE_GEOCODER_URL`` is set (for instance to
``https://api-adresse.data.gouv.fr``), addresses are first looked up in the Base Adresse Nationale
(BAN) search API:

    GET {TABLEE_GEOCODER_URL}/search/?q=<address>&citycode=<INSEE code>&limit=1

whose GeoJSON answer gives ``features[0].geometry.coordinates`` ([longitude, latitude]) and
``properties.score`` (0 to 1) and ``properties.citycode``. A weak or out-of-commune answer is
not trusted. The geocoder never raises to its caller: a network failure, an error status or an
unreadable answer is logged (without the address) and the centroid is used instead.
"""

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

# Below this BAN score the answer is usually another street or only the commune.
MIN_SCORE = 0.5
# A BAN answer with one feature is a few kilobytes; refuse to read more than this.
MAX_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "Tablee (annuaire des structures)"
# After this many failures in a row the geocoder is left alone for a while: an import of
# thousands of rows must not wait for the timeout on every row while the service is down.
FAILURES_BEFORE_PAUSE = 3
PAUSE_SECONDS = 300


@dataclass(frozen=True)
class GeoResult:
    lat: float
    lon: float
    score: float
    citycode: str = ""


def is_enabled() -> bool:
    """Whether a geocoder is configured (``TABLEE_GEOCODER_URL`` is not empty)."""
    return bool(getattr(settings, "TABLEE_GEOCODER_URL", ""))


def reset_failures() -> None:
    """Forget past failures and end a pause (for tests, and after fixing the configuration)."""
    _breaker.reset()


def geocode(*, address: str, postal_code: str, commune) -> GeoResult | None:
    """Look an address up in the BAN; None when disabled, unreachable or nothing was found.

    ``commune`` is a Commune (or its INSEE code): its code restricts the search and its name
    completes the query. The caller decides whether the result is good enough (see ``place``).
    """
    base = getattr(settings, "TABLEE_GEOCODER_URL", "")
    address = (address or "").strip()
    if not base or not address:
        return None
    citycode = _commune_code(commune)
    query = " ".join(part for part in [address, postal_code or "", _commune_name(commune)] if part)
    params = {"q": query, "limit": 1}
    if citycode:
        params["citycode"] = citycode
    url = f"{base.rstrip('/')}/search/?{urlencode(params)}"
    if urlsplit(url).scheme not in {"http", "https"}:
        logger.warning("Géocodeur ignoré : TABLEE_GEOCODER_URL doit commencer par http(s)://.")
        return None
    if _breaker.is_open():
        return None
    payload = _fetch_json(url)
    if payload is None:
        _breaker.failed()
        return None
    _breaker.succeeded()
    return _first_result(payload)


def place(item) -> tuple[float | None, float | None, bool]:
    """Coordinates for a structure or service (anything with address, postal_code, commune).

    Returns ``(lat, lon, approximate)``: the BAN answer when the geocoder is enabled, its score is
    at least 0.5 and it lies in the right commune; otherwise the commune's centroid, approximate;
    otherwise ``(None, None, True)``.
    """
    commune = getattr(item, "commune", None)
    expected_code = _commune_code(commune)
    # Without a commune an answer cannot be checked (a street name exists in many towns).
    if is_enabled() and expected_code:
        result = geocode(
            address=getattr(item, "address", "") or "",
            postal_code=getattr(item, "postal_code", "") or "",
            commune=commune,
        )
        if result is not None and result.score >= MIN_SCORE and result.citycode == expected_code:
            return result.lat, result.lon, False
    if commune is not None and commune.latitude is not None and commune.longitude is not None:
        return commune.latitude, commune.longitude, True
    return None, None, True


class _CircuitBreaker:
    """Counts failures in a row; after too many, refuses calls until a pause has passed."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._failures = 0
        self._paused_until = 0.0

    def is_open(self) -> bool:
        with self._lock:
            return time.monotonic() < self._paused_until

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= FAILURES_BEFORE_PAUSE:
                self._failures = 0
                self._paused_until = time.monotonic() + PAUSE_SECONDS
                logger.warning(
                    "Géocodeur mis en pause %s s après %s échecs de suite.",
                    PAUSE_SECONDS,
                    FAILURES_BEFORE_PAUSE,
                )

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0


_breaker = _CircuitBreaker()


def _commune_code(commune) -> str:
    if commune is None:
        return ""
    return str(getattr(commune, "code", commune))


def _commune_name(commune) -> str:
    return getattr(commune, "name", "") if commune is not None else ""


def _fetch_json(url: str):
    timeout = getattr(settings, "TABLEE_GEOCODER_TIMEOUT", 5)
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        logger.warning("Géocodeur indisponible : réponse HTTP %s.", exc.code)
        return None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        # The message of these errors may repeat the URL, hence the address: only the kind.
        logger.warning("Géocodeur injoignable (%s).", type(exc).__name__)
        return None
    if len(body) > MAX_RESPONSE_BYTES:
        logger.warning("Géocodeur ignoré : réponse trop volumineuse.")
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        logger.warning("Géocodeur ignoré : réponse illisible (JSON attendu).")
        return None


def _first_result(payload) -> GeoResult | None:
    try:
        feature = payload["features"][0]
        lon, lat = feature["geometry"]["coordinates"][:2]
        properties = feature.get("properties") or {}
        result = GeoResult(
            lat=float(lat),
            lon=float(lon),
            score=float(properties.get("score", 0)),
            citycode=str(properties.get("citycode", "")),
        )
    except IndexError:
        return None  # nothing found: not worth a warning
    except (KeyError, TypeError, ValueError, AttributeError):
        logger.warning("Géocodeur ignoré : réponse inattendue (GeoJSON attendu).")
        return None
    if not (-90 <= result.lat <= 90 and -180 <= result.lon <= 180):
        logger.warning("Géocodeur ignoré : coordonnées hors limites.")
        return None
    return result
