"""`xjtrade build`: the step cache, scenario runs side by side, parallel notebooks, the manifest.

One throwaway copy of the project goes through a sequence of builds (module-scoped, run once, in
order, whatever subset of the tests is selected):

  cold        build --jobs 2 in a fresh copy: data, every notebook and render run
  noop        build again: nothing runs, the CLI says "nothing to do"
  horizon     build -p horizon=3: only 03-forecast.ipynb and render run
  force       build --force --jobs 2: everything runs again (second parallel build in a row)
  raw_edit    a row appended to data/raw/reports.csv: data, every notebook and render run
  scenario    build --params params/asof-2022.yaml: reports/asof-2022/, reports/default/ untouched
  tamper      the PDF deleted and a page edited by hand: build renders again, naming both
  vintage     data build --as-of 2015-01-01, then build: the data step is redone with all data
  run_h5      run -p horizon=5; render (horizon 1) refuses; build re-executes 03-forecast and renders
  title       build -p title=...: only render runs, and the new title is published

Every build runs the real CLI in a subprocess, with XJTRADE_ROOT pointing at the copy.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from pathlib import Path

import pytest

from conftest import EPOCH, copy_project, tree
from conftest import run_cli as xjtrade

pytestmark = pytest.mark.slow

BUILD_TIME = dt.datetime.fromtimestamp(int(EPOCH), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
NOTEBOOKS = ["01-data.ipynb", "02-growth.ipynb", "03-forecast.ipynb"]
ALL_STEPS = ["data", *(f"notebook {n}" for n in NOTEBOOKS), "render"]






def steps(stdout: str) -> tuple[list[str], list[str]]:
    """(steps run, steps unchanged) from the CLI's summary line."""
    if stdout.startswith("nothing to do"):
        return [], ALL_STEPS
    m = re.search(r"^built '[^']+' in [\d.]+ s: ran (.*?)(?:; unchanged: (.*))?$", stdout, re.M)
    assert m, f"no summary line in:\n{stdout}"
    return m.group(1).split(", "), (m.group(2).split(", ") if m.group(2) else [])


def notebook_times(root: Path, name: str = "default") -> dict[str, tuple[float, float]]:
    """When each notebook ran (the run's step record: executed notebooks carry no times)."""
    timings = json.loads((root / ".xjtrade-cache" / f"run-{name}.json").read_text(encoding="utf-8"))["timings"]
    return {nb: (t["start"], t["end"]) for nb, t in timings.items()}


def max_overlap(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda e: (e[0], e[1]))
    now = best = 0
    for _, d in events:  # at equal times an end (-1) sorts before a start
        now += d
        best = max(best, now)
    return best


def append_copied_row(raw: Path) -> None:
    """Append a valid row: a copy of an existing one with a new row_id, credited to another
    (later) source so that it is a second report of the same figure, not a repeat."""
    path = raw / "reports.csv"
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    new = dict(rows[-2])
    assert new["source_id"] != rows[-1]["source_id"]
    new.update(row_id="R9999", source_id=rows[-1]["source_id"])
    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=list(new), lineterminator="\n").writerow(new)
    with path.open("a", newline="", encoding="utf-8") as fh:
        fh.write(buf.getvalue())


