"""What the default cache holds, read from its table of the database (``CACHE_TABLE``)."""

import base64
import pickle

from django.conf import settings
from django.db import connection


def cached_entries() -> list[tuple[str, object]]:
    """Every (key, value) of the default cache, values unpickled as the cache stores them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key, value FROM {settings.CACHE_TABLE}")
        rows = cursor.fetchall()
    return [(key, pickle.loads(base64.b64decode(value))) for key, value in rows]
