"""The evaluations of a session for the team: results, QR code, poster, answers typed from paper;
who may see them, and bad input."""

import datetime

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.activities import services_evaluations as services
from tablee.activities.models import Evaluation, Session
from tablee.activities.tests.factories import SessionFactory
from tablee.activities.tests.factories_evaluations import (
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    TEAM_ROLES,
    EvaluationFactory,
    EvaluationWorld,
    recent_session,
    text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    return EvaluationWorld()


@pytest.fixture
def session(world):
    return recent_session(world.t1, format=world.cooking, title="Atelier cuisine de printemps")


def url(name, session):
    return reverse(f"evaluations:{name}", args=[session.programme_territory_id, session.pk])


def paper_data(session, token=None, **overrides):
    data = {
        "submission_token": token or services.new_submission_token(session),
        "satisfaction": "4",
        "learnt": "Lire une étiquette.",
        "intends_to_change": "maybe",
        "comment": "",
    }
    data.update(overrides)
    return data


# ---- Who may see and type ---------------------------------------------------------------------


@pytest.mark.parametrize("role", TEAM_ROLES)
def test_the_team_sees_the_evaluations_of_a_session(client, world, session, role):
    client.force_login(getattr(world, role))

    for name in ("session", "poster"):
        assert client.get(url(name, session)).status_code == 200
    assert client.post(url("paper_entry", session), paper_data(session)).status_code == 302
    assert Evaluation.objects.count() == 1


@pytest.mark.parametrize("role", FORBIDDEN_ROLES)
def test_partners_local_authorities_and_funders_are_refused(client, world, session, role):
    client.force_login(getattr(world, role))

    for name in ("session", "poster"):
        assert client.get(url(name, session)).status_code == 403
    assert client.post(url("paper_entry", session), paper_data(session)).status_code == 403
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_outside_the_scope_the_session_does_not_exist(client, world, session, role):
    client.force_login(getattr(world, role))

    for name in ("session", "poster"):
        assert client.get(url(name, session)).status_code == 404
    assert client.post(url("paper_entry", session), paper_data(session)).status_code == 404
    assert not Evaluation.objects.exists()


def test_a_session_of_another_territory_is_not_found_under_this_one(client, world, session):
    client.force_login(world.coordinator)
    other = recent_session(world.t2, format=world.cooking)

    response = client.get(reverse("evaluations:session", args=[world.t1.pk, other.pk]))

    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(client, session):
    response = client.get(url("session", session))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_paper_entry_accepts_only_post(client, world, session):
    client.force_login(world.coordinator)

    assert client.get(url("paper_entry", session)).status_code == 405


# ---- The results of a session -------------------------------------------------------------------


def test_the_page_shows_counts_distribution_intentions_and_texts(
    client, world, session, django_assert_num_queries
):
    for satisfaction, intention, learnt, comment in [
        (5, "yes", "Cuisiner sans four.", "Merci pour l'accueil."),
        (5, "yes", "", ""),
        (4, "maybe", "Lire les étiquettes.", ""),
        (2, "no", "", "Trop court."),
        (3, "", "", ""),
    ]:
        EvaluationFactory(
            session=session,
            satisfaction=satisfaction,
            intends_to_change=intention,
            learnt=learnt,
            comment=comment,
        )
    EvaluationFactory(session=session, satisfaction=1, source=Evaluation.Source.PAPER)
    EvaluationFactory(session=recent_session(world.t1, format=world.cooking), satisfaction=1)
    client.force_login(world.coordinator)

    # Django session, user, memberships, programme territory; the session; the counts; the texts.
    with django_assert_num_queries(7):
        response = client.get(url("session", session))

    page = text(response)
    assert "Évaluations — Atelier cuisine de printemps" in page
    assert "6 (dont 1 saisie depuis le papier)" in page
    # (5 + 5 + 4 + 2 + 3 + 1) / 6 = 3.33; "yes" among the five who answered the question: 3 of 5
    # (the paper answer is a "yes").
    assert "Satisfaction moyenne : 3,3 sur 5 (6 réponses)" in page
    assert "Intention de changer une pratique : 60 % de « Oui » parmi les 5 réponses" in page
    assert "5 — Très satisfait·e 2 33 %" in page
    assert "1 — Pas du tout satisfait·e 1 17 %" in page
    assert "Oui 3 60 %" in page
    assert "Peut-être 1 20 %" in page
    assert "Sans réponse 1 —" in page
    for written in [
        "Cuisiner sans four.",
        "Lire les étiquettes.",
        "Merci pour l'accueil.",
        "Trop court.",
    ]:
        assert written in page
    html = response.content.decode()
    assert 'src="data:image/svg+xml' in html  # QR code and chart
    public = reverse("evaluation_public:answer", args=[session.evaluation_token])
    assert f"http://testserver{public}" in page
    assert "Ouvert jusqu'au" in page
    assert 'id="saisie-papier"' in html


def test_a_session_without_answers_says_so(client, world, session):
    client.force_login(world.coordinator)

    page = text(client.get(url("session", session)))

    assert "Aucune réponse pour le moment." in page
    assert "0 (dont 0 saisie depuis le papier)" in page


def test_the_poster_carries_the_qr_code_and_the_link(client, world, session):
    client.force_login(world.territory_coordinator)

    response = client.get(url("poster", session))

    html = response.content.decode()
    assert "Votre avis sur cette séance" in text(response)
    assert 'class="survey-poster-qr" src="data:image/svg+xml' in html
    assert session.evaluation_token in html
    assert "data-print-page" in html
    assert "<script" in html and "print_page.js" in html


def test_the_poster_warns_when_the_questionnaire_is_closed(client, world):
    ends = timezone.now() - datetime.timedelta(days=40)
    old = SessionFactory(
        programme_territory=world.t1,
        format=world.cooking,
        starts_at=ends - datetime.timedelta(hours=2),
        ends_at=ends,
    )
    client.force_login(world.coordinator)

    assert "Le questionnaire est fermé" in text(client.get(url("poster", old)))


# ---- Typing from paper ----------------------------------------------------------------------------


def test_a_paper_answer_is_recorded_and_audited(client, world, session):
    client.force_login(world.coordinator)

    response = client.post(url("paper_entry", session), paper_data(session))

    assert response.status_code == 302
    assert response.url == url("session", session) + "#saisie-papier"
    evaluation = Evaluation.objects.get()
    assert evaluation.source == Evaluation.Source.PAPER
    assert (evaluation.satisfaction, evaluation.intends_to_change) == (4, "maybe")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
    assert event.actor == world.coordinator
    assert event.detail == {
        "action": "evaluation_paper_entry",
        "session": str(session.pk),
        "evaluation": str(evaluation.pk),
    }
    followed = client.get(response.url)
    assert "L'avis est enregistré. Vous pouvez saisir le questionnaire suivant." in text(followed)


def test_a_paper_answer_sent_twice_is_counted_once(client, world, session):
    client.force_login(world.coordinator)
    data = paper_data(session)
    client.post(url("paper_entry", session), data)

    again = client.post(url("paper_entry", session), data, follow=True)

    assert "Ce questionnaire papier a déjà été enregistré" in text(again)
    assert Evaluation.objects.count() == 1


def test_paper_answers_may_be_typed_after_the_online_questionnaire_closed(client, world):
    ends = timezone.now() - datetime.timedelta(days=60)
    old = SessionFactory(
        programme_territory=world.t1,
        format=world.cooking,
        starts_at=ends - datetime.timedelta(hours=2),
        ends_at=ends,
    )
    client.force_login(world.coordinator)

    assert client.post(url("paper_entry", old), paper_data(old)).status_code == 302
    assert Evaluation.objects.get().source == Evaluation.Source.PAPER


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"satisfaction": "9"},
            "Choisissez une satisfaction de 1 (pas du tout) à 5 (tout à fait).",
        ),
        ({"satisfaction": ""}, "Choisissez une satisfaction de 1 (pas du tout) à 5 (tout à fait)."),
        ({"intends_to_change": "jamais"}, "Répondez « Oui », « Peut-être » ou « Non »"),
        ({"comment": "z" * 1001}, "1000 caractères au plus"),
        ({"submission_token": "forged"}, "Ce formulaire n'est plus valide : rechargez la page."),
    ],
    ids=["nine", "missing", "intention", "long", "token"],
)
def test_a_bad_paper_answer_is_refused_in_french(client, world, session, overrides, message):
    client.force_login(world.coordinator)

    response = client.post(url("paper_entry", session), paper_data(session, **overrides))

    assert response.status_code == 200
    assert message in text(response)
    assert not Evaluation.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ACTIVITY_CHANGED).exists()


def test_no_paper_answer_for_a_cancelled_session(client, world, session):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    client.force_login(world.coordinator)

    page = client.get(url("session", session))
    response = client.post(url("paper_entry", session), paper_data(session))

    assert "Cette séance a été annulée : elle ne reçoit pas d'avis." in text(page)
    assert 'name="satisfaction"' not in page.content.decode()
    assert "Cette séance a été annulée" in text(response)
    assert not Evaluation.objects.exists()


def test_no_paper_answer_before_the_session(client, world):
    starts = timezone.now() + datetime.timedelta(days=3)
    future = SessionFactory(
        programme_territory=world.t1,
        format=world.cooking,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
    )
    client.force_login(world.coordinator)

    response = client.post(url("paper_entry", future), paper_data(future))

    assert "Le questionnaire n'est pas encore ouvert" in text(response)
    assert not Evaluation.objects.exists()
