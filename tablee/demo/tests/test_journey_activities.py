"""The journey of workshops and trainings (issue 6), in a real browser, with axe on each page.

"Done means" of the issue, on the demonstration programme: the coordinator schedules a series,
people register from a phone until the waiting list fills, one registration is cancelled and the
next person is promoted (and told by e-mail), attendance is recorded on a tablet at the door, the
attendance sheet and the certificates are downloaded, an evaluation is answered from a phone, and
the 348 target moves when the session is marked held. Fixtures and helpers come from
test_journeys.py and conftest.py; the demonstration's sessions are loaded by ``load_demo``.
"""

import contextlib
import datetime
import re
import shutil
import subprocess
import zipfile

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tablee.activities.models import Registration, Session
from tablee.demo.services import DEMO_PASSWORD
from tablee.demo.tests.conftest import Browsing
from tablee.demo.tests.test_journeys import demo, sign_in  # noqa: F401 (demo is a fixture)
from tablee.territories.models import Programme

COORDINATOR = "coordination@demo.tablee.fr"
TRAINING = "Formation « repérer et orienter la précarité alimentaire »"
PHONE = {"width": 360, "height": 740}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 900}
# Three professionals register through the public link of a session with two places.
PEOPLE = [
    ("Aline Fictive", "aline.fictive@example.org", "Conseillère ESF", "CCAS de Loudéac (fictif)"),
    ("Bruno Fictif", "bruno.fictif@example.org", "Infirmier", "Centre de santé (fictif)"),
    ("Chloé Fictive", "chloe.fictive@example.org", "Travailleuse sociale", "CDAS (fictif)"),
]
# Two professionals registered for the session of today before it started, and one who came.
DOOR_REGISTRANTS = [
    ("Denise Fictive", "denise.fictive@example.org"),
    ("Étienne Fictif", "etienne.fictif@example.org"),
]
WALK_IN = "Fanny Fictive"
FACILITATOR = "Formatrice de l'association (fictive)"
TOTAL = re.compile(
    r"(\d+) séances réalisées sur (\d+) \(\d+ %\), (\d+) programmées, (\d+) restent à programmer"
)


def pdf_text(path) -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext est introuvable : apt-get install poppler-utils", pytrace=False)
    result = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True)
    return " ".join(result.stdout.decode().split())


def local_path(url: str) -> str:
    """The path of an absolute address of the live server."""
    return "/" + url.split("/", 3)[3] if "://" in url else url


