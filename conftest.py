"""Settings shared by the whole suite: a fast password hasher and strict templates."""

import pytest


class InvalidTemplateVariable(str):
    """Makes an unknown template variable fail the test instead of rendering as empty."""

    def __mod__(self, name):
        raise AssertionError(f"Variable de gabarit inconnue : {name}")

    def __bool__(self):
        # Django tests `if string_if_invalid:` before formatting; keep it truthy.
        return True


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path_factory):
    # Files written by a test (attachments, generated reports) never land in the real var/media.
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = InvalidTemplateVariable("%s")
