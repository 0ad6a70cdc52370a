"""Exports of the directory: data·inclusion JSON and CSV (validated by the official schema), XLSX.

The data·inclusion formats hold two files, ``structures`` and ``services``, handed out together
in a ZIP. Values the schema would refuse (a postcode that is not five digits, a description under
five characters) are left empty rather than exported invalid; a record whose required name is too
short is left out and counted. The names of professionals (``contact_nom_prenom``) never leave
Tablée. The XLSX, for people, has French headers and labels instead of codes.
"""

import io
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from django.db.models import Count, Prefetch

from tablee.core.exports import Column, write_csv, write_xlsx
from tablee.directory.importers import schema_for
from tablee.directory.models import Category, Sector, Service, Structure

FORMATS = {
    "di-json": "data·inclusion JSON (ZIP : structures.json et services.json)",
    "di-csv": "data·inclusion CSV (ZIP : structures.csv et services.csv)",
    "xlsx": "Tableur XLSX (lecture par des personnes)",
}
CHUNK = 2000
# The services of a data·inclusion JSON export stay in memory up to this size, then on disk.
SPOOL_SIZE = 8 * 1024 * 1024
_POSTAL = re.compile(r"^\d{5}$")
_SIRET = re.compile(r"^\d{14}$")
_ZONE = re.compile(r"^(\w{5}|\w{2,3}|\d{9}|france)$")


@dataclass
class ExportCounts:
    structures: int = 0
    services: int = 0
    skipped: list[str] = field(default_factory=list)


def _text(value, *, min_length: int = 1, max_length: int | None = None):
    text = (value or "").strip()
    if len(text) < min_length:
        return None
    return text[:max_length] if max_length else text


@cache
def _enum(kind: str, name: str) -> frozenset[str]:
    schema = schema_for(kind)
    ref = next(
        (
            b.get("items", b).get("$ref")
            for b in schema["properties"][name]["anyOf"]
            if "items" in b or "$ref" in b
        ),
        None,
    )
    return frozenset(schema["$defs"][ref.rsplit("/", 1)[1]]["enum"]) if ref else frozenset()


def structure_record(structure: Structure) -> dict | None:
    """The data·inclusion form of a structure, or None when it cannot be valid (name too short)."""
    name = _text(structure.name, min_length=3, max_length=150)
    if name is None:
        return None
    return {
        "source": structure.source,
        "id": structure.source_id or str(structure.pk),
        "nom": name.rstrip(".") if len(name.rstrip(".")) >= 3 else name,
        "siret": structure.siret if _SIRET.match(structure.siret or "") else None,
        "description": _text(structure.description, min_length=5, max_length=10000),
        "adresse": _text(structure.address),
        "complement_adresse": _text(structure.address_complement),
        "commune": structure.commune.name,
        "code_postal": structure.postal_code
        if _POSTAL.match(structure.postal_code or "")
        else None,
        "code_insee": structure.commune_id,
        "latitude": structure.latitude,
        "longitude": structure.longitude,
        "telephone": _text(structure.phone),
        "courriel": _text(structure.email),
        "site_web": _text(structure.website),
        "lien_source": _text(structure.source_url),
        "horaires_accueil": _text(structure.opening_hours),
        "accessibilite_lieu": _text(structure.accessibility_url),
        "reseaux_porteurs": sorted(c.value for c in _related(structure, "networks")) or None,
        "date_maj": structure.data_updated_on.isoformat(),
    }