def target_figures(browsing, programme) -> dict[str, int]:
    """The programme's figures as the targets page prints them."""
    page = browsing.visit(reverse("activities:targets", args=[programme.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Objectifs d'ateliers et formations")
    sentence = page.locator("#titre-total + p").inner_text()
    found = TOTAL.search(" ".join(sentence.split()))
    assert found, sentence
    held, target, planned, remaining = (int(n) for n in found.groups())
    return {"held": held, "target": target, "planned": planned, "remaining": remaining}


@contextlib.contextmanager
def another_device(browsing, viewport):
    """A second browser (no cookies: nobody signed in) of ``viewport`` size, watched like the
    first: axe on each page, no console error, no request leaving the live server."""
    context = browsing.page.context.browser.new_context(
        viewport=viewport, locale="fr-FR", timezone_id="Europe/Paris", has_touch=True
    )
    device = Browsing(page=context.new_page(), base_url=browsing.base_url, axe=browsing.axe)

    def leave_no_request_out(route):
        device.external_requests.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(browsing.base_url + "/"), leave_no_request_out)
    device.page.on("console", device._on_console)
    device.page.on("pageerror", device._on_page_error)
    try:
        yield device
        device.assert_clean_console()
    finally:
        context.close()


# The elements of the page's content (``main``) that stick out to the right of the viewport.
WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll("main, main *")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`)"""


def fits_width(page) -> None:
    """The content is read at the device's width, without scrolling sideways. (The main menu of
    the layout, signed in, is another matter: it belongs to the layout.)"""
    assert page.evaluate(WIDER_THAN_VIEWPORT) == []


def series_start(today: datetime.date) -> datetime.date:
    """The first Tuesday of December 2026, or a later day when that one is past."""
    return max(datetime.date(2026, 12, 1), today + datetime.timedelta(days=1))


def extend_programme_to(programme, last_day: datetime.date) -> None:
    """The demonstration programme ends on 31 December 2026 and a session can't be held after
    its end: run later, the journey extends it to its last session, as an amendment (avenant)
    to the funding agreement would."""
    if last_day > programme.end_date:
        Programme.objects.filter(pk=programme.pk).update(end_date=last_day)
        programme.refresh_from_db()


def started_slot(now: datetime.datetime) -> tuple[str, str]:
    """Start and end times of a session of today that has started (local times, same day)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(midnight, now - datetime.timedelta(hours=1)).replace(second=0, microsecond=0)
    end = min(
        now.replace(second=0, microsecond=0) + datetime.timedelta(hours=1),
        midnight.replace(hour=23, minute=59),
    )
    return f"{start:%H:%M}", f"{end:%H:%M}"


@pytest.mark.browser
def test_done_means_series_registrations_door_documents_evaluation_and_target(
    browsing,
    demo,  # noqa: F811 (the fixture imported from test_journeys)
    tmp_path,
):
    pt = demo.loudeac
    programme = demo.programme
    page = sign_in(browsing, COORDINATOR, DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")

    # 1. The targets page before anything, then a weekly series of three trainings, two places.
    before = target_figures(browsing, programme)
    assert before["target"] == 348
    first_day = series_start(timezone.localdate())
    extend_programme_to(programme, first_day + datetime.timedelta(weeks=2))
    page = browsing.visit(reverse("activities:session_create", args=[pt.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Programmer une séance ou une série")
    page.locator("#id_format").select_option(label=TRAINING)
    expect(page.locator("#id_title")).to_have_value(TRAINING)
    page.locator("#id_date").fill(f"{first_day:%Y-%m-%d}")
    page.locator("#id_start_time").fill("09:30")
    page.locator("#id_start_time").dispatch_event("change")
    expect(page.locator("#id_end_time")).to_have_value("13:00")  # 3 h 30, the format's length
    page.locator("#id_repeat").select_option(label="Chaque semaine")
    page.locator("#id_occurrences").fill("3")
    page.locator("#id_place_structure").select_option(index=1)
    page.locator("#id_external_facilitators").fill(FACILITATOR)
    page.locator("#id_capacity").fill("2")
    page.get_by_role("button", name="Enregistrer").click()
    last_day = first_day + datetime.timedelta(weeks=2)
    expect(
        page.get_by_text(
            f"La série de 3 séances est programmée, du {first_day:%d/%m/%Y} au {last_day:%d/%m/%Y}."
        )
    ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(TRAINING)
    browsing.check_page()
    series = list(
        Session.objects.filter(programme_territory=pt, series__isnull=False, title=TRAINING)
        .exclude(import_key__startswith="demo-")
        .order_by("starts_at")
    )
    assert len(series) == 3 and series[0].capacity == 2
    first = series[0]

    # 2. Its public registration link, opened, then three people register from a phone.
    page.get_by_role("link", name="Inscriptions et présences").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Inscriptions et présences")
    browsing.check_page()
    page.get_by_role("button", name="Ouvrir l'inscription en ligne").click()
    expect(page.get_by_text("Le lien d'inscription en ligne est ouvert.")).to_be_visible()
    browsing.check_page()
    public_path = local_path(
        page.get_by_role("region", name="Inscription en ligne")
        .get_by_role("link")
        .get_attribute("href")
    )
    with another_device(browsing, PHONE) as phone:
        for full_name, email, job, structure in PEOPLE:
            form = phone.visit(public_path)
            expect(form.get_by_role("heading", level=1)).to_have_text(f"S'inscrire : {TRAINING}")
            form.get_by_label("Nom et prénom").fill(full_name)
            form.get_by_label("Adresse e-mail").fill(email)
            form.get_by_label("Fonction", exact=True).fill(job)
            form.get_by_label("Structure ou organisme").fill(structure)
            form.get_by_label(re.compile("^J'accepte que mon nom")).check()
            form.get_by_role("button", name="M'inscrire").click()
            expect(form.get_by_role("heading", level=1)).to_have_text("Vérifiez votre boîte e-mail")
            phone.check_page()
            fits_width(form)
    attendance_path = reverse("attendance:session", args=[pt.pk, first.pk])
    page = browsing.visit(attendance_path)
    expect(page.get_by_text("Complet : plus aucune place")).to_be_visible()
    waiting_list = page.get_by_role("table", name="Liste d'attente, dans l'ordre")
    expect(waiting_list.get_by_role("rowheader")).to_have_text([PEOPLE[2][0]])
    subjects = [m.subject.split(" :")[0] for m in mail.outbox]
    assert subjects == ["Inscription confirmée", "Inscription confirmée", "Liste d'attente"]

    # 3. One registration cancelled, after a confirmation: the waiting person gets the place.
    mail.outbox.clear()
    page.get_by_role("link", name=f"Annuler l'inscription de {PEOPLE[0][0]}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Annuler l'inscription de {PEOPLE[0][0]}"
    )
    browsing.check_page()
    page.get_by_role("button", name="Annuler l'inscription").click()
    expect(
        page.get_by_text(
            f"Place attribuée à la liste d'attente : {PEOPLE[2][0]} (prévenu·e par e-mail)."
        )
    ).to_be_visible()
    browsing.check_page()
    registered = page.get_by_role("table", name="Personnes inscrites")
    expect(registered.get_by_role("rowheader")).to_have_text([PEOPLE[1][0], PEOPLE[2][0]])
    expect(page.get_by_text("Personne sur liste d'attente.")).to_be_visible()
    promoted = [m for m in mail.outbox if m.to == [PEOPLE[2][1]]]
    assert len(promoted) == 1
    assert promoted[0].subject.startswith("Une place s'est libérée")
    assert "votre inscription est maintenant confirmée" in promoted[0].body

    # 4. A session of today, started, at the door on a tablet: two registrants and a walk-in.
    start_time, end_time = started_slot(timezone.localtime())
    page = browsing.visit(reverse("activities:session_create", args=[pt.pk]))
    page.locator("#id_format").select_option(label=TRAINING)
    page.locator("#id_title").fill("Repérer et orienter : session du jour")
    page.locator("#id_date").fill(f"{timezone.localdate():%Y-%m-%d}")
    page.locator("#id_start_time").fill(start_time)
    page.locator("#id_end_time").fill(end_time)
    page.locator("#id_place_structure").select_option(index=1)
    page.locator("#id_external_facilitators").fill(FACILITATOR)
    page.locator("#id_capacity").fill("10")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("La séance est programmée.")).to_be_visible()
    browsing.check_page()
    today_session = Session.objects.get(title="Repérer et orienter : session du jour")
    # Registrations close when a session starts: these two registered the day before.
    for full_name, email in DOOR_REGISTRANTS:
        Registration.objects.create(
            session=today_session,
            full_name=full_name,
            email=email,
            structure_name="Mission locale (fictive)",
            consent=True,
        )
    browsing.page.set_viewport_size(TABLET)
    # A tablet has no pointer left hovering over the button just tapped: without the colour
    # transition of a hover, axe reads the colours the person sees.
    browsing.page.emulate_media(reduced_motion="reduce")
    page = browsing.visit(reverse("attendance:door", args=[pt.pk, today_session.pk]))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accueil et émargement")
    for full_name, _ in DOOR_REGISTRANTS:
        page.get_by_role("button", name=f"Noter présent·e : {full_name}").click()
        expect(
            page.get_by_role("button", name=f"Retirer la présence : {full_name}")
        ).to_be_visible()
    browsing.check_page()
    page.get_by_label("Nom et prénom").fill(WALK_IN)
    page.get_by_label("Structure absente de l'annuaire").fill("Association fictive du pays")
    page.get_by_role("button", name="Noter présent·e", exact=True).click()
    expect(
        page.get_by_text(f"{WALK_IN} (Association fictive du pays) est noté·e présent·e.")
    ).to_be_visible()
    expect(page.get_by_text("3 présent·es noté·es")).to_be_visible()
    browsing.check_page()
    fits_width(page)
    browsing.page.set_viewport_size(DESKTOP)

    # 5. The attendance sheet and the certificates of the session of today.
    page = browsing.visit(reverse("attendance:session", args=[pt.pk, today_session.pk]))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Feuille d'émargement (PDF)").click()
    sheet = tmp_path / "emargement.pdf"
    download_info.value.save_as(sheet)
    assert sheet.read_bytes()[:4] == b"%PDF"
    text = pdf_text(sheet)
    assert "Repérer et orienter : session du jour" in text
    for full_name, _ in DOOR_REGISTRANTS:
        assert full_name in text
    assert FACILITATOR in text
    assert f"Action financée par {programme.funder}" in text
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Toutes les attestations (ZIP)").click()
    archive_path = tmp_path / "attestations.zip"
    download_info.value.save_as(archive_path)
    certificates = {}
    with zipfile.ZipFile(archive_path) as archive:
        for name in archive.namelist():
            path = tmp_path / name
            path.write_bytes(archive.read(name))
            certificates[name] = pdf_text(path)
    assert len(certificates) == 3
    for full_name in [name for name, _ in DOOR_REGISTRANTS] + [WALK_IN]:
        [found] = [text for text in certificates.values() if full_name in text]
        assert "Attestation de formation" in found

    # 6. An evaluation answered from a phone, counted on the session's evaluation page.
    page = browsing.visit(reverse("evaluations:session", args=[pt.pk, today_session.pk]))
    expect(page.get_by_text("Aucune réponse pour le moment.")).to_be_visible()
    evaluation_path = local_path(page.locator(".survey-link a").get_attribute("href"))
    with another_device(browsing, PHONE) as phone:
        form = phone.visit(evaluation_path)
        expect(form.get_by_role("heading", level=1)).to_have_text("Votre avis sur la séance")
        form.get_by_label("5 — Très satisfait·e").check()
        form.get_by_label("Qu'avez-vous appris ?").fill("Les relais du territoire (fictif).")
        form.get_by_label("Oui", exact=True).check()
        form.get_by_role("button", name="Envoyer mon avis").click()
        expect(form.get_by_role("heading", level=1)).to_have_text(
            "Merci, votre avis est enregistré"
        )
        phone.check_page()
        fits_width(form)
    page = browsing.visit(reverse("evaluations:session", args=[pt.pk, today_session.pk]))
    expect(page.locator("p", has_text="Satisfaction moyenne")).to_contain_text(
        "Satisfaction moyenne : 5,0 sur 5 (1 réponse)."
    )
    expect(page.get_by_role("definition").filter(has_text="depuis le papier")).to_have_text(
        re.compile(r"^\s*1 \(dont 0 ")
    )
    expect(page.get_by_text("Les relais du territoire (fictif).")).to_be_visible()

    # 7. The session of today marked held: the 348 target moves by one.
    page = browsing.visit(reverse("activities:session_detail", args=[pt.pk, today_session.pk]))
    page.get_by_label("Nouveau statut").select_option(label="Réalisée")
    page.get_by_role("button", name="Changer le statut").click()
    expect(page.get_by_text("La séance est maintenant « réalisée ».")).to_be_visible()
    browsing.check_page()
    after = target_figures(browsing, programme)
    assert after["held"] == before["held"] + 1
    assert after["planned"] == before["planned"] + 3  # the series
    assert after["remaining"] == before["remaining"] - 4
