"""`xjtrade build`: data, run and render, each step skipped when its inputs are unchanged.

Each step is keyed by a hash of what it reads:
  data      raw tables, package code, dependency versions
  notebook  the data key, the data vintage (as_of), the notebook file, the parameters
            the notebook declares (its metadata `xjtrade.parameters`), package code, versions
  render    the notebook keys, _quarto.yml, methods.qmd, the run's title, package code,
            versions, the render engine
Keys are stored in .xjtrade-cache/ only after a step succeeded, so a failed or
interrupted build is simply redone next time.  This module imports nothing heavy
until a step has to run: an unchanged build costs a few file hashes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from xjtrade import manifest as mf
from xjtrade.project import write_text_atomic
from xjtrade.report.params import RunParams
from xjtrade.project import Project


@dataclass
class BuildReport:
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    report_dir: Path | None = None


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


@dataclass
class Keys:
    data: str
    notebooks: dict[str, str]
    render: str
    inputs: dict[str, str]


def compute_keys(project: Project, params: RunParams, engine: str, notebooks: list[Path]) -> Keys:
    code = mf.package_code_hash()
    vers = mf.versions_hash()
    raw = mf.sha256_tree(project.raw)
    data = _key("data", raw, code, vers)
    values = params.notebook_parameters()
    nb_keys = {}
    for nb in notebooks:
        declared = {k: values[k] for k in notebook_parameters(nb)}
        nb_keys[nb.name] = _key("notebook", data, values["as_of"], mf.sha256_file(nb), declared, code, vers)
    quarto = mf.sha256_file(project.root / "_quarto.yml")
    methods = mf.sha256_file(project.root / "methods.qmd")
    render = _key("render", nb_keys, quarto, methods, values["title"], values["name"], code, vers, engine)
    inputs = {"data/raw": raw, "package code": code, "dependency versions": vers, "_quarto.yml": quarto,
              "methods.qmd": methods, "parameters": _key(values)}
    inputs.update({f"notebooks/{n.name}": mf.sha256_file(n) for n in notebooks})
    return Keys(data=data, notebooks=nb_keys, render=render, inputs=inputs)


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_manifest(project: Project, params: RunParams, keys: Keys, run_dir: Path) -> dict:
    """The manifest of a report rendered from `run_dir` (the same for `xjtrade build` and `xjtrade render`)."""
    summary = _load(run_dir / "data" / "summary.json")
    results = _load(run_dir / "results.json")
    return mf.make_manifest(project.root, params.notebook_parameters(), keys.inputs,
                            {"last_published": results.get("data", {}).get("last_published"), **summary})


def build(project: Project, params: RunParams, force: bool = False, engine: str = "auto", jobs: int = 2,
          log=print) -> BuildReport:
    t0 = time.perf_counter()
    report = BuildReport()
    from xjtrade.report.run import notebooks_in
    notebooks = notebooks_in(project.notebooks)
    keys = compute_keys(project, params, engine, notebooks)
    cache_data = project.cache / "data.json"
    cache_run = project.cache / f"run-{params.name}.json"
    old_data, old_run = _load(cache_data), _load(cache_run)

    # 1. data
    if not force and old_data.get("key") == keys.data and (project.processed / "figures.parquet").exists():
        report.skipped.append("data")
    else:
        from xjtrade.data.processed import build_dataset
        log("data: building data/processed")
        build_dataset(project.raw, project.processed, log=log)
        write_text_atomic(cache_data, json.dumps({"key": keys.data}))
        report.ran.append("data")

    # 2. notebooks
    run_dir = project.runs / params.name
    previous = old_run.get("notebooks", {})
    stale = [nb for nb in notebooks if force or previous.get(nb.name) != keys.notebooks[nb.name]
             or not (run_dir / "notebooks" / nb.name).exists()]
    if not stale:
        report.skipped += [f"notebook {nb.name}" for nb in notebooks]
    else:
        from xjtrade.report.run import run_notebooks
        reuse = run_dir if len(stale) < len(notebooks) and run_dir.exists() else None
        log(f"run: executing {', '.join(nb.name for nb in stale)}"
            + (f" (reusing {len(notebooks) - len(stale)} unchanged)" if reuse else ""))
        run_notebooks(project, params, log=log, jobs=jobs, only=stale, base=reuse)
        report.ran += [f"notebook {nb.name}" for nb in stale]
        report.skipped += [f"notebook {nb.name}" for nb in notebooks if nb not in stale]
        write_text_atomic(cache_run, json.dumps({"notebooks": keys.notebooks, "render": None}))
        old_run = {"notebooks": keys.notebooks, "render": None}

    # 3. render
    published = project.reports / params.name
    if not force and old_run.get("render") == keys.render and (published / "manifest.json").exists():
        report.skipped.append("render")
    else:
        from xjtrade.report.publish import publish
        publish(project, run_dir, run_manifest(project, params, keys, run_dir), engine=engine, log=log)
        write_text_atomic(cache_run, json.dumps({"notebooks": keys.notebooks, "render": keys.render}))
        report.ran.append("render")
    report.report_dir = published
    report.seconds = time.perf_counter() - t0
    return report
