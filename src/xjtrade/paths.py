"""Where the project's folders are."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path


class ProjectNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def params(self) -> Path:
        return self.root / "params"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def runs(self) -> Path:
        return self.reports / "runs"

    @property
    def cache(self) -> Path:
        return self.root / ".xjtrade-cache"


def find_project(start: Path | None = None) -> Project:
    """The project root: $XJTRADE_ROOT, else the nearest folder up from `start` (or the
    working directory) holding both `_quarto.yml` and `data/raw`."""
    env = os.environ.get("XJTRADE_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / "data" / "raw").is_dir():
            raise ProjectNotFound(f"XJTRADE_ROOT={env} has no data/raw folder")
        return Project(root)
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "_quarto.yml").is_file() and (folder / "data" / "raw").is_dir():
            return Project(folder)
    raise ProjectNotFound(
        f"no Xinjiang Trade Monitor project found at or above {here} "
        "(looked for _quarto.yml and data/raw); run the command inside the project or set XJTRADE_ROOT")


PROJECT_INPUTS = ("data/raw", "notebooks", "params", "_quarto.yml", "methods.qmd")


def copy_project(source: Path, dest: Path) -> Path:
    """A fresh copy of a project's inputs (raw data, notebooks, parameters, publication sources),
    for tests and benchmarks that must not touch the real outputs."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_INPUTS:
        src = Path(source) / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    return dest
