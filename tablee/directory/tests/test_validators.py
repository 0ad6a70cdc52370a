from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import luhn

from tablee.directory.validators import (
    normalize_email,
    normalize_phone,
    normalize_postal_code,
    normalize_siret,
    normalize_url,
)

# A valid SIRET, and one whose SIREN starts with a zero.
SIRET = "73282932000074"
SIRET_LEADING_ZERO = "05520135400010"


def message_of(function, value) -> str:
    with pytest.raises(ValidationError) as caught:
        function(value)
    [message] = caught.value.messages
    return message


@pytest.mark.parametrize(
    "typed",
    [
        SIRET,
        "732 829 320 00074",
        "732\u00a0829\u00a0320\u00a000074",
        " 73282932000074 ",
        73282932000074,
        73282932000074.0,
        Decimal("73282932000074"),
        "73282932000074.0",
        "73282932000074,0",
        "7.3282932000074E13",
        "7,3282932000074E+13",
    ],
)
def test_normalize_siret_accepts_what_people_and_excel_write(typed):
    assert normalize_siret(typed) == SIRET


def test_normalize_siret_puts_back_the_leading_zero_a_number_cell_lost():
    assert normalize_siret(5520135400010) == SIRET_LEADING_ZERO
    assert normalize_siret("5.52013540001E12") == SIRET_LEADING_ZERO
    assert normalize_siret(SIRET_LEADING_ZERO) == SIRET_LEADING_ZERO


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_normalize_siret_of_nothing_is_empty(empty):
    assert normalize_siret(empty) == ""


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("123", "123"),
        ("732829320", "732829320"),  # a SIREN is not enough
        ("7328293200007", "7328293200007"),  # 13 digits typed as text: nothing was lost
        ("732829320000745", "732829320000745"),
        ("7328293200007A", "7328293200007A"),
        ("abc", "abc"),
        ("73282932000074.5", "73282932000074.5"),
        (-73282932000074, "-73282932000074"),
    ],
)
def test_normalize_siret_refuses_a_wrong_length_quoting_the_value(typed, shown):
    message = message_of(normalize_siret, typed)

    assert message == (
        f"SIRET invalide : « {shown} ». Un SIRET compte 14 chiffres (9 du SIREN, 5 de "
        "l'établissement)."
    )


@pytest.mark.parametrize("typed", ["73282932000075", "732 829 320 00075", 73282932000075.0])
def test_normalize_siret_refuses_a_wrong_check_digit(typed):
    message = message_of(normalize_siret, typed)

    assert message.startswith("SIRET invalide : « 73")
    assert "clé de contrôle" in message


