"""The project's folders, atomic writes and hashing: what every stage shares.

Kept free of heavy imports so the CLI starts fast.

Atomic writes: a step writes into a fresh staging folder next to its destination; only
when the step has finished is the staging folder swapped in for the old one.  If the
step fails (an exception, Ctrl-C, a full disk), the staging folder is removed and the
previous outputs stay exactly as they were.

Ownership by command: every folder made through `staged_dir` holds a marker file `.xjtrade-output`,
JSON naming the command that made it and the kind of output (`OUTPUT_KINDS`: processed data, an
executed run, a published report, a sweep's results, ...).  `swap_in` (and `staged_dir`, before any
work starts) replaces an existing folder only if it is empty or carries the marker of the same kind:
a command deletes only what the project created, and only what that command made.  Outputs written
before markers existed are recognised only at their own place in a project (`data/processed` with
`summary.json`, `reports/<name>` with `manifest.json` and `site/`, `reports/runs/<name>` with
`params.yaml` and `notebooks/`) and adopted: the new output gets a marker.

Leftovers: a staging folder is named `.<final>.tmp-p<pid>-XXXXXXXX` and carries the marker from its
creation; an output moved aside during a swap `.<final>.old-p<pid>-XXXXXXXX`.  `recover` (and the build's
clean-up) restores or removes only such folders, and only when their owner process is gone.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import re
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


# ---------------------------------------------------------------- ownership

# Every kind of output folder the project writes, and the command that writes it (one registry).
OUTPUT_KINDS: dict[str, str] = {
    "processed": "xjtrade data build",     # data/processed, or `data build --out FOLDER`
    "run": "xjtrade run",                  # reports/runs/<name>
    "failed-run": "xjtrade run",           # reports/runs/<name>.failed: the notebooks of a failed run
    "report": "xjtrade render",            # reports/<name>: site, PDF, manifest
    "render-source": "xjtrade render",     # reports/.src-<name>-p<pid>-*: the book's sources while rendering
    "sweep": "xjtrade sweep",              # reports/sweeps/<grid>
}
KIND_DESCRIPTIONS = {"processed": "processed data", "run": "an executed run", "failed-run": "a failed run's notebooks",
                     "report": "a published report", "render-source": "a report's sources being rendered",
                     "sweep": "a sweep's results"}
# Folders under reports/ that hold other outputs than a report: no report may be named after them.
REPORT_AREAS = {"runs": "the executed runs", "sweeps": "the sweeps' results"}
_KIND_OF_COMMAND = {"xjtrade data build": "processed", "xjtrade render": "report", "xjtrade run": "run",
                    "xjtrade sweep": "sweep"}
_MARKER_LIMIT = 1 << 16


def _kind(kind: str | None) -> str | None:
    kind = _KIND_OF_COMMAND.get(kind, kind) if kind else None   # a command name is taken for its kind
    if kind is not None and kind not in OUTPUT_KINDS:
        raise ValueError(f"unknown kind of output {kind!r} (known: {', '.join(OUTPUT_KINDS)})")
    return kind


def marker_text(kind: str | None) -> str:
    """The marker of a folder of this kind: JSON naming the command and the kind of output (the same
    bytes for every folder of a kind: a rebuilt output is byte-identical)."""
    kind = _kind(kind)
    return json.dumps({"made_by": OUTPUT_KINDS.get(kind, "xjtrade") if kind else "xjtrade", "kind": kind,
                       "project": "Xinjiang Trade Monitor",
                       "note": "This folder is replaced as a whole by the next run of that command, and by no "
                               "other. Remove this file to keep xjtrade from replacing or deleting the folder."},
                      indent=1, sort_keys=True) + "\n"


def write_marker(folder: Path, kind: str | None) -> None:
    path = Path(folder) / MARKER
    if path.is_symlink():
        path.unlink()
    path.write_text(marker_text(kind), encoding="utf-8")


def _kind_by_place(final: Path) -> str | None:
    """What a folder at this place holds, by the project's layout (for markers from before kinds)."""
    parent = final.parent
    if parent.name == "data" and final.name == "processed":
        return "processed"
    if parent.name == "runs" and parent.parent.name == "reports":
        return "failed-run" if final.name.endswith(".failed") else "run"
    if parent.name == "sweeps" and parent.parent.name == "reports":
        return "sweep"
    if parent.name == "reports":
        return "report"
    return None


def read_marker(folder: Path) -> dict | None:
    """The marker of `folder` as {"made_by", "kind"} (kind None when it names none); None when the
    folder has no marker (a symbolic link or a folder of that name is no marker)."""
    path = Path(folder) / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            text = fh.read(_MARKER_LIMIT).decode("utf-8", errors="replace")
    except OSError:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("made_by"), str):
        kind = data.get("kind")
        return {"made_by": data["made_by"], "kind": kind if kind in OUTPUT_KINDS else None}
    # the text marker written before kinds: "This folder was written by <command> (Xinjiang Trade Monitor)"
    m = re.match(r"This folder was written by (xjtrade[a-z ]*) \(Xinjiang Trade Monitor\)", text)
    if m:
        made_by = m.group(1)
        kind = _KIND_OF_COMMAND.get(made_by) or _kind_by_place(Path(folder))
        return {"made_by": made_by, "kind": kind}
    return {"made_by": "an unknown program", "kind": None}


