"""The data package published with the site: the run's processed tables (figures, data-quality issues,
sources, exchange rates) as CSV with a Frictionless descriptor (`datapackage.json`: each table's schema,
units, descriptions and licence) plus Parquet copies.

The tables and their schemas come from the one declaration of the processed tables
(:mod:`xjtrade.data.schema`); the descriptor is written with frictionless and the package is
validated with it (every row against its schema) before the site is swapped in: an invalid package
fails the render step and the previous report stays.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xjtrade.data import schema
from xjtrade.textsafe import write_csv

LICENSE = {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
           "title": "Creative Commons Attribution 4.0"}
DATA_NOTE = ("Figures are quoted from the cited public sources, which keep their own rights; the compilation, "
             "derivations and checks are published under CC-BY-4.0.")
DESCRIPTION = ("Sourced figures on the foreign trade of the Xinjiang Uygur Autonomous Region, with derived "
               "figures, their lineage and the data-quality checks. Parquet copies of each table sit beside the "
               "CSV files. ")


class DataPackageError(ValueError):
    """The written data package does not validate (the message lists frictionless's errors)."""


def write_package(folder: Path, data_dir: Path, title: str, as_of: str | None, build_date: str | None) -> Path:
    """Write <folder>/<table>.{csv,parquet} for every processed table of the run (`data_dir`) and
    datapackage.json, validate the package with frictionless, and return the descriptor's path."""
    from frictionless import Package, Resource, Schema
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    resources = []
    for name, table in schema.TABLES.items():
        df = schema.typed(table, pd.read_parquet(Path(data_dir) / f"{name}.parquet"))
        write_csv(df, folder / f"{name}.csv")
        df.to_parquet(folder / f"{name}.parquet", index=False)
        resources.append(Resource(name=name, path=f"{name}.csv", title=table.title, description=table.description,
                                  format="csv", mediatype="text/csv", encoding="utf-8", licenses=[LICENSE],
                                  schema=Schema.from_descriptor(schema.frictionless_schema(table))))
    description = DESCRIPTION + DATA_NOTE + (f" Data as known on {as_of}." if as_of else "")
    package = Package(name="xinjiang-trade-monitor", title=title, description=description, licenses=[LICENSE],
                      version=build_date or "unversioned", keywords=["Xinjiang", "foreign trade", "customs"],
                      resources=resources, basepath=str(folder))
    path = folder / "datapackage.json"
    package.to_json(str(path))
    validate(path)
    return path


def validate(path: Path) -> None:
    """Validate a written package (descriptor and every row of every table) with frictionless."""
    from frictionless import Package
    report = Package(str(path)).validate()
    if not report.valid:
        errors = report.flatten(["type", "message"])[:10]
        raise DataPackageError(f"{path}: the data package does not validate:\n"
                               + "\n".join(f"  - {kind}: {msg}" for kind, msg in errors))
