"""Writes on the directory: structures, their services, the stops of itinerant services and the
professional contacts of a structure.

Every function is keyword-only, atomic, takes the acting user and writes an audit event holding
ids only (never a contact's name).
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.core.concurrency import check_version
from tablee.directory import geocoding
from tablee.directory.models import Contact, Service, ServiceStop, Structure

# Audit kind of every write on the directory.
DIRECTORY_CHANGED = AuditEvent.Kind.DIRECTORY_CHANGED

STRUCTURE_FIELDS = [
    "name",
    "sector",
    "finess_category",
    "siret",
    "address",
    "address_complement",
    "postal_code",
    "commune",
    "latitude",
    "longitude",
    "phone",
    "email",
    "website",
    "description",
    "opening_hours",
    "accessibility_url",
    "is_publishable",
]
SERVICE_FIELDS = [
    "name",
    "description",
    "service_type",
    "publics_details",
    "fees",
    "fees_details",
    "reception_modes",
    "mobilisation_modes",
    "mobilisable_by",
    "mobilisation_details",
    "mobilisation_url",
    "eligibility_zone",
    "access_conditions",
    "contact_name",
    "email",
    "phone",
    "opening_hours",
    "address",
    "address_complement",
    "postal_code",
    "commune",
    "food_choice",
    "food_conditions",
    "is_itinerant",
]
CONTACT_FIELDS = ["full_name", "job_title", "email", "phone", "consent_given_on"]


def _place(structure: Structure) -> None:
    """Keep the coordinates given by the user; otherwise geocode (or take the commune centre)."""
    if structure.latitude is not None and structure.longitude is not None:
        structure.location_is_approximate = False
        return
    latitude, longitude, approximate = geocoding.place(structure)
    structure.latitude, structure.longitude = latitude, longitude
    structure.location_is_approximate = approximate


def _touch(structure_id) -> None:
    """A change to a service or contact is a change to the structure's information; the version
    is left alone so that it does not conflict with someone editing the structure itself."""
    Structure.objects.filter(pk=structure_id).update(data_updated_on=timezone.localdate())


@transaction.atomic
def structure_create(*, acting_user, networks=(), **fields) -> Structure:
    """Create a structure from STRUCTURE_FIELDS (``networks``: réseaux porteurs categories)."""
    structure = Structure(
        **{k: v for k, v in fields.items() if k in STRUCTURE_FIELDS + ["is_demo"]}
    )
    structure.data_updated_on = timezone.localdate()
    _place(structure)
    structure.full_clean()
    structure.save()
    structure.networks.set(networks)
    audit(DIRECTORY_CHANGED, actor=acting_user, target=str(structure.pk), action="structure_create")
    return structure


@transaction.atomic
def structure_update(
    *, structure: Structure, version: int, acting_user, networks=None, **fields
) -> Structure:
    """Update a structure; refuses with EditConflict if it changed since ``version`` was read.

    Coordinates left empty are recomputed (a new commune moves an approximate marker)."""
    locked = Structure.objects.select_for_update().select_related("commune").get(pk=structure.pk)
    check_version(locked, version, STRUCTURE_FIELDS)
    for name in STRUCTURE_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    locked.data_updated_on = timezone.localdate()
    _place(locked)
    locked.full_clean()
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    if networks is not None:
        locked.networks.set(networks)
    audit(DIRECTORY_CHANGED, actor=acting_user, target=str(locked.pk), action="structure_update")
    return locked


def _set_service_categories(service, thematiques, publics, food_aid_kinds) -> None:
    if thematiques is not None:
        service.thematiques.set(thematiques)
    if publics is not None:
        service.publics.set(publics)
    if food_aid_kinds is not None:
        service.food_aid_kinds.set(food_aid_kinds)


@transaction.atomic
def service_create(
    *, structure: Structure, acting_user, thematiques=(), publics=(), food_aid_kinds=(), **fields
) -> Service:
    """Add a service to a structure from SERVICE_FIELDS and its categories."""
    service = Service(
        structure=structure, **{k: v for k, v in fields.items() if k in SERVICE_FIELDS}
    )
    service.data_updated_on = timezone.localdate()
    service.full_clean()
    service.save()
    _set_service_categories(service, thematiques, publics, food_aid_kinds)
    _touch(structure.pk)
    audit(
        DIRECTORY_CHANGED,
        actor=acting_user,
        target=str(structure.pk),
        action="service_create",
        service=str(service.pk),
    )
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    version: int,
    acting_user,
    thematiques=None,
    publics=None,
    food_aid_kinds=None,
    **fields,
) -> Service:
    """Update a service with a version check; a service that is no longer itinerant keeps its
    stops until they are removed, so that unticking the box by mistake loses nothing."""
    locked = Service.objects.select_for_update().get(pk=service.pk)
    check_version(locked, version, SERVICE_FIELDS)
    for name in SERVICE_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    locked.data_updated_on = timezone.localdate()
    locked.full_clean()
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    _set_service_categories(locked, thematiques, publics, food_aid_kinds)
    _touch(locked.structure_id)
    audit(
        DIRECTORY_CHANGED,
        actor=acting_user,
        target=str(locked.structure_id),
        action="service_update",
        service=str(locked.pk),
    )
    return locked


@transaction.atomic
def service_delete(*, service: Service, acting_user) -> None:
    """Delete a service with its stops."""
    structure_id, service_id = service.structure_id, service.pk
    service.delete()
    _touch(structure_id)
    audit(
        DIRECTORY_CHANGED,
        actor=acting_user,
        target=str(structure_id),
        action="service_delete",
        service=str(service_id),
    )


@transaction.atomic
def service_stop_add(
    *, service: Service, commune, address: str = "", opening_hours: str = "", acting_user
) -> ServiceStop:
    """Add a stop at the end of an itinerant service's round (the service becomes itinerant)."""
    last = service.stops.order_by("-position").values_list("position", flat=True).first()
    stop = ServiceStop(
        service=service,
        commune=commune,
        address=address,
        opening_hours=opening_hours,
        position=0 if last is None else last + 1,
    )
    stop.full_clean()
    stop.save()
    Service.objects.filter(pk=service.pk, is_itinerant=False).update(is_itinerant=True)
    _touch(service.structure_id)
    audit(
        DIRECTORY_CHANGED,
        actor=acting_user,
        target=str(service.structure_id),
        action="stop_add",
        service=str(service.pk),
        stop=stop.pk,
    )
    return stop


