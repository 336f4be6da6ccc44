"""One scenario's analysis as plain function calls: no kernel, no notebook, no plotting.

What the notebooks compute for one parameter set (growth, annual and monthly forecasts with
their backtests, the nowcast), reduced to a tidy list of rows: one per target (each forecast
year, next year's total from the monthly model, the current year's nowcast), each carrying the
scenario's growth figures and the chosen model's backtest scores.  Used by `xjtrade sweep`.

The growth and nowcast computations are those of :mod:`xjtrade.report.chapters`.  The forecasts
follow `chapters.forecast_annual` / `forecast_monthly` with one difference when
``select_once=True`` (the sweep's default): the ARIMA order is chosen once, on the whole series
of the vintage, and reused at every backtest origin instead of being searched again at each
origin (the search dominates the cost of a scenario).  ``select_once=False`` gives exactly the
book's numbers.

Nothing here imports matplotlib or seaborn (checked by the tests): this module runs in the
workers of a dask cluster.
"""

from __future__ import annotations

import math

import pandas as pd

from xjtrade.report import chapters as ch
from xjtrade.report.params import ParameterError, RunParams, check_against_data
from xjtrade.stats import evaluation as ev
from xjtrade.stats import models as fc

NOT_ESTIMABLE = "not estimable"


def context(params: RunParams, figures: pd.DataFrame, issues: pd.DataFrame, sources: pd.DataFrame) -> ch.Context:
    return ch.Context(params=params, figures=figures, issues=issues, sources=sources, out_dir=None)


def evaluate_and_forecast(y: pd.Series, models, horizon: int, levels, min_train: int,
                          select_once: bool = True) -> dict:
    """`chapters._evaluate_and_forecast`, with the ARIMA order chosen once on `y` when `select_once`."""
    levels = tuple(levels)
    fits: dict = {}
    options: dict = {}
    if select_once and "arima" in models:
        fits["arima"] = fc.fit_forecast(y, "arima", horizon, levels=levels)
        if fits["arima"].fitted_ok:
            info = fits["arima"].info
            options["arima"] = {"order": tuple(info["order"]), "trend": info["trend"]}
    if len(y) >= 3:
        mt = min(min_train, len(y) - 1)
        bt = ev.backtest(y, list(models), horizon=1, min_train=mt, levels=levels, model_options=options)
        chosen, why = ev.choose_model(bt.summary)
        summary = bt.summary.rename_axis("model").reset_index()
    else:
        mt, bt = None, None
        chosen, why = "naive", (f"only {len(y)} consecutive observations: no backtest is possible, so the "
                                "naive benchmark is used")
        summary = pd.DataFrame()
    for m in models:
        if m not in fits:
            fits[m] = fc.fit_forecast(y, m, horizon, levels=levels)
    if not fits.get(chosen) or not fits[chosen].fitted_ok:
        reason = fits[chosen].reason if chosen in fits else "not requested"
        fitted = [m for m in fc.MODEL_ORDER if m in fits and fits[m].fitted_ok]
        fallback = fitted[0] if fitted else "naive"
        why += f"; {chosen} cannot be fitted on the full sample ({reason}), so {fallback} is used"
        chosen = fallback
        fits.setdefault(chosen, fc.fit_forecast(y, chosen, horizon, levels=levels))
    return {"backtest": bt, "summary": summary, "chosen": chosen, "why": why, "fits": fits, "min_train": mt,
            "arima_order": options.get("arima")}


def forecast_annual(ctx: ch.Context, select_once: bool = True) -> dict:
    """As `chapters.forecast_annual` (same checks and reasons), returning its `results`."""
    p = ctx.params
    df = ch.annual(ctx)
    y_all = ch.as_series(df)
    if len(y_all) < 2:
        return {"ok": False, "reason": f"{len(y_all)} calendar-year value(s) of {p.entity} {p.flow} in "
                                       f"{p.start_year}-{p.end_year}: nothing to forecast from"}
    y = ch.recent_gapfree(y_all)
    if int(y.index[-1]) < p.end_year - 1:
        return {"ok": False, "reason": f"the latest calendar-year figure of {p.entity} {p.flow} is for "
                                       f"{int(y.index[-1])}, more than a year before the end of the window "
                                       f"({p.end_year}); a forecast from there would forecast the past"}
    if len(y) < 2:
        return {"ok": False, "reason": f"the latest year ({int(y.index[-1])}) follows a gap, so no model has "
                                       "two consecutive years to start from"}
    e = evaluate_and_forecast(y, p.models, p.horizon, p.levels, p.min_train, select_once)
    return {"ok": True, "y": y, **e}


