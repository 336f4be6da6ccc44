"""`xjtrade sweep`: a grid of scenarios computed on a dask cluster, cached, tabulated and published.

0. The grid file is read with limits (size, aliases, the number of scenarios: `grid.read_grid`) before
   any data is read, and the grid's lock is taken (`.xjtrade-cache/locks/sweep-<grid>.lock`): a second
   sweep of the same grid waits for the first (or, with --no-wait, says which pid holds it).
1. The grid is expanded and every scenario validated (nothing starts if one is bad).
2. Each scenario has a key (:data:`SCENARIO`, :mod:`xjtrade.keys`): its parameters (name and title
   aside), the raw data, the code the scenario task imports and the versions of the packages it
   uses.  A scenario whose entry in the cache store (kind `sweep`) exists and passes its check is not
   computed again; an entry edited by hand is logged and recomputed.
3. The raw tables are scattered once; one task per data vintage (`as_of`) cleans them as known
   then and stays on the cluster; one task per scenario reads its vintage and returns its rows.
   Results are written to the cache as they arrive (`as_completed`), one line per scenario.
4. The tidy table (`results.parquet` / `.csv`), `failures.csv` and the comparison edition are
   written to `reports/sweeps/<grid>/` atomically.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from xjtrade.cache import Store
from xjtrade.keys import Keyer, Step
from xjtrade.project import Project, hold_lock, staged_dir
from xjtrade.sweep.cluster import TASK_TIMEOUT
from xjtrade.sweep.grid import MAX_SCENARIOS, Grid, GridError, expand, read_grid
from xjtrade.sweep.reports import EvaluationReport, SweepReport
from xjtrade.textsafe import write_csv


# --- keys ----------------------------------------------------------------------------------

# What a scenario task runs (the rest of this module writes tables and pages, which do not change a
# scenario's rows): the key follows these functions' imports (xjtrade.keys).
SCENARIO = Step("sweep scenario", modules=("xjtrade.sweep.runner:compute_scenario,prepare_vintage",))


def scenario_key(params, raw_hash: str, keyer: Keyer | None = None) -> str:
    """A scenario's key: its parameters (name and title aside), the raw data, and the code and
    packages of :data:`SCENARIO`."""
    ident = params.model_dump(mode="json", exclude={"name", "title"})
    return (keyer or Keyer()).key(SCENARIO, parameters=ident, raw=raw_hash)[:40]


# --- tasks (run on the workers: no plotting imports) -----------------------------------------

def prepare_vintage(raw, as_of: str | None):
    """(figures, issues, sources, raw) as known on `as_of`, cleaned from the scattered raw tables."""
    from xjtrade.data import clean
    cleaned = clean.clean(raw, as_of=as_of)
    return cleaned.figures, cleaned.issues, raw.sources, raw


def compute_scenario(params_json: str, vintage, cache_dir: str | None = None) -> dict:
    """One scenario's rows (a task): parameters as JSON, its vintage's tables, and the folder where the
    evaluation's vintages are cached (None on a cluster whose workers do not share this disk)."""
    import os
    from xjtrade.report import scenario
    from xjtrade.report.params import RunParams
    t0 = time.perf_counter()
    params = RunParams.model_validate_json(params_json)
    figures, issues, sources, raw = vintage
    if cache_dir and not os.access(Path(cache_dir).parent, os.W_OK):
        cache_dir = None
    rows = scenario.run(params, figures, issues, sources, raw, cache_dir)
    return {"rows": rows, "seconds": round(time.perf_counter() - t0, 3), "pid": os.getpid()}


# The function each scenario task runs (tests swap it for one that fails on purpose).
SCENARIO_TASK = compute_scenario


# --- the sweep -----------------------------------------------------------------------------

def _vintage(sc) -> str | None:
    """The data vintage of a scenario: its as_of date (ISO), None for all data."""
    return sc.params.as_of.isoformat() if sc.params.as_of else None


def _label(sc) -> str:
    return sc.label or "base"


def _failure(sc, error: str, tb: str) -> dict:
    return {"scenario": sc.params.name, "label": _label(sc), "error": error,
            "parameters": sc.params.model_dump_json(exclude={"title"}), "traceback": tb}


def sweep_lock(project: Project, name: str, wait: bool = True, log=print):
    """The lock of one grid (by its name: its results folder): one sweep of it at a time."""
    return hold_lock(project.cache / "locks" / f"sweep-{name}.lock", project.root,
                     f"another sweep of grid {name!r}", wait=wait, log=log)


