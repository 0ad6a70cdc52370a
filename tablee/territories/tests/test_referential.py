"""Browsing and searching the national referential."""

import re

import pytest
from django.urls import reverse

from tablee.accounts.models import Role
from tablee.accounts.tests.factories import MembershipFactory, UserFactory
from tablee.core.pagination import PAGE_SIZE
from tablee.territories.models import Territory
from tablee.territories.tests.factories import (
    CommuneFactory,
    DepartementFactory,
    ProgrammeFactory,
    RegionFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def france():
    """Two régions, three départements, three EPCI and six communes, with real names."""
    bretagne = RegionFactory(code="53", name="Bretagne")
    pdl = RegionFactory(code="52", name="Pays de la Loire")
    cotes = DepartementFactory(code="22", name="Côtes-d'Armor", region=bretagne)
    finistere = DepartementFactory(code="29", name="Finistère", region=bretagne)
    loire = DepartementFactory(code="44", name="Loire-Atlantique", region=pdl)
    loudeac_cc = TerritoryFactory(
        siren="200067460",
        name="CC Loudéac Communauté - Bretagne Centre",
        population=52946,
        departement=cotes,
    )
    sbaa = TerritoryFactory(
        siren="200069409",
        name="CA Saint-Brieuc Armor Agglomération",
        kind=Territory.Kind.CA,
        population=153318,
        departement=cotes,
    )
    nantes = TerritoryFactory(
        siren="244400404",
        name="Nantes Métropole",
        kind=Territory.Kind.METRO,
        population=692279,
        departement=loire,
    )
    communes = {
        "loudeac": CommuneFactory(
            code="22136",
            name="Loudéac",
            population=9571,
            latitude=48.17448,
            longitude=-2.75058,
            departement=cotes,
            territory=loudeac_cc,
        ),
        "saint_brieuc": CommuneFactory(
            code="22278",
            name="Saint-Brieuc",
            population=44372,
            departement=cotes,
            territory=sbaa,
        ),
        "ploufragan": CommuneFactory(
            code="22215", name="Ploufragan", population=11500, departement=cotes, territory=sbaa
        ),
        "brehat": CommuneFactory(
            code="22016", name="Île-de-Bréhat", population=377, departement=cotes, territory=None
        ),
        "sein": CommuneFactory(
            code="29083",
            name="Île-de-Sein",
            population=249,
            departement=finistere,
            territory=None,
        ),
        "nantes": CommuneFactory(
            code="44109", name="Nantes", population=323204, departement=loire, territory=nantes
        ),
    }
    return {"communes": communes, "loudeac_cc": loudeac_cc, "sbaa": sbaa}


@pytest.fixture
def coordinator(client):
    user = UserFactory()
    MembershipFactory(user=user, role=Role.COORDINATOR, programme=ProgrammeFactory())
    client.force_login(user)
    return user


def page_text(response) -> str:
    return response.content.decode()


# --- access ------------------------------------------------------------------------------------

VIEWS = [
    ("referential:index", []),
    ("referential:region_detail", ["53"]),
    ("referential:departement_detail", ["22"]),
    ("referential:epci_detail", ["200067460"]),
    ("referential:commune_detail", ["22136"]),
]


@pytest.mark.parametrize(("name", "args"), VIEWS)
def test_anonymous_users_are_sent_to_the_login_page(client, france, name, args):
    url = reverse(name, args=args)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("name", "args"), VIEWS)
def test_a_user_without_any_role_is_refused(client, france, name, args):
    client.force_login(UserFactory())

    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize(
    "role", [Role.COORDINATOR, Role.FUNDER, Role.PARTNER, Role.LOCAL_AUTHORITY, Role.ADMIN]
)
def test_every_role_may_browse_the_referential(client, france, role):
    user = UserFactory()
    # The scope does not matter: the referential is public data, the same for everyone.
    MembershipFactory(user=user, role=role)
    client.force_login(user)

    response = client.get(reverse("referential:epci_detail", args=["200067460"]))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("referential:region_detail", "99"),
        ("referential:departement_detail", "99"),
        ("referential:epci_detail", "123456789"),
        ("referential:commune_detail", "99999"),
        ("referential:commune_detail", "2a004"),
    ],
)
def test_unknown_codes_answer_404(client, coordinator, france, name, code):
    response = client.get(reverse(name, args=[code]))

    assert response.status_code == 404
    assert "Page introuvable" in page_text(response)


# --- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["loudeac", "Loudéac", "LOUDEAC", "LouDÉac", "  loud  "])
def test_search_finds_a_commune_with_or_without_accents_and_in_any_case(
    client, coordinator, france, query
):
    response = client.get(reverse("referential:index"), {"q": query})

    text = page_text(response)
    assert 'href="/referentiel/communes/22136/">Loudéac</a>' in text
    # "loud" also finds the EPCI named after Loudéac.
    assert "CC Loudéac Communauté - Bretagne Centre" in text
    assert "Nantes" not in text