def forecast_monthly(ctx: ch.Context, horizon: int = 12, select_once: bool = True) -> dict:
    """As `chapters.forecast_monthly`; the result also feeds `chapters.nowcast`."""
    p = ctx.params
    y, blocks = ch.monthly_series(ctx)
    if len(y) < 6:
        return {"ok": False, "reason": f"only {len(y)} consecutive months of data (at least 6 are needed)"}
    e = evaluate_and_forecast(y, fc.MONTHLY_MODELS, horizon, p.levels,
                              min_train=13 if len(y) >= 16 else 6, select_once=select_once)
    return {"ok": True, "y": y, "blocks": blocks, **e}


# --- rows ------------------------------------------------------------------------------------

def _num(x):
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _scores(e: dict, model: str) -> dict:
    s = e.get("summary")
    if s is None or len(s) == 0:
        return {}
    s = s.set_index("model")
    if model not in s.index or not bool(s.loc[model, "evaluable"]):
        return {}
    out = {"backtest_n": _num(s.loc[model, "n_forecasts"])}
    for k in s.columns:
        if k in ("MASE", "MAPE", "RMSE") or k.startswith("coverage_"):
            out[f"backtest_{k}"] = _num(s.loc[model, k])
    return out


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


def _target_rows(kind: str, fcast: dict, levels, only=None) -> list[dict]:
    if not fcast.get("ok"):
        return [{"target": kind, "period": "", "status": NOT_ESTIMABLE, "reason": fcast.get("reason", "")}]
    chosen = fcast["chosen"]
    best = fcast["fits"][chosen]
    base = {"target": kind, "status": "ok", "reason": "", "model": chosen, "why": fcast["why"],
            "n_obs": len(fcast["y"]), "last_observed": str(fcast["y"].index[-1]),
            "arima_order": str(fcast["arima_order"]["order"]) if fcast.get("arima_order") else "",
            **_scores(fcast, chosen)}
    rows = []
    for period, mean in best.mean.items():
        if only is not None and period not in only:
            continue
        row = {**base, "period": str(period), "forecast": _num(mean)}
        for lvl in levels:
            iv = best.intervals.get(lvl)
            row[f"lower_{lvl}"] = None if iv is None else _num(iv.loc[period, "lower"])
            row[f"upper_{lvl}"] = None if iv is None else _num(iv.loc[period, "upper"])
        rows.append(row)
    return rows


def run(params: RunParams, figures: pd.DataFrame, issues: pd.DataFrame, sources: pd.DataFrame,
        select_once: bool = True) -> list[dict]:
    """All rows of one scenario. Too little data gives rows with status "not estimable" and the
    reason; only a genuine error raises."""
    meta = scenario_meta(params)
    try:
        check_against_data(params, figures)
    except ParameterError as exc:  # e.g. a port with no figures yet in an early vintage
        return [{**meta, "target": "all", "period": "", "status": NOT_ESTIMABLE, "reason": str(exc)}]
    ctx = context(params, figures, issues, sources)
    g = ch.growth_analysis(ctx)["results"]
    gcols = growth_columns(g)
    rows = _target_rows("annual", forecast_annual(ctx, select_once), params.levels)
    monthly = forecast_monthly(ctx, select_once=select_once)
    if monthly.get("ok"):
        y = monthly["y"]
        next_year = int(y.index[-1].year) + 1
        best = monthly["fits"][monthly["chosen"]]
        months = [per for per in best.mean.index if per.year == next_year]
        total = float(best.mean.loc[months].sum()) if len(months) == 12 else None
        base = {"target": "monthly model, next-year total", "period": str(next_year), "status": "ok",
                "reason": "", "model": monthly["chosen"], "why": monthly["why"], "n_obs": len(y),
                "last_observed": str(y.index[-1]), "forecast": _num(total),
                "arima_order": str(monthly["arima_order"]["order"]) if monthly.get("arima_order") else "",
                **_scores(monthly, monthly["chosen"])}
        if total is None:
            base.update(status=NOT_ESTIMABLE, reason="the monthly forecasts do not cover all of next year")
        rows.append(base)
    else:
        rows += _target_rows("monthly model, next-year total", monthly, ())
    now = ch.nowcast(ctx, monthly)
    if now.get("ok"):
        r = now["results"]
        rows.append({"target": "nowcast", "period": str(r["year"]), "status": "ok", "reason": "",
                     "model": "share of previous year" if "by_share" in r else monthly.get("chosen", ""),
                     "forecast": _num(r.get("by_share", r.get("by_monthly_model"))),
                     "nowcast_by_monthly_model": _num(r.get("by_monthly_model")),
                     "ytd_period": r["period"], "ytd_value": _num(r["ytd_value"])})
    else:
        rows.append({"target": "nowcast", "period": "", "status": NOT_ESTIMABLE, "reason": now.get("reason", "")})
    return [{**meta, **gcols, **row} for row in rows]


__all__ = ["NOT_ESTIMABLE", "context", "evaluate_and_forecast", "forecast_annual", "forecast_monthly",
           "growth_columns", "run", "scenario_meta"]
