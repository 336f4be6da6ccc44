"""Per-step cache keys and step records (fast: no notebook runs).

The keys are computed on a copy of the package in which one file is touched, so that each test
sees exactly which steps a change invalidates.  Every step's key is derived from what it declares
(xjtrade.keys): a change reaches exactly the steps whose entry modules import the changed module
(transitively) or that declare the changed file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import xjtrade
from xjtrade import pipeline as pl
from xjtrade.cache import Store
from xjtrade.data.raw import load_raw
from xjtrade.data import vintages
from xjtrade.data.estimates import Evidence
from xjtrade.keys import Keyer
from xjtrade.project import Project
from xjtrade.report import outlook as xo
from xjtrade.report.params import load_params
from xjtrade.report.run import notebooks_in
from xjtrade.sweep import runner

from conftest import ROOT

PACKAGE = Path(xjtrade.__file__).resolve().parent
RAW = load_raw(ROOT / "data" / "raw")
FINAL = Evidence(annual={2020: 1.0}, annual_ids={2020: "f1"}, annual_origin={2020: "reported"}, ytd={},
                 ytd_ids={}, year_ids={}, published={})


@pytest.fixture
def package(tmp_path) -> Path:
    dest = tmp_path / "xjtrade"
    shutil.copytree(PACKAGE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def all_keys(package: Path, **overrides) -> dict[str, str]:
    """Every cached step's key, computed for the package at `package` (the build's steps, a vintage,
    an evaluation frame and a sweep scenario)."""
    project = Project(ROOT)
    params = load_params(project.params / "default.yaml", overrides)
    keyer = Keyer(package)
    keys = pl.compute_keys(project, params, "portable", notebooks_in(project.notebooks), keyer=keyer)
    out = {"data": keys.data, **{f"notebook {n}": k for n, k in keys.notebooks.items()}, "render": keys.render({})}
    out["vintages"] = vintages.vintages_key(RAW, ["2020-01-20"], keyer=keyer)
    out["evaluation"] = xo.evaluation_key(out["vintages"], FINAL, params.models, keyer=keyer)
    out["sweep scenario"] = runner.scenario_key(params, "raw", keyer)
    return out


def changed_steps(before: dict, after: dict) -> list[str]:
    return [k for k in before if before[k] != after[k]]


def touch_comment(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n/* a comment */\n" if path.suffix == ".css" else
                    path.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")


NB1, NB2, NB3 = "notebook 01-data.ipynb", "notebook 02-growth.ipynb", "notebook 03-forecast.ipynb"
NOTEBOOKS = [NB1, NB2, NB3]


@pytest.mark.parametrize("touched, expected", [
    # the list: exactly the steps that import the module (or declare the file) re-run
    ("report/downloads.py", ["render"]),
    ("report/interactive.py", ["render"]),
    ("report/reader.css", ["render"]),                       # the site CSS
    ("data/clean.py", ["data", *NOTEBOOKS, "render", "vintages", "evaluation", "sweep scenario"]),
    # every step that reaches the model registry (vintages through data.estimates -> stats.benchmarks, the
    # render through the pages, which name models by their labels):
    # its models import their implementations inside the methods that fit them, and the walk follows those
    ("stats/latent.py", [*NOTEBOOKS, "render", "vintages", "evaluation", "sweep scenario"]),
    # more of each kind
    ("report/html_tables.py", ["render"]),
    ("report/render/__init__.py", ["render"]),
    ("report/render/templates/site.css", ["render"]),
    ("report/publish.py", ["render"]),
    ("report/chapters.py", [*NOTEBOOKS, "sweep scenario"]),
    ("report/outlook.py", [NB2, NB3, "sweep scenario"]),     # the evaluation frame does not run outlook.py
    ("report/run.py", NOTEBOOKS),                            # the notebooks' runner
    ("stats/pseudo_real_time.py", [NB2, NB3, "evaluation", "sweep scenario"]),
    ("data/vintages.py", [NB2, NB3, "vintages", "evaluation", "sweep scenario"]),
    ("project.py", ["data", *NOTEBOOKS, "render", "sweep scenario"]),
    ("sweep/edition.py", []),                                # the sweep's page, not a scenario's rows
    ("pipeline.py", []),
    ("cli.py", []),
])
def test_a_code_change_invalidates_exactly_the_steps_that_import_it(package, touched, expected):
    before = all_keys(package)
    touch_comment(package / touched)
    after = all_keys(package)
    assert changed_steps(before, after) == expected


def test_an_unchanged_package_gives_the_same_keys(package):
    assert all_keys(package) == all_keys(package)


def test_a_package_version_reaches_the_steps_that_import_it(package, monkeypatch):
    """The versions of the third-party packages a step's modules import are in its key: plotly is
    imported only by report/interactive.py (the render step); pandas by nearly everything."""
    before = all_keys(package)
    real = Keyer.environment

    def bumped(name):
        def env(self):
            e = real(self)
            dists = dict(e["dists"])
            dists[name] = ["999.0", dists[name][1]]
            return {**e, "dists": dists}
        return env

    monkeypatch.setattr(Keyer, "environment", bumped("plotly"))
    assert changed_steps(before, all_keys(package)) == ["render"]
    monkeypatch.setattr(Keyer, "environment", bumped("pandas"))
    assert changed_steps(before, all_keys(package)) == list(before)


def test_the_render_key_follows_the_fonts_and_the_engine(package, monkeypatch):
    project = Project(ROOT)
    params = load_params(project.params / "default.yaml")
    nbs = notebooks_in(project.notebooks)
    base = pl.compute_keys(project, params, "portable", nbs, keyer=Keyer(package))
    fonts = pl.shipped_fonts()
    assert [f.name for f in fonts] == ["NotoSansCJK-Regular.ttc"]
    other = package / "other.ttc"
    other.write_bytes(b"another font")
    monkeypatch.setattr(pl, "shipped_fonts", lambda: [other])
    changed = pl.compute_keys(project, params, "portable", nbs, keyer=Keyer(package))
    assert changed.render_base != base.render_base and changed.notebooks == base.notebooks
    monkeypatch.setattr(pl, "render_engine", lambda engine: {"engine": "quarto", "version": "1.10.18"})
    q1 = pl.compute_keys(project, params, "auto", nbs, keyer=Keyer(package))
    monkeypatch.setattr(pl, "render_engine", lambda engine: {"engine": "quarto", "version": "1.9.17"})
    q2 = pl.compute_keys(project, params, "auto", nbs, keyer=Keyer(package))
    assert q1.render_base != q2.render_base != changed.render_base


def test_the_engine_names_every_quarto_the_renderer_would_consider(tmp_path, monkeypatch):
    """The render key names each Quarto the renderer's lookup considers, with the version it reports
    (QUARTO_FORCE_VERSION-style launchers included), and the one the renderer picks is among them."""
    from xjtrade.report.render.quarto import find_quarto_with_reason
    fake = tmp_path / "quarto"
    fake.write_text("#!/bin/sh\necho ${QUARTO_FORCE_VERSION:-1.10.18}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("QUARTO_PATH", str(fake))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(pl, "_quarto_cli_binary", lambda: None)
    monkeypatch.setattr("xjtrade.report.render.quarto._quarto_cli_binary", lambda: None)
    engine = pl.render_engine("auto")
    assert engine == {"engine": "auto", "quarto": {"QUARTO_PATH": {"path": str(fake), "version": "0: 1.10.18"}}}
    chosen, _ = find_quarto_with_reason()
    assert str(chosen) in [c["path"] for c in engine["quarto"].values()]
    monkeypatch.setenv("QUARTO_FORCE_VERSION", "1.9.17")
    assert pl.render_engine("auto")["quarto"]["QUARTO_PATH"]["version"] == "0: 1.9.17"
    assert pl.render_engine("portable") == {"engine": "portable"}
    monkeypatch.delenv("QUARTO_PATH")
    assert pl.render_engine("auto") == {"engine": "auto", "quarto": {}}
    assert find_quarto_with_reason()[0] is None


def test_stats_change_reaches_render_through_the_run_outputs(package):
    """A notebook change alters the run's outputs, and the render key is made from them."""
    project = Project(ROOT)
    k = pl.compute_keys(project, load_params(project.params / "default.yaml"), "portable",
                        notebooks_in(project.notebooks), keyer=Keyer(package))
    assert k.render({"results.json": "a"}) != k.render({"results.json": "b"})


