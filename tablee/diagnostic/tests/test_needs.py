"""Needs (besoins) of a territory's diagnostic: who may see and record them, filters, bad input."""

import html
import re

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.diagnostic.models import BarrierCategory, Need
from tablee.diagnostic.tests.factories_i import (
    ALLOWED_ROLES,
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    DiagnosticWorld,
    MeetingFactory,
    NeedFactory,
    barrier_category,
)
from tablee.directory.models import Category

pytestmark = pytest.mark.django_db


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    return DiagnosticWorld()


def url(name, world, *args):
    return reverse(f"diagnostic_records:{name}", args=[world.t1.pk, *args])


def need_data(world, **overrides):
    data = {
        "category": str(barrier_category("mobilite-distance").pk),
        "title": "Pas de transport vers l'épicerie le samedi",
        "description": "Les familles sans voiture ne peuvent pas venir.",
        "severity": "3",
        "source": Need.Source.MEETING,
        "meeting": "",
        "structures": [str(world.own.pk)],
    }
    data.update(overrides)
    return data


def page_urls(world):
    need = NeedFactory(programme_territory=world.t1)
    return [
        url("need_list", world),
        url("need_create", world),
        url("need_edit", world, need.pk),
        url("need_delete", world, need.pk),
    ]


@pytest.mark.parametrize("role", ALLOWED_ROLES)
def test_coordinators_and_admin_open_every_need_page(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("role", FORBIDDEN_ROLES)
def test_partner_local_authority_and_funder_are_refused(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 403, address
    assert client.post(url("need_create", world), need_data(world)).status_code == 403
    assert Need.objects.count() == 1


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_a_territory_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 404, address


def test_anonymous_is_sent_to_the_login_page(client, world):
    for address in page_urls(world):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_a_need_of_another_territory_answers_404(client, world):
    elsewhere = NeedFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    assert client.get(url("need_edit", world, elsewhere.pk)).status_code == 404
    assert client.post(url("need_delete", world, elsewhere.pk)).status_code == 404
    assert Need.objects.filter(pk=elsewhere.pk).exists()


# ---- List --------------------------------------------------------------------------------------


def listed(response) -> list[str]:
    return [n.title for n in response.context["page"].object_list]


def test_need_list_filters_and_sorts(client, world, django_assert_num_queries):
    meeting = MeetingFactory(programme_territory=world.t1)
    NeedFactory(
        programme_territory=world.t1,
        title="A — transport",
        category=barrier_category("mobilite-distance"),
        severity=3,
        meeting=meeting,
        structures=[world.own],
    )
    NeedFactory(
        programme_territory=world.t1,
        title="B — cuisine",
        category=barrier_category("equipement-cuisine-stockage"),
        severity=1,
        source=Need.Source.TESTIMONY,
        structures=[world.neighbour],
    )
    NeedFactory(
        programme_territory=world.t1,
        title="C — prix",
        severity=2,
        source=Need.Source.QUESTIONNAIRE,
    )
    NeedFactory(programme_territory=world.t2, title="Ailleurs")
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, count, page of needs with category and
    # meeting, categories and structures of the filters
    with django_assert_num_queries(8):
        response = client.get(url("need_list", world))
    assert listed(response) == ["A — transport", "C — prix", "B — cuisine"]  # most severe first
    assert listed(client.get(url("need_list", world), {"tri": "intitule"})) == [
        "A — transport",
        "B — cuisine",
        "C — prix",
    ]
    assert listed(client.get(url("need_list", world), {"tri": "-intitule"}))[0] == "C — prix"
    mobility = barrier_category("mobilite-distance")
    assert listed(client.get(url("need_list", world), {"category": mobility.pk})) == [
        "A — transport"
    ]
    assert listed(client.get(url("need_list", world), {"severity": "1"})) == ["B — cuisine"]
    assert listed(client.get(url("need_list", world), {"source": "questionnaire"})) == ["C — prix"]
    assert listed(client.get(url("need_list", world), {"structure": world.neighbour.pk})) == [
        "B — cuisine"
    ]
    response = client.get(url("need_list", world), {"source": "meeting", "tri": "intitule"})
    page = text(response)
    assert "Rencontre :" in page
    # Sort links keep the filters in use.
    assert "source=meeting&amp;tri=-intitule" in response.content.decode()


# ---- Create, edit, delete ----------------------------------------------------------------------


def test_coordinator_records_a_need(client, world):
    client.force_login(world.territory_coordinator)
    response = client.get(url("need_create", world))
    page = text(response)
    assert "N'écrivez ni le nom d'une personne accompagnée" in page
    assert "Honte et non-recours" in page  # the shared taxonomy is offered
    public = Category.objects.filter(kind=Category.Kind.PUBLIC).first()
    data = need_data(world, publics=[str(public.pk)] if public else [])
    response = client.post(url("need_create", world), data)
    assert response.status_code == 302
    need = Need.objects.get()
    assert need.category.code == "mobilite-distance"
    assert need.severity == 3
    assert list(need.structures.all()) == [world.own]
    assert need.programme_territory == world.t1
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED)
    assert event.detail == {"action": "need_create", "need": str(need.pk)}


def test_a_need_from_a_meeting_is_prefilled(client, world):
    meeting = MeetingFactory(programme_territory=world.t1, structures=[world.neighbour])
    client.force_login(world.coordinator)
    response = client.get(url("need_create", world) + f"?rencontre={meeting.pk}")
    form = response.context["form"]
    assert form.initial["meeting"] == meeting.pk
    assert form.initial["source"] == Need.Source.MEETING
    assert "Besoin issu de la rencontre" in text(response)
    response = client.post(
        url("need_create", world) + f"?rencontre={meeting.pk}",
        need_data(world, meeting=str(meeting.pk), structures=[str(world.neighbour.pk)]),
    )
    assert response["Location"] == url("meeting_detail", world, meeting.pk)
    assert Need.objects.get().meeting == meeting
    # The meeting page now lists it.
    assert "Pas de transport vers l'épicerie le samedi" in text(
        client.get(url("meeting_detail", world, meeting.pk))
    )


def test_an_unknown_or_foreign_meeting_does_not_prefill(client, world):
    elsewhere = MeetingFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    for value in (str(elsewhere.pk), "pas-un-identifiant"):
        response = client.get(url("need_create", world), {"rencontre": value})
        assert response.status_code == 200
        assert "meeting" not in response.context["form"].initial


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"category": ""}, "category", "Choisissez une catégorie de frein"),
        ({"category": "999999"}, "category", ""),
        ({"title": ""}, "title", "Donnez un intitulé au besoin."),
        ({"severity": "4"}, "severity", ""),
        ({"severity": "0"}, "severity", ""),
        ({"source": ""}, "source", "Indiquez la source du besoin."),
        ({"meeting": "foreign"}, "meeting", ""),
        ({"structures": ["foreign"]}, "structures", ""),
    ],
)
def test_bad_need_input_is_refused_and_nothing_written(client, world, overrides, field, message):
    if overrides.get("meeting") == "foreign":
        overrides = {"meeting": str(MeetingFactory(programme_territory=world.t2).pk)}
    if overrides.get("structures") == ["foreign"]:
        overrides = {"structures": [str(world.sibling.pk)]}
    client.force_login(world.coordinator)
    response = client.post(url("need_create", world), need_data(world, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    if message:
        assert message in text(response)
    assert not Need.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED).exists()


def test_the_need_service_refuses_a_need_with_no_category(world):
    from django.core.exceptions import ValidationError

    from tablee.diagnostic.services_records import need_create

    with pytest.raises(ValidationError) as error:
        need_create(
            programme_territory=world.t1,
            acting_user=world.coordinator,
            title="Sans catégorie",
            source=Need.Source.OTHER,
        )
    assert "category" in error.value.error_dict
    assert not Need.objects.exists()


def test_a_category_added_by_an_admin_is_offered(client, world):
    BarrierCategory.objects.create(code="numerique", label="Numérique", position=200)
    BarrierCategory.objects.filter(code="langue").update(is_active=False)
    client.force_login(world.coordinator)
    page = text(client.get(url("need_create", world)))
    assert "Numérique" in page
    assert "Langue" not in page


def test_coordinator_edits_a_need_and_conflicts_are_caught(client, world):
    need = NeedFactory(programme_territory=world.t1, title="Ancien intitulé")
    client.force_login(world.coordinator)
    assert client.get(url("need_edit", world, need.pk)).context["form"].initial["version"] == 1
    response = client.post(
        url("need_edit", world, need.pk), need_data(world, version="1", title="Nouvel intitulé")
    )
    assert response.status_code == 302
    response = client.post(
        url("need_edit", world, need.pk), need_data(world, version="1", title="Autre intitulé")
    )
    assert "Quelqu'un d'autre a modifié cette fiche" in text(response)
    need.refresh_from_db()
    assert need.title == "Nouvel intitulé" and need.version == 2


def test_a_need_is_deleted_after_confirmation(client, world):
    need = NeedFactory(programme_territory=world.t1, title="À supprimer")
    client.force_login(world.coordinator)
    response = client.get(url("need_delete", world, need.pk))
    assert "Le besoin « À supprimer » sera supprimé" in text(response)
    assert Need.objects.exists()
    response = client.post(url("need_delete", world, need.pk))
    assert response.status_code == 302
    assert not Need.objects.exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED)
    assert event.detail == {"action": "need_delete", "need": str(need.pk)}


