from django.conf import settings
from django.core.management.base import BaseCommand

from tablee.activities.services_attendance import reminders_send


class Command(BaseCommand):
    help = (
        "Envoie un e-mail de rappel aux personnes inscrites (confirmées) aux séances qui "
        "commencent dans les 48 heures. Chaque personne ne reçoit qu'un rappel : la commande peut "
        "tourner chaque heure sans renvoyer les mêmes e-mails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--adresse-du-site",
            dest="base_url",
            default=getattr(settings, "TABLEE_SITE_URL", "") or "http://localhost:8000",
            help="Adresse du site, pour les liens de désinscription (par défaut TABLEE_SITE_URL).",
        )

    def handle(self, *args, base_url, **options):
        counts = reminders_send(base_url=base_url)
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts.sent} rappel(s) envoyé(s) pour {counts.sessions} séance(s)."
            )
        )
        if counts.failed:
            self.stderr.write(
                f"{counts.failed} rappel(s) non envoyé(s) : ils seront retentés au prochain "
                "passage."
            )