@pytest.mark.parametrize("query", ["saint brieuc", "Saint-Brieuc", "SAINT-BRIEUC", "brieuc"])
def test_search_ignores_hyphens(client, coordinator, france, query):
    response = client.get(reverse("referential:index"), {"q": query})

    text = page_text(response)
    assert 'href="/referentiel/communes/22278/">Saint-Brieuc</a>' in text
    assert "CA Saint-Brieuc Armor Agglomération" in text
    assert "Loudéac</a>" not in text


def test_search_by_insee_code_and_by_siren(client, coordinator, france):
    by_code = page_text(client.get(reverse("referential:index"), {"q": "22136"}))
    by_siren = page_text(client.get(reverse("referential:index"), {"q": "200069409"}))

    assert "Loudéac</a>" in by_code and "1 commune" in by_code
    assert "CA Saint-Brieuc Armor Agglomération</a>" in by_siren
    assert "Saint-Brieuc</a>" not in by_siren


def test_search_lists_largest_communes_first(client, coordinator, france):
    response = client.get(reverse("referential:index"), {"q": "ile de"})

    text = page_text(response)
    assert text.index("Île-de-Bréhat") < text.index("Île-de-Sein")


def test_search_without_result_says_what_to_try(client, coordinator, france):
    response = client.get(reverse("referential:index"), {"q": "Trifouilly"})

    text = page_text(response)
    assert "Aucune commune ni aucun EPCI ne correspond à « Trifouilly »" in text
    assert "Vérifiez l'orthographe" in text


def test_a_one_letter_search_asks_for_more(client, coordinator, france):
    response = client.get(reverse("referential:index"), {"q": "é"})

    assert "Tapez au moins deux lettres" in page_text(response)


def test_search_query_count(client, coordinator, france, django_assert_num_queries):
    # session, user, memberships, count of matching communes, page of communes (with
    # département and EPCI), EPCI matching (with département)
    with django_assert_num_queries(6):
        response = client.get(reverse("referential:index"), {"q": "saint brieuc"})

    assert response.status_code == 200


def test_live_search_renders_only_the_results(client, coordinator, france):
    response = client.get(reverse("referential:index"), {"q": "loudeac"}, HTTP_HX_REQUEST="true")

    text = page_text(response)
    assert "<html" not in text
    assert "Loudéac</a>" in text
    assert "HX-Request" in response["Vary"]


def test_live_search_with_an_empty_box_shows_the_regions_again(client, coordinator, france):
    response = client.get(reverse("referential:index"), {"q": ""}, HTTP_HX_REQUEST="true")

    text = page_text(response)
    assert "<html" not in text
    assert "Régions et départements" in text


def test_search_results_are_paginated(client, coordinator, france):
    departement = france["communes"]["loudeac"].departement
    for n in range(PAGE_SIZE + 5):
        CommuneFactory(
            code=f"22{500 + n}",
            name=f"Saint-Exemple {n}",
            population=1000 + n,
            departement=departement,
            territory=france["sbaa"],
        )

    first = page_text(client.get(reverse("referential:index"), {"q": "saint exemple"}))
    second = page_text(
        client.get(reverse("referential:index"), {"q": "saint exemple", "page": "2"})
    )

    assert "55 communes" in first
    assert "Page 1 sur 2" in first
    assert "?q=saint+exemple&amp;page=2" in first
    assert second.count("Saint-Exemple ") == 5


# --- index and lists ---------------------------------------------------------------------------


def test_index_lists_regions_and_their_departements(
    client, coordinator, france, django_assert_num_queries
):
    # session, user, memberships, régions, their départements (prefetch)
    with django_assert_num_queries(5):
        response = client.get(reverse("referential:index"))

    text = page_text(response)
    assert 'href="/referentiel/regions/53/">Bretagne</a>' in text
    assert 'href="/referentiel/departements/29/">Finistère (29)</a>' in text
    assert text.index("Bretagne") < text.index("Pays de la Loire")


def test_index_without_referential_says_how_to_load_it(client, coordinator):
    response = client.get(reverse("referential:index"))

    assert "python manage.py load_referential" in page_text(response)


def test_region_page_lists_departements_with_counts(
    client, coordinator, france, django_assert_num_queries
):
    # session, user, memberships, région, départements with their commune and EPCI counts and
    # population (subqueries)
    with django_assert_num_queries(5):
        response = client.get(reverse("referential:region_detail", args=["53"]))

    text = page_text(response)
    assert "<h1>Bretagne</h1>" in text
    cotes_row = text[text.index("Côtes-d&#x27;Armor</a>") :].split("</tr>")[0]
    # 4 communes, 2 EPCI, 9,571 + 44,372 + 11,500 + 377 inhabitants
    assert re.findall(r'<td class="text-end">([^<]*)</td>', cotes_row) == ["4", "2", "65\xa0820"]
    assert "Loire-Atlantique" not in text


