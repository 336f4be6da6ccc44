"""Pseudo-real-time evaluation: what each model would have said at each release date.

For every release date since 2019 (``as_of`` = the publication date), the evidence of the series as
known then (annual and year-to-date totals: built by the data layer, :mod:`xjtrade.data.vintages`)
is given to every model, which forecasts the targets
that were published later: the next year-to-date release of the current year, the current
year's total and the next year's total.  Only reported windows are targets (year-to-date and
calendar-year figures), never a month inside a multi-month block.

The result is one tidy frame (statsforecast's ``cross_validation`` style): ``vintage, model,
use, target, period, horizon, point, lo80, hi80, lo95, hi95, actual, error, scaled_error`` and
more; :func:`scores` summarises it by horizon and :func:`choose` picks the model for each use.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xjtrade.stats.benchmarks import ANNUAL_BENCHMARKS
from xjtrade.stats.registry import DEFAULTS
from xjtrade.stats import calibration as cal
from xjtrade.stats.paths import simulate

__all__ = ["evaluate", "draw_vintage", "score_vintage", "draw_all", "calibrate_all", "Drawn", "scores", "choose", "track_record",
           "MIN_ORIGINS", "DEFAULTS", "HORIZON_BUCKETS"]

MIN_ORIGINS = 8            # fewer scored forecasts than this: the robust default is used
ANNUAL_ONLY = ("naive", "mean_growth", "combination")   # benchmarks that ignore the year-to-date figures
HORIZON_BUCKETS = [(1, 3, "1-3 months"), (4, 6, "4-6 months"), (7, 11, "7-11 months"),
                   (12, 17, "12-17 months"), (18, 23, "18-23 months"), (24, 36, "24 months or more")]
N_DRAWS = 1000


def bucket(h: int) -> str:
    for lo, hi, name in HORIZON_BUCKETS:
        if lo <= h <= hi:
            return name
    return f"{h} months"


# --- targets and forecasts ---------------------------------------------------------------------

def position(annual: dict, ytd: dict) -> tuple[int, int]:
    """(current year, months of it known) given the evidence."""
    last = max(annual) if annual else None
    later = [(y, m) for (y, m) in ytd if last is None or y > last]
    if later:
        y0 = max(y for y, _ in later)
        return y0, max(m for y, m in later if y == y0)
    return (last + 1, 0) if last is not None else (None, 0)


def _targets(ev_v, ev_f, vintage: str) -> list[dict]:
    y0, m0 = position(ev_v.annual, ev_v.ytd)
    if y0 is None:
        return []
    out = []
    later_months = sorted(m for (y, m) in ev_f.ytd if y == y0 and m > m0 and (y, m) not in ev_v.ytd)
    if later_months:
        k = later_months[0]
        fid = ev_f.ytd_ids[(y0, k)]
        out.append({"target": "next release", "year": y0, "month": k, "horizon": k - m0, "figure": fid,
                    "actual": ev_f.ytd[(y0, k)]})
    for yr, name in ((y0, "current year"), (y0 + 1, "next year")):
        if yr in ev_f.annual and yr not in ev_v.annual:
            out.append({"target": name, "year": yr, "month": 12, "horizon": (yr - y0) * 12 + 12 - m0,
                        "figure": ev_f.annual_ids[yr], "actual": ev_f.annual[yr]})
    for t in out:
        t["use"] = "within year" if (t["year"] == y0 and m0 > 0) else "years ahead"
        t["months_known"] = m0
        t["actual_published"] = ev_f.published.get(t["figure"], "")
        t["period"] = str(t["year"]) if t["month"] == 12 else f"Jan-{pd.Timestamp(2000, t['month'], 1):%b} {t['year']}"
    return out


def _scale(annual: dict, ytd: dict, y0: int) -> float:
    """Mean absolute one-year change of the log annual totals known before y0 (the in-sample
    error of the naive annual forecast): the unit of the scaled errors."""
    from xjtrade.stats.benchmarks import ShareModel
    from xjtrade.stats.paths import filled_history

    share = ShareModel.fit({k: v for k, v in ytd.items() if k[0] < y0}, annual)
    years, logs, _ = filled_history(annual, {k: v for k, v in ytd.items() if k[0] < y0}, share, y0)
    d = np.abs(np.diff(logs))
    return float(np.mean(d)) if len(d) else float("nan")


def _factors(model, use, year, y0, m0, s_raw, calib) -> tuple[float, float]:
    """(long-history floor factor, conformal factor) of a target of `year` for `use`."""
    k_floor = 1.0
    sigma = (calib or {}).get("sigma", float("nan"))
    if use == "years ahead" and np.isfinite(sigma) and s_raw > 0:
        steps = year - y0 + 1 - m0 / 12
        k_floor = max(1.0, sigma * math.sqrt(steps) / s_raw)
    return k_floor, (calib or {}).get("k", {}).get((model, use), 1.0)


def calibrate_paths(paths, calib: dict, within: str, ahead: str):
    """The outlook's paths with each year's total calibrated as in the evaluation (the current
    year's unknown months with the within-year model's factor, later years with the years-ahead
    model's floor and factor); months are scaled with their year, so they still add up."""
    import copy

    out = copy.copy(paths)
    draws = paths.draws.copy()
    idx = paths.months
    y0, m0 = paths.first.year, paths.first.month - 1
    for year in sorted(set(idx.year)):
        cols = np.flatnonzero(idx.year == year)
        rest = draws[:, cols].sum(axis=1)
        use = "within year" if (year == y0 and m0 > 0) else "years ahead"
        _, s_raw = cal.log_spread(rest)
        kf, kc = _factors(within if use == "within year" else ahead, use, year, y0, m0, s_raw, calib)
        new = cal.widen(rest, 0.0, kf * kc)
        draws[:, cols] *= (new / rest)[:, None]
    out.draws = draws
    out.notes = {**paths.notes, "calibration": {"sigma": calib.get("sigma"), "within": within, "ahead": ahead}}
    return out


def _calibrated(t, draws, known, y0, m0, calib):
    """(draws after calibration, columns recording it): the long-history floor for years-ahead
    targets and the model's conformal factor (see :mod:`xjtrade.stats.calibration`)."""
    if t["year"] != y0 or m0 == 0:
        known = 0.0
    med, s_raw = cal.log_spread(draws - known)
    k_floor, k_conf = _factors(t["model"], t["use"], t["year"], y0, m0, s_raw, calib)
    rest = t["actual"] - known
    z = math.log(rest) - med if rest > 0 else float("nan")
    info = {"known": known, "sd_raw": s_raw, "k_floor": k_floor, "k_conformal": k_conf,
            "z": z / (s_raw * k_floor) if s_raw > 0 else float("nan")}
    a = (0.1, 0.9, 0.025, 0.975)
    q = np.quantile(draws, a)
    info.update(in80_raw=bool(q[0] <= t["actual"] <= q[1]), in95_raw=bool(q[2] <= t["actual"] <= q[3]))
    if calib is None:
        return draws, info
    return cal.widen(draws, known, k_floor * k_conf), info


def _row(vintage, model, t, draws, scale):
    a = (100 - 80) / 200, (100 - 95) / 200
    lo80, hi80, lo95, hi95 = np.quantile(draws, [a[0], 1 - a[0], a[1], 1 - a[1]])
    point = float(np.mean(draws))
    le = math.log(t["actual"] / point)
    r = {"vintage": vintage, "model": model, **{k: t[k] for k in ("use", "target", "period", "year", "month",
                                                                   "horizon", "months_known", "figure",
                                                                   "actual_published")},
         "point": point, "median": float(np.median(draws)), "lo80": lo80, "hi80": hi80, "lo95": lo95,
         "hi95": hi95, "actual": t["actual"], "error": t["actual"] - point, "log_error": le, "scale": scale,
         "scaled_error": le / scale if scale > 0 else np.nan}
    for lv, lo, hi in ((80, lo80, hi80), (95, lo95, hi95)):
        r[f"in{lv}"] = bool(lo <= t["actual"] <= hi)
        alpha = 1 - lv / 100
        la, llo, lhi = math.log(t["actual"]), math.log(lo), math.log(hi)
        w = (lhi - llo) + (2 / alpha) * (max(llo - la, 0) + max(la - lhi, 0))
        r[f"winkler{lv}"] = w / scale if scale > 0 else np.nan
    return r


def _draws_for(paths, t):
    return paths.ytd_draws(t["year"], t["month"])


@dataclass
class Drawn:
    """One vintage's simulated forecasts before calibration (the expensive, parallel part): the
    draws of every (model, target), the vintage's position and the unit of its scaled errors."""
    vintage: str
    y0: int
    m0: int
    known: float
    scale: float
    items: list       # (model, target dict, draws, whether the draws include the known figure)


def draw_vintage(vintage: str, ev_v, ev_f, latent=None, fit_cache: dict | None = None, n: int = N_DRAWS,
                 models=ANNUAL_BENCHMARKS) -> Drawn | None:
    """Every model's draws for the targets published after `vintage` (None: no target); `models`:
    the years-ahead candidates (the combination is always drawn: it is the robust default).  The
    seed depends on the vintage only, so vintages give the same draws in any order or process."""
    targets = _targets(ev_v, ev_f, vintage)
    if not targets:
        return None
    y0, m0 = position(ev_v.annual, ev_v.ytd)
    known = ev_v.ytd.get((y0, m0), 0.0) if m0 > 0 else 0.0
    until = max(t["year"] for t in targets)
    scale = _scale(ev_v.annual, ev_v.ytd, y0)
    items = []
    seed = int(hashlib.sha256(vintage.encode()).hexdigest()[:8], 16)
    for model in [m for m in ANNUAL_BENCHMARKS if m in models or m == DEFAULTS["years ahead"]]:
        try:
            p = simulate(ev_v.annual, ev_v.ytd, until, growth=model, share_method="mean", n=n, seed=seed,
                         fit_cache=fit_cache)
        except ValueError:
            continue
        for t in targets:
            if t["use"] == "years ahead":
                items.append((model, t, _draws_for(p, t), True))
            elif model == "combination":
                items.append(("share_mean", t, _draws_for(p, t), True))
    if m0 > 0:
        within = [t for t in targets if t["use"] == "within year"]
        try:
            p = simulate(ev_v.annual, ev_v.ytd, until, growth="combination", share_method="last", n=n, seed=seed,
                         fit_cache=fit_cache)
            items += [("share_last", t, _draws_for(p, t), True) for t in within]
        except ValueError:
            pass
        for model in ANNUAL_ONLY:
            try:
                p = simulate(ev_v.annual, ev_v.ytd, until, growth=model, use_ytd=False, n=n, seed=seed,
                             fit_cache=fit_cache)
            except ValueError:
                continue
            items += [(f"{model}_annual", t, _draws_for(p, t), False) for t in within]
    if latent is not None:
        try:
            p = latent(ev_v, until, n, seed)
            items += [("latent", t, _draws_for(p, t), True) for t in targets]
        except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError, KeyError):
            pass
    return Drawn(vintage, y0, m0, known, scale, items)


