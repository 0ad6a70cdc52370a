import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tablee.activities.imports import (
    FIELDS,
    ImportRefused,
    check_mapping,
    guess_mapping,
    parse_mapping_option,
    sessions_import,
)
from tablee.core.spreadsheets import SpreadsheetRejected, read_table
from tablee.territories.models import Programme

MAX_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Importe l'historique des séances (ateliers et formations) d'un programme depuis un "
        "fichier CSV ou XLSX, une ligne par séance. Les colonnes sont reconnues d'après leur nom, "
        "ou indiquées avec --mapping. Chaque ligne est vérifiée ; si une seule pose problème, rien "
        "n'est écrit. Importer deux fois le même fichier ne change rien la seconde fois."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FICHIER", help="Fichier CSV ou XLSX.")
        parser.add_argument(
            "--programme",
            required=True,
            help="Identifiant (UUID) ou nom exact du programme.",
        )
        parser.add_argument(
            "--mapping",
            default="",
            help=(
                'Colonnes à utiliser, par exemple "date=Date,territoire=EPCI,format=Atelier" ; '
                "les champs non indiqués sont devinés d'après les noms des colonnes. Champs : "
                + ", ".join(f.key for f in FIELDS)
                + "."
            ),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Vérifier et compter sans rien écrire."
        )

    def handle(self, *args, file, programme, mapping, dry_run, **options):
        found = self._programme(programme)
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Impossible de lire « {file} » : {error.strerror}.") from None
        try:
            sheet = read_table(data)
        except SpreadsheetRejected as rejected:
            self._problems(rejected.problems)
            raise CommandError(
                f"Le fichier n'a pas pu être lu ({rejected.total} problème(s)) : rien n'a été "
                "écrit."
            ) from None
        columns = guess_mapping(sheet.columns)
        try:
            columns.update(parse_mapping_option(mapping))
        except ValueError as error:
            raise CommandError(f"--mapping : {error}") from None
        errors = check_mapping(columns, sheet.columns)
        if errors:
            for error in errors:
                self.stderr.write(error)
            raise CommandError("Les colonnes ne conviennent pas : rien n'a été écrit.")
        self.stdout.write(
            "Colonnes : " + ", ".join(f"{key} = « {name} »" for key, name in columns.items())
        )
        try:
            result = sessions_import(
                sheet=sheet,
                programme=found,
                mapping=columns,
                dry_run=dry_run,
                source="command",
            )
        except ImportRefused as refused:
            self._problems(refused.plan.problems)
            raise CommandError(
                f"{len(refused.plan.problems)} problème(s) dans le fichier : rien n'a été écrit."
            ) from None
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"Simulation, rien n'a été écrit : {result.plan.summary()}")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Import terminé : {result.summary()}"))

    def _programme(self, text: str) -> Programme:
        try:
            return Programme.objects.get(pk=uuid.UUID(text))
        except (ValueError, Programme.DoesNotExist):
            pass
        matches = list(Programme.objects.filter(name=text)[:2])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise CommandError(
                f"Plusieurs programmes s'appellent « {text} » : indiquez son identifiant (UUID)."
            )
        raise CommandError(f"Programme inconnu : « {text} » (ni identifiant, ni nom exact).")

    def _problems(self, problems) -> None:
        for problem in problems[:MAX_SHOWN]:
            self.stderr.write(str(problem))
        if len(problems) > MAX_SHOWN:
            self.stderr.write(f"… et {len(problems) - MAX_SHOWN} autre(s).")
