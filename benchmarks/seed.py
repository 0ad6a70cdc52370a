"""Fill a benchmark database with realistic, reproducible data at one of three scales.

    python -m benchmarks.seed --scale association|region|national [--database-url URL] [--force]

The data is fictional but shaped like the real thing, on the real national referential: the
demonstration programme (six Breton EPCI) at every scale, then more programmes, their
coordinators, indicators for every EPCI, and structures with their services spread over the
communes by population, and the diagnostic of the other programmes' territories.
``random.Random(scale.seed)`` drives every choice: the same scale always gets the same rows.

One function per stage of the cycle (``STAGES``); plans, activities and the network are in
``benchmarks/seed_cycle.py``.
Everything is written in one transaction, with bulk inserts.
"""

import argparse
import datetime
import io
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from benchmarks.common import SCALES, Scale, setup_django, sqlite_path
from benchmarks.seed_cycle import seed_activities, seed_network, seed_plans

BATCH = 2000  # rows per INSERT: far under the parameter limits of SQLite and PostgreSQL
CHUNK = 5000  # structures generated and written at a time, to bound memory
BENCH_DOMAIN = "bench.example.org"
ADMIN_EMAIL = f"admin@{BENCH_DOMAIN}"


@dataclass
class SeedContext:
    scale: Scale
    rng: random.Random
    started: float = field(default_factory=time.perf_counter)
    # Filled by the stages, read by the next ones.
    programme_ids: list = field(default_factory=list)
    epci: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def say(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f} s] {message}", flush=True)


def chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


# --- Stages ------------------------------------------------------------------------------------


def seed_referential(ctx: SeedContext) -> None:
    """The national referential, as shipped (idempotent; skipped when already loaded)."""
    from tablee.territories.models import Commune
    from tablee.territories.referential import load_referential

    if not Commune.objects.exists():
        load_referential()
    ctx.counts["communes"] = Commune.objects.count()
    ctx.say(f"référentiel : {ctx.counts['communes']} communes")


def seed_demo(ctx: SeedContext) -> None:
    """The demonstration programme, its accounts, indicators and directory, at every scale: the
    same pages can then be measured for the same user at the three scales."""
    from tablee.demo.services import DEMO_TERRITORIES, load_demo
    from tablee.territories.models import Programme

    counts = load_demo()
    programme = Programme.objects.get(is_demo=True)
    ctx.programme_ids.append(programme.pk)
    ctx.epci.extend(siren for siren, _, _ in DEMO_TERRITORIES)
    shown = ", ".join(f"{label} {value}" for label, value in counts.items())
    ctx.say(f"programme de démonstration : {shown}")


