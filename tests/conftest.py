"""Shared fixtures: the project root, its processed data, and a throwaway copy of the project."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def processed(tmp_path_factory) -> Path:
    """The processed data built from data/raw into a temporary folder (session-wide)."""
    from xjtrade.data.processed import build_dataset
    out = tmp_path_factory.mktemp("processed") / "processed"
    build_dataset(ROOT / "data" / "raw", out)
    return out


EPOCH = "1700000000"  # SOURCE_DATE_EPOCH for the builds in tests: 2023-11-14T22:13:20Z


def copy_project(dest: Path, warm: Path | None = None) -> Path:
    """A minimal copy of the project (raw data, notebooks, params, publication sources); with `warm`
    (the `warm_cache` fixture), its cache starts with the default series' evaluation."""
    import shutil
    from xjtrade.project import copy_project as copy
    out = copy(ROOT, dest)
    if warm is not None:
        for name in ("evaluation", "vintages"):
            shutil.copytree(warm / name, out / ".xjtrade-cache" / name)
    return out


@pytest.fixture(scope="session")
def warm_cache(tmp_path_factory, processed) -> Path:
    """The default series' pseudo-real-time evaluation (its frame and vintages, as the forecast
    notebook caches them), computed once: under pytest-xdist, once for all workers (a file lock
    on their shared base folder).  For tests whose subject is not the evaluation (the site, the
    cache, bad inputs, faults): their builds then skip the 15-30 s the evaluation costs.  Tests of
    the evaluation itself, and the determinism twins, start cold."""
    from filelock import FileLock
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "warm-cache"
    with FileLock(str(folder) + ".lock"):
        if not (folder / "done").is_file():
            from xjtrade.data.raw import load_raw
            from xjtrade.report import outlook as xo
            from xjtrade.report.chapters import load_context
            from xjtrade.report.params import RunParams
            ctx = load_context(processed, RunParams())
            ev = xo.evaluation(ctx, raw=load_raw(ROOT / "data" / "raw"), cache_dir=folder / "vintages")
            assert not ev["cached"] and len(list((folder / "evaluation").glob("*.xjc"))) == 1
            (folder / "done").write_text("ok\n")
    return folder


@pytest.fixture(scope="session")
def default_edition(tmp_path_factory, warm_cache):
    """The default edition built once (portable engine) in a copy of the project, for the tests that only
    read it (the site in the browser, the first screen): (project, report folder, results as a dict).
    Under pytest-xdist, built once for all workers (a file lock on their shared base folder, as
    `warm_cache`).  Tests must not change it."""
    import json
    from filelock import FileLock
    from xjtrade.pipeline import build
    from xjtrade.project import Project
    from xjtrade.report.params import load_params
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "default-edition"
    with FileLock(str(folder) + ".lock"):
        if not (folder / "done").is_file():
            project = Project(copy_project(folder / "project", warm=warm_cache))
            build(project, load_params(project.params / "default.yaml"), engine="portable", log=lambda m: None)
            (folder / "done").write_text("ok\n")
    project = Project(folder / "project")
    results = json.loads((project.runs / "default" / "results.json").read_text())
    return project, project.reports / "default", results


def run_cli(root: Path, *args: str, timeout: float = 900, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """`xjtrade ARGS` in a subprocess on the project at `root`, with a fixed SOURCE_DATE_EPOCH (and
    `pythonpath` first on the path: a copy of the package to import instead of the installed one)."""
    env = {**os.environ, "XJTRADE_ROOT": str(root), "SOURCE_DATE_EPOCH": EPOCH}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run([sys.executable, "-m", "xjtrade.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)


def tree(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder` (empty if it does not exist)."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    """A fresh copy of the project in tmp_path, with XJTRADE_ROOT pointing at it."""
    from xjtrade.project import Project
    dest = copy_project(tmp_path / "project")
    monkeypatch.setenv("XJTRADE_ROOT", str(dest))
    return Project(dest)


def pytest_terminal_summary(terminalreporter):
    """Reports that tests attach with record_property (the extractor's precision and recall on the
    release corpus) written into the summary of every run, pytest-xdist workers included."""
    for outcome in ("passed", "failed"):
        for rep in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(rep, "user_properties", []):
                if name == "extract_corpus":
                    terminalreporter.write_sep("=", "data extract: precision and recall on the release corpus")
                    terminalreporter.write_line(str(value))
