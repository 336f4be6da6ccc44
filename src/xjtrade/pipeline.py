"""`xjtrade build`: data, run and render, each step skipped when its inputs and outputs are unchanged.

Each step is keyed by a hash of what it reads, and only that:
  data      data/raw, the data code (xjtrade/data/, project.py, errors.py), versions, the vintage (as_of)
  notebook  the data key, the notebook file, the parameters the notebook declares (its metadata
            `xjtrade.parameters`), the analysis code (xjtrade/stats/ and xjtrade/report/ less the
            renderer and the page generators), versions
  render    the renderer (xjtrade/report/render/ with its templates), the page generators
            (report/publish.py), _quarto.yml, methods.qmd, the data key, the run's outputs,
            every requested parameter, versions, the render engine

Step records.  Every step that writes outputs (`xjtrade build`, and also `data build`, `run` and
`render`) leaves a record in .xjtrade-cache/: its key, the parameters it used and the sha256 of every
file it wrote.  A step is "unchanged" only when its key matches *and* its outputs still hash as
recorded; otherwise it runs again and the log names the outputs that changed.  A record is deleted
before its step replaces the outputs and written after, so an interrupted step or a failed record
write (a full disk) leaves no record and the step is simply redone next time.  `render` refuses a run
whose record does not match the requested parameters, so no command can publish outputs made from
other inputs than its manifest states.

One build at a time per checkout: every writing command holds .xjtrade-cache/build.lock (`build_lock`),
and on taking it mends what a killed build left behind (a report moved aside mid-swap, staging folders).

This module imports nothing heavy until a step has to run: an unchanged build costs a few file hashes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from xjtrade import manifest as mf
from xjtrade.project import Project, recover, sha256_file, write_text_atomic
from xjtrade.report.ledger import after_build
from xjtrade.report.params import RunParams


class StepRecordError(OSError):
    """A step's outputs were written but its record could not be saved (e.g. a full disk)."""


class RunMismatch(RuntimeError):
    """`render` was asked for parameters the executed run was not made with."""


class BuildLocked(RuntimeError):
    """Another build holds the checkout's lock (and the caller asked not to wait)."""


@dataclass
class BuildReport:
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    report_dir: Path | None = None
    step: str | None = None  # the step running when the build failed


def notebook_parameters(path: Path) -> list[str]:
    """The run parameters a notebook declares it reads (metadata xjtrade.parameters)."""
    meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    declared = meta.get("xjtrade", {}).get("parameters")
    if declared is None:
        return sorted(RunParams.model_fields)
    unknown = [p for p in declared if p not in RunParams.model_fields]
    if unknown:
        raise ValueError(f"{path}: metadata declares unknown parameters {unknown}")
    return sorted(declared)


def _key(*parts) -> str:
    return mf.sha256_text(json.dumps(parts, sort_keys=True, default=str))


# ---------------------------------------------------------------- keys

def code_hashes(package: Path | None = None) -> dict[str, str]:
    """The code each step depends on, hashed separately (see the module docstring)."""
    pkg = Path(package) if package else Path(mf.__file__).resolve().parent
    return {
        "data": _key(mf.sha256_tree(pkg / "data"), sha256_file(pkg / "project.py"), sha256_file(pkg / "errors.py")),
        "analysis": _key(mf.sha256_tree(pkg / "stats"),
                         mf.sha256_tree(pkg / "report", exclude=("render", "publish.py", "editions.py"))),
        "render": _key(mf.sha256_tree(pkg / "report" / "render"), sha256_file(pkg / "report" / "publish.py"),
                       sha256_file(pkg / "report" / "editions.py")),
    }


@dataclass
class Keys:
    data: str                 # the data step, all data (what `build` and `run` use)
    notebooks: dict[str, str]
    render_base: str          # the render key before the run's outputs are known
    inputs: dict[str, str]
    raw: str
    code: dict[str, str]
    versions: str

    def data_as_of(self, as_of: str | None) -> str:
        return data_key(self.raw, self.code, self.versions, as_of)

    def render(self, run_outputs: dict[str, str]) -> str:
        return _key("render", self.render_base, run_outputs)


def data_key(raw: str, code: dict[str, str], vers: str, as_of: str | None) -> str:
    return _key("data", raw, code["data"], vers, as_of)


