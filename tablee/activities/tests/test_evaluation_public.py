"""The anonymous questionnaire of a session: answering on a phone, replays, floods, CSRF, when it
is open, and answers out of range."""

import datetime
import re
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.activities import services_evaluations as services
from tablee.activities.models import Evaluation, Session
from tablee.activities.tests.factories import SessionFactory
from tablee.activities.tests.factories_evaluations import recent_session, text
from tablee.core.tests.cached import cached_entries
from tablee.territories.tests.factories import ProgrammeTerritoryFactory

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def _empty_cache():
    # Rate-limit counters and used form tokens live in the cache: each test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def session():
    pt = ProgrammeTerritoryFactory(territory__name="CC de Loudéac (test)")
    return recent_session(pt, format__name="Atelier cuisine de saison")


def url(session):
    return reverse("evaluation_public:answer", args=[session.evaluation_token])


def form_data(session, token=None, **overrides):
    data = {
        "submission_token": token or services.new_submission_token(session),
        "satisfaction": "5",
        "learnt": "Cuisiner les légumes de saison sans four.",
        "intends_to_change": "yes",
        "comment": "Très bon moment, merci.",
    }
    data.update(overrides)
    return data


def post(client, session, data, ip=CLIENT_IP):
    return client.post(url(session), data, REMOTE_ADDR=ip)


# ---- The page ---------------------------------------------------------------------------------


def test_the_page_asks_four_short_questions_and_nothing_personal(
    client, session, django_assert_num_queries
):
    # the session (with its territory) by its token; no Django session is read
    with django_assert_num_queries(1):
        response = client.get(url(session))

    assert response.status_code == 200
    page = text(response)
    assert "Ce questionnaire est anonyme." in page
    assert "Atelier cuisine de saison" in page
    assert "CC de Loudéac (test)" in page
    for label in [
        "Êtes-vous satisfait·e de cette séance ? (obligatoire)",
        "1 — Pas du tout satisfait·e",
        "5 — Très satisfait·e",
        "Qu'avez-vous appris ?",
        "Pensez-vous changer quelque chose dans vos habitudes ou vos pratiques ?",
        "Peut-être",
        "Un commentaire, une idée ?",
        "N'écrivez ni nom de personne, ni information sur votre santé",
    ]:
        assert label in page
    html = response.content.decode()
    inputs = re.findall(r"<input [^>]*>", html)
    radios = [tag for tag in inputs if 'type="radio"' in tag]
    hidden = [tag for tag in inputs if 'type="hidden"' in tag]
    assert len(radios) == 5 + 3
    # No name, no e-mail, nothing but the radios, two texts and the two tokens.
    assert len(inputs) == len(radios) + len(hidden)
    assert {re.search(r'name="([^"]+)"', tag)[1] for tag in hidden} == {
        "csrfmiddlewaretoken",
        "submission_token",
    }
    assert re.findall(r'<textarea [^>]*name="([^"]+)"', html) == ["learnt", "comment"]


def test_an_unknown_link_answers_404(client):
    assert client.get(reverse("evaluation_public:answer", args=["inconnu"])).status_code == 404
    assert client.get(reverse("evaluation_public:thanks", args=["inconnu"])).status_code == 404


# ---- Answering ----------------------------------------------------------------------------------


def test_an_answer_is_recorded_anonymously_and_thanked(client, session):
    response = post(client, session, form_data(session))

    assert response.status_code == 302
    assert response.url == reverse("evaluation_public:thanks", args=[session.evaluation_token])
    evaluation = Evaluation.objects.get()
    assert evaluation.session == session
    assert evaluation.satisfaction == 5
    assert evaluation.learnt == "Cuisiner les légumes de saison sans four."
    assert evaluation.intends_to_change == Evaluation.Intention.YES
    assert evaluation.comment == "Très bon moment, merci."
    assert evaluation.source == Evaluation.Source.ONLINE
    # Nothing about who answered: the address appears nowhere, not even in the audit trail.
    stored = " ".join(str(value) for value in Evaluation.objects.values().get().values())
    assert CLIENT_IP not in stored
    assert not AuditEvent.objects.exists()
    # Nor in the cache, a table of the database: its keys are salted hashes, its values counts
    # and marks. The form's one-time mark is there, seen by every worker process of the server.
    cached = cached_entries()
    assert all(CLIENT_IP not in f"{key} {value!r}" for key, value in cached)
    assert any("evaluation:used:" in key for key, _ in cached)

    thanks = client.get(response.url)
    assert thanks.status_code == 200
    assert "Merci, votre avis est enregistré" in text(thanks)