def score_vintage(drawn: Drawn | None, calib: dict | None = None) -> list[dict]:
    """The rows of one drawn vintage, its intervals calibrated with `calib` (what was known at the
    vintage: {"sigma": long-history growth volatility, "k": {(model, use): conformal factor}});
    None leaves the models' own intervals."""
    if drawn is None:
        return []
    rows = []
    for model, t, draws, with_known in drawn.items:
        d, info = _calibrated({**t, "model": model}, draws, drawn.known if with_known else 0.0, drawn.y0,
                              drawn.m0, calib)
        rows.append({**_row(drawn.vintage, model, t, d, drawn.scale), **info})
    return rows


def forecast_vintage(vintage: str, ev_v, ev_f, latent=None, fit_cache: dict | None = None,
                     n: int = N_DRAWS, models=ANNUAL_BENCHMARKS, calib: dict | None = None) -> list[dict]:
    """All model rows of one vintage: :func:`draw_vintage` then :func:`score_vintage`."""
    return score_vintage(draw_vintage(vintage, ev_v, ev_f, latent, fit_cache, n, models), calib)


def calibration_at(rows, vintage: str, ev_v, min_past: int = cal.MIN_PAST) -> dict:
    """The calibration known at `vintage`: the long-history growth volatility of its evidence and,
    for each model and use, the conformal factor from the rows whose actual was published by then."""
    from xjtrade.stats.benchmarks import ShareModel

    y0, _ = position(ev_v.annual, ev_v.ytd)
    share = ShareModel.fit({k: v for k, v in ev_v.ytd.items() if y0 is None or k[0] < y0}, ev_v.annual)
    sigma, n_sigma = cal.growth_volatility(ev_v.annual, ev_v.ytd, share, before=y0)
    past: dict = {}
    for r in rows:
        if r["actual_published"] and r["actual_published"] <= vintage:
            past.setdefault((r["model"], r["use"]), []).append(r["z"])
    k = {key: cal.inflation(z, min_past=min_past)[0] for key, z in past.items()}
    return {"sigma": sigma, "n_sigma": n_sigma, "k": k}


