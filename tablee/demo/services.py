"""The demonstration programme: six real Breton EPCI, everything else fictional and labelled so.

``load_demo()`` is idempotent: run it again and it updates the same records instead of adding more.
It needs the national referential (``load_referential``) to be loaded first.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from tablee.accounts.models import Membership, Role, User
from tablee.demo.activities import load_demo_activities
from tablee.demo.diagnostic import load_demo_diagnostic
from tablee.demo.directory import load_demo_directory
from tablee.demo.network import load_demo_network
from tablee.demo.plans import load_demo_plans
from tablee.demo.reports import load_demo_reports
from tablee.directory.models import Sector, Structure
from tablee.territories.indicators import indicators_import
from tablee.territories.models import (
    Audience,
    Commune,
    GeoLevel,
    Programme,
    ProgrammeTerritory,
    SessionTarget,
    Territory,
)

DEMO_PASSWORD = "Demo-Tablee-2026!"
DEMO_PROGRAMME_NAME = "Mieux Manger pour Tous — Bretagne 2024–2026"
DATA_DIR = Path(__file__).resolve().parent / "data"

# Six communautés de communes spread over the four départements of Bretagne (real SIREN).
DEMO_TERRITORIES = [
    # (SIREN, PAT name, sessions target)
    ("200067460", "PAT du Centre Bretagne (fictif)", 64),  # Loudéac Communauté, 22
    ("242200715", "PAT du Kreiz-Breizh (fictif)", 52),  # Kreiz-Breizh, 22
    ("200067197", "PAT des Monts d'Arrée (fictif)", 52),  # Monts d'Arrée, 29
    ("242900561", "PAT de Haute Cornouaille (fictif)", 56),  # Haute Cornouaille, 29
    ("243500634", "PAT de la Roche aux Fées (fictif)", 62),  # Roche aux Fées, 35
    ("200096683", "PAT Centre Morbihan (fictif)", 62),  # Centre Morbihan, 56
]
AUDIENCE_TARGETS = {
    Audience.PROFESSIONALS: 120,
    Audience.VOLUNTEERS: 80,
    Audience.ELECTED: 28,
    Audience.PEOPLE: 120,
}
YEAR_TARGETS = {2024: 96, 2025: 132, 2026: 120}
PARTNER_STRUCTURE = ("Épicerie solidaire du Centre Bretagne (fictive)", "22136")  # Loudéac


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: str
    scope: str  # "instance", "programme", "territory:<SIREN>" or "structure"

    @property
    def role_label(self) -> str:
        return Role(self.role).label


DEMO_ACCOUNTS = [
    DemoAccount("admin@demo.tablee.fr", "Alex Admin (démo)", Role.ADMIN, "instance"),
    DemoAccount(
        "coordination@demo.tablee.fr", "Claude Coordination (démo)", Role.COORDINATOR, "programme"
    ),
    DemoAccount(
        "partenaire@demo.tablee.fr", "Dominique Partenaire (démo)", Role.PARTNER, "structure"
    ),
    DemoAccount(
        "collectivite@demo.tablee.fr",
        "Sacha Collectivité (démo)",
        Role.LOCAL_AUTHORITY,
        "territory:200067460",
    ),
    DemoAccount("financeur@demo.tablee.fr", "Morgan Financeur (démo)", Role.FUNDER, "programme"),
]


@transaction.atomic
def load_demo() -> dict[str, int]:
    """Create or refresh the demonstration programme and its accounts; returns counts."""
    missing = [
        siren
        for siren, _, _ in DEMO_TERRITORIES
        if not Territory.objects.filter(siren=siren).exists()
    ]
    if missing:
        raise ImproperlyConfigured(
            "Le référentiel national n'est pas chargé (EPCI introuvable : "
            f"{', '.join(missing)}). Lancez d'abord « python manage.py load_referential »."
        )

    programme, _ = Programme.objects.update_or_create(
        name=DEMO_PROGRAMME_NAME,
        is_demo=True,
        defaults={
            "funder": "DREETS Bretagne",
            "start_date": datetime.date(2024, 1, 1),
            "end_date": datetime.date(2026, 12, 31),
            "target_sessions": 348,
            "description": (
                "Programme de démonstration, entièrement fictif, sur six communautés de communes "
                "réelles de Bretagne. Une association rencontre les structures sociales, "
                "médico-sociales et de santé, identifie les besoins et les parcours des personnes "
                "en précarité alimentaire, co-construit un plan d'action par territoire et anime 348 "
                "ateliers et formations pour quatre publics."
            ),
        },
    )
    by_siren = {}
    for siren, pat_name, target in DEMO_TERRITORIES:
        pt, _ = ProgrammeTerritory.objects.update_or_create(
            programme=programme,
            territory_id=siren,
            defaults={
                "pat_name": pat_name,
                "pat_contact_name": "Référent·e PAT (fictif)",
                "pat_contact_email": f"pat-{siren}@demo.tablee.fr",
                "target_sessions": target,
            },
        )
        by_siren[siren] = pt
    for audience, value in AUDIENCE_TARGETS.items():
        SessionTarget.objects.update_or_create(
            programme=programme,
            dimension=SessionTarget.Dimension.AUDIENCE,
            key=audience,
            defaults={"value": value},
        )
    for year, value in YEAR_TARGETS.items():
        SessionTarget.objects.update_or_create(
            programme=programme,
            dimension=SessionTarget.Dimension.YEAR,
            key=str(year),
            defaults={"value": value},
        )

    structure_name, commune_code = PARTNER_STRUCTURE
    structure, _ = Structure.objects.update_or_create(
        name=structure_name,
        is_demo=True,
        defaults={
            "commune": Commune.objects.get(code=commune_code),
            "sector": Sector.FOOD_AID,
            "opening_hours": "Tu,Th 14:00-18:00; Sa 09:30-12:00",
            "description": "Épicerie solidaire fictive, structure du compte partenaire de démonstration.",
        },
    )

    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            email=account.email, defaults={"full_name": account.full_name}
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        scope = {}
        if account.scope == "programme":
            scope = {"programme": programme}
        elif account.scope.startswith("territory:"):
            scope = {"programme_territory": by_siren[account.scope.split(":", 1)[1]]}
        elif account.scope == "structure":
            scope = {"structure": structure}
        Membership.objects.get_or_create(user=user, role=account.role, **scope)

    indicators = _load_demo_indicators()
    structures = load_demo_directory(programme)
    diagnostic = load_demo_diagnostic(programme)
    # In the order of the cycle: sessions deliver actions, links come from meetings, concertations
    # and sessions, and the reports read everything.
    later = {}
    for loader in (load_demo_plans, load_demo_activities, load_demo_network, load_demo_reports):
        later.update(loader(programme))
    return {
        "programmes": 1,
        "territoires": len(by_siren),
        "structures fictives de l'annuaire": structures,
        "comptes": len(DEMO_ACCOUNTS),
        "valeurs d'indicateurs": indicators,
        **{f"diagnostic — {label}": value for label, value in diagnostic.items()},
        **later,
    }


def _load_demo_indicators() -> int:
    """Fictional indicators for the six EPCI, their départements and Bretagne.

    They go through the real import, as a user's file would."""
    total = 0
    for level, filename in [
        (GeoLevel.EPCI, "indicateurs-epci.csv"),
        (GeoLevel.DEPARTEMENT, "indicateurs-departements.csv"),
        (GeoLevel.REGION, "indicateurs-region.csv"),
    ]:
        content = (DATA_DIR / filename).read_bytes()
        result = indicators_import(
            file=SimpleUploadedFile(filename, content, content_type="text/csv"),
            level=level,
            year=2021,
            source="Valeurs fictives de démonstration (Tablée)",
            acting_user=None,
        )
        total += result.created + result.updated
    return total
