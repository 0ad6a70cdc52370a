"""The demonstration directory: about sixty fictional structures in the real communes of the six
demonstration EPCI, every one labelled "(fictif)" or "(fictive)".

``load_demo_directory(programme)`` is idempotent: structures and services are keyed on
source "demo" and a stable id, contacts on their structure and name, stops on their position.
Running it again refreshes the same rows instead of adding more.
"""

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from tablee.directory.models import Category, Contact, Sector, Service, ServiceStop, Structure
from tablee.territories.models import Commune

SOURCE = "demo"


@dataclass(frozen=True)
class DemoService:
    name: str
    description: str
    service_type: str = ""
    thematiques: tuple[str, ...] = ()
    publics: tuple[str, ...] = ()
    food_aid: tuple[str, ...] = ()
    food_choice: str = ""
    food_conditions: str = ""
    fees: str = "gratuit"
    mobilisable_by: tuple[str, ...] = ("usagers", "professionnels")


@dataclass(frozen=True)
class DemoKind:
    """One kind of structure: its name pattern ("{commune}" is replaced), sector and services."""

    key: str
    name: str
    sector: str
    publishable: bool
    hours: str
    commune_rank: int = 0  # 0: the most populous commune of the EPCI, 1: the next one...
    finess: str = ""
    networks: tuple[str, ...] = ()
    services: tuple[DemoService, ...] = field(default_factory=tuple)
    with_contact: bool = False


ALIMENTATION = "equipement-et-alimentation--alimentation"
BUDGET = "difficultes-financieres--ameliorer-sa-gestion-budgetaire"
ACCESS_TO_CARE = "sante--acces-aux-soins"
MENTAL_HEALTH = "sante--sante-mentale"
PARENTING = "famille--soutien-a-la-parentalite-et-a-leducation"
SHELTER = "logement-hebergement--rechercher-une-solution-dhebergement-temporaire"

COMMON_KINDS = [
    DemoKind(
        "ccas",
        "CCAS de {commune} (fictif)",
        Sector.SOCIAL,
        True,
        "Mo-Fr 09:00-12:00,13:30-17:00; PH off",
        networks=("ccas-cias",),
        with_contact=True,
        services=(
            DemoService(
                "Accueil social et aide d'urgence",
                "Accueil, écoute et orientation ; aides facultatives et bons alimentaires.",
                "accompagnement",
                (BUDGET, ALIMENTATION),
                ("tous-publics",),
                ("cheques-alimentaires",),
                "",
                "rendez-vous",
            ),
        ),
    ),
    DemoKind(
        "epicerie",
        "Épicerie solidaire de {commune} (fictive)",
        Sector.FOOD_AID,
        True,
        "Tu,Th 14:00-18:00; Sa 09:30-12:00",
        with_contact=True,
        services=(
            DemoService(
                "Épicerie solidaire",
                "Produits alimentaires et d'hygiène à 10 à 30 % de leur prix, pour une durée "
                "définie avec la personne orientée.",
                "aide-materielle",
                (ALIMENTATION,),
                ("familles", "beneficiaires-des-minimas-sociaux"),
                ("epicerie-solidaire",),
                "libre",
                "orientation",
                "payant",
            ),
            DemoService(
                "Atelier cuisine du jeudi",
                "Cuisiner ensemble avec les produits de l'épicerie, une fois par mois.",
                "atelier",
                (ALIMENTATION,),
                ("tous-publics",),
                ("atelier-cuisine",),
            ),
        ),
    ),
    DemoKind(
        "antenne",
        "Antenne d'aide alimentaire de {commune} (fictive)",
        Sector.FOOD_AID,
        True,
        "We 09:00-11:30; Fr 14:00-16:30",
        commune_rank=1,
        services=(
            DemoService(
                "Distribution de colis",
                "Colis alimentaires composés par les bénévoles, chaque semaine.",
                "aide-materielle",
                (ALIMENTATION,),
                ("tous-publics",),
                ("colis",),
                "aucun",
                "inconditionnel",
            ),
        ),
    ),
    DemoKind(
        "centre-sante",
        "Centre de santé de {commune} (fictif)",
        Sector.HEALTH,
        True,
        "Mo-Fr 08:30-19:00; Sa 08:30-12:00",
        finess="124",
        services=(
            DemoService(
                "Consultations de médecine générale",
                "Consultations avec ou sans rendez-vous, tiers payant.",
                "accompagnement",
                (ACCESS_TO_CARE,),
                ("tous-publics",),
            ),
        ),
    ),
    DemoKind(
        "msp",
        "Maison de santé pluriprofessionnelle de {commune} (fictive)",
        Sector.HEALTH,
        True,
        "Mo-Fr 08:00-20:00",
        commune_rank=2,
        finess="603",
        services=(
            DemoService(
                "Éducation thérapeutique et nutrition",
                "Séances collectives sur l'alimentation et les maladies chroniques.",
                "atelier",
                (ACCESS_TO_CARE, ALIMENTATION),
                ("tous-publics",),
            ),
        ),
    ),
    DemoKind(
        "pmi",
        "PMI de {commune} (fictive)",
        Sector.MEDICO_SOCIAL,
        False,
        "Mo,Th 09:00-12:00",
        finess="223",
        services=(
            DemoService(
                "Consultations des tout-petits",
                "Suivi des enfants de 0 à 6 ans, conseils sur l'alimentation du nourrisson.",
                "accompagnement",
                (PARENTING, ACCESS_TO_CARE),
                ("familles",),
            ),
        ),
    ),
    DemoKind(
        "cmp",
        "CMP de {commune} (fictif)",
        Sector.HEALTH,
        False,
        "Mo-Fr 09:00-17:00",
        finess="156",
        services=(
            DemoService(
                "Consultations de santé mentale",
                "Consultations sur rendez-vous, adultes.",
                "accompagnement",
                (MENTAL_HEALTH,),
                ("tous-publics",),
                mobilisable_by=("professionnels",),
            ),
        ),
    ),
]

SPECIFIC_KINDS = {
    "cada": DemoKind(
        "cada",
        "CADA de {commune} (fictif)",
        Sector.SOCIAL,
        False,
        "Mo-Fr 09:00-17:00",
        finess="443",
        services=(
            DemoService(
                "Hébergement et accompagnement des demandeurs d'asile",
                "Hébergement, accompagnement administratif et social ; aide alimentaire.",
                "accompagnement",
                (SHELTER, ALIMENTATION),
                ("personnes-exilees",),
                ("cheques-alimentaires",),
                "",
                "orientation",
                mobilisable_by=("professionnels",),
            ),
        ),
    ),
    "chrs": DemoKind(
        "chrs",
        "CHRS de {commune} (fictif)",
        Sector.SOCIAL,
        False,
        "Mo-Su 00:00-24:00",
        commune_rank=1,
        finess="214",
        services=(
            DemoService(
                "Hébergement d'urgence et repas",
                "Hébergement et repas du soir pour les personnes sans abri.",
                "aide-materielle",
                (SHELTER, ALIMENTATION),
                ("personnes-en-situation-durgence",),
                ("repas",),
                "aucun",
                "orientation",
            ),
        ),
    ),
    "mecs": DemoKind(
        "mecs",
        "Maison d'enfants à caractère social de {commune} (fictive)",
        Sector.MEDICO_SOCIAL,
        False,
        "Mo-Su 00:00-24:00",
        commune_rank=1,
        finess="177",
        services=(
            DemoService(
                "Accueil d'enfants confiés",
                "Accueil et accompagnement d'enfants et d'adolescents confiés par l'ASE.",
                "accompagnement",
                (PARENTING,),
                ("jeunes",),
                mobilisable_by=("professionnels",),
            ),
        ),
    ),
    "csapa": DemoKind(
        "csapa",
        "CSAPA de {commune} (fictif)",
        Sector.HEALTH,
        False,
        "Mo-Fr 09:00-12:30,14:00-18:00",
        finess="197",
        services=(
            DemoService(
                "Consultations en addictologie",
                "Consultations anonymes et gratuites.",
                "accompagnement",
                ("sante--addictions",),
                ("tous-publics",),
            ),
        ),
    ),
    "dieteticienne": DemoKind(
        "dieteticienne",
        "Cabinet de diététique de {commune} (fictif)",
        Sector.HEALTH,
        True,
        "Tu-Fr 09:00-18:00",
        commune_rank=1,
        services=(
            DemoService(
                "Consultations de diététique",
                "Consultations individuelles ; ateliers collectifs sur le budget alimentaire.",
                "accompagnement",
                (ACCESS_TO_CARE, ALIMENTATION),
                ("tous-publics",),
                fees="payant",
            ),
        ),
    ),
}
MAIRIE = DemoKind(
    "mairie",
    "Mairie de {commune} — Projet alimentaire territorial (fictif)",
    Sector.LOCAL_AUTHORITY,
    True,
    "Mo-Fr 08:30-12:00,13:30-17:30; Sa 09:00-12:00",
    services=(
        DemoService(
            "Jardins partagés communaux",
            "Parcelles de jardin prêtées aux habitants ; semences et outils fournis.",
            "aide-materielle",
            (ALIMENTATION,),
            ("tous-publics",),
            ("jardin",),
            "libre",
            "inconditionnel",
        ),
    ),
)
# Three specific structures per EPCI, in the order of DEMO_TERRITORIES, besides the mairie.
SPECIFIC_BY_TERRITORY = [
    ("cada", "mecs"),
    ("chrs", "dieteticienne"),
    ("csapa", "mecs"),
    ("cada", "chrs"),
    ("mecs", "csapa"),
    ("cada", "dieteticienne"),
]
# The itinerant épicerie of the second EPCI (Kreiz-Breizh): three stops with their own hours.
ITINERANT_HOURS = ["Tu 09:30-12:00", "Tu 14:00-16:30", "Fr 10:00-12:00"]
STREETS = ["rue de la Mairie", "place de l'Église", "rue du Général de Gaulle", "rue des Écoles"]


@transaction.atomic
def load_demo_directory(programme) -> int:
    """Create or refresh the demonstration structures of ``programme``'s EPCI; returns their
    number. EPCI without communes in the referential are skipped."""
    today = timezone.localdate()
    categories = {(c.kind, c.value): c for c in Category.objects.all()}
    territories = list(programme.territories.select_related("territory").order_by("territory_id"))
    from tablee.demo.services import DEMO_TERRITORIES

    order = {siren: index for index, (siren, _, _) in enumerate(DEMO_TERRITORIES)}
    territories.sort(key=lambda pt: order.get(pt.territory_id, len(order)))
    count = 0
    contact_number = 0
    for index, pt in enumerate(territories):
        communes = list(
            Commune.objects.filter(territory_id=pt.territory_id).order_by("-population", "code")[:3]
        )
        if not communes:
            continue
        specific = SPECIFIC_BY_TERRITORY[index % len(SPECIFIC_BY_TERRITORY)]
        kinds = [*COMMON_KINDS, *(SPECIFIC_KINDS[key] for key in specific), MAIRIE]
        for number, kind in enumerate(kinds):
            commune = communes[min(kind.commune_rank, len(communes) - 1)]
            # A few structures have not been checked for more than a year.
            stale = (index + number) % 7 == 3
            updated_on = today - datetime.timedelta(days=(400 + number) if stale else (20 + number))
            structure = _structure(pt.territory_id, kind, commune, number, updated_on, categories)
            count += 1
            itinerant = index == 1 and kind.key == "epicerie"
            for rank, demo_service in enumerate(kind.services):
                service = _service(structure, demo_service, rank, categories, updated_on)
                if itinerant and rank == 0:
                    _itinerant(service, communes)
            if kind.with_contact:
                contact_number += 1
                Contact.objects.update_or_create(
                    structure=structure,
                    full_name=f"Contact fictif {contact_number}",
                    defaults={
                        "job_title": "Référent·e aide alimentaire (fictif)",
                        "email": f"contact-fictif-{contact_number}@demo.tablee.fr",
                        "consent_given_on": datetime.date(2024, 3, 1),
                    },
                )
    return count


def _structure(siren, kind, commune, number, updated_on, categories) -> Structure:
    # Every fifth structure has no address: it sits at its commune's centre, marked approximate.
    has_address = number % 5 != 4 and commune.latitude is not None
    if has_address:
        latitude = round(commune.latitude + ((number % 3) - 1) * 0.004, 6)
        longitude = round(commune.longitude + ((number % 4) - 1.5) * 0.005, 6)
    else:
        latitude, longitude = commune.latitude, commune.longitude
    structure, _ = Structure.objects.update_or_create(
        source=SOURCE,
        source_id=f"{siren}-{kind.key}",
        defaults={
            "name": kind.name.format(commune=commune.name),
            "commune": commune,
            "address": f"{number + 1} {STREETS[number % len(STREETS)]} (adresse fictive)"
            if has_address
            else "",
            "latitude": latitude,
            "longitude": longitude,
            "location_is_approximate": not has_address,
            "sector": kind.sector,
            "finess_category": categories.get(("finess", kind.finess)),
            "opening_hours": kind.hours,
            # 02 61 91 xx xx: numbers reserved for fiction (ARCEP).
            "phone": f"02 61 91 {number:02d} {int(siren[-2:]):02d}",
            "email": f"{kind.key}-{siren}@demo.tablee.fr",
            "description": "Structure fictive de démonstration.",
            "is_publishable": kind.publishable,
            "data_updated_on": updated_on,
            "is_demo": True,
        },
    )
    structure.networks.set([categories[("reseau", value)] for value in kind.networks])
    return structure


def _service(structure, demo, rank, categories, updated_on) -> Service:
    service, _ = Service.objects.update_or_create(
        source=SOURCE,
        source_id=f"{structure.source_id}-{rank}",
        defaults={
            "structure": structure,
            "name": demo.name,
            "description": demo.description,
            "service_type": demo.service_type,
            "fees": demo.fees,
            "reception_modes": ["en-presentiel"],
            "mobilisation_modes": ["se-presenter", "telephoner"],
            "mobilisable_by": list(demo.mobilisable_by),
            "food_choice": demo.food_choice,
            "food_conditions": demo.food_conditions,
            "eligibility_zone": [structure.commune.territory_id],
            "data_updated_on": updated_on,
        },
    )
    service.thematiques.set([categories[("thematique", v)] for v in demo.thematiques])
    service.publics.set([categories[("public", v)] for v in demo.publics])
    service.food_aid_kinds.set([categories[("food_aid", v)] for v in demo.food_aid])
    return service


def _itinerant(service, communes) -> None:
    service.name = "Épicerie solidaire itinérante"
    service.is_itinerant = True
    service.save(update_fields=["name", "is_itinerant"])
    for position, hours in enumerate(ITINERANT_HOURS):
        commune = communes[position % len(communes)]
        ServiceStop.objects.update_or_create(
            service=service,
            position=position,
            defaults={
                "commune": commune,
                "address": "Place du marché (adresse fictive)",
                "opening_hours": hours,
            },
        )
