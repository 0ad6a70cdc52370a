"""Who may do what: the one place where Tablée decides.

Everything is denied by default. A user holds memberships (role + scope); an action is allowed on an
object when one of the user's memberships grants it and its scope covers the object. Querysets are
filtered here too, so that every lookup outside the scope answers 404 (views use
``get_object_or_404(Model.objects.for_user(user), ...)``).

The role × action matrix is tested in ``accounts/tests/test_permissions.py``.
"""

from enum import StrEnum

from django.db.models import Q

from tablee.accounts.models import Membership, Role


class Action(StrEnum):
    VIEW_REFERENTIAL = "view_referential"
    CREATE_PROGRAMME = "create_programme"
    VIEW_PROGRAMME = "view_programme"
    EDIT_PROGRAMME = "edit_programme"
    VIEW_TERRITORY = "view_territory"
    VIEW_TERRITORY_CONTACTS = "view_territory_contacts"
    EDIT_TERRITORY = "edit_territory"
    IMPORT_INDICATORS = "import_indicators"
    VIEW_DIRECTORY = "view_directory"
    CREATE_STRUCTURE = "create_structure"
    EDIT_STRUCTURE = "edit_structure"
    VIEW_STRUCTURE_CONTACTS = "view_structure_contacts"
    IMPORT_STRUCTURES = "import_structures"
    EXPORT_DIRECTORY = "export_directory"
    VIEW_DIAGNOSTIC = "view_diagnostic"
    EDIT_DIAGNOSTIC = "edit_diagnostic"
    VIEW_DIAGNOSTIC_SYNTHESIS = "view_diagnostic_synthesis"
    VIEW_PLAN = "view_plan"
    EDIT_PLAN = "edit_plan"
    PROPOSE = "propose"
    COMMENT_PLAN = "comment_plan"
    VIEW_ACTIVITIES = "view_activities"
    EDIT_ACTIVITIES = "edit_activities"
    REGISTER_TO_SESSION = "register_to_session"
    VIEW_REGISTRATIONS = "view_registrations"
    VIEW_EVALUATIONS = "view_evaluations"
    VIEW_NETWORK = "view_network"
    EDIT_NETWORK = "edit_network"
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_REPORTS = "view_reports"
    EDIT_REPORTS = "edit_reports"
    EXPORT_ALL = "export_all"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


