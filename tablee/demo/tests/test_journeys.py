"""The main journeys, in a real browser, for each demonstration account.

Every page is checked by axe (WCAG 2.1 A/AA) and for console errors through ``browsing.visit`` or
``browsing.check_page`` (see conftest.py). The data is the real referential and the real
demonstration programme, loaded the way ``make demo`` loads them.
"""

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tablee.accounts.models import Role
from tablee.demo.services import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_PROGRAMME_NAME,
    DEMO_TERRITORIES,
    load_demo,
)
from tablee.territories.models import Programme, ProgrammeTerritory
from tablee.territories.referential import load_referential

LOUDEAC_SIREN = "200067460"
KREIZ_BREIZH_SIREN = "242200715"
PHONE = {"width": 360, "height": 740}


@dataclass(frozen=True)
class RoleView:
    """What one role sees of the demonstration programme."""

    only_loudeac: bool  # partner and local authority: their territory only
    manages_users: bool
    opens_indicators: bool
    sees_pat_contact: bool  # the funder sees aggregates, never a person's name


ROLE_VIEWS = {
    Role.ADMIN: RoleView(
        only_loudeac=False, manages_users=True, opens_indicators=True, sees_pat_contact=True
    ),
    Role.COORDINATOR: RoleView(
        only_loudeac=False, manages_users=False, opens_indicators=True, sees_pat_contact=True
    ),
    Role.PARTNER: RoleView(
        only_loudeac=True, manages_users=False, opens_indicators=False, sees_pat_contact=True
    ),
    Role.LOCAL_AUTHORITY: RoleView(
        only_loudeac=True, manages_users=False, opens_indicators=False, sees_pat_contact=True
    ),
    Role.FUNDER: RoleView(
        only_loudeac=False, manages_users=False, opens_indicators=False, sees_pat_contact=False
    ),
}


@dataclass(frozen=True)
class Demo:
    programme: Programme
    territory_names: list[str]  # the six EPCI, sorted
    loudeac: ProgrammeTerritory
    kreiz_breizh: ProgrammeTerritory


@pytest.fixture
def demo(transactional_db, django_db_serialized_rollback):
    """The national referential and the demonstration programme, committed for the live server.

    Loaded for each test (about two seconds): the live server's database is emptied after each one.
    That emptying also removes what data migrations wrote (the directory's categories, which the
    demonstration needs): the serialized rollback puts it back before each test.
    """
    load_referential()
    load_demo()
    programme = Programme.objects.get(name=DEMO_PROGRAMME_NAME, is_demo=True)
    territories = programme.territories.select_related("territory")
    return Demo(
        programme=programme,
        territory_names=sorted(pt.territory.name for pt in territories),
        loudeac=territories.get(territory_id=LOUDEAC_SIREN),
        kreiz_breizh=territories.get(territory_id=KREIZ_BREIZH_SIREN),
    )


