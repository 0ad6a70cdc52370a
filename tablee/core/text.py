"""Text helpers shared by every app."""

import unicodedata


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced form of a name, used for searching and sorting.

    "Loudéac" and "LOUDEAC" both fold to "loudeac"; hyphens and apostrophes become spaces so that
    "saint brieuc" finds "Saint-Brieuc" and "l ile" finds "L'Île-Tudy".

    Each step (decomposition, marks dropped, lower case, ligatures œ and æ, punctuation to spaces)
    works on one character at a time, so a table of folded characters does them all in one
    ``translate``, several times quicker than the steps one after the other (``fold_by_steps``):
    lists sort thousands of names with it. The one exception is the lower case of Σ, which depends
    on its neighbours (a final ς): a text holding one is folded by the steps themselves.
    """
    folded = text.translate(_FOLDED_CHARACTERS)
    if "\x00" in folded:  # a Σ (a NUL never comes out of the table otherwise)
        return fold_by_steps(text)
    return " ".join(folded.split())


def fold_by_steps(text: str) -> str:
    """What ``fold`` returns, computed step by step on the whole text."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    lowered = without_marks.lower().replace("œ", "oe").replace("æ", "ae")
    cleaned = "".join(c if c.isalnum() else " " for c in lowered)
    return " ".join(cleaned.split())


class _FoldedCharacters(dict):
    """What ``fold_by_steps`` makes of each character ({code point: text}), worked out when
    first met. A character that decomposes into a Σ is marked by a NUL."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        kept = "".join(c for c in decomposed if not unicodedata.combining(c))
        if "\u03a3" in kept:
            folded = "\x00"
        else:
            lowered = kept.lower().replace("œ", "oe").replace("æ", "ae")
            folded = "".join(c if c.isalnum() else " " for c in lowered)
        self[code] = folded
        return folded


_FOLDED_CHARACTERS = _FoldedCharacters()
