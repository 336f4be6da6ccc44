"""One scenario's analysis as plain function calls: no kernel, no notebook, no plotting.

What the notebooks compute for one parameter set (the growth figures and the outlook with its
pseudo-real-time evaluation), reduced to a tidy list of rows: one per target of the outlook (the
current year's nowcast and each year ahead, with the 80 % and 95 % intervals), each carrying the
scenario's growth figures and the evaluation scores of the models the outlook chose.  Used by
`xjtrade sweep`; the numbers are those of the book: the same functions (`chapters.growth_analysis`,
`outlook.outlook`) with the same settings (the book's number of simulated paths, the evaluation's
release dates and vintages), so a one-scenario sweep gives the book's numbers (tests/test_numbers.py).

Nothing here imports matplotlib or seaborn (checked by the tests): this module runs in the
workers of a dask cluster.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from xjtrade.report import chapters as ch
from xjtrade.report import outlook as xo
from xjtrade.report.context import check_against_data
from xjtrade.report.params import ParameterError, RunParams

NOT_ESTIMABLE = "not estimable"


def context(params: RunParams, figures: pd.DataFrame, issues: pd.DataFrame, sources: pd.DataFrame) -> ch.Context:
    return ch.Context(params=params, figures=figures, issues=issues, sources=sources, out_dir=None)


def _num(x):
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def scenario_meta(params: RunParams) -> dict:
    return {"scenario": params.name, "entity": params.entity, "flow": params.flow, "partner": params.partner,
            "currency": params.currency, "as_of": params.as_of.isoformat() if params.as_of else "",
            "models": ",".join(params.models), "horizon": params.horizon,
            "start_year": params.start_year, "end_year": params.end_year}


def growth_columns(g: dict) -> dict:
    """The growth figures of `chapters.growth_analysis` results, flat."""
    out = {"n_years": g.get("n_years", 0), "latest_year": g.get("latest_year"),
           "latest_value": _num(g.get("latest_value")), "latest_yoy_pct": _num(g.get("latest_yoy_pct"))}
    whole = g.get("cagr", [])
    if whole:
        out.update(cagr_start=whole[0].get("start"), cagr_end=whole[0].get("end"),
                   cagr_pct=_num(whole[0].get("cagr_pct")))
    t = g.get("trend", {})
    out.update(trend_growth_pct=_num(t.get("growth_pct")), trend_ci_low=_num(t.get("ci_low")),
               trend_ci_high=_num(t.get("ci_high")))
    return out


def outlook_rows(o: dict) -> list[dict]:
    """One row per annual target of an `outlook.outlook` result (or one "not estimable" row)."""
    res = o["results"]
    if not res.ok:
        return [{"target": "outlook", "period": "", "status": NOT_ESTIMABLE, "reason": res.reason}]
    choice = {c.use: c for c in res.choices}
    scores = xo.prt.scores(o["frame"], by=("use", "model")) if len(o["frame"]) else pd.DataFrame()
    rows = []
    for a in res.annual:
        use = "within year" if res.months_known and a.year == res.current_year else "years ahead"
        c = choice[use]
        row = {"target": "nowcast" if use == "within year" else "annual", "period": str(a.year), "status": "ok",
               "reason": "", "model": c.model, "why": c.reason, "forecast": a.point,
               "lower_80": a.lo80, "upper_80": a.hi80, "lower_95": a.lo95, "upper_95": a.hi95,
               "months_known": res.months_known, "known_ytd": _num(res.known_ytd),
               "track_coverage_80": _num(res.coverage80), "track_coverage_95": _num(res.coverage95),
               "track_n": res.track_record_forecasts}
        s = scores[(scores["use"] == use) & (scores["model"] == c.model)] if len(scores) else scores
        if len(s):
            row.update(backtest_n=int(s.iloc[0]["n"]), backtest_MASE=_num(s.iloc[0]["MASE"]),
                       backtest_MAPE=_num(s.iloc[0]["MAPE"]), backtest_coverage_80=_num(s.iloc[0]["coverage80"]),
                       backtest_coverage_95=_num(s.iloc[0]["coverage95"]))
        rows.append(row)
    return rows


def run(params: RunParams, figures: pd.DataFrame, issues: pd.DataFrame, sources: pd.DataFrame, raw,
        cache_dir: str | Path | None = None) -> list[dict]:
    """All rows of one scenario. `raw` (the raw tables) feeds the pseudo-real-time evaluation's
    vintages, cached under `cache_dir` when given.  Too little data gives rows with status
    "not estimable" and the reason; only a genuine error raises."""
    meta = scenario_meta(params)
    try:
        check_against_data(params, figures)
    except ParameterError as exc:  # e.g. a port with no figures yet in an early vintage
        return [{**meta, "target": "all", "period": "", "status": NOT_ESTIMABLE, "reason": str(exc)}]
    ctx = context(params, figures, issues, sources)
    gcols = growth_columns(ch.growth_analysis(ctx)["results"])
    o = xo.outlook(ctx, raw=raw, cache_dir=Path(cache_dir) if cache_dir else None)   # the book's settings
    return [{**meta, **gcols, **row} for row in outlook_rows(o)]


__all__ = ["NOT_ESTIMABLE", "context", "growth_columns", "outlook_rows", "run", "scenario_meta"]
