"""Checking and normalising the identifiers and contact details of a structure.

Values come from forms and from imported files, where Excel has often turned numbers into floats:
a SIRET becomes ``6.0487647500499E13`` and a postcode ``59260.0``. Each function accepts those
forms, returns the canonical text stored in the database ("" for an empty value), and otherwise
raises ``ValidationError`` with a French message quoting the value, so that an import can name
the faulty cell and a form can show it under the field.
"""

import re
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from phonenumbers import PhoneNumberFormat

# Spaces found inside numbers typed or pasted by people (ordinary, no-break, narrow no-break).
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009._-]")
# French overseas departments and territories have their own calling codes, but people write
# their numbers in the national form ("0262 12 34 56"), which does not parse as metropolitan.
OVERSEAS_REGIONS = ["RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF", "NC", "PF", "WF"]
FRENCH_REGIONS = {"FR", *OVERSEAS_REGIONS}
_URL_VALIDATOR = URLValidator(schemes=["http", "https"])
_EMAIL_VALIDATOR = EmailValidator()
# The usual web and e-mail addresses, recognised without Django's validators (several times
# slower; an import checks one of each per row). Each pattern accepts a part only of what the
# validator accepts (plain ASCII names); anything else goes through the validator.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_HOST = rf"{_LABEL}(?:\.{_LABEL})*\.[a-z]{{2,63}}"
_PLAIN_URL = re.compile(rf"https?://{_PLAIN_HOST}(?:[/?#][^\s]*)?", re.IGNORECASE)
_PLAIN_EMAIL = re.compile(rf"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@{_PLAIN_HOST}")
# Luhn's doubled digits (2 × 7 = 14 counts 1 + 4 = 5).
_DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]


def normalize_siret(value) -> str:
    """Return the 14 digits of a SIRET, or raise ValidationError.

    Accepts ``"123 456 789 00012"``, ``12345678900012``, ``"12345678900012.0"`` and the
    scientific notation Excel writes (``"1.2345678900012E13"``). The check digit is verified as
    python-stdnum does (with the exception of La Poste's establishments).
    """
    if _is_empty(value):
        return ""
    digits = _number_text(value)
    if digits is not None and _came_from_a_number(value) and len(digits) == 13:
        # A SIREN starting with 0 loses its leading zero in a spreadsheet number cell.
        digits = digits.zfill(14)
    shown = _shown(value)
    if digits is None or len(digits) != 14:
        raise ValidationError(
            "SIRET invalide : « %(value)s ». Un SIRET compte 14 chiffres (9 du SIREN, 5 de "
            "l'établissement).",
            code="siret_length",
            params={"value": shown},
        )
    if not _siret_is_valid(digits):
        raise ValidationError(
            "SIRET invalide : « %(value)s ». La clé de contrôle ne correspond pas : vérifiez le "
            "numéro sur annuaire-entreprises.data.gouv.fr.",
            code="siret_checksum",
            params={"value": shown},
        )
    return digits


def _siret_is_valid(digits: str) -> bool:
    """python-stdnum's verdict on 14 digits (``stdnum.fr.siret.is_valid``), computed directly:
    the Luhn key of the SIRET and of its SIREN, except La Poste's establishments, whose digits
    add up to a multiple of 5."""
    if not digits.isascii():
        return False
    if digits.startswith("356000000") and digits != "35600000000048":
        if sum(map(int, digits)) % 5:
            return False
    elif not _luhn(digits):
        return False
    return _luhn(digits[:9])


def _luhn(digits: str) -> bool:
    total = sum(map(int, digits[-1::-2])) + sum(_DOUBLED[int(d)] for d in digits[-2::-2])
    return total % 10 == 0


def normalize_postal_code(value) -> str:
    """Return a five-digit French postcode: ``"59260.0"`` -> ``"59260"``, ``1000`` -> ``"01000"``."""
    if _is_empty(value):
        return ""
    digits = _number_text(value)
    if digits is not None and len(digits) == 4:
        # Postcodes of Ain, Aisne, Allier... lose their leading zero in a number cell.
        digits = digits.zfill(5)
    if digits is None or len(digits) != 5 or digits.startswith("00"):
        raise ValidationError(
            "Code postal invalide : « %(value)s ». Un code postal compte 5 chiffres, "
            "par exemple « 22600 ».",
            code="invalid_postal_code",
            params={"value": _shown(value)},
        )
    return digits


