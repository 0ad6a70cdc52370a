"""What the seed and the runner share: the scales, the database of each scale, Django's setup.

The benchmarks never touch the development database: unless ``--database-url`` is given, each
scale has its own SQLite file, ``var/bench-<scale>.sqlite3``.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


@dataclass(frozen=True)
class Scale:
    name: str
    seed: int  # of random.Random: the same scale always gets the same rows
    epci: int  # EPCI in programmes (the demonstration programme's six included)
    programmes: int  # programmes besides the demonstration programme
    structures: int  # total, the demonstration directory included
    services_per_structure: float
    # Régions the EPCI are drawn from (None: all of France).
    regions: tuple[str, ...] | None


SCALES = {
    "association": Scale("association", 2024, 6, 0, 300, 1.5, None),
    # Bretagne (53) and Pays de la Loire (52).
    "region": Scale("region", 2025, 60, 9, 10_000, 1.5, ("53", "52")),
    "national": Scale("national", 2026, 1254, 499, 100_000, 1.5, None),
}
SCALE_ORDER = ["association", "region", "national"]


def sqlite_path(scale: str) -> Path:
    return VAR / f"bench-{scale}.sqlite3"


def configure_environment(scale: str, database_url: str | None = None) -> dict[str, str]:
    """Point Django at the benchmark database of ``scale``; returns the variables set, so that
    subprocesses (the import command, gunicorn) get the same ones."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Measured as in production: no debug toolbar, no query log.
        "TABLEE_DEBUG": "0",
        "TABLEE_LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        # A DATABASE_URL of the shell (the development PostgreSQL) must not be written to.
        os.environ.pop("DATABASE_URL", None)
        env["TABLEE_SQLITE_PATH"] = str(sqlite_path(scale))
    os.environ.update(env)
    return env


def setup_django(scale: str, database_url: str | None = None, *, migrate: bool = True) -> dict:
    """Configure, ``django.setup()`` and (by default) migrate the benchmark database."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    env = configure_environment(scale, database_url)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return env


def subprocess_env(env: dict[str, str]) -> dict[str, str]:
    """The current environment with the benchmark's variables, for child processes."""
    merged = {**os.environ, **env}
    if "DATABASE_URL" not in env:
        merged.pop("DATABASE_URL", None)
    return merged
