"""The data package published with the site: the processed figures, sources, data-quality issues and
exchange rates as CSV (a Frictionless data package, `datapackage.json`, with a schema, units,
descriptions and licence) plus Parquet copies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from xjtrade.textsafe import write_csv

LICENSE = {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
           "title": "Creative Commons Attribution 4.0"}
DATA_NOTE = ("Figures are quoted from the cited public sources, which keep their own rights; the compilation, "
             "derivations and checks are published under CC-BY-4.0.")

# field -> (type, description, unit or None)
FIELDS: dict[str, dict[str, tuple[str, str, str | None]]] = {
    "figures": {
        "figure_id": ("string", "Id of the figure: R#### for a reported figure (row of data/raw/reports.csv), "
                                "D<method>-<hash> for a derived one", None),
        "origin": ("string", "reported (printed in a source) or derived (computed from other figures)", None),
        "method": ("string", "How a derived figure was computed; 'reported' otherwise", None),
        "steps": ("integer", "Derivation steps from the reported figures (0 for reported)", None),
        "inputs": ("string", "Figure ids the figure was computed from, separated by ';'", None),
        "source_ids": ("string", "Sources behind the figure (see sources.csv), separated by ';'", None),
        "published": ("string", "Publication date of the (latest) source, YYYY-MM-DD", None),
        "entity": ("string", "Region, port or zone the figure describes", None),
        "flow": ("string", "total, exports or imports", None),
        "partner": ("string", "Trade partner (World for all partners)", None),
        "product": ("string", "Product group (all for every product)", None),
        "segment": ("string", "Segment of trade, such as a kind of enterprise (all for every segment)", None),
        "indicator": ("string", "What is measured (trade value, share of world total, ...)", None),
        "measure": ("string", "money for values in a currency, else the unit of the indicator", None),
        "period_start": ("string", "First month covered, YYYY-MM", None),
        "period_end": ("string", "Last month covered, YYYY-MM", None),
        "period_kind": ("string", "year, half, quarter, ytd (year to date), month or other", None),
        "period_label": ("string", "The period as written in the report", None),
        "year": ("integer", "Year of the last month covered", None),
        "months": ("integer", "Number of months covered", "months"),
        "value": ("number", "Value as printed, in `unit`", None),
        "unit": ("string", "Unit of `value` as printed", None),
        "qualifier": ("string", "exact, about, nearly, over or under, as printed", None),
        "yoy_pct": ("number", "Growth on the same period a year earlier, as reported", "percent"),
        "currency": ("string", "Currency of `value` (CNY or USD), empty for non-money figures", None),
        "value_cny_bn": ("number", "Value in billion yuan (converted at the annual average rate if printed "
                                   "in dollars)", "billion CNY"),
        "value_usd_bn": ("number", "Value in billion US dollars (converted at the annual average rate if "
                                   "printed in yuan)", "billion USD"),
        "check": ("string", "Curators' check of the row against its source (verified, seed, doubt, ...)", None),
        "usable": ("boolean", "False for rows set aside as mismatched or implausible (never selected)", None),
        "description": ("string", "Curators' note on the figure", None),
        "source_rank": ("integer", "0 primary source with an address, 1 mirror/repost/translation, "
                                   "2 no address (seed article)", None),
        "selected": ("boolean", "True for the one figure the selection rule uses for its quantity", None),
    },
    "sources": {
        "source_id": ("string", "Id of the source", None),
        "title": ("string", "Headline; in square brackets when described by the curators", None),
        "publisher": ("string", "Publisher (mirrors and reposts say so)", None),
        "published": ("string", "Publication date, YYYY-MM-DD", None),
        "url": ("string", "Web address, or seed:<file> for an article without one", None),
        "language": ("string", "Language code of the page", None),
        "date_inferred": ("string", "yes when the date was inferred rather than printed", None),
        "figures": ("integer", "Reported figures taken from the source", None),
    },
    "quality": {
        "issue_id": ("string", "Id of the issue", None),
        "kind": ("string", "What kind of disagreement", None),
        "severity": ("string", "conflict, warning or note", None),
        "selected_id": ("string", "The figure used (or the row the issue is about)", None),
        "other_id": ("string", "The figure compared with it", None),
        "difference_pct": ("number", "Difference of the other figure from the used one", "percent"),
        "note": ("string", "Explanation", None),
    },
}
TITLES = {"figures": "Every figure, reported and derived, with its lineage and selection",
          "sources": "Sources of the reported figures", "quality": "Data-quality issues found by reconciliation"}
TYPES = {"string": "string", "integer": "Int64", "number": "float64", "boolean": "boolean"}


def _schema(name: str, df: pd.DataFrame) -> dict:
    known = FIELDS[name]
    fields = []
    for col in df.columns:
        typ, desc, unit = known.get(col, ("string", col.replace("_", " "), None))
        f = {"name": col, "type": typ, "description": desc}
        if unit:
            f["unit"] = unit
        fields.append(f)
    return {"fields": fields, "missingValues": [""]}


def _typed(name: str, df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        typ = FIELDS[name].get(col, ("string",))[0]
        if typ == "string":
            out[col] = out[col].astype("string")
        elif typ == "boolean":
            out[col] = out[col].astype("boolean")
        elif typ == "integer":
            out[col] = pd.to_numeric(out[col]).astype("Int64")
        else:
            out[col] = pd.to_numeric(out[col])
    return out


def write_package(folder: Path, figures: pd.DataFrame, sources: pd.DataFrame, issues: pd.DataFrame,
                  title: str, as_of: str | None, build_date: str | None) -> Path:
    """Write <folder>/{figures,sources,quality}.{csv,parquet} and datapackage.json; returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {"figures": figures.drop(columns=[c for c in ("start", "end") if c in figures.columns]),
              "sources": sources, "quality": issues[[c for c in FIELDS["quality"] if c in issues.columns]
                                                     + [c for c in issues.columns if c not in FIELDS["quality"]]]}
    resources = []
    for name, df in tables.items():
        df = _typed(name, df)
        write_csv(df, folder / f"{name}.csv")
        df.to_parquet(folder / f"{name}.parquet", index=False)
        resources.append({"name": name, "path": f"{name}.csv", "title": TITLES[name], "format": "csv",
                          "mediatype": "text/csv", "encoding": "utf-8", "profile": "tabular-data-resource",
                          "schema": _schema(name, df), "licenses": [LICENSE]})
    package = {"name": "xinjiang-trade-monitor", "title": title, "profile": "tabular-data-package",
               "description": "Sourced figures on the foreign trade of the Xinjiang Uygur Autonomous Region, "
                              "with derived figures, their lineage and the data-quality checks. "
                              "Parquet copies of each table sit beside the CSV files. " + DATA_NOTE,
               "licenses": [LICENSE], "version": build_date or "unversioned",
               "keywords": ["Xinjiang", "foreign trade", "customs"], "resources": resources}
    if as_of:
        package["description"] += f" Data as known on {as_of}."
    path = folder / "datapackage.json"
    path.write_text(json.dumps(package, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
