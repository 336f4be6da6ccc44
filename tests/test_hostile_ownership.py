"""Ownership by command (issue 22, item 2): the second hostile trial's cases, each a test.

* `data build --out reports/default` (or a run, or a sweep) is refused: the markers say which command
  made a folder and what it holds; a folder inside reports/ or the cache is never an --out.
* An outside folder laid out like data/processed is not adopted; a user's file in it stays.
* `-p name=sweeps` is reserved like `runs` (every folder under reports/ the project uses).
* The clean-up after a killed build removes only folders with the project's marker and a dead
  owner's pid in the name: `data/.raw.old-backup1`, `reports/.src-notes` and a hand-made
  `reports/runs/default.failed` stay.
* No symbolic link leads a command out of the project: log folder, log file, the lock file, outputs.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_ownership import cli, refused
from xjtrade.project import MARKER, OutputNotOwned, read_marker, staged_dir, write_marker


def snapshot(folder: Path) -> dict[str, str]:
    import hashlib
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink():
            out[rel] = "<link>"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return out


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def fake_output(final: Path, kind: str, files: dict[str, str]) -> Path:
    """An output folder as the command of `kind` leaves it (through staged_dir)."""
    with staged_dir(final, kind) as st:
        for rel, text in files.items():
            (st / rel).parent.mkdir(parents=True, exist_ok=True)
            (st / rel).write_text(text)
    return final


@pytest.fixture
def outputs(project_copy):
    """A project copy with a published report, an executed run and a sweep (small stand-ins)."""
    p = project_copy
    fake_output(p.reports / "default", "report", {"site/index.html": "<p>site</p>", "manifest.json": "{}",
                                                  "xinjiang-trade-monitor.pdf": "%PDF"})
    fake_output(p.runs / "default", "run", {"params.yaml": "name: default\n", "notebooks/01-data.ipynb": "{}"})
    fake_output(p.reports / "sweeps" / "ports", "sweep", {"results.csv": "a\n1\n"})
    return p


# --------------------------------------------------------------------------- markers

def test_marker_names_command_and_kind(tmp_path):
    final = fake_output(tmp_path / "processed", "processed", {"a.csv": "x\n"})
    data = json.loads((final / MARKER).read_text())
    assert data["made_by"] == "xjtrade data build" and data["kind"] == "processed"
    assert read_marker(final) == {"made_by": "xjtrade data build", "kind": "processed"}


@pytest.mark.parametrize("kind,other", [("report", "processed"), ("run", "report"), ("sweep", "run"),
                                        ("processed", "sweep")])
def test_staged_dir_refuses_another_commands_output(tmp_path, kind, other):
    final = fake_output(tmp_path / "out", kind, {"keep.txt": "precious"})
    before = snapshot(tmp_path)
    with pytest.raises(OutputNotOwned, match="made by xjtrade"):
        with staged_dir(final, other):
            pass
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- --out

@pytest.mark.parametrize("where,needle", [
    ("reports/default", "holds a published report, made by xjtrade render"),
    ("reports/runs/default", "holds an executed run, made by xjtrade run"),
    ("reports/sweeps/ports", "holds a sweep's results, made by xjtrade sweep"),
    ("reports/new", "is inside reports/"),
    ("reports", "no .xjtrade-output marker"),
    (".xjtrade-cache/x", "is inside .xjtrade-cache"),
])
def test_out_refuses_other_commands_folders(outputs, monkeypatch, where, needle):
    """`xjtrade data build --out reports/default` exited 0 and replaced the site and the PDF."""
    root = outputs.root
    (root / ".xjtrade-cache").mkdir(exist_ok=True)
    before = snapshot(root)
    monkeypatch.chdir(root)
    refused(cli("data", "build", "--out", where), "--out", needle, "Nothing was written")
    assert snapshot(root) == before


def test_out_refuses_a_copy_of_a_report_elsewhere(outputs, tmp_path):
    copy = tmp_path / "elsewhere" / "report"
    shutil.copytree(outputs.reports / "default", copy)
    before = snapshot(copy)
    refused(cli("data", "build", "--out", str(copy)), "holds a published report")
    assert snapshot(copy) == before


def test_outside_folder_laid_out_like_processed_is_not_adopted(project_copy, tmp_path):
    """An outside folder holding summary.json and figures.parquet was adopted and a user's file deleted."""
    out = tmp_path / "outside" / "data" / "processed"
    out.mkdir(parents=True)
    (out / "summary.json").write_text("{}")
    (out / "figures.parquet").write_text("not ours")
    (out / "my-notes.txt").write_text("a user's file")
    before = snapshot(tmp_path / "outside")
    refused(cli("data", "build", "--out", str(out)), "no .xjtrade-output marker")
    assert snapshot(tmp_path / "outside") == before
    # and not through the library either
    with pytest.raises(OutputNotOwned):
        with staged_dir(out, "processed"):
            pass
    assert (out / "my-notes.txt").read_text() == "a user's file"


