"""`xjtrade build`: data, run and render, each step skipped when its inputs and outputs are unchanged.

Each step's key is derived from what it declares (:mod:`xjtrade.keys`): the source of the in-package
modules it imports (transitively), the package files it uses, the versions of the distributions those
modules import (and what they require), Python, and:
  data      DATA (xjtrade.data.processed), data/raw, the vintage (as_of)
  notebook  the notebook's code (cells and metadata, not its stored outputs), the modules its cells
            import and the runner (xjtrade.report.run), the parameters it declares (its metadata
            `xjtrade.parameters`), the data key
  render    RENDER (xjtrade.report.publish and editions: the renderer among what they import), the
            renderer's templates and filters, the site CSS, the shipped fonts, _quarto.yml, methods.qmd,
            every parameter, the data key, the run's outputs, the editions beside it, and the engine
            (Quarto and its version, or the portable one)
The evaluation frames and vintages that the forecast notebook caches are keyed the same way
(report/outlook.py, data/vintages.py), and so are sweep scenarios (sweep/runner.py).

Step records.  Every step that writes outputs (`xjtrade build`, and also `data build`, `run` and
`render`) leaves a record in the cache store (:mod:`xjtrade.cache`, kind `records`): its key, the
parameters it used and the sha256 of every file it wrote.  A step is "unchanged" only when its key
matches *and* its outputs still hash as recorded; otherwise it runs again and the log names the outputs
that changed.  A record is deleted before its step replaces the outputs and written after, so an
interrupted step or a failed record write (a full disk) leaves no record and the step is simply redone
next time; a record edited by hand fails its check and counts as none.  `render` refuses a run whose
record does not match the requested parameters, so no command can publish outputs made from other
inputs than its manifest states.

`--force` runs every step and, through XJTRADE_CACHE_REFRESH, makes the notebooks recompute every
cached frame they use (the evaluation and its vintages) instead of reading it.

One build at a time per checkout: every writing command holds .xjtrade-cache/build.lock (`build_lock`),
and on taking it mends what a killed build left behind (a report moved aside mid-swap, staging folders).

This module imports nothing heavy until a step has to run: an unchanged build reads the validated
parameters from the cache (`load_params`), hashes the declared inputs and the outputs, and stops.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from xjtrade.cache import REFRESH_ENV, Store, events_offset, relay
from xjtrade.keys import PKG, Keyer, Step, digest
from xjtrade.project import (LEFTOVER, SOURCE_DIR, Project, abandoned, inside, notebooks_in, recover,
                             write_text_atomic)
from xjtrade.report.ledger import after_build

if TYPE_CHECKING:
    from filelock import FileLock


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
    cache: dict[str, int] = field(default_factory=dict)   # cached frames recomputed by the run: {kind: count}
    rejected: list[str] = field(default_factory=list)     # cache entries that failed their check


# ---------------------------------------------------------------- what each step declares

DATA = Step("data", modules=("xjtrade.data.processed",), packages=("pyarrow",))
NOTEBOOK_RUNNER = ("xjtrade.report.run",)
NOTEBOOK_PACKAGES = ("ipykernel", "pyarrow")
RENDER = Step("render", modules=("xjtrade.report.publish", "xjtrade.report.editions"),
              files=("report/render/**/*", "report/templates/**/*", "report/reader.css"),
              packages=("typst", "pypandoc_binary", "noto-cjk-sans-otc"))
PARAMS = Step("params", modules=("xjtrade.report.params",))
FONT_PACKAGES = ("noto_cjk_sans_otc",)
FONT_SUFFIXES = (".ttc", ".ttf", ".otf", ".otc", ".woff", ".woff2")


def notebook_step(keyer: Keyer, nb: Path) -> Step:
    """A notebook's step: the modules its code cells import, and the runner that executes it."""
    return Step(f"notebook {nb.name}", modules=NOTEBOOK_RUNNER + tuple(keyer.notebook(nb)["imports"]),
                packages=NOTEBOOK_PACKAGES)