def service_record(service: Service, structure: Structure) -> dict | None:
    name = _text(service.name, min_length=3, max_length=150)
    description = _text(service.description, min_length=5, max_length=10000)
    if name is None or description is None:
        return None
    accueil, mobilisation, par = (
        _enum("service", "modes_accueil"),
        _enum("service", "modes_mobilisation"),
        _enum("service", "mobilisable_par"),
    )
    zone = [code for code in service.eligibility_zone or [] if _ZONE.match(str(code))]
    return {
        "source": structure.source,
        "id": service.source_id or str(service.pk),
        "structure_id": structure.source_id or str(structure.pk),
        "nom": name,
        "description": description,
        "type": service.service_type or None,
        "thematiques": sorted(c.value for c in _related(service, "thematiques")) or None,
        "publics": sorted(c.value for c in _related(service, "publics")) or None,
        "publics_precisions": _text(service.publics_details),
        "frais": service.fees or None,
        "frais_precisions": _text(service.fees_details),
        "conditions_acces": _text(service.access_conditions),
        "commune": service.commune.name if service.commune_id else None,
        "code_insee": service.commune_id,
        "code_postal": service.postal_code if _POSTAL.match(service.postal_code or "") else None,
        "adresse": _text(service.address),
        "complement_adresse": _text(service.address_complement),
        "telephone": _text(service.phone),
        "courriel": _text(service.email),
        "modes_accueil": [m for m in service.reception_modes if m in accueil] or None,
        "zone_eligibilite": zone or None,
        # The name of a professional stays in Tablée.
        "contact_nom_prenom": None,
        "modes_mobilisation": [m for m in service.mobilisation_modes if m in mobilisation] or None,
        "lien_mobilisation": _text(service.mobilisation_url),
        "mobilisable_par": [m for m in service.mobilisable_by if m in par] or None,
        "mobilisation_precisions": _text(service.mobilisation_details),
        "volume_horaire_hebdomadaire": None,
        "nombre_semaines": None,
        "horaires_accueil": _text(service.opening_hours),
        "latitude": service.latitude,
        "longitude": service.longitude,
        "lien_source": _text(service.source_url),
        "date_maj": service.data_updated_on.isoformat(),
    }


def _related(obj, name: str):
    """The prefetched rows kept in ``di_<name>`` (reading them clones no queryset)."""
    prefetched = getattr(obj, f"di_{name}", None)
    return prefetched if prefetched is not None else getattr(obj, name).all()


def _structures(queryset) -> Iterator[Structure]:
    values = Category.objects.only("value")
    services = Service.objects.select_related("commune").prefetch_related(
        Prefetch("thematiques", queryset=values, to_attr="di_thematiques"),
        Prefetch("publics", queryset=values, to_attr="di_publics"),
    )
    return (
        queryset.select_related("commune")
        .prefetch_related(
            Prefetch("networks", queryset=values, to_attr="di_networks"),
            Prefetch("services", queryset=services, to_attr="di_services"),
        )
        .order_by("search_name", "pk")
        .iterator(chunk_size=CHUNK)
    )


def _data_inclusion_items(queryset, counts: ExportCounts) -> Iterator[tuple[str, dict]]:
    """``("structure", record)`` and ``("service", record)`` pairs, one structure at a time,
    counted in ``counts`` as they are produced."""
    for structure in _structures(queryset):
        record = structure_record(structure)
        if record is None:
            counts.skipped.append(f"structure « {structure.name} » : nom trop court")
            continue
        counts.structures += 1
        yield "structure", record
        for service in _related(structure, "services"):
            item = service_record(service, structure)
            if item is None:
                counts.skipped.append(
                    f"service « {service.name} » : nom ou description trop courts"
                )
                continue
            counts.services += 1
            yield "service", item


def data_inclusion_records(queryset, counts: ExportCounts) -> tuple[list[dict], list[dict]]:
    """Every structure and service of ``queryset`` in data·inclusion form."""
    structures, services = [], []
    for kind, record in _data_inclusion_items(queryset, counts):
        (structures if kind == "structure" else services).append(record)
    return structures, services


class _JsonArrayWriter:
    """Writes a JSON array one element at a time, byte for byte what ``json.dumps(list,
    ensure_ascii=False)`` would write for the whole list."""

    def __init__(self, stream):
        self.stream = stream
        self.first = True
        stream.write(b"[")

    def write(self, record: dict) -> None:
        text = json.dumps(record, ensure_ascii=False)
        self.stream.write((text if self.first else f", {text}").encode())
        self.first = False

    def close(self) -> None:
        self.stream.write(b"]")