class Sequence:
    """The builds above, each run once and in order the first time a test asks for it."""

    ORDER = ["cold", "noop", "horizon", "force", "raw_edit", "scenario", "tamper", "vintage", "run_h5", "title"]

    def __init__(self, root: Path):
        self.root = root
        self.results: dict[str, dict] = {}

    def snapshot(self) -> dict:
        r = self.root
        return {"report": tree(r / "reports" / "default"), "run": tree(r / "reports" / "runs" / "default"),
                "data": tree(r / "data" / "processed")}

    def __getitem__(self, name: str) -> dict:
        for step in self.ORDER[: self.ORDER.index(name) + 1]:
            if step not in self.results:
                self.results[step] = self._do(step)
        return self.results[name]

    def _do(self, step: str) -> dict:
        pre = []
        if step == "tamper":
            report = self.root / "reports" / "default"
            next(report.glob("*.pdf")).unlink()
            page = report / "site" / "index.html"
            page.write_text(page.read_text(encoding="utf-8") + "<!-- edited by hand -->", encoding="utf-8")
        elif step == "vintage":
            pre.append(xjtrade(self.root, "data", "build", "--as-of", "2015-01-01"))
        elif step == "run_h5":
            pre.append(xjtrade(self.root, "run", "-p", "horizon=5"))
            pre.append(xjtrade(self.root, "render"))
        for p in pre[:1]:
            assert p.returncode == 0, p.stdout + p.stderr
        args = {"tamper": ["build"], "vintage": ["build"], "run_h5": ["build"],
                "title": ["build", "-p", "title=Xinjiang trade, retitled"],"cold": ["build", "--jobs", "2"], "noop": ["build"], "horizon": ["build", "-p", "horizon=3"],
                "force": ["build", "--force", "--jobs", "2"], "raw_edit": ["build"],
                "scenario": ["build", "--params", "params/asof-2022.yaml"]}[step]
        if step == "raw_edit":
            append_copied_row(self.root / "data" / "raw")
        before = self.snapshot()
        proc = xjtrade(self.root, *args)
        assert proc.returncode == 0, f"{step}: {' '.join(args)} failed\n{proc.stdout}\n{proc.stderr}"
        ran, unchanged = steps(proc.stdout)
        out = {"proc": proc, "ran": ran, "unchanged": unchanged, "before": before, "after": self.snapshot(),
               "pre": pre}
        if step in ("cold", "force"):
            out["times"] = notebook_times(self.root)
        return out


@pytest.fixture(scope="module")
def seq(tmp_path_factory, warm_cache) -> Sequence:
    return Sequence(copy_project(tmp_path_factory.mktemp("build") / "project", warm=warm_cache))


def test_cold_build_runs_every_step(seq):
    r = seq["cold"]
    assert r["ran"] == ALL_STEPS and r["unchanged"] == []
    root = seq.root
    assert (root / "reports" / "default" / "site" / "index.html").is_file()
    assert (root / "reports" / "default" / "manifest.json").is_file()
    assert sorted(p.name for p in (root / "reports" / "default").glob("*.pdf"))
    assert (root / "data" / "processed" / "figures.parquet").is_file()
    assert sorted(p.name for p in (root / "reports" / "runs" / "default" / "notebooks").iterdir()) == NOTEBOOKS
    assert not list(root.rglob(".*.tmp-*")) and not list(root.rglob(".*.old-*"))


def test_second_build_does_nothing(seq):
    r = seq["noop"]
    out = r["proc"].stdout
    assert out.startswith("nothing to do: inputs and outputs unchanged since the last build of 'default'"), out
    assert float(re.search(r"\(([\d.]+) s\)", out).group(1)) < 2.0, out
    assert "running" not in r["proc"].stderr
    assert r["after"] == r["before"]


def test_one_parameter_reruns_only_the_notebook_that_reads_it(seq):
    r = seq["horizon"]
    assert r["ran"] == ["notebook 03-forecast.ipynb", "render"], r["proc"].stdout
    assert r["unchanged"] == ["data", "notebook 01-data.ipynb", "notebook 02-growth.ipynb"]
    before, after = r["before"]["run"], r["after"]["run"]
    for kept in ("notebooks/01-data.ipynb", "notebooks/02-growth.ipynb", "results/data.json",
                 "results/growth.json", "tables/coverage.csv", "figures/annual.svg"):
        assert after[kept] == before[kept], f"{kept} should have been reused, not re-executed"
    assert after["notebooks/03-forecast.ipynb"] != before["notebooks/03-forecast.ipynb"]
    assert r["after"]["data"] == r["before"]["data"]
    root = seq.root
    results = json.loads((root / "reports" / "runs" / "default" / "results.json").read_text())
    assert results["parameters"]["horizon"] == 3
    # the data run to January 2024: horizon 3 reaches 2027
    assert [a["year"] for a in results["forecast"]["outlook"]["annual"]] == [2024, 2025, 2026, 2027]
    manifest = json.loads((root / "reports" / "default" / "manifest.json").read_text())
    assert manifest["parameters"]["horizon"] == 3


def test_force_reruns_everything(seq):
    r = seq["force"]
    assert r["ran"] == ALL_STEPS and r["unchanged"] == []
    results = json.loads((seq.root / "reports" / "runs" / "default" / "results.json").read_text())
    assert results["parameters"]["horizon"] == 1


