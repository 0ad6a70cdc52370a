"""The world of the catalogue and session tests: the directory's world (programme P on T1 and T2,
one person per role) with a coordinator of T2 only, two formats and helpers to post a session."""

from tablee.accounts.models import Role
from tablee.accounts.tests.factories import MembershipFactory
from tablee.activities.tests.factories import ActivityFormatFactory, SessionFactory, at
from tablee.directory.tests.factories import DirectoryWorld
from tablee.territories.models import Audience, SessionKind

# Who may read the sessions of T1, who may write them, and who gets nothing.
READERS = ["admin", "coordinator", "territory_coordinator", "partner", "local_authority"]
EDITORS = ["admin", "coordinator", "territory_coordinator"]
READ_ONLY = ["partner", "local_authority"]
OUT_OF_SCOPE = ["t2_coordinator", "no_role"]


class SessionsWorld:
    def __init__(self):
        directory = DirectoryWorld()
        for name in (
            "programme",
            "other_programme",
            "t1",
            "t2",
            "u",
            "commune1",
            "commune2",
            "own",
            "neighbour",
            "sibling",
            "other",
            "admin",
            "coordinator",
            "territory_coordinator",
            "partner",
            "local_authority",
            "funder",
            "no_role",
        ):
            setattr(self, name, getattr(directory, name))
        self.t2_coordinator = MembershipFactory(
            role=Role.COORDINATOR, programme_territory=self.t2
        ).user
        self.other_coordinator = MembershipFactory(
            role=Role.COORDINATOR, programme=self.other_programme
        ).user
        self.cooking = ActivityFormatFactory(
            programme=self.programme,
            name="Atelier cuisine",
            kind=SessionKind.WORKSHOP,
            audience=Audience.PEOPLE,
            duration_minutes=150,
        )
        self.training = ActivityFormatFactory(
            programme=self.programme,
            name="Repérer et orienter la précarité alimentaire",
            kind=SessionKind.TRAINING,
            audience=Audience.PROFESSIONALS,
            duration_minutes=180,
        )

    def session(self, **kwargs):
        """A session of T1 at the cooking format unless told otherwise."""
        kwargs.setdefault("programme_territory", self.t1)
        kwargs.setdefault("format", self.cooking)
        return SessionFactory(**kwargs)


__all__ = ["SessionsWorld", "at", "READERS", "EDITORS", "READ_ONLY", "OUT_OF_SCOPE"]
