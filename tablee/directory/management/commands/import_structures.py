import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tablee.core.spreadsheets import SpreadsheetRejected
from tablee.directory.importers import REFUSED
from tablee.directory.imports import ImportRefused, directory_import

MAX_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Importe des structures et des services data·inclusion (JSON, JSON lines, CSV, modèle "
        "XLSX officiel, ZIP d'un export) dans l'annuaire. Chaque ligne est vérifiée ; si une seule "
        "est refusée, rien n'est écrit, sauf avec --ignorer-invalides (--skip-invalid). "
        "Réimporter le même fichier ne change rien."
    )

    # A data command, often run on a national file: the system checks would import every view
    # of the site (PDF and office libraries, about 55 MB) that it never uses. `manage.py check`
    # runs them when the site is deployed.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FICHIER")
        parser.add_argument(
            "--source",
            default="",
            help="Source des lignes qui n'en indiquent pas (par défaut : le nom du fichier).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Vérifier et compter sans rien écrire.",
        )
        parser.add_argument(
            "--skip-invalid",
            "--ignorer-invalides",
            dest="skip_invalid",
            action="store_true",
            help="Importer les lignes valides et laisser de côté les lignes refusées.",
        )

    def handle(self, *args, files, source, dry_run, skip_invalid, **options):
        for path in files:
            if not path.is_file():
                raise CommandError(f"Fichier introuvable : {path}")
        source = source or files[0].stem
        started = time.perf_counter()
        last = {"step": None}

        def progress(step, done, total):
            if step != last["step"] or done == total or done % 5000 == 0:
                self.stderr.write(f"{step} : {done}/{total}")
                last["step"] = step

        try:
            result = directory_import(
                files=[(path, path.name) for path in files],
                source=source,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                progress=progress,
            )
        except SpreadsheetRejected as exc:
            for problem in exc.shown:
                self.stderr.write(str(problem))
            raise CommandError("Fichier refusé. Rien n'a été écrit.") from exc
        except ImportRefused as exc:
            self._show_refused(exc.plan)
            raise CommandError(
                f"{exc.plan.refused} ligne(s) refusée(s). Rien n'a été écrit. Corrigez le "
                "fichier, ou relancez avec --skip-invalid pour n'importer que les lignes valides."
            ) from exc
        plan = result.plan
        for notice in plan.notices:
            self.stdout.write(notice)
        if plan.ignored_rows:
            self.stdout.write(f"{plan.ignored_rows} ligne(s) marquée(s) __ignore__ non lue(s).")
        self._show_refused(plan)
        # The plan keeps a bounded part of the rows of a large file: the counts are its own.
        duplicates = [row for row in plan.rows if row.duplicates][:MAX_SHOWN]
        if plan.duplicates:
            self.stdout.write(f"{plan.duplicates} doublon(s) probable(s) à vérifier :")
            for row in duplicates:
                self.stdout.write(f"  {row.location} : {'; '.join(row.duplicates)}")
            if plan.duplicates > len(duplicates):
                self.stdout.write(f"  … et {plan.duplicates - len(duplicates)} autre(s).")
        elapsed = time.perf_counter() - started
        self.stdout.write(result.summary())
        rows = plan.total
        if dry_run:
            self.stdout.write(self.style.WARNING("Essai à blanc : rien n'a été écrit."))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Import terminé en {elapsed:.1f} s ({rows / max(elapsed, 0.001):.0f} lignes/s)."
                )
            )

    def _show_refused(self, plan):
        refused = [row for row in plan.rows if row.action == REFUSED][:MAX_SHOWN]
        for row in refused:
            for problem in row.problems:
                self.stderr.write(f"{row.location} : {problem}")
        if plan.refused > len(refused):
            self.stderr.write(f"… et {plan.refused - len(refused)} autre(s) ligne(s) refusée(s).")
