from django.core.management.base import BaseCommand

from tablee.demo.services import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = (
        "Charge (ou met à jour) le programme de démonstration fictif sur six EPCI bretons et un "
        "compte de démonstration par rôle. Le référentiel national doit être chargé avant."
    )

    def handle(self, *args, **options):
        counts = load_demo()
        for label, value in counts.items():
            self.stdout.write(f"{label} : {value}")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Programme de démonstration prêt."))
        self.stdout.write(
            "Ouvrez http://127.0.0.1:8000 et connectez-vous avec l'un de ces comptes :"
        )
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.role_label:<20} {account.email}")
        self.stdout.write(f"Mot de passe de tous les comptes de démonstration : {DEMO_PASSWORD}")