COLUMNS = ["vintage", "model", "use", "target", "period", "year", "month", "horizon", "months_known", "figure",
           "actual_published", "point", "median", "lo80", "hi80", "lo95", "hi95", "actual", "error", "log_error",
           "scale", "scaled_error", "in80", "in95", "winkler80", "winkler95", "known", "sd_raw", "k_floor",
           "k_conformal", "z", "in80_raw", "in95_raw"]


def draw_all(vintages: dict, final, latent=None, n: int = N_DRAWS, models=ANNUAL_BENCHMARKS) -> dict:
    """{vintage: Drawn} in this process (one BLAS thread: the fits are tiny and threads only
    contend); :mod:`xjtrade.sweep.evaluation` does the same on a dask cluster."""
    from threadpoolctl import threadpool_limits

    cache: dict = {}
    with threadpool_limits(1):
        return {v: draw_vintage(v, vintages[v], final, latent=latent, fit_cache=cache, n=n, models=models)
                for v in sorted(vintages)}


def calibrate_all(drawn: dict, vintages: dict, calibrate: bool = True) -> pd.DataFrame:
    """The tidy evaluation frame from the drawn vintages.  With `calibrate`, each vintage's
    intervals are calibrated with what was known at that vintage only (:func:`calibration_at`,
    from the rows of earlier vintages: a sequential, cheap pass); the models' own coverage stays
    in ``in80_raw`` / ``in95_raw``."""
    rows: list = []
    for v in sorted(drawn):
        calib = calibration_at(rows, v, vintages[v]) if calibrate else None
        rows += score_vintage(drawn[v], calib)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["bucket"] = [bucket(int(h)) for h in df["horizon"]]
    return df


