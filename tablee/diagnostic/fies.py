"""The Food Insecurity Experience Scale (FIES) of the FAO: its eight questions and their scoring.

Wording. The eight questions and their introduction are the FAO's French survey module as the FAO
publishes it on its "Voices of the Hungry" pages (fao.org/in-action/voices-of-the-hungry/fies/fr),
unchanged: the scale is only valid with its official wording. Only the typography is French
(non-breaking space before "?" and ":" is left to the browser).

Scoring. The raw score is the number of "yes" answers (0 to 8); "don't know / refuse" counts as
no "yes". The FAO measures prevalence with a Rasch model calibrated on a global reference scale;
Tablée does not fit that model on a few dozen answers. It classifies by the raw score instead
(0 secure, 1–3 mild, 4–6 moderate, 7–8 severe) and every page that shows a result says that it is
the raw-score approximation.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from tablee.diagnostic.models import FIES_QUESTIONS, Answer

CREDIT = "FAO, Voices of the Hungry — module d'enquête FIES"
# The recall period and the cause, said once before the eight questions as in the FAO module.
INTRODUCTION = (
    "À un moment donné au cours des 12 derniers mois, vous êtes-vous trouvé(e) dans une "
    "situation où, faute d'argent ou d'autres moyens :"
)
QUESTIONS: tuple[str, ...] = (
    "vous avez eu peur de ne plus avoir assez à manger ?",
    "vous ne pouviez pas manger des aliments nourrissants et bons pour la santé ?",
    "vous mangiez presque toujours la même chose ?",
    "vous avez dû sauter un repas ?",
    "vous n'avez pas mangé autant qu'il aurait fallu ?",
    "il n'y avait plus rien à manger à la maison ?",
    "vous aviez faim mais vous n'avez pas mangé ?",
    "vous n'avez rien mangé de toute la journée ?",
)
assert len(QUESTIONS) == FIES_QUESTIONS

FIELDS: tuple[str, ...] = tuple(f"q{number}" for number in range(1, FIES_QUESTIONS + 1))
APPROXIMATION_NOTICE = (
    "Classement par approximation par le score brut (nombre de réponses « oui »), et non par le "
    "modèle de Rasch de la FAO."
)
MODERATE_OR_SEVERE_FROM = 4
SEVERE_FROM = 7
# Results are never shown on fewer answers (the INSEE rule for data on persons).
MIN_ANSWERS_SHOWN = 11


class Level(StrEnum):
    SECURE = "secure"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.SECURE: "Sécurité alimentaire",
    Level.MILD: "Insécurité alimentaire légère",
    Level.MODERATE: "Insécurité alimentaire modérée",
    Level.SEVERE: "Insécurité alimentaire grave",
}


def raw_score(answers: Mapping[str, str]) -> int:
    """The number of "yes" among the eight answers: {"q1": "yes", "q2": "no", ...} -> 1."""
    return sum(1 for field in FIELDS if answers.get(field) == Answer.YES)


def classify(score: int) -> Level:
    """The raw-score approximation: 0 secure, 1–3 mild, 4–6 moderate, 7–8 severe."""
    if not 0 <= score <= FIES_QUESTIONS:
        raise ValueError(f"raw score out of range: {score}")
    if score == 0:
        return Level.SECURE
    if score < MODERATE_OR_SEVERE_FROM:
        return Level.MILD
    if score < SEVERE_FROM:
        return Level.MODERATE
    return Level.SEVERE


def answer_errors(answers: Mapping[str, str]) -> dict[str, str]:
    """French errors by field for answers that are missing or not yes / no / refused."""
    allowed = set(Answer.values)
    return {
        field: (
            f"Question {number} : choisissez « Oui », « Non » ou « Ne sait pas ou refuse de "
            "répondre »."
        )
        for number, field in enumerate(FIELDS, start=1)
        if answers.get(field) not in allowed
    }


@dataclass(frozen=True)
class Results:
    """What a survey's answers say, or only how many more are needed when they are too few."""

    count: int
    distribution: tuple[tuple[int, int], ...]  # (raw score, answers), for every score 0..8
    moderate_or_severe: int  # answers at raw score >= 4
    severe: int  # answers at raw score >= 7

    @property
    def shown(self) -> bool:
        return self.count >= MIN_ANSWERS_SHOWN

    @property
    def missing(self) -> int:
        return max(MIN_ANSWERS_SHOWN - self.count, 0)

    @property
    def moderate_or_severe_share(self) -> float | None:
        return self.moderate_or_severe / self.count * 100 if self.shown else None

    @property
    def severe_share(self) -> float | None:
        return self.severe / self.count * 100 if self.shown else None

    @property
    def distribution_rows(self) -> list[dict]:
        """One row per raw score with its level, answers and share (for tables)."""
        return [
            {
                "score": score,
                "level": classify(score).label,
                "count": count,
                "share": count / self.count * 100 if self.count else 0,
            }
            for score, count in self.distribution
        ]


def results_from_scores(scores: Iterable[int]) -> Results:
    """Results from raw scores, e.g. ``SurveyResponse.objects.values_list("raw_score", flat=True)``."""
    counts: dict[int, int] = {}
    for score in scores:
        counts[score] = counts.get(score, 0) + 1
    return results_from_counts(counts)


def results_from_counts(answers_by_score: Mapping[int, int]) -> Results:
    """Results from the number of answers at each raw score: {0: 5, 4: 2, 8: 1}."""
    counts = [answers_by_score.get(score, 0) for score in range(FIES_QUESTIONS + 1)]
    total = sum(counts)
    return Results(
        count=total,
        distribution=tuple(enumerate(counts)),
        moderate_or_severe=sum(counts[MODERATE_OR_SEVERE_FROM:]),
        severe=sum(counts[SEVERE_FROM:]),
    )
