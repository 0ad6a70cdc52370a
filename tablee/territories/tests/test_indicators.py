"""Territorial indicators: the CSV import, the territory selector and table, the pages."""

import html
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse

from tablee.accounts.models import AuditEvent, Role
from tablee.accounts.tests.factories import MembershipFactory, UserFactory
from tablee.core.spreadsheets import SpreadsheetRejected
from tablee.directory.tests.factories import StructureFactory
from tablee.territories.indicators import (
    IndicatorRow,
    indicators_for_territory,
    indicators_import,
    normalise_geo_code,
)
from tablee.territories.models import GeoLevel, IndicatorValue, Territory
from tablee.territories.tests.factories import (
    CommuneFactory,
    DepartementFactory,
    ProgrammeFactory,
    ProgrammeTerritoryFactory,
    RegionFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db

EXAMPLE_CSV = Path(settings.BASE_DIR) / "tablee" / "static" / "examples" / "indicateurs-exemple.csv"
SOURCE = "INSEE, Filosofi 2021"


def text(response) -> str:
    """The page as a reader sees it: HTML entities decoded."""
    return html.unescape(response.content.decode())


def upload(content: str, encoding: str = "utf-8", name: str = "indicateurs.csv"):
    return SimpleUploadedFile(name, content.encode(encoding), content_type="text/csv")


def run_import(file, *, level=GeoLevel.COMMUNE, year=2021, user=None):
    return indicators_import(
        file=file, level=level, year=year, source=SOURCE, acting_user=user or UserFactory()
    )


def stored(level=GeoLevel.COMMUNE, year=2021) -> dict[tuple[str, str], Decimal]:
    return {
        (code, geo_code): value
        for code, geo_code, value in IndicatorValue.objects.filter(
            level=level, year=year
        ).values_list("code", "geo_code", "value")
    }


def rejected(file, **options) -> list[str]:
    """The messages of a refused import, after checking that nothing at all was written."""
    values_before = list(IndicatorValue.objects.order_by("pk").values())
    events_before = AuditEvent.objects.count()
    with pytest.raises(SpreadsheetRejected) as caught:
        run_import(file, **options)
    assert list(IndicatorValue.objects.order_by("pk").values()) == values_before
    assert AuditEvent.objects.count() == events_before
    return [str(problem) for problem in caught.value.problems]


def user_with(role, **scope):
    return MembershipFactory(role=role, **scope).user


@pytest.fixture
def geo():
    """A small real referential: two Breton EPCI, their communes, and one commune of the Ain."""
    bretagne = RegionFactory(code="53", name="Bretagne")
    cotes_darmor = DepartementFactory(code="22", name="Côtes-d'Armor", region=bretagne)
    finistere = DepartementFactory(code="29", name="Finistère", region=bretagne)
    kreiz_breizh = TerritoryFactory(
        siren="242200715", name="CC du Kreiz-Breizh (CCKB)", departement=cotes_darmor
    )
    loudeac = TerritoryFactory(
        siren="200067460", name="CC Loudéac Communauté - Bretagne Centre", departement=cotes_darmor
    )
    dinan = TerritoryFactory(
        siren="200068989", name="CA Dinan Agglomération", departement=cotes_darmor
    )
    for code, name, epci in [
        ("22136", "Loudéac", loudeac),
        ("22046", "Le Mené", loudeac),
        ("22266", "Rostrenen", kreiz_breizh),
        ("22137", "Maël-Carhaix", kreiz_breizh),
        ("22061", "Glomel", kreiz_breizh),
        ("22050", "Dinan", dinan),
        ("22118", "Lanvallay", dinan),
    ]:
        CommuneFactory(code=code, name=name, departement=cotes_darmor, territory=epci)
    rhone_alpes = RegionFactory(code="84", name="Auvergne-Rhône-Alpes")
    ain = DepartementFactory(code="01", name="Ain", region=rhone_alpes)
    CommuneFactory(code="01001", name="L'Abergement-Clémenciat", departement=ain, territory=None)
    return SimpleNamespace(
        bretagne=bretagne,
        rhone_alpes=rhone_alpes,
        cotes_darmor=cotes_darmor,
        finistere=finistere,
        ain=ain,
        kreiz_breizh=kreiz_breizh,
        loudeac=loudeac,
    )


# --- good files -----------------------------------------------------------------------------


class TestImportGoodFiles:
    def test_semicolons_decimal_commas_and_libgeo_ignored(self, geo):
        user = UserFactory()
        result = run_import(
            upload(
                "CODGEO;LIBGEO;Taux de pauvreté (%);Nombre de ménages\n"
                "22136;Loudéac;14,2;4 512\n"
                "22266;Rostrenen;18,9;1\u202f620,5\n"
            ),
            user=user,
        )

        assert stored() == {
            ("taux-de-pauvrete", "22136"): Decimal("14.2"),
            ("taux-de-pauvrete", "22266"): Decimal("18.9"),
            ("nombre-de-menages", "22136"): Decimal("4512"),
            ("nombre-de-menages", "22266"): Decimal("1620.5"),
        }
        value = IndicatorValue.objects.get(code="taux-de-pauvrete", geo_code="22136")
        assert value.label == "Taux de pauvreté (%)"
        assert value.source == SOURCE
        assert value.year == 2021
        assert not IndicatorValue.objects.filter(code__in=["libgeo", "codgeo"]).exists()
        assert (result.created, result.updated, result.indicators, result.geo_units) == (4, 0, 2, 2)

        event = AuditEvent.objects.get(kind=AuditEvent.Kind.INDICATORS_IMPORTED)
        assert event.actor == user
        assert event.target == "commune 2021"
        # Counts only: no name, no value, no file content.
        assert event.detail == {
            "created": 4,
            "updated": 0,
            "indicators": 2,
            "geo_units": 2,
            "skipped": 0,
        }

    def test_commas_with_quoted_decimals(self, geo):
        run_import(upload('code,libelle,taux\n22136,Loudéac,"14,2"\n22266,Rostrenen,18.9\n'))

        assert stored() == {
            ("taux", "22136"): Decimal("14.2"),
            ("taux", "22266"): Decimal("18.9"),
        }

    def test_utf8_with_bom(self, geo):
        run_import(SimpleUploadedFile("f.csv", "\ufeffCODGEO;Part âgée\n22136;13,8\n".encode()))

        assert stored() == {("part-agee", "22136"): Decimal("13.8")}

    def test_windows_1252_with_accents_in_headers(self, geo):
        run_import(
            upload(
                "CODGEO;Libellé;Dépense moyenne (€);Élèves\r\n22136;Loudéac;12,5;340\r\n", "cp1252"
            )
        )

        labels = set(IndicatorValue.objects.values_list("code", "label"))
        assert labels == {
            ("depense-moyenne", "Dépense moyenne (€)"),
            ("eleves", "Élèves"),
        }

    def test_commune_codes_that_lost_their_leading_zero_are_padded(self, geo):
        run_import(upload("CODGEO;taux\n1001;3,5\n"))

        assert stored() == {("taux", "01001"): Decimal("3.5")}

    def test_empty_cells_and_secret_markers_are_skipped(self, geo):
        result = run_import(upload("CODGEO;a;b;c;d\n22136;1;;s;NA\n22266;nd;2;N/A;\n22050;S;;;3\n"))

        assert stored() == {
            ("a", "22136"): Decimal("1"),
            ("b", "22266"): Decimal("2"),
            ("d", "22050"): Decimal("3"),
        }
        assert result.skipped == 9
        assert result.geo_units == 3

    def test_values_are_rounded_to_four_decimals(self, geo):
        run_import(upload("code;taux\n22136;12,345678\n"))

        assert stored() == {("taux", "22136"): Decimal("12.3457")}

    def test_epci_level_by_siren(self, geo):
        result = run_import(
            upload("siren;nom;taux\n242 200 715;CC du Kreiz-Breizh;17,1\n"), level=GeoLevel.EPCI
        )

        assert stored(GeoLevel.EPCI) == {("taux", "242200715"): Decimal("17.1")}
        assert result.level == GeoLevel.EPCI

    def test_departement_and_region_levels(self, geo):
        run_import(upload("code;taux\n22;14,1\n1;11\n"), level=GeoLevel.DEPARTEMENT)
        run_import(upload("code;taux\n53;10,9\n"), level=GeoLevel.REGION)

        assert stored(GeoLevel.DEPARTEMENT) == {
            ("taux", "22"): Decimal("14.1"),
            ("taux", "01"): Decimal("11"),
        }
        assert stored(GeoLevel.REGION) == {("taux", "53"): Decimal("10.9")}

    def test_the_example_file_imports_once_the_referential_holds_its_communes(self, geo):
        # The upload page links to it through {% static %}.
        assert Path(finders.find("examples/indicateurs-exemple.csv")) == EXAMPLE_CSV
        with EXAMPLE_CSV.open("rb") as example:
            result = run_import(example)

        assert result.geo_units == 7
        assert result.indicators == 3
        assert result.skipped == 2  # one secret "s", one empty cell
        value = IndicatorValue.objects.get(geo_code="22050", code__startswith="menages")
        assert value.value == Decimal("1038")
        assert "valeurs fictives" in value.label

    @pytest.mark.parametrize(
        ("raw", "level", "expected"),
        [
            ("1001", GeoLevel.COMMUNE, "01001"),
            ("2a004", GeoLevel.COMMUNE, "2A004"),
            ("97101", GeoLevel.COMMUNE, "97101"),
            ("242 200 715", GeoLevel.EPCI, "242200715"),
            ("1", GeoLevel.DEPARTEMENT, "01"),
            ("2B", GeoLevel.DEPARTEMENT, "2B"),
            ("971", GeoLevel.DEPARTEMENT, "971"),
            ("1", GeoLevel.REGION, "01"),
            ("53", GeoLevel.REGION, "53"),
        ],
    )
    def test_geo_code_normalisation(self, raw, level, expected):
        assert normalise_geo_code(raw, level) == expected


class TestImportIdempotence:
    def test_same_file_twice_leaves_the_same_rows(self, geo):
        content = "CODGEO;taux;part\n22136;14,2;3\n22266;18,9;4\n"
        first = run_import(upload(content))
        rows_after_first = list(IndicatorValue.objects.order_by("pk").values_list("pk", "value"))

        second = run_import(upload(content))

        assert list(IndicatorValue.objects.order_by("pk").values_list("pk", "value")) == (
            rows_after_first
        )
        assert (first.created, first.updated) == (4, 0)
        assert (second.created, second.updated) == (0, 4)
        assert AuditEvent.objects.filter(kind=AuditEvent.Kind.INDICATORS_IMPORTED).count() == 2

    def test_a_corrected_file_updates_values_labels_and_sources(self, geo):
        run_import(upload("CODGEO;taux\n22136;14,2\n22266;18,9\n"))

        result = indicators_import(
            file=upload("CODGEO;Taux\n22136;15\n22050;9,5\n"),
            level=GeoLevel.COMMUNE,
            year=2021,
            source="INSEE, Filosofi 2021 (révisé)",
            acting_user=UserFactory(),
        )

        assert stored() == {
            ("taux", "22136"): Decimal("15"),
            ("taux", "22266"): Decimal("18.9"),  # absent from the new file: kept
            ("taux", "22050"): Decimal("9.5"),
        }
        assert (result.created, result.updated) == (1, 1)
        corrected = IndicatorValue.objects.get(geo_code="22136")
        assert corrected.label == "Taux"
        assert corrected.source == "INSEE, Filosofi 2021 (révisé)"

    def test_another_year_adds_values_beside_the_first(self, geo):
        run_import(upload("CODGEO;taux\n22136;14,2\n"), year=2020)
        run_import(upload("CODGEO;taux\n22136;14,8\n"), year=2021)

        assert set(IndicatorValue.objects.values_list("year", "value")) == {
            (2020, Decimal("14.2")),
            (2021, Decimal("14.8")),
        }


# --- bad files: nothing written, every problem named ----------------------------------------


class TestImportBadFiles:
    @pytest.fixture(autouse=True)
    def _previous_import(self, geo):
        # A value already there must survive every refused import untouched.
        run_import(upload("CODGEO;taux\n22136;14,2\n"))

    def test_unknown_code(self):
        assert rejected(upload("CODGEO;taux\n22136;1\n99999;2\n")) == [
            "Ligne 3, colonne « CODGEO » : « 99999 » n'est pas un code de commune connu du "
            "référentiel."
        ]

    def test_codes_of_another_level_point_at_the_level_chosen(self):
        # Commune codes uploaded as EPCI.
        assert rejected(upload("code;taux\n22136;1\n22266;2\n"), level=GeoLevel.EPCI) == [
            "Ligne 1, colonne « code » : aucun code de cette colonne n'est un SIREN d'EPCI : "
            "vérifiez le niveau géographique choisi (communes, EPCI, départements ou régions).",
            "Ligne 2, colonne « code » : « 22136 » n'est pas un SIREN d'EPCI connu du référentiel.",
            "Ligne 3, colonne « code » : « 22266 » n'est pas un SIREN d'EPCI connu du référentiel.",
        ]

    def test_value_that_is_not_a_number(self):
        assert rejected(upload("CODGEO;LIBGEO;taux_pauvrete\n22136;Loudéac;12,5 %\n")) == [
            "Ligne 2, colonne « taux_pauvrete » : « 12,5 % » n'est pas un nombre."
        ]

    def test_ambiguous_number(self):
        assert rejected(upload("CODGEO;revenu\n22136;21.340,5\n")) == [
            "Ligne 2, colonne « revenu » : « 21.340,5 » mélange virgule et point."
        ]

    def test_value_too_large_for_the_column(self):
        assert rejected(upload("CODGEO;x\n22136;1 000 000 000 000\n")) == [
            "Ligne 2, colonne « x » : « 1 000 000 000 000 » est trop grand (12 chiffres au plus "
            "avant la virgule)."
        ]

    def test_code_repeated_in_the_file_even_without_its_leading_zero(self):
        assert rejected(upload("CODGEO;taux\n01001;1\n22136;2\n1001;3\n")) == [
            "Ligne 4, colonne « CODGEO » : le code « 1001 » figure déjà ligne 2."
        ]

    def test_empty_code(self):
        assert rejected(upload("CODGEO;taux\n;1\n")) == [
            "Ligne 2, colonne « CODGEO » : le code géographique est vide."
        ]

    def test_duplicated_column(self):
        assert rejected(upload("CODGEO;taux;part;taux\n22136;1;2;3\n")) == [
            "Ligne 1, colonne « taux » : nom de colonne en double (colonnes 2 et 4, soit B et D) "
            ": chaque colonne doit avoir un nom différent."
        ]

    def test_two_headers_giving_the_same_indicator_code(self):
        assert rejected(upload("CODGEO;Taux de pauvreté;taux-de-pauvrete\n22136;1;2\n")) == [
            "Ligne 1, colonne « taux-de-pauvrete » : cette colonne (3, C) donne le même code "
            "d'indicateur « taux-de-pauvrete » que la colonne « Taux de pauvreté » : renommez "
            "l'une des deux."
        ]

    def test_first_column_is_not_a_geographic_code(self):
        assert rejected(upload("taux;CODGEO\n1;22136\n")) == [
            "Ligne 1, colonne « taux » : la première colonne doit contenir le code géographique "
            "(CODGEO, code_insee, siren…), or elle s'appelle « taux »."
        ]

    def test_no_indicator_column(self):
        assert rejected(upload("CODGEO;LIBGEO\n22136;Loudéac\n")) == [
            "Ligne 1 : le fichier ne contient aucune colonne d'indicateur après le code "
            "géographique et le nom."
        ]

    def test_line_with_too_many_cells(self):
        assert rejected(upload("CODGEO;taux\n22136;1;5\n")) == [
            "Ligne 2 : 3 valeurs pour 2 colonnes : vérifiez le séparateur (point-virgule) et les "
            "guillemets."
        ]

    def test_every_problem_is_collected_not_only_the_first(self):
        problems = rejected(
            upload("CODGEO;a;b\n22136;1;x\n99999;2;3\n22266;y;4\n22136;5;6\n22050;7;1;2\n")
        )

        assert problems == [
            "Ligne 6 : 4 valeurs pour 3 colonnes : vérifiez le séparateur (point-virgule) et les "
            "guillemets.",
            "Ligne 2, colonne « b » : « x » n'est pas un nombre.",
            "Ligne 3, colonne « CODGEO » : « 99999 » n'est pas un code de commune connu du "
            "référentiel.",
            "Ligne 4, colonne « a » : « y » n'est pas un nombre.",
            "Ligne 5, colonne « CODGEO » : le code « 22136 » figure déjà ligne 2.",
        ]

    def test_empty_file(self):
        assert rejected(upload("")) == ["Le fichier est vide."]

    def test_header_only(self):
        assert rejected(upload("CODGEO;taux\n")) == [
            "Le fichier ne contient que la ligne des noms de colonnes, aucune ligne de données."
        ]

    def test_binary_file(self):
        (problem,) = rejected(SimpleUploadedFile("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\rIHDR"))
        assert "n'est pas un fichier texte" in problem

    def test_workbook_instead_of_csv(self):
        (problem,) = rejected(SimpleUploadedFile("classeur.xlsx", b"PK\x03\x04" + b"\x14" * 40))
        assert "classeur Excel" in problem

    def test_wrong_encoding(self):
        assert rejected(upload("代码;比率\n110000;12,5\n" * 3, "gbk")) == [
            "L'encodage des caractères du fichier n'est pas reconnu (ni UTF-8, ni Windows-1252). "
            "Enregistrez-le au format « CSV UTF-8 »."
        ]


def test_referential_not_loaded_yet():
    # No région in the database: one clear message rather than one per line.
    assert rejected(upload("code;taux\n53;1\n84;2\n"), level=GeoLevel.REGION) == [
        "Ligne 1, colonne « code » : le référentiel ne contient encore aucun code de région : "
        "demandez à l'administrateur·ice de l'instance de le charger (commande load_referential)."
    ]


# --- the territory page: selector and table -------------------------------------------------


def add_value(code, level, geo_code, year, value, label=None, source=SOURCE):
    IndicatorValue.objects.create(
        code=code,
        label=label or code.replace("-", " ").capitalize(),
        level=level,
        geo_code=geo_code,
        year=year,
        value=Decimal(value),
        source=source,
    )


class TestIndicatorsForTerritory:
    @pytest.fixture
    def values(self, geo):
        epci, dep, reg = GeoLevel.EPCI, GeoLevel.DEPARTEMENT, GeoLevel.REGION
        # Poverty rate: two years for the EPCI, the latest one is shown with its comparisons.
        add_value("taux-pauvrete", epci, "242200715", 2020, "17.4000")
        add_value("taux-pauvrete", epci, "242200715", 2021, "17.1000", label="Taux de pauvreté")
        add_value("taux-pauvrete", dep, "22", 2020, "12.0000")
        add_value("taux-pauvrete", dep, "22", 2021, "12.3000")
        add_value("taux-pauvrete", reg, "53", 2021, "10.9000", source="INSEE, Filosofi")
        # Known for the département only, in a later year than anything else.
        add_value("allocataires-rsa", dep, "22", 2023, "11234.5000", label="Allocataires du RSA")
        # Known for the EPCI only.
        add_value("part-75-ans", epci, "242200715", 2021, "14.0000", label="Part des 75 ans")
        # Elsewhere: another EPCI, another département, another région, communes.
        add_value("taux-pauvrete", epci, "200067460", 2021, "13.0000")
        add_value("taux-pauvrete", dep, "29", 2021, "10.1000")
        add_value("taux-pauvrete", reg, "84", 2021, "11.0000")
        add_value("taux-pauvrete", GeoLevel.COMMUNE, "22266", 2021, "21.0000")
        add_value("densite", dep, "01", 2021, "5.0000")

    def test_one_query_and_values_beside_departement_and_region(
        self, geo, values, django_assert_num_queries
    ):
        territory = Territory.objects.get(siren="242200715")

        # one query: the values of the EPCI, its département and (by subquery) its région
        with django_assert_num_queries(1):
            rows = indicators_for_territory(territory)

        assert [
            (
                row.label,
                row.year,
                row.epci_value,
                row.departement_value,
                row.region_value,
                row.source,
            )
            for row in rows
        ] == [
            ("Allocataires du RSA", 2023, None, Decimal("11234.5"), None, SOURCE),
            ("Part des 75 ans", 2021, Decimal("14"), None, None, SOURCE),
            (
                "Taux de pauvreté",
                2021,
                Decimal("17.1"),
                Decimal("12.3"),
                Decimal("10.9"),
                f"{SOURCE} ; INSEE, Filosofi",
            ),
        ]
        assert [row.decimal_places for row in rows] == [1, 0, 1]

    def test_each_territory_sees_its_own_values(self, geo, values):
        rows = {row.code: row for row in indicators_for_territory(geo.loudeac)}
        assert (rows["taux-pauvrete"].epci_value, rows["taux-pauvrete"].departement_value) == (
            Decimal("13"),
            Decimal("12.3"),
        )
        assert "part-75-ans" not in rows
        lonely = TerritoryFactory(departement=DepartementFactory(code="35", region=geo.bretagne))
        # Only the région's value reaches an EPCI of another département.
        rows = indicators_for_territory(lonely)
        assert [(row.code, row.epci_value, row.region_value) for row in rows] == [
            ("taux-pauvrete", None, Decimal("10.9"))
        ]

    def test_table_is_accessible_and_formatted_in_french(self):
        rows = [
            IndicatorRow(
                code="allocataires-rsa",
                label="Allocataires du RSA",
                year=2023,
                epci_value=Decimal("1234.5000"),
                departement_value=Decimal("11234.5000"),
                region_value=None,
                source=SOURCE,
                decimal_places=1,
            )
        ]
        page = html.unescape(
            render_to_string("territories/includes/indicators_table.html", {"indicator_rows": rows})
        )
        cells = re.findall(r"<td[^>]*>\s*(.*?)\s*</td>", page, re.S)

        assert "<caption>" in page
        assert page.count('scope="col"') == 6
        assert '<th scope="row"' in page
        assert cells[:3] == ["2023", "1\xa0234,5", "11\xa0234,5"]
        assert "non disponible" in cells[3]
        assert "<h" not in page.replace("<head", "")  # the page gives the heading

    def test_empty_table_says_so(self):
        page = render_to_string(
            "territories/includes/indicators_table.html", {"indicator_rows": []}
        )
        assert "Aucun indicateur" in html.unescape(page)


# --- pages ----------------------------------------------------------------------------------


@pytest.fixture
def programme():
    return ProgrammeFactory()


def refused_users(programme):
    territory = ProgrammeTerritoryFactory(programme=programme)
    return {
        "partner": user_with(Role.PARTNER, structure=StructureFactory()),
        "funder": user_with(Role.FUNDER, programme=programme),
        "local_authority": user_with(Role.LOCAL_AUTHORITY, programme_territory=territory),
        "no role": UserFactory(),
    }


class TestImportPage:
    @property
    def url(self):
        return reverse("indicators:import")

    def post(self, client, content, **overrides):
        data = {"file": upload(content), "level": "commune", "year": "2021", "source": SOURCE}
        data.update(overrides)
        return client.post(self.url, data)

    @pytest.mark.parametrize("role", [Role.ADMIN, Role.COORDINATOR])
    def test_allowed_roles_see_the_form_and_the_example(self, client, programme, role):
        scope = {"programme": programme} if role == Role.COORDINATOR else {}
        client.force_login(user_with(role, **scope))

        response = client.get(self.url)

        page = text(response)
        assert response.status_code == 200
        assert 'enctype="multipart/form-data"' in page
        for label in (
            "Fichier CSV",
            "Niveau géographique des codes",
            "Année des valeurs",
            "Source",
        ):
            assert label in page
        assert "examples/indicateurs-exemple.csv" in page

    def test_coordinator_imports_and_reads_the_counts(self, client, geo, programme):
        client.force_login(user_with(Role.COORDINATOR, programme=programme))

        response = self.post(client, "CODGEO;LIBGEO;taux;part\n22136;Loudéac;1;2\n22266;R;3;s\n")

        assert response.status_code == 302
        assert response.url == reverse("indicators:list")
        assert IndicatorValue.objects.count() == 3
        page = text(client.get(response.url))
        assert (
            "Import terminé pour 2021 : 3 valeur(s) créée(s), 0 mise(s) à jour, pour 2 "
            "indicateur(s) et 2 unité(s) géographique(s) ; 1 cellule(s) vide(s) ou sous secret "
            "ignorée(s)."
        ) in page

    def test_errors_are_listed_with_line_column_and_value(self, client, geo):
        client.force_login(user_with(Role.ADMIN))

        response = self.post(client, "CODGEO;taux\n22136;abc\n99999;1\n")

        page = text(response)
        assert response.status_code == 200
        assert "Rien n'a été importé : 2 problèmes à corriger" in page
        assert "Ligne 2, colonne « taux » : « abc » n'est pas un nombre." in page
        assert "Ligne 3, colonne « CODGEO » : « 99999 » n'est pas un code de commune" in page
        assert not IndicatorValue.objects.exists()
        # What was typed is kept; the file has to be chosen again.
        assert 'value="INSEE, Filosofi 2021"' in page

    def test_only_the_first_fifty_problems_are_shown_with_the_total(self, client, geo):
        client.force_login(user_with(Role.ADMIN))
        headers = ";".join(f"indicateur {n}" for n in range(60))
        content = f"CODGEO;{headers}\n22136" + ";x" * 60 + "\n"

        page = text(self.post(client, content))

        assert "Rien n'a été importé : 60 problèmes à corriger" in page
        assert "Voici les 50 premiers" in page
        assert page.count("n'est pas un nombre") == 50
        assert not IndicatorValue.objects.exists()

    def test_file_over_the_size_limit(self, client, geo, settings):
        settings.TABLEE_MAX_IMPORT_BYTES = 20
        client.force_login(user_with(Role.ADMIN))

        response = self.post(client, "CODGEO;taux\n22136;1\n22266;2\n")

        assert "la taille maximale est de 20\xa0octets" in text(response)
        assert not IndicatorValue.objects.exists()

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("year", "1999", "supérieure ou égale à 2000"),
            ("year", "2101", "inférieure ou égale à 2100"),
            ("source", "", "Ce champ est obligatoire"),
            ("level", "canton", "Sélectionnez un choix valide"),
        ],
    )
    def test_form_errors(self, client, geo, field, value, message):
        client.force_login(user_with(Role.ADMIN))

        response = self.post(client, "CODGEO;taux\n22136;1\n", **{field: value})

        assert response.status_code == 200
        assert message in text(response)
        assert not IndicatorValue.objects.exists()

    def test_refused_roles_get_403_and_nothing_is_written(self, client, geo, programme):
        for name, user in refused_users(programme).items():
            client.force_login(user)
            assert client.get(self.url).status_code == 403, name
            assert self.post(client, "CODGEO;taux\n22136;1\n").status_code == 403, name
        assert not IndicatorValue.objects.exists()
        assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.INDICATORS_IMPORTED).exists()

    def test_anonymous_is_sent_to_login(self, client, geo):
        response = self.post(client, "CODGEO;taux\n22136;1\n")

        assert response.status_code == 302
        assert reverse("accounts:login") in response.url
        assert not IndicatorValue.objects.exists()