@pytest.mark.parametrize("step", ["cold", "force"])
def test_notebooks_run_two_at_a_time(seq, step):
    """Two builds with --jobs 2 in a row: the log says 2 at a time, all three notebooks finish,
    and the notebooks' own start/end times show two (never three) running together."""
    r = seq[step]
    err = r["proc"].stderr
    assert "running 3 notebooks (2 at a time)" in err, err
    for nb in NOTEBOOKS:
        assert re.search(rf"{re.escape(nb)} done in [\d.]+ s", err), err
    assert "FAILED" not in err
    assert max_overlap(list(r["times"].values())) == 2, r["times"]


def test_raw_data_edit_reruns_data_and_every_notebook(seq):
    r = seq["raw_edit"]
    assert r["ran"] == ALL_STEPS, r["proc"].stdout
    figures = (seq.root / "data" / "processed" / "figures.csv").read_text(encoding="utf-8")
    assert "R9999" in figures
    assert r["after"]["data"]["figures.csv"] != r["before"]["data"]["figures.csv"]


def test_scenario_publishes_beside_the_default_report(seq):
    r = seq["scenario"]
    assert "render" in r["ran"] and "data" in r["unchanged"], r["proc"].stdout
    root = seq.root
    manifest = json.loads((root / "reports" / "asof-2022" / "manifest.json").read_text())
    assert manifest["as_of"] == "2022-12-31" and manifest["parameters"]["name"] == "asof-2022"
    assert (root / "reports" / "asof-2022" / "site" / "index.html").is_file()
    assert "data as of 2022-12-31" in (root / "reports" / "asof-2022" / "site" / "index.html").read_text()
    assert r["after"]["report"] == r["before"]["report"], "reports/default/ changed"
    assert r["after"]["run"] == r["before"]["run"], "reports/runs/default/ changed"
    assert r["after"]["data"] == r["before"]["data"], "data/processed changed"
    # the default report lists the editions beside it, so the next build renders it again (and only
    # renders: its data and notebooks are unchanged), then it is up to date
    again = xjtrade(root, "build")
    assert again.returncode == 0, again.stdout + again.stderr
    assert ": ran render; unchanged: data, notebook" in again.stdout, again.stdout
    index = (root / "reports" / "default" / "site" / "index.html").read_text(encoding="utf-8")
    assert "Other editions" in index and "asof-2022/site/index.html" in index
    third = xjtrade(root, "build")
    assert third.returncode == 0 and third.stdout.startswith("nothing to do"), third.stdout + third.stderr


def _about_text(path: Path) -> str:
    text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", html.unescape(text))


def test_manifest_and_about_page(seq):
    seq["cold"]
    report = seq.root / "reports" / "default"
    m = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    for key in ("inputs", "parameters", "as_of", "versions", "git_commit", "render_engine", "build_time"):
        assert key in m, key
    assert {"data/raw", "package code", "dependency versions", "_quarto.yml", "methods.qmd", "parameters",
            *(f"notebooks/{n}" for n in NOTEBOOKS)} <= set(m["inputs"])
    assert all(re.fullmatch(r"[0-9a-f]{64}", v) for v in m["inputs"].values())
    assert m["build_time"] == BUILD_TIME
    assert m["as_of"] is None and m["parameters"]["as_of"] is None
    assert m["parameters"]["horizon"] == 1 and m["parameters"]["entity"] == "Xinjiang"
    assert {"xjtrade", "pandas", "statsmodels", "papermill", "typst"} <= set(m["versions"])
    assert m["render_engine"] in ("portable", "quarto")
    assert m["git_commit"]

    about = _about_text(report / "site" / "about.html")
    assert f"build time {BUILD_TIME}" in about
    assert f"git commit {m['git_commit']}" in about
    engine = "quarto" if m["render_engine"] == "quarto" else "portable renderer (pandoc "
    assert f"site made by {engine}" in about and "PDF made by " in about
    assert m["render"]["site"]["engine"] == m["render_engine"] and m["render"]["pdf"]["version"]
    assert "data vintage (as of) all data" in about
    for name, digest in m["inputs"].items():
        assert f"{name} {digest[:16]}" in about, name
    for name, version in m["versions"].items():
        assert f"{name} {version}" in about, name
    for name in ("entity", "horizon", "start_year", "end_year"):
        assert f"{name} {m['parameters'][name]}" in about, name


