"""Slowing floods down on the public links (questionnaires, proposals, registrations, check-in).

Nothing about the person is kept: the client is known by a salted hash of its address that lives a
few minutes in the cache, never by the address. The counters live in the cache: a table of the
database by default (shared by the server's worker processes), a shared Redis when TABLEE_CACHE_URL
is set.
"""

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry written by our own
    proxies when TABLEE_PROXY_COUNT says there are some (as axes reads it)."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def client_key(request, purpose: str = "tablee.fies.client") -> str:
    """A salted hash of the client's address: a cache key that does not hold the address."""
    return salted_hmac(purpose, client_ip(request)).hexdigest()[:32]


def within(key: str, limit: int, window: int) -> bool:
    """Count one more hit on ``key`` in a fixed window of ``window`` seconds; False past
    ``limit`` hits."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit
