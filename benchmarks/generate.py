"""Fictional but realistic structures and services, drawn from a seeded random generator.

One generator feeds both the seed (rows written with bulk_create) and the import benchmark (a
data·inclusion file): the same kinds of names, hours, thématiques and publics either way. Every
name ends in "(fictif)"/"(fictive)", every e-mail and website is on example.org, every person is
invented: nothing here is real data about anyone.
"""

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from stdnum import luhn

SOURCE = "bench"

# Opening hours in the OSM syntax, as data·inclusion carries them (and as the importer accepts).
HOURS = [
    "Mo-Fr 09:00-12:00,14:00-17:00",
    "Mo-Fr 09:00-12:30,13:30-17:00; PH off",
    "Tu,Th 14:00-17:00",
    "We 09:00-12:00",
    "Mo,We,Fr 10:00-12:00",
    "Mo-Sa 08:30-12:30",
    "Tu 13:30-16:30; Fr 09:00-11:30",
    "Mo-Th 08:30-12:00,13:30-17:30; Fr 08:30-12:00",
    "Sa 09:00-12:00",
    "",
]
STREETS = [
    "rue de la Gare",
    "place de la Mairie",
    "rue du Général de Gaulle",
    "avenue de la République",
    "rue de l'Église",
    "rue des Écoles",
    "boulevard Jean Jaurès",
    "rue Victor Hugo",
    "impasse des Tilleuls",
    "route de Rennes",
]
FIRST_NAMES = ["Camille", "Dominique", "Claude", "Alix", "Sacha", "Morgan", "Charlie", "Yannick"]
LAST_NAMES = ["Le Gall", "Martin", "Bernard", "Moreau", "Guillou", "Petit", "Robert", "Durand"]


@dataclass(frozen=True)
class Kind:
    """A kind of structure: its name, sector, FINESS category, réseaux and the thématiques of
    its services (by prefix or full value), its publics and the food-aid forms it offers."""

    name: str
    sector: str
    weight: int
    finess: str = ""
    networks: tuple[str, ...] = ()
    thematiques: tuple[str, ...] = ()
    publics: tuple[str, ...] = ("tous-publics",)
    food_aid: tuple[str, ...] = ()
    services: tuple[str, ...] = ("Accueil et orientation",)