def _is_project(root: Path) -> bool:
    return (root / "_quarto.yml").is_file() and (root / "data" / "raw").is_dir()


def _legacy_output(final: Path, kind: str | None) -> bool:
    """An output written before ownership markers existed: recognised only at its own place inside a
    project (data/processed, reports/<name>, reports/runs/<name> of a folder holding _quarto.yml and
    data/raw) and by what it holds.  A folder laid out the same way anywhere else is not adopted."""
    place = _kind_by_place(final)
    if place is None or (kind is not None and kind != place):
        return False
    if place == "processed":
        return _is_project(final.parent.parent) and (final / "summary.json").is_file() and \
            (final / "figures.parquet").is_file()
    if place == "run":
        return _is_project(final.parent.parent.parent) and (final / "params.yaml").is_file() and \
            (final / "notebooks").is_dir()
    if place == "report":
        return _is_project(final.parent.parent) and final.name not in REPORT_AREAS and \
            (final / "manifest.json").is_file() and (final / "site").is_dir()
    return False


def why_not_owned(final: Path, kind: str | None = None, legacy: bool = True) -> str | None:
    """None if `final` may be replaced by the command that makes outputs of `kind`; else why not.
    Yes when it does not exist, is an empty folder, or carries the marker of that kind of output
    (any kind when `kind` is None); an unmarked output from before markers only where `legacy`
    allows it and `_legacy_output` recognises it."""
    final = Path(final)
    kind = _kind(kind)
    if not final.exists() and not final.is_symlink():
        return None
    if final.is_symlink():
        return "is a symbolic link"
    if not final.is_dir():
        return "is a file, not an output folder"
    marker = read_marker(final)
    if marker is not None:
        if kind is None or marker["kind"] == kind:
            return None
        what = KIND_DESCRIPTIONS.get(marker["kind"], "an output of unknown kind")
        return (f"holds {what}, made by {marker['made_by']}; {OUTPUT_KINDS[kind]} replaces only "
                f"{KIND_DESCRIPTIONS[kind]} it made itself")
    if not any(final.iterdir()):
        return None
    if legacy and _legacy_output(final, kind):
        return None
    return f"exists and was not created by xjtrade (no {MARKER} marker)"


def owned(final: Path, kind: str | None = None, legacy: bool = True) -> bool:
    """May `final` be replaced (see `why_not_owned`)?"""
    return why_not_owned(final, kind, legacy) is None


def check_owned(final: Path, kind: str | None = None, legacy: bool = True) -> None:
    """Raise OutputNotOwned unless `final` may be replaced (see `why_not_owned`)."""
    why = why_not_owned(final, kind, legacy)
    if why is not None:
        raise OutputNotOwned(Path(final), why)


# ---------------------------------------------------------------- leftovers of a killed command

# A staging folder (tmp) or a replaced output moved aside (old) carries the owner's pid in its name and
# the ownership marker inside; the book's sources while rendering likewise (.src-<name>-p<pid>-XXXX).
LEFTOVER = re.compile(r"^\.(?P<final>.+)\.(?P<state>tmp|old)-p(?P<pid>[0-9]{1,10})-[0-9a-f]{8}$")
SOURCE_DIR = re.compile(r"^\.src-.+-p(?P<pid>[0-9]{1,10})-[A-Za-z0-9_]+$")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0
    return True


def leftover_owner(path: Path) -> int | None:
    """The pid of the command that left `path` (a staging, moved-aside or render-source folder), or
    None if `path` is not such a folder of this project: named by the project's pattern with a pid,
    a real folder (no symbolic link) and carrying the ownership marker."""
    path = Path(path)
    m = LEFTOVER.match(path.name) or SOURCE_DIR.match(path.name)
    if not m or path.is_symlink() or not path.is_dir() or read_marker(path) is None:
        return None
    return int(m.group("pid"))


def abandoned(path: Path) -> bool:
    """A leftover (see `leftover_owner`) whose owner is gone (or is this process: it holds the lock
    now, so the folder is from an earlier, failed command)."""
    pid = leftover_owner(path)
    return pid is not None and (pid == os.getpid() or not pid_alive(pid))


def _siblings(final: Path, state: str) -> list[Path]:
    out = []
    for p in final.parent.glob(f".{glob.escape(final.name)}.{state}-p*"):
        m = LEFTOVER.match(p.name)
        if m and m.group("final") == final.name and m.group("state") == state and abandoned(p):
            out.append(p)
    return sorted(out, key=lambda p: (p.stat().st_mtime, p.name))