def seed_programmes(ctx: SeedContext) -> None:
    """The other programmes: neighbouring EPCI grouped by département, one coordinator each, and
    an administrator for the whole bench instance."""
    from django.contrib.auth.hashers import make_password

    from tablee.accounts.models import Membership, Role, User
    from tablee.territories.models import (
        Audience,
        Programme,
        ProgrammeTerritory,
        SessionTarget,
        Territory,
    )

    scale, rng = ctx.scale, ctx.rng
    candidates = Territory.objects.exclude(siren__in=ctx.epci)
    if scale.regions:
        candidates = candidates.filter(departement__region_id__in=scale.regions)
    candidates = list(
        candidates.order_by("departement_id", "siren").values_list("siren", flat=True)
    )
    wanted = min(scale.epci - len(ctx.epci), len(candidates))
    chosen = sorted(rng.sample(candidates, wanted), key=candidates.index) if wanted > 0 else []
    unusable = make_password(None)
    admin, _ = User.objects.get_or_create(
        email=ADMIN_EMAIL,
        defaults={"full_name": "Admin du banc d'essai (fictif)", "password": unusable},
    )
    Membership.objects.get_or_create(user=admin, role=Role.ADMIN)

    count = scale.programmes if chosen else 0
    programmes, territories, targets, users, memberships = [], [], [], [], []
    for number in range(count):
        group = chosen[number * len(chosen) // count : (number + 1) * len(chosen) // count]
        if not group:
            continue
        sessions = 58 * len(group)
        programme = Programme(
            id=_uuid(rng),
            name=f"Mieux Manger pour Tous — projet {number + 1:03d} (fictif)",
            funder="DREETS (fictif)",
            start_date=datetime.date(2024, 1, 1),
            end_date=datetime.date(2026, 12, 31),
            description="Programme fictif du banc d'essai.",
            target_sessions=sessions,
        )
        programmes.append(programme)
        for siren in group:
            territories.append(
                ProgrammeTerritory(
                    id=_uuid(rng),
                    programme=programme,
                    territory_id=siren,
                    pat_name=f"PAT {siren} (fictif)",
                    target_sessions=58,
                )
            )
        for audience, share in zip(Audience.values, (35, 23, 8, 34), strict=True):
            targets.append(
                SessionTarget(
                    programme=programme,
                    dimension=SessionTarget.Dimension.AUDIENCE,
                    key=audience,
                    value=sessions * share // 100,
                )
            )
        for year, share in ((2024, 28), (2025, 38), (2026, 34)):
            targets.append(
                SessionTarget(
                    programme=programme,
                    dimension=SessionTarget.Dimension.YEAR,
                    key=str(year),
                    value=sessions * share // 100,
                )
            )
        user = User(
            id=_uuid(rng),
            email=f"coordination-{number + 1:03d}@{BENCH_DOMAIN}",
            full_name=f"Coordination {number + 1:03d} (fictif)",
            password=unusable,
        )
        users.append(user)
        memberships.append(
            Membership(id=_uuid(rng), user=user, role=Role.COORDINATOR, programme=programme)
        )
    Programme.objects.bulk_create(programmes, batch_size=BATCH)
    ProgrammeTerritory.objects.bulk_create(territories, batch_size=BATCH)
    SessionTarget.objects.bulk_create(targets, batch_size=BATCH)
    User.objects.bulk_create(users, batch_size=BATCH)
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    ctx.programme_ids.extend(p.pk for p in programmes)
    ctx.epci.extend(chosen)
    ctx.counts.update(
        programmes=len(ctx.programme_ids), epci=len(ctx.epci), coordinators=len(users)
    )
    ctx.say(
        f"programmes : {len(programmes)} de plus ({len(chosen)} EPCI), "
        f"{len(users)} coordinateur·ices, 1 admin"
    )


def seed_indicators(ctx: SeedContext) -> None:
    """Three fictional indicators over three years for every EPCI in a programme, its
    départements and régions, through the real CSV import (as a user's file would go)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tablee.territories.indicators import indicators_import
    from tablee.territories.models import GeoLevel, IndicatorValue, Territory

    rng = ctx.rng
    header = (
        "code;libelle;Taux de pauvreté (%) — fictif;Part des 75 ans et plus (%) — fictif;"
        "Allocataires du RSA pour 1 000 habitants — fictif"
    )
    epci = list(
        Territory.objects.filter(siren__in=ctx.epci).values_list(
            "siren", "name", "departement_id", "departement__region_id"
        )
    )
    levels = {
        GeoLevel.EPCI: sorted({(siren, name) for siren, name, _, _ in epci}),
        GeoLevel.DEPARTEMENT: sorted({(dep, dep) for _, _, dep, _ in epci}),
        GeoLevel.REGION: sorted({(reg, reg) for _, _, _, reg in epci}),
    }
    for year in (2019, 2020, 2021):
        for level, units in levels.items():
            lines = [header]
            for code, label in units:
                values = (rng.uniform(8, 22), rng.uniform(8, 18), rng.uniform(20, 50))
                cells = ";".join(f"{v:.1f}".replace(".", ",") for v in values)
                lines.append(f"{code};{label.replace(';', ' ')};{cells}")
            content = "\n".join(lines).encode("utf-8")
            indicators_import(
                file=SimpleUploadedFile("indicateurs.csv", content, content_type="text/csv"),
                level=level,
                year=year,
                source="Valeurs fictives du banc d'essai",
                acting_user=None,
            )
    ctx.counts["indicator_values"] = IndicatorValue.objects.count()
    ctx.say(f"indicateurs : {ctx.counts['indicator_values']} valeurs")


def seed_directory(ctx: SeedContext) -> None:
    """Structures (with réseaux, FINESS category, contacts) and their services (with thématiques,
    publics, food-aid forms and the stops of itinerant ones) on the communes of the EPCI in
    programmes, up to the scale's total."""
    from benchmarks.generate import Generator
    from tablee.core.text import fold
    from tablee.directory.models import Category, Contact, Service, ServiceStop, Structure
    from tablee.territories.models import Commune

    scale, rng = ctx.scale, ctx.rng
    communes = list(
        Commune.objects.filter(territory_id__in=ctx.epci)
        .order_by("code")
        .values_list("code", "name", "latitude", "longitude", "population")
    )
    categories = {(c.kind, c.value): c.pk for c in Category.objects.all()}
    generator = Generator(
        rng,
        communes,
        thematiques=[v for k, v in categories if k == Category.Kind.THEMATIQUE],
        publics=[v for k, v in categories if k == Category.Kind.PUBLIC],
    )
    centroid = {code: (lat, lon) for code, _, lat, lon, _ in communes}
    commune_codes = [code for code, *_ in communes]
    wanted = max(0, scale.structures - Structure.objects.count())
    consent_date = datetime.date(2025, 1, 15)  # fixed: the seed is reproducible
    networks = Structure.networks.through
    thematiques = Service.thematiques.through
    publics = Service.publics.through
    food_aid = Service.food_aid_kinds.through
    totals = dict.fromkeys(("structures", "services", "m2m", "contacts", "stops"), 0)

    for batch in chunks(generator.structures(wanted, scale.services_per_structure), CHUNK):
        structures, services, links, contacts, stops = [], [], [], [], []
        m2m = {networks: [], thematiques: [], publics: [], food_aid: []}
        for record in batch:
            data = record.data
            lat, lon, approximate = data["latitude"], data["longitude"], False
            if lat is None:
                lat, lon = centroid[data["code_insee"]]
                approximate = True
            structure = Structure(
                id=_uuid(rng),
                source=data["source"],
                source_id=data["id"],
                name=data["nom"],
                search_name=fold(data["nom"]),
                siret=data["siret"] or "",
                address=data["adresse"],
                postal_code=data["code_postal"],
                commune_id=data["code_insee"],
                latitude=lat,
                longitude=lon,
                location_is_approximate=approximate,
                phone=data["telephone"],
                email=data["courriel"],
                website=data["site_web"] or "",
                description=data["description"],
                opening_hours=data["horaires_accueil"] or "",
                finess_category_id=categories.get((Category.Kind.FINESS, record.finess)),
                sector=record.sector,
                is_publishable=record.is_publishable,
                data_updated_on=datetime.date.fromisoformat(data["date_maj"]),
            )
            if hasattr(structure, "refresh_derived_fields"):
                # What save() derives (search name, opening days), since bulk_create skips it.
                structure.refresh_derived_fields()
            structures.append(structure)
            for value in data["reseaux_porteurs"] or []:
                if (pk := categories.get((Category.Kind.RESEAU, value))) is not None:
                    m2m[networks].append(networks(structure_id=structure.pk, category_id=pk))
            if record.contact_name:
                contacts.append(
                    Contact(
                        id=_uuid(rng),
                        structure_id=structure.pk,
                        full_name=record.contact_name,
                        job_title="Référent·e (fictif)",
                        email=f"referent-{data['id']}@example.org",
                        consent_given_on=consent_date,
                    )
                )
            for service_record in record.services:
                sdata = service_record.data
                service = Service(
                    id=_uuid(rng),
                    structure_id=structure.pk,
                    source=sdata["source"],
                    source_id=sdata["id"],
                    name=sdata["nom"],
                    description=sdata["description"],
                    service_type=sdata["type"],
                    fees=sdata["frais"],
                    reception_modes=sdata["modes_accueil"],
                    mobilisation_modes=sdata["modes_mobilisation"],
                    mobilisable_by=sdata["mobilisable_par"],
                    opening_hours=sdata["horaires_accueil"] or "",
                    commune_id=sdata["code_insee"],
                    food_choice=service_record.food_choice,
                    food_conditions=service_record.food_conditions,
                    is_itinerant=service_record.is_itinerant,
                    data_updated_on=structure.data_updated_on,
                )
                services.append(service)
                for through, kind, values in (
                    (thematiques, Category.Kind.THEMATIQUE, sdata["thematiques"]),
                    (publics, Category.Kind.PUBLIC, sdata["publics"]),
                    (food_aid, Category.Kind.FOOD_AID, service_record.food_aid),
                ):
                    for value in values or []:
                        if (pk := categories.get((kind, value))) is not None:
                            m2m[through].append(through(service_id=service.pk, category_id=pk))
                if service_record.is_itinerant:
                    for position in range(rng.randint(2, 4)):
                        stops.append(
                            ServiceStop(
                                service_id=service.pk,
                                commune_id=rng.choice(commune_codes),
                                opening_hours=rng.choice(["Tu 09:00-12:00", "Fr 14:00-17:00"]),
                                position=position,
                            )
                        )
        Structure.objects.bulk_create(structures, batch_size=BATCH)
        Service.objects.bulk_create(services, batch_size=BATCH)
        Contact.objects.bulk_create(contacts, batch_size=BATCH)
        ServiceStop.objects.bulk_create(stops, batch_size=BATCH)
        for through, rows in m2m.items():
            through.objects.bulk_create(rows, batch_size=BATCH)
            links += rows
        totals["structures"] += len(structures)
        totals["services"] += len(services)
        totals["m2m"] += len(links)
        totals["contacts"] += len(contacts)
        totals["stops"] += len(stops)
        ctx.say(
            f"annuaire : {totals['structures']}/{wanted} structures, "
            f"{totals['services']} services, {totals['m2m']} liens M2M"
        )
    ctx.counts.update(
        structures=Structure.objects.count(),
        services=Service.objects.count(),
        service_categories=thematiques.objects.count()
        + publics.objects.count()
        + food_aid.objects.count(),
        contacts=Contact.objects.count(),
        service_stops=ServiceStop.objects.count(),
    )


# Diagnostic rows per scale, in total (the demonstration diagnostic that load_demo writes
# included): meetings, needs, pathways (4 steps each), testimonies, surveys, survey responses.
DIAGNOSTIC_TOTALS = {
    "association": dict.fromkeys(
        ("meetings", "needs", "pathways", "testimonies", "surveys", "responses"), 0
    ),
    "region": {
        "meetings": 2_000,
        "needs": 6_000,
        "pathways": 60,
        "testimonies": 600,
        "surveys": 60,
        "responses": 3_000,
    },
    "national": {
        "meetings": 20_000,
        "needs": 60_000,
        "pathways": 500,
        "testimonies": 5_000,
        "surveys": 1_254,
        "responses": 30_000,
    },
}
# Any other scale (the smoke test's): so many rows per EPCI.
DIAGNOSTIC_PER_EPCI = {
    "meetings": 16,
    "needs": 48,
    "pathways": 1,
    "testimonies": 5,
    "surveys": 1,
    "responses": 25,
}
MEETING_TITLES = [
    "Entretien avec l'équipe d'un CCAS",
    "Réunion des acteurs de l'aide alimentaire",
    "Visite d'une distribution alimentaire",
    "Échange avec une épicerie solidaire",
    "Rencontre avec un centre social",
    "Point téléphonique avec une association caritative",
    "Atelier d'échange avec des bénévoles",
    "Réunion avec les services du département",
]
MEETING_NOTES = [
    "Les horaires de distribution ne conviennent pas aux personnes qui travaillent.",
    "Les bénévoles signalent une hausse des demandes depuis l'automne.",
    "Le transport reste le premier frein cité par l'équipe.",
    "Peu de produits frais dans les colis, faute de chambre froide.",
]
NEED_TITLES = [
    "Reste à vivre insuffisant après les charges",
    "Pas de transport vers le lieu de distribution",
    "Pas de cuisine ni de stockage en hébergement",
    "Peu d'idées de repas avec les produits reçus",
    "Régimes particuliers mal couverts",
    "Personnes âgées isolées qui ne viennent plus",
    "Dossiers d'aide jamais déposés",
    "Documents d'information disponibles en français seulement",
    "Logement sans équipement pour cuisiner",
    "Aucun commerce alimentaire dans la commune",
    "Honte de se présenter à la distribution",
    "Horaires d'ouverture trop restreints",
]
PERSONAS = [
    "Mère seule avec deux enfants, sans voiture, commune rurale",
    "Retraité vivant seul, petite pension, sans internet",
    "Étudiante en colocation, sans bourse, loin de sa famille",
    "Couple avec trois enfants, un salaire au SMIC, loyer élevé",
    "Homme hébergé en foyer, sans cuisine, en démarche d'emploi",
]
STEP_KINDS = [
    "Médecin traitant",
    "CCAS",
    "Épicerie solidaire",
    "Association d'aide alimentaire",
    "Centre social",
    "Mission locale",
    "Assistante sociale du département",
]
STEP_TEXTS = [
    "Repère la situation et oriente vers un accompagnement.",
    "Instruit une demande d'aide alimentaire.",
    "Ouvre un droit de trois mois.",
    "Propose un colis mensuel, sans choix des produits.",
    "Propose un atelier cuisine collectif.",
]
BREAKS = [
    "",
    "",
    "Le rendez-vous tombe pendant les heures de travail : la démarche s'arrête.",
    "Aucun transport ne permet de s'y rendre : la personne renonce.",
    "À la fin du droit, aucun relais n'est proposé.",
]
TESTIMONY_CONTEXTS = [
    "Distribution alimentaire, hiver",
    "Atelier cuisine",
    "Permanence du CCAS",
    "Épicerie solidaire",
    "Rencontre au centre social",
]
TESTIMONY_TEXTS = [
    "Le samedi il n'y a pas de bus, alors je demande à quelqu'un, mais je n'ose pas tous les mois.",
    "Avec le colis on mange souvent la même chose.",
    "Je ne savais pas que j'avais droit à quelque chose, personne ne me l'avait dit.",
    "Je n'ai qu'une plaque électrique, je ne peux pas cuisiner les légumes secs.",
    "Je viens quand il n'y a pas de monde, j'ai peur de croiser des voisins.",
    "À la fin du mois il reste à peine de quoi acheter du pain.",
]
# Chance of a "yes" to each FIES question, from the mildest to the most severe.
FIES_YES = (0.45, 0.4, 0.35, 0.3, 0.22, 0.15, 0.1, 0.06)


def _diagnostic_volumes(scale) -> dict[str, int]:
    if scale.name in DIAGNOSTIC_TOTALS:
        return DIAGNOSTIC_TOTALS[scale.name]
    return {key: rate * scale.epci for key, rate in DIAGNOSTIC_PER_EPCI.items()}


def _fictional(text: str) -> str:
    return f"{text} (fictif)"


def seed_diagnostic(ctx: SeedContext) -> None:
    """Meetings (with 1–3 structures of their EPCI), needs (some from a meeting, with its
    structures and publics), pathways of 4 steps (with the needs behind their breaks),
    testimonies (always with consent) and FIES questionnaires with their anonymous answers, on
    the territories of the programmes besides the demonstration one (which keeps its own
    diagnostic, from load_demo, at every scale): association nothing more, region 2,000
    meetings and 6,000 needs, national 20,000 meetings, 60,000 needs, 500 pathways, 5,000
    testimonies, 1,254 questionnaires and 30,000 answers (totals, the demonstration included)."""
    from collections import defaultdict

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
    from tablee.directory.models import Category, Structure
    from tablee.territories.models import ProgrammeTerritory

    rng = ctx.rng
    models = {
        "meetings": Meeting,
        "needs": Need,
        "pathways": Pathway,
        "testimonies": Testimony,
        "surveys": Survey,
        "responses": SurveyResponse,
    }
    wanted = {
        key: max(0, total - models[key].objects.count())
        for key, total in _diagnostic_volumes(ctx.scale).items()
    }
    territories = list(
        ProgrammeTerritory.objects.filter(programme_id__in=ctx.programme_ids)
        .exclude(programme__is_demo=True)
        .order_by("territory_id")
        .values_list("pk", "territory_id")
    )
    if not territories or not any(wanted.values()):
        ctx.say("diagnostic : celui de la démonstration seulement")
        return
    structures_of = defaultdict(list)  # EPCI siren -> structure ids
    for pk, siren in (
        Structure.objects.filter(commune__territory_id__in=[s for _, s in territories])
        .order_by("pk")
        .values_list("pk", "commune__territory_id")
    ):
        structures_of[siren].append(pk)
    categories = list(
        BarrierCategory.objects.filter(is_active=True)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    publics = list(
        Category.objects.filter(kind=Category.Kind.PUBLIC)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    start = datetime.date(2024, 1, 8)
    days = (datetime.date(2026, 6, 30) - start).days

    def some_date() -> datetime.date:
        return start + datetime.timedelta(days=rng.randrange(days))

    # Meetings, with 1–3 structures of their EPCI.
    meetings, meeting_links = [], []
    meetings_of = defaultdict(list)  # programme territory -> [(meeting id, structure ids)]
    meeting_through = Meeting.structures.through
    for _ in range(wanted["meetings"]):
        pt, siren = rng.choice(territories)
        meeting = Meeting(
            id=_uuid(rng),
            programme_territory_id=pt,
            date=some_date(),
            format=rng.choice(Meeting.Format.values),
            title=_fictional(rng.choice(MEETING_TITLES)),
            social_workers=rng.randint(0, 4),
            health_professionals=rng.randint(0, 2),
            volunteers=rng.randint(0, 8),
            elected_officials=rng.randint(0, 1),
            people_concerned=rng.randint(0, 5),
            others=rng.randint(0, 2),
            notes=_fictional(rng.choice(MEETING_NOTES)),
            notes_shareable=rng.random() < 0.4,
        )
        pool = structures_of[siren]
        met = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
        meeting_links.extend(meeting_through(meeting_id=meeting.pk, structure_id=s) for s in met)
        meetings.append(meeting)
        meetings_of[pt].append((meeting.pk, met))
    Meeting.objects.bulk_create(meetings, batch_size=BATCH)
    meeting_through.objects.bulk_create(meeting_links, batch_size=BATCH)
    ctx.say(f"diagnostic : {len(meetings)} rencontres, {len(meeting_links)} structures rencontrées")

    # Needs: from a meeting of their territory (with its structures) or from elsewhere.
    needs, need_structures, need_publics = [], [], []
    needs_of = defaultdict(list)  # programme territory -> need ids
    structure_through, public_through = Need.structures.through, Need.publics.through
    for _ in range(wanted["needs"]):
        pt, siren = rng.choice(territories)
        source = rng.choices(Need.Source.values, weights=(6, 2, 1, 1))[0]
        meeting_id, structures = None, []
        if source == Need.Source.MEETING and meetings_of[pt]:
            meeting_id, structures = rng.choice(meetings_of[pt])
        elif rng.random() < 0.3 and structures_of[siren]:
            structures = [rng.choice(structures_of[siren])]
        need = Need(
            id=_uuid(rng),
            programme_territory_id=pt,
            category_id=rng.choice(categories),
            title=_fictional(rng.choice(NEED_TITLES)),
            description=_fictional("Besoin relevé pendant le diagnostic du banc d'essai"),
            severity=rng.choices((1, 2, 3), weights=(3, 4, 2))[0],
            source=source,
            meeting_id=meeting_id,
        )
        needs.append(need)
        needs_of[pt].append(need.pk)
        need_structures.extend(
            structure_through(need_id=need.pk, structure_id=s) for s in structures
        )
        need_publics.extend(
            public_through(need_id=need.pk, category_id=c)
            for c in rng.sample(publics, min(len(publics), rng.randint(0, 2)))
        )
    Need.objects.bulk_create(needs, batch_size=BATCH)
    structure_through.objects.bulk_create(need_structures, batch_size=BATCH)
    public_through.objects.bulk_create(need_publics, batch_size=BATCH)
    ctx.say(
        f"diagnostic : {len(needs)} besoins, {len(need_structures)} liens structures, "
        f"{len(need_publics)} liens publics"
    )

    def some_needs(pt, most: int) -> list:
        pool = needs_of[pt]
        return rng.sample(pool, min(len(pool), rng.randint(0, most)))

    # Pathways of four steps; the needs behind a break are those of the same territory.
    pathways, steps, step_needs = [], [], []
    for number in range(wanted["pathways"]):
        # One per territory first, then on territories drawn at random.
        pt, siren = territories[number] if number < len(territories) else rng.choice(territories)
        persona = rng.choice(PERSONAS)
        pathway = Pathway(
            id=_uuid(rng),
            programme_territory_id=pt,
            title=_fictional(f"Parcours type {number + 1} : {persona.lower()}"),
            persona=f"{persona} (situation type fictive).",
        )
        pathways.append(pathway)
        for position in range(1, 5):
            pool = structures_of[siren]
            step = PathwayStep(
                pathway_id=pathway.pk,
                position=position,
                structure_id=rng.choice(pool) if pool and rng.random() < 0.5 else None,
                structure_type=rng.choice(STEP_KINDS),
                description=rng.choice(STEP_TEXTS),
                delay_days=rng.choice((None, 3, 7, 10, 21, 30)),
                distance_km=rng.choice((None, 2, 5, 12, 18, 25)),
                break_after="" if position == 4 else rng.choice(BREAKS),
            )
            steps.append(step)
            step_needs.append(some_needs(pt, 2) if step.break_after else [])
    Pathway.objects.bulk_create(pathways, batch_size=BATCH)
    PathwayStep.objects.bulk_create(steps, batch_size=BATCH)
    if steps and steps[0].pk is None:  # a database that does not return the ids it inserts
        ids = {
            (pathway, position): pk
            for pk, pathway, position in PathwayStep.objects.filter(
                pathway_id__in=[p.pk for p in pathways]
            ).values_list("pk", "pathway_id", "position")
        }
        for step in steps:
            step.pk = ids[step.pathway_id, step.position]
    break_through = PathwayStep.break_needs.through
    break_links = [
        break_through(pathwaystep_id=step.pk, need_id=need)
        for step, linked in zip(steps, step_needs, strict=True)
        for need in linked
    ]
    break_through.objects.bulk_create(break_links, batch_size=BATCH)

    # Testimonies, always given with consent (a database constraint).
    testimonies, testimony_needs = [], []
    testimony_through = Testimony.needs.through
    for _ in range(wanted["testimonies"]):
        pt, _siren = rng.choice(territories)
        testimony = Testimony(
            id=_uuid(rng),
            programme_territory_id=pt,
            date=some_date(),
            context=_fictional(rng.choice(TESTIMONY_CONTEXTS)),
            text=_fictional(rng.choice(TESTIMONY_TEXTS)),
            consent_given=True,
            shareable=rng.random() < 0.6,
        )
        testimonies.append(testimony)
        testimony_needs.extend(
            testimony_through(testimony_id=testimony.pk, need_id=n) for n in some_needs(pt, 2)
        )
    Testimony.objects.bulk_create(testimonies, batch_size=BATCH)
    testimony_through.objects.bulk_create(testimony_needs, batch_size=BATCH)

    # Questionnaires (one per territory first) and their anonymous answers. bulk_create skips
    # save(): the raw score is counted here.
    surveys = []
    for number in range(wanted["surveys"]):
        pt, _siren = territories[number] if number < len(territories) else rng.choice(territories)
        surveys.append(
            Survey(
                id=_uuid(rng),
                programme_territory_id=pt,
                title=_fictional(f"Questionnaire FIES {number + 1}"),
                token=f"bench{rng.getrandbits(96):024x}",
                is_open=rng.random() < 0.7,
            )
        )
    Survey.objects.bulk_create(surveys, batch_size=BATCH)
    responses = []
    for number in range(wanted["responses"] if surveys else 0):
        answers = [
            Answer.YES
            if rng.random() < chance
            else rng.choice((Answer.NO,) * 9 + (Answer.REFUSED,))
            for chance in FIES_YES
        ]
        responses.append(
            SurveyResponse(
                survey_id=rng.choice(surveys).pk,
                **{f"q{i}": answer for i, answer in enumerate(answers, start=1)},
                raw_score=answers.count(Answer.YES),
                channel=rng.choice(SurveyResponse.Channel.values),
                submission_token=f"bench-{number:06d}",
            )
        )
    SurveyResponse.objects.bulk_create(responses, batch_size=BATCH)
    ctx.counts.update(
        meetings=Meeting.objects.count(),
        needs=Need.objects.count(),
        pathways=Pathway.objects.count(),
        pathway_steps=PathwayStep.objects.count(),
        testimonies=Testimony.objects.count(),
        surveys=Survey.objects.count(),
        survey_responses=SurveyResponse.objects.count(),
    )
    ctx.say(
        f"diagnostic : {len(pathways)} parcours ({len(steps)} étapes), "
        f"{len(testimonies)} paroles, {len(surveys)} questionnaires, {len(responses)} réponses"
    )


# In the order of the cycle: each stage may read what the previous ones wrote (ctx).
STAGES = [
    seed_referential,
    seed_demo,
    seed_programmes,
    seed_indicators,
    seed_directory,
    seed_diagnostic,
    seed_plans,
    seed_activities,
    seed_network,
]


def _uuid(rng: random.Random):
    from benchmarks.generate import seeded_uuid

    return seeded_uuid(rng)


def is_seeded() -> bool:
    """Whether the configured database already holds a complete seed (the last stage that writes
    rows commits with all the others, in one transaction)."""
    from django.db.utils import OperationalError, ProgrammingError

    from tablee.accounts.models import User

    try:
        return User.objects.filter(email=ADMIN_EMAIL).exists()
    except (OperationalError, ProgrammingError):
        return False


def seed(scale: str | Scale) -> dict[str, int]:
    """Run every stage for ``scale`` (a name of SCALES, or a Scale of one's own, as the smoke
    test does) on the configured database; returns the counts."""
    from django.db import connection, transaction

    scale = SCALES[scale] if isinstance(scale, str) else scale
    ctx = SeedContext(scale=scale, rng=random.Random(scale.seed))
    with transaction.atomic():
        for stage in STAGES:
            stage(ctx)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    elapsed = time.perf_counter() - ctx.started
    ctx.counts["seconds"] = round(elapsed, 1)
    ctx.say("terminé : " + ", ".join(f"{k} {v}" for k, v in ctx.counts.items()))
    return ctx.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.seed",
        description="Remplit une base de banc d'essai (par défaut var/bench-<échelle>.sqlite3).",
    )
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument(
        "--database-url",
        default=None,
        help="Base à remplir (PostgreSQL...) au lieu du fichier SQLite de l'échelle.",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="Repartir d'une base vide (supprime le fichier SQLite de l'échelle).",
    )
    args = parser.parse_args(argv)
    if args.force and not args.database_url:
        for suffix in ("", "-wal", "-shm"):
            path = sqlite_path(args.scale).with_name(sqlite_path(args.scale).name + suffix)
            path.unlink(missing_ok=True)
    setup_django(args.scale, args.database_url)
    if is_seeded():
        print(f"La base de l'échelle {args.scale} est déjà remplie (--force pour recommencer).")
        return 0
    seed(args.scale)
    return 0


if __name__ == "__main__":
    # Keep the output readable when piped (progress lines are flushed one by one).
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main())