def test_render_command_reproduces_the_built_report(seq):
    """`xjtrade render` on the run folder is deterministic: rendering twice gives the same report, byte
    for byte (same manifest, including the data summary).  The first render also lists the scenario
    edition built beside it since the last build (the front page names the editions of reports/)."""
    seq["scenario"]
    report = seq.root / "reports" / "default"
    first = xjtrade(seq.root, "render")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Other editions" in (report / "site" / "index.html").read_text(encoding="utf-8")
    before = tree(report)
    proc = xjtrade(seq.root, "render")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = tree(report)
    assert sorted(after) == sorted(before)
    assert [k for k in after if after[k] != before[k]] == []


def test_deleted_or_edited_outputs_are_rebuilt_and_named(seq):
    r = seq["tamper"]
    assert r["ran"] == ["render"], r["proc"].stdout
    err = r["proc"].stderr
    assert "render: outputs changed since they were published" in err, err
    assert "deleted xinjiang-trade-monitor.pdf" in err and "edited site/index.html" in err, err
    report = seq.root / "reports" / "default"
    assert (report / "xinjiang-trade-monitor.pdf").is_file()
    assert "edited by hand" not in (report / "site" / "index.html").read_text(encoding="utf-8")
    assert r["after"]["report"] == r["before"]["report"] | {
        k: v for k, v in r["after"]["report"].items() if k in ("xinjiang-trade-monitor.pdf", "site/index.html")}
    again = xjtrade(seq.root, "build")
    assert again.stdout.startswith("nothing to do"), again.stdout + again.stderr


def test_data_built_as_of_a_date_is_not_published_as_all_data(seq):
    r = seq["vintage"]
    assert r["ran"] == ["data"], r["proc"].stdout
    assert "data/processed was built as of 2015-01-01: rebuilding with all data" in r["proc"].stderr, \
        r["proc"].stderr
    summary = json.loads((seq.root / "data" / "processed" / "summary.json").read_text())
    run_summary = json.loads((seq.root / "reports" / "runs" / "default" / "data" / "summary.json").read_text())
    assert summary["as_of"] is None and summary == run_summary
    assert summary["reported_rows"] > 300
    manifest = json.loads((seq.root / "reports" / "default" / "manifest.json").read_text())
    assert manifest["as_of"] is None


def test_render_refuses_a_run_made_with_other_parameters(seq):
    r = seq["run_h5"]
    ran_h5, render = r["pre"]
    assert ran_h5.returncode == 0, ran_h5.stderr
    assert render.returncode == 1
    assert "horizon=5 in the run, 1 requested" in render.stderr, render.stderr
    assert r["ran"] == ["notebook 03-forecast.ipynb", "render"], r["proc"].stdout
    root = seq.root
    results = json.loads((root / "reports" / "runs" / "default" / "results.json").read_text())
    manifest = json.loads((root / "reports" / "default" / "manifest.json").read_text())
    assert manifest["parameters"]["horizon"] == results["parameters"]["horizon"] == 1
    assert [a["year"] for a in results["forecast"]["outlook"]["annual"]] == [2024, 2025]
    again = xjtrade(root, "render")
    assert again.returncode == 0, again.stderr


def test_a_new_title_is_published(seq):
    r = seq["title"]
    assert r["ran"] == ["render"], r["proc"].stdout
    report = seq.root / "reports" / "default"
    assert "Xinjiang trade, retitled" in (report / "site" / "index.html").read_text(encoding="utf-8")
    assert json.loads((report / "manifest.json").read_text())["parameters"]["title"] == "Xinjiang trade, retitled"


def test_render_restores_a_report_moved_aside_by_a_killed_swap(seq):
    """A build killed between the two renames of the swap leaves reports/default missing and the
    previous report in .default.old-*: the next command puts it back before anything else."""
    seq["title"]
    reports = seq.root / "reports"
    before = tree(reports / "default")
    (reports / "default").rename(reports / ".default.old-0badf00d")
    proc = xjtrade(seq.root, "build", "-p", "title=Xinjiang trade, retitled")
    assert proc.returncode == 0, proc.stderr
    assert "restored" in proc.stderr and proc.stdout.startswith("nothing to do"), proc.stdout + proc.stderr
    assert tree(reports / "default") == before
    assert not list(reports.glob(".default.*"))
