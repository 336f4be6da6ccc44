"""The pseudo-real-time evaluation as a sweep: one task per data vintage, on a dask cluster.

A grid file with ``kind: evaluation`` lists series (its scenarios: entity, flow, partner,
currency, models, as_of).  For each series, every release date up to its ``as_of`` is a task that
cleans the raw tables as known on that date and draws every candidate model's forecasts of the
targets published later (:func:`xjtrade.stats.pseudo_real_time.draw_vintage`: the expensive
part, vintages x models x horizons).  The client then calibrates the vintages in date order
(:func:`~xjtrade.stats.pseudo_real_time.calibrate_all`: cheap, and sequential because each
vintage's intervals use the errors known by then) and stores the frame in the project's cache
under the key the build's forecast notebook uses (:func:`xjtrade.report.outlook.evaluation_key`),
so a later ``xjtrade build`` of the same series reads it instead of recomputing it.

The frame is the same, byte for byte, as the serial :func:`~xjtrade.stats.pseudo_real_time.evaluate`
in one process: each vintage's seed depends on its date only.
"""

from __future__ import annotations

import time
from pathlib import Path

from xjtrade.cache import events_offset, relay
from xjtrade.project import Project, staged_dir
from xjtrade.sweep.reports import EvaluationReport
from xjtrade.textsafe import write_csv


def draw_task(date: str, *, raw, final, series: tuple[str, str, str, str], models: tuple, n: int, cache_dir: str | None):
    """(evidence as known on `date`, its drawn forecasts): one vintage of one series (a task; no
    plotting imports, one BLAS thread)."""
    import os
    from threadpoolctl import threadpool_limits
    from xjtrade.data import vintages
    from xjtrade.stats import pseudo_real_time as prt
    from xjtrade.stats.latent_adapter import latent_paths
    if cache_dir and not os.access(Path(cache_dir).parent, os.W_OK):
        cache_dir = None
    ev = vintages.vintage_evidence(raw, [date], *series, cache_dir=Path(cache_dir) if cache_dir else None)[date]
    with threadpool_limits(1):
        return ev, prt.draw_vintage(date, ev, final, latent=latent_paths, fit_cache={}, n=n, models=models)


def series_inputs(params, latest, cache_root: Path | None = None) -> dict:
    """The evaluation plan of one series as the build's forecast notebook makes it
    (:func:`xjtrade.report.outlook.evaluation_plan`), from the run's figures (cut at `as_of` when given)."""
    from xjtrade.data import clean
    from xjtrade.report import outlook as xo
    from xjtrade.report.scenario import context
    figures, issues = latest.figures, latest.issues
    if params.as_of:
        cleaned = clean.clean(latest.raw, as_of=params.as_of.isoformat())
        figures, issues = cleaned.figures, cleaned.issues
    return xo.evaluation_plan(context(params, figures, issues, latest.raw.sources), latest.raw, cache_root)


def evaluate_series(client, params, latest, raw_future, cache_root: Path, log=print,
                    task_timeout: float | None = None) -> tuple:
    """(frame or None, "cached" / "computed" / "failed", failures): one series' evaluation, its
    vintages drawn on the cluster behind `client`."""
    from xjtrade.report import outlook as xo
    from xjtrade.stats import pseudo_real_time as prt
    from xjtrade.sweep.cluster import run_tasks
    inp = series_inputs(params, latest, cache_root)
    cached = xo.cached_frame(inp)   # checked: an entry edited by hand is logged and recomputed
    if cached is not None:
        return cached, "cached", []
    drawn, evs, failures = {}, {}, []
    for done, (date, out) in enumerate(run_tasks(
            draw_task, inp["dates"], client=client, idle_timeout=task_timeout, raw=raw_future, final=inp["final"],
            series=inp["series"],
            models=tuple(params.models), n=prt.N_DRAWS, cache_dir=str(cache_root / "vintages")), start=1):
        if out.ok:
            evs[date], drawn[date] = out.value
        else:
            failures.append({"scenario": params.name, "vintage": date, "error": out.error,
                             "traceback": out.traceback})
            log(f"  {params.name}: vintage {date} FAILED: {out.error}\n{out.traceback.rstrip()}")
        if done % 8 == 0 or done == len(inp["dates"]):
            log(f"  {params.name}: {done}/{len(inp['dates'])} vintages drawn")
    if failures:   # an incomplete evaluation is never stored: its calibration would be wrong
        return None, "failed", failures
    frame = prt.calibrate_all(drawn, evs)
    return xo.store_frame(frame, inp), "computed", []


