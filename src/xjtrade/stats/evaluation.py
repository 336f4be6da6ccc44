"""Rolling-origin evaluation of the forecasting models (FPP3 section 5.10) and the choice among them.

Pure functions: pandas in, pandas / dataclasses out; the models come from the registry in
:mod:`xjtrade.stats.models`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from xjtrade.stats.models import (
    MODEL_ORDER, _level_tag, _normalize_levels, _spec, _validated, fit_forecast, min_obs,
)

__all__ = ["BacktestResult", "backtest", "choose_model"]


@dataclass
class BacktestResult:
    """Rolling-origin evaluation; see :func:`backtest` for the definitions."""

    forecasts: pd.DataFrame
    summary: pd.DataFrame
    by_horizon: pd.DataFrame
    failures: pd.DataFrame
    horizon: int
    min_train: int
    levels: tuple



def _accuracy(df: pd.DataFrame, levels: tuple) -> dict:
    e = df["error"].to_numpy(dtype=float)
    a = df["actual"].to_numpy(dtype=float)
    out = {"n_forecasts": int(len(df))}
    if len(df) == 0:
        out.update({"MAE": np.nan, "RMSE": np.nan, "MAPE": np.nan, "MASE": np.nan})
        for lv in levels:
            out[f"coverage_{_level_tag(lv)}"] = np.nan
        return out
    out["MAE"] = float(np.mean(np.abs(e)))
    out["RMSE"] = float(np.sqrt(np.mean(e**2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        pe = np.where(a != 0, 100.0 * e / a, np.nan)
    out["MAPE"] = float(np.nanmean(np.abs(pe))) if np.isfinite(pe).any() else np.nan
    q = df["scaled_error"].to_numpy(dtype=float)
    out["MASE"] = float(np.nanmean(np.abs(q))) if np.isfinite(q).any() else np.nan
    for lv in levels:
        tag = _level_tag(lv)
        inside = (df[f"lower_{tag}"] <= df["actual"]) & (df["actual"] <= df[f"upper_{tag}"])
        out[f"coverage_{tag}"] = float(inside.mean())
    return out


def backtest(
    y: pd.Series,
    models: Sequence[str],
    horizon: int = 1,
    min_train: int | None = None,
    levels: Sequence[float] = (80, 95),
    season_length: int = 12,
    mase_lag: int = 1,
    model_options: dict | None = None,
) -> BacktestResult:
    """Rolling-origin (expanding window) evaluation, FPP3 section 5.10.

    For every origin ``t = min_train, ..., len(y) - horizon`` each model is
    fitted on the first ``t`` observations ``y[:t]`` and forecasts
    ``h = 1..horizon`` steps ahead; the forecast for ``h`` is compared with
    ``y[t + h - 1]``. Only origins with the full horizon available are used.

    ``min_train`` defaults to the largest minimum-observation requirement of
    the requested models (so that all models are evaluated on the *same*
    forecasts), reduced to ``len(y) - horizon`` if the series is too short,
    and never below 2. Models that need more than the training size at an
    origin are recorded in ``failures`` for that origin.

    Definitions (``e = actual - forecast``)
    ---------------------------------------
    * ``MAE  = mean(|e|)``; ``RMSE = sqrt(mean(e^2))``
    * ``MAPE = mean(|e / actual|) * 100`` (forecasts with ``actual == 0`` are
      skipped)
    * ``MASE = mean(|q|)`` with the scaled error ``q = e / scale`` and
      ``scale = mean(|y_t - y_{t-m}|)`` over the *training data of that
      origin*, ``m = mase_lag`` (1 = one-step naive, FPP3's non-seasonal
      definition; use 12 for monthly data to get the seasonal version).
      When ``scale == 0`` the scaled error is NaN and skipped.
    * ``coverage_<L> = share of forecasts with lower_L <= actual <= upper_L``.

    Returns
    -------
    BacktestResult with

    * ``forecasts``: one row per (model, origin, h): ``model, origin`` (label
      of the last training period), ``n_train, h, period`` (label being
      forecast), ``actual, forecast, error, scaled_error,
      lower_<L>, upper_<L>`` for each level L (``lower_80``, ``upper_95``...).
    * ``summary``: indexed by model (in the order given): ``evaluable``
      (fitted at >= 1 origin), ``complete`` (fitted at every origin),
      ``reason`` (first failure reason, "" if none), ``n_origins, n_fitted,
      n_forecasts, MAE, RMSE, MAPE, MASE, coverage_<L>``.
    * ``by_horizon``: the same accuracy measures per (model, h).
    * ``failures``: ``model, origin, n_train, reason`` for every failed fit.

    ``model_options``: ``{model: options}`` passed to :func:`fit_forecast` at every origin.
    """
    models = list(models)
    if not models:
        raise ValueError("models must name at least one model")
    for m in models:
        _spec(m)
    if len(set(models)) != len(models):
        raise ValueError(f"duplicate model names in {models}")
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon}")
    horizon = int(horizon)
    levels = _normalize_levels(levels)
    s = _validated(y)
    n = len(s)
    values = s.to_numpy(dtype=float)
    if min_train is None:
        mt = max(min_obs(m, season_length) for m in models)
        mt = max(min(mt, n - horizon), 2)
    else:
        mt = int(min_train)
        if mt < 2:
            raise ValueError("min_train must be at least 2 (needed for naive and the MASE scale)")
    origins = list(range(mt, n - horizon + 1))
    tags = [_level_tag(lv) for lv in levels]

    rows, fails = [], []
    for t in origins:
        train = s.iloc[:t]
        d = np.abs(values[mase_lag:t] - values[: t - mase_lag]) if t > mase_lag else np.array([])
        scale = float(np.mean(d)) if len(d) else np.nan
        for m in models:
            res = fit_forecast(train, m, horizon, levels, season_length=season_length,
                               options=(model_options or {}).get(m))
            if not res.fitted_ok:
                fails.append(
                    {"model": m, "origin": s.index[t - 1], "n_train": t, "reason": res.reason}
                )
                continue
            for h in range(1, horizon + 1):
                actual = values[t + h - 1]
                fc = float(res.mean.iloc[h - 1])
                err = actual - fc
                row = {
                    "model": m,
                    "origin": s.index[t - 1],
                    "n_train": t,
                    "h": h,
                    "period": s.index[t + h - 1],
                    "actual": actual,
                    "forecast": fc,
                    "error": err,
                    "scaled_error": err / scale if scale > 0 else np.nan,
                }
                for lv, tag in zip(levels, tags):
                    row[f"lower_{tag}"] = float(res.intervals[lv]["lower"].iloc[h - 1])
                    row[f"upper_{tag}"] = float(res.intervals[lv]["upper"].iloc[h - 1])
                rows.append(row)

    cols = ["model", "origin", "n_train", "h", "period", "actual", "forecast", "error", "scaled_error"]
    for tag in tags:
        cols += [f"lower_{tag}", f"upper_{tag}"]
    fdf = pd.DataFrame(rows, columns=cols)
    faildf = pd.DataFrame(fails, columns=["model", "origin", "n_train", "reason"])

    summ = []
    byh = []
    for m in models:
        sub = fdf[fdf["model"] == m]
        mf = faildf[faildf["model"] == m]
        n_fitted = len(origins) - len(mf)
        if not origins:
            reason = (
                f"no forecast origin: series has {n} observations, "
                f"min_train {mt} + horizon {horizon} needs at least {mt + horizon}"
            )
        elif len(mf):
            reason = str(mf["reason"].iloc[0])
            if n_fitted == 0:
                reason = f"never fitted at any of {len(origins)} origins: {reason}"
            else:
                reason = f"failed at {len(mf)} of {len(origins)} origins: {reason}"
        else:
            reason = ""
        rec = {
            "model": m,
            "evaluable": n_fitted > 0 and len(origins) > 0,
            "complete": n_fitted == len(origins) and len(origins) > 0,
            "reason": reason,
            "n_origins": len(origins),
            "n_fitted": n_fitted,
        }
        rec.update(_accuracy(sub, levels))
        summ.append(rec)
        for h in range(1, horizon + 1):
            r = {"model": m, "h": h}
            r.update(_accuracy(sub[sub["h"] == h], levels))
            byh.append(r)
    summary = pd.DataFrame(summ).set_index("model")
    by_horizon = pd.DataFrame(byh)
    return BacktestResult(fdf, summary, by_horizon, faildf, horizon, mt, levels)


_LOWER_IS_BETTER = ("MAE", "RMSE", "MAPE", "MASE")


def choose_model(summary: pd.DataFrame, metric: str = "MASE") -> tuple[str, str]:
    """Pick the evaluable model with the lowest ``metric``; returns ``(name, reason)``.

    ``summary`` is ``BacktestResult.summary`` (indexed by model, or with a
    ``model`` column). Only rows with ``evaluable`` True and a finite metric
    are candidates; if some candidates are ``complete`` (fitted at every
    origin) the incomplete ones are dropped so that all compared models were
    scored on the same forecasts. Values within a relative 1e-9 of the
    minimum are ties, broken by simplicity: naive, snaive, drift,
    mean_growth, loglinear, ets_damped, ets, arima (unknown names last).

    If no model qualifies, returns ``("naive", "no evaluable model ...;
    falling back to naive")``.
    """
    if metric not in _LOWER_IS_BETTER:
        raise ValueError(f"metric must be one of {_LOWER_IS_BETTER}, got {metric!r}")
    df = summary.copy()
    if "model" in df.columns:
        df = df.set_index("model")
    if metric not in df.columns:
        raise ValueError(f"summary has no column {metric!r}")
    ok = df["evaluable"].astype(bool) if "evaluable" in df.columns else pd.Series(True, index=df.index)
    vals = pd.to_numeric(df[metric], errors="coerce")
    cand = df[ok & np.isfinite(vals)]
    if cand.empty:
        return "naive", f"no evaluable model with a finite {metric}; falling back to naive"
    note = ""
    if "complete" in cand.columns and cand["complete"].astype(bool).any():
        dropped = [str(m) for m in cand.index[~cand["complete"].astype(bool)]]
        cand = cand[cand["complete"].astype(bool)]
        if dropped:
            note = f" (ignored {dropped}: not fitted at every origin)"
    v = pd.to_numeric(cand[metric]).astype(float)
    best = float(v.min())
    tol = 1e-9 * max(abs(best), 1e-12)
    tied = [m for m in cand.index if v.loc[m] <= best + tol]
    rank = {name: i for i, name in enumerate(MODEL_ORDER)}
    tied.sort(key=lambda m: (rank.get(m, len(rank)), str(m)))
    name = tied[0]
    n_txt = f" over {int(cand.loc[name, 'n_forecasts'])} forecasts" if "n_forecasts" in cand.columns else ""
    reason = f"{name} has the lowest {metric} ({best:.4g}) among {len(cand)} evaluable models{n_txt}"
    if len(tied) > 1:
        reason += f"; tied with {tied[1:]}, chose the simplest"
    return name, reason + note
