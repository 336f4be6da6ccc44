"""Per-step cache keys and step records (fast: no notebook runs).

The keys are computed on a copy of the package in which one file is touched, so that each test
sees exactly which steps a change invalidates: a comment in the renderer -> render only; a comment
in data/clean.py -> data, every notebook and render; a comment in stats/ -> notebooks and render.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import xjtrade
from xjtrade import pipeline as pl
from xjtrade.project import Project
from xjtrade.report.params import load_params
from xjtrade.report.run import notebooks_in

from conftest import ROOT

PACKAGE = Path(xjtrade.__file__).resolve().parent


@pytest.fixture
def package(tmp_path) -> Path:
    dest = tmp_path / "xjtrade"
    shutil.copytree(PACKAGE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def keys_for(package: Path, **overrides):
    project = Project(ROOT)
    params = load_params(project.params / "default.yaml", overrides)
    return pl.compute_keys(project, params, "auto", notebooks_in(project.notebooks), package=package)


def changed_steps(before: pl.Keys, after: pl.Keys) -> list[str]:
    out = ["data"] if before.data != after.data else []
    out += [f"notebook {n}" for n in before.notebooks if before.notebooks[n] != after.notebooks[n]]
    return out + (["render"] if before.render({}) != after.render({}) else [])


def touch_comment(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")


NOTEBOOKS = ["notebook 01-data.ipynb", "notebook 02-growth.ipynb", "notebook 03-forecast.ipynb"]


@pytest.mark.parametrize("touched, expected", [
    ("report/render/__init__.py", ["render"]),
    ("report/render/templates/site.css", ["render"]),
    ("report/publish.py", ["render"]),
    ("data/clean.py", ["data", *NOTEBOOKS, "render"]),
    ("project.py", ["data", *NOTEBOOKS, "render"]),
    ("stats/benchmarks.py", NOTEBOOKS),
    ("report/chapters.py", NOTEBOOKS),
    ("pipeline.py", []),
    ("cli.py", []),
])
def test_a_code_change_invalidates_only_the_steps_that_read_it(package, touched, expected):
    before = keys_for(package)
    touch_comment(package / touched)
    after = keys_for(package)
    assert changed_steps(before, after) == expected


def test_stats_change_reaches_render_through_the_run_outputs(package):
    """A notebook change alters the run's outputs, and the render key is made from them."""
    k = keys_for(package)
    assert k.render({"results.json": "a"}) != k.render({"results.json": "b"})


def test_parameters_reach_only_the_notebooks_that_declare_them(package):
    base = keys_for(package)
    horizon = keys_for(package, horizon=3)
    assert changed_steps(base, horizon) == ["notebook 03-forecast.ipynb", "render"]
    title = keys_for(package, title="Another title")
    assert changed_steps(base, title) == ["render"]


def test_data_key_depends_on_the_vintage(package):
    k = keys_for(package)
    assert k.data_as_of(None) == k.data
    assert k.data_as_of("2015-01-01") != k.data


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
        pl._save(blocker / "run-default.json", {"k": 1}, "run", tmp_path / "runs" / "default")
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
