"""Applying an import of the directory: the one service that writes what ``importers`` plans.

The file is planned and written chunk by chunk (``importers.Planner``) inside a single
transaction: either the whole file is written, or nothing. Once a row is refused, and unless the
user chose to import only the valid rows, nothing more is written and the transaction is rolled
back at the end, when the plan is complete. Rows are written in bulk (a few queries per chunk,
not one per row); the per-object services of ``services.py`` are not used here on purpose, for
speed, and the rules they enforce (search name, open days, version, position) are applied below
in the same way.
"""

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
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
    Planner,
    PlanRow,
    Progress,
    _folded,
    _no_progress,
    fewer_collections,
    position_for,
    read_files,
)
from tablee.directory.models import Service, Structure

BATCH = 1000
# SQLite's page cache while an import writes, in KiB (2 MB by default): a national file adds
# rows all over indexes much larger than that (about 4 % faster at 250,000 rows).
IMPORT_PAGE_CACHE_KIB = 65536

# Progress steps: checking only (the preview), checking and writing (the import).
CHECKING, WRITING = "validation", "écriture"


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
    reading = read_files(files, mapping=mapping)
    with (
        fewer_collections(),
        transaction.atomic(),
        _page_cache(0 if dry_run else IMPORT_PAGE_CACHE_KIB),
    ):
        planner = Planner(
            reading,
            default_source=source,
            user=acting_user,
            progress=progress,
            step=CHECKING if dry_run else WRITING,
        )
        writer = None if dry_run else Writer()
        for rows in planner.chunks():
            # After a refused row the rest is only checked, for the preview: the transaction
            # is rolled back below.
            if writer is not None and (skip_invalid or not planner.plan.refused):
                writer.write(rows)
        plan = planner.plan
        counts = plan.counts()
        if plan.refused and not skip_invalid:
            raise ImportRefused(plan)
        if dry_run:
            return ImportResult(plan=plan, written=False, counts=counts)
        audit(
            AuditEvent.Kind.DIRECTORY_IMPORTED,
            actor=acting_user,
            target=f"source {source}",
            **{f"{kind}_{action}": n for kind in counts for action, n in counts[kind].items()},
        )
    return ImportResult(plan=plan, written=True, counts=counts)


@contextmanager
def _page_cache(kib: int):
    """A larger SQLite page cache for the time of an import, the usual one restored after."""
    connection = connections[router.db_for_write(Structure)]
    if not kib or connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (usual,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(usual)}")


class Writer:
    """Writes the created and updated rows of each chunk in bulk; refused and unchanged rows are
    left out. Structures first: the services of a chunk may belong to them."""

    def __init__(self):
        self.now = timezone.now()
        # A key is prepared once for its row, its links and the services that point to it.
        self.keys = {Structure: _Keys(Structure), Service: _Keys(Service)}
        self.structures = _Table(Structure, self.now, self.keys)
        self.services = _Table(Service, self.now, self.keys)

    def write(self, rows: list[PlanRow]) -> None:
        structures = [r for r in rows if r.kind == STRUCTURE and r.action in {CREATE, UPDATE}]
        services = [r for r in rows if r.kind == SERVICE and r.action in {CREATE, UPDATE}]
        if structures:
            self._write_structures(structures)
            _write_links(Structure, "structure_id", STRUCTURE_M2M, structures, self.keys[Structure])
        if services:
            self._write_services(services)
            _write_links(Service, "service_id", SERVICE_M2M, services, self.keys[Service])
        for keys in self.keys.values():
            keys.clear()

    def _write_structures(self, rows: list[PlanRow]) -> None:
        new, changed = [], []
        for row in rows:
            fields = row.fields
            position = position_for(row)
            if row.action == CREATE:
                values = {
                    **fields,
                    "id": row.pk,
                    "source": row.source,
                    "source_id": row.source_id,
                    **_derived(fields.get("name", ""), fields.get("opening_hours", "")),
                }
                # The file's coordinates are stored through the position only.
                values.pop("latitude", None)
                values.pop("longitude", None)
                if position is not None:
                    values["latitude"], values["longitude"] = position[0], position[1]
                    values["location_is_approximate"] = position[2]
                new.append(values)
            else:
                values = {
                    name: fields[name]
                    for name in row.changes
                    if name in fields and name not in ("latitude", "longitude")
                }
                if position is not None:
                    values["latitude"], values["longitude"] = position[0], position[1]
                    values["location_is_approximate"] = position[2]
                existing = row.existing
                values.update(
                    _derived(
                        fields.get("name", existing["name"]),
                        fields.get("opening_hours", existing["opening_hours"]),
                    )
                )
                changed.append((row.pk, values))
        self.structures.insert(new)
        self.structures.update(changed)

    def _write_services(self, rows: list[PlanRow]) -> None:
        new, changed = [], []
        for row in rows:
            if row.action == CREATE:
                new.append(
                    {**row.fields, "id": row.pk, "source": row.source, "source_id": row.source_id}
                )
            else:
                changed.append(
                    (row.pk, {name: row.fields[name] for name in row.changes if name in row.fields})
                )
        self.services.insert(new)
        self.services.update(changed)


def _derived(name: str, opening_hours: str) -> dict:
    """The model's own rule for its derived fields (``refresh_derived_fields``), without an
    instance, and with the folded name the planner has just computed for the same rows."""
    return {"search_name": _folded(name), "open_days": _open_days(opening_hours)}


@lru_cache(maxsize=4096)
def _open_days(opening_hours: str) -> str:
    # A few hundred different hours come back on every row of a national file.
    derived = SimpleNamespace(name="", opening_hours=opening_hours)
    Structure.refresh_derived_fields(derived)
    return derived.open_days