# Roles granted each action when their scope covers the object. Admins are granted everything.
GRANTS: dict[Action, set[Role]] = {
    Action.VIEW_REFERENTIAL: {Role.COORDINATOR, Role.PARTNER, Role.LOCAL_AUTHORITY, Role.FUNDER},
    Action.CREATE_PROGRAMME: set(),
    Action.VIEW_PROGRAMME: {Role.COORDINATOR, Role.PARTNER, Role.LOCAL_AUTHORITY, Role.FUNDER},
    Action.EDIT_PROGRAMME: {Role.COORDINATOR},
    Action.VIEW_TERRITORY: {Role.COORDINATOR, Role.PARTNER, Role.LOCAL_AUTHORITY, Role.FUNDER},
    # The funder sees aggregates only: no names, so not the PAT contact person.
    Action.VIEW_TERRITORY_CONTACTS: {Role.COORDINATOR, Role.PARTNER, Role.LOCAL_AUTHORITY},
    Action.EDIT_TERRITORY: {Role.COORDINATOR},
    Action.IMPORT_INDICATORS: {Role.COORDINATOR},
    # The directory of a territory: the funder sees aggregates only, not the directory.
    Action.VIEW_DIRECTORY: {Role.COORDINATOR, Role.PARTNER, Role.LOCAL_AUTHORITY},
    Action.CREATE_STRUCTURE: {Role.COORDINATOR},
    # A partner edits its own structure only; a coordinator those of its territories.
    Action.EDIT_STRUCTURE: {Role.COORDINATOR, Role.PARTNER},
    Action.VIEW_STRUCTURE_CONTACTS: {Role.COORDINATOR, Role.PARTNER},
    Action.IMPORT_STRUCTURES: {Role.COORDINATOR},
    Action.EXPORT_DIRECTORY: {Role.COORDINATOR},
    # Meetings, needs, pathways, testimonies and questionnaires are the association's working
    # records; the others read the synthesis, where unshared notes and testimonies never appear.
    Action.VIEW_DIAGNOSTIC: {Role.COORDINATOR},
    Action.EDIT_DIAGNOSTIC: {Role.COORDINATOR},
    Action.VIEW_DIAGNOSTIC_SYNTHESIS: {
        Role.COORDINATOR,
        Role.PARTNER,
        Role.LOCAL_AUTHORITY,
        Role.FUNDER,
    },
    # Co-construction and plans: partners and local authorities read the plan and propose; the
    # local authority comments; the funder reads aggregates only (dashboards and reports).
    Action.VIEW_PLAN: {Role.COORDINATOR, Role.PARTNER, Role.LOCAL_AUTHORITY},
    Action.EDIT_PLAN: {Role.COORDINATOR},
    Action.PROPOSE: {Role.COORDINATOR, Role.PARTNER, Role.LOCAL_AUTHORITY},
    Action.COMMENT_PLAN: {Role.COORDINATOR, Role.LOCAL_AUTHORITY},
    # Workshops and trainings: the calendar is for everyone on the ground; named registrations,
    # attendance and raw evaluations are the association's.
    Action.VIEW_ACTIVITIES: {Role.COORDINATOR, Role.PARTNER, Role.LOCAL_AUTHORITY},
    Action.EDIT_ACTIVITIES: {Role.COORDINATOR},
    Action.REGISTER_TO_SESSION: {Role.COORDINATOR, Role.PARTNER},
    Action.VIEW_REGISTRATIONS: {Role.COORDINATOR},
    Action.VIEW_EVALUATIONS: {Role.COORDINATOR},
    Action.VIEW_NETWORK: {Role.COORDINATOR, Role.PARTNER, Role.LOCAL_AUTHORITY},
    Action.EDIT_NETWORK: {Role.COORDINATOR},
    # Dashboards and reports are aggregated and masked for everyone outside the association.
    Action.VIEW_DASHBOARD: {Role.COORDINATOR, Role.LOCAL_AUTHORITY, Role.FUNDER},
    Action.VIEW_REPORTS: {Role.COORDINATOR, Role.FUNDER},
    Action.EDIT_REPORTS: {Role.COORDINATOR},
    Action.EXPORT_ALL: {Role.COORDINATOR},
    Action.MANAGE_USERS: set(),
    Action.VIEW_AUDIT: set(),
}

# Actions whose figures are shown unmasked: the association's own team. Everyone else sees counts
# under 11 masked (DESIGN.md, "Privacy by design").
UNMASKED_ROLES = {Role.ADMIN, Role.COORDINATOR}

# Actions that concern a programme as a whole: a territory-scoped membership does not reach them.
PROGRAMME_WIDE = {Action.EDIT_PROGRAMME, Action.EXPORT_ALL}


