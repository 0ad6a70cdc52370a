import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tablee.territories.referential import DEFAULT_PATH, ReferentialError, load_referential

LABELS = {
    "regions": "Régions",
    "departements": "Départements",
    "territories": "EPCI",
    "communes": "Communes",
}


def _number(value: int) -> str:
    # French thousands separator (narrow no-break space), whatever the locale of the server.
    return f"{value:,}".replace(",", "\u202f")


class Command(BaseCommand):
    help = (
        "Charge ou met à jour le référentiel national (régions, départements, EPCI, communes) "
        "depuis les fichiers livrés avec Tablée. Sans accès réseau ; relancer la commande ne change "
        "rien si les fichiers n'ont pas changé. Les communes et EPCI absents des fichiers sont "
        "supprimés, sauf s'ils sont utilisés ailleurs (structure, programme)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dossier",
            dest="path",
            type=Path,
            default=DEFAULT_PATH,
            help="Dossier des fichiers regions, departements, epci et communes (.csv.gz). "
            "Par défaut : les fichiers livrés avec Tablée.",
        )

    def handle(self, *args, path, **options):
        started = time.perf_counter()
        try:
            counts = load_referential(path=path)
        except ReferentialError as exc:
            raise CommandError(f"{exc} Rien n'a été modifié.") from exc
        elapsed = time.perf_counter() - started
        for level, label in LABELS.items():
            c = counts[level]
            line = (
                f"{label} : {_number(c['created'] + c['updated'] + c['unchanged'])} "
                f"(ajouts : {_number(c['created'])}, mises à jour : {_number(c['updated'])}, "
                f"sans changement : {_number(c['unchanged'])}, "
                f"suppressions : {_number(c['deleted'])}"
            )
            if c["kept"]:
                line += f", absents des fichiers mais gardés car utilisés ailleurs : {_number(c['kept'])}"
            self.stdout.write(line + ")")
        self.stdout.write(
            self.style.SUCCESS(f"Référentiel chargé en {elapsed:.1f} s.".replace(".", ",", 1))
        )
