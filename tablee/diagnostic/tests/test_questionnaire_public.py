"""The anonymous public questionnaire: answering, replays, floods, closed and unknown links."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.core.tests.cached import cached_entries
from tablee.diagnostic import fies
from tablee.diagnostic import services_surveys as services
from tablee.diagnostic.models import Survey, SurveyResponse
from tablee.diagnostic.tests.factories_j import SurveyFactory

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def _empty_cache():
    # The rate-limit counters live in the cache: each test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def survey():
    return SurveyFactory(title="Marché de Loudéac")


def url(survey):
    return reverse("questionnaire:answer", args=[survey.token])


def form_data(survey, token=None, **overrides):
    data = {"submission_token": token or services.new_submission_token(survey)}
    data.update(dict.fromkeys(fies.FIELDS, "no"))
    data.update(overrides)
    return data


def post(client, survey, data, ip=CLIENT_IP):
    return client.post(url(survey), data, REMOTE_ADDR=ip)


def test_the_page_asks_the_eight_questions_and_nothing_personal(
    client, survey, django_assert_num_queries
):
    # session (none yet: no query), the survey by its token
    with django_assert_num_queries(1):
        response = client.get(url(survey))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ce questionnaire est anonyme." in html
    assert fies.INTRODUCTION.replace("'", "&#x27;") in html
    for question in fies.QUESTIONS:
        assert question.replace("'", "&#x27;") in html
    assert fies.CREDIT.replace("'", "&#x27;") in html
    # Only the eight radio groups (three answers each), the one-time token and the CSRF token.
    inputs = re.findall(r"<input [^>]*>", html)
    radios = [tag for tag in inputs if 'type="radio"' in tag]
    hidden = [tag for tag in inputs if 'type="hidden"' in tag]
    assert len(radios) == 24
    assert len(inputs) == len(radios) + len(hidden)
    assert {re.search(r'name="([^"]+)"', tag)[1] for tag in hidden} == {
        "csrfmiddlewaretoken",
        "submission_token",
    }
    assert "<textarea" not in html and "<select" not in html


def test_an_unknown_link_answers_404(client):
    response = client.get(reverse("questionnaire:answer", args=["inconnu"]))
    assert response.status_code == 404


def test_answers_are_recorded_once_and_anonymously(client, survey):
    data = form_data(survey, q1="yes", q2="yes", q3="refused", q4="yes")
    response = post(client, survey, data)

    assert response.status_code == 302
    assert response["Location"] == reverse("questionnaire:thanks", args=[survey.token])
    recorded = SurveyResponse.objects.get()
    assert (recorded.survey, recorded.channel, recorded.raw_score) == (survey, "online", 3)
    # No audit event per public answer, and nothing that could tell who answered.
    assert not AuditEvent.objects.exists()
    assert "Merci" in client.get(response["Location"]).content.decode()


def test_a_replayed_form_is_recognised_and_not_written_twice(client, survey):
    data = form_data(survey)
    post(client, survey, data)
    response = post(client, survey, data)

    assert response.status_code == 409
    assert "déjà enregistrées" in response.content.decode()
    assert SurveyResponse.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"q2": "parfois"}, "Question 2 : choisissez « Oui », « Non » ou « Ne sait pas"),
        ({"q7": ""}, "Question 7 : choisissez"),
        ({"submission_token": "x:y"}, "Ce formulaire n&#x27;est plus valide"),
        ({"submission_token": ""}, "Ce formulaire n&#x27;est plus valide"),
    ],
)
def test_bad_answers_are_refused_naming_the_question(client, survey, overrides, message):
    response = post(client, survey, form_data(survey, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_missing_question_is_refused(client, survey):
    data = form_data(survey)
    del data["q5"]
    response = post(client, survey, data)
    assert response.status_code == 200
    assert "Question 5 : choisissez" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_token_of_another_survey_is_refused(client, survey):
    other = SurveyFactory()
    response = post(client, survey, form_data(survey, token=services.new_submission_token(other)))
    assert response.status_code == 200
    assert not SurveyResponse.objects.exists()


def test_a_closed_survey_shows_a_french_page_and_takes_nothing(client, survey):
    data = form_data(survey)
    Survey.objects.filter(pk=survey.pk).update(is_open=False)

    page = client.get(url(survey))
    response = post(client, survey, data)

    assert "Ce questionnaire est fermé" in page.content.decode()
    assert "Ce questionnaire est fermé" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_flood_from_one_client_is_stopped_after_five(client, survey):
    for _ in range(5):
        assert post(client, survey, form_data(survey)).status_code == 302

    response = post(client, survey, form_data(survey))

    assert response.status_code == 429
    assert "Trop de réponses en peu de temps" in response.content.decode()
    assert SurveyResponse.objects.count() == 5
    # Another client on the same link still answers.
    assert post(client, survey, form_data(survey), ip="198.51.100.1").status_code == 302


def test_a_flood_on_one_link_is_stopped_after_thirty(client, survey):
    for index in range(30):
        assert post(client, survey, form_data(survey), ip=f"10.0.{index}.1").status_code == 302

    response = post(client, survey, form_data(survey), ip="10.1.0.1")

    assert response.status_code == 429
    assert SurveyResponse.objects.count() == 30
    # Another questionnaire is not held back by this one's flood.
    other = SurveyFactory()
    assert post(client, other, form_data(other), ip="10.1.0.2").status_code == 302


def test_bad_submissions_count_towards_the_limit(client, survey):
    for _ in range(5):
        post(client, survey, form_data(survey, q1="peut-être"))
    assert post(client, survey, form_data(survey)).status_code == 429
    assert not SurveyResponse.objects.exists()


def test_the_address_is_never_kept_only_a_salted_hash(client, survey):
    post(client, survey, form_data(survey))
    cached = cached_entries()
    assert cached
    assert not any(CLIENT_IP in f"{key} {value!r}" for key, value in cached)
    assert CLIENT_IP not in str(list(SurveyResponse.objects.values()))


def test_behind_a_proxy_the_forwarded_address_is_the_client(client, survey, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    for index in range(5):
        response = client.post(
            url(survey),
            form_data(survey),
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{index}",
        )
        assert response.status_code == 302
    # Five different clients behind the same proxy: none was held back as "the proxy".
    assert SurveyResponse.objects.count() == 5