def test_only_the_satisfaction_is_required(client, session):
    response = post(
        client,
        session,
        form_data(session, learnt="", intends_to_change="", comment="", satisfaction="3"),
    )

    assert response.status_code == 302
    evaluation = Evaluation.objects.get()
    assert (evaluation.satisfaction, evaluation.intends_to_change) == (3, "")
    assert (evaluation.learnt, evaluation.comment) == ("", "")


def test_the_same_form_sent_twice_is_recorded_once(client, session):
    data = form_data(session)
    assert post(client, session, data).status_code == 302

    again = post(client, session, data)

    assert again.status_code == 409
    assert "Votre avis est déjà enregistré" in text(again)
    assert Evaluation.objects.count() == 1


def test_two_copies_of_the_form_are_two_answers(client, session):
    post(client, session, form_data(session))
    post(client, session, form_data(session, satisfaction="2"))

    assert sorted(Evaluation.objects.values_list("satisfaction", flat=True)) == [2, 5]


@pytest.mark.parametrize(
    "token",
    ["", "forged", "abc:def:ghi"],
    ids=["missing", "forged", "badly-signed"],
)
def test_a_missing_or_forged_form_token_is_refused(client, session, token):
    data = form_data(session)
    data["submission_token"] = token

    response = post(client, session, data)

    assert response.status_code == 200
    assert "Ce formulaire n'est plus valide : rechargez la page" in text(response)
    assert not Evaluation.objects.exists()


def test_a_token_made_for_another_session_is_refused(client, session):
    other = recent_session(session.programme_territory)

    response = post(client, session, form_data(session, token=services.new_submission_token(other)))

    assert "Ce formulaire n'est plus valide" in text(response)
    assert not Evaluation.objects.exists()


def test_a_form_kept_open_more_than_a_day_must_be_reloaded(client, session):
    class YesterdaySigner(signing.TimestampSigner):
        def timestamp(self):
            age = services.SUBMISSION_TOKEN_MAX_AGE + 60
            return signing.b62_encode(int(time.time()) - age)

    salt = f"tablee.evaluation.submission.{session.evaluation_token}"
    old = YesterdaySigner(salt=salt).sign("nonce-of-yesterday")

    response = post(client, session, form_data(session, token=old))

    assert "Ce formulaire n'est plus valide : rechargez la page" in text(response)
    assert not Evaluation.objects.exists()


# ---- Out of range ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"satisfaction": "0"},
            "Choisissez une satisfaction de 1 (pas du tout) à 5 (tout à fait).",
        ),
        (
            {"satisfaction": "6"},
            "Choisissez une satisfaction de 1 (pas du tout) à 5 (tout à fait).",
        ),
        ({"satisfaction": "beaucoup"}, "Choisissez une satisfaction de 1"),
        ({"satisfaction": ""}, "Choisissez une satisfaction de 1"),
        ({"intends_to_change": "souvent"}, "Répondez « Oui », « Peut-être » ou « Non »"),
        ({"comment": "x" * 1001}, "1000 caractères au plus (ce texte en compte 1001)."),
        ({"learnt": "y" * 1200}, "1000 caractères au plus (ce texte en compte 1200)."),
    ],
    ids=["zero", "six", "word", "empty", "intention", "long-comment", "long-learnt"],
)
def test_an_answer_out_of_range_is_refused_in_french(client, session, overrides, message):
    response = post(client, session, form_data(session, **overrides))

    assert response.status_code == 200
    assert "Le formulaire contient des erreurs" in text(response)
    assert message in text(response)
    assert not Evaluation.objects.exists()