def recover(final: Path) -> list[str]:
    """Undo an interrupted swap: if `final` is missing but a moved-aside copy exists, restore it; remove
    the other leftovers of `final` (staging and moved-aside folders of dead owners, never a folder
    without the marker or of a live process).  Returns the names removed."""
    final = Path(final)
    if not final.parent.is_dir():
        return []
    olds = _siblings(final, "old")
    if not final.exists() and not final.is_symlink() and olds:
        os.replace(olds[-1], final)
        olds = olds[:-1]
    removed = []
    for stale in olds + _siblings(final, "tmp"):
        shutil.rmtree(stale, ignore_errors=True)
        if not stale.exists():
            removed.append(stale.name)
    return removed


# ---------------------------------------------------------------- atomic writes


def _leftover_name(final: Path, state: str) -> Path:
    return final.parent / f".{final.name}.{state}-p{os.getpid()}-{uuid.uuid4().hex[:8]}"


def swap_in(staging: Path, final: Path, kind: str | None = None) -> None:
    """Replace `final` by `staging` (two renames on one filesystem; `recover` mends a crash between).
    Refuses (OutputNotOwned, nothing moved) when `final` is a folder the project does not own."""
    final.parent.mkdir(parents=True, exist_ok=True)
    check_owned(final, kind)
    old = _leftover_name(final, "old")
    moved = False
    if final.exists():
        if read_marker(final) is None:  # an adopted output from before markers, or an empty folder
            write_marker(final, _kind(kind) or _kind_by_place(final))
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
def staged_dir(final: Path, kind: str | None = None) -> Iterator[Path]:
    """Yield an empty staging folder; swap it in for `final` only if the block succeeds.
    The folder carries the ownership marker of `kind` (see OUTPUT_KINDS; a command name is taken for
    its kind) from the start, and the owner's pid in its name, so that a killed command's leftovers are
    recognised.  A `final` the project does not own, or that holds another kind of output, is refused
    before anything is created (OutputNotOwned)."""
    final = Path(final)
    kind = _kind(kind)
    check_owned(final, kind)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover(final)
    check_owned(final, kind)
    staging = _leftover_name(final, "tmp")
    staging.mkdir()
    try:
        write_marker(staging, kind)
        yield staging
        write_marker(staging, kind)   # the block may have copied another folder's marker over it
        swap_in(staging, final, kind)
    except BaseException:  # the block or the swap failed: drop the staging folder, keep `final`
        shutil.rmtree(staging, ignore_errors=True)
        raise


def scratch_dir(parent: Path, name: str, kind: str = "render-source") -> Path:
    """A fresh working folder `.src-<name>-p<pid>-XXXXXXXX` in `parent`, marked as `kind`: the caller
    removes it; if the process is killed, the next command holding the build lock does."""
    import tempfile
    folder = Path(tempfile.mkdtemp(prefix=f".src-{name}-p{os.getpid()}-", dir=parent))
    write_marker(folder, kind)
    return folder


def inside(path: Path, root: Path) -> Path:
    """`path` if it stays inside `root` once symbolic links are followed; else OSError (ELOOP) saying so.
    For files the project writes under its own folders (logs, locks): a link planted there never makes
    a command write outside the project."""
    real, base = Path(path).resolve(), Path(root).resolve()
    if real != base and base not in real.parents:
        raise OSError(errno.ELOOP, f"{path} leads outside {root} through a symbolic link (to {real}); "
                                   "refusing to write there: remove the link")
    return Path(path)


def open_nofollow(path: Path, mode: int = 0o644) -> int:
    """A descriptor of `path` opened for writing (created or truncated) without following a symbolic
    link: a link planted where the file goes raises OSError instead of being written through."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, f"{path} is a symbolic link; refusing to write through it: "
                                       "remove the link") from None
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


# ---------------------------------------------------------------- locks

class Locked(RuntimeError):
    """Another process holds the lock (and the caller asked not to wait)."""


@contextmanager
def hold_lock(path: Path, root: Path, what: str, wait: bool = True, log=print) -> Iterator[None]:
    """Hold the file lock `path` (a `.owner` file beside it names this process): one holder at a time.
    A second one waits (saying for which pid) or, with wait=False, raises Locked at once.  The lock file
    must stay inside `root` (a symbolic link out is refused: filelock truncates what it opens); a disk
    that cannot take the lock (full, read-only) raises OSError before anything else is done."""
    from filelock import FileLock, Timeout
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(inside(path, root)))
    owner = path.with_suffix(".owner")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        try:
            pid = json.loads(owner.read_text(encoding="utf-8")).get("pid", "unknown")
        except (OSError, ValueError, AttributeError):
            pid = "unknown"
        if not wait:
            raise Locked(f"{what} (pid {pid}) is running in {root}; try again when it has finished") from None
        log(f"waiting for {what} (pid {pid}) to finish")
        lock.acquire()
    try:
        write_text_atomic(owner, json.dumps({"pid": os.getpid()}))
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()
