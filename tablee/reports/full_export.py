"""The full export of a programme's data: everything the association put in Tablée, so that it can
leave with it.

One ZIP holds, for each kind of record, a CSV file (``;``, UTF-8 with BOM, formula-safe, through
tablee.core.exports) and a JSON file, plus a README.txt that describes every column. Columns are
the models' own fields (``_id`` for a link to another record, a list of ids for a many-to-many),
described by their French labels. The secret addresses of the public links (registration,
check-in, questionnaires) are left out: a file lying around must not open them. Attached files
(signed sheets, documents) are listed by name, not copied.

The ZIP is built in a temporary file (in memory up to 16 Mo), table by table, and streamed from
there.
"""

import json
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import models

from tablee.activities.models import (
    ActivityFormat,
    Attendance,
    Evaluation,
    Headcount,
    Registration,
    Session,
)
from tablee.core.exports import Column, write_csv
from tablee.diagnostic.models import (
    Meeting,
    Need,
    Pathway,
    PathwayStep,
    Survey,
    SurveyResponse,
    Testimony,
)
from tablee.directory.models import Structure
from tablee.network.models import Link
from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionComment,
    ActionIndicator,
    ActionPlan,
    Axis,
    ConsultationSession,
    IndicatorMeasure,
    NamedParticipant,
    ParticipantCount,
    ProgressUpdate,
    Proposal,
    ProposalVote,
)
from tablee.reports.models import Report
from tablee.territories.models import Programme, ProgrammeTerritory, SessionTarget

# Secret addresses of public pages: never exported.
SECRET_FIELDS = {
    "token",
    "proposal_token",
    "registration_token",
    "checkin_token",
    "evaluation_token",
    "cancel_token",
    "submission_token",
}
# Derived copies of other fields, for searching.
DERIVED_FIELDS = {"search_name", "open_days"}
CHUNK = 2000
SPOOL_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ExportTable:
    name: str  # file name without extension
    description: str
    model: type
    lookup: str  # the path from the model to its Programme


TABLES = [
    ExportTable("programme", "Le programme", Programme, "pk"),
    ExportTable(
        "objectifs", "Objectifs de séances par public ou par année", SessionTarget, "programme"
    ),
    ExportTable(
        "territoires", "Territoires du programme (EPCI et PAT)", ProgrammeTerritory, "programme"
    ),
    ExportTable("structures", "Structures des territoires du programme", Structure, ""),
    ExportTable(
        "rencontres", "Rencontres du diagnostic", Meeting, "programme_territory__programme"
    ),
    ExportTable("besoins", "Besoins identifiés", Need, "programme_territory__programme"),
    ExportTable("parcours", "Parcours types", Pathway, "programme_territory__programme"),
    ExportTable(
        "etapes_parcours",
        "Étapes des parcours types",
        PathwayStep,
        "pathway__programme_territory__programme",
    ),
    ExportTable(
        "paroles",
        "Paroles de personnes concernées (anonymes)",
        Testimony,
        "programme_territory__programme",
    ),
    ExportTable(
        "questionnaires",
        "Questionnaires de sécurité alimentaire (FIES)",
        Survey,
        "programme_territory__programme",
    ),
    ExportTable(
        "reponses_questionnaires",
        "Réponses anonymes aux questionnaires FIES",
        SurveyResponse,
        "survey__programme_territory__programme",
    ),
    ExportTable(
        "concertations",
        "Séances de concertation et comités de pilotage",
        ConsultationSession,
        "programme_territory__programme",
    ),
    ExportTable(
        "participations_concertation",
        "Participant·es aux concertations par groupe",
        ParticipantCount,
        "session__programme_territory__programme",
    ),
    ExportTable(
        "professionnels_concertation",
        "Professionnel·les présent·es aux concertations",
        NamedParticipant,
        "session__programme_territory__programme",
    ),
    ExportTable("propositions", "Propositions", Proposal, "programme_territory__programme"),
    ExportTable(
        "votes_propositions",
        "Voix reçues par les propositions",
        ProposalVote,
        "proposal__programme_territory__programme",
    ),
    ExportTable("plans", "Plans d'action", ActionPlan, "programme_territory__programme"),
    ExportTable("axes", "Axes des plans d'action", Axis, "plan__programme_territory__programme"),
    ExportTable("actions", "Actions des plans", Action, "plan__programme_territory__programme"),
    ExportTable(
        "budget",
        "Lignes de budget des actions",
        ActionBudgetLine,
        "action__plan__programme_territory__programme",
    ),
    ExportTable(
        "indicateurs_actions",
        "Indicateurs des actions",
        ActionIndicator,
        "action__plan__programme_territory__programme",
    ),
    ExportTable(
        "mesures_indicateurs",
        "Mesures des indicateurs des actions",
        IndicatorMeasure,
        "indicator__action__plan__programme_territory__programme",
    ),
    ExportTable(
        "suivis_actions",
        "Notes de suivi des actions",
        ProgressUpdate,
        "action__plan__programme_territory__programme",
    ),
    ExportTable(
        "commentaires_actions",
        "Commentaires sur les actions",
        ActionComment,
        "action__plan__programme_territory__programme",
    ),
    ExportTable(
        "formats", "Catalogue des formats d'ateliers et de formations", ActivityFormat, "programme"
    ),
    ExportTable("seances", "Ateliers et formations", Session, "programme_territory__programme"),
    ExportTable(
        "inscriptions",
        "Inscriptions nominatives aux séances",
        Registration,
        "session__programme_territory__programme",
    ),
    ExportTable(
        "presences",
        "Présences nominatives aux séances",
        Attendance,
        "session__programme_territory__programme",
    ),
    ExportTable(
        "comptages",
        "Comptages anonymes des séances",
        Headcount,
        "session__programme_territory__programme",
    ),
    ExportTable(
        "evaluations",
        "Évaluations anonymes des séances",
        Evaluation,
        "session__programme_territory__programme",
    ),
    ExportTable("liens", "Liens entre structures", Link, "programme_territory__programme"),
    ExportTable("rapports", "Rapports (textes des sections en HTML)", Report, "programme"),
]


