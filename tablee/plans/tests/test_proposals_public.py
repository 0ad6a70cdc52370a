"""The public proposal link of a session: people concerned propose without an account, never see
other proposals; closed links, bad input, floods and forged posts write nothing."""

import html
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.plans.models import Proposal, StakeholderGroup
from tablee.plans.tests.factories import ConsultationSessionFactory, ProposalFactory

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def _empty_cache():
    # The rate-limit counters live in the cache: each test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def session():
    return ConsultationSessionFactory(
        public_proposals_open=True, programme_territory__territory__name="CC du Centre Bretagne"
    )


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def url(session, name="propose"):
    return reverse(f"proposals_public:{name}", args=[session.proposal_token])


def post(client, session, proposal="Un jardin partagé près de la gare", ip=CLIENT_IP):
    return client.post(url(session), {"text": proposal}, REMOTE_ADDR=ip)


def test_the_page_is_open_to_anyone_and_asks_for_no_name(
    client, session, django_assert_num_queries
):
    ProposalFactory(
        programme_territory=session.programme_territory,
        session=session,
        text="Une proposition d'une autre personne",
    )
    # the session with its territory, by its token (no sign-in, no Django session)
    with django_assert_num_queries(1):
        response = client.get(url(session))
    assert response.status_code == 200
    page = text(response)
    assert "Ne donnez pas votre nom." in page
    assert "CC du Centre Bretagne" in page
    assert "Une proposition d'une autre personne" not in page
    # One text field and the CSRF token: nothing else is asked.
    content = response.content.decode()
    assert content.count("<textarea") == 1 and "<select" not in content
    inputs = re.findall(r"<input [^>]*>", content)
    assert [re.search(r'name="([^"]+)"', tag)[1] for tag in inputs] == ["csrfmiddlewaretoken"]


def test_a_proposal_is_recorded_for_people_concerned_anonymously(client, session):
    response = post(client, session, "  Un jardin partagé près de la gare  ")
    assert response.status_code == 302
    assert response["Location"] == url(session, "thanks")
    proposal = Proposal.objects.get()
    assert proposal.text == "Un jardin partagé près de la gare"
    assert proposal.origin_group == StakeholderGroup.PEOPLE
    assert proposal.submitted_publicly is True
    assert proposal.session == session
    assert proposal.programme_territory == session.programme_territory
    assert proposal.created_by is None and proposal.status == Proposal.Status.OPEN
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAN_CHANGED)
    assert event.actor is None
    assert event.detail == {
        "action": "proposal_submit_public",
        "session": str(session.pk),
        "proposal": str(proposal.pk),
    }
    page = text(client.get(response["Location"]))
    assert "Merci, votre proposition est enregistrée" in page
    assert "Un jardin partagé" not in page  # not even one's own proposal is echoed back
    assert "Faire une autre proposition" in page


def test_an_unknown_link_answers_404(client):
    assert client.get(reverse("proposals_public:propose", args=["inconnu"])).status_code == 404
    assert client.post(reverse("proposals_public:propose", args=["inconnu"])).status_code == 404


def test_a_closed_link_says_so_politely_and_writes_nothing(client):
    closed = ConsultationSessionFactory(public_proposals_open=False)
    response = client.get(url(closed))
    assert response.status_code == 200
    assert "Le recueil est fermé" in text(response)
    assert "<textarea" not in response.content.decode()
    response = post(client, closed)
    assert response.status_code == 200
    assert "Le recueil est fermé" in text(response)
    assert not Proposal.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_link_closed_while_the_form_was_open_writes_nothing(client, session):
    assert client.get(url(session)).status_code == 200
    session.public_proposals_open = False
    session.save()
    response = post(client, session)
    assert "Le recueil est fermé" in text(response)
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("proposal", "message"),
    [
        ("", "Écrivez votre proposition avant d'envoyer."),
        ("    ", "Écrivez votre proposition avant d'envoyer."),
        ("x" * 2001, "Votre proposition est trop longue : 2 000 caractères au plus"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(client, session, proposal, message):
    response = post(client, session, proposal)
    assert response.status_code == 200
    assert message in text(response)
    assert not Proposal.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_flood_from_one_client_is_stopped(client, session, settings):
    settings.TABLEE_PROPOSAL_RATE_PER_CLIENT = 2
    assert post(client, session).status_code == 302
    assert post(client, session).status_code == 302
    response = post(client, session)
    assert response.status_code == 429
    assert "Trop de propositions en peu de temps" in text(response)
    assert Proposal.objects.count() == 2
    # Another phone of the same workshop still gets through.
    assert post(client, session, ip="198.51.100.4").status_code == 302
    assert Proposal.objects.count() == 3


def test_a_flood_on_one_link_is_stopped_whatever_the_client(client, session, settings):
    settings.TABLEE_PROPOSAL_RATE_PER_LINK = 3
    for n in range(3):
        assert post(client, session, ip=f"198.51.100.{n}").status_code == 302
    assert post(client, session, ip="198.51.100.99").status_code == 429
    assert Proposal.objects.count() == 3
    # Another session's link is counted apart.
    other = ConsultationSessionFactory(public_proposals_open=True)
    assert post(client, other, ip="198.51.100.98").status_code == 302


def test_a_post_without_the_csrf_token_is_refused(session):
    guarded = Client(enforce_csrf_checks=True)
    response = guarded.post(url(session), {"text": "Proposition forgée"}, REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 403
    assert not Proposal.objects.exists()
    # The form's own token lets a real visitor through.
    page = guarded.get(url(session)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    response = guarded.post(
        url(session),
        {"text": "Une vraie proposition", "csrfmiddlewaretoken": token},
        REMOTE_ADDR=CLIENT_IP,
    )
    assert response.status_code == 302
    assert Proposal.objects.get().text == "Une vraie proposition"
