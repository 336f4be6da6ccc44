"""The project's folders, atomic writes and hashing: what every stage shares.

Kept free of heavy imports so the CLI starts fast.

Atomic writes: a step writes into a fresh staging folder next to its destination; only
when the step has finished is the staging folder swapped in for the old one.  If the
step fails (an exception, Ctrl-C, a full disk), the staging folder is removed and the
previous outputs stay exactly as they were.

Ownership: every folder made through `staged_dir` holds a marker file `.xjtrade-output`
naming what made it.  `swap_in` (and `staged_dir`, before any work starts) refuses to replace
an existing folder without the marker, unless it is empty: a command deletes only what the
project created.  Outputs written before markers existed are recognised by place and content
(`data/processed` with `summary.json`, `reports/<name>` with `manifest.json`,
`reports/runs/<name>` with `params.yaml`) and adopted: the new output gets a marker.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


class ProjectNotFound(RuntimeError):
    pass


MARKER = ".xjtrade-output"


class OutputNotOwned(OSError):
    """An output path is an existing folder (or file) the project did not create: never replaced."""

    def __init__(self, path: Path, why: str = ""):
        self.path = Path(path)
        super().__init__(
            f"{path} {why or 'exists and was not created by xjtrade (no ' + MARKER + ' marker)'}; "
            "refusing to replace it. Nothing was moved or deleted: choose another output folder, "
            "or empty or remove this one yourself")

    def __str__(self) -> str:  # OSError's own str() would show the errno tuple
        return self.args[0]


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


def notebooks_in(folder: Path) -> list[Path]:
    """The analysis notebooks, in run order (file names start with a number)."""
    from xjtrade.errors import RunError
    if not Path(folder).is_dir():
        raise RunError(f"the notebook folder {folder} does not exist")
    found = sorted(p for p in Path(folder).glob("[0-9][0-9]-*.ipynb"))
    if not found:
        raise RunError(f"no notebooks (NN-name.ipynb) found in {folder}")
    return found


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


# ---------------------------------------------------------------- atomic writes


def _siblings(final: Path, tag: str) -> list[Path]:
    return sorted(final.parent.glob(f".{final.name}.{tag}-*"))


def recover(final: Path) -> None:
    """Undo an interrupted swap: if `final` is missing but a moved-aside copy exists, restore it."""
    olds = _siblings(final, "old")
    if not final.exists() and olds:
        os.replace(olds[-1], final)
        olds = olds[:-1]
    for stale in olds + _siblings(final, "tmp"):
        shutil.rmtree(stale, ignore_errors=True)


def _legacy_output(final: Path) -> bool:
    """A folder written before ownership markers existed: recognised by where it is and what it holds."""
    parent = final.parent
    if parent.name == "data" and final.name == "processed":
        return (final / "summary.json").is_file() and (final / "figures.parquet").is_file()
    if parent.name == "runs" and parent.parent.name == "reports":
        return (final / "params.yaml").is_file() and (final / "notebooks").is_dir()
    if parent.name == "reports":
        return (final / "manifest.json").is_file() and (final / "site").is_dir()
    return False


def owned(final: Path) -> bool:
    """May `final` be replaced?  Yes if it does not exist, is an empty folder, carries the marker,
    or is a recognised output from before markers (see `_legacy_output`)."""
    final = Path(final)
    if not final.exists() and not final.is_symlink():
        return True
    if final.is_symlink() or not final.is_dir():
        return False
    if (final / MARKER).is_file():
        return True
    if not any(final.iterdir()):
        return True
    return _legacy_output(final)


def check_owned(final: Path) -> None:
    """Raise OutputNotOwned unless `final` may be replaced (see `owned`)."""
    final = Path(final)
    if owned(final):
        return
    if final.is_symlink():
        raise OutputNotOwned(final, "is a symbolic link")
    if not final.is_dir():
        raise OutputNotOwned(final, "is a file, not an output folder")
    raise OutputNotOwned(final)


def write_marker(folder: Path, made_by: str) -> None:
    (Path(folder) / MARKER).write_text(
        f"This folder was written by {made_by} (Xinjiang Trade Monitor) and is replaced as a whole\n"
        "by the next run of that command. Remove this file to keep xjtrade from replacing the folder.\n",
        encoding="utf-8")


def swap_in(staging: Path, final: Path) -> None:
    """Replace `final` by `staging` (two renames on one filesystem; `recover` mends a crash between).
    Refuses (OutputNotOwned, nothing moved) when `final` is a folder the project does not own."""
    final.parent.mkdir(parents=True, exist_ok=True)
    check_owned(final)
    old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
    moved = False
    if final.exists():
        os.replace(final, old)
        moved = True
    try:
        os.replace(staging, final)
    except BaseException:
        # the second rename failed (permissions, a signal...): put the previous outputs back
        if moved and not final.exists():
            os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_dir(final: Path, made_by: str = "xjtrade") -> Iterator[Path]:
    """Yield an empty staging folder; swap it in for `final` only if the block succeeds.
    The folder gets the ownership marker (`made_by` says which command wrote it).  A `final` the
    project does not own is refused before anything is created (OutputNotOwned)."""
    final = Path(final)
    check_owned(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover(final)
    staging = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        write_marker(staging, made_by)
        swap_in(staging, final)
    except BaseException:  # the block or the swap failed: drop the staging folder, keep `final`
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- hashing

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_tree(folder: Path, pattern: str = "*", exclude: tuple[str, ...] = ()) -> str:
    """One hash for all files under `folder` matching `pattern` (names and contents, sorted);
    `exclude` names sub-paths (relative, e.g. "report/render") left out of the hash."""
    folder = Path(folder)
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts):
        rel = path.relative_to(folder).as_posix()
        if any(rel == e or rel.startswith(e.rstrip("/") + "/") for e in exclude):
            continue
        h.update(rel.encode())
        h.update(sha256_file(path).encode())
    return h.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
