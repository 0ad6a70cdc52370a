"""``fold``: the table of folded characters gives exactly what the steps give."""

import sys

import pytest

from tablee.core.text import fold, fold_by_steps

NAMES = [
    "",
    "   ",
    "Loudéac",
    "LOUDEAC",
    "L'Île-Tudy",
    "L’Hôpital-Camfrout",
    "Saint-Brieuc  —  Centre",
    "Œuvre de l'Hospitalité du Cœur",
    "Ætherium et Cæcilia",
    "Épicerie « Solidaire » n°12 (fictive)",
    "Restos du cœur · 22",
    "ﬁnances ½ tarif Ⅻ ²³ ﬀ",
    "ĲSSELMEER Ǆemal ẞtraße",
    "İstanbul",
    "ΟΔΟΣ ΣΟΦΙΑΣ",
    "Σ",
    "⅀ summa",
    "Москва — центр",
    "서울 한국",
    "東京 ＡＢＣ１２３",
    "e\u0301te\u0301\u034f café",
    "tab\tnew\nline\u00a0nbsp\u202fnarrow",
    "\x00nul",
]


def test_examples_fold_as_a_french_reader_expects():
    assert fold("Loudéac") == fold("LOUDEAC") == "loudeac"
    assert fold("L'Île-Tudy") == "l ile tudy"
    assert fold("Œuvre du Cœur") == "oeuvre du coeur"
    assert fold("  Saint-Brieuc  —  Centre ") == "saint brieuc centre"


@pytest.mark.parametrize("name", NAMES)
def test_fold_is_exactly_the_steps(name):
    assert fold(name) == fold_by_steps(name)


def test_fold_agrees_with_the_steps_on_every_character_of_the_basic_plane():
    for code in range(0x10000):
        character = chr(code)
        for text in (character, f"Ab{character}c", f"ΑΣ{character}"):
            assert fold(text) == fold_by_steps(text), hex(code)


def test_fold_agrees_with_the_steps_beyond_the_basic_plane():
    for code in range(0x10000, sys.maxunicode + 1, 7):
        text = f"Ab{chr(code)}c"
        assert fold(text) == fold_by_steps(text), hex(code)
