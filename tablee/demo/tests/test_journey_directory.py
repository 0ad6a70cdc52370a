"""The journey of the directory (issue 3), in a real browser, with axe on each page.

"Done means" of the issue: on the demonstration programme a coordinator imports a data·inclusion
file through the web pages (its valid rows in, its invalid row refused with its reason in the
preview), searches the directory without accents, opens an imported structure, finds a CADA of a
territory on the map, and exports files: the data·inclusion ZIP validates against the official
schemas and the XLSX opens. Then an anonymous visitor on a phone uses the public directory and
sees no professional's contact. Fixtures and helpers come from test_journeys.py and conftest.py.
"""

import json
import re
import zipfile

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openpyxl import load_workbook
from playwright.sync_api import expect

from tablee.accounts.models import User
from tablee.demo.services import DEMO_PASSWORD
from tablee.demo.tests.test_journeys import (  # noqa: F401 (demo is a fixture)
    LOUDEAC_SIREN,
    PHONE,
    demo,
    main_menu,
    sign_in,
)
from tablee.directory.importers import schema_for
from tablee.directory.models import Contact, Service, Structure

COORDINATOR = "coordination@demo.tablee.fr"
SOURCE = "journee-annuaire"
CAFE = "Café solidaire Écotable de Loudéac (fictif)"
JARDIN = "Jardin d'Éden de Rostrenen (fictif)"
MEALS = "Repas partagés du jeudi (fictif)"
REFUSED_NAME = "Épicerie au courriel faux (fictive)"
ALIMENTATION = "equipement-et-alimentation--alimentation"

DI_FILE = [
    {
        "id": "cafe-ecotable",
        "nom": CAFE,
        "code_insee": "22136",
        "code_postal": "22600",
        "adresse": "3 rue de la Gare (adresse fictive)",
        "horaires_accueil": "Tu,Th 12:00-14:00",
        "description": "Café associatif et repas à prix libre.",
        "date_maj": "2026-10-01",
    },
    {
        "id": "jardin-eden",
        "nom": JARDIN,
        "code_insee": "22266",
        "code_postal": "22110",
        "date_maj": "2026-10-01",
    },
    {
        "id": "repas-jeudi",
        "structure_id": "cafe-ecotable",
        "nom": MEALS,
        "description": "Un repas chaud partagé, sans condition, chaque jeudi midi.",
        "thematiques": [ALIMENTATION],
        "horaires_accueil": "Th 12:00-14:00",
        "date_maj": "2026-10-01",
    },
    {
        "id": "courriel-faux",
        "nom": REFUSED_NAME,
        "code_insee": "22136",
        "courriel": "pas-une-adresse",
        "date_maj": "2026-10-01",
    },
]


@pytest.fixture
def media(settings, tmp_path):
    """The import pages keep the uploaded file and its plan under MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"


def count_row(table, label: str):
    """The cells of the row headed ``label`` in the preview's summary table."""
    header = table.page.get_by_role("rowheader", name=label, exact=True)
    row = table.get_by_role("row").filter(has=header)
    return row.get_by_role("cell")


def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema_for(kind), format_checker=FormatChecker(formats=["date"]))