def test_parameters_reach_only_the_notebooks_that_declare_them(package):
    base = all_keys(package)
    assert changed_steps(base, all_keys(package, horizon=3)) == [NB3, "render", "sweep scenario"]
    assert changed_steps(base, all_keys(package, title="Another title")) == ["render"]


def test_data_key_depends_on_the_vintage(package):
    project = Project(ROOT)
    k = pl.compute_keys(project, load_params(project.params / "default.yaml"), "portable",
                        notebooks_in(project.notebooks), keyer=Keyer(package))
    assert k.data_as_of(None) == k.data
    assert k.data_as_of("2015-01-01") != k.data


def test_a_notebook_key_ignores_its_stored_outputs(package, tmp_path):
    """Refreshing the committed notebooks' outputs (`make notebooks`) does not re-run them."""
    import json
    nb = json.loads((ROOT / "notebooks" / "03-forecast.ipynb").read_text(encoding="utf-8"))
    keyer = Keyer(package)
    a = tmp_path / "a.ipynb"
    a.write_text(json.dumps(nb), encoding="utf-8")
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    b = tmp_path / "b.ipynb"
    b.write_text(json.dumps(nb), encoding="utf-8")
    assert keyer.notebook(a) == keyer.notebook(b)
    assert "xjtrade.report.outlook" in keyer.notebook(a)["imports"]
    nb["cells"][-1]["source"] = ["print('changed')\n"]
    c = tmp_path / "c.ipynb"
    c.write_text(json.dumps(nb), encoding="utf-8")
    assert keyer.notebook(c)["code"] != keyer.notebook(a)["code"]