# ---- Django admin ------------------------------------------------------------------------------


def test_a_superuser_extends_the_taxonomy_in_the_admin(client, world):
    from tablee.accounts.tests.factories import UserFactory
    from tablee.diagnostic.tests.factories_i import TestimonyFactory as ParoleFactory

    superuser = UserFactory(is_staff=True, is_superuser=True)
    meeting = MeetingFactory(programme_territory=world.t1, structures=[world.own])
    need = NeedFactory(programme_territory=world.t1, meeting=meeting)
    ParoleFactory(programme_territory=world.t1, needs=[need])
    client.force_login(superuser)
    for model in (
        "barriercategory",
        "meeting",
        "need",
        "pathway",
        "testimony",
        "survey",
        "surveyresponse",
    ):
        changelist = reverse(f"admin:diagnostic_{model}_changelist")
        assert client.get(changelist).status_code == 200, model
    assert (
        client.get(reverse("admin:diagnostic_meeting_change", args=[meeting.pk])).status_code == 200
    )
    response = client.post(
        reverse("admin:diagnostic_barriercategory_add"),
        {"code": "numerique", "label": "Numérique", "position": "130", "is_active": "on"},
    )
    assert response.status_code == 302
    assert BarrierCategory.objects.get(code="numerique").label == "Numérique"


def test_the_admin_is_closed_to_a_coordinator(client, world):
    client.force_login(world.coordinator)
    response = client.get(reverse("admin:diagnostic_barriercategory_changelist"))
    assert response.status_code == 302
    assert not BarrierCategory.objects.filter(code="numerique").exists()
