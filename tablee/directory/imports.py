"""Applying an import of the directory: the one service that writes what ``importers`` planned.

Rows are written in bulk (a few queries per thousand rows, not one per row) inside a single
transaction: either the whole plan is written, or nothing. E's per-object services are not used
here on purpose, for speed; the rules they enforce (search name, version, position) are applied
below in the same way.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from django.db import connections, router, transaction
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.directory.importers import (
    CREATE,
    REFUSED,
    SERVICE,
    SERVICE_M2M,
    STRUCTURE,
    STRUCTURE_M2M,
    UNCHANGED,
    UPDATE,
    Plan,
    Progress,
    _no_progress,
    build_plan,
    position_for,
    read_files,
)
from tablee.directory.models import Service, Structure

BATCH = 1000
INSERT_BATCH = 5000


class ImportRefused(Exception):
    """The file has refused rows and the user did not choose to import only the valid ones."""

    def __init__(self, plan: Plan):
        self.plan = plan
        super().__init__(f"{plan.refused} ligne(s) refusée(s) : rien n'a été écrit.")


@dataclass
class ImportResult:
    plan: Plan
    written: bool
    counts: dict = field(default_factory=dict)

    def summary(self) -> str:
        s, v = self.counts[STRUCTURE], self.counts[SERVICE]
        return (
            f"Structures : {s[CREATE]} créée(s), {s[UPDATE]} mise(s) à jour, "
            f"{s[UNCHANGED]} inchangée(s), {s[REFUSED]} refusée(s). "
            f"Services : {v[CREATE]} créé(s), {v[UPDATE]} mis à jour, "
            f"{v[UNCHANGED]} inchangé(s), {v[REFUSED]} refusé(s)."
        )


def directory_import(
    *,
    files: Iterable[tuple[Path, str]],
    source: str,
    acting_user=None,
    mapping: dict | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress = _no_progress,
) -> ImportResult:
    """Read, check and write an import in one transaction.

    Raises SpreadsheetRejected when a file cannot be read and ImportRefused when rows are
    refused and ``skip_invalid`` is false: in both cases nothing is written. ``dry_run`` plans
    without writing. ``acting_user`` None (the command line) imports everywhere; a user imports
    only in the communes of their scope.
    """
    read = read_files(files, mapping=mapping)
    with transaction.atomic():
        plan = build_plan(read, default_source=source, user=acting_user, progress=progress)
        counts = plan.counts()
        if plan.refused and not skip_invalid:
            raise ImportRefused(plan)
        if dry_run:
            return ImportResult(plan=plan, written=False, counts=counts)
        write_plan(plan, progress=progress)
        audit(
            AuditEvent.Kind.DIRECTORY_IMPORTED,
            actor=acting_user,
            target=f"source {source}",
            **{f"{kind}_{action}": n for kind in counts for action, n in counts[kind].items()},
        )
    return ImportResult(plan=plan, written=True, counts=counts)


def write_plan(plan: Plan, *, progress: Progress = _no_progress) -> None:
    """Write the created and updated rows of ``plan`` in bulk; refused rows are left out.

    Rows are written in chunks of ``INSERT_BATCH``: model instances exist for one chunk at a
    time, and what a written row held for the writer (its values, links, existing instance) is
    dropped, so memory does not grow with the size of the file. The caller's transaction keeps
    the whole plan all-or-nothing.
    """
    now = timezone.now()
    structures = [r for r in plan.rows if r.kind == STRUCTURE and r.action in {CREATE, UPDATE}]
    services = [r for r in plan.rows if r.kind == SERVICE and r.action in {CREATE, UPDATE}]
    total = len(structures) + len(services)
    progress("écriture", 0, total)
    done = 0
    for start in range(0, len(structures), INSERT_BATCH):
        chunk = structures[start : start + INSERT_BATCH]
        _write_structures(chunk, now)
        _write_links(Structure, "structure_id", STRUCTURE_M2M, chunk)
        _release(chunk)
        done += len(chunk)
        progress("écriture", done, total)
    for start in range(0, len(services), INSERT_BATCH):
        chunk = services[start : start + INSERT_BATCH]
        _write_services(chunk, now)
        _write_links(Service, "service_id", SERVICE_M2M, chunk)
        _release(chunk)
        done += len(chunk)
        progress("écriture", done, total)
    progress("écriture", total, total)


def _release(rows) -> None:
    """Forget what the writer needed of rows now written; the preview's part stays."""
    for row in rows:
        row.fields = {}
        row.m2m = {}
        row.existing = None