def compute_keys(project: Project, params: RunParams, engine: str, notebooks: list[Path],
                 package: Path | None = None) -> Keys:
    code = code_hashes(package)
    vers = mf.versions_hash()
    raw = mf.sha256_tree(project.raw)
    data = data_key(raw, code, vers, None)
    values = params.notebook_parameters()
    nb_keys = {}
    for nb in notebooks:
        declared = {k: values[k] for k in notebook_parameters(nb)}
        nb_keys[nb.name] = _key("notebook", data, values["as_of"], mf.sha256_file(nb), declared,
                                code["analysis"], vers)
    quarto = mf.sha256_file(project.root / "_quarto.yml")
    methods = mf.sha256_file(project.root / "methods.qmd")
    render_base = _key("render", data, quarto, methods, values, code["render"], vers, engine)
    inputs = {"data/raw": raw, "package code": mf.package_code_hash(), "dependency versions": vers,
              "_quarto.yml": quarto, "methods.qmd": methods, "parameters": _key(values)}
    inputs.update({f"notebooks/{n.name}": mf.sha256_file(n) for n in notebooks})
    return Keys(data=data, notebooks=nb_keys, render_base=render_base, inputs=inputs, raw=raw, code=code,
                versions=vers)


# ---------------------------------------------------------------- step records