def run_sweep(project: Project, grid_path: Path, scheduler: str | None = None, n_workers: int | None = None,
              serial: bool = False, publish: bool = True, log=print, max_scenarios: int = MAX_SCENARIOS,
              wait: bool = True, task_timeout: float | None = TASK_TIMEOUT) -> SweepReport | EvaluationReport:
    """Run a grid; see the module docstring. `serial` computes in this process (benchmarks).  A grid of
    kind `evaluation` is run by :func:`xjtrade.sweep.evaluation.run_evaluation` (its report)."""
    spec = read_grid(grid_path, max_scenarios)   # limits checked before the data is read or a scenario is made
    with sweep_lock(project, spec.name, wait=wait, log=log):
        if scheduler:   # a wrong address or a server that is not dask: said before the data is prepared
            from xjtrade.sweep.cluster import check_address, probe
            probe(check_address(scheduler))
        return _run_sweep(project, spec, scheduler, n_workers, serial, publish, log, max_scenarios, task_timeout)


def _run_sweep(project: Project, spec, scheduler, n_workers, serial, publish, log, max_scenarios,
               task_timeout) -> SweepReport | EvaluationReport:
    t0 = time.perf_counter()
    from xjtrade.data.processed import prepare
    latest = prepare(project.raw)
    grid = expand(spec, latest, max_scenarios)
    if grid.kind == "evaluation":
        from xjtrade.sweep.evaluation import run_evaluation
        return run_evaluation(project, grid, latest, scheduler=scheduler, n_workers=n_workers, publish=publish,
                              log=log, task_timeout=task_timeout)
    report = SweepReport(grid=grid.name, scenarios=len(grid.scenarios))
    store = Store(project.cache, log=log)
    keyer = Keyer(store=store)
    raw_hash = keyer.tree(project.raw)
    cache_dir = str(project.cache / "vintages")   # the evaluation's vintages, shared by the local workers
    keys = {sc.params.name: scenario_key(sc.params, raw_hash, keyer) for sc in grid.scenarios}
    keyer.save()
    # an entry that fails its check is a miss (logged): the scenario is computed again
    done_before = {name for name, key in keys.items() if valid_entry(store, key)}
    pending = [sc for sc in grid.scenarios if sc.params.name not in done_before]
    report.cached = len(grid.scenarios) - len(pending)
    log(f"grid {grid.name}: {len(grid.scenarios)} scenarios, {report.cached} cached, {len(pending)} to compute")

    def save(sc, result: dict, done: int) -> None:
        store.put_json("sweep", keys[sc.params.name], json.loads(json.dumps(
            {"key": keys[sc.params.name], "scenario": sc.params.name, "label": _label(sc),
             "seconds": result["seconds"], "rows": result["rows"]}, default=str)))
        statuses = sorted({r["status"] for r in result["rows"]})
        log(f"[{done}/{len(pending)}] {sc.params.name} ({_label(sc)}): {', '.join(statuses)} "
            f"in {result['seconds']:.1f} s")

    def fail(sc, error: str, tb: str, done: int) -> None:
        report.failed.append(_failure(sc, error, tb))
        log(f"[{done}/{len(pending)}] {sc.params.name} ({_label(sc)}) FAILED: {error}\n"
            f"  parameters: {sc.params.model_dump_json(exclude={'title'})}\n" + tb.rstrip())

    if pending and serial:
        vintages: dict = {}
        # grouped by vintage, so each is cleaned once and only one is held at a time
        by_vintage = sorted(pending, key=lambda sc: _vintage(sc) or "")
        for done, sc in enumerate(by_vintage, start=1):
            as_of = _vintage(sc)
            try:
                if as_of not in vintages:
                    vintages.clear()
                    vintages[as_of] = (latest.figures, latest.issues, latest.raw.sources, latest.raw) if as_of is None \
                        else prepare_vintage(latest.raw, as_of)
                result = SCENARIO_TASK(sc.params.model_dump_json(), vintages[as_of], cache_dir)
            except Exception as exc:  # reported like a failed task
                import traceback
                fail(sc, f"{type(exc).__name__}: {exc}", traceback.format_exc(), done)
                continue
            save(sc, result, done)
            report.computed += 1
    elif pending:
        from xjtrade.sweep.cluster import TaskTimeout, checked_call, completed, connect, outcome
        with connect(scheduler, n_workers, log=log) as client:
            raw = client.scatter(latest.raw, broadcast=True)
            vintage_of: dict[str | None, Any] = {None: client.scatter((latest.figures, latest.issues, latest.raw.sources, latest.raw))}
            for as_of in dict.fromkeys(_vintage(sc) for sc in pending if sc.params.as_of):
                vintage_of[as_of] = client.submit(prepare_vintage, raw, as_of, key=f"vintage-{as_of or 'latest'}",
                                                  pure=False)
            futures = {}
            for sc in pending:
                as_of = _vintage(sc)
                fut = client.submit(checked_call, SCENARIO_TASK, sc.params.model_dump_json(), vintage_of[as_of],
                                    cache_dir, key=f"scenario-{sc.params.name}-{keys[sc.params.name][:8]}", pure=False)
                futures[fut] = sc
            del vintage_of, raw  # the scenario tasks keep what they need; done vintages are released
            done = 0
            try:
                for fut in completed(list(futures), task_timeout):
                    done += 1
                    sc = futures.pop(fut)
                    out = outcome(fut)
                    if out.ok:
                        save(sc, out.value, done)
                        report.computed += 1
                    else:
                        fail(sc, out.error, out.traceback, done)
                    fut.release()
            except TaskTimeout as exc:   # unresponsive workers: the rest fail, what is done is published
                for fut, sc in list(futures.items()):
                    fut.cancel()
                    done += 1
                    fail(sc, f"TimeoutError: {exc}", "", done)
                futures.clear()
    if publish:
        report.out_dir = write_results(project, grid, keys, report, latest)
    report.seconds = time.perf_counter() - t0
    return report


