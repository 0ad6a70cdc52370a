"""The demonstration diagnostic: meetings, needs, a pathway, testimonies and a questionnaire on each
territory of the demonstration programme. Everything is fictional and labelled "(fictif)".

``load_demo_diagnostic(programme)`` is idempotent: records are keyed on their territory and their
title (or text, or submission token), so running it again refreshes them instead of adding more.
It runs after ``load_demo_directory``, whose structures the meetings meet.
"""

import datetime

from django.db import transaction

from tablee.diagnostic.models import (
    Answer,
    BarrierCategory,
    Meeting,
    Need,
    Pathway,
    PathwayStep,
    Survey,
    SurveyResponse,
    Testimony,
)
from tablee.directory.models import Structure

DEMO_NOTE = "Diagnostic fictif de démonstration."

MEETINGS = [
    # (title, date, format, participants by role)
    (
        "Entretien avec l'équipe du CCAS (fictif)",
        datetime.date(2025, 2, 11),
        Meeting.Format.INTERVIEW,
        {"social_workers": 3, "elected_officials": 1},
    ),
    (
        "Réunion des acteurs de l'aide alimentaire (fictif)",
        datetime.date(2025, 3, 18),
        Meeting.Format.GROUP,
        {"social_workers": 4, "volunteers": 9, "health_professionals": 2, "people_concerned": 3},
    ),
    (
        "Visite de la distribution du samedi (fictif)",
        datetime.date(2025, 4, 5),
        Meeting.Format.SITE_VISIT,
        {"volunteers": 6, "people_concerned": 5},
    ),
]

NEEDS = [
    # (title, barrier category code, severity, source, meeting index or None)
    ("Reste à vivre insuffisant après les charges (fictif)", "economique", 3, "meeting", 0),
    (
        "Pas de transport vers la distribution le samedi (fictif)",
        "mobilite-distance",
        3,
        "meeting",
        1,
    ),
    (
        "Pas de réfrigérateur ni de plaques en hébergement (fictif)",
        "equipement-cuisine-stockage",
        2,
        "meeting",
        2,
    ),
    (
        "Peu d'idées de repas avec les produits du colis (fictif)",
        "connaissances-competences",
        1,
        "meeting",
        1,
    ),
    (
        "Régimes sans sel ou diabétiques mal couverts (fictif)",
        "sante-regimes-allergies",
        2,
        "meeting",
        1,
    ),
    ("Personnes âgées seules qui ne viennent plus (fictif)", "isolement", 2, "testimony", None),
    ("Dossiers d'aide jamais déposés (fictif)", "droits-demarches", 2, "meeting", 0),
    ("Honte de venir à la distribution (fictif)", "honte-non-recours", 3, "testimony", None),
]

PATHWAY_TITLE = "Parcours d'une mère seule sans voiture (fictif)"
PATHWAY_PERSONA = (
    "Mère seule avec deux enfants, sans voiture, dans une commune rurale (situation type fictive)."
)
PATHWAY_STEPS = [
    # (structure type, what happens, delay in days, distance in km, break after, linked need indexes)
    ("Médecin traitant", "Repère une perte de poids des enfants et en parle.", None, 12, "", ()),
    (
        "CCAS",
        "Instruit une demande d'aide alimentaire.",
        10,
        15,
        "Le rendez-vous est pendant les heures d'école et sans bus : la demande n'est pas déposée.",
        (1, 6),
    ),
    (
        "Épicerie solidaire",
        "Ouvre un droit de trois mois.",
        21,
        18,
        "À la fin du droit, aucun relais n'est proposé.",
        (0,),
    ),
    ("Association d'aide alimentaire", "Colis mensuel, sans choix des produits.", 30, 22, "", ()),
]

TESTIMONIES = [
    # (context, text, shareable, linked need indexes)
    (
        "Distribution alimentaire, hiver (fictif)",
        "Le samedi il n'y a pas de bus, alors je demande à une voisine, mais je n'ose pas tous les mois.",
        True,
        (1, 7),
    ),
    (
        "Atelier cuisine (fictif)",
        "Avec le colis on mange souvent la même chose ; les enfants n'aiment pas les lentilles.",
        True,
        (3,),
    ),
    (
        "Entretien au CCAS (fictif)",
        "Je ne savais pas que j'avais droit à quelque chose, personne ne me l'avait dit.",
        False,
        (6,),
    ),
]