def shipped_fonts() -> list[Path]:
    """The font files the render uses, from the font packages (found, not imported)."""
    import importlib.util
    out = []
    for name in FONT_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        for location in (spec.submodule_search_locations or []) if spec else []:
            out += sorted(p for p in Path(location).rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
    return out


def render_engine(engine: str) -> dict:
    """What renders, for the render key: the portable engine, or every Quarto that the renderer's lookup
    (`report/render/quarto.find_quarto_with_reason`: QUARTO_PATH, `quarto` on PATH, the quarto_cli
    package) would consider, each with the version it reports (`quarto --version`).  Hashing every
    candidate, not only the one chosen, keeps the render package's import (pandoc tree, YAML) off the
    no-op path; which one is chosen follows from the candidates and the renderer's code, both in the key."""
    if engine == "portable":
        return {"engine": "portable"}
    candidates = {}
    explicit = os.environ.get("QUARTO_PATH")
    if explicit and Path(explicit).is_file():
        candidates["QUARTO_PATH"] = explicit
    on_path = shutil.which("quarto")
    if on_path:
        candidates["PATH"] = on_path
    bundled = _quarto_cli_binary()
    if bundled:
        candidates["quarto_cli"] = bundled
    return {"engine": engine, "quarto": {where: {"path": path, "version": _quarto_version(path)}
                                         for where, path in candidates.items()}}


def _quarto_cli_binary() -> str | None:
    import importlib.util
    try:
        spec = importlib.util.find_spec("quarto_cli")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        for name in ("quarto", "quarto.exe", "quarto.cmd"):
            if (Path(location) / "bin" / name).is_file():
                return str(Path(location) / "bin" / name)
    return None


def _quarto_version(path: str) -> str:
    import subprocess
    try:
        proc = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unusable: {exc}"
    return f"{proc.returncode}: {(proc.stdout or proc.stderr or '').strip()}"


# ---------------------------------------------------------------- parameters

@dataclass(frozen=True)
class Params:
    """Validated run parameters as plain values: what an unchanged build needs, without pydantic."""

    values: dict

    @property
    def name(self) -> str:
        return self.values["name"]

    def notebook_parameters(self) -> dict:
        return json.loads(json.dumps(self.values))

    def model(self):
        from xjtrade.report.params import RunParams
        return RunParams(**self.values)


def as_model(params):
    """The pydantic RunParams of `params` (a RunParams or :class:`Params`)."""
    return params.model() if isinstance(params, Params) else params


def load_params(project: Project, path: Path | None, overrides: tuple[str, ...] | list[str] = (),
                keyer: Keyer | None = None) -> Params:
    """`--params FILE -p k=v ...` validated (xjtrade.report.params.load_params), the result cached
    under a key of the file's content, the overrides as typed and the validating code: an unchanged
    build does not import pydantic.  Raises ParameterError as load_params does."""
    keyer = keyer or Keyer(store=Store(project.cache))
    path = Path(path) if path is not None else project.params / "default.yaml"
    try:
        content = keyer.file(path) if path.is_file() else None
    except OSError:
        content = None
    key = keyer.key(PARAMS, file=content, stem=path.stem, overrides=list(overrides))[:40]
    store = keyer.store
    cached = store.get_json("params", key) if (store is not None and content is not None) else None
    if isinstance(cached, dict) and "name" in cached:
        return Params(cached)
    from xjtrade.report.params import load_params as validate, parse_overrides
    values = validate(path, parse_overrides(list(overrides))).notebook_parameters()
    if store is not None and content is not None:
        try:
            store.put_json("params", key, values)
        except OSError:
            pass
    return Params(values)


def notebook_parameters(path: Path, keyer: Keyer | None = None, known: Any = None) -> list[str]:
    """The run parameters a notebook declares it reads (metadata xjtrade.parameters); `known` is the
    list of every run parameter (default: RunParams' fields)."""
    declared = (keyer or Keyer()).notebook(Path(path))["parameters"]
    if known is None:
        from xjtrade.report.params import RunParams
        known = list(RunParams.model_fields)
    if declared is None:
        return sorted(known)
    unknown = [p for p in declared if p not in known]
    if unknown:
        raise ValueError(f"{path}: metadata declares unknown parameters {unknown}")
    return sorted(declared)


# ---------------------------------------------------------------- keys

@dataclass
class Keys:
    data: str                 # the data step, all data (what `build` and `run` use)
    notebooks: dict[str, str]
    render_base: str          # the render key before the run's outputs are known
    files: dict[str, str]     # the project files read: data/raw, _quarto.yml, methods.qmd, notebooks
    parameters: dict
    data_code: str            # the data step's code key (for the data key of another vintage)
    keyer: Keyer              # what computed them (with the project's cache store)

    def data_as_of(self, as_of: str | None) -> str:
        return digest([DATA.name, self.data_code, {"raw": self.files["data/raw"], "as_of": as_of}])

    def render(self, run_outputs: dict[str, str]) -> str:
        return digest(["render", self.render_base, run_outputs])

    def manifest_inputs(self) -> dict[str, str]:
        """The inputs a report's manifest lists (hashes of the project files, the package, versions)."""
        from xjtrade import manifest as mf
        inputs = {"data/raw": self.files["data/raw"], "package code": mf.package_code_hash(),
                  "dependency versions": mf.versions_hash(), "_quarto.yml": self.files["_quarto.yml"],
                  "methods.qmd": self.files["methods.qmd"], "parameters": digest(self.parameters)}
        inputs.update({k: v for k, v in self.files.items() if k.startswith("notebooks/")})
        return inputs


def compute_keys(project: Project, params, engine: str, notebooks: list[Path],
                 package: Path | None = None, keyer: Keyer | None = None) -> Keys:
    """Every step's key for a build of `params` (a RunParams or :class:`Params`) with `engine`."""
    keyer = keyer or Keyer(package or PKG, store=Store(project.cache))
    values = params.notebook_parameters()
    raw = keyer.tree(project.raw)
    files = {"data/raw": raw, "_quarto.yml": keyer.file(project.root / "_quarto.yml"),
             "methods.qmd": keyer.file(project.root / "methods.qmd")}
    files.update({f"notebooks/{nb.name}": keyer.file(nb) for nb in notebooks})
    data_code = keyer.code_key(DATA)
    data = digest([DATA.name, data_code, {"raw": raw, "as_of": None}])
    nb_keys = {}
    for nb in notebooks:
        declared = {k: values[k] for k in notebook_parameters(nb, keyer, known=list(values))}
        nb_keys[nb.name] = keyer.key(notebook_step(keyer, nb), code=keyer.notebook(nb)["code"], data=data,
                                     as_of=values["as_of"], parameters=declared)
    fonts = {p.name: keyer.file(p) for p in shipped_fonts()}
    render_base = keyer.key(RENDER, data=data, quarto=files["_quarto.yml"], methods=files["methods.qmd"],
                            parameters=values, fonts=fonts, engine=render_engine(engine))
    return Keys(data=data, notebooks=nb_keys, render_base=render_base, files=files, parameters=values,
                data_code=data_code, keyer=keyer)


# ---------------------------------------------------------------- step records

def output_hashes(folder: Path, keyer: Keyer | None = None) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder` (empty if it does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return (keyer or Keyer()).tree_files(folder)


def changed_outputs(folder: Path, recorded: dict[str, str] | None, keyer: Keyer | None = None) -> list[str]:
    """What differs between `folder` and the recorded hashes: 'deleted X', 'edited Y', 'added Z'."""
    if recorded is None:
        return ["no record of the outputs"]
    now = output_hashes(folder, keyer)
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


def record_key(step: str, name: str | None = None) -> str:
    """The cache key of a step's record (kind `records`): data, run-<name>, render-<name>."""
    return "data" if step == "data" else f"{step}-{name}"


def load_record(store: Store, key: str) -> dict:
    """A step record, or {} (none, or one that fails its check: the step is then redone)."""
    rec = store.get_json("records", key)
    return rec if isinstance(rec, dict) else {}


@contextmanager
def _replacing(store: Store, records: list[str], folder: Path, recorded_outputs: dict | None, keyer: Keyer):
    """Forget the records while a step replaces `folder`; if the step fails and left `folder` as
    recorded (its writes are atomic), put the records back: a failed step changes nothing."""
    kept = {k: v for k in records if (v := store.get("records", k)) is not None}
    for k in records:
        store.delete("records", k)
    try:
        yield
    except BaseException:
        if kept and recorded_outputs is not None and not changed_outputs(folder, recorded_outputs, keyer):
            for k, payload in kept.items():
                store.put("records", k, payload)
        raise


def _save(store: Store, key: str, record: dict, what: str, folder: Path) -> None:
    try:
        if store.put_json("records", key, record) is None:
            raise OSError(f"the cache folder {store.root / 'records'} is not usable")
    except OSError as exc:
        raise StepRecordError(
            f"{what}: new outputs were written to {folder}, but the step record {store.path('records', key)} "
            f"could not be saved ({exc.strerror or exc}); the next build will redo this step") from exc


# ---------------------------------------------------------------- the steps

def data_step(project: Project, keys: Keys, as_of: str | None = None, force: bool = False, log=print) -> bool:
    """data/raw -> data/processed (as known on `as_of`, or all data); False when up to date."""
    key = keys.data_as_of(as_of)
    store = keys.keyer.store
    rec = load_record(store, record_key("data"))
    target = project.processed
    if not force and rec.get("key") == key:
        changes = changed_outputs(target, rec.get("outputs"), keys.keyer)
        if not changes:
            return False
        log(f"data: outputs changed since they were built ({_summarise(changes)}): rebuilding")
    elif rec and rec.get("as_of") != as_of:
        log(f"data: {target.relative_to(project.root).as_posix()} was built as of {rec.get('as_of') or 'all data'}: rebuilding "
            f"{'as of ' + as_of if as_of else 'with all data'}")
    log(f"data: building {target.relative_to(project.root)}")
    _build_data(project, keys.keyer, key, as_of, log)
    return True


def _build_data(project: Project, keyer: Keyer, key: str, as_of: str | None, log):
    from xjtrade.data.processed import prepare, write_processed
    target = project.processed
    ds = prepare(project.raw, as_of=as_of, log=log)   # bad raw data stops here: record and outputs untouched
    keyer.store.delete("records", record_key("data"))
    write_processed(ds, target, log=log)
    _save(keyer.store, record_key("data"), {"key": key, "as_of": as_of, "outputs": output_hashes(target, keyer)},
          "data", target)
    return ds


def data_step_cli(project: Project, target: Path, as_of: str | None, log=print):
    """`xjtrade data build [--as-of D] [--out DIR]`: always builds; into data/processed through the data
    step's record (so a later build knows the vintage it holds), elsewhere without a record."""
    from xjtrade.data.processed import build_dataset
    if Path(target).resolve() != project.processed.resolve():
        return build_dataset(project.raw, target, as_of=as_of, log=log)
    keyer = Keyer(store=Store(project.cache))
    key = keyer.key(DATA, raw=keyer.tree(project.raw), as_of=as_of)
    ds = _build_data(project, keyer, key, as_of, log)
    keyer.save()
    return ds


@contextmanager
def _refreshing(on: bool):
    """With `on`, the notebooks started inside read no cached frame (XJTRADE_CACHE_REFRESH, inherited)."""
    previous = os.environ.get(REFRESH_ENV)
    if on:
        os.environ[REFRESH_ENV] = "all"
    try:
        yield
    finally:
        if on:
            if previous is None:
                os.environ.pop(REFRESH_ENV, None)
            else:
                os.environ[REFRESH_ENV] = previous


def _relay_events(project: Project, offset: int, log, report: BuildReport | None) -> None:
    """Say what the notebooks did with the cache: frames recomputed, entries rejected."""
    counts, rejected, _ = relay(project.cache, offset, log, skip_pid=os.getpid())
    if counts:
        log("run: recomputed and cached " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    if report is not None:
        report.rejected += rejected
        for k, n in counts.items():
            report.cache[k] = report.cache.get(k, 0) + n


def run_step(project: Project, params, keys: Keys, notebooks: list[Path], force: bool = False,
             jobs: int = 2, log=print, report: BuildReport | None = None) -> list[Path]:
    """Execute the notebooks whose key changed (or whose outputs were touched); returns those run.
    With `force`, every notebook runs and recomputes the cached frames it uses."""
    store, keyer = keys.keyer.store, keys.keyer
    rkey = record_key("run", params.name)
    rec = load_record(store, rkey)
    run_dir = project.runs / params.name
    valid = False
    if rec:
        changes = changed_outputs(run_dir, rec.get("outputs"), keyer)
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
    offset = events_offset(project.cache)
    try:
        with _replacing(store, [rkey, record_key("render", params.name)], run_dir, rec.get("outputs"), keyer), \
                _refreshing(force):
            result = run_notebooks(project, as_model(params), log=log, jobs=jobs, only=stale if reuse else None,
                                   base=reuse, notebooks=notebooks, log_dir=project.cache / "logs" / params.name,
                                   recorded={k: v["seconds"] for k, v in rec.get("timings", {}).items()
                                             if isinstance(v, dict) and "seconds" in v})
    finally:
        _relay_events(project, offset, log, report)
    timings = {**(rec.get("timings", {}) if reuse else {}), **result.timings}
    _save(store, rkey, {"notebooks": keys.notebooks, "data": keys.data, "parameters": params.notebook_parameters(),
                        "outputs": output_hashes(run_dir, keyer), "timings": timings}, "run", run_dir)
    return stale


def check_run(project: Project, params, keys: Keys, notebooks: list[Path]) -> dict:
    """The run record of `params.name` if the run folder holds what these parameters would give;
    else RunMismatch saying what differs."""
    run_dir = project.runs / params.name
    rec = load_record(keys.keyer.store, record_key("run", params.name))
    again = "run `xjtrade run` with these parameters (or `xjtrade build`) first"
    if not rec:
        what = "no executed run" if not (run_dir / "results.json").exists() else "no record of the run"
        raise RunMismatch(f"{what} in {run_dir}: {again}")
    changes = changed_outputs(run_dir, rec.get("outputs"), keys.keyer)
    if changes:
        raise RunMismatch(f"the run in {run_dir} changed since it was executed ({_summarise(changes)}): {again}")
    if rec.get("notebooks") != keys.notebooks:
        used, wanted = rec.get("parameters", {}), params.notebook_parameters()
        read = sorted({p for nb in notebooks for p in notebook_parameters(nb, keys.keyer, known=list(wanted))})
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


def render_step(project: Project, params, keys: Keys, notebooks: list[Path], engine: str = "auto",
                force: bool = False, log=print) -> bool:
    """reports/runs/<name>/ -> reports/<name>/; False when up to date."""
    from xjtrade.report.editions import editions_key
    store, keyer = keys.keyer.store, keys.keyer
    run_rec = check_run(project, params, keys, notebooks)
    # the front page lists the editions beside this one: a new or changed one is a reason to render again
    key = keys.render({**run_rec["outputs"], "(editions beside it)": editions_key(project, params.name)})
    rkey = record_key("render", params.name)
    rec = load_record(store, rkey)
    final = project.reports / params.name
    if not force and rec.get("key") == key:
        changes = changed_outputs(final, rec.get("outputs"), keyer)
        if not changes:
            return False
        log(f"render: outputs changed since they were published ({_summarise(changes)}): rendering again")
    from xjtrade.report.publish import publish
    run_dir = project.runs / params.name
    with _replacing(store, [rkey], final, rec.get("outputs"), keyer):
        publish(project, run_dir, run_manifest(project, params, keys, run_dir), engine=engine, log=log)
    _save(store, rkey, {"key": key, "parameters": params.notebook_parameters(),
                        "outputs": output_hashes(final, keyer)}, "render", final)
    return True


def run_manifest(project: Project, params, keys: Keys, run_dir: Path) -> dict:
    """The manifest of a report rendered from `run_dir` (the same for `xjtrade build` and `xjtrade render`)."""
    from xjtrade import manifest as mf
    summary = _load(run_dir / "data" / "summary.json")
    results = _load(run_dir / "results.json")
    return mf.make_manifest(project.root, params.notebook_parameters(), keys.manifest_inputs(),
                            {"last_published": results.get("data", {}).get("last_published"), **summary})


def build(project: Project, params, force: bool = False, engine: str = "auto", jobs: int = 2,
          log=print, report: BuildReport | None = None, keyer: Keyer | None = None) -> BuildReport:
    """Data, run and render of `params` (a RunParams or :class:`Params`), each step skipped when its key
    and outputs are unchanged (see the module docstring)."""
    t0 = time.perf_counter()
    report = report if report is not None else BuildReport()
    keyer = keyer or Keyer(store=Store(project.cache, log=log))
    notebooks = notebooks_in(project.notebooks)
    keys = compute_keys(project, params, engine, notebooks, keyer=keyer)
    try:
        report.step = "data"
        (report.ran if data_step(project, keys, None, force=force, log=log) else report.skipped).append("data")

        report.step = "run"
        stale = run_step(project, params, keys, notebooks, force=force, jobs=jobs, log=log, report=report)
        report.ran += [f"notebook {nb.name}" for nb in stale]
        report.skipped += [f"notebook {nb.name}" for nb in notebooks if nb not in stale]

        report.step = "render"
        (report.ran if render_step(project, params, keys, notebooks, engine=engine, force=force, log=log)
         else report.skipped).append("render")
        report.step = None
        # the stale-record warning; the default edition's forecast ledger (not on a no-op build: nothing new)
        after_build(project, params, log=log, ledger=bool(report.ran))
    finally:
        keyer.save()
    report.report_dir = project.reports / params.name
    report.seconds = time.perf_counter() - t0
    return report


# ---------------------------------------------------------------- one build at a time

def clean_stale(project: Project, log=print) -> list[str]:
    """Mend what a killed command left behind, under the build lock: restore a report, run or sweep moved
    aside mid-swap, and remove staging (.tmp-), moved-aside (.old-) and publication source (.src-) folders
    whose owner is dead.  Only folders carrying the project's marker and their owner's pid in the name
    (`project.leftover_owner`) are touched: a user's folder that merely looks like one (a copy
    `data/.raw.old-backup1`, `reports/.src-notes`) is never removed."""
    cleaned = []
    for folder in (project.root / "data", project.reports, project.runs, project.reports / "sweeps"):
        if folder.is_symlink() or not folder.is_dir():
            continue
        finals = set()
        for entry in folder.iterdir():
            m = LEFTOVER.match(entry.name)
            if m and abandoned(entry):
                finals.add(m.group("final"))
            elif SOURCE_DIR.match(entry.name) and abandoned(entry):
                shutil.rmtree(entry, ignore_errors=True)
                cleaned.append(entry.name)
        for name in sorted(finals):
            final = folder / name
            missing = not final.exists()
            cleaned += recover(final)
            if missing and final.exists():
                log(f"restored {final} (moved aside by an interrupted build)")
    if cleaned:
        log(f"removed {len(cleaned)} folder(s) left by an interrupted build: {', '.join(cleaned[:5])}")
    return cleaned


@contextmanager
def build_lock(project: Project, wait: bool = True, log=print) -> Iterator[None]:
    """Hold .xjtrade-cache/build.lock: one writing command at a time per checkout.  A second one waits
    (saying for which pid) or, with wait=False, raises BuildLocked at once.  The lock is the kernel's
    (flock), so it is released when its holder dies; where there is no flock, `filelock`'s is used."""
    project.cache.mkdir(parents=True, exist_ok=True)
    owner = project.cache / "build.owner"
    lock = _Lock(inside(project.cache / "build.lock", project.root))
    if not lock.acquire(block=False):
        pid = _load(owner).get("pid", "unknown")
        if not wait:
            lock.close()
            raise BuildLocked(f"another build (pid {pid}) is running in {project.root}; "
                              "try again when it has finished")
        log(f"waiting for another build (pid {pid}) to finish")
        lock.acquire(block=True)
    try:
        write_text_atomic(owner, json.dumps({"pid": os.getpid()}))
        clean_stale(project, log=log)
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.close()


class _Lock:
    """An exclusive lock on a file: fcntl.flock (what filelock uses on Unix, so the two exclude each other,
    without its 60 ms of imports on every build), else filelock's."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None
        self.other: FileLock | None = None    # filelock's lock, only where fcntl is missing

    def acquire(self, block: bool) -> bool:
        try:
            import fcntl
        except ImportError:   # pragma: no cover (not Unix)
            from filelock import FileLock, Timeout
            self.other = self.other or FileLock(str(self.path))
            try:
                self.other.acquire(timeout=-1 if block else 0)
                return True
            except Timeout:
                return False
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
            return True
        except BlockingIOError:
            return False

    def close(self) -> None:
        if self.other is not None:   # pragma: no cover
            self.other.release()
        if self.fd is not None:
            os.close(self.fd)    # closing the descriptor releases the flock
            self.fd = None