def evaluate(vintages: dict, final, latent=None, n: int = N_DRAWS, models=ANNUAL_BENCHMARKS,
             calibrate: bool = True) -> pd.DataFrame:
    """The tidy evaluation frame over all vintages ({as_of: Evidence}; `final`: the evidence whose
    later figures are the actuals): every vintage drawn (:func:`draw_all`), then calibrated in
    date order (:func:`calibrate_all`)."""
    return calibrate_all(draw_all(vintages, final, latent, n, models), vintages, calibrate)


# --- scores and the choice ---------------------------------------------------------------------

def _summ(g: pd.DataFrame) -> pd.Series:
    q = g["scaled_error"].to_numpy(float)
    return pd.Series({"n": len(g), "MASE": float(np.nanmean(np.abs(q))),
                      "RMSSE": float(np.sqrt(np.nanmean(q**2))),
                      "MAPE": float(np.mean(np.abs(g["error"] / g["actual"])) * 100),
                      "coverage80": float(g["in80"].mean()), "coverage95": float(g["in95"].mean()),
                      "winkler80": float(g["winkler80"].mean()), "winkler95": float(g["winkler95"].mean())})


def scores(frame: pd.DataFrame, by=("use", "bucket", "model")) -> pd.DataFrame:
    """Accuracy by use, horizon bucket and model (MASE/RMSSE on log errors scaled by the in-sample
    annual naive error; empirical coverage of the 80 % and 95 % intervals; Winkler scores)."""
    if frame.empty:
        return pd.DataFrame(columns=[*by, "n", "MASE", "RMSSE", "MAPE", "coverage80", "coverage95",
                                     "winkler80", "winkler95"])
    order = {b[2]: i for i, b in enumerate(HORIZON_BUCKETS)}
    out = frame.groupby(list(by), sort=False).apply(_summ, include_groups=False).reset_index()
    if "bucket" in by:
        out = out.assign(_o=out["bucket"].map(order)).sort_values(["use", "_o", "MASE"]).drop(columns="_o")
    return out.reset_index(drop=True)