SURVEY_TITLE = "Questionnaire de démonstration, papier (fictif)"
# Raw scores of the fictional paper answers: 24 answers, so that the results show.
DEMO_SCORES = [0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 7, 7, 8, 2, 4, 1]


def _answers(score: int) -> dict[str, str]:
    # The first `score` questions answered "yes"; one "refused" among the others now and then.
    answers = {}
    for number in range(1, 9):
        if number <= score:
            answers[f"q{number}"] = Answer.YES
        elif number == 8 and score % 3 == 1:
            answers[f"q{number}"] = Answer.REFUSED
        else:
            answers[f"q{number}"] = Answer.NO
    return answers


@transaction.atomic
def load_demo_diagnostic(programme) -> dict[str, int]:
    """Create or refresh the fictional diagnostic of each territory of ``programme``; counts."""
    categories = {c.code: c for c in BarrierCategory.objects.all()}
    counts = {"rencontres": 0, "besoins": 0, "parcours": 0, "paroles": 0, "réponses": 0}
    for pt in programme.territories.select_related("territory").order_by("territory_id"):
        structures = list(
            Structure.objects.filter(is_demo=True, commune__territory_id=pt.territory_id).order_by(
                "name"
            )[:4]
        )
        meetings = []
        for index, (title, date, meeting_format, participants) in enumerate(MEETINGS):
            meeting, _ = Meeting.objects.update_or_create(
                programme_territory=pt,
                title=title,
                defaults={
                    "date": date,
                    "format": meeting_format,
                    "notes": DEMO_NOTE,
                    "notes_shareable": index == 0,
                    **{role: participants.get(role, 0) for role in _ROLES},
                },
            )
            meeting.structures.set(structures[index : index + 2])
            meetings.append(meeting)
        needs = []
        for title, code, severity, source, meeting_index in NEEDS:
            meeting = meetings[meeting_index] if meeting_index is not None else None
            need, _ = Need.objects.update_or_create(
                programme_territory=pt,
                title=title,
                defaults={
                    "category": categories[code],
                    "severity": severity,
                    "source": source,
                    "meeting": meeting,
                    "description": DEMO_NOTE,
                },
            )
            need.structures.set(meeting.structures.all() if meeting else [])
            needs.append(need)
        pathway, _ = Pathway.objects.update_or_create(
            programme_territory=pt, title=PATHWAY_TITLE, defaults={"persona": PATHWAY_PERSONA}
        )
        pathway.steps.exclude(position__lte=len(PATHWAY_STEPS)).delete()
        for position, (kind, description, delay, distance, break_after, need_indexes) in enumerate(
            PATHWAY_STEPS, start=1
        ):
            step, _ = PathwayStep.objects.update_or_create(
                pathway=pathway,
                position=position,
                defaults={
                    "structure_type": kind,
                    "description": description,
                    "delay_days": delay,
                    "distance_km": distance,
                    "break_after": break_after,
                },
            )
            step.break_needs.set([needs[i] for i in need_indexes])
        for context, text, shareable, need_indexes in TESTIMONIES:
            testimony, _ = Testimony.objects.update_or_create(
                programme_territory=pt,
                text=text,
                defaults={
                    "context": context,
                    "date": datetime.date(2025, 3, 18),
                    "consent_given": True,
                    "shareable": shareable,
                },
            )
            testimony.needs.set([needs[i] for i in need_indexes])
        survey, _ = Survey.objects.get_or_create(programme_territory=pt, title=SURVEY_TITLE)
        for number, score in enumerate(DEMO_SCORES):
            response = SurveyResponse.objects.filter(
                submission_token=f"demo-{pt.territory_id}-{number}"
            ).first() or SurveyResponse(
                survey=survey, submission_token=f"demo-{pt.territory_id}-{number}"
            )
            for field, answer in _answers(score).items():
                setattr(response, field, answer)
            response.channel = SurveyResponse.Channel.PAPER
            response.save()  # save() computes the raw score
        counts["rencontres"] += len(meetings)
        counts["besoins"] += len(needs)
        counts["parcours"] += 1
        counts["paroles"] += len(TESTIMONIES)
        counts["réponses"] += len(DEMO_SCORES)
    return counts


_ROLES = (
    "social_workers",
    "health_professionals",
    "volunteers",
    "elected_officials",
    "people_concerned",
    "others",
)
