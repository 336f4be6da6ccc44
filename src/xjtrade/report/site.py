"""Finishing the rendered site: what the renderer does not write.

The reader stylesheet (linked from every page), scroll boxes and prose columns in the tables
(`html_tables.py`), the tables' CSV files (the run's, and those of the methods and about pages),
the data package (`downloads.py`), the figures table (figures.html, from the run's figure index)
and the interactive headline chart's script (`interactive.py`, from the run's chart data).
Everything comes from the run folder and the build's manifest; nothing is computed here.
"""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path

import pandas as pd

from xjtrade.report import bulletin, downloads, interactive, pages, wording
from xjtrade.report.html_tables import style_tables
from xjtrade.report.results import Results
from xjtrade.report.templating import html
from xjtrade.textsafe import write_csv

READER_CSS = Path(__file__).resolve().parent / "reader.css"


def _value_text(value, unit, qualifier=None) -> str:
    """'about 20 USD bn': the value with the word the release printed before it (an exact figure has none)."""
    if pd.isna(value):
        return ""
    word = wording.qualifier_word(qualifier)
    # four significant digits, never an exponent: China's 30,505 bn yuan showed as "3.05e+04"
    number = f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.4g}"
    return f"{word + ' ' if word else ''}{number} {unit}"


def _growth_text(yoy, qualifier=None) -> str:
    """'about +100.0%': the growth rate with the word the release printed before it (a rate printed as
    "doubled" is about 100 %), as values carry theirs."""
    if pd.isna(yoy):
        return ""
    word = wording.qualifier_word(qualifier)
    return f"{word + ' ' if word else ''}{yoy:+.1f}%"


def figures_page_html(index: pd.DataFrame, sources: pd.DataFrame, title: str) -> str:
    """figures.html from the run's figure index (:func:`xjtrade.report.catalogue.figure_index`)."""
    rows = [{**r, "value_text": _value_text(r["value"], r["unit"], r.get("qualifier")), "growth_text": _growth_text(r["yoy_pct"], r.get("yoy_qualifier")),
             "input_ids": [i for i in str(r["inputs"] or "").split(";") if i],
             "source_ids": [s for s in str(r["sources"] or "").split(";") if s],
             "description": "" if pd.isna(r["description"]) else r["description"]}
            for r in index.to_dict("records")]
    by_id = {r["source_id"]: {k: None if wording.is_missing(v) else v for k, v in r.items()}   # no "nan" date
             for r in sources.to_dict("records")}
    return html("figures.html.j2", rows=rows, sources=by_id, title=title, page_size=FIGURES_PAGE_SIZE)


FIGURES_PAGE_SIZE = 50    # figures on one page of the figures table (with JS; without, all are shown)


# the figures page's table as CSV (tables/figures_table.csv): its columns under the page's headings
# (key columns first, as on the page)
FIGURES_TABLE = {"figure_id": "figure", "period_label": "period", "qualifier": "qualifier", "value": "value",
                 "unit": "unit", "yoy_qualifier": "growth qualifier",
                 "yoy_pct": "growth (%)", "entity": "entity", "flow": "flow", "partner": "partner",
                 "indicator": "indicator", "origin": "origin", "method": "method", "inputs": "inputs",
                 "used": "used", "sources": "sources (primary first)", "description": "note"}


def figures_table_frame(index: pd.DataFrame) -> pd.DataFrame:
    """The figures page's table for download: the figure index's columns the page shows, named as there."""
    cols = [c for c in FIGURES_TABLE if c in index.columns]
    return index[cols].rename(columns=FIGURES_TABLE)


def editions_for_csv(eds: list[dict]) -> list[dict]:
    return [{"edition": e["name"], "title": e["title"], "changes": e["changes"], "as_of": e["as_of"] or "",
             "build_date": e["build_date"] or ""} for e in eds]


def write_tables(site: Path, run_dir: Path, results: Results, manifest: dict, editions: list[dict]) -> None:
    """site/tables/: the run's tables, and those of the methods, about and front pages."""
    tables = Path(site) / "tables"
    if (Path(run_dir) / "tables").exists():
        shutil.copytree(Path(run_dir) / "tables", tables, dirs_exist_ok=True)
    tables.mkdir(exist_ok=True)
    write_csv(pages.tolerance_frame(results), tables / "tolerances.csv")
    write_csv(pages.model_frame(results), tables / "models.csv")
    write_csv(pages.rule_scores_frame(results), tables / "rule_scores.csv")
    for name, df in pages.about_tables(manifest).items():
        write_csv(df, tables / f"{name}.csv")
    write_csv(pd.DataFrame(editions_for_csv(editions), columns=["edition", "title", "changes", "as_of", "build_date"]),
              tables / "editions.csv")


def style_pages(site: Path) -> None:
    """The reader stylesheet linked from every rendered page, and the tables boxed and marked."""
    shutil.copyfile(READER_CSS, site / "reader.css")
    for page in site.rglob("*.html"):
        if page.name == "figures.html":
            continue
        text = page.read_text(encoding="utf-8")
        css = posixpath.relpath("reader.css", posixpath.dirname(page.relative_to(site).as_posix()) or ".")
        text = text.replace("</head>", f'<link rel="stylesheet" href="{css}">\n</head>', 1)
        page.write_text(style_tables(text), encoding="utf-8")


def add_reader_notes(site: Path, notes: str) -> None:
    """The reader notes (licence, citation, contact: `bulletin.footer_html`) in the footer of every page."""
    for page in Path(site).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        page.write_text(bulletin.add_footer(text, notes), encoding="utf-8")


def finish_site(site: Path, run_dir: Path, results: Results, manifest: dict, editions: list[dict],
                config: dict | None = None) -> None:
    """Write what the renderer does not (see the module docstring) into the rendered `site`; `config` is
    the staged _quarto.yml (the contact and the site's address of the reader notes)."""
    site, run_dir = Path(site), Path(run_dir)
    p = results.parameters
    style_pages(site)
    write_tables(site, run_dir, results, manifest, editions)
    downloads.write_package(site / "data", run_dir / "data", p.title, p.as_of.isoformat() if p.as_of else None,
                            manifest.get("build_date"))
    index = pd.read_parquet(run_dir / "results" / "figure_index.parquet")
    sources = pd.read_parquet(run_dir / "data" / "sources.parquet")
    (site / "figures.html").write_text(figures_page_html(index, sources, p.title), encoding="utf-8")
    write_csv(figures_table_frame(index), site / "tables" / "figures_table.csv")
    write_csv(bulletin.revisions_frame(results), site / "tables" / "revisions.csv")       # the about page's tables
    write_csv(bulletin.changes_frame(results), site / "tables" / "edition_changes.csv")
    f = results.forecast
    if f is not None and f.interactive:
        interactive.write_assets(site, run_dir / f.interactive)
    add_reader_notes(site, bulletin.footer_html(results, manifest, config))
