"""Results of the evaluations of a programme: the selectors the reports reuse, and the page, exact
for the association, masked under 11 answers for the local authority and the funder."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tablee.activities.models import Evaluation, Session
from tablee.activities.selectors_evaluations import (
    evaluation_summary,
    evaluation_table,
    session_results,
)
from tablee.activities.tests.factories import SessionFactory, at
from tablee.activities.tests.factories_evaluations import EvaluationFactory, EvaluationWorld, text
from tablee.territories.models import Audience

pytestmark = pytest.mark.django_db

COMMENT = "Commentaire libre à ne jamais montrer hors de l'équipe"


def answers(session, satisfactions, intentions=None, **fields):
    intentions = intentions or ["yes"] * len(satisfactions)
    for satisfaction, intention in zip(satisfactions, intentions, strict=True):
        EvaluationFactory(
            session=session, satisfaction=satisfaction, intends_to_change=intention, **fields
        )


@pytest.fixture
def world():
    """T1: a cooking workshop with 12 answers (2025) and a training with 3 (2025); T2: a cooking
    workshop with 14 answers (2026); programme Q: a session with 20 answers."""
    world = EvaluationWorld()
    world.cooking_t1 = SessionFactory(
        programme_territory=world.t1, format=world.cooking, starts_at=at(2025, 3, 12)
    )
    world.training_t1 = SessionFactory(
        programme_territory=world.t1, format=world.training, starts_at=at(2025, 5, 20)
    )
    world.cooking_t2 = SessionFactory(
        programme_territory=world.t2, format=world.cooking, starts_at=at(2026, 2, 3)
    )
    world.elsewhere = SessionFactory(programme_territory=world.u, starts_at=at(2025, 6, 1))
    # 12 answers: eight 5, four 3 -> mean 4.33; 9 "yes", 3 "no" -> 75 %.
    answers(world.cooking_t1, [5] * 8 + [3] * 4, ["yes"] * 9 + ["no"] * 3, comment=COMMENT)
    # 3 answers: 2, 4, 4; two "maybe", one unanswered.
    answers(world.training_t1, [2, 4, 4], ["maybe", "maybe", ""])
    # 14 answers: all 4, 12 "yes", 2 "maybe" -> 86 %.
    answers(world.cooking_t2, [4] * 14, ["yes"] * 12 + ["maybe"] * 2)
    answers(world.elsewhere, [1] * 20)
    return world


def programme_sessions(world):
    return Session.objects.filter(programme_territory__programme=world.programme)


# ---- Selectors ----------------------------------------------------------------------------------


def test_summary_per_format_in_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        groups = evaluation_summary(programme_sessions(world), group_by="format")

    assert [(g.label, g.answers, g.sessions) for g in groups] == [
        ("Atelier cuisine", 26, 2),
        ("Repérer et orienter", 3, 1),
    ]
    cooking = groups[0]
    assert cooking.mean_satisfaction == Decimal("4.2")  # (40 + 12 + 56) / 26 = 4.15
    assert cooking.distribution == {1: 0, 2: 0, 3: 4, 4: 14, 5: 8}
    assert cooking.intentions == {"yes": 21, "maybe": 2, "no": 3}
    assert cooking.share_intending == 81  # 21 / 26
    training = groups[1]
    assert training.intention_answers == 2
    assert training.share_intending == 0


def test_summary_per_territory_audience_session_and_year(world):
    sessions = programme_sessions(world)

    by_territory = evaluation_summary(sessions, group_by="territory")
    by_audience = evaluation_summary(sessions, group_by="audience")
    by_session = evaluation_summary(sessions, group_by="session")
    by_year = evaluation_summary(sessions, group_by="year")

    assert [(g.label, g.answers) for g in by_territory] == [("CC Deux", 14), ("CC Une", 15)]
    assert [(g.key, g.label, g.answers) for g in by_audience] == [
        (Audience.PEOPLE, "Personnes en situation de précarité alimentaire", 26),
        (Audience.PROFESSIONALS, "Professionnel·les du social et du médico-social", 3),
    ]
    assert [(g.key, g.answers) for g in by_session] == [
        (world.cooking_t1.pk, 12),
        (world.training_t1.pk, 3),
        (world.cooking_t2.pk, 14),
    ]
    assert by_session[0].detail == "12 mars 2025 — CC Une"
    assert by_session[0].territory_id == world.t1.pk
    assert [(g.key, g.answers) for g in by_year] == [(2025, 15), (2026, 14)]


def test_an_unknown_grouping_is_a_programming_error(world):
    with pytest.raises(ValueError):
        evaluation_summary(programme_sessions(world), group_by="weather")


def test_the_association_sees_every_figure(world):
    groups = evaluation_summary(programme_sessions(world), group_by="session")

    table = evaluation_table(groups, masked=False, grouping="session")

    assert [row.answers for row in table.rows] == [12, 3, 14]
    assert [row.mean_satisfaction for row in table.rows] == [
        Decimal("4.3"),
        Decimal("3.3"),
        Decimal("4.0"),
    ]
    assert table.total.answers == 29
    assert not table.any_masked
    assert table.rows[1].group is groups[1]


def test_outside_the_association_small_groups_are_masked_with_secondary_suppression(world):
    groups = evaluation_summary(programme_sessions(world), group_by="session")

    table = evaluation_table(groups, masked=True, grouping="session")

    # The training (3 answers) is masked; so is the smallest other session, or else 29 - 12 - 14
    # would give it back.
    assert [row.answers for row in table.rows] == ["s", "s", 14]
    assert [row.masked for row in table.rows] == [True, True, False]
    assert [row.mean_satisfaction for row in table.rows] == [None, None, Decimal("4.0")]
    assert [row.share_intending for row in table.rows] == [None, None, 86]
    assert table.total.answers == 29
    assert table.any_masked
    assert all(row.group is None for row in table.rows)
    assert table.groups == []


def test_outside_the_association_a_share_built_on_few_persons_is_hidden(world):
    # 15 answers, of which 4 "yes": the share would tell that 4 persons said yes.
    session = SessionFactory(programme_territory=world.t1, format=world.training)
    answers(session, [4] * 15, ["yes"] * 4 + ["no"] * 11)

    groups = evaluation_summary(Session.objects.filter(pk=session.pk), group_by="session")
    masked = evaluation_table(groups, masked=True, grouping="session")
    exact = evaluation_table(groups, masked=False, grouping="session")

    assert masked.rows[0].answers == 15
    assert masked.rows[0].mean_satisfaction == Decimal("4.0")
    assert masked.rows[0].share_intending is None
    assert exact.rows[0].share_intending == 27


def test_session_results_in_two_queries(world, django_assert_num_queries):
    with django_assert_num_queries(2):
        results = session_results(world.training_t1)

    assert results.summary.answers == 3
    assert results.summary.mean_satisfaction == Decimal("3.3")
    assert results.intention_rows == [
        ("Oui", 0, 0),
        ("Peut-être", 2, 100),
        ("Non", 0, 0),
        ("Sans réponse", 1, None),
    ]
    assert results.comments == [] and results.paper == 0


# ---- The page -----------------------------------------------------------------------------------


def url(world, **query):
    base = reverse("evaluations:results", args=[world.programme.pk])
    if query:
        base += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return base


def test_the_coordinator_sees_exact_results_per_territory_format_audience_and_session(
    client, world, django_assert_num_queries
):
    client.force_login(world.coordinator)

    # Django session, user, memberships, programme, territories, four groupings.
    with django_assert_num_queries(9):
        response = client.get(url(world))

    assert response.status_code == 200
    page = text(response)
    assert "29 réponses — satisfaction moyenne 4,1 sur 5 — 75 % ont l'intention" in page
    assert "Par territoire" in page and "Par format" in page
    assert "Par public" in page and "Par séance" in page
    # format, sessions, answers, mean, share
    assert "Repérer et orienter 1 3 3,3 0 %" in page
    assert "CC Une 2 15 4,1 64 %" in page  # 9 "yes" among 14 answers to the question
    assert "secret statistique" not in page
    html = response.content.decode()
    assert reverse("evaluations:session", args=[world.t1.pk, world.training_t1.pk]) in html
    assert COMMENT not in page


def test_the_funder_sees_masked_aggregates_and_never_free_texts(client, world):
    client.force_login(world.funder)

    response = client.get(url(world))

    assert response.status_code == 200
    page = text(response)
    assert "secret statistique" in page
    assert "29 réponses — satisfaction moyenne 4,1 sur 5 — 75 % ont l'intention" in page
    # Territories: both above 10 answers; T1's 9 "yes" hide its share.
    assert "CC Deux 1 14 4,0 86 %" in page
    assert "CC Une 2 15 4,1 s" in page
    # Formats: the training's 3 answers are masked, and the cooking workshops with them.
    assert "Atelier cuisine 2 s s s" in page
    assert "Repérer et orienter 1 s s s" in page
    assert "Ensemble 3 29 4,1 75 %" in page
    assert COMMENT not in page
    assert reverse("evaluations:session", args=[world.t1.pk, world.training_t1.pk]) not in (
        response.content.decode()
    )


def test_the_local_authority_sees_its_own_territory_only_masked(client, world):
    client.force_login(world.local_authority)

    page = text(client.get(url(world)))

    assert "CC Deux" not in page
    assert "15 réponses" in page
    # Only the training's 3 answers are small; the cooking workshop is masked with it.
    assert "Atelier cuisine 1 s s s" in page
    assert "Repérer et orienter 1 s s s" in page
    assert "Ensemble 2 15 4,1 s" in page


def test_a_total_under_eleven_answers_is_shown_masked(client, world):
    client.force_login(world.funder)

    page = text(client.get(url(world, annee=2025, territoire=world.t1.pk, extra=1)))

    assert "15 réponses" in page
    page = text(client.get(url(world, territoire=world.t2.pk)))
    assert "14 réponses" in page
    kept = list(Evaluation.objects.filter(session=world.cooking_t2).values_list("pk")[:5])
    Evaluation.objects.filter(session=world.cooking_t2).exclude(
        pk__in=[pk for (pk,) in kept]
    ).delete()
    page = text(client.get(url(world, territoire=world.t2.pk)))
    assert "< 11 réponses" in page
    assert "— satisfaction moyenne" not in page
    assert "Ensemble 1 s s s" in page


def test_the_territory_coordinator_sees_exact_figures_of_its_territory(client, world):
    client.force_login(world.territory_coordinator)

    page = text(client.get(url(world)))

    assert "CC Deux" not in page
    assert "Repérer et orienter 1 3 3,3 0 %" in page


def test_filters_by_year_and_territory(client, world):
    client.force_login(world.coordinator)

    in_2026 = text(client.get(url(world, annee=2026)))
    on_t1 = text(client.get(url(world, territoire=world.t1.pk)))
    nothing = text(client.get(url(world, annee=2024)))

    assert "14 réponses" in in_2026 and "CC Une" not in in_2026.split("Par territoire")[1]
    assert "15 réponses" in on_t1
    assert (
        "0 réponse —" not in nothing
        and "0 réponse " in nothing
        and "Aucune réponse pour ces filtres." in nothing
    )


def test_unknown_filters_are_ignored(client, world):
    client.force_login(world.coordinator)

    response = client.get(url(world, annee=1999, territoire=world.u.pk))

    assert response.status_code == 200
    assert "29 réponses" in text(response)


@pytest.mark.parametrize("role", ["partner"])
def test_partners_are_refused(client, world, role):
    client.force_login(getattr(world, role))

    assert client.get(url(world)).status_code == 403


@pytest.mark.parametrize("role", ["no_role"])
def test_outside_the_programme_it_does_not_exist(client, world, role):
    client.force_login(getattr(world, role))

    assert client.get(url(world)).status_code == 404


def test_another_programme_is_not_found(client, world):
    client.force_login(world.coordinator)

    response = client.get(reverse("evaluations:results", args=[world.other_programme.pk]))

    assert response.status_code == 404


def test_sessions_on_the_same_date_in_both_years_are_not_mixed(world):
    late = SessionFactory(
        programme_territory=world.t1,
        format=world.cooking,
        starts_at=at(2025, 12, 31, 23, 30),
        ends_at=at(2025, 12, 31, 23, 30) + datetime.timedelta(minutes=20),
    )
    answers(late, [5])

    by_year = evaluation_summary(programme_sessions(world), group_by="year")

    assert [(g.key, g.answers) for g in by_year] == [(2025, 16), (2026, 14)]