class _Keys(dict):
    """The primary keys of ``model``'s rows prepared for the database, each prepared once."""

    def __init__(self, model):
        super().__init__()
        self.field = model._meta.pk
        self.connection = connections[router.db_for_write(model)]

    def __missing__(self, pk):
        prepared = self[pk] = self.field.get_db_prep_save(pk, self.connection)
        return prepared


# Fields whose values the database takes as they come from the plan: texts (str), numbers and
# booleans. The others (UUID, dates, JSON) are prepared by the field, as the ORM would.
_PLAIN_TYPES = {
    "CharField",
    "TextField",
    "URLField",
    "EmailField",
    "SlugField",
    "FloatField",
    "BooleanField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "BigIntegerField",
    "AutoField",
    "BigAutoField",
}
# Fields whose prepared values are remembered: dates and lists of codes repeat from row to row.
_REPEATED_TYPES = {"DateField", "JSONField"}


class _Table:
    """INSERT and UPDATE of rows given as {attname: value}, without a model instance per row.

    What a model instance would add is added here: defaults for the fields not given (computed
    once), ``now`` for the auto_now(_add) dates, a version incremented on each update; values
    are prepared by each field as the ORM would.
    """

    def __init__(self, model, now, keys: dict):
        self.model = model
        self.keys = keys
        self.connection = connections[router.db_for_write(model)]
        self.fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
        # (attname, value when not given, stamped with now, preparation), in column order.
        self.layout = []
        for f in self.fields:
            stamped = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            default = None
            if not f.primary_key:
                default = f.get_db_prep_save(now if stamped else f.get_default(), self.connection)
            self.layout.append((f.attname, default, stamped, self._preparer(f)))
        self.preparers = {attname: prepare for attname, _, _, prepare in self.layout}
        self.stamp = next(f for f in self.fields if getattr(f, "auto_now", False))
        self.now = self.stamp.get_db_prep_save(now, self.connection)

    def _preparer(self, f):
        # The table's own key, or a key of a row written in the same chunk (a service's
        # structure): prepared once for all the rows that hold it.
        key = f.target_field if f.is_relation else f
        keys = self.keys.get(key.model) if key.primary_key else None
        if keys is not None:
            return keys.__getitem__
        internal = f.get_internal_type()
        if f.is_relation:
            internal = f.target_field.get_internal_type()
        if internal in _PLAIN_TYPES:
            return None
        connection = self.connection

        def prepared(value):
            return f.get_db_prep_save(value, connection)

        if internal not in _REPEATED_TYPES:
            return prepared
        remembered = {}

        def remembered_prepared(value):
            key = tuple(value) if type(value) is list else value
            result = remembered.get(key)
            if result is None:
                if len(remembered) > 10_000:
                    remembered.clear()
                result = remembered[key] = prepared(value)
            return result

        return remembered_prepared

    def _prepared(self, attname: str, value):
        prepare = self.preparers[attname]
        return value if prepare is None or value is None else prepare(value)

    def insert(self, rows: list[dict]) -> None:
        if not rows:
            return
        defaults = {attname: default for attname, default, _, _ in self.layout}
        stamped = {attname: default for attname, default, stamp, _ in self.layout if stamp}
        to_prepare = [(attname, prepare) for attname, _, stamp, prepare in self.layout if prepare]
        row_of = itemgetter(*(attname for attname, _, _, _ in self.layout))

        def prepared(values: dict) -> tuple:
            for attname, prepare in to_prepare:
                value = values.get(attname)
                if value is not None:
                    values[attname] = prepare(value)
            return row_of({**defaults, **values, **stamped})

        quote = self.connection.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(self.model._meta.db_table),
            ", ".join(quote(f.column) for f in self.fields),
            ", ".join(["%s"] * len(self.fields)),
        )
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, [prepared(values) for values in rows])

    def update(self, rows: list[tuple[object, dict]]) -> None:
        """Set the given columns of each (pk, values), increment its version and stamp it: one
        statement per set of columns."""
        meta = self.model._meta
        by_columns: dict[tuple[str, ...], list] = {}
        for pk, values in rows:
            columns = tuple(sorted(values))
            params = [self._prepared(name, values[name]) for name in columns]
            params += [self.now, self.keys[self.model][pk]]
            by_columns.setdefault(columns, []).append(params)
        quote = self.connection.ops.quote_name
        version = quote(meta.get_field("version").column)
        with self.connection.cursor() as cursor:
            for columns, params in by_columns.items():
                assignments = [f"{quote(meta.get_field(name).column)} = %s" for name in columns]
                assignments += [f"{version} = {version} + 1", f"{quote(self.stamp.column)} = %s"]
                sql = "UPDATE {} SET {} WHERE {} = %s".format(
                    quote(meta.db_table), ", ".join(assignments), quote(meta.pk.column)
                )
                for start in range(0, len(params), BATCH):
                    cursor.executemany(sql, params[start : start + BATCH])


def _write_links(model, owner_field: str, spec: dict, rows: list[PlanRow], keys: _Keys) -> None:
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
        quote = connection.ops.quote_name
        table, columns = (
            quote(through._meta.db_table),
            (quote(owner.column), quote(category.column)),
        )
        sql = f"INSERT INTO {table} ({columns[0]}, {columns[1]}) VALUES (%s, %s)"
        pairs = []
        for r in touched:
            pk = keys[r.pk]
            pairs += [(pk, category_id) for category_id in r.m2m[relation]]
        if pairs:
            with connection.cursor() as cursor:
                cursor.executemany(sql, pairs)
