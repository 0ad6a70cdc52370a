"""Fill a benchmark database with realistic, reproducible data at one of three scales.

    python -m benchmarks.seed --scale association|region|national [--database-url URL] [--force]

The data is fictional but shaped like the real thing, on the real national referential: the
demonstration programme (six Breton EPCI) at every scale, then more programmes, their
coordinators, indicators for every EPCI, and structures with their services spread over the
communes by population. ``random.Random(scale.seed)`` drives every choice: the same scale always
gets the same rows.

One function per stage of the cycle (``STAGES``): the stages that do not exist yet (diagnostic,
plans, activities, network) say so and write nothing; each later issue fills its function in.
Everything is written in one transaction, with bulk inserts.
"""

import argparse
import datetime
import io
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from benchmarks.common import SCALES, Scale, setup_django, sqlite_path

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
    if not any("structures" in label for label in counts):  # load_demo without its directory
        try:
            from tablee.demo.directory import load_demo_directory
        except ImportError:
            pass
        else:
            counts["structures"] = load_demo_directory(programme)
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


def _later_stage(name: str, rows: str) -> Callable[[SeedContext], None]:
    def stage(ctx: SeedContext) -> None:
        ctx.say(f"{name} : étape pas encore livrée ({rows} à ajouter par son issue)")

    stage.__name__ = f"seed_{name}"
    stage.__doc__ = f"Placeholder: the issue of the {name} stage writes {rows} here."
    return stage


# Rows per scale the later stages must write (issue 9): association / region / national.
seed_diagnostic = _later_stage("diagnostic", "rencontres et besoins (20 000 et 60 000 au national)")
seed_plans = _later_stage("plans", "plans d'action et actions (5 000 au national)")
seed_activities = _later_stage(
    "activities", "séances et présences (348 / 7 000 / 70 000 séances, 700 000 présences)"
)
seed_network = _later_stage("network", "liens entre structures (500 000 au national)")

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