def di_json_zip(queryset, counts: ExportCounts) -> bytes:
    """The ZIP of ``structures.json`` and ``services.json``, written record by record: the
    structures straight into their ZIP member, the services (read along with their structure)
    into a temporary file that spills to disk past a few megabytes, then copied into theirs."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE) as spool,
    ):
        services = _JsonArrayWriter(spool)
        with archive.open("structures.json", "w") as member:
            structures = _JsonArrayWriter(member)
            for kind, record in _data_inclusion_items(queryset, counts):
                (structures if kind == "structure" else services).write(record)
            structures.close()
        services.close()
        spool.seek(0)
        with archive.open("services.json", "w") as member:
            shutil.copyfileobj(spool, member)
    return buffer.getvalue()


def _csv_value(value):
    # Lists become « a, b » and numbers keep their type (written with a decimal comma, never
    # neutralised), as the shared writer does for every CSV of Tablée.
    return value


def di_csv_zip(queryset, counts: ExportCounts) -> bytes:
    structures, services = data_inclusion_records(queryset, counts)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, kind, records in (
            ("structures.csv", "structure", structures),
            ("services.csv", "service", services),
        ):
            columns = [Column(key, key) for key in schema_for(kind)["properties"]]
            rows = ({k: _csv_value(v) for k, v in record.items()} for record in records)
            archive.writestr(name, b"".join(write_csv(rows, columns, stream=False)))
    return buffer.getvalue()


XLSX_COLUMNS = [
    Column("name", "Nom", 40),
    Column("sector", "Secteur", 18),
    Column("finess", "Catégorie FINESS", 30),
    Column("networks", "Réseaux porteurs", 30),
    Column("siret", "SIRET", 16),
    Column("address", "Adresse", 35),
    Column("postal_code", "Code postal"),
    Column("commune", "Commune", 25),
    Column("code_insee", "Code INSEE"),
    Column("phone", "Téléphone", 16),
    Column("email", "E-mail", 28),
    Column("website", "Site web", 30),
    Column("opening_hours", "Horaires (OpenStreetMap)", 30),
    Column("services", "Services"),
    Column("updated_on", "Mise à jour des informations", 16),
    Column("approximate", "Position approximative"),
    Column("source", "Source"),
    Column("source_id", "Identifiant dans la source", 30),
]


def xlsx_rows(queryset, counts: ExportCounts) -> Iterator[dict]:
    sectors = dict(Sector.choices)
    rows = (
        queryset.select_related("commune", "finess_category")
        .prefetch_related(Prefetch("networks", queryset=Category.objects.only("label")))
        .annotate(service_count=Count("services"))
        .order_by("search_name", "pk")
        .iterator(chunk_size=CHUNK)
    )
    for structure in rows:
        counts.structures += 1
        counts.services += structure.service_count
        yield {
            "name": structure.name,
            "sector": sectors.get(structure.sector, structure.sector),
            "finess": structure.finess_category.label if structure.finess_category_id else "",
            "networks": sorted(c.label for c in structure.networks.all()),
            "siret": structure.siret,
            "address": " ".join(p for p in [structure.address, structure.address_complement] if p),
            "postal_code": structure.postal_code,
            "commune": structure.commune.name,
            "code_insee": structure.commune_id,
            "phone": structure.phone,
            "email": structure.email,
            "website": structure.website,
            "opening_hours": structure.opening_hours,
            "services": structure.service_count,
            "updated_on": structure.data_updated_on,
            "approximate": structure.location_is_approximate,
            "source": structure.source,
            "source_id": structure.source_id,
        }


def export_directory(queryset, fmt: str) -> tuple[bytes, str, str, ExportCounts]:
    """The export file: (content, file name, content type, counts)."""
    from django.utils import timezone

    counts = ExportCounts()
    stamp = timezone.localdate().isoformat()
    if fmt == "di-json":
        return (
            di_json_zip(queryset, counts),
            f"annuaire-data-inclusion-json-{stamp}.zip",
            "application/zip",
            counts,
        )
    if fmt == "di-csv":
        return (
            di_csv_zip(queryset, counts),
            f"annuaire-data-inclusion-csv-{stamp}.zip",
            "application/zip",
            counts,
        )
    if fmt == "xlsx":
        content = write_xlsx(xlsx_rows(queryset, counts), XLSX_COLUMNS, sheet_title="Annuaire")
        return (
            content,
            f"annuaire-{stamp}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            counts,
        )
    raise ValueError(f"Format d'export inconnu : {fmt}")
