"""The « volet justice sociale » of the PAT as a PDF: its content, masking, audit, permissions."""

import datetime
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.diagnostic.tests.factories_i import MeetingFactory
from tablee.plans.models import (
    ActionIndicator,
    IndicatorMeasure,
    ParticipantCount,
    StakeholderGroup,
)
from tablee.plans.tests.factories import ConsultationSessionFactory, ProposalFactory
from tablee.plans.tests.factories_sheets import EDITORS, OUT_OF_SCOPE, READERS, PlanWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = PlanWorld()
    w.t1.pat_name = "PAT du Centre Bretagne (fictif)"
    w.t1.save()
    meeting = MeetingFactory(programme_territory=w.t1, people_concerned=2)
    meeting.structures.set([w.own, w.neighbour])
    w.transport.structures.set([w.own, w.neighbour])
    session = ConsultationSessionFactory(programme_territory=w.t1)
    ParticipantCount.objects.create(session=session, group=StakeholderGroup.PEOPLE, count=6)
    ParticipantCount.objects.create(session=session, group=StakeholderGroup.PROFESSIONALS, count=14)
    ProposalFactory(programme_territory=w.t1, origin_group=StakeholderGroup.PEOPLE)
    indicator = ActionIndicator.objects.create(
        action=w.a1,
        label="Trajets assurés par mois",
        unit="trajets",
        baseline=Decimal("0"),
        target=Decimal("8"),
    )
    IndicatorMeasure.objects.create(
        indicator=indicator, date=datetime.date(2025, 3, 31), value=Decimal("3")
    )
    IndicatorMeasure.objects.create(
        indicator=indicator, date=datetime.date(2025, 6, 30), value=Decimal("6")
    )
    return w


def url(pt):
    return reverse("plan_sheets:pat_pdf", args=[pt.pk])


def pdf_text(content: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext est introuvable : apt-get install poppler-utils", pytrace=False)
    pdf = tmp_path / "pat.pdf"
    pdf.write_bytes(content)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    return " ".join(text.split())


def test_the_pdf_holds_diagnostic_plan_who_does_what_calendar_and_indicators(
    client, world, tmp_path
):
    client.force_login(world.coordinator)

    response = client.get(url(world.t1))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "pat-volet-justice-sociale-cc-une.pdf" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content, tmp_path)
    assert "Volet justice sociale du PAT — CC Une" in text
    assert "PAT du Centre Bretagne (fictif)" in text
    # Diagnostic summary: counts, needs per category, most cited needs.
    assert "1 rencontre avec 2 structures du territoire" in text
    assert "2 besoins recensés" in text
    assert "Besoins par catégorie de frein" in text
    assert "Pas de transport le samedi" in text
    assert "Reste à vivre trop faible" in text
    # The association sees its counts unmasked.
    assert "personnes concernées rencontrées : 2" in text
    # The plan, by axis.
    assert "Accès à l'alimentation — 40 %" in text
    assert "A1 — Navette solidaire vers l'épicerie" in text
    assert "A2 — Ateliers cuisine à petit budget" in text
    assert "Actions hors axe" in text
    assert "Co-construction" in text
    # Who does what.
    assert "Épicerie solidaire du Centre" in text
    assert "CCAS de Loudéac" in text
    assert "Élue fictive aux solidarités" in text
    assert "À désigner" in text  # A2 has no pilot yet
    # Calendar by quarter, over the programme's period.
    assert "T1 2025" in text
    assert "15/01/2025" in text
    assert "à préciser" in text  # A3 has no dates
    # Indicators with target and latest measure; budget.
    assert "Trajets assurés par mois (trajets)" in text
    assert "6 au 30/06/2025" in text
    assert "DREETS Bretagne" in text
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.actor == world.coordinator
    assert event.detail == {"format": "pdf", "actions": 3, "needs": 2}


def test_the_local_authority_gets_counts_of_persons_under_11_masked(client, world, tmp_path):
    client.force_login(world.local_authority)

    response = client.get(url(world.t1))

    assert response.status_code == 200
    text = pdf_text(response.content, tmp_path)
    assert "Secret statistique" in text
    assert "personnes concernées rencontrées : < 11" in text
    assert "Personnes concernées s" in text  # 6 people concerned in the concertation: masked


@pytest.mark.parametrize("role", EDITORS + READERS)
def test_the_association_the_partner_and_the_local_authority_download_it(client, world, role):
    client.force_login(getattr(world, role))
    response = client.get(url(world.t1))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_the_funder_is_refused(client, world):
    client.force_login(world.funder)
    assert client.get(url(world.t1)).status_code == 403


@pytest.mark.parametrize("role", OUT_OF_SCOPE)
def test_another_territory_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url(world.t1)).status_code == 404


def test_a_territory_without_a_plan_answers_404(client, world):
    client.force_login(world.coordinator)
    assert client.get(url(world.t2)).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client, world):
    response = client.get(url(world.t1))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
