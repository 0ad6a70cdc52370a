import uuid

from django.core.management.base import BaseCommand

from tablee.network.services import refresh_all_links
from tablee.territories.models import ProgrammeTerritory


class Command(BaseCommand):
    help = (
        "Recalcule les liens déduits des rencontres, concertations et séances réalisées, pour "
        "tous les territoires des programmes (ou ceux d'un programme). Les liens saisis à la main "
        "ne sont jamais modifiés. Sans effet si rien n'a changé : la commande peut être relancée."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--programme",
            type=uuid.UUID,
            help="Identifiant (UUID) d'un programme : ses territoires seulement.",
        )

    def handle(self, *args, programme=None, **options):
        territories = ProgrammeTerritory.objects.order_by("pk")
        if programme:
            territories = territories.filter(programme_id=programme)
        totals = refresh_all_links(territories)
        self.stdout.write(
            self.style.SUCCESS(
                f"{totals['territories']} territoire(s) recalculé(s) : {totals['created']} lien(s) "
                f"créé(s), {totals['updated']} mis à jour, {totals['deleted']} supprimé(s), "
                f"{totals['unchanged']} inchangé(s)."
            )
        )