def sign_in(browsing, email: str, password: str):
    page = browsing.visit("/compte/connexion/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    page.get_by_label("Adresse e-mail").press_sequentially(email)
    page.get_by_label("Mot de passe").press_sequentially(password)
    page.get_by_role("button", name="Se connecter").click()
    return page


def main_menu(page):
    return page.get_by_role("navigation", name="Navigation principale")


def section_links(page, title: str) -> list[str]:
    """The link texts of the home page section headed ``title``, sorted."""
    return sorted(page.get_by_role("region", name=title).get_by_role("link").all_inner_texts())


def test_demo_accounts_all_have_a_journey():
    # A demonstration account added later must say what its role sees here.
    assert {account.role for account in DEMO_ACCOUNTS} == set(ROLE_VIEWS)
    assert len(DEMO_ACCOUNTS) == len(ROLE_VIEWS)
    assert LOUDEAC_SIREN in {siren for siren, _, _ in DEMO_TERRITORIES}


@pytest.mark.browser
@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=lambda account: account.role)
def test_demo_account_journey(browsing, demo, account):
    view = ROLE_VIEWS[account.role]
    base = browsing.base_url

    # Sign in by typing, land on the home page.
    page = sign_in(browsing, account.email, DEMO_PASSWORD)
    expect(page).to_have_url(base + "/")
    browsing.check_page()
    first_name = account.full_name.split(" ")[0]
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {first_name}")
    assert section_links(page, "Vos programmes") == [DEMO_PROGRAMME_NAME]
    loudeac_name = demo.loudeac.territory.name
    assert "Loudéac" in loudeac_name
    expected_territories = [loudeac_name] if view.only_loudeac else demo.territory_names
    assert section_links(page, "Vos territoires") == expected_territories
    if not view.only_loudeac:
        assert len(expected_territories) == 6

    # The user list: in the menu of the admin only, and refused to everyone else.
    users_link = main_menu(page).get_by_role("link", name="Utilisateur·ices")
    if view.manages_users:
        users_link.click()
        expect(page).to_have_url(base + "/compte/utilisateurs/")
        browsing.check_page()
        for other in DEMO_ACCOUNTS:
            expect(page.get_by_role("cell", name=other.email, exact=True)).to_be_visible()
    else:
        expect(users_link).to_have_count(0)
        page = browsing.visit("/compte/utilisateurs/", status=403)
        expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")

    if view.opens_indicators:
        page = browsing.visit("/indicateurs/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Indicateurs")

    # The programme page, reached from the home page.
    page = browsing.visit("/")
    page.get_by_role("region", name="Vos programmes").get_by_role(
        "link", name=DEMO_PROGRAMME_NAME
    ).click()
    expect(page).to_have_url(f"{base}/programmes/{demo.programme.pk}/")
    browsing.check_page()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_PROGRAMME_NAME)
    territory_table = page.get_by_role("region", name="Territoires").get_by_role("table")
    shown = sorted(territory_table.locator("tbody").get_by_role("link").all_inner_texts())
    assert shown == expected_territories

    # The territory page, with its map drawn by Leaflet under the content security policy.
    territory_table.get_by_role("link", name=loudeac_name).click()
    expect(page).to_have_url(f"{base}/programmes/territoires/{demo.loudeac.pk}/")
    expect(page.locator("#carte-territoire path.leaflet-interactive").first).to_be_attached()
    # Tiles come from the tile server allowed by the CSP (served by the harness: no internet).
    expect(page.locator("#carte-territoire img.leaflet-tile-loaded").first).to_be_attached()
    browsing.check_page()
    expect(page.get_by_role("heading", level=1)).to_have_text(loudeac_name)
    pat_contact = page.get_by_text("Référent·e PAT (fictif)")
    expect(pat_contact).to_have_count(1 if view.sees_pat_contact else 0)

    # Outside the user's scope, a territory does not exist (404), whatever its address.
    kreiz_breizh = f"/programmes/territoires/{demo.kreiz_breizh.pk}/"
    if view.only_loudeac:
        page = browsing.visit(kreiz_breizh, status=404)
        expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    else:
        page = browsing.visit(kreiz_breizh)
        expect(page.get_by_role("heading", level=1)).to_have_text(demo.kreiz_breizh.territory.name)

    # The national referential, open to every role: the results come as the name is typed (htmx).
    main_menu(page).get_by_role("link", name="Référentiel").click()
    expect(page).to_have_url(base + "/referentiel/")
    browsing.check_page()
    page.get_by_label("Rechercher une commune ou un EPCI").press_sequentially("loudeac")
    expect(page).to_have_url(base + "/referentiel/?q=loudeac")
    epci_results = page.get_by_role("region", name="EPCI")
    expect(epci_results.get_by_role("link", name=loudeac_name)).to_be_visible()
    browsing.check_page()
    epci_results.get_by_role("link", name=loudeac_name).click()
    expect(page).to_have_url(f"{base}/referentiel/epci/{LOUDEAC_SIREN}/")
    browsing.check_page()
    expect(page.get_by_role("heading", level=1)).to_contain_text(loudeac_name)

    # Sign out: back to the sign-in page, and the home page asks to sign in again.
    main_menu(page).get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(re.escape(base + "/compte/connexion/")))
    browsing.check_page()
    expect(page.get_by_role("status").filter(has_text="déconnecté")).to_be_visible()
    page.goto(base + "/")
    expect(page).to_have_url(base + "/compte/connexion/?next=/")


@pytest.mark.browser
def test_wrong_password_is_refused_in_french(browsing, demo):
    page = sign_in(browsing, "coordination@demo.tablee.fr", "Pas-le-bon-2026!")

    expect(page).to_have_url(browsing.base_url + "/compte/connexion/")
    browsing.check_page()
    expect(page.get_by_role("alert")).to_contain_text("Adresse e-mail ou mot de passe incorrect")
    # Still signed out: no menu, and the home page sends back to the sign-in page.
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    page.goto(browsing.base_url + "/")
    expect(page).to_have_url(browsing.base_url + "/compte/connexion/?next=/")


@pytest.mark.browser
def test_phone_menu_opens_with_its_toggler(browsing, demo):
    browsing.page.set_viewport_size(PHONE)
    page = sign_in(browsing, "coordination@demo.tablee.fr", DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")
    browsing.check_page()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    programmes_link = main_menu(page).get_by_role("link", name="Programmes")
    toggler = page.get_by_role("button", name="Ouvrir le menu")
    expect(programmes_link).to_be_hidden()
    expect(toggler).to_have_attribute("aria-expanded", "false")

    toggler.click()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(programmes_link).to_be_visible()
    browsing.check_page()

    programmes_link.click()
    expect(page).to_have_url(browsing.base_url + "/programmes/")
    browsing.check_page()
    expect(page.get_by_role("link", name=DEMO_PROGRAMME_NAME)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