def test_the_import_walk_follows_lazy_imports_and_named_functions():
    from xjtrade.keys import imports_in
    src = ("import os\nfrom xjtrade.data import clean\n\ndef a():\n    from xjtrade.report import downloads\n"
           "    return b()\n\ndef b():\n    import numpy\n\ndef c():\n    import plotly\n")
    assert {"os", "xjtrade.data", "xjtrade.data.clean", "xjtrade.report", "xjtrade.report.downloads", "numpy",
            "plotly"} == imports_in(src, "xjtrade.x")
    assert imports_in(src, "xjtrade.x", functions=("a",)) == {"os", "xjtrade.data", "xjtrade.data.clean",
                                                             "xjtrade.report", "xjtrade.report.downloads", "numpy"}
    assert imports_in("from . import base\nfrom ..data import clean\n", "xjtrade.report.render", True) == {
        "xjtrade.report.render", "xjtrade.report.render.base", "xjtrade.report.data", "xjtrade.report.data.clean"}


def test_a_big_file_is_hashed_again_when_its_stat_changes(tmp_path, monkeypatch):
    """Big files (fonts) are remembered by (size, mtime, ctime, inode); the content decides when any
    differs (an edit that keeps the size and puts the old mtime back still changes the ctime)."""
    import os
    from xjtrade import keys
    big = tmp_path / "font.ttc"
    big.write_bytes(b"a" * keys.BIG)
    os.utime(big, (1_600_000_000, 1_600_000_000))
    store = Store(tmp_path / "cache")
    k1 = Keyer(store=store)
    h1 = k1.file(big)
    k1.save()
    assert str(big.absolute()) not in Keyer(store=store).memo["stat"]   # changed just now: not remembered
    monkeypatch.setattr(keys, "RACY_NS", 0)
    k2 = Keyer(store=store)
    assert k2.file(big) == h1
    k2.save()
    k3 = Keyer(store=store)
    entry = k3.memo["stat"][str(big.absolute())]
    entry[4] = "remembered"                   # the memo is what an unchanged stat returns
    assert k3.file(big) == "remembered"
    big.write_bytes(b"b" * keys.BIG)          # same size, new content, the old mtime put back
    os.utime(big, (1_600_000_000, 1_600_000_000))
    k4 = Keyer(store=store)
    k4.memo["stat"][str(big.absolute())][4] = "remembered"
    assert k4.file(big) == keys.sha256_bytes(b"b" * keys.BIG)