def memberships_of(user) -> list[Membership]:
    """The user's memberships, loaded once per user object (one query per request)."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_tablee_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user).select_related(
                "programme", "programme_territory", "structure__commune"
            )
        )
        user._tablee_memberships = cached
    return cached


def forget_memberships(user) -> None:
    """Drop the per-request cache after a membership change."""
    if hasattr(user, "_tablee_memberships"):
        del user._tablee_memberships


def is_admin(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or any(m.role == Role.ADMIN for m in memberships_of(user))


def sees_unmasked(user, obj=None) -> bool:
    """Whether ``user`` belongs to the association running ``obj`` (a Programme or a
    ProgrammeTerritory) and so may see small counts unmasked."""
    if is_admin(user):
        return True
    return any(
        m.role == Role.COORDINATOR and (obj is None or _covers(m, obj))
        for m in memberships_of(user)
    )


def roles(user) -> set[str]:
    """Every role the user holds, whatever the scope (for menus)."""
    found = {m.role for m in memberships_of(user)}
    if user.is_authenticated and user.is_superuser:
        found.add(Role.ADMIN)
    return found


# Actions on a structure that a partner may take on its own structure only, not on its neighbours.
OWN_STRUCTURE_ONLY = {Action.EDIT_STRUCTURE, Action.VIEW_STRUCTURE_CONTACTS}


def _covers(membership: Membership, obj, action=None) -> bool:
    """Whether the membership's scope contains ``obj``: a Programme, a ProgrammeTerritory or a
    Structure."""
    from tablee.directory.models import Structure
    from tablee.territories.models import Programme, ProgrammeTerritory

    if isinstance(obj, Structure):
        if membership.structure_id:
            if action in OWN_STRUCTURE_ONLY:
                return membership.structure_id == obj.pk
            return membership.structure.commune.territory_id == obj.commune.territory_id
        epci = obj.commune.territory_id
        if membership.programme_id:
            return membership.programme.territories.filter(territory_id=epci).exists()
        if membership.programme_territory_id:
            return membership.programme_territory.territory_id == epci
        return False
    if isinstance(obj, Programme):
        if membership.programme_id:
            return membership.programme_id == obj.pk
        if membership.programme_territory_id:
            return membership.programme_territory.programme_id == obj.pk
        if membership.structure_id:
            epci = membership.structure.commune.territory_id
            return obj.territories.filter(territory_id=epci).exists()
        return False
    if isinstance(obj, ProgrammeTerritory):
        if membership.programme_id:
            return membership.programme_id == obj.programme_id
        if membership.programme_territory_id:
            return membership.programme_territory_id == obj.pk
        if membership.structure_id:
            return membership.structure.commune.territory_id == obj.territory_id
        return False
    return False


def can(user, action: Action, obj=None) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj`` (None for instance-wide actions)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_admin(user):
        return True
    granted = GRANTS[action]
    for membership in memberships_of(user):
        if membership.role not in granted:
            continue
        if obj is None:
            return True
        if action in PROGRAMME_WIDE and not membership.programme_id:
            continue
        if _covers(membership, obj, action):
            return True
    return False


def programmes_for(user, queryset):
    """Restrict a Programme queryset to those the user may open."""
    if is_admin(user):
        return queryset
    scope = Q(pk__in=[])
    for m in memberships_of(user):
        if m.programme_id:
            scope |= Q(pk=m.programme_id)
        elif m.programme_territory_id:
            scope |= Q(pk=m.programme_territory.programme_id)
        elif m.structure_id and m.structure.commune.territory_id:
            scope |= Q(territories__territory_id=m.structure.commune.territory_id)
    return queryset.filter(scope).distinct()


def programme_territories_for(user, queryset):
    """Restrict a ProgrammeTerritory queryset to those the user may open."""
    if is_admin(user):
        return queryset
    scope = Q(pk__in=[])
    for m in memberships_of(user):
        if m.programme_id:
            scope |= Q(programme_id=m.programme_id)
        elif m.programme_territory_id:
            scope |= Q(pk=m.programme_territory_id)
        elif m.structure_id and m.structure.commune.territory_id:
            scope |= Q(territory_id=m.structure.commune.territory_id)
    return queryset.filter(scope)


def structures_for(user, queryset):
    """Restrict a Structure queryset to the directory the user may open: the structures of the
    territories in scope (a partner sees its own territory's directory). The funder sees none."""
    from tablee.territories.models import ProgrammeTerritory

    if is_admin(user):
        return queryset
    scope = Q(pk__in=[])
    for m in memberships_of(user):
        if m.role not in GRANTS[Action.VIEW_DIRECTORY]:
            continue
        if m.programme_id:
            # A subquery rather than a join through the programme territories: the join could
            # repeat a structure and needed DISTINCT over every column, which made each count
            # of a national directory sort the whole table (benchmarks, issue 9).
            epci = ProgrammeTerritory.objects.filter(programme_id=m.programme_id)
            scope |= Q(commune__territory_id__in=epci.values("territory_id"))
        elif m.programme_territory_id:
            scope |= Q(commune__territory_id=m.programme_territory.territory_id)
        elif m.structure_id and m.structure.commune.territory_id:
            scope |= Q(commune__territory_id=m.structure.commune.territory_id)
    return queryset.filter(scope)