ALIMENTATION = "equipement-et-alimentation--alimentation"
KINDS = [
    Kind(
        "CCAS de {commune}",
        "social",
        10,
        networks=("ccas-cias",),
        thematiques=("difficultes-financieres", ALIMENTATION, "logement-hebergement"),
        food_aid=("cheques-alimentaires",),
        services=("Accueil social et aide d'urgence", "Aide alimentaire d'urgence"),
    ),
    Kind(
        "Épicerie solidaire de {commune}",
        "food_aid",
        8,
        thematiques=(ALIMENTATION, "difficultes-financieres--ameliorer-sa-gestion-budgetaire"),
        publics=("familles", "beneficiaires-des-minimas-sociaux"),
        food_aid=("epicerie-solidaire", "atelier-cuisine"),
        services=("Épicerie solidaire", "Atelier cuisine et budget"),
    ),
    Kind(
        "Restos du Cœur — {commune}",
        "food_aid",
        6,
        networks=("restos-du-coeur",),
        thematiques=(ALIMENTATION,),
        food_aid=("colis", "repas"),
        services=("Distribution alimentaire", "Repas chauds"),
    ),
    Kind(
        "Secours populaire — {commune}",
        "food_aid",
        5,
        networks=("secours-populaire",),
        thematiques=(ALIMENTATION, "equipement-et-alimentation--habillement"),
        food_aid=("colis", "epicerie-solidaire"),
        services=("Libre-service alimentaire", "Vestiaire solidaire"),
    ),
    Kind(
        "Croix-Rouge — unité locale de {commune}",
        "food_aid",
        4,
        networks=("croix-rouge",),
        thematiques=(ALIMENTATION,),
        food_aid=("colis", "frigo-solidaire"),
        services=("Aide alimentaire itinérante",),
    ),
    Kind(
        "Centre social de {commune}",
        "social",
        7,
        thematiques=("famille", "numerique", "remobilisation"),
        publics=("familles", "jeunes", "seniors"),
        food_aid=("jardin", "atelier-cuisine"),
        services=("Accueil des familles", "Jardin partagé", "Atelier numérique"),
    ),
    Kind(
        "CHRS de {commune}",
        "medico_social",
        3,
        finess="214",
        thematiques=("logement-hebergement",),
        publics=("personnes-en-situation-durgence",),
        food_aid=("repas",),
        services=("Hébergement d'urgence", "Accompagnement vers le logement"),
    ),
    Kind(
        "CADA de {commune}",
        "medico_social",
        2,
        finess="443",
        thematiques=("logement-hebergement", "difficultes-administratives-ou-juridiques"),
        publics=("personnes-exilees",),
        services=("Accompagnement des demandeurs d'asile",),
    ),
    Kind(
        "MECS de {commune}",
        "medico_social",
        2,
        finess="177",
        thematiques=("famille",),
        publics=("jeunes",),
        services=("Accueil éducatif",),
    ),
    Kind(
        "Centre de santé de {commune}",
        "health",
        5,
        finess="124",
        thematiques=("sante--acces-aux-soins",),
        services=("Consultations de médecine générale", "Consultation diététique"),
    ),
    Kind(
        "CMP de {commune}",
        "health",
        3,
        finess="156",
        thematiques=("sante--sante-mentale",),
        services=("Consultations adultes",),
    ),
    Kind(
        "CSAPA de {commune}",
        "health",
        1,
        finess="197",
        thematiques=("sante--addictions",),
        services=("Accompagnement en addictologie",),
    ),
    Kind(
        "Maison de santé de {commune}",
        "health",
        5,
        thematiques=("sante--acces-aux-soins",),
        services=("Consultations pluriprofessionnelles",),
    ),
    Kind(
        "Mission locale — antenne de {commune}",
        "social",
        3,
        networks=("mission-locale",),
        thematiques=("trouver-un-emploi", "se-former", "mobilite"),
        publics=("jeunes",),
        services=("Accompagnement des jeunes",),
    ),
    Kind(
        "Mairie de {commune}",
        "local_authority",
        6,
        thematiques=("difficultes-administratives-ou-juridiques",),
        services=("Accueil de la mairie",),
    ),
    Kind(
        "École de {commune}",
        "education",
        3,
        thematiques=("famille--soutien-a-la-parentalite-et-a-leducation",),
        publics=("familles",),
        services=("Restauration scolaire",),
    ),
    Kind(
        "Ferme de {commune}",
        "agriculture",
        2,
        thematiques=(ALIMENTATION,),
        food_aid=("jardin",),
        services=("Vente directe à prix solidaire",),
    ),
]
FEMININE = {"Épicerie", "Croix-Rouge", "Mission", "Mairie", "École", "Ferme", "Maison"}


@dataclass
class ServiceRecord:
    data: dict  # data·inclusion service fields
    food_aid: list[str]
    food_choice: str
    food_conditions: str
    is_itinerant: bool


@dataclass
class StructureRecord:
    data: dict  # data·inclusion structure fields
    sector: str
    finess: str
    is_publishable: bool
    services: list[ServiceRecord] = field(default_factory=list)
    contact_name: str = ""


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def siret(rng: random.Random) -> str:
    """A SIRET whose SIREN and whole number pass the Luhn check (as python-stdnum requires)."""
    siren = "".join(str(rng.randint(0, 9)) for _ in range(8))
    siren += luhn.calc_check_digit(siren)
    body = siren + "".join(str(rng.randint(0, 9)) for _ in range(4))
    return body + luhn.calc_check_digit(body)