def test_a_file_rewritten_during_a_build_is_hashed_again(tmp_path):
    """One keyer hashes a step's outputs before the step (are they as recorded?) and after it (the
    record): the second time gives the new contents, also for a file older than two seconds."""
    import os
    from xjtrade import keys
    out = tmp_path / "results.json"
    out.write_text("old")
    os.utime(out, (1_600_000_000, 1_600_000_000))
    k = Keyer()
    assert k.file(out) == keys.sha256_bytes(b"old")
    out.write_text("new")
    assert k.file(out) == keys.sha256_bytes(b"new")
    os.utime(out, (1_600_000_000, 1_600_000_000))      # even with the old mtime back
    out.write_text("neW")
    os.utime(out, (1_600_000_000, 1_600_000_000))
    assert k.file(out) == keys.sha256_bytes(b"neW")


def test_changed_outputs_names_deleted_edited_and_added_files(tmp_path):
    (tmp_path / "site").mkdir()
    for name in ("a.pdf", "site/index.html", "results.json"):
        (tmp_path / name).write_text(name)
    recorded = pl.output_hashes(tmp_path)
    assert sorted(recorded) == ["a.pdf", "results.json", "site/index.html"]
    assert pl.changed_outputs(tmp_path, recorded) == []
    (tmp_path / "a.pdf").unlink()
    (tmp_path / "site" / "index.html").write_text("edited by hand")
    (tmp_path / "extra.txt").write_text("x")
    assert pl.changed_outputs(tmp_path, recorded) == ["deleted a.pdf", "edited site/index.html", "added extra.txt"]
    assert pl.changed_outputs(tmp_path, None) == ["no record of the outputs"]


def test_a_record_that_cannot_be_written_says_the_outputs_were_replaced(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(pl.StepRecordError) as exc:
        pl._save(Store(blocker), "run-default", {"k": 1}, "run", tmp_path / "runs" / "default")
    msg = str(exc.value)
    assert "new outputs were written to" in msg and "the next build will redo this step" in msg


def test_clean_stale_restores_a_report_moved_aside_and_keeps_live_owners(tmp_path):
    """Leftovers are named with their owner's pid and carry the ownership marker (issue 22: nothing
    else is touched, see test_hostile_ownership.py)."""
    import os
    import subprocess
    from xjtrade.project import write_marker
    project = Project(tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    old = project.reports / f".default.old-p{dead.pid}-1a2b3c4d"
    (old / "site").mkdir(parents=True)
    (old / "site" / "index.html").write_text("old report")
    write_marker(old, "report")
    tmp = project.runs / f".default.tmp-p{dead.pid}-5e6f7a8b"
    tmp.mkdir(parents=True)
    write_marker(tmp, "run")
    live = project.reports / f".src-default-p{os.getpid()}-abc"
    live.mkdir()
    write_marker(live, "render-source")
    logs = []
    pl.clean_stale(project, log=logs.append)
    assert (project.reports / "default" / "site" / "index.html").read_text() == "old report"
    assert not tmp.exists()
    assert not list(project.reports.glob(".default.old-*"))
    # the caller's own pid counts as stale (a command cleans before it starts), another live pid does not
    assert not live.exists()
    other = project.reports / ".src-default-p1-abc"  # pid 1 is alive
    other.mkdir()
    write_marker(other, "render-source")
    pl.clean_stale(project, log=logs.append)
    assert other.exists()
    assert any("restored" in m for m in logs)


def test_build_lock_no_wait_names_the_holder(tmp_path):
    import json
    import subprocess
    import sys
    project = Project(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from xjtrade.project import Project;"
        "from xjtrade.pipeline import build_lock\n"
        f"with build_lock(Project(Path({str(tmp_path)!r})), log=lambda m: None):\n"
        "    print('locked', flush=True); time.sleep(30)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert json.loads((project.cache / "build.owner").read_text())["pid"] == holder.pid
        with pytest.raises(pl.BuildLocked, match=rf"another build \(pid {holder.pid}\) is running"):
            with pl.build_lock(project, wait=False):
                pass
    finally:
        holder.kill()
        holder.wait()
    with pl.build_lock(project, wait=False, log=lambda m: None):  # released when its holder died
        assert (project.cache / "build.owner").exists()
