"""Tablée settings: one file, read from environment variables.

Every variable is listed in the README. The helpers below fail loudly on a bad value, so a
misconfigured server refuses to start instead of running with a surprising default.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"La variable d'environnement {name} est obligatoire.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on", "oui"}:
        return True
    if lowered in {"0", "false", "no", "off", "non"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} : valeur attendue true ou false.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} : un nombre entier est attendu.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("TABLEE_DEBUG", False)
# A development-only default: production sets TABLEE_SECRET_KEY, and check --deploy refuses this one.
SECRET_KEY = env_str("TABLEE_SECRET_KEY", "django-insecure-dev-only-key-change-me")
ALLOWED_HOSTS = env_list("TABLEE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("TABLEE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "simple_history",
    "tablee.core",
    "tablee.accounts",
    "tablee.territories",
    "tablee.directory",
    "tablee.diagnostic",
    "tablee.plans",
    "tablee.activities",
    "tablee.network",
    "tablee.reports",
    "tablee.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must come last so that it sees the outcome of the authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tablee" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "tablee.core.context_processors.tablee",
            ],
        },
    },
]

# SQLite by default (one association, one machine); PostgreSQL when DATABASE_URL is set.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    SQLITE_PATH = Path(env_str("TABLEE_SQLITE_PATH", str(BASE_DIR / "var" / "tablee.sqlite3")))
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "tablee.accounts.validators.CnilCompositionValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3  # an invitation link stays valid three days

# django-axes: five failures lock the username and IP address together for fifteen minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The sign-in form names its e-mail field "username" (AuthenticationForm); axes would read "email".
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("TABLEE_PROXY_COUNT", 0)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("TABLEE_STATIC_ROOT", str(BASE_DIR / "var" / "static")))
# tablee/ is a package, not an app: the finders only see its static folder when it is listed here.
STATICFILES_DIRS = [BASE_DIR / "tablee" / "static"]
MEDIA_ROOT = Path(env_str("TABLEE_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "media/"
# Production runs `collectstatic` and sets TABLEE_MANIFEST_STATIC=true (hashed, compressed files);
# elsewhere files are served straight from the app folders, without a build step.
MANIFEST_STATIC = env_bool("TABLEE_MANIFEST_STATIC", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if MANIFEST_STATIC
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not MANIFEST_STATIC
if not MANIFEST_STATIC:
    # WhiteNoise warns at start-up when STATIC_ROOT is missing, as in a fresh clone where
    # collectstatic never ran; files are served from the app folders then, so an empty one does.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = DEBUG

# E-mail: printed on the console unless an SMTP host is configured.
EMAIL_HOST = env_str("TABLEE_EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("TABLEE_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("TABLEE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("TABLEE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TABLEE_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("TABLEE_FROM_EMAIL", "Tablée <ne-pas-repondre@tablee.localhost>")

# Map tiles: OpenStreetMap by default; a self-hosted or commercial tile server can replace it.
MAP_TILE_URL = env_str("TABLEE_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env_str("TABLEE_MAP_TILE_ATTRIBUTION", "© les contributeurs d’OpenStreetMap")
# Geocoding: off by default (structures go to their commune's centroid, marked approximate).
# Set to the Base Adresse Nationale API, e.g. https://api-adresse.data.gouv.fr, to place addresses.
TABLEE_GEOCODER_URL = env_str("TABLEE_GEOCODER_URL", "")
# Seconds to wait for the geocoder before falling back to the centroid.
TABLEE_GEOCODER_TIMEOUT = env_int("TABLEE_GEOCODER_TIMEOUT", 5)


def _tile_origin(url: str) -> str:
    # "https://tile.openstreetmap.org/{z}/{x}/{y}.png" -> "https://tile.openstreetmap.org"
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else url


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", _tile_origin(MAP_TILE_URL)],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Security headers; the HTTPS ones are switched on with TABLEE_HTTPS in production.
HTTPS = env_bool("TABLEE_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_int("TABLEE_PROXY_COUNT", 0):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 10  # a working day
CSRF_FAILURE_VIEW = "tablee.core.views.csrf_failure"

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Largest accepted upload of indicators, in bytes.
TABLEE_MAX_IMPORT_BYTES = env_int("TABLEE_MAX_IMPORT_BYTES", 10 * 1024 * 1024)
# Largest accepted attachment of a diagnostic meeting (PDF, image, office file), in bytes.
TABLEE_MAX_ATTACHMENT_BYTES = env_int("TABLEE_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
# Largest accepted import of the directory (data·inclusion files, spreadsheets), in bytes; files
# above TABLEE_DIRECTORY_IMPORT_BACKGROUND_BYTES are checked and written by a background task.
TABLEE_MAX_DIRECTORY_IMPORT_BYTES = env_int("TABLEE_MAX_DIRECTORY_IMPORT_BYTES", 50 * 1024 * 1024)
TABLEE_DIRECTORY_IMPORT_BACKGROUND_BYTES = env_int(
    "TABLEE_DIRECTORY_IMPORT_BACKGROUND_BYTES", 1024 * 1024
)

# Background work (imports, large exports): django-tasks with its database backend; run the
# worker with `python manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("TABLEE_LOG_LEVEL", "INFO")},
    # Axes would log usernames (e-mail addresses) on each failure: personal data stays out of logs.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Caches. "default" holds what must be the same for every process of the server: the rate limits
# of the public links and the one-time marks of the anonymous evaluations. By default a table of
# the database (created by a migration of ``core``), shared by every worker process and kept
# across restarts, so that a limit or a « déjà envoyé » holds whichever process answers; a large
# deployment points TABLEE_CACHE_URL at a shared Redis (redis://host:6379/0) to spare the database
# these writes. "local" holds what each process may compute again on its own (drawn charts).
TABLEE_CACHE_URL = env_str("TABLEE_CACHE_URL", "")
CACHE_TABLE = "tablee_cache"
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": TABLEE_CACHE_URL}
        if TABLEE_CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
            # Beyond this many live entries the cache drops a third of them, a mark of an
            # evaluation among them (300 by default: one busy evening of public links).
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    ),
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tablee"},
}
# Public FIES questionnaire: submissions accepted per link and per client (salted hash of the
# address, never the address) within a window of TABLEE_FIES_RATE_WINDOW seconds.
TABLEE_FIES_RATE_PER_LINK = env_int("TABLEE_FIES_RATE_PER_LINK", 30)
TABLEE_FIES_RATE_PER_CLIENT = env_int("TABLEE_FIES_RATE_PER_CLIENT", 5)
TABLEE_FIES_RATE_WINDOW = env_int("TABLEE_FIES_RATE_WINDOW", 600)
# The other public links work the same way: proposals of people concerned (plans), registrations
# and self check-in (activities), evaluation questionnaires of sessions (activities).
TABLEE_PROPOSAL_RATE_PER_LINK = env_int("TABLEE_PROPOSAL_RATE_PER_LINK", 60)
TABLEE_PROPOSAL_RATE_PER_CLIENT = env_int("TABLEE_PROPOSAL_RATE_PER_CLIENT", 10)
TABLEE_PROPOSAL_RATE_WINDOW = env_int("TABLEE_PROPOSAL_RATE_WINDOW", 600)
TABLEE_REGISTRATION_RATE_PER_LINK = env_int("TABLEE_REGISTRATION_RATE_PER_LINK", 30)
TABLEE_REGISTRATION_RATE_PER_CLIENT = env_int("TABLEE_REGISTRATION_RATE_PER_CLIENT", 10)
TABLEE_REGISTRATION_RATE_WINDOW = env_int("TABLEE_REGISTRATION_RATE_WINDOW", 600)
TABLEE_CHECKIN_RATE_PER_LINK = env_int("TABLEE_CHECKIN_RATE_PER_LINK", 300)
TABLEE_CHECKIN_RATE_PER_CLIENT = env_int("TABLEE_CHECKIN_RATE_PER_CLIENT", 40)
TABLEE_CHECKIN_RATE_WINDOW = env_int("TABLEE_CHECKIN_RATE_WINDOW", 600)
TABLEE_EVALUATION_RATE_PER_SESSION = env_int("TABLEE_EVALUATION_RATE_PER_SESSION", 120)
TABLEE_EVALUATION_RATE_PER_CLIENT = env_int("TABLEE_EVALUATION_RATE_PER_CLIENT", 40)
TABLEE_EVALUATION_RATE_WINDOW = env_int("TABLEE_EVALUATION_RATE_WINDOW", 600)
# The public address of the site, for links in e-mails sent outside a request (reminders).
TABLEE_SITE_URL = env_str("TABLEE_SITE_URL", "http://127.0.0.1:8000")
