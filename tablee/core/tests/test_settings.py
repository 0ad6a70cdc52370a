"""The production configuration documented in the README passes Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

PRODUCTION_ENV = {
    "TABLEE_SECRET_KEY": "k3y-0f-test-" + "x7Qp2Lm9Zr4Tb8Wv1Ny6Hc3Jd5Gf0Ks" * 2,
    "TABLEE_ALLOWED_HOSTS": "tablee.example.org",
    "TABLEE_CSRF_TRUSTED_ORIGINS": "https://tablee.example.org",
    "TABLEE_HTTPS": "true",
    "TABLEE_MANIFEST_STATIC": "true",
    "TABLEE_DEBUG": "false",
}


def manage(*args, env_overrides=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TABLEE_")}
    env.update(env_overrides or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_with_development_defaults():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr + result.stdout


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("TABLEE_DEBUG", "peut-être", "TABLEE_DEBUG='peut-être'"),
        ("TABLEE_EMAIL_PORT", "vingt-cinq", "un nombre entier est attendu"),
    ],
)
def test_bad_environment_values_stop_the_server_with_a_clear_message(name, value, expected):
    result = manage("check", env_overrides={name: value})
    assert result.returncode != 0
    assert expected in result.stderr


def test_real_settings_hash_passwords_with_argon2():
    # The suite swaps in a fast hasher (conftest.py); the shipped settings must not.
    from config import settings as real_settings

    assert real_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_every_setting_read_from_the_environment_is_documented_in_the_readme():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    settings_text = (root / "config" / "settings.py").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    names = set(re.findall(r'env_\w+\("(TABLEE_[A-Z0-9_]+)"', settings_text))
    assert len(names) > 20
    undocumented = sorted(name for name in names if f"`{name}`" not in readme)
    assert undocumented == []
