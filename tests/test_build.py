"""`xjtrade build`: the step cache, scenario runs side by side, parallel notebooks, the manifest.

One throwaway copy of the project goes through a sequence of builds (module-scoped, run once, in
order, whatever subset of the tests is selected):

  cold        build --jobs 2 in a fresh copy: data, every notebook and render run
  noop        build again: nothing runs, the CLI says "nothing to do" (and imports nothing heavy)
  horizon     every number of the cached evaluation frame multiplied by 10 by hand, then
              build -p horizon=3: only 03-forecast.ipynb and render run; the frame fails its check,
              is named in the log and recomputed; the published scores are the true ones
  force       a wrong frame and a wrong vintage stored with valid hashes (stale entries), then
              build --force --jobs 2: everything runs again (second parallel build in a row) and the
              evaluation and its vintages are recomputed, not read
  raw_edit    a row appended to data/raw/reports.csv: data, every notebook and render run
  scenario    build --params params/asof-2022.yaml: reports/asof-2022/, reports/default/ untouched
  tamper      the PDF deleted and a page edited by hand: build renders again, naming both
  vintage     data build --as-of 2015-01-01, then build: the data step is redone with all data
  run_h5      run -p horizon=5; render (horizon 1) refuses; build re-executes 03-forecast and renders
  title       build -p title=...: only render runs, and the new title is published
  code_*      builds with a copy of the package (PYTHONPATH): the identical copy changes nothing; then a
              comment in report/downloads.py, in the site CSS (report/reader.css) and in
              report/interactive.py: each time only the render step runs (the steps that import it)

Every build runs the real CLI in a subprocess, with XJTRADE_ROOT pointing at the copy.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from xjtrade.cache import Store

from browser import chromium_available  # noqa: F401
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
    from xjtrade.cache import Store
    timings = Store(root / ".xjtrade-cache").get_json("records", f"run-{name}")["timings"]
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

    ORDER = ["cold", "noop", "horizon", "force", "raw_edit", "scenario", "tamper", "vintage", "run_h5", "title",
             "code_copy", "code_downloads", "code_css", "code_interactive"]
    CODE = {"code_copy": None, "code_downloads": "report/downloads.py", "code_css": "report/reader.css",
            "code_interactive": "report/interactive.py"}

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
        if step == "horizon":    # every number of the cached evaluation frame times 10, by hand
            entry = one_entry(self.root, "evaluation")
            head, _, payload = entry.read_bytes().partition(b"\n")
            entry.write_bytes(head + b"\n" + frame_times_ten(payload))
        elif step == "force":    # stale entries: wrong numbers under valid hashes
            store = Store(self.root / ".xjtrade-cache")
            for kind, edit in (("evaluation", frame_times_ten), ("vintages", vintage_times_ten)):
                entry = one_entry(self.root, kind)
                payload = entry.read_bytes().partition(b"\n")[2]
                store.put(kind, entry.stem, edit(payload))
        elif step in self.CODE:   # a copy of the package, imported first (PYTHONPATH), one file changed
            package = self.root.parent / "package" / "xjtrade"
            if not package.exists():
                from xjtrade import keys
                shutil.copytree(keys.PKG, package, ignore=shutil.ignore_patterns("__pycache__"))
            if self.CODE[step]:
                path = package / self.CODE[step]
                comment = "\n/* changed */\n" if path.suffix == ".css" else "\n# changed\n"
                path.write_text(path.read_text(encoding="utf-8") + comment, encoding="utf-8")
        elif step == "tamper":
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
                "scenario": ["build", "--params", "params/asof-2022.yaml"],
                **{code: ["build", "-p", "title=Xinjiang trade, retitled"] for code in self.CODE}}[step]
        if step == "raw_edit":
            append_copied_row(self.root / "data" / "raw")
        before = self.snapshot()
        if step == "noop":
            proc = noop_build(self.root)
        elif step in self.CODE:
            proc = xjtrade(self.root, *args, pythonpath=self.root.parent / "package")
        else:   # --force recomputes the evaluation (about 30 s idle; much more on a loaded machine)
            proc = xjtrade(self.root, *args, timeout=2400 if step == "force" else 900)
        assert proc.returncode == 0, f"{step}: {' '.join(args)} failed\n{proc.stdout}\n{proc.stderr}"
        ran, unchanged = steps(proc.stdout)
        out = {"proc": proc, "ran": ran, "unchanged": unchanged, "before": before, "after": self.snapshot(),
               "pre": pre}
        if step in ("cold", "force"):
            out["times"] = notebook_times(self.root)
        if step in ("cold", "horizon", "force"):
            out["scores"] = published_scores(self.root)
            out["frame"] = Store(self.root / ".xjtrade-cache").get_frame("evaluation", one_entry(self.root, "evaluation").stem)
        return out


HEAVY = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "pyarrow", "pydantic", "pandera",
         "papermill", "nbformat", "nbclient", "plotly", "dask")


def noop_build(root: Path) -> subprocess.CompletedProcess:
    """`xjtrade build` run in a process that says, at exit, which heavy packages it imported (stderr's
    last line: `imported: ...`)."""
    code = ("import atexit, sys\n"
            f"HEAVY = {HEAVY!r}\n"
            "atexit.register(lambda: print('imported: ' + ','.join(m for m in HEAVY if m in sys.modules),"
            " file=sys.stderr))\n"
            "sys.argv = ['xjtrade', 'build']\n"
            "from xjtrade.cli import main\n"
            "main()\n")
    env = {**os.environ, "XJTRADE_ROOT": str(root), "SOURCE_DATE_EPOCH": EPOCH}
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def one_entry(root: Path, kind: str) -> Path:
    entries = sorted((root / ".xjtrade-cache" / kind).glob("*.xjc"))
    assert entries, f"no {kind} entry in the cache"
    return entries[0]


def frame_times_ten(payload: bytes) -> bytes:
    df = pd.read_parquet(io.BytesIO(payload))
    for c in df.select_dtypes("number").columns:
        df[c] = df[c] * 10
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def vintage_times_ten(payload: bytes) -> bytes:
    ev = json.loads(payload)
    ev["annual"] = [[y, v * 10] for y, v in ev["annual"]]
    ev["ytd"] = [[y, m, v * 10] for y, m, v in ev["ytd"]]
    return json.dumps(ev).encode()


def published_scores(root: Path) -> pd.DataFrame:
    """The model comparison as published on the site (a table of the evaluation's scores)."""
    return pd.read_csv(root / "reports" / "default" / "site" / "tables" / "model_comparison.csv")


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


def test_a_no_op_build_imports_nothing_heavy(seq):
    """The no-op path only checks keys: no pandas, numpy, pydantic... (the CLI, the keys and the
    cache; the validated parameters come from the cache)."""
    err = seq["noop"]["proc"].stderr
    assert err.splitlines()[-1] == "imported: ", err


def test_an_evaluation_frame_edited_by_hand_is_detected_and_recomputed(seq):
    """The frame's numbers multiplied by 10 by hand (the hostile trial published a MASE of 3.16 for
    0.316): the next build that reads it names the entry, recomputes it and publishes the true scores."""
    r = seq["horizon"]
    err, out = r["proc"].stderr, r["proc"].stdout
    entry = one_entry(seq.root, "evaluation").name
    assert re.search(rf"cache: evaluation entry {entry} failed its check \(content sha256 [0-9a-f]{{12}}\.\.\. "
                     r"where [0-9a-f]{12}\.\.\. was stored(, \d+ bytes where \d+ were)?\): ignored; it is "
                     r"recomputed and replaced", err), err
    assert "recomputed and cached: 1 evaluation" in out, out
    pd.testing.assert_frame_equal(r["scores"], seq["cold"]["scores"])
    pd.testing.assert_frame_equal(r["frame"], seq["cold"]["frame"])
    assert 0.2 < r["scores"]["MASE"].min() < 1


def test_one_parameter_reruns_only_the_notebook_that_reads_it(seq):
    r = seq["horizon"]
    assert r["ran"] == ["notebook 03-forecast.ipynb", "render"], r["proc"].stdout
    assert r["unchanged"] == ["data", "notebook 01-data.ipynb", "notebook 02-growth.ipynb"]
    before, after = r["before"]["run"], r["after"]["run"]
    for kept in ("notebooks/01-data.ipynb", "notebooks/02-growth.ipynb", "results/data.json",
                 "results/growth.json", "tables/data_coverage.csv", "figures/annual.svg"):
        assert after[kept] == before[kept], f"{kept} should have been reused, not re-executed"
    assert after["notebooks/03-forecast.ipynb"] != before["notebooks/03-forecast.ipynb"]
    assert r["after"]["data"] == r["before"]["data"]
    root = seq.root
    results = json.loads((root / "reports" / "runs" / "default" / "results.json").read_text())
    assert results["parameters"]["horizon"] == 3
    # the data run to January 2024: horizon 3 reaches 2027
    assert [a["year"] for a in results["forecast"]["outlook"]["annual"]] == [2026, 2027, 2028, 2029]
    manifest = json.loads((root / "reports" / "default" / "manifest.json").read_text())
    assert manifest["parameters"]["horizon"] == 3


def test_force_reruns_everything(seq):
    r = seq["force"]
    assert r["ran"] == ALL_STEPS and r["unchanged"] == []
    results = json.loads((seq.root / "reports" / "runs" / "default" / "results.json").read_text())
    assert results["parameters"]["horizon"] == 1


def test_force_recomputes_the_evaluation_and_its_vintages(seq):
    """`build --force` reads no cached frame: a wrong frame and a wrong vintage stored with valid
    hashes (as a stale entry would be) are replaced by recomputed ones, and the true scores are published."""
    r = seq["force"]
    m = re.search(r"recomputed and cached: 1 evaluation, (\d+) vintages", r["proc"].stdout)
    assert m and int(m.group(1)) >= 30, r["proc"].stdout
    pd.testing.assert_frame_equal(r["scores"], seq["cold"]["scores"])
    pd.testing.assert_frame_equal(r["frame"], seq["cold"]["frame"])
    assert "failed its check" not in r["proc"].stderr


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


def test_every_page_of_the_scenario_edition_fits_the_window(seq, chromium_available):
    """Issue 21: the asof-2022 edition's pages at 1366 and 390 px (the rule: test_page_widths.py; the
    default edition's pages: test_site.py)."""
    from test_page_widths import assert_pages_fit
    seq["scenario"]
    assert_pages_fit(seq.root / "reports" / "asof-2022" / "site", min_pages=8)



def test_every_csv_of_both_editions_is_neutralised_and_unsplit(seq):
    """Issue 22: every CSV the builds of the default and the asof-2022 editions wrote (processed data,
    run tables, site tables, data packages) passes the scan: no cell or header starts a formula, no
    row is split (the hostile-data build and a sweep: test_hostile_build.py)."""
    import csvscan
    seq["scenario"]
    files, found = csvscan.scan(seq.root)
    names = {f.relative_to(seq.root).as_posix() for f in files}
    for edition in ("default", "asof-2022"):
        assert f"reports/{edition}/site/data/figures.csv" in names and f"reports/runs/{edition}/data/figures.csv" in names
    assert found == [], "\n".join(found[:20])

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
    for name in ("entity", "horizon", "start_year"):
        assert f"{name} {m['parameters'][name]}" in about, name
    assert m["parameters"]["end_year"] is None and "end_year (none)" in about      # the latest year in the data


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
    assert [a["year"] for a in results["forecast"]["outlook"]["annual"]] == [2026, 2027]
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
    dead = __import__("subprocess").Popen(["true"])   # the killed command's pid is in the name
    dead.wait()
    (reports / "default").rename(reports / f".default.old-p{dead.pid}-0badf00d")
    proc = xjtrade(seq.root, "build", "-p", "title=Xinjiang trade, retitled")
    assert proc.returncode == 0, proc.stderr
    assert "restored" in proc.stderr and proc.stdout.startswith("nothing to do"), proc.stdout + proc.stderr
    assert tree(reports / "default") == before
    assert not list(reports.glob(".default.*"))


@pytest.mark.parametrize("step, touched", [("code_downloads", "report/downloads.py"),
                                           ("code_css", "report/reader.css"),
                                           ("code_interactive", "report/interactive.py")])
def test_a_change_to_a_module_the_render_step_imports_renders_again(seq, step, touched):
    """The render step's key follows what it imports and declares (the page generators, the data
    package and chart modules, the site CSS): a comment in one of them re-renders the report, and
    only the render step runs; an identical copy of the package changes nothing (keys hash contents)."""
    assert seq["code_copy"]["proc"].stdout.startswith("nothing to do"), seq["code_copy"]["proc"].stdout
    r = seq[step]
    assert r["ran"] == ["render"], (touched, r["proc"].stdout)
    assert r["unchanged"] == ["data", *(f"notebook {n}" for n in NOTEBOOKS)]
    if touched.endswith(".css"):
        css = (seq.root / "reports" / "default" / "site" / "reader.css").read_text(encoding="utf-8")
        assert css.endswith("/* changed */\n")