def test_out_own_processed_folder_is_replaced(project_copy, tmp_path):
    out = tmp_path / "mine"
    assert cli("data", "build", "--out", str(out)).exit_code == 0
    assert read_marker(out)["kind"] == "processed"
    result = cli("data", "build", "--out", str(out))
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- reserved names

@pytest.mark.parametrize("command", ["run", "render", "build"])
def test_name_sweeps_is_reserved(outputs, command):
    """`build -p name=sweeps --force` deleted every sweep."""
    before = snapshot(outputs.reports)
    refused(cli(command, "-p", "name=sweeps", *(["--force"] if command == "build" else [])),
            "'sweeps' is reserved", "reports/sweeps/ holds the sweeps' results")
    assert snapshot(outputs.reports) == before


def test_every_area_under_reports_is_reserved():
    """Every folder the project makes directly under reports/ other than a report is a reserved name."""
    from xjtrade.project import REPORT_AREAS
    from xjtrade.report.params import RESERVED_NAMES
    src = (Path(__file__).resolve().parents[1] / "src" / "xjtrade")
    used = set()
    import re
    for path in src.rglob("*.py"):
        used |= set(re.findall(r'reports\s*/\s*"([a-z0-9_-]+)"', path.read_text(encoding="utf-8")))
    assert used <= set(RESERVED_NAMES) == set(REPORT_AREAS) >= {"runs", "sweeps"}


# --------------------------------------------------------------------------- clean-up after a killed build

def test_cleanup_removes_only_marked_leftovers_of_dead_owners(outputs):
    from xjtrade.pipeline import clean_stale
    p, dead = outputs, dead_pid()
    shutil.copytree(p.raw, p.root / "data" / ".raw.old-backup1")               # a user's copy of raw
    (p.reports / ".src-notes").mkdir()                                          # a user's folder
    (p.reports / ".src-notes" / "n.md").write_text("notes")
    (p.runs / "default.failed").mkdir()                                         # hand-made
    (p.runs / "default.failed" / "why.txt").write_text("mine")
    unmarked = p.runs / f".default.tmp-p{dead}-0123abcd"                        # looks like ours, no marker
    unmarked.mkdir()
    (unmarked / "x").write_text("x")
    marked = p.runs / f".default.tmp-p{dead}-89abcdef"                          # ours, owner dead
    marked.mkdir()
    write_marker(marked, "run")
    live = p.runs / f".default.tmp-p{os.getppid()}-456789ab"                    # ours, owner alive
    live.mkdir()
    write_marker(live, "run")
    src_dead = p.reports / f".src-default-p{dead}-abc_123"
    src_dead.mkdir()
    write_marker(src_dead, "render-source")
    src_unmarked = p.reports / f".src-default-p{dead}-zzz"
    src_unmarked.mkdir()
    # a sweep moved aside mid-swap by a killed command: restored
    os.replace(p.reports / "sweeps" / "ports", p.reports / "sweeps" / f".ports.old-p{dead}-00ff00ff")
    kept = {q: snapshot(q) for q in (p.root / "data" / ".raw.old-backup1", p.reports / ".src-notes",
                                       p.runs / "default.failed", unmarked, src_unmarked, live)}
    cleaned = clean_stale(p, log=lambda m: None)
    assert sorted(cleaned) == sorted([marked.name, src_dead.name])
    assert not marked.exists() and not src_dead.exists()
    for q, snap in kept.items():
        assert q.is_dir() and snapshot(q) == snap, q
    assert (p.reports / "sweeps" / "ports" / "results.csv").read_text() == "a\n1\n"


def test_cleanup_through_a_command(outputs):
    """The same through a command taking the build lock (`data build`)."""
    p = outputs
    shutil.copytree(p.raw, p.root / "data" / ".raw.old-backup1")
    (p.reports / ".src-notes").mkdir()
    (p.runs / "default.failed").mkdir()
    before = snapshot(p.root / "data" / ".raw.old-backup1")
    result = cli("data", "build")
    assert result.exit_code == 0, result.output
    assert snapshot(p.root / "data" / ".raw.old-backup1") == before
    assert (p.reports / ".src-notes").is_dir() and (p.runs / "default.failed").is_dir()


def test_legacy_staging_names_are_left_alone(outputs):
    """Folders named like the staging folders of earlier versions (no pid) are not guessed at."""
    from xjtrade.pipeline import clean_stale
    old = outputs.runs / ".default.tmp-abcdef12"
    old.mkdir()
    write_marker(old, "run")
    clean_stale(outputs, log=lambda m: None)
    assert old.is_dir()