@dataclass
class Choice:
    use: str
    model: str
    reason: str
    n: int
    table: pd.DataFrame


def choose(frame: pd.DataFrame, use: str, as_of: str | None = None, min_origins: int = MIN_ORIGINS) -> Choice:
    """The model for one use, by the lowest MASE over the forecasts all candidates made whose actual
    was published by `as_of`; the robust default when fewer than `min_origins` forecasts are scored."""
    f = frame[frame["use"] == use]
    if as_of is not None:
        f = f[(f["actual_published"] != "") & (f["actual_published"] <= as_of) & (f["vintage"] <= as_of)]
    default = DEFAULTS[use]
    if f.empty:
        return Choice(use, default, f"no forecast for this use could be scored yet, so the robust default "
                                    f"({default}) is used", 0, pd.DataFrame())
    key = ["vintage", "target"]
    counts = f.groupby("model").size()
    common = f.groupby(key)["model"].nunique()
    full = common[common == counts.index.size].index
    g = f.set_index(key).loc[full].reset_index() if len(full) else f.iloc[0:0]
    n = int(len(full))
    if n < min_origins:
        return Choice(use, default, f"only {n} forecasts could be scored for every model (at least "
                                    f"{min_origins} are required), so the robust default ({default}) is used",
                      n, scores(f, by=("model",)))
    tab = scores(g, by=("model",)).sort_values("MASE").reset_index(drop=True)
    best = tab.iloc[0]
    return Choice(use, str(best["model"]), f"lowest MASE ({best['MASE']:.2f}) over {n} forecasts scored for "
                                           f"every model", n, tab)


def track_record(frame: pd.DataFrame, min_origins: int = MIN_ORIGINS) -> pd.DataFrame:
    """What the outlook would have said at each vintage: the model chosen with the scores known at
    that date (actuals published by then) for each use, against what was published later."""
    rows = []
    for v, g in frame.groupby("vintage"):
        for use, gu in g.groupby("use"):
            ch = choose(frame, use, as_of=v, min_origins=min_origins)
            pick = gu[gu["model"] == ch.model]
            if pick.empty:
                pick = gu[gu["model"] == DEFAULTS[use]]
            rows.append(pick.assign(chosen_by=ch.reason))
    if not rows:
        return frame.iloc[0:0]
    return pd.concat(rows).sort_values(["vintage", "horizon"]).reset_index(drop=True)
