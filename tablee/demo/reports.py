"""The demonstration reports: the 2026 report to the funder, with fictional narratives, and a draft
of the end-of-programme evaluation. Everything is fictional and labelled so.

``load_demo_reports(programme)`` is idempotent: reports are keyed on their programme, kind and
title, so running it again refreshes their texts instead of adding more. The figures are computed
from whatever the other demonstration loaders recorded.
"""

import datetime

from django.db import transaction

from tablee.reports.models import Report
from tablee.reports.narratives import sanitise_narrative

FUNDER_REPORT_TITLE = "Rapport d'activité 2026 au financeur (fictif)"
FINAL_EVALUATION_TITLE = "Évaluation de fin de programme — brouillon (fictif)"

FUNDER_NARRATIVES = {
    "summary": (
        "En 2026, dernière année du programme, l'association a poursuivi les ateliers et les "
        "formations sur les six territoires, avec une attention particulière aux communes "
        "éloignées des points d'aide alimentaire (texte fictif de démonstration).\n\n"
        "Les comités de pilotage ont validé les plans d'action des territoires ; les premières "
        "actions réalisées portent sur la mobilité vers les distributions et sur les ateliers "
        "cuisine."
    ),
    "objective_nutrition": (
        "Des ateliers cuisine à partir des produits des colis ont été animés avec une "
        "diététicienne dans les épiceries solidaires (fictif)."
    ),
    "objective_participation": (
        "Les personnes concernées ont participé aux ateliers de concertation et proposé des "
        "actions, dont deux ont été retenues dans les plans (fictif)."
    ),
    "objective_local_systems": (
        "Les formations « repérer et orienter » ont réuni des travailleur·ses sociaux·les et des "
        "professionnel·les de santé, qui se connaissent désormais (fictif)."
    ),
    "objective_environment": (
        "Les épiceries solidaires ont réduit leurs invendus grâce à des ateliers anti-gaspillage "
        "(fictif)."
    ),
    "axis_alliances": (
        "Des conventions lient désormais plusieurs CCAS et maisons de santé pour orienter les "
        "familles vers l'aide alimentaire (fictif)."
    ),
    "axis_pat": (
        "La précarité alimentaire figure maintenant dans les feuilles de route des PAT des six "
        "territoires (fictif)."
    ),
    "axis_experiments": (
        "Une épicerie mobile a été expérimentée dans deux communes sans point d'aide alimentaire "
        "(fictif)."
    ),
    "axis_white_zones": (
        "Les communes sans point d'aide alimentaire à moins de dix kilomètres ont été visitées "
        "et leurs élu·es rencontré·es (fictif)."
    ),
}
EVALUATION_NARRATIVES = {
    "summary": (
        "Brouillon de l'évaluation de fin de programme, à compléter par l'équipe (texte fictif "
        "de démonstration)."
    ),
    "lessons": (
        "Les ateliers co-animés avec une structure locale réunissent plus de participant·es.\n\n"
        "Les liens entre le social et la santé naissent surtout des formations communes (fictif)."
    ),
    "recommendations": (
        "Poursuivre les formations communes aux travailleur·ses sociaux·les et aux "
        "professionnel·les de santé ; associer les personnes concernées dès le diagnostic "
        "(fictif)."
    ),
}


@transaction.atomic
def load_demo_reports(programme) -> dict[str, int]:
    """Create or refresh the demonstration reports of ``programme``; returns their count."""
    funder_start = max(programme.start_date, datetime.date(2026, 1, 1))
    funder_end = min(programme.end_date, datetime.date(2026, 12, 31))
    reports = [
        (
            Report.Kind.FUNDER_REPORT,
            FUNDER_REPORT_TITLE,
            funder_start,
            funder_end,
            FUNDER_NARRATIVES,
        ),
        (
            Report.Kind.FINAL_EVALUATION,
            FINAL_EVALUATION_TITLE,
            programme.start_date,
            programme.end_date,
            EVALUATION_NARRATIVES,
        ),
    ]
    for kind, title, start, end, texts in reports:
        Report.objects.update_or_create(
            programme=programme,
            kind=kind,
            title=title,
            defaults={
                "period_start": start,
                "period_end": end,
                "narratives": {key: sanitise_narrative(text) for key, text in texts.items()},
            },
        )
    return {"rapports": Report.objects.filter(programme=programme).count()}
