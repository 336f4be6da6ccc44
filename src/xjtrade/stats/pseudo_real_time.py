"""Pseudo-real-time evaluation: what each model would have said at each release date.

For every release date since 2019 (``as_of`` = the publication date), the evidence of the series as
known then (annual and year-to-date totals: built by the data layer, :mod:`xjtrade.data.vintages`)
is given to every model, which forecasts the targets that were published later: the next
year-to-date release of the current year, the current year's total and the next year's total.
Only reported windows are targets (year-to-date and calendar-year figures), never a month inside
a multi-month block.

Two passes.  :func:`draw_vintage` draws every candidate's forecasts at one date (the expensive,
parallel part).  :func:`calibrate_all` then walks the dates in order, each using only the errors
known by then: it calibrates every candidate's intervals (by use and horizon: months known within
the year, horizon beyond), mixes the skill-weighted combination with the weights known then, and
adds the rows of the **outlook** itself (model ``outlook``): what the choice rule of
:mod:`xjtrade.stats.choice` would have published at that date.  Those rows are the track record.

The result is one tidy frame (statsforecast's ``cross_validation`` style): ``vintage, model, use,
target, period, year, horizon, months_known, known_bucket, point (the median), mean, lo80, hi80,
lo95, hi95, actual, error, scaled_error, in80, in95, winkler80, winkler95`` and more;
:mod:`xjtrade.stats.scoring` summarises it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xjtrade.stats import calibration as cal
from xjtrade.stats import registry as reg
from xjtrade.stats.choice import MIN_ORIGINS
from xjtrade.stats.nowcast import known_bucket, skill_weights
from xjtrade.stats.paths import simulate
from xjtrade.stats.scoring import HORIZON_BUCKETS, bucket, scores  # noqa: F401  (re-exported)

__all__ = ["evaluate", "draw_vintage", "score_vintage", "draw_all", "calibrate_all", "Drawn", "scores", "choose",
           "track_record", "MIN_ORIGINS", "DEFAULTS", "HORIZON_BUCKETS", "position", "calibrate_paths",
           "calibration_at", "cal_bucket"]

DEFAULTS = reg.DEFAULTS
ANNUAL_ONLY = ("naive", "mean_growth", "combination")   # years-ahead models also scored within the year, ignoring it
N_DRAWS = 1000
OUTLOOK = "outlook"        # the model name of the rows the choice rule would have published


# --- targets and forecasts ---------------------------------------------------------------------

def position(annual: dict, ytd: dict) -> tuple[int | None, int]:
    """(current year, months of it known) given the evidence; (None, 0) without any."""
    last = max(annual) if annual else None
    later = [(y, m) for (y, m) in ytd if last is None or y > last]
    if later:
        y0 = max(y for y, _ in later)
        return y0, max(m for y, m in later if y == y0)
    return (last + 1, 0) if last is not None else (None, 0)


def cal_bucket(use: str, months_known: int, horizon: int) -> str:
    """The horizon class of a target for calibration and scores: the months known within the year,
    the horizon bucket beyond."""
    return known_bucket(months_known) if use == reg.WITHIN_YEAR else bucket(horizon)


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
        t["use"] = reg.WITHIN_YEAR if (t["year"] == y0 and m0 > 0) else reg.YEARS_AHEAD
        t["months_known"] = m0
        t["known_bucket"] = known_bucket(m0)
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


def _factors(model, use, year, y0, m0, s_raw, calib, bucket_name: str | None = None) -> tuple[float, float]:
    """(long-history floor factor, conformal factor) of a target of `year` for `use`: the conformal
    factor of the model at that horizon (``bucket_name``) when it has enough past errors there, else
    of the model and use pooled, else 1."""
    k_floor = 1.0
    sigma = (calib or {}).get("sigma", float("nan"))
    if use == reg.YEARS_AHEAD and np.isfinite(sigma) and s_raw > 0:
        steps = year - y0 + 1 - m0 / 12
        k_floor = max(1.0, sigma * math.sqrt(steps) / s_raw)
    k = (calib or {}).get("k", {})
    if bucket_name is not None and (model, use, bucket_name) in k:
        return k_floor, k[(model, use, bucket_name)]
    return k_floor, k.get((model, use), 1.0)


def calibrate_paths(paths, calib: dict, within: str, ahead: str):
    """The outlook's paths with each year's total calibrated as in the evaluation (the current
    year's unknown months with the within-year model's factor at the months known, later years with
    the years-ahead model's floor and factor at their horizon); months are scaled with their year,
    so they still add up."""
    import copy

    out = copy.copy(paths)
    draws = paths.draws.copy()
    idx = paths.months
    y0, m0 = paths.first.year, paths.first.month - 1
    for year in sorted(set(idx.year)):
        cols = np.flatnonzero(idx.year == year)
        rest = draws[:, cols].sum(axis=1)
        use = reg.WITHIN_YEAR if (year == y0 and m0 > 0) else reg.YEARS_AHEAD
        horizon = (year - y0) * 12 + 12 - m0
        _, s_raw = cal.log_spread(rest)
        kf, kc = _factors(within if use == reg.WITHIN_YEAR else ahead, use, year, y0, m0, s_raw, calib,
                          cal_bucket(use, m0, horizon))
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
    k_floor, k_conf = _factors(t["model"], t["use"], t["year"], y0, m0, s_raw, calib,
                               cal_bucket(t["use"], m0, t["horizon"]))
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
    lo80, hi80, lo95, hi95, med = np.quantile(draws, [a[0], 1 - a[0], a[1], 1 - a[1], 0.5])
    point = float(med)
    le = math.log(t["actual"] / point)
    r = {"vintage": vintage, "model": model, **{k: t[k] for k in ("use", "target", "period", "year", "month",
                                                                   "horizon", "months_known", "known_bucket",
                                                                   "figure", "actual_published")},
         "point": point, "mean": float(np.mean(draws)), "lo80": lo80, "hi80": hi80, "lo95": lo95,
         "hi95": hi95, "actual": t["actual"], "error": t["actual"] - point, "log_error": le, "scale": scale,
         "scaled_error": le / scale if scale > 0 else np.nan}
    for lv, lo, hi in ((80, lo80, hi80), (95, lo95, hi95)):
        r[f"in{lv}"] = bool(lo <= t["actual"] <= hi)
        alpha = 1 - lv / 100
        la, llo, lhi = math.log(t["actual"]), math.log(lo), math.log(hi)
        w = (lhi - llo) + (2 / alpha) * (max(llo - la, 0) + max(la - lhi, 0))
        r[f"winkler{lv}"] = w / scale if scale > 0 else np.nan
    return r


@dataclass
class Drawn:
    """One vintage's simulated forecasts before calibration (the expensive, parallel part): the
    draws of every (model, target), the vintage's position and the unit of its scaled errors.
    ``current``: each model's draws of the current year's total (path by path: the anchor of its
    later years, and what a within-year choice puts under another model's later years)."""
    vintage: str
    y0: int
    m0: int
    known: float
    scale: float
    items: list       # (model, target dict, draws, whether the draws include the known figure)
    current: dict = field(default_factory=dict)


def _seed(vintage: str) -> int:
    return int(hashlib.sha256(vintage.encode()).hexdigest()[:8], 16)


def draw_vintage(vintage: str, ev_v, ev_f, latent=None, fit_cache: dict | None = None, n: int = N_DRAWS,
                 models=None) -> Drawn | None:
    """Every model's draws for the targets published after `vintage` (None: no target); `models`:
    the years-ahead candidates (None: all; the fallback combination and the benchmarks are always
    drawn).  The seed depends on the vintage only, so vintages give the same draws in any order or
    process."""
    targets = _targets(ev_v, ev_f, vintage)
    y0, m0 = position(ev_v.annual, ev_v.ytd)
    if not targets or y0 is None:     # (no evidence at all gives no target either)
        return None
    known = ev_v.ytd.get((y0, m0), 0.0) if m0 > 0 else 0.0
    until = max(t["year"] for t in targets)
    scale = _scale(ev_v.annual, ev_v.ytd, y0)
    items, current = [], {}
    seed = _seed(vintage)
    models = reg.YEARS_AHEAD_MODELS if models is None else tuple(models)
    ahead = [m for m in reg.REGISTRY if m.use == reg.YEARS_AHEAD
             and (m.name in models or m.benchmark or m.name == DEFAULTS[reg.YEARS_AHEAD])]
    for model in ahead:
        try:
            p = simulate(ev_v.annual, ev_v.ytd, until, growth=model, within="share_mean", n=n, seed=seed,
                         fit_cache=fit_cache)
        except ValueError:
            continue
        current[model.name] = p.annual_draws(y0)
        for t in targets:
            if t["use"] == reg.YEARS_AHEAD:
                items.append((model.name, t, p.ytd_draws(t["year"], t["month"]), True))
    within = [t for t in targets if t["use"] == reg.WITHIN_YEAR]
    if m0 > 0:
        for model in reg.REGISTRY:
            if not isinstance(model, (reg.YtdShare, reg.ShrunkGrowth)):
                continue
            try:
                p = simulate(ev_v.annual, ev_v.ytd, y0, growth=DEFAULTS[reg.YEARS_AHEAD], within=model, n=n,
                             seed=seed, fit_cache=fit_cache)
            except ValueError:
                continue
            current[model.name] = p.annual_draws(y0)
            items += [(model.name, t, p.ytd_draws(t["year"], t["month"]), True) for t in within]
        for name in ANNUAL_ONLY:
            try:
                p = simulate(ev_v.annual, ev_v.ytd, y0, growth=name, use_ytd=False, n=n, seed=seed,
                             fit_cache=fit_cache)
            except ValueError:
                continue
            items += [(name, t, p.ytd_draws(t["year"], t["month"]), False) for t in within]
    if latent is not None:
        try:
            p = latent(ev_v, until, n, seed)
            current["latent"] = p.annual_draws(y0)
            items += [("latent", t, p.ytd_draws(t["year"], t["month"]), True) for t in targets]
        except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError, KeyError):
            pass
    return Drawn(vintage, y0, m0, known, scale, items, current)


def score_vintage(drawn: Drawn | None, calib: dict | None = None) -> list[dict]:
    """The rows of one drawn vintage's candidates, their intervals calibrated with `calib` (what was
    known at the vintage: {"sigma": long-history growth volatility, "k": {(model, use[, bucket]):
    conformal factor}}); None leaves the models' own intervals."""
    if drawn is None:
        return []
    rows = []
    for model, t, draws, with_known in drawn.items:
        d, info = _calibrated({**t, "model": model}, draws, drawn.known if with_known else 0.0, drawn.y0,
                              drawn.m0, calib)
        rows.append({**_row(drawn.vintage, model, t, d, drawn.scale), **info})
    return rows


def forecast_vintage(vintage: str, ev_v, ev_f, latent=None, fit_cache: dict | None = None,
                     n: int = N_DRAWS, models=None, calib: dict | None = None) -> list[dict]:
    """All candidate rows of one vintage: :func:`draw_vintage` then :func:`score_vintage`."""
    return score_vintage(draw_vintage(vintage, ev_v, ev_f, latent, fit_cache, n, models), calib)


def calibration_at(rows, vintage: str, ev_v, min_past: int = cal.MIN_PAST) -> dict:
    """The calibration known at `vintage`: the long-history growth volatility of its evidence and,
    for each model and use, and each model, use and horizon class (months known within the year,
    horizon bucket beyond), the conformal factor from the rows whose actual was published by then."""
    from xjtrade.stats.benchmarks import ShareModel

    y0, _ = position(ev_v.annual, ev_v.ytd)
    share = ShareModel.fit({k: v for k, v in ev_v.ytd.items() if y0 is None or k[0] < y0}, ev_v.annual)
    sigma, n_sigma = cal.growth_volatility(ev_v.annual, ev_v.ytd, share, before=y0)
    past: dict = {}
    for r in rows:
        if r["actual_published"] and r["actual_published"] <= vintage and r["model"] != OUTLOOK:
            past.setdefault((r["model"], r["use"]), []).append(r["z"])
            b = cal_bucket(r["use"], r["months_known"], r["horizon"])
            past.setdefault((r["model"], r["use"], b), []).append(r["z"])
    k = {}
    for key, z in past.items():
        f, n_z = cal.inflation(z, min_past=min_past)
        if n_z >= min_past:
            k[key] = f
    return {"sigma": sigma, "n_sigma": n_sigma, "k": k}


COLUMNS = ["vintage", "model", "use", "target", "period", "year", "month", "horizon", "months_known", "known_bucket",
           "figure", "actual_published", "point", "mean", "lo80", "hi80", "lo95", "hi95", "actual", "error",
           "log_error", "scale", "scaled_error", "in80", "in95", "winkler80", "winkler95", "known", "sd_raw",
           "k_floor", "k_conformal", "z", "in80_raw", "in95_raw", "within_model", "ahead_model", "chosen_by"]


def draw_all(vintages: dict, final, latent=None, n: int = N_DRAWS, models=None) -> dict:
    """{vintage: Drawn} in this process (one BLAS thread: the fits are tiny and threads only
    contend); :mod:`xjtrade.sweep.evaluation` does the same on a dask cluster."""
    from threadpoolctl import threadpool_limits

    cache: dict = {}
    with threadpool_limits(1):
        return {v: draw_vintage(v, vintages[v], final, latent=latent, fit_cache=cache, n=n, models=models)
                for v in sorted(vintages)}


def _mixture(drawn: Drawn, members_draws: dict, weights: dict) -> np.ndarray:
    """Path index -> member, drawn with the weights (the same for every target of the vintage, so the
    mixture's paths stay coherent across targets)."""
    names = [m for m in weights if m in members_draws]
    w = np.array([weights[m] for m in names], float)
    w = w / w.sum()
    n = len(next(iter(members_draws.values())))
    rng = np.random.default_rng(_seed(drawn.vintage) + 1)
    return np.array(names, dtype=object)[rng.choice(len(names), size=n, p=w)]


def _combined_items(drawn: Drawn, scored: list, model=None) -> tuple[list, dict]:
    """The skill-weighted combination's raw draws for the within-year targets of a vintage (and of its
    current year), with its weights and their reason."""
    model = model or reg.MODELS["skill_weighted"]
    if drawn.m0 == 0:
        return [], {}
    weights, why = skill_weights(scored, model.members, known_bucket(drawn.m0))
    by: dict[tuple, dict] = {}      # (target, month) -> {model: (target row, draws)}
    for name, t, d, with_known in drawn.items:
        if name in model.members and t["use"] == reg.WITHIN_YEAR:
            by.setdefault((t["target"], t["month"]), {})[name] = (t, d)
    have = [m for m in model.members if m in drawn.current]
    if not have:
        return [], {}
    weights = {m: weights[m] for m in have}
    pick = _mixture(drawn, {m: drawn.current[m] for m in have}, weights)
    items = []
    for (target, month), got in by.items():
        if not all(m in got for m in have):
            continue
        t = next(iter(got.values()))[0]
        d = np.empty(len(pick))
        for m in have:
            idx = pick == m
            d[idx] = got[m][1][idx]
        items.append((model.name, t, d, True))
    cur = np.empty(len(pick))
    for m in have:
        idx = pick == m
        cur[idx] = drawn.current[m][idx]
    return items, {"current": cur, "weights": weights, "reason": why}


def calibrate_all(drawn: dict, vintages: dict, calibrate: bool = True, min_origins: int | None = None) -> pd.DataFrame:
    """The tidy evaluation frame from the drawn vintages, in date order.  At each vintage, with what
    was known then only (the rows of earlier vintages whose outcome was published by that date):
    the candidates' intervals are calibrated (:func:`calibration_at`; with `calibrate` False the
    models' own intervals are kept, as they are in ``in80_raw`` / ``in95_raw``), the skill-weighted
    combination is mixed, and the choice rule (:mod:`xjtrade.stats.choice`) picks the outlook's
    models, whose rows (model ``outlook``) are the track record."""
    from xjtrade.stats import choice

    rows: list = []
    for v in sorted(drawn):
        dv = drawn[v]
        calib = calibration_at(rows, v, vintages[v]) if calibrate else None
        if dv is None:
            continue
        known_rows = [r for r in rows if r["actual_published"] and r["actual_published"] <= v]
        comb_items, comb = _combined_items(dv, known_rows)
        full = Drawn(dv.vintage, dv.y0, dv.m0, dv.known, dv.scale, dv.items + comb_items,
                     {**dv.current, **({"skill_weighted": comb["current"]} if comb else {})})
        new = score_vintage(full, calib)
        past = pd.DataFrame(known_rows, columns=COLUMNS) if known_rows else pd.DataFrame(columns=COLUMNS)
        pick = choice.choose_all(past, as_of=v, min_origins=min_origins, months_known=dv.m0)
        new += _outlook_rows(full, pick, calib)
        rows += new
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["bucket"] = [bucket(int(h)) for h in df["horizon"]]
    return df


def _outlook_rows(drawn: Drawn, pick: dict, calib) -> list[dict]:
    """What the outlook would have published at the vintage: the within-year choice's draws for the
    current year's targets; for later years, the years-ahead choice's draws scaled path by path by the
    ratio of the within-year choice's current-year total to the one they were anchored on (as the
    outlook splices its paths)."""
    w, a = pick[reg.WITHIN_YEAR], pick[reg.YEARS_AHEAD]
    by = {(name, t["target"], t["month"]): (t, d, k) for name, t, d, k in drawn.items}
    out = []
    for t in {(t["target"], t["month"]): t for _, t, _, _ in drawn.items}.values():
        chosen = w.model if t["use"] == reg.WITHIN_YEAR else a.model
        hit = by.get((chosen, t["target"], t["month"]))
        for fallback in (DEFAULTS[t["use"]], reg.LAST_RESORT[t["use"]].name):
            if hit is None:
                chosen = fallback
                hit = by.get((chosen, t["target"], t["month"]))
        if hit is None:
            continue
        _, d, with_known = hit
        if t["use"] == reg.YEARS_AHEAD and drawn.m0 > 0 and w.model in drawn.current and chosen in drawn.current:
            d = d * (drawn.current[w.model] / drawn.current[chosen])
        dd, info = _calibrated({**t, "model": chosen}, d, drawn.known if with_known else 0.0, drawn.y0, drawn.m0,
                               calib)
        r = {**_row(drawn.vintage, OUTLOOK, t, dd, drawn.scale), **info,
             "within_model": w.model, "ahead_model": a.model,
             "chosen_by": w.reason if t["use"] == reg.WITHIN_YEAR else a.reason}
        out.append(r)
    return out


def evaluate(vintages: dict, final, latent=None, n: int = N_DRAWS, models=None,
             calibrate: bool = True) -> pd.DataFrame:
    """The tidy evaluation frame over all vintages ({as_of: Evidence}; `final`: the evidence whose
    later figures are the actuals): every vintage drawn (:func:`draw_all`), then calibrated in
    date order (:func:`calibrate_all`)."""
    return calibrate_all(draw_all(vintages, final, latent, n, models), vintages, calibrate)


# --- the choice and the track record -----------------------------------------------------------

def choose(frame: pd.DataFrame, use: str, as_of: str | None = None, min_origins: int | None = None):
    """The model for one use at `as_of` by the choice rule (:func:`xjtrade.stats.choice.choose`)."""
    from xjtrade.stats import choice
    return choice.choose(frame, use, as_of=as_of, min_origins=min_origins)


def track_record(frame: pd.DataFrame, min_origins: int | None = None) -> pd.DataFrame:
    """What the outlook would have said at each vintage (the rows of model ``outlook``: the models
    chosen by the rule with what was known at that date), against what was published later."""
    t = frame[frame["model"] == OUTLOOK]
    return t.sort_values(["vintage", "horizon"]).reset_index(drop=True)