def valid_entry(store: Store, key: str) -> bool:
    """A sweep cache entry that is there, passes its check and has the shape the runner writes."""
    entry = store.get_json("sweep", key)
    return isinstance(entry, dict) and entry.get("key") == key and isinstance(entry.get("rows"), list)


def results_table(grid: Grid, keys: dict, cache: Path | Store):
    """The tidy table of every computed scenario of the grid, read back from the cache (checked:
    an entry that fails its check is left out, and logged)."""
    import pandas as pd
    store = cache if isinstance(cache, Store) else Store(Path(cache).parent)
    frames = []
    for sc in grid.scenarios:
        entry = store.get_json("sweep", keys[sc.params.name])
        if not isinstance(entry, dict) or not isinstance(entry.get("rows"), list):
            continue
        df = pd.DataFrame(entry["rows"]).drop(columns=["scenario"], errors="ignore")
        df.insert(0, "label", _label(sc))
        df.insert(0, "scenario", sc.params.name)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["scenario", "label", "target", "period", "status", "reason"])
    out = pd.concat(frames, ignore_index=True)
    return out


def attach_actuals(df, figures):
    """`actual` (the value in the latest data) and `error_pct` for targets that are calendar years."""
    import numpy as np
    import pandas as pd
    from xjtrade.data.selector import series
    actual = pd.Series(np.nan, index=df.index)
    if len(df):
        for (ent, flow, partner, cur), idx in df.groupby(["entity", "flow", "partner", "currency"]).groups.items():
            s = series(figures, entity=ent, flow=flow, partner=partner, kind="year", currency=cur)
            by_year = dict(zip(s["year"].astype(int).astype(str), s["value"]))
            actual.loc[idx] = [by_year.get(str(p), np.nan) for p in df.loc[idx, "period"]]
    df = df.assign(actual=actual)
    fc = pd.to_numeric(df.get("forecast"), errors="coerce") if "forecast" in df else np.nan
    df["error_pct"] = 100.0 * (fc - df["actual"]) / df["actual"]
    return df


def write_results(project: Project, grid: Grid, keys: dict, report: SweepReport, latest) -> Path:
    import pandas as pd
    from xjtrade.sweep import edition
    df = attach_actuals(results_table(grid, keys, Store(project.cache)), latest.figures)
    failures = pd.DataFrame(report.failed, columns=["scenario", "label", "error", "parameters", "traceback"])
    final = project.reports / "sweeps" / grid.name
    with staged_dir(final, "sweep") as out:
        df.to_parquet(out / "results.parquet", index=False)
        write_csv(df, out / "results.csv", float_format="%.6g")
        write_csv(failures, out / "failures.csv")
        edition.write_edition(out, grid, df, failures)
        edition.write_meta(out, grid, project.root, df)
    return final


__all__ = ["GridError", "SweepReport", "run_sweep", "results_table", "attach_actuals", "compute_scenario",
           "prepare_vintage", "scenario_key", "valid_entry", "SCENARIO"]