def normalize_phone(value) -> str:
    """Return a phone number as people read it, or raise ValidationError.

    French numbers (metropolitan and overseas) in the national form, ``"02 96 00 00 00"``; others
    in the international form, ``"+32 2 555 12 12"``. Short numbers such as 115 are kept as typed.
    """
    if _is_empty(value):
        return ""
    text = _shown(value).strip()
    number_text = _number_text(value) if _came_from_a_number(value) else None
    if number_text is not None:
        # A number cell lost the leading zero: 296000000 -> 0296000000.
        text = number_text if len(number_text) != 9 else f"0{number_text}"
    compact = _SPACES.sub("", text)
    if compact.isdigit() and len(compact) <= 6:
        if phonenumbers.is_valid_short_number(phonenumbers.parse(compact, "FR")):
            return compact
    number = _parse_phone(text)
    if number is None:
        raise ValidationError(
            "Numéro de téléphone invalide : « %(value)s ». Exemple : « 02 96 00 00 00 » ou, "
            "hors de France, « +32 2 555 12 12 ».",
            code="invalid_phone",
            params={"value": _shown(value)},
        )
    if phonenumbers.region_code_for_number(number) in FRENCH_REGIONS:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def normalize_url(value) -> str:
    """Return a web address with its scheme (``https://`` is added when missing)."""
    if _is_empty(value):
        return ""
    text = str(value).strip()
    url = text if "://" in text else f"https://{text}"
    if len(url) <= 253 and _PLAIN_URL.fullmatch(url):
        return url
    try:
        _URL_VALIDATOR(url)
    except ValidationError:
        raise ValidationError(
            "Adresse web invalide : « %(value)s ». Exemple : « https://www.exemple.fr ».",
            code="invalid_url",
            params={"value": text},
        ) from None
    return url


def normalize_email(value) -> str:
    """Return an e-mail address in lower case, or raise ValidationError."""
    if _is_empty(value):
        return ""
    text = str(value).strip()
    email = text.removeprefix("mailto:").lower()
    if len(email) <= 254 and _PLAIN_EMAIL.fullmatch(email):
        return email
    try:
        _EMAIL_VALIDATOR(email)
    except ValidationError:
        raise ValidationError(
            "Adresse e-mail invalide : « %(value)s ». Exemple : « accueil@exemple.fr ».",
            code="invalid_email",
            params={"value": text},
        ) from None
    return email


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value) -> str:
    """The value as the user typed or the spreadsheet stored it, for error messages."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _came_from_a_number(value) -> bool:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return True
    text = str(value).strip()
    return "." in text or "e" in text.lower()


def _number_text(value) -> str | None:
    """The digits of a whole number written any way a spreadsheet may write it, else None.

    "123 456 789 00012", 12345678900012, "12345678900012.0", "1.2345678900012E13" all give
    "12345678900012"; "12.5", "abc" and negative numbers give None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, float | Decimal):
        text = repr(value) if isinstance(value, float) else str(value)
    else:
        text = str(value).strip()
    compact = re.sub(r"[\s\u00a0\u202f\u2009]", "", text)
    if compact.isdigit():
        return compact
    if not re.fullmatch(r"\d+(?:[.,]\d+)?(?:[eE][+]?\d{1,2})?|\d+[.,]", compact):
        return None
    try:
        number = Decimal(compact.replace(",", ".").rstrip("."))
    except InvalidOperation:
        return None
    if number != number.to_integral_value():
        return None
    return str(int(number))


def _parse_phone(text: str):
    for region in ["FR", *OVERSEAS_REGIONS]:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number):
            return number
        if text.lstrip().startswith(("+", "00")):
            return None  # an international number names its own country: no other guess
    return None
