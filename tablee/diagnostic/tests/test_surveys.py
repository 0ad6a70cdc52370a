"""FIES questionnaires for the coordination: scoring, permissions, poster, paper entry, results."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.diagnostic import fies
from tablee.diagnostic import services_surveys as services
from tablee.diagnostic.models import Answer, Survey, SurveyResponse
from tablee.diagnostic.tests.factories_j import SurveyFactory, SurveyResponseFactory
from tablee.directory.tests.factories import DirectoryWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return DirectoryWorld()


@pytest.fixture
def survey(world):
    return SurveyFactory(programme_territory=world.t1, title="Distribution de Loudéac")


def answers(*values):
    return dict(zip(fies.FIELDS, values, strict=True))


ALL_NO = answers(*["no"] * 8)


# ---- Scoring ----------------------------------------------------------------------------------


def test_the_eight_questions_and_the_credit_are_there():
    assert len(fies.QUESTIONS) == 8
    # The FAO's own French module: recall period and cause in the introduction, then the items.
    assert "au cours des 12 derniers mois" in fies.INTRODUCTION
    assert "faute d'argent ou d'autres moyens" in fies.INTRODUCTION
    assert fies.QUESTIONS[3] == "vous avez dû sauter un repas ?"
    assert fies.QUESTIONS[7] == "vous n'avez rien mangé de toute la journée ?"
    assert fies.CREDIT == "FAO, Voices of the Hungry — module d'enquête FIES"


@pytest.mark.parametrize(
    ("values", "score", "level"),
    [
        (["no"] * 8, 0, fies.Level.SECURE),
        (["refused"] * 8, 0, fies.Level.SECURE),
        (["yes", "no", "refused", "no", "no", "no", "no", "no"], 1, fies.Level.MILD),
        (["yes"] * 3 + ["refused"] * 5, 3, fies.Level.MILD),
        (["yes"] * 4 + ["no"] * 4, 4, fies.Level.MODERATE),
        (["yes"] * 6 + ["refused", "no"], 6, fies.Level.MODERATE),
        (["yes"] * 7 + ["no"], 7, fies.Level.SEVERE),
        (["yes"] * 8, 8, fies.Level.SEVERE),
    ],
)
def test_raw_score_and_classification(values, score, level):
    assert fies.raw_score(answers(*values)) == score
    assert fies.classify(score) is level


def test_the_stored_raw_score_is_the_number_of_yes(survey):
    response = services.response_record(
        survey=survey,
        answers=answers("yes", "yes", "refused", "no", "yes", "no", "no", "no"),
        channel=SurveyResponse.Channel.ONLINE,
        submission_token="jeton-1",
    )
    assert response.raw_score == 3


def test_results_on_a_set_of_answers():
    # 12 answers: scores 0,0,0,1,2,3,4,5,6,7,8,8
    results = fies.results_from_scores([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 8])
    assert results.shown
    assert results.count == 12
    assert results.moderate_or_severe == 6
    assert results.severe == 3
    assert results.moderate_or_severe_share == 50
    assert results.severe_share == 25
    assert dict(results.distribution) == {0: 3, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 2}


def test_results_are_withheld_under_eleven_answers():
    results = fies.results_from_scores([8] * 10)
    assert not results.shown
    assert results.missing == 1
    assert results.moderate_or_severe_share is None
    assert results.severe_share is None


def test_a_classification_outside_the_scale_is_an_error():
    with pytest.raises(ValueError):
        fies.classify(9)


# ---- Permissions ------------------------------------------------------------------------------


def page_url(name, world, survey):
    if name in ("list", "create"):
        return reverse(f"surveys:{name}", args=[world.t1.pk])
    return reverse(f"surveys:{name}", args=[world.t1.pk, survey.pk])


@pytest.mark.parametrize("name", ["list", "detail", "poster", "create", "paper_entry"])
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("coordinator", 200),
        ("territory_coordinator", 200),
        ("partner", 403),
        ("local_authority", 403),
        ("funder", 403),
        ("no_role", 404),
    ],
)
def test_pages_by_role(client, world, survey, name, who, status):
    client.force_login(getattr(world, who))
    assert client.get(page_url(name, world, survey)).status_code == status


@pytest.mark.parametrize("name", ["list", "detail", "poster", "create", "paper_entry"])
def test_anonymous_is_sent_to_sign_in(client, world, survey, name):
    response = client.get(page_url(name, world, survey))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_survey_of_another_territory_answers_404(client, world):
    elsewhere = SurveyFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    assert (
        client.get(reverse("surveys:detail", args=[world.t1.pk, elsewhere.pk])).status_code == 404
    )
    client.force_login(world.territory_coordinator)
    assert client.get(reverse("surveys:list", args=[world.t2.pk])).status_code == 404


@pytest.mark.parametrize("who", ["partner", "local_authority", "funder"])
def test_refused_roles_cannot_close_or_type_answers(client, world, survey, who):
    client.force_login(getattr(world, who))
    assert client.post(page_url("set_open", world, survey), {"is_open": "0"}).status_code == 403
    token = services.new_submission_token(survey)
    data = {"submission_token": token, **ALL_NO}
    assert client.post(page_url("paper_entry", world, survey), data).status_code == 403
    survey.refresh_from_db()
    assert survey.is_open
    assert not SurveyResponse.objects.exists()


# ---- Creating, opening, closing ---------------------------------------------------------------


def test_coordinator_creates_an_open_survey(client, world):
    client.force_login(world.coordinator)
    response = client.post(reverse("surveys:create", args=[world.t1.pk]), {"title": "Marché"})
    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("surveys:detail", args=[world.t1.pk, survey.pk])
    assert survey.is_open
    assert survey.programme_territory == world.t1
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED)
    assert event.detail == {"action": "survey_create", "survey": str(survey.pk)}


def test_a_survey_without_title_is_refused(client, world):
    client.force_login(world.coordinator)
    response = client.post(reverse("surveys:create", args=[world.t1.pk]), {"title": " "})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not Survey.objects.exists()


def test_close_then_reopen(client, world, survey):
    client.force_login(world.coordinator)
    url = page_url("set_open", world, survey)
    response = client.post(url, {"is_open": "0"}, follow=True)
    survey.refresh_from_db()
    assert not survey.is_open
    assert "le lien public n&#x27;accepte plus de réponse" in response.content.decode()
    client.post(url, {"is_open": "1"})
    survey.refresh_from_db()
    assert survey.is_open
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED).order_by("pk")
    assert [e.detail["action"] for e in events] == [
        "survey_close",
        "survey_open",
    ]


def test_opening_needs_a_post(client, world, survey):
    client.force_login(world.coordinator)
    assert client.get(page_url("set_open", world, survey)).status_code == 405


# ---- Poster -----------------------------------------------------------------------------------


def test_poster_shows_a_qr_code_and_the_public_link(
    client, world, survey, django_assert_num_queries
):
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, survey
    with django_assert_num_queries(5):
        response = client.get(page_url("poster", world, survey))
    html = response.content.decode()
    link = f"http://testserver/q/{survey.token}/"
    assert link in html
    assert 'src="data:image/svg+xml' in html
    assert 'alt="QR code' in html
    assert "js/print_page.js" in html


# ---- Paper entry ------------------------------------------------------------------------------


def paper_data(survey, token=None, **overrides):
    data = {"submission_token": token or services.new_submission_token(survey), **ALL_NO}
    data.update(overrides)
    return data


def test_facilitator_types_a_paper_questionnaire(client, world, survey, django_assert_num_queries):
    client.force_login(world.coordinator)
    url = page_url("paper_entry", world, survey)
    # session, user, memberships, programme territory, survey
    with django_assert_num_queries(5):
        page = client.get(url).content.decode()
    for question in fies.QUESTIONS:
        assert question.replace("'", "&#x27;") in page

    response = client.post(url, paper_data(survey, q1="yes", q4="yes", q8="refused"))

    assert response.status_code == 302
    recorded = SurveyResponse.objects.get()
    assert (recorded.channel, recorded.raw_score) == ("paper", 2)
    assert recorded.answers == ["yes", "no", "no", "yes", "no", "no", "no", "refused"]
    event = AuditEvent.objects.get(detail__action="survey_response_record")
    assert event.actor == world.coordinator
    assert event.detail["response"] == str(recorded.pk)


def test_paper_answers_may_be_typed_after_closing(client, world, survey):
    services.survey_set_open(survey=survey, is_open=False, acting_user=world.admin)
    client.force_login(world.coordinator)
    client.post(page_url("paper_entry", world, survey), paper_data(survey))
    assert SurveyResponse.objects.filter(channel="paper").count() == 1


def test_a_paper_form_sent_twice_is_counted_once(client, world, survey):
    client.force_login(world.coordinator)
    url = page_url("paper_entry", world, survey)
    data = paper_data(survey)
    client.post(url, data)
    response = client.post(url, data, follow=True)
    assert "déjà été enregistré" in response.content.decode()
    assert SurveyResponse.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"q3": "maybe"}, "Question 3 : choisissez"),
        ({"q8": ""}, "Question 8 : choisissez"),
        ({"submission_token": "forged:token"}, "plus valide"),
    ],
)
def test_bad_paper_answers_are_refused(client, world, survey, overrides, message):
    client.force_login(world.coordinator)
    response = client.post(page_url("paper_entry", world, survey), paper_data(survey, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_the_service_refuses_an_answer_outside_yes_no_refused(survey):
    bad = dict(ALL_NO, q5="souvent")
    with pytest.raises(ValidationError) as error:
        services.response_record(
            survey=survey, answers=bad, channel="paper", submission_token="jeton"
        )
    assert error.value.message_dict == {
        "q5": ["Question 5 : choisissez « Oui », « Non » ou « Ne sait pas ou refuse de répondre »."]
    }
    assert not SurveyResponse.objects.exists()


def test_the_service_refuses_an_online_answer_to_a_closed_survey(survey):
    Survey.objects.filter(pk=survey.pk).update(is_open=False)
    with pytest.raises(services.SurveyClosed):
        services.response_record(
            survey=survey, answers=ALL_NO, channel="online", submission_token="jeton"
        )
    assert not SurveyResponse.objects.exists()


# ---- Lists and results ------------------------------------------------------------------------


def test_list_shows_each_survey_with_its_answer_count(client, world, django_assert_num_queries):
    for index in range(3):
        survey = SurveyFactory(programme_territory=world.t1, title=f"Questionnaire {index}")
        SurveyResponseFactory.create_batch(index + 1, survey=survey)
    SurveyFactory(programme_territory=world.t2, title="Ailleurs")
    client.force_login(world.coordinator)

    # session, user, memberships, programme territory, surveys with their counts
    with django_assert_num_queries(5):
        response = client.get(reverse("surveys:list", args=[world.t1.pk]))

    counts = sorted((s.title, s.response_count) for s in response.context["surveys"])
    assert counts == [("Questionnaire 0", 1), ("Questionnaire 1", 2), ("Questionnaire 2", 3)]
    assert "Ailleurs" not in response.content.decode()


def test_results_are_masked_under_eleven_answers(client, world, survey, django_assert_num_queries):
    for score in range(8):
        SurveyResponseFactory(survey=survey, yes_count=score)
    SurveyResponseFactory(survey=survey, yes_count=8, channel="paper")
    SurveyResponseFactory(survey=survey, yes_count=8)
    client.force_login(world.coordinator)

    # session, user, memberships, programme territory, survey, scores grouped, paper count
    with django_assert_num_queries(7):
        response = client.get(page_url("detail", world, survey))

    html = response.content.decode()
    assert "Il manque encore 1 réponse." in html
    assert "à partir de 11 réponses" in html
    assert "Part des réponses" not in html
    assert "Répartition des réponses par score brut" not in html


def test_results_from_eleven_answers(client, world, survey):
    for score in range(9):
        SurveyResponseFactory(survey=survey, yes_count=score)
    SurveyResponseFactory.create_batch(2, survey=survey, yes_count=8, channel="paper")
    client.force_login(world.coordinator)

    response = client.get(page_url("detail", world, survey))

    html = response.content.decode()
    # Raw score >= 4: 4, 5, 6, 7, 8, 8, 8 -> 7 of 11 (64 %); >= 7: 7, 8, 8, 8 -> 4 of 11 (36 %).
    assert "<strong>64 %</strong> (7 sur 11)" in html
    assert "<strong>36 %</strong> (4 sur 11)" in html
    assert "approximation par le score brut" in html
    assert "dont 2 saisies depuis le papier" in html
    rows = response.context["results"].distribution_rows
    assert [(row["score"], row["count"]) for row in rows] == [
        (0, 1),
        (1, 1),
        (2, 1),
        (3, 1),
        (4, 1),
        (5, 1),
        (6, 1),
        (7, 1),
        (8, 3),
    ]
    assert rows[8]["level"] == "Insécurité alimentaire grave"


def test_answer_labels_are_yes_no_and_refused():
    assert Answer.values == ["yes", "no", "refused"]