class TestIndicatorList:
    @property
    def url(self):
        return reverse("indicators:list")

    def test_lists_each_indicator_by_level_with_years_and_counts(
        self, client, geo, django_assert_num_queries
    ):
        for year in (2019, 2021):
            for commune in ("22136", "22266", "22050"):
                add_value("taux", GeoLevel.COMMUNE, commune, year, "1", label="Taux")
        add_value("taux", GeoLevel.DEPARTEMENT, "22", 2020, "1", label="Taux")
        add_value("part", GeoLevel.EPCI, "242200715", 2021, "1", label="Part")
        client.force_login(user_with(Role.ADMIN))

        # session, user, memberships (permission), count for pagination, page of indicators,
        # years of the page's indicators
        with django_assert_num_queries(6):
            response = client.get(self.url)

        assert response.status_code == 200
        assert [
            (row["code"], row["level_label"], row["years"], row["value_count"])
            for row in response.context["rows"]
        ] == [
            ("part", "EPCI", [2021], 1),
            ("taux", "Communes", [2019, 2021], 6),
            ("taux", "Départements", [2020], 1),
        ]
        page = text(response)
        assert "Importer des indicateurs" in page
        assert "2019, 2021" in page

    def test_is_paginated(self, client, geo):
        IndicatorValue.objects.bulk_create(
            IndicatorValue(
                code=f"indicateur-{n:02d}",
                label=f"Indicateur {n:02d}",
                level=GeoLevel.REGION,
                geo_code="53",
                year=2021,
                value=Decimal(n),
                source=SOURCE,
            )
            for n in range(55)
        )
        client.force_login(user_with(Role.ADMIN))

        first = client.get(self.url)
        second = client.get(self.url, {"page": 2})

        assert len(first.context["rows"]) == 50
        assert [row["code"] for row in second.context["rows"]] == [
            f"indicateur-{n}" for n in range(50, 55)
        ]
        assert "Page 1 sur 2" in text(first)

    def test_readers_without_import_right_see_no_import_button(self, client, programme):
        client.force_login(user_with(Role.FUNDER, programme=programme))

        response = client.get(self.url)

        assert response.status_code == 200
        assert "Importer des indicateurs" not in text(response)
        assert "Aucun indicateur n'a encore été importé." in text(response)

    def test_user_without_role_is_refused_and_anonymous_sent_to_login(self, client):
        client.force_login(UserFactory())
        assert client.get(self.url).status_code == 403
        client.logout()
        response = client.get(self.url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response.url
