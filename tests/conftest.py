"""Shared fixtures: the project root, its processed data, and a throwaway copy of the project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def processed(tmp_path_factory) -> Path:
    """The processed data built from data/raw into a temporary folder (session-wide)."""
    from xjtrade.dataset import build_dataset
    out = tmp_path_factory.mktemp("processed") / "processed"
    build_dataset(ROOT / "data" / "raw", out)
    return out


def copy_project(dest: Path) -> Path:
    """A minimal copy of the project (raw data, notebooks, params, publication sources)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("data/raw", "notebooks", "params"):
        shutil.copytree(ROOT / name, dest / name)
    for name in ("_quarto.yml", "methods.qmd"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    """A fresh copy of the project in tmp_path, with XJTRADE_ROOT pointing at it."""
    from xjtrade.paths import Project
    dest = copy_project(tmp_path / "project")
    monkeypatch.setenv("XJTRADE_ROOT", str(dest))
    return Project(dest)
