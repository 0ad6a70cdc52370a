import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from tablee.directory.hours import (
    describe_opening_hours,
    is_open_on,
    open_weekdays,
    validate_opening_hours,
)

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Mo-Fr 09:00-12:00,14:00-17:00", "Mo-Fr 09:00-12:00,14:00-17:00"),
        ("  Mo-Fr   09:00-12:00  ", "Mo-Fr 09:00-12:00"),
        ("mo-fr 9:00-12:00", "Mo-Fr 09:00-12:00"),
        ("Mo-Fr 08:30-12:30; PH off", "Mo-Fr 08:30-12:30; PH closed"),
        ("Mo-Su 00:00-24:00", "24/7"),
        ("24/7", "24/7"),
        ("", ""),
        (None, ""),
    ],
)
def test_validate_opening_hours_returns_the_normalised_expression(typed, stored):
    assert validate_opening_hours(typed) == stored


@pytest.mark.parametrize(
    "typed", ["Lu 9h-12h", "du lundi au vendredi", "Mo-Fr 9h-12h", "Mo-Fr 25:00-26:00x", "24/24"]
)
def test_validate_opening_hours_refuses_other_syntaxes_quoting_the_value(typed):
    with pytest.raises(ValidationError) as caught:
        validate_opening_hours(typed)

    message = caught.value.messages[0]
    assert f"« {typed} »" in message
    assert message.startswith("Horaires illisibles")
    assert "« Mo-Fr 09:00-12:00,14:00-17:00 »" in message


def test_validate_opening_hours_gives_the_exact_french_message():
    with pytest.raises(ValidationError) as caught:
        validate_opening_hours("Lu 9h-12h")

    assert caught.value.messages == [
        "Horaires illisibles : « Lu 9h-12h ». Utilisez la syntaxe OpenStreetMap, par exemple "
        "« Mo-Fr 09:00-12:00,14:00-17:00 »."
    ]


def test_validate_opening_hours_refuses_a_value_longer_than_the_field():
    too_long = "; ".join(["Mo 09:00-10:00"] * 40)

    with pytest.raises(ValidationError) as caught:
        validate_opening_hours(too_long)

    assert "Horaires trop longs" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("expression", "lines"),
    [
        (
            "Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:00",
            [
                "lundi au vendredi : 9 h–12 h, 14 h–17 h",
                "samedi : 10 h–12 h",
                "dimanche : fermé",
            ],
        ),
        ("24/7", ["tous les jours, 24 h sur 24"]),
        ("Mo-Su 00:00-24:00", ["tous les jours, 24 h sur 24"]),
        ("off", ["fermé tous les jours"]),
        ("Mo-Su 10:00-18:00", ["tous les jours : 10 h–18 h"]),
        (
            "Mo-Fr 08:30-12:30; PH off",
            [
                "lundi au vendredi : 8 h 30–12 h 30",
                "samedi et dimanche : fermé",
                "fermé les jours fériés",
            ],
        ),
        (
            "Mo-Fr 09:00-17:00; PH 10:00-12:00",
            [
                "lundi au vendredi : 9 h–17 h",
                "samedi et dimanche : fermé",
                "jours fériés : 10 h–12 h",
            ],
        ),
        (
            "Mo-We,Fr 09:30-12:00",
            [
                "lundi au mercredi et vendredi : 9 h 30–12 h",
                "jeudi, samedi et dimanche : fermé",
            ],
        ),
        (
            "Tu,Th 14:00-16:00",
            ["mardi et jeudi : 14 h–16 h", "lundi, mercredi et vendredi au dimanche : fermé"],
        ),
        # A night shelter: the night is shown on the evening it starts.
        ("Mo-Su 19:00-08:00", ["tous les jours : 19 h–8 h"]),
        ("Su 22:00-02:00", ["dimanche : 22 h–2 h", "lundi au samedi : fermé"]),
        ("24/7; Su closed", ["lundi au samedi : 24 h sur 24", "dimanche : fermé"]),
        (
            'We 14:00-17:00 "sur rendez-vous"',
            [
                "mercredi : 14 h–17 h (sur rendez-vous)",
                "lundi, mardi et jeudi au dimanche : fermé",
            ],
        ),
    ],
)
def test_describe_opening_hours_in_plain_french(expression, lines):
    assert describe_opening_hours(expression) == lines


@pytest.mark.parametrize(
    "expression",
    [
        "Jul-Aug Sa 10:00-12:00",  # seasonal
        "week 1-53/2 Mo 10:00-12:00",  # every other week
        "Mo-Fr 09:00-12:00; Dec 25 off",  # a date, not every public holiday
        "sunrise-sunset",  # changes every day
        "Mo-Fr 18:00+",  # closing time unknown
        "Lu 9h-12h",  # unreadable
    ],
)
def test_describe_opening_hours_shows_what_a_week_cannot_express_as_written(expression):
    assert describe_opening_hours(expression) == [f"Horaires : {expression}"]


def test_describe_opening_hours_of_nothing_is_nothing():
    assert describe_opening_hours("") == []
    assert describe_opening_hours(None) == []


def test_describe_opening_hours_returns_a_fresh_list_each_time():
    first = describe_opening_hours("24/7")
    first.append("modifié par l'appelant")

    assert describe_opening_hours("24/7") == ["tous les jours, 24 h sur 24"]


@pytest.mark.parametrize(
    ("expression", "open_days"),
    [
        ("Mo-Fr 09:00-12:00,14:00-17:00", {MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY}),
        ("Sa 10:00-12:00; PH off", {SATURDAY}),
        ("24/7", set(range(7))),
        ("off", set()),
        ("Mo 19:00-08:00", {MONDAY}),  # the morning after belongs to Monday's night
        ("Jul-Aug Sa 10:00-12:00", {SATURDAY}),  # seasonal hours count for their weekdays
        ("Lu 9h-12h", set()),
        ("", set()),
    ],
)
def test_is_open_on(expression, open_days):
    assert {day for day in range(7) if is_open_on(expression, day)} == open_days
    assert open_weekdays(expression) == open_days


def test_is_open_on_ignores_extra_spaces():
    assert is_open_on("  Sa   10:00-12:00 ", SATURDAY)
    assert not is_open_on("Sa 10:00-12:00", SUNDAY)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="MoTuWeThFrSaSuPH0123456789:-,;+/ offclosed\"'24/7h", max_size=40))
def test_no_input_makes_the_hours_functions_fail(text):
    try:
        stored = validate_opening_hours(text)
    except ValidationError as error:
        assert error.messages
    else:
        # What is stored can be read again and described.
        assert validate_opening_hours(stored) == stored
    assert isinstance(describe_opening_hours(text), list)
    assert isinstance(is_open_on(text, MONDAY), bool)