def test_departement_page_lists_its_epci_and_communes(
    client, coordinator, france, django_assert_num_queries
):
    # session, user, memberships, département with région, EPCI with commune counts,
    # commune count (paginator), page of communes with their EPCI, totals
    with django_assert_num_queries(8):
        response = client.get(reverse("referential:departement_detail", args=["22"]))

    text = page_text(response)
    assert "<h1>Côtes-d&#x27;Armor (22)</h1>" in text
    assert 'href="/referentiel/epci/200069409/">CA Saint-Brieuc Armor Agglomération</a>' in text
    assert 'href="/referentiel/communes/22016/">Île-de-Bréhat</a>' in text
    assert "Nantes" not in text
    # Sorted by name, accents ignored: Île-de-Bréhat among the I, before Loudéac.
    assert (
        text.index("Île-de-Bréhat</a>") < text.index("Loudéac</a>") < text.index("Ploufragan</a>")
    )


def test_departement_communes_sort_by_population(client, coordinator, france):
    response = client.get(
        reverse("referential:departement_detail", args=["22"]), {"tri": "-population"}
    )

    text = page_text(response)
    assert (
        text.index("Saint-Brieuc</a>")
        < text.index("Ploufragan</a>")
        < text.index("Loudéac</a>")
        < text.index("Île-de-Bréhat</a>")
    )
    assert 'aria-sort="descending"' in text
    # The active column links to the other direction.
    assert 'href="?tri=population"' in text


def test_an_unknown_sort_falls_back_to_the_name(client, coordinator, france):
    response = client.get(
        reverse("referential:departement_detail", args=["22"]), {"tri": "code;drop"}
    )

    assert response.status_code == 200
    assert 'aria-sort="ascending"' in page_text(response)


def test_departement_without_epci_or_commune_says_so(client, coordinator, france):
    DepartementFactory(code="976", name="Mayotte", region=RegionFactory(code="06", name="Mayotte"))

    text = page_text(client.get(reverse("referential:departement_detail", args=["976"])))

    assert "Aucun EPCI n'est rattaché à ce département" in text
    assert "Aucune commune n'est rattachée à ce département" in text


# --- EPCI and commune pages ---------------------------------------------------------------------


def test_epci_page_shows_its_facts_and_members(
    client, coordinator, france, django_assert_num_queries
):
    # session, user, memberships, EPCI with département and région, commune count (paginator),
    # page of communes, totals
    with django_assert_num_queries(7):
        response = client.get(reverse("referential:epci_detail", args=["200069409"]))

    text = page_text(response)
    assert "<h1>CA Saint-Brieuc Armor Agglomération</h1>" in text
    assert "200069409" in text
    assert "Communauté d&#x27;agglomération" in text
    assert "153\xa0318" in text
    assert 'href="/referentiel/departements/22/">Côtes-d&#x27;Armor (22)</a>' in text
    assert "2 communes, 55\xa0872 habitant·es" in text
    assert "<td>22278</td>" in text and "Saint-Brieuc</a>" in text and "44\xa0372" in text
    assert "Loudéac</a>" not in text


def test_epci_members_are_paginated_and_sortable(client, coordinator, france):
    departement = france["communes"]["loudeac"].departement
    for n in range(PAGE_SIZE):
        CommuneFactory(
            code=f"22{600 + n}",
            name=f"Membre {n:02d}",
            population=n,
            departement=departement,
            territory=france["loudeac_cc"],
        )
    url = reverse("referential:epci_detail", args=["200067460"])

    first = page_text(client.get(url, {"tri": "-population"}))
    second = page_text(client.get(url, {"tri": "-population", "page": "2"}))

    assert "Page 1 sur 2" in first
    assert first.index("Loudéac</a>") < first.index("Membre 49</a>")
    assert "?tri=-population&amp;page=2" in first
    assert "Membre 00</a>" in second and "Loudéac</a>" not in second


def test_commune_page_shows_its_place_in_the_referential(
    client, coordinator, france, django_assert_num_queries
):
    # session, user, memberships, commune with département, région and EPCI
    with django_assert_num_queries(4):
        response = client.get(reverse("referential:commune_detail", args=["22136"]))

    text = page_text(response)
    assert "<h1>Loudéac</h1>" in text
    assert "22136" in text
    assert "9\xa0571" in text
    assert "latitude 48,17448 ; longitude -2,75058" in text
    assert 'href="/referentiel/departements/22/">Côtes-d&#x27;Armor (22)</a>' in text
    assert 'href="/referentiel/regions/53/">Bretagne</a>' in text
    assert 'href="/referentiel/epci/200067460/">CC Loudéac Communauté - Bretagne Centre</a>' in text


def test_commune_without_epci_or_centre_says_so(client, coordinator, france):
    brehat = france["communes"]["brehat"]
    brehat.latitude = brehat.longitude = None
    brehat.save()

    text = page_text(client.get(reverse("referential:commune_detail", args=["22016"])))

    assert "n'appartient à aucun EPCI" in text
    assert "non connu" in text