def _write_structures(rows, now) -> None:
    new_structures, changed_structures, changed_fields = [], [], set()
    for row in rows:
        fields = {k: v for k, v in row.fields.items() if k != "commune"}
        position = position_for(row)
        fields.pop("latitude", None)
        fields.pop("longitude", None)
        if row.action == CREATE:
            values = {"id": row.pk, "source": row.source, "source_id": row.source_id, **fields}
            # The model's own rule, without an instance: it reads name and opening_hours.
            derived = SimpleNamespace(
                name=fields.get("name", ""), opening_hours=fields.get("opening_hours", "")
            )
            Structure.refresh_derived_fields(derived)
            values["search_name"], values["open_days"] = derived.search_name, derived.open_days
            if position is not None:
                values["latitude"], values["longitude"] = position[0], position[1]
                values["location_is_approximate"] = position[2]
            new_structures.append(values)
        else:
            structure = row.existing
            for name, value in fields.items():
                setattr(structure, name, value)
            changed_fields.update(c for c in row.changes if c in fields)
            if position is not None:
                structure.latitude, structure.longitude = position[0], position[1]
                structure.location_is_approximate = position[2]
                changed_fields.update({"latitude", "longitude", "location_is_approximate"})
            structure.refresh_derived_fields()
            structure.version += 1
            structure.updated_at = now
            changed_structures.append(structure)
    _insert_values(Structure, new_structures, now)
    if changed_structures:
        Structure.objects.bulk_update(
            changed_structures,
            sorted(changed_fields | {"search_name", "open_days", "version", "updated_at"}),
            batch_size=BATCH,
        )


def _write_services(rows, now) -> None:
    new_services, changed_services, changed_fields = [], [], set()
    for row in rows:
        if row.action == CREATE:
            new_services.append(
                {"id": row.pk, "source": row.source, "source_id": row.source_id, **row.fields}
            )
        else:
            service = row.existing
            for name, value in row.fields.items():
                setattr(service, name, value)
            changed_fields.update(c for c in row.changes if c in row.fields)
            service.version += 1
            service.updated_at = now
            changed_services.append(service)
    _insert_values(Service, new_services, now)
    if changed_services:
        Service.objects.bulk_update(
            changed_services, sorted(changed_fields | {"version", "updated_at"}), batch_size=BATCH
        )


# Fields whose values, a str or None, the database takes as they are (no preparation to do).
_TEXT_TYPES = {"CharField", "TextField", "URLField", "EmailField", "SlugField"}


def _insert_values(model, rows: list[dict], now) -> None:
    """INSERT new rows given as {attname: value}, without a model instance for each.

    What a model instance would add is added here: defaults for the fields not given, ``now``
    for auto_now(_add) dates; values are prepared by each field as the ORM would, except the
    texts, which need no preparation.
    """
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    plan = []
    for f in fields:
        stamped = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        plan.append((f, f.attname, stamped, f.get_internal_type() in _TEXT_TYPES))

    def prepared(values: dict) -> tuple:
        out = []
        for f, attname, stamped, text in plan:
            if stamped:
                value = now
            elif attname in values:
                value = values[attname]
            else:
                value = f.get_default()
            if not (text and (value is None or type(value) is str)):
                value = f.get_db_prep_save(value, connection)
            out.append(value)
        return tuple(out)

    _execute_insert(model, fields, (prepared(values) for values in rows))


def _execute_insert(model, fields: list, rows: Iterable[list]) -> None:
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        for batch in _batched(rows):
            cursor.executemany(sql, batch)


def _batched(rows):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == INSERT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_links(model, owner_field: str, spec: dict, rows) -> None:
    """Replace the many-to-many links that changed (and those of new rows) in bulk."""
    for relation, _ in spec.values():
        through = getattr(model, relation).through
        touched = [
            r for r in rows if relation in r.m2m and (r.action == CREATE or relation in r.changes)
        ]
        if not touched:
            continue
        stale = [r.pk for r in touched if r.action == UPDATE]
        for start in range(0, len(stale), BATCH):
            through.objects.filter(**{f"{owner_field}__in": stale[start : start + BATCH]}).delete()
        # Link rows are plain pairs: no model instance needed for each of them.
        connection = connections[router.db_for_write(through)]
        owner = through._meta.get_field(owner_field.removesuffix("_id"))
        category = through._meta.get_field("category")
        _execute_insert(
            through,
            [owner, category],
            (
                [owner.get_db_prep_save(r.pk, connection), category_id]
                for r in touched
                for category_id in r.m2m[relation]
            ),
        )