def test_the_service_refuses_an_answer_out_of_range(session):
    with pytest.raises(ValidationError) as error:
        services.evaluation_record(
            session=session,
            satisfaction=7,
            intends_to_change="always",
            source=Evaluation.Source.ONLINE,
            submission_token="nonce",
        )

    assert set(error.value.message_dict) == {"satisfaction", "intends_to_change"}
    assert not Evaluation.objects.exists()
    # Refused before the token was claimed: the same copy of the form may be corrected and sent.
    services.evaluation_record(
        session=session, satisfaction=4, source=Evaluation.Source.ONLINE, submission_token="nonce"
    )
    assert Evaluation.objects.count() == 1


# ---- When the questionnaire is open ----------------------------------------------------------------


def test_the_questionnaire_opens_at_the_start_of_the_session(client):
    starts = timezone.now() + datetime.timedelta(days=2)
    session = SessionFactory(starts_at=starts, ends_at=starts + datetime.timedelta(hours=2))

    page = client.get(url(session))
    refused = post(client, session, form_data(session))

    assert "Le questionnaire n'est pas encore ouvert : il ouvre au début de la séance" in text(page)
    assert "Le questionnaire n'est pas encore ouvert" in text(refused)
    assert "<form" not in page.content.decode().split("<main", 1)[1]
    assert not Evaluation.objects.exists()


def test_the_questionnaire_stays_open_thirty_days_after_the_session(client):
    ends = timezone.now() - datetime.timedelta(days=29)
    session = SessionFactory(starts_at=ends - datetime.timedelta(hours=2), ends_at=ends)

    assert post(client, session, form_data(session)).status_code == 302
    assert Evaluation.objects.count() == 1


def test_the_questionnaire_closes_thirty_days_after_the_session(client):
    ends = timezone.now() - datetime.timedelta(days=31)
    session = SessionFactory(starts_at=ends - datetime.timedelta(hours=2), ends_at=ends)

    response = post(client, session, form_data(session))

    assert "Le questionnaire est fermé : il restait ouvert 30 jours après la séance." in text(
        response
    )
    assert not Evaluation.objects.exists()


def test_a_cancelled_session_takes_no_answer(client, session):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)

    page = client.get(url(session))
    response = post(client, session, form_data(session))

    assert "Cette séance a été annulée : elle ne reçoit pas d'avis." in text(page)
    assert "Cette séance a été annulée" in text(response)
    assert not Evaluation.objects.exists()


def test_a_cancellation_during_the_answer_wins(session):
    # The page was opened before the cancellation; the service reads the session again.
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)

    with pytest.raises(services.EvaluationClosed):
        services.evaluation_record(
            session=session, satisfaction=5, source=Evaluation.Source.ONLINE, submission_token="n"
        )
    assert not Evaluation.objects.exists()


# ---- Floods and CSRF --------------------------------------------------------------------------


def test_a_flood_from_one_client_is_slowed_down(client, session, settings):
    settings.TABLEE_EVALUATION_RATE_PER_CLIENT = 2

    statuses = [post(client, session, form_data(session)).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert Evaluation.objects.count() == 2
    # Another client can still answer.
    assert post(client, session, form_data(session), ip="198.51.100.4").status_code == 302


def test_a_flood_on_one_session_is_slowed_down_whatever_the_client(client, session, settings):
    settings.TABLEE_EVALUATION_RATE_PER_SESSION = 3

    statuses = [
        post(client, session, form_data(session), ip=f"198.51.100.{n}").status_code
        for n in range(4)
    ]

    assert statuses == [302, 302, 302, 429]
    too_many = post(client, session, form_data(session), ip="198.51.100.50")
    assert "Trop de réponses en peu de temps" in text(too_many)
    assert Evaluation.objects.count() == 3
    # Another session of the same evening is not affected.
    other = recent_session(session.programme_territory)
    assert post(client, other, form_data(other)).status_code == 302


def test_a_post_without_the_csrf_token_is_refused(session):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(url(session), form_data(session), REMOTE_ADDR=CLIENT_IP)

    assert response.status_code == 403
    assert not Evaluation.objects.exists()
