"""Text helpers shared by every app."""

import unicodedata


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced form of a name, used for searching.

    "Loudéac" and "LOUDEAC" both fold to "loudeac"; hyphens and apostrophes become spaces so that
    "saint brieuc" finds "Saint-Brieuc" and "l ile" finds "L'Île-Tudy".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    lowered = without_marks.lower().replace("œ", "oe").replace("æ", "ae")
    cleaned = "".join(c if c.isalnum() else " " for c in lowered)
    return " ".join(cleaned.split())