@given(
    siren_start=st.text(alphabet="0123456789", min_size=8, max_size=8).filter(
        lambda digits: digits[0] != "0"
    ),
    nic_start=st.text(alphabet="0123456789", min_size=4, max_size=4),
    layout=st.sampled_from(["plain", "spaced", "int", "float_text", "exponent", "float"]),
)
def test_normalize_siret_round_trips_any_valid_siret(siren_start, nic_start, layout):
    # A valid SIRET: a SIREN with its Luhn key, then the establishment number and the Luhn key
    # of the whole (La Poste's establishments follow another rule, tested by python-stdnum).
    siren = siren_start + luhn.calc_check_digit(siren_start)
    siret = siren + nic_start + luhn.calc_check_digit(siren + nic_start)
    assume(siren != "356000000")
    typed = {
        "plain": siret,
        "spaced": f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}",
        "int": int(siret),
        "float_text": f"{int(siret)}.0",
        "exponent": f"{int(siret):.13E}",
        "float": float(siret),
    }[layout]

    assert normalize_siret(typed) == siret


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("22600", "22600"),
        ("59260.0", "59260"),
        (59260.0, "59260"),
        (59260, "59260"),
        (1000, "01000"),
        ("1000", "01000"),
        ("01000", "01000"),
        (" 59 260 ", "59260"),
        ("97400", "97400"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_postal_code(typed, stored):
    assert normalize_postal_code(typed) == stored


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("123", "123"),
        ("225600", "225600"),
        ("2A004", "2A004"),
        ("59260.5", "59260.5"),
        ("00100", "00100"),
        ("Loudéac", "Loudéac"),
    ],
)
def test_normalize_postal_code_refuses_quoting_the_value(typed, shown):
    message = message_of(normalize_postal_code, typed)

    assert message == (
        f"Code postal invalide : « {shown} ». Un code postal compte 5 chiffres, "
        "par exemple « 22600 »."
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0296000000", "02 96 00 00 00"),
        ("02 96 00 00 00", "02 96 00 00 00"),
        ("02.96.00.00.00", "02 96 00 00 00"),
        ("02-96-00-00-00", "02 96 00 00 00"),
        ("+33 2 96 00 00 00", "02 96 00 00 00"),
        ("+33 (0)2 96 00 00 00", "02 96 00 00 00"),
        ("0033 2 96 00 00 00", "02 96 00 00 00"),
        ("06 12 34 56 78", "06 12 34 56 78"),
        (296000000, "02 96 00 00 00"),  # Excel dropped the leading zero
        ("296000000.0", "02 96 00 00 00"),
        ("0262 12 34 56", "0262 12 34 56"),  # La Réunion
        ("0590 12 34 56", "0590 12 34 56"),  # Guadeloupe
        ("+262 262 12 34 56", "0262 12 34 56"),
        ("+32 2 555 12 12", "+32 2 555 12 12"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("115", "115"),  # SAMU social
        ("3919", "3919"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_phone(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize(
    "typed", ["12", "abc", "02 96 00 00", "+33 1", "02 96 00 00 00 00 00", "+999 123 456"]
)
def test_normalize_phone_refuses_quoting_the_value(typed):
    message = message_of(normalize_phone, typed)

    assert message == (
        f"Numéro de téléphone invalide : « {typed} ». Exemple : « 02 96 00 00 00 » ou, "
        "hors de France, « +32 2 555 12 12 »."
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://www.ccas-loudeac.fr", "https://www.ccas-loudeac.fr"),
        ("http://ccas.fr/horaires?jour=lundi", "http://ccas.fr/horaires?jour=lundi"),
        ("www.ccas-loudeac.fr", "https://www.ccas-loudeac.fr"),
        ("ccas-loudeac.fr/contact", "https://ccas-loudeac.fr/contact"),
        ("  https://exemple.fr  ", "https://exemple.fr"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_url(typed, stored):
    assert normalize_url(typed) == stored


@pytest.mark.parametrize(
    "typed", ["pas une adresse", "ccas", "https://", "ftp://exemple.fr", "javascript:alert(1)"]
)
def test_normalize_url_refuses_quoting_the_value(typed):
    message = message_of(normalize_url, typed)

    assert message == (f"Adresse web invalide : « {typed} ». Exemple : « https://www.exemple.fr ».")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("accueil@ccas.fr", "accueil@ccas.fr"),
        ("Accueil@CCAS-Loudeac.FR", "accueil@ccas-loudeac.fr"),
        ("  contact@exemple.fr ", "contact@exemple.fr"),
        ("mailto:contact@exemple.fr", "contact@exemple.fr"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_email(typed, stored):
    assert normalize_email(typed) == stored


@pytest.mark.parametrize("typed", ["pas un e-mail", "accueil@", "accueil@ccas", "@ccas.fr"])
def test_normalize_email_refuses_quoting_the_value(typed):
    message = message_of(normalize_email, typed)

    assert message == f"Adresse e-mail invalide : « {typed} ». Exemple : « accueil@exemple.fr »."


# The quick paths give the verdicts of the libraries they stand in for.


@given(st.from_regex(r"(356000000|[0-9]{9})[0-9]{5}", fullmatch=True))
def test_siret_check_digit_is_stdnums(digits):
    from stdnum.fr import siret

    from tablee.directory.validators import _siret_is_valid

    assert _siret_is_valid(digits) == siret.is_valid(digits)


def test_siret_check_digit_of_la_poste():
    from tablee.directory.validators import _siret_is_valid

    assert _siret_is_valid("35600000000048")  # the head office: Luhn
    assert _siret_is_valid("35600000012346")  # digits adding up to 30: a multiple of 5
    assert not _siret_is_valid("35600000012345")
    assert not _siret_is_valid("7328293200007\u0664")  # not ASCII digits


ADDRESS_PARTS = st.sampled_from(
    ["a", "z", "0", "-", ".", "_", "+", "%", "@", "/", "?", "#", ":", " ", "é", "xn--", "fr"]
)


@given(st.lists(ADDRESS_PARTS, max_size=14).map("".join))
def test_quick_email_check_accepts_only_what_django_accepts(text):
    from django.core.validators import validate_email

    from tablee.directory.validators import _PLAIN_EMAIL

    if _PLAIN_EMAIL.fullmatch(text):
        validate_email(text)


@pytest.mark.parametrize(
    "typed",
    ["accueil@ccas.fr", "a.b-c+d@sous.domaine-x.fr", "x_y%z@a1.b2.org", "a@b.co"],
)
def test_quick_email_check_knows_the_usual_addresses(typed):
    from tablee.directory.validators import _PLAIN_EMAIL

    assert _PLAIN_EMAIL.fullmatch(typed)


@given(st.lists(ADDRESS_PARTS, max_size=14).map(lambda parts: "https://" + "".join(parts)))
def test_quick_url_check_accepts_only_what_django_accepts(text):
    from tablee.directory.validators import _PLAIN_URL, _URL_VALIDATOR

    if _PLAIN_URL.fullmatch(text):
        _URL_VALIDATOR(text)


@pytest.mark.parametrize(
    "typed",
    ["https://www.ccas-loudeac.fr", "http://ccas.fr/horaires?jour=lundi", "https://a.fr#x"],
)
def test_quick_url_check_knows_the_usual_addresses(typed):
    from tablee.directory.validators import _PLAIN_URL

    assert _PLAIN_URL.fullmatch(typed)
