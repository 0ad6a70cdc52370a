"""Helpers of the co-construction tests: headcounts, votes and the world of roles."""

from tablee.diagnostic.tests.factories_i import DiagnosticWorld
from tablee.plans.models import NamedParticipant, ParticipantCount, ProposalVote
from tablee.plans.tests.factories import ConsultationSessionFactory, ProposalFactory

# Everything a coordinator may do; partners and local authorities read and propose; the funder
# reads aggregates elsewhere.
EDITOR_ROLES = ["admin", "coordinator", "territory_coordinator"]
PROPOSER_ROLES = ["partner", "local_authority"]
FUNDER_ROLES = ["funder"]
OUT_OF_SCOPE_ROLES = ["t2_coordinator", "no_role"]


class ConsultationWorld(DiagnosticWorld):
    """The diagnostic's world (programme P on T1 and T2, one person per role, a coordinator of T2
    only) where co-construction happens on T1."""


def session_with_counts(programme_territory, counts=None, **fields):
    session = ConsultationSessionFactory(programme_territory=programme_territory, **fields)
    for group, count in (counts or {}).items():
        ParticipantCount.objects.create(session=session, group=group, count=count)
    return session


def proposal_with_votes(programme_territory, votes=None, **fields):
    proposal = ProposalFactory(programme_territory=programme_territory, **fields)
    for group, number in (votes or {}).items():
        ProposalVote.objects.create(proposal=proposal, group=group, votes=number)
    return proposal


def named(session, full_name="Dominique Fictif", **fields):
    return NamedParticipant.objects.create(session=session, full_name=full_name, **fields)