@transaction.atomic
def service_stop_remove(*, stop: ServiceStop, acting_user) -> None:
    service = stop.service
    stop_id = stop.pk
    stop.delete()
    _touch(service.structure_id)
    audit(
        DIRECTORY_CHANGED,
        actor=acting_user,
        target=str(service.structure_id),
        action="stop_remove",
        service=str(service.pk),
        stop=stop_id,
    )


@transaction.atomic
def contact_create(*, structure: Structure, acting_user, **fields) -> Contact:
    """Record a professional contact of a structure; ``consent_given_on`` is required."""
    contact = Contact(
        structure=structure, **{k: v for k, v in fields.items() if k in CONTACT_FIELDS}
    )
    contact.full_clean()
    contact.save()
    audit(
        DIRECTORY_CHANGED,
        actor=acting_user,
        target=str(structure.pk),
        action="contact_create",
        contact=str(contact.pk),
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, acting_user, **fields) -> Contact:
    """Update a contact (contacts carry no version: the last save wins)."""
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    for name in CONTACT_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    locked.full_clean()
    locked.save()
    audit(
        DIRECTORY_CHANGED,
        actor=acting_user,
        target=str(locked.structure_id),
        action="contact_update",
        contact=str(locked.pk),
    )
    return locked


@transaction.atomic
def contact_delete(*, contact: Contact, acting_user) -> None:
    """Erase a contact (the audit trail keeps its id only)."""
    structure_id, contact_id = contact.structure_id, contact.pk
    contact.delete()
    audit(
        DIRECTORY_CHANGED,
        actor=acting_user,
        target=str(structure_id),
        action="contact_delete",
        contact=str(contact_id),
    )
