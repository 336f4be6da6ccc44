"""The `xjtrade data check` and `xjtrade data build` commands, run with click's CliRunner
against throwaway copies of the project (XJTRADE_ROOT), never against data/processed itself."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import copy_project
from xjtrade.data import processed as dataset
from xjtrade.cli import main

ROOT = Path(__file__).resolve().parents[1]
TABLES = ["figures", "quality", "sources", "exchange_rates"]   # as declared in xjtrade.data.schema
LINEAGE = ["figure_id", "origin", "method", "steps", "inputs", "source_ids", "published"]


def invoke(root: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"XJTRADE_ROOT": str(root)})


def hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(root: Path) -> list[str]:
    """Staging or moved-aside folders next to data/processed."""
    return sorted(p.name for p in (root / "data").iterdir() if p.name.startswith(".processed."))


def reported_count(output: str) -> int:
    m = re.search(r"^reported figures : (\d+) rows from (\d+) sources \((\d+) listed\)$", output, re.M)
    assert m, output
    return int(m.group(1))


@pytest.fixture(scope="module")
def expected_summary() -> dict:
    return dataset.prepare(ROOT / "data" / "raw").summary()


@pytest.fixture(scope="module")
def built_root(tmp_path_factory) -> Path:
    """A project copy on which `data build` has run once (module-wide; copy it before changing it)."""
    root = copy_project(tmp_path_factory.mktemp("built") / "project")
    result = invoke(root, "data", "build")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def built_copy(built_root, tmp_path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(built_root, dest)
    return dest


# ---------------------------------------------------------------------------
# data check
# ---------------------------------------------------------------------------


def test_data_check_prints_the_summary(project_copy, expected_summary):
    s = expected_summary
    result = invoke(project_copy.root, "data", "check")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert (f"reported figures : {s['reported_rows']} rows from {s['sources']} sources "
            f"({s['sources_listed']} listed)") in out
    assert f"years covered    : {s['first_year']}-{s['last_year']} ({s['years_covered']} distinct years)" in out
    assert f"entities         : {s['entities']}" in out
    assert f"derived figures  : {s['derived_rows']} (" in out
    for method, n in s["derived_by_method"].items():
        assert f"{method} {n}" in out
    assert f"selected figures : {s['selected_figures']} (one per quantity)" in out
    assert (f"data quality     : {s['quality_issues']} issues: {s['conflicts']} conflicts, "
            f"{s['warnings']} warnings, {s['notes']} notes") in out
    # the real data: at least the 399 rows checked in CHECKS.md, from 2002 on, and some conflicts
    assert reported_count(out) == s["reported_rows"] >= 399
    assert s["first_year"] == 2002 and s["conflicts"] >= 1 and s["derived_rows"] > 0
    assert "as of" not in out
    # progress goes to stderr, and nothing is written
    assert "validating raw tables" in result.output and "validating raw tables" not in out
    assert not (project_copy.root / "data" / "processed").exists()


def test_data_check_as_of(project_copy, expected_summary):
    result = invoke(project_copy.root, "data", "check", "--as-of", "2022-12-31")
    assert result.exit_code == 0, result.output
    n = reported_count(result.stdout)
    # hand count: rows whose source was published (with a known date) on or before the cut-off
    with (project_copy.raw / "sources.csv").open(newline="", encoding="utf-8") as fh:
        published = {r["source_id"]: r["published"] for r in csv.DictReader(fh)}
    with (project_copy.raw / "reports.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    expected = sum(1 for r in rows if published[r["source_id"]] and published[r["source_id"]] <= "2022-12-31")
    assert n == expected < expected_summary["reported_rows"]
    assert "as of            : 2022-12-31" in result.stdout
    assert re.search(r"^years covered    : 2002-2022 ", result.stdout, re.M)


def test_data_check_rejects_a_bad_date(project_copy):
    result = invoke(project_copy.root, "data", "check", "--as-of", "2022-13-45")
    assert result.exit_code == 2
    assert "'2022-13-45' is not a date YYYY-MM-DD" in result.output
    assert "--as-of" in result.output
    assert "reported figures" not in result.output


def test_data_check_as_of_basic_iso_form(project_copy):
    # the compact ISO form would compare wrongly against YYYY-MM-DD publication dates: refused
    result = invoke(project_copy.root, "data", "check", "--as-of", "20220601")
    assert result.exit_code == 2
    assert "'20220601' is not a date YYYY-MM-DD" in result.output


def test_no_project(tmp_path):
    result = invoke(tmp_path, "data", "check")
    assert result.exit_code == 1
    assert "has no data/raw folder" in result.output


# ---------------------------------------------------------------------------
# data build
# ---------------------------------------------------------------------------


def test_data_build_writes_every_table(built_root, expected_summary):
    out = built_root / "data" / "processed"
    names = {p.name for p in out.iterdir()}
    assert names == {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")} | {"summary.json", ".xjtrade-output",
                                                                                  "raw"}
    assert {p.name for p in (out / "raw").iterdir()} == {"reports.csv", "sources.csv", "exchange_rates.csv"}
    assert leftovers(built_root) == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary == json.loads(json.dumps(expected_summary))
    for t in TABLES:
        from_csv = pd.read_csv(out / f"{t}.csv", keep_default_na=False)
        from_parquet = pd.read_parquet(out / f"{t}.parquet")
        assert list(from_csv.columns) == list(from_parquet.columns)
        assert len(from_csv) == len(from_parquet) > 0


def test_built_figures_have_lineage(built_root, expected_summary):
    out = built_root / "data" / "processed"
    figs = pd.read_csv(out / "figures.csv", dtype=str, keep_default_na=False)
    assert set(LINEAGE) <= set(figs.columns)
    assert figs["figure_id"].is_unique
    reported, derived = figs[figs["origin"] == "reported"], figs[figs["origin"] == "derived"]
    assert set(figs["origin"]) == {"reported", "derived"}
    assert len(reported) == expected_summary["reported_rows"]
    assert len(derived) == expected_summary["derived_rows"]
    assert (reported["method"] == "reported").all() and (reported["inputs"] == reported["figure_id"]).all()
    ids = set(figs["figure_id"])
    for _, d in derived.iterrows():
        assert d["method"] in {"prior year from yoy", "national rate from gap", "total from parts",
                               "part from total", "ytd difference", "partner share",
                               "previous year from ratio", "total from share"}
        assert d["inputs"] and set(d["inputs"].split(";")) <= ids, d["figure_id"]
        assert d["source_ids"]
    # the sources table counts the reported figures of each source
    src = pd.read_csv(out / "sources.csv", keep_default_na=False).set_index("source_id")
    assert src.loc["seed-002", "figures"] == (reported["source_ids"] == "seed-002").sum() == 15
    assert src["figures"].sum() == len(reported)
    # December 2023: the reported figure is selected in the CSV too
    dec = figs[(figs["period_label"] == "Dec 2023") & (figs["entity"] == "Xinjiang") & (figs["flow"] == "total")
               & (figs["partner"] == "World") & (figs["indicator"] == "trade value") & (figs["selected"] == "True")]
    assert dec["figure_id"].tolist() == ["R0340"]


def test_second_build_is_identical(built_copy):
    before = hashes(built_copy / "data" / "processed")
    result = invoke(built_copy, "data", "build")
    assert result.exit_code == 0, result.output
    assert re.search(r"^wrote .*processed in \d+\.\d s$", result.stdout, re.M)
    assert hashes(built_copy / "data" / "processed") == before
    assert leftovers(built_copy) == []


# ---------------------------------------------------------------------------
# a failing build changes nothing
# ---------------------------------------------------------------------------


def _edit_cell(root: Path, row_id: str, column: str, value: str) -> int:
    path = root / "data" / "raw" / "reports.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    line = next(i + 1 for i, r in enumerate(rows) if r[0] == row_id)
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return line


def non_numeric(root: Path) -> str:
    line = _edit_cell(root, "R0337", "value", "357,33")
    return f"reports.csv, line {line}, column value"


def truncated(root: Path) -> str:
    path = root / "data" / "raw" / "reports.csv"
    text = path.read_text(encoding="utf-8").rstrip("\n")
    last_start = text.rfind("\n") + 1
    path.write_text(text[:last_start + 40], encoding="utf-8")      # the last row cut mid-way
    line = text.count("\n") + 1
    return f"reports.csv, line {line}: has "


def unknown_source(root: Path) -> str:
    line = _edit_cell(root, "R0338", "source_id", "no-such-source")
    return f"reports.csv, line {line}, column source_id"


CORRUPTIONS = [non_numeric, truncated, unknown_source]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__)
def test_failed_build_leaves_processed_untouched(built_copy, corrupt):
    processed = built_copy / "data" / "processed"
    before = hashes(processed)
    assert len(before) == 13  # 4 tables x (csv, parquet), summary.json, the marker, raw/ with 3 tables
    corrupt(built_copy)
    result = invoke(built_copy, "data", "build")
    assert result.exit_code != 0
    assert hashes(processed) == before
    assert leftovers(built_copy) == []


@pytest.mark.parametrize("corrupt", [
    non_numeric,
    truncated,
    unknown_source,
], ids=lambda f: f.__name__)
def test_failed_build_names_file_line_and_column(built_copy, corrupt):
    where = corrupt(built_copy)
    result = invoke(built_copy, "data", "build")
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert where in result.output, result.output
    assert "problem(s) in the raw data" in result.output
    processed = built_copy / "data" / "processed"
    assert f"Nothing was written; {processed.resolve()} is unchanged." in result.output
    assert "reported figures" not in result.output


def test_failed_check_names_file_line_and_column(built_copy):
    where = unknown_source(built_copy)
    result = invoke(built_copy, "data", "check")
    assert result.exit_code == 1
    assert where in result.output
    assert "unknown source id 'no-such-source' (not in sources.csv)" in result.output


def test_interrupted_build_keeps_previous_output(built_copy, monkeypatch):
    processed = built_copy / "data" / "processed"
    before = hashes(processed)
    seen: dict[str, Path] = {}

    def write_one_then_interrupt(ds, folder):
        seen["staging"] = Path(folder)
        dataset._write_table(ds.issues, Path(folder), "quality")
        assert (Path(folder) / "quality.csv").exists()
        raise KeyboardInterrupt

    monkeypatch.setattr(dataset, "write_dataset", write_one_then_interrupt)
    result = invoke(built_copy, "data", "build")
    assert result.exit_code == 1                        # click turns Ctrl-C into 'Aborted!'
    assert "Aborted!" in result.output
    staging = seen["staging"]
    assert staging.parent == processed.parent and staging.name.startswith(".processed.tmp-")
    assert not staging.exists()
    assert leftovers(built_copy) == []
    assert hashes(processed) == before
