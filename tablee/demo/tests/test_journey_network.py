"""The journey of the network of links (issue 7), in a real browser, with axe on each page.

"Done means" of the issue: after the demonstration records (meetings, co-construction sessions and
workshops when their demonstration modules exist), a territory's network page shows the links
derived from them, the baseline-to-now change and a graph with its table. Then the coordinator
adds a referral by hand and exports the network for Gephi. Fixtures and helpers come from
test_journeys.py and conftest.py.
"""

import datetime
import importlib
import importlib.util
import re

import networkx as nx
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tablee.demo.network import load_demo_network
from tablee.demo.services import DEMO_PASSWORD
from tablee.demo.tests.test_journeys import demo, sign_in  # noqa: F401 (demo is a fixture)
from tablee.directory.models import Structure
from tablee.network.models import Link, LinkKind, LinkSource

COORDINATOR = "coordination@demo.tablee.fr"
# Demonstration records written by other modules, loaded when they exist (plans before sessions).
OTHER_DEMO_LOADERS = [
    ("tablee.demo.plans", "load_demo_plans"),
    ("tablee.demo.activities", "load_demo_activities"),
]


@pytest.fixture
def demo_network(demo):  # noqa: F811
    for module_name, function_name in OTHER_DEMO_LOADERS:
        if importlib.util.find_spec(module_name) is None:
            continue
        loader = getattr(importlib.import_module(module_name), function_name)
        loader(demo.programme)
    load_demo_network(demo.programme)
    return demo


def demo_structure(pt, key: str) -> Structure:
    return Structure.objects.get(source="demo", source_id=f"{pt.territory_id}-{key}")


@pytest.mark.browser
def test_the_coordinator_reads_the_network_adds_a_referral_and_exports_it(
    browsing, demo_network, tmp_path
):
    pt = demo_network.loudeac
    name = pt.territory.name
    today = timezone.localdate()
    page = sign_in(browsing, COORDINATOR, DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")

    # The network page: indicators from the baseline to now, both graphs and their tables.
    page = browsing.visit(f"/reseau/{pt.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Réseau des structures — {name}")
    indicators = page.get_by_role(
        "table", name="Indicateurs du réseau du territoire : au début du programme"
    )
    expect(indicators).to_be_visible()
    social_health = indicators.get_by_role("row").filter(
        has_text="Liens entre le social ou le médico-social et la santé"
    )
    expect(social_health).to_be_visible()
    expect(page.locator("svg.network-graph")).to_have_count(2)
    expect(page.get_by_role("heading", name="Au début du programme (01/01/2024)")).to_be_visible()
    links_table = page.get_by_role("table", name="Liens entre structures du territoire")
    expect(links_table.get_by_role("cell", name="Rencontre commune").first).to_be_visible()
    derived = Link.objects.filter(programme_territory=pt, source=LinkSource.DERIVED).count()
    assert derived > 0
    expect(page.get_by_role("heading", name="Trimestre par trimestre")).to_be_visible()

    # A click on a structure of today's graph shows its row, with its links.
    ccas = demo_structure(pt, "ccas")
    node = page.locator(f'svg.network-graph a[href="#structure-{ccas.pk}"]').last
    node.click()
    row = page.locator(f"#structure-{ccas.pk}")
    expect(row).to_have_class("table-warning")
    expect(row).to_be_focused()
    expect(row).to_contain_text("Oui")  # linked to a health structure
    browsing.check_page()

    # Only referrals and partnerships.
    page.get_by_label("Orientation de personnes").check()
    page.get_by_label("Partenariat ou convention").check()
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text("de nature : Orientation de personnes, Partenariat")).to_be_visible()
    browsing.check_page()

    # A referral entered by hand, from the CCAS to the health centre of the MSP.
    msp = demo_structure(pt, "msp")
    page = browsing.visit(f"/reseau/{pt.pk}/")
    page.get_by_role("link", name="Ajouter un lien").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un lien")
    browsing.check_page()
    page.locator("#id_structure").select_option(label=ccas.name)
    page.locator("#id_linked_structure").select_option(label=msp.name)
    page.locator("#id_kind").select_option(label="Orientation de personnes")
    page.locator("#id_started_on").fill(f"{today - datetime.timedelta(days=60):%Y-%m-%d}")
    page.locator("#id_note").fill("Orientations vers les ateliers nutrition (fictif)")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Le lien est enregistré.")).to_be_visible()
    browsing.check_page()
    assert (
        Link.objects.filter(
            programme_territory=pt, kind=LinkKind.REFERRAL, source=LinkSource.MANUAL
        )
        .filter(structure_a__in=[ccas, msp], structure_b__in=[ccas, msp])
        .exists()
    )
    new_row = (
        page.get_by_role("table", name="Liens entre structures du territoire")
        .get_by_role("row")
        .filter(has_text=msp.name)
        .filter(has_text="Orientation de personnes")
    )
    expect(new_row).to_have_count(1)

    # The network for Gephi: a GEXF file that networkx reads back.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le réseau (GEXF, pour Gephi)").click()
    path = tmp_path / "reseau.gexf"
    download_info.value.save_as(path)
    graph = nx.read_gexf(path)
    assert graph.nodes[str(msp.pk)]["name"] == msp.name
    kinds = {data["kind"] for _, _, data in graph.edges(data=True)}
    assert {"Orientation de personnes", "Rencontre commune"} <= kinds

    # The referral stops: it is ended, after a confirmation, and listed with the ended links.
    new_row.get_by_role("link", name=re.compile("^Mettre fin")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mettre fin au lien")
    browsing.check_page()
    page.get_by_label("Le lien a pris fin le").fill(f"{today:%Y-%m-%d}")
    page.get_by_role("button", name="Confirmer la fin du lien").click()
    expect(page.get_by_text("La fin du lien est enregistrée.")).to_be_visible()
    browsing.check_page()
    ended = page.get_by_role("table", name="Liens saisis à la main qui ont pris fin")
    expect(ended.get_by_role("row").filter(has_text=msp.name)).to_have_count(1)

    # The programme's page: every territory, and the whole.
    page = browsing.visit(f"/reseau/programme/{demo_network.programme.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Réseau des structures")
    territories = page.get_by_role("table", name="Indicateurs du réseau par territoire")
    expect(territories.get_by_role("link", name=name)).to_be_visible()
    expect(territories.locator("tbody tr")).to_have_count(6)