def _fields(model) -> list:
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in SECRET_FIELDS | DERIVED_FIELDS
    ]


def _many_to_many(model) -> list:
    return list(model._meta.many_to_many)


def table_columns(table: ExportTable) -> list[tuple[str, str]]:
    """(column, description) of one exported table."""
    columns = []
    for field in _fields(table.model):
        description = str(field.verbose_name)
        if field.is_relation:
            description += f" (identifiant : {field.related_model._meta.verbose_name})"
        if field.choices:
            codes = ", ".join(f"{value} = {text}" for value, text in field.flatchoices if value)
            description += f" ; codes : {codes}"
        columns.append((field.attname, description))
    for field in _many_to_many(table.model):
        columns.append(
            (
                field.name,
                f"{field.verbose_name} (liste d'identifiants : "
                f"{field.related_model._meta.verbose_name})",
            )
        )
    return columns


def table_queryset(table: ExportTable, programme: Programme):
    manager = table.model._default_manager
    if table.model is Structure:
        epci = ProgrammeTerritory.objects.filter(programme=programme).values("territory_id")
        return manager.filter(commune__territory_id__in=epci)
    return manager.filter(**{table.lookup: programme.pk})


def _rows(table: ExportTable, programme: Programme):
    """The rows of one table as dicts of plain values, in chunks (one query per chunk and per
    many-to-many field of the chunk)."""
    queryset = table_queryset(table, programme).order_by("pk")
    attnames = [field.attname for field in _fields(table.model)]
    relations = _many_to_many(table.model)
    pending = []
    for row in queryset.values(*attnames).iterator(chunk_size=CHUNK):
        pending.append(row)
        if len(pending) >= CHUNK:
            yield from _with_relations(pending, relations)
            pending = []
    if pending:
        yield from _with_relations(pending, relations)


def _with_relations(rows: list[dict], relations: list) -> list[dict]:
    ids = [row["id"] for row in rows]
    for field in relations:
        through = field.remote_field.through
        source = field.m2m_field_name()
        target = field.m2m_reverse_field_name()
        linked = defaultdict(list)
        for owner, other in (
            through.objects.filter(**{f"{source}__in": ids})
            .values_list(f"{source}_id", f"{target}_id")
            .order_by(f"{source}_id", f"{target}_id")
        ):
            linked[owner].append(other)
        for row in rows:
            row[field.name] = linked.get(row["id"], [])
    return rows


def _plain(value):
    """A value as JSON has it."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def _csv_value(value):
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return json.dumps(_plain(value), ensure_ascii=False)
    if isinstance(value, list):
        return ", ".join(str(_plain(item)) for item in value)
    return value


def readme(programme: Programme, counts: dict[str, int]) -> str:
    lines = [
        f"Export complet des données du programme « {programme.name} »",
        "",
        "Chaque type d'enregistrement est livré deux fois : en CSV (séparateur « ; », UTF-8 avec "
        "BOM, dates JJ/MM/AAAA, virgule décimale, lisible par Excel et LibreOffice) et en JSON "
        "(dates ISO 8601, nombres décimaux en texte).",
        "Les colonnes en « _id » donnent l'identifiant d'un autre enregistrement ; les listes "
        "d'identifiants relient plusieurs enregistrements. Les adresses secrètes des liens publics "
        "(inscription, émargement, questionnaires) ne sont pas exportées ; les fichiers joints "
        "sont cités par leur nom, pas copiés.",
        "Les personnes en situation de précarité ne sont jamais nommées : elles n'apparaissent "
        "que dans des comptages, des réponses et des paroles anonymes. Les inscriptions et "
        "présences nominatives concernent des professionnel·les, bénévoles et élu·es ayant donné "
        "leur consentement : gardez ce fichier en lieu sûr.",
        "",
    ]
    for table in TABLES:
        lines.append(
            f"{table.name}.csv / {table.name}.json — {table.description} "
            f"({counts.get(table.name, 0)} lignes)"
        )
        for column, description in table_columns(table):
            lines.append(f"  - {column} : {description}")
        lines.append("")
    return "\n".join(lines)


def build_full_export(programme: Programme):
    """The ZIP in a temporary file (rewound), and the rows counted per table."""
    archive = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        counts = _write_archive(archive, programme)
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    return archive, counts


def _write_archive(archive, programme: Programme) -> dict[str, int]:
    counts: dict[str, int] = {}
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for table in TABLES:
            columns = [Column(name, name) for name, _ in table_columns(table)]
            rows = list(_rows(table, programme))
            counts[table.name] = len(rows)
            with zipped.open(f"{table.name}.csv", "w") as out:
                csv_rows = ({key: _csv_value(v) for key, v in row.items()} for row in rows)
                for chunk in write_csv(csv_rows, columns):
                    out.write(chunk)
            with zipped.open(f"{table.name}.json", "w") as out:
                out.write(b"[\n")
                for index, row in enumerate(rows):
                    if index:
                        out.write(b",\n")
                    out.write(json.dumps(_plain(row), ensure_ascii=False).encode())
                out.write(b"\n]\n")
        zipped.writestr("README.txt", readme(programme, counts))
    return counts