@pytest.mark.browser
def test_done_means_the_coordinator_imports_finds_and_exports(
    browsing,
    demo,  # noqa: F811 (the fixture imported from test_journeys)
    media,
    tmp_path,
):
    base = browsing.base_url
    di_file = tmp_path / "structures-services.json"
    di_file.write_text(json.dumps(DI_FILE, ensure_ascii=False), encoding="utf-8")
    demo_structures = Structure.objects.filter(source="demo").count()
    assert demo_structures > 0

    page = sign_in(browsing, COORDINATOR, DEMO_PASSWORD)
    expect(page).to_have_url(base + "/")
    browsing.check_page()

    # The directory, from the main menu.
    main_menu(page).get_by_role("link", name="Annuaire", exact=True).click()
    expect(page).to_have_url(base + "/annuaire/")
    browsing.check_page()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuaire des structures")

    # Import: upload the file, read the preview; nothing is written before confirming.
    page.get_by_role("link", name="Importer", exact=True).click()
    expect(page).to_have_url(base + "/annuaire/donnees/importer/")
    browsing.check_page()
    page.get_by_label("Fichiers").set_input_files(di_file)
    page.get_by_label("Source").fill(SOURCE)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aperçu de l'import")
    preview_url = page.url
    assert re.fullmatch(re.escape(base) + r"/annuaire/donnees/importer/[0-9a-f-]{36}/", page.url)
    browsing.check_page()
    assert not Structure.objects.filter(source=SOURCE).exists()

    summary = page.get_by_role("table", name="Nombre de lignes par résultat")
    expect(count_row(summary, "À créer")).to_have_text(["2", "1"])
    expect(count_row(summary, "Refusées")).to_have_text(["1", "0"])
    expect(page.get_by_text("1 ligne refusée.")).to_be_visible()

    # The refused row, with its reason, under the "Refusées" filter.
    page.get_by_role("navigation", name="Lignes affichées").get_by_role(
        "link", name="Refusées"
    ).click()
    expect(page).to_have_url(preview_url + "?lignes=refused")
    browsing.check_page()
    rows = page.get_by_role("table", name="Résultat de chaque ligne du fichier").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("cell").nth(3)).to_have_text(REFUSED_NAME)
    expect(rows.get_by_role("cell").nth(4)).to_have_text("Refusée")
    expect(rows.get_by_role("cell").nth(0)).to_contain_text("élément 4")
    expect(rows.get_by_role("cell").nth(5)).to_contain_text(
        "courriel : Adresse e-mail invalide : « pas-une-adresse »"
    )

    # Applying everything is refused while a row is refused: nothing is written.
    page.get_by_role("button", name="Importer", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="rien n'a été écrit")).to_be_visible()
    browsing.check_page()
    assert not Structure.objects.filter(source=SOURCE).exists()

    # Only the valid rows, once chosen.
    page.get_by_label("Importer seulement les lignes valides").check()
    page.get_by_role("button", name="Importer", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import terminé")
    browsing.check_page()
    outcome = page.get_by_role("status").filter(has_text="Structures : 2 créée(s)").first
    expect(outcome).to_be_visible()
    expect(outcome).to_contain_text("Services : 1 créé(s)")
    imported = Structure.objects.filter(source=SOURCE)
    assert sorted(imported.values_list("name", flat=True)) == [CAFE, JARDIN]
    assert list(Service.objects.filter(source=SOURCE).values_list("name", flat=True)) == [MEALS]
    assert not Structure.objects.filter(name=REFUSED_NAME).exists()

    # Search without accents nor capitals; the results come as the words are typed (htmx).
    page.get_by_role("navigation", name="Fil d'Ariane").get_by_role("link", name="Annuaire").click()
    expect(page).to_have_url(base + "/annuaire/")
    browsing.check_page()
    page.get_by_label("Rechercher", exact=True).press_sequentially("cafe solidaire ecotable")
    results = page.get_by_role("region", name="Résultats")
    expect(results.get_by_role("link", name=CAFE)).to_be_visible()
    expect(results.get_by_text("1 structure trouvée.")).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(base + "/annuaire/?") + r".*q=cafe"))
    browsing.check_page()

    # The structure page: its service, its hours in plain French.
    results.get_by_role("link", name=CAFE).click()
    cafe = imported.get(source_id="cafe-ecotable")
    expect(page).to_have_url(f"{base}/annuaire/{cafe.pk}/")
    browsing.check_page()
    expect(page.get_by_role("heading", level=1)).to_have_text(CAFE)
    expect(page.get_by_text("mardi et jeudi : 12 h–14 h")).to_be_visible()
    service = page.get_by_role("article", name=MEALS)
    expect(service).to_be_visible()
    expect(service).to_contain_text("Un repas chaud partagé")
    expect(service.get_by_text("Jeudi : 12 h–14 h")).to_be_visible()
    expect(service).to_contain_text("Alimentation")

    # A CADA of the Loudéac territory, on the map: the page calls the JSON endpoint.
    cada = Structure.objects.get(source="demo", source_id=f"{LOUDEAC_SIREN}-cada")
    assert cada.name.startswith("CADA de ")
    page = browsing.visit("/annuaire/carte/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Carte de l'annuaire")
    page.get_by_label("Territoire").select_option(label=demo.loudeac.territory.name)
    page.get_by_text("Plus de filtres").click()
    page.get_by_label("Catégorie FINESS").select_option(value=cada.finess_category.value)
    with page.expect_response(lambda r: "/annuaire/carte/donnees/" in r.url) as answer:
        page.get_by_role("button", name="Rechercher").click()
    assert answer.value.ok
    assert [point["name"] for point in answer.value.json()["structures"]] == [cada.name]
    expect(page.locator("#carte-etat")).to_have_text("1 structure sur la carte.")
    marker = page.locator(f'#carte-annuaire .leaflet-marker-icon[title="{cada.name}"]')
    expect(marker).to_be_visible()
    browsing.check_page()
    marker.click()
    popup_link = page.locator(".leaflet-popup").get_by_role("link", name=cada.name)
    expect(popup_link).to_be_visible()
    popup_link.click()
    expect(page).to_have_url(f"{base}/annuaire/{cada.pk}/")
    browsing.check_page()
    expect(page.get_by_role("heading", level=1)).to_have_text(cada.name)

    # Export: the data·inclusion ZIP validates against the official schemas; the XLSX opens.
    page = browsing.visit("/annuaire/")
    page.get_by_role("link", name="Exporter", exact=True).click()
    expect(page).to_have_url(base + "/annuaire/donnees/exporter/")
    browsing.check_page()
    coordinator = User.objects.get(email=COORDINATOR)
    expected = Structure.objects.for_user(coordinator).count()
    assert expected >= demo_structures + 2
    expect(page.get_by_text(f"{expected} structures de votre périmètre")).to_be_visible()

    page.get_by_label("data·inclusion JSON").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger").click()
    download = download_info.value
    assert re.fullmatch(r"annuaire-data-inclusion-json-.+\.zip", download.suggested_filename)
    zip_path = tmp_path / download.suggested_filename
    download.save_as(zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == ["services.json", "structures.json"]
        exported_text = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    structures = json.loads(exported_text["structures.json"])
    services = json.loads(exported_text["services.json"])
    assert len(structures) == expected
    for kind, records in (("structure", structures), ("service", services)):
        checker = validator(kind)
        errors = [
            f"{record.get('id')} : {error.message}"
            for record in records
            for error in checker.iter_errors(record)
        ]
        assert errors == [], f"{kind} : {errors[:5]}"
    exported_cafe = next(s for s in structures if s["nom"] == CAFE)
    assert exported_cafe["code_insee"] == "22136"
    exported_meals = next(s for s in services if s["nom"] == MEALS)
    assert exported_meals["structure_id"] == exported_cafe["id"]
    assert exported_meals["thematiques"] == [ALIMENTATION]
    # Professionals' names never leave in an export.
    contact_names = set(Contact.objects.values_list("full_name", flat=True))
    assert contact_names
    for text in exported_text.values():
        assert not any(name in text for name in contact_names)

    page.get_by_label("Tableur XLSX").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    xlsx_path = tmp_path / download.suggested_filename
    download.save_as(xlsx_path)
    workbook = load_workbook(xlsx_path)
    header, *lines = list(workbook.active.iter_rows(values_only=True))
    assert header[0] == "Nom"
    assert len(lines) == expected
    by_name = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert {CAFE, JARDIN, cada.name} <= set(by_name)
    assert by_name[CAFE]["Services"] == 1
    assert by_name[CAFE]["Code INSEE"] == "22136"
    browsing.check_page()


@pytest.mark.browser
def test_public_directory_on_a_phone_shows_no_contact(
    browsing,
    demo,  # noqa: F811 (the fixture imported from test_journeys)
):
    ccas = Structure.objects.get(source="demo", source_id=f"{LOUDEAC_SIREN}-ccas")
    assert ccas.is_publishable
    contacts = list(ccas.contacts.all())
    assert contacts, "the demonstration CCAS has a professional contact, hidden from the public"
    browsing.page.set_viewport_size(PHONE)
    base = browsing.base_url

    page = browsing.visit("/compte/connexion/")
    page.get_by_role("link", name="Annuaire public").click()
    expect(page).to_have_url(base + "/annuaire-public/")
    browsing.check_page()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuaire public des structures")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_label("Rechercher", exact=True).press_sequentially("ccas loudeac")
    results = page.get_by_role("region", name="Résultats")
    expect(results.get_by_role("link", name=ccas.name)).to_be_visible()
    browsing.check_page()
    # Only publishable structures: the CADA of the same commune stays out of the public directory.
    page.get_by_label("Rechercher", exact=True).fill("cada")
    page.get_by_role("button", name="Rechercher").click()
    expect(results.get_by_text("Aucune structure ne correspond")).to_be_visible()
    page.get_by_label("Rechercher", exact=True).fill("ccas loudeac")
    page.get_by_role("button", name="Rechercher").click()

    results.get_by_role("link", name=ccas.name).click()
    expect(page).to_have_url(f"{base}/annuaire-public/{ccas.pk}/")
    browsing.check_page()
    expect(page.get_by_role("heading", level=1)).to_have_text(ccas.name)
    expect(page.get_by_role("heading", name="Services")).to_be_visible()
    body = page.locator("body")
    for contact in contacts:
        expect(body).not_to_contain_text(contact.full_name)
        if contact.email:
            expect(body).not_to_contain_text(contact.email)
    expect(page.get_by_role("heading", name="Contacts professionnels")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