# --------------------------------------------------------------------------- the failed-run folder

TRIVIAL = {"cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {"tags": ["parameters"]},
                      "outputs": [], "source": "name = 'x'"},
                     {"cell_type": "code", "execution_count": None, "id": "c2", "metadata": {}, "outputs": [],
                      "source": "x = 1"}],
           "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                        "xjtrade": {"parameters": ["name"]}},
           "nbformat": 4, "nbformat_minor": 5}


def _notebook(folder: Path, fail: bool) -> Path:
    nb = json.loads(json.dumps(TRIVIAL))
    if fail:
        nb["cells"][1]["source"] = "raise RuntimeError('deliberate')"
    path = folder / ("01-fail.ipynb" if fail else "01-ok.ipynb")
    path.write_text(json.dumps(nb))
    return path


@pytest.mark.slow
def test_a_successful_run_keeps_a_hand_made_failed_folder(project_copy, tmp_path):
    """A hand-made reports/runs/default.failed was deleted by the next successful run."""
    from xjtrade.report.params import RunParams
    from xjtrade.report.run import RunError, run_notebooks
    p = project_copy
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    mine = p.runs / "default.failed"
    mine.mkdir(parents=True)
    (mine / "why.txt").write_text("mine")
    ok = _notebook(nbs, fail=False)
    run_notebooks(p, RunParams(), log=lambda m: None, jobs=1, notebooks=[ok], log_dir=p.cache / "logs" / "default")
    assert (mine / "why.txt").read_text() == "mine"
    # a failure does not write into it either, and says so
    bad = _notebook(nbs, fail=True)
    with pytest.raises(RunError, match="not kept: .*default.failed exists and was not made by xjtrade run"):
        run_notebooks(p, RunParams(), log=lambda m: None, jobs=1, notebooks=[bad])
    assert sorted(x.name for x in mine.iterdir()) == ["why.txt"]
    # without it: the failed notebooks are kept in a marked folder, removed by the next success
    shutil.rmtree(mine)
    with pytest.raises(RunError, match="kept in"):
        run_notebooks(p, RunParams(), log=lambda m: None, jobs=1, notebooks=[bad])
    assert read_marker(mine)["kind"] == "failed-run" and (mine / "01-fail.ipynb").is_file()
    run_notebooks(p, RunParams(), log=lambda m: None, jobs=1, notebooks=[ok])
    assert not mine.exists()


@pytest.mark.slow
@pytest.mark.parametrize("what", ["folder", "file"])
def test_symlinked_log_folder_or_file_is_refused(project_copy, tmp_path, what):
    """A symlinked log file or log folder in the cache made a build overwrite a file outside the project."""
    from xjtrade.report.params import RunParams
    from xjtrade.report.run import run_notebooks
    p = project_copy
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "01-ok.log"
    victim.write_text("precious")
    logs = p.cache / "logs" / "default"
    if what == "folder":
        logs.parent.mkdir(parents=True)
        logs.symlink_to(outside, target_is_directory=True)
    else:
        logs.mkdir(parents=True)
        (logs / "01-ok.log").symlink_to(victim)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    with pytest.raises(OSError) as err:
        run_notebooks(p, RunParams(), log=lambda m: None, jobs=1, notebooks=[_notebook(nbs, False)], log_dir=logs)
    assert err.value.errno == errno.ELOOP and "symbolic link" in str(err.value)
    assert victim.read_text() == "precious" and sorted(x.name for x in outside.iterdir()) == ["01-ok.log"]
    assert not (p.runs / "default").exists()


def test_symlinked_lock_file_is_refused(project_copy, tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("precious")
    project_copy.cache.mkdir(parents=True)
    (project_copy.cache / "build.lock").symlink_to(victim)
    refused(cli("data", "build"), "cannot take the build lock", "symbolic link")
    assert victim.read_text() == "precious"


def test_full_disk_while_taking_the_lock(project_copy, monkeypatch):
    """A full disk under the cache gave a traceback while taking the lock."""
    from xjtrade import pipeline

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(pipeline, "write_text_atomic", full)
    result = cli("data", "build")
    refused(result, "cannot take the build lock", "No space left on device", "Nothing was changed")
    assert len(result.output.strip().splitlines()) == 2


def test_output_file_symlink_is_never_written_through(tmp_path):
    """Outputs are written into fresh staging folders; the CSV writer and the marker refuse or replace
    a link instead of writing through it."""
    from xjtrade.textsafe import write_csv
    import pandas as pd
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "t.csv").symlink_to(victim)
    (folder / MARKER).symlink_to(victim)
    with pytest.raises(OSError):
        write_csv(pd.DataFrame({"a": [1]}), folder / "t.csv")
    write_marker(folder, "sweep")
    assert victim.read_text() == "precious" and not (folder / MARKER).is_symlink()

