from pathlib import Path

from django.core.management.base import BaseCommand

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.directory.exporters import FORMATS, export_directory
from tablee.directory.models import Structure


class Command(BaseCommand):
    help = (
        "Exporte tout l'annuaire : data·inclusion JSON ou CSV (un ZIP avec les structures et les "
        "services, conformes au schéma officiel) ou XLSX pour une lecture par des personnes. "
        "Les noms des professionnel·les ne sont jamais exportés."
    )

    # A data command, often run on the whole directory: the system checks would import every view
    # of the site (PDF and office libraries, about 55 MB) that it never uses. `manage.py check`
    # runs them when the site is deployed.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", choices=sorted(FORMATS), required=True)
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="Fichier à écrire (par défaut : dans le dossier courant, nommé d'après la date).",
        )

    def handle(self, *args, fmt, output, **options):
        content, filename, _, counts = export_directory(Structure.objects.all(), fmt)
        path = output or Path(filename)
        path.write_bytes(content)
        audit(
            AuditEvent.Kind.EXPORT,
            target="annuaire (ligne de commande)",
            format=fmt,
            structures=counts.structures,
            services=counts.services,
            skipped=len(counts.skipped),
        )
        for reason in counts.skipped[:50]:
            self.stderr.write(f"Non exporté : {reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts.structures} structure(s) et {counts.services} service(s) exportés "
                f"dans {path}."
            )
        )