class Generator:
    """Seeded structures on ``communes`` [(code, name, lat, lon, population)] drawn by population.

    ``thematiques`` and ``publics`` are the values known to the database (the référentiels).
    """

    def __init__(self, rng: random.Random, communes, *, thematiques, publics, id_prefix="s"):
        self.rng = rng
        self.communes = communes
        # Small communes still get some structures: the weight is the population plus a floor.
        self.weights = [population + 300 for *_, population in communes]
        self.cumulative = None
        self.id_prefix = id_prefix
        self.thematiques = sorted(thematiques)
        self.publics = set(publics)
        self.kind_weights = [k.weight for k in KINDS]
        self.names_seen: dict[str, int] = {}
        self.number = 0
        self.service_number = 0

    def _thematiques(self, kind: Kind) -> list[str]:
        chosen = []
        for wanted in kind.thematiques:
            matches = [t for t in self.thematiques if t == wanted or t.startswith(wanted + "--")]
            if matches:
                chosen.append(self.rng.choice(matches))
        return sorted(set(chosen))

    def structures(self, count: int, services_per_structure: float) -> Iterator[StructureRecord]:
        rng = self.rng
        picks = rng.choices(self.communes, weights=self.weights, k=count)
        for code, commune_name, lat, lon, _population in picks:
            self.number += 1
            kind = rng.choices(KINDS, weights=self.kind_weights)[0]
            base = kind.name.format(commune=commune_name)
            seen = self.names_seen.get(base, 0) + 1
            self.names_seen[base] = seen
            suffix = "(fictive)" if kind.name.split()[0] in FEMININE else "(fictif)"
            name = f"{base} {suffix}" if seen == 1 else f"{base} — site {seen} {suffix}"
            slug = f"{self.id_prefix}{self.number}"
            placed = lat is not None and rng.random() < 0.7
            data = {
                "source": SOURCE,
                "id": slug,
                "nom": name,
                "siret": siret(rng) if rng.random() < 0.6 else None,
                "description": f"{base} : accueil, information et orientation des habitant·es.",
                "adresse": f"{rng.randint(1, 80)} {rng.choice(STREETS)}",
                "commune": commune_name,
                "code_postal": (code[:2] if code[:2].isdigit() else "20") + code[2:],
                "code_insee": code,
                "latitude": round(lat + rng.uniform(-0.01, 0.01), 6) if placed else None,
                "longitude": round(lon + rng.uniform(-0.01, 0.01), 6) if placed else None,
                "telephone": f"0{rng.randint(1, 4)} {rng.randint(10, 59)} "
                f"{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                "courriel": f"contact-{slug}@example.org",
                "site_web": f"https://{slug}.example.org" if rng.random() < 0.4 else None,
                "horaires_accueil": rng.choice(HOURS) or None,
                "reseaux_porteurs": list(kind.networks) or None,
                "date_maj": f"{rng.choice([2023, 2024, 2025])}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
            }
            record = StructureRecord(
                data=data,
                sector=kind.sector,
                finess=kind.finess,
                is_publishable=rng.random() < 0.6,
                contact_name=(
                    f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} (fictif)"
                    if rng.random() < 0.3
                    else ""
                ),
            )
            # 0 to 3 services, mean services_per_structure (1.5: 10 %, 45 %, 30 %, 15 %).
            extra = services_per_structure - 1.5
            count_services = rng.choices([0, 1, 2, 3], weights=[10, 45 - extra * 40, 30, 15])[0]
            for index in range(count_services):
                record.services.append(self._service(kind, record, index))
            yield record

    def _service(self, kind: Kind, structure: StructureRecord, index: int) -> ServiceRecord:
        rng = self.rng
        self.service_number += 1
        name = kind.services[index % len(kind.services)]
        publics = [p for p in kind.publics if p in self.publics]
        food = list(kind.food_aid[: rng.randint(0, len(kind.food_aid))]) if kind.food_aid else []
        data = {
            "source": SOURCE,
            "id": f"{structure.data['id']}-v{index + 1}",
            "structure_id": structure.data["id"],
            "nom": name,
            "description": f"{name} : sur place, avec ou sans orientation préalable.",
            "type": rng.choice(["accompagnement", "aide-materielle", "atelier", "information"]),
            "thematiques": self._thematiques(kind) or None,
            "publics": publics or None,
            "frais": "gratuit" if rng.random() < 0.85 else "payant",
            "code_insee": structure.data["code_insee"],
            "commune": structure.data["commune"],
            "modes_accueil": ["en-presentiel"],
            "modes_mobilisation": ["se-presenter", "telephoner"],
            "mobilisable_par": ["usagers", "professionnels"],
            "horaires_accueil": structure.data["horaires_accueil"],
            "date_maj": structure.data["date_maj"],
        }
        return ServiceRecord(
            data=data,
            food_aid=food,
            food_choice=rng.choice(["libre", "accompagne", "aucun"]) if food else "",
            food_conditions=(
                rng.choice(["inconditionnel", "orientation", "rendez-vous"]) if food else ""
            ),
            is_itinerant=bool(food) and rng.random() < 0.03,
        )
