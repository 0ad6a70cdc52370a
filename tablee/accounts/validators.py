"""Password rule recommended by the CNIL (délibération 2022-100) for a 12-character password:
upper case, lower case, digit and special character."""

from django.core.exceptions import ValidationError


class CnilCompositionValidator:
    def validate(self, password, user=None):
        checks = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if not all(checks):
            raise ValidationError(
                "Le mot de passe doit contenir au moins une minuscule, une majuscule, un chiffre "
                "et un caractère spécial.",
                code="password_composition",
            )

    def get_help_text(self):
        return (
            "Votre mot de passe doit contenir au moins une minuscule, une majuscule, un chiffre et "
            "un caractère spécial."
        )