def run_evaluation(project: Project, grid, latest, scheduler: str | None = None, n_workers: int | None = None,
                   publish: bool = True, log=print, task_timeout: float | None = None) -> EvaluationReport:
    """Every series of an evaluation grid; the tables and a page in reports/sweeps/<grid>/."""
    from xjtrade.sweep.cluster import connect
    t0 = time.perf_counter()
    report = EvaluationReport(grid=grid.name, series=len(grid.scenarios))
    frames = []
    log(f"evaluation grid {grid.name}: {len(grid.scenarios)} series")
    with connect(scheduler, n_workers, log=log) as client:
        raw_future = client.scatter(latest.raw, broadcast=True)
        for sc in grid.scenarios:
            offset = events_offset(project.cache)
            try:
                frame, status, failures = evaluate_series(client, sc.params, latest, raw_future, project.cache,
                                                          log=log, task_timeout=task_timeout)
            finally:   # cache entries that failed their check (here or on the workers) are named
                relay(project.cache, offset, log)
            report.failed += failures
            if status == "cached":
                report.cached += 1
            elif status == "computed":
                report.computed += 1
            if frame is not None:
                report.tasks += int(frame["vintage"].nunique()) if status == "computed" else 0
                frames.append(frame.assign(scenario=sc.params.name, label=sc.label or "base"))
            log(f"{sc.params.name} ({sc.label or 'base'}): {status}"
                + (f", {frame['vintage'].nunique()} vintages, {len(frame)} forecasts" if frame is not None else ""))
    if publish:
        report.out_dir = write_evaluation(project, grid, frames, report.failed)
    report.seconds = time.perf_counter() - t0
    return report


def tables(frames: list) -> dict:
    """The published tables: every forecast, the scores by series, use, horizon and model, and the
    track record (the model chosen at each vintage with what was known then)."""
    import pandas as pd
    from xjtrade.stats import pseudo_real_time as prt
    if not frames:
        empty = pd.DataFrame(columns=["scenario", "label"])
        return {"evaluation": empty, "scores": empty, "track_record": empty}
    ev = pd.concat(frames, ignore_index=True)
    ev = ev[["scenario", "label", *[c for c in ev.columns if c not in ("scenario", "label")]]]
    scores = prt.scores(ev, by=("scenario", "label", "use", "bucket", "model"))
    track = pd.concat([prt.track_record(f).assign(scenario=f["scenario"].iloc[0], label=f["label"].iloc[0])
                       for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else ev.iloc[0:0]
    return {"evaluation": ev, "scores": scores, "track_record": track}


def write_evaluation(project: Project, grid, frames: list, failed: list) -> Path:
    import pandas as pd
    from xjtrade.sweep import edition
    tabs = tables(frames)
    final = project.reports / "sweeps" / grid.name
    with staged_dir(final, "sweep") as out:
        tabs["evaluation"].to_parquet(out / "evaluation.parquet", index=False)
        for name, df in tabs.items():
            write_csv(df, out / f"{name}.csv", float_format="%.6g")
        write_csv(pd.DataFrame(failed, columns=["scenario", "vintage", "error", "traceback"]), out / "failures.csv")
        edition.write_evaluation_page(out, grid, tabs, failed)
        edition.write_meta(out, grid, project.root)
    return final


__all__ = ["EvaluationReport", "draw_task", "evaluate_series", "run_evaluation", "series_inputs", "tables"]
