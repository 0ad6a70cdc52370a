"""The demonstration network: a few links entered by hand on each territory of the demonstration
programme, between fictional structures of the demonstration directory (social or medico-social
towards health), then the links derived from the demonstration's meetings, co-construction
sessions and held workshops.

``load_demo_network(programme)`` is idempotent: manual links are keyed on their territory, their
two structures and their kind, and derived links are recomputed from the records (nothing new when
nothing changed). It works with whatever demonstration records exist: without the workshops
(``tablee.demo.activities``), only the meetings and co-construction sessions yield links.
"""

import datetime

from django.db import transaction

from tablee.demo.directory import SOURCE
from tablee.directory.models import Structure
from tablee.network.models import Link, LinkKind, LinkSource
from tablee.network.services import ordered_pair, refresh_derived_links

MANUAL_LINKS = [
    # (kind of the first structure, kind of the second, link kind, since, note)
    (
        "ccas",
        "cmp",
        LinkKind.INFORMATION,
        datetime.date(2023, 10, 2),
        "Échanges entre l'équipe du CCAS et le CMP, antérieurs au programme (fictif).",
    ),
    (
        "ccas",
        "centre-sante",
        LinkKind.REFERRAL,
        datetime.date(2025, 1, 15),
        "Orientations vers les consultations de médecine générale (fictif).",
    ),
    (
        "pmi",
        "msp",
        LinkKind.PARTNERSHIP,
        datetime.date(2025, 6, 2),
        "Convention pour des ateliers d'éducation nutritionnelle des familles (fictif).",
    ),
]


@transaction.atomic
def load_demo_network(programme) -> dict[str, int]:
    """Create or refresh the demonstration links of each territory of ``programme``; counts."""
    territories = list(programme.territories.select_related("territory").order_by("territory_id"))
    keys = {
        f"{pt.territory_id}-{kind}"
        for pt in territories
        for first, second, *_ in MANUAL_LINKS
        for kind in (first, second)
    }
    structures = {
        structure.source_id: structure
        for structure in Structure.objects.filter(source=SOURCE, source_id__in=keys)
    }
    manual = 0
    for pt in territories:
        for first_kind, second_kind, kind, started_on, note in MANUAL_LINKS:
            first = structures.get(f"{pt.territory_id}-{first_kind}")
            second = structures.get(f"{pt.territory_id}-{second_kind}")
            if first is None or second is None:
                continue  # an EPCI without communes in the referential has no structures
            structure_a, structure_b = (
                (first, second)
                if ordered_pair(first.pk, second.pk)[0] == first.pk
                else (second, first)
            )
            Link.objects.update_or_create(
                programme_territory=pt,
                structure_a=structure_a,
                structure_b=structure_b,
                kind=kind,
                source=LinkSource.MANUAL,
                defaults={"started_on": started_on, "ended_on": None, "note": note},
            )
            manual += 1
    for pt in territories:
        refresh_derived_links(programme_territory=pt)
    derived = Link.objects.filter(
        programme_territory__in=territories, source=LinkSource.DERIVED
    ).count()
    return {"liens saisis à la main": manual, "liens déduits des rencontres et séances": derived}