def output_hashes(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder` (empty if it does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): sha256_file(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def changed_outputs(folder: Path, recorded: dict[str, str] | None) -> list[str]:
    """What differs between `folder` and the recorded hashes: 'deleted X', 'edited Y', 'added Z'."""
    if recorded is None:
        return ["no record of the outputs"]
    now = output_hashes(folder)
    out = [f"deleted {k}" for k in sorted(recorded) if k not in now]
    out += [f"edited {k}" for k in sorted(recorded) if k in now and now[k] != recorded[k]]
    out += [f"added {k}" for k in sorted(now) if k not in recorded]
    return out


def _summarise(changes: list[str], limit: int = 4) -> str:
    return ", ".join(changes[:limit]) + (f" and {len(changes) - limit} more" if len(changes) > limit else "")


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record_path(project: Project, step: str, name: str | None = None) -> Path:
    return project.cache / ("data.json" if step == "data" else f"{step}-{name}.json")


def _invalidate(path: Path) -> None:
    """Forget a step's record before its outputs are replaced (a crash then means: redo the step)."""
    path.unlink(missing_ok=True)


@contextmanager
def _replacing(records: list[Path], folder: Path, recorded_outputs: dict | None):
    """Forget the records while a step replaces `folder`; if the step fails and left `folder` as
    recorded (its writes are atomic), put the records back: a failed step changes nothing."""
    kept = {p: p.read_text(encoding="utf-8") for p in records if p.exists()}
    for p in records:
        _invalidate(p)
    try:
        yield
    except BaseException:
        if kept and recorded_outputs is not None and not changed_outputs(folder, recorded_outputs):
            for p, text in kept.items():
                write_text_atomic(p, text)
        raise


def _save(path: Path, record: dict, what: str, folder: Path) -> None:
    try:
        write_text_atomic(path, json.dumps(record, indent=1, sort_keys=True))
    except OSError as exc:
        raise StepRecordError(
            f"{what}: new outputs were written to {folder}, but the step record {path} could not be saved "
            f"({exc.strerror or exc}); the next build will redo this step") from exc


# ---------------------------------------------------------------- the steps

def data_step(project: Project, keys: Keys, as_of: str | None = None, force: bool = False, log=print) -> bool:
    """data/raw -> data/processed (as known on `as_of`, or all data); False when up to date."""
    key = keys.data_as_of(as_of)
    path = record_path(project, "data")
    rec = _load(path)
    target = project.processed
    if not force and rec.get("key") == key:
        changes = changed_outputs(target, rec.get("outputs"))
        if not changes:
            return False
        log(f"data: outputs changed since they were built ({_summarise(changes)}): rebuilding")
    elif rec and rec.get("as_of") != as_of:
        log(f"data: {target.relative_to(project.root).as_posix()} was built as of {rec.get('as_of') or 'all data'}: rebuilding "
            f"{'as of ' + as_of if as_of else 'with all data'}")
    log(f"data: building {target.relative_to(project.root)}")
    _build_data(project, key, as_of, log)
    return True


def _build_data(project: Project, key: str, as_of: str | None, log):
    from xjtrade.data.processed import prepare, write_processed
    path, target = record_path(project, "data"), project.processed
    ds = prepare(project.raw, as_of=as_of, log=log)   # bad raw data stops here: record and outputs untouched
    _invalidate(path)
    write_processed(ds, target, log=log)
    _save(path, {"key": key, "as_of": as_of, "outputs": output_hashes(target)}, "data", target)
    return ds


def data_step_cli(project: Project, target: Path, as_of: str | None, log=print):
    """`xjtrade data build [--as-of D] [--out DIR]`: always builds; into data/processed through the data
    step's record (so a later build knows the vintage it holds), elsewhere without a record."""
    from xjtrade.data.processed import build_dataset
    if Path(target).resolve() != project.processed.resolve():
        return build_dataset(project.raw, target, as_of=as_of, log=log)
    code, vers, raw = code_hashes(), mf.versions_hash(), mf.sha256_tree(project.raw)
    return _build_data(project, data_key(raw, code, vers, as_of), as_of, log)


def run_step(project: Project, params: RunParams, keys: Keys, notebooks: list[Path], force: bool = False,
             jobs: int = 2, log=print) -> list[Path]:
    """Execute the notebooks whose key changed (or whose outputs were touched); returns those run."""
    path = record_path(project, "run", params.name)
    rec = _load(path)
    run_dir = project.runs / params.name
    valid = False
    if rec:
        changes = changed_outputs(run_dir, rec.get("outputs"))
        valid = not changes
        if changes and not force:
            log(f"run: outputs changed since they were executed ({_summarise(changes)}): re-executing")
    previous = rec.get("notebooks", {}) if valid else {}
    stale = [nb for nb in notebooks if force or previous.get(nb.name) != keys.notebooks[nb.name]]
    if not stale:
        return []
    from xjtrade.report.run import run_notebooks
    reuse = run_dir if valid and len(stale) < len(notebooks) else None
    log(f"run: executing {', '.join(nb.name for nb in stale)}"
        + (f" (reusing {len(notebooks) - len(stale)} unchanged)" if reuse else ""))
    with _replacing([path, record_path(project, "render", params.name)], run_dir, rec.get("outputs")):
        result = run_notebooks(project, params, log=log, jobs=jobs, only=stale if reuse else None, base=reuse,
                               notebooks=notebooks, log_dir=project.cache / "logs" / params.name)
    timings = {**(rec.get("timings", {}) if reuse else {}), **result.timings}
    _save(path, {"notebooks": keys.notebooks, "data": keys.data, "parameters": params.notebook_parameters(),
                 "outputs": output_hashes(run_dir), "timings": timings}, "run", run_dir)
    return stale


def check_run(project: Project, params: RunParams, keys: Keys, notebooks: list[Path]) -> dict:
    """The run record of `params.name` if the run folder holds what these parameters would give;
    else RunMismatch saying what differs."""
    run_dir = project.runs / params.name
    rec = _load(record_path(project, "run", params.name))
    again = f"run `xjtrade run` with these parameters (or `xjtrade build`) first"
    if not rec:
        what = "no executed run" if not (run_dir / "results.json").exists() else "no record of the run"
        raise RunMismatch(f"{what} in {run_dir}: {again}")
    changes = changed_outputs(run_dir, rec.get("outputs"))
    if changes:
        raise RunMismatch(f"the run in {run_dir} changed since it was executed ({_summarise(changes)}): {again}")
    if rec.get("notebooks") != keys.notebooks:
        used, wanted = rec.get("parameters", {}), params.notebook_parameters()
        read = sorted({p for nb in notebooks for p in notebook_parameters(nb)})
        diff = [f"{k}={used.get(k)!r} in the run, {wanted[k]!r} requested" for k in read
                if used.get(k) != wanted[k]]
        if diff:
            why = "it was made with other parameters: " + "; ".join(diff)
        elif rec.get("data") != keys.data:
            why = "the data changed since it was made"
        else:
            why = "the notebooks, the analysis code or the package versions changed since it was made"
        raise RunMismatch(f"cannot render {run_dir}: {why}; {again}")
    return rec


def render_step(project: Project, params: RunParams, keys: Keys, notebooks: list[Path], engine: str = "auto",
                force: bool = False, log=print) -> bool:
    """reports/runs/<name>/ -> reports/<name>/; False when up to date."""
    from xjtrade.report.editions import editions_key
    run_rec = check_run(project, params, keys, notebooks)
    # the front page lists the editions beside this one: a new or changed one is a reason to render again
    key = keys.render({**run_rec["outputs"], "(editions beside it)": editions_key(project, params.name)})
    path = record_path(project, "render", params.name)
    rec = _load(path)
    final = project.reports / params.name
    if not force and rec.get("key") == key:
        changes = changed_outputs(final, rec.get("outputs"))
        if not changes:
            return False
        log(f"render: outputs changed since they were published ({_summarise(changes)}): rendering again")
    from xjtrade.report.publish import publish
    run_dir = project.runs / params.name
    with _replacing([path], final, rec.get("outputs")):
        publish(project, run_dir, run_manifest(project, params, keys, run_dir), engine=engine, log=log)
    _save(path, {"key": key, "parameters": params.notebook_parameters(), "outputs": output_hashes(final)},
          "render", final)
    return True


def run_manifest(project: Project, params: RunParams, keys: Keys, run_dir: Path) -> dict:
    """The manifest of a report rendered from `run_dir` (the same for `xjtrade build` and `xjtrade render`)."""
    summary = _load(run_dir / "data" / "summary.json")
    results = _load(run_dir / "results.json")
    return mf.make_manifest(project.root, params.notebook_parameters(), keys.inputs,
                            {"last_published": results.get("data", {}).get("last_published"), **summary})


def build(project: Project, params: RunParams, force: bool = False, engine: str = "auto", jobs: int = 2,
          log=print, report: BuildReport | None = None) -> BuildReport:
    t0 = time.perf_counter()
    report = report if report is not None else BuildReport()
    from xjtrade.report.run import notebooks_in
    notebooks = notebooks_in(project.notebooks)
    keys = compute_keys(project, params, engine, notebooks)

    report.step = "data"
    (report.ran if data_step(project, keys, None, force=force, log=log) else report.skipped).append("data")

    report.step = "run"
    stale = run_step(project, params, keys, notebooks, force=force, jobs=jobs, log=log)
    report.ran += [f"notebook {nb.name}" for nb in stale]
    report.skipped += [f"notebook {nb.name}" for nb in notebooks if nb not in stale]

    report.step = "render"
    (report.ran if render_step(project, params, keys, notebooks, engine=engine, force=force, log=log)
     else report.skipped).append("render")
    report.step = None
    after_build(project, params, log=log)      # stale-record warning; the default edition's forecast ledger
    report.report_dir = project.reports / params.name
    report.seconds = time.perf_counter() - t0
    return report


# ---------------------------------------------------------------- one build at a time

STAGING = re.compile(r"^\.(?P<final>.+)\.(?P<kind>tmp|old)-[0-9a-zA-Z]+$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_pid(path: Path) -> int | None:
    """The pid recorded for a staging folder: '-p<pid>' in its name or an `owner` / `.owner` file in it."""
    m = re.search(r"-p(\d+)(?:-|$)", path.name)
    if m:
        return int(m.group(1))
    for marker in (path / ".owner", path / "owner", path / ".xjtrade-owner"):
        try:
            digits = re.search(r"\d+", marker.read_text(encoding="utf-8"))
            if digits:
                return int(digits.group(0))
        except OSError:
            continue
    return None


def _stale(path: Path) -> bool:
    pid = _owner_pid(path)
    return pid is None or pid == os.getpid() or not _pid_alive(pid)


def clean_stale(project: Project, log=print) -> list[str]:
    """Mend what a killed command left behind, under the build lock (so no live build owns them):
    restore a report or run moved aside mid-swap, and remove staging (.tmp-), moved-aside (.old-) and
    publication source (.src-) folders whose owner is dead.  Only names the project creates are touched."""
    cleaned = []
    for folder in (project.root / "data", project.reports, project.runs):
        if not folder.is_dir():
            continue
        finals = set()
        for entry in folder.iterdir():
            m = STAGING.match(entry.name)
            if m and entry.is_dir() and _stale(entry):
                finals.add(m.group("final"))
            elif entry.name.startswith(".src-") and entry.is_dir() and _stale(entry):
                shutil.rmtree(entry, ignore_errors=True)
                cleaned.append(entry.name)
        for name in sorted(finals):
            final = folder / name
            missing = not final.exists()
            leftovers = sorted(p.name for p in folder.glob(f".{name}.*-*") if STAGING.match(p.name))
            recover(final)
            if missing and final.exists():
                log(f"restored {final} (moved aside by an interrupted build)")
            cleaned += [n for n in leftovers if not (folder / n).exists()]
    if cleaned:
        log(f"removed {len(cleaned)} folder(s) left by an interrupted build: {', '.join(cleaned[:5])}")
    return cleaned


@contextmanager
def build_lock(project: Project, wait: bool = True, log=print) -> Iterator[None]:
    """Hold .xjtrade-cache/build.lock: one writing command at a time per checkout.  A second one waits
    (saying for which pid) or, with wait=False, raises BuildLocked at once."""
    from filelock import FileLock, Timeout
    project.cache.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(project.cache / "build.lock"))
    owner = project.cache / "build.owner"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        pid = _load(owner).get("pid", "unknown")
        if not wait:
            raise BuildLocked(f"another build (pid {pid}) is running in {project.root}; "
                              "try again when it has finished") from None
        log(f"waiting for another build (pid {pid}) to finish")
        lock.acquire()
    try:
        write_text_atomic(owner, json.dumps({"pid": os.getpid()}))
        clean_stale(project, log=log)
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()
