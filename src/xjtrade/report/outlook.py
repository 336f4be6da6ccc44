"""The forecast chapter: one outlook, its nowcast, the model comparison by horizon and the track record.

``outlook(ctx)`` runs the pseudo-real-time evaluation on the run's data (vintages cleaned from
data/raw with ``as_of`` = each release date, cached under the project's cache folder), chooses
the within-year method and the years-ahead model by the scores known at the run's date, and
simulates the monthly paths whose means and quantiles give every monthly, year-to-date and annual
number of the outlook.  ``annual_with_estimates(ctx)`` gives the growth chapter an annual series
with every year that has evidence.  Results are typed (:class:`OutlookResults`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from xjtrade.cache import Store
from xjtrade.data.estimates import annual_estimates, evidence
from xjtrade.keys import Step, keyer_for
from xjtrade.data import vintages
from xjtrade.stats import pseudo_real_time as prt
from xjtrade.stats.registry import model_label
from xjtrade.report.wording import capitalised
from xjtrade.report.results import Interval, ModelChoice, OutlookResults, Target  # noqa: F401
from xjtrade.stats.latent_adapter import latent_paths
from xjtrade.stats.paths import Paths, simulate


def annual_with_estimates(ctx) -> pd.DataFrame:
    """year, value, lo80, hi80, lo95, hi95, origin (reported / derived / estimated), inputs."""
    p = ctx.params
    t = annual_estimates(ctx.figures, p.entity, p.flow, p.partner, p.currency)
    t = t[(t["year"] >= p.start_year) & (t["year"] <= p.end_year)]
    return t[["year", "value", "lo80", "hi80", "lo95", "hi95", "origin", "inputs"]].reset_index(drop=True)


def _raw_and_cache():
    from xjtrade.data.raw import load_raw
    from xjtrade.project import find_project

    proj = find_project()
    return load_raw(proj.raw), proj.cache / "vintages"


def _as_of(ctx) -> str:
    if ctx.params.as_of:
        return str(ctx.params.as_of)
    pub = ctx.figures.loc[ctx.figures["origin"] == "reported", "published"].replace("", np.nan).dropna()
    return str(pub.max())


def _targets(tab: pd.DataFrame, period_col: str) -> list[Target]:
    out = []
    for r in tab.to_dict("records"):
        out.append(Target(period=str(r[period_col]), year=int(r["year"]), month=int(r.get("month", 12)),
                          **{k: float(r[k]) for k in ("point", "lo80", "hi80", "lo95", "hi95")}))
    return out


# The evaluation frame's step: what `prt.evaluate` (or the sweep's draw_vintage + calibrate_all) runs.
EVALUATION = Step("evaluation", modules=("xjtrade.stats.pseudo_real_time", "xjtrade.stats.latent_adapter"))


def evaluation_key(vkey: str, final, models, n: int = prt.N_DRAWS, latent: bool = True,
                   cache_root: Path | None = None, keyer=None) -> str:
    """The key of an evaluation frame (:data:`EVALUATION`, :mod:`xjtrade.keys`): the vintages'
    key (:func:`xjtrade.data.vintages.vintages_key`, which covers the cleaning code), the final
    evidence (the actuals), the candidate models, the number of draws, and the code and packages
    of the evaluation.  The build's forecast notebook and ``xjtrade sweep`` of an evaluation grid
    store frames under it, so either reuses the other's."""
    keyer = keyer or keyer_for(cache_root)
    return keyer.key(EVALUATION, vintages=vkey, final=vintages._evidence_to_json(final), models=list(models),
                     n=n, latent=latent)[:40]


def frame_store(cache_root: Path | None) -> Store | None:
    """The cache store of the evaluation frames (None: no cache)."""
    return Store(Path(cache_root)) if cache_root is not None else None


def frame_path(cache_root: Path, key: str) -> Path:
    return Store(Path(cache_root)).path("evaluation", key)


def cached_frame(plan: dict) -> pd.DataFrame | None:
    """The plan's evaluation frame from the cache, checked (None: absent, refreshed or rejected)."""
    if plan.get("store") is None:
        return None
    return plan["store"].get_frame("evaluation", plan["key"])


def store_frame(frame: pd.DataFrame, plan: dict) -> pd.DataFrame:
    """Store the plan's frame in the cache (atomically, with its content hash) and return it as read
    back (so a stored and a fresh frame give the same values downstream)."""
    if plan.get("store") is None:
        return frame
    return plan["store"].put_frame("evaluation", plan["key"], frame)


def evaluation_plan(ctx, raw, cache_root: Path | None) -> dict:
    """What the evaluation of the run's series reads (its series, the final evidence whose later
    figures are the actuals, the run's date, the release dates up to it), its key and the cache
    store at `cache_root` (None without a cache).  The forecast notebook and ``xjtrade sweep`` of an
    evaluation grid both use it, so they store and find frames under the same key."""
    p = ctx.params
    series = (p.entity, p.flow, p.partner, p.currency)
    as_of = _as_of(ctx)
    final = evidence(ctx.figures, *series)
    dates = vintages.release_dates(ctx.figures, p.entity, p.flow, p.partner, until=as_of)
    vkey = vintages.vintages_key(raw, dates, *series, cache_root=cache_root)
    key = evaluation_key(vkey, final, p.models, cache_root=cache_root)
    return {"series": series, "final": final, "as_of": as_of, "dates": dates, "key": key,
            "store": frame_store(cache_root),
            "path": frame_path(cache_root, key) if cache_root is not None else None}


def evaluation(ctx, raw=None, cache_dir=None) -> dict:
    """The pseudo-real-time evaluation of the run's series (vintages up to the run's date), read
    from the project's cache when ``xjtrade sweep`` or an earlier run computed the same one (and the
    stored frame passes its check)."""
    if raw is None:
        raw, cache_dir = _raw_and_cache()
    plan = evaluation_plan(ctx, raw, Path(cache_dir).parent if cache_dir is not None else None)
    final, as_of, dates = plan["final"], plan["as_of"], plan["dates"]
    frame = cached_frame(plan)
    if frame is not None:
        return {"frame": frame, "final": final, "as_of": as_of, "dates": dates, "cached": True}
    vint = vintages.vintage_evidence(raw, dates, *plan["series"], cache_dir=cache_dir)
    frame = prt.evaluate(vint, final, models=ctx.params.models, latent=latent_paths)
    frame = store_frame(frame, plan)
    return {"frame": frame, "final": final, "as_of": as_of, "dates": dates, "cached": False}


def outlook(ctx, raw=None, cache_dir=None, n: int = 4000) -> dict:
    """Everything the forecast chapter shows; `results` is an :class:`OutlookResults`."""
    p = ctx.params
    ev = evaluation(ctx, raw, cache_dir)
    frame, final, as_of = ev["frame"], ev["final"], ev["as_of"]
    choices = {use: prt.choose(frame, use, as_of=as_of, min_origins=p.min_origins)
               for use in ("within year", "years ahead")}
    within, ahead = choices["within year"].model, choices["years ahead"].model
    share_method = {"share_last": "last"}.get(within, "mean")
    use_ytd = not within.endswith("_annual")
    until = max(int(as_of[:4]), prt.position(final.annual, final.ytd)[0] or 0) + p.horizon
    out = {"frame": frame, "choices": choices, "scores": prt.scores(frame), "as_of": as_of}
    track = prt.track_record(frame, min_origins=p.min_origins)
    out["track"] = track
    y_last = prt.position(final.annual, final.ytd)[0]
    if y_last is None or int(as_of[:4]) - y_last > 1:
        why = ("no annual or year-to-date figure of this series was published" if y_last is None else
               f"its latest figure is for {y_last - 1 if not final.ytd or max(final.ytd)[0] < y_last else y_last}, "
               f"too long before {as_of[:4]} to say anything about the coming year")
        res = OutlookResults(ok=False, as_of=as_of, reason=f"no outlook can be given for {ctx.subject}: {why}")
        out.update(ok=False, results=res, markdown=capitalised(res.reason) + ".")
        return out
    try:
        paths = _paths(final, until, within, ahead, share_method, use_ytd, n)
        calib = prt.calibration_at(frame.to_dict("records"), as_of, final)
        paths = prt.calibrate_paths(paths, calib, within, ahead)
    except ValueError as exc:
        res = OutlookResults(ok=False, as_of=as_of, reason=f"no outlook can be estimated for {ctx.subject}: {exc}")
        out.update(ok=False, results=res, markdown=capitalised(res.reason) + ".")
        return out
    annual = paths.annual_table()
    ytd = paths.ytd_table()
    monthly = paths.monthly_table()
    y0, m0 = paths.notes["current_year"], paths.notes["months_known"]
    headline_year = int(as_of[:4]) if int(as_of[:4]) >= y0 else y0
    ann = _targets(annual.assign(month=12, period=annual["year"].astype(str)), "period")
    res = OutlookResults(
        ok=True, as_of=as_of, current_year=y0, months_known=m0,
        known_ytd=paths.known_ytd if m0 else None, annual=ann,
        ytd=_targets(ytd, "period"), monthly=_targets(monthly, "period"),
        headline=next(a for a in ann if a.year == headline_year),
        nowcast=next((a for a in ann if a.year == y0), None) if m0 else None,
        choices=[ModelChoice(use=c.use, model=c.model, label=model_label(c.model),
                             reason=c.reason, scored=c.n) for c in choices.values()],
        vintages=int(frame["vintage"].nunique()), evaluated_forecasts=int(len(frame)),
        coverage80=float(track["in80"].mean()) if len(track) else None,
        coverage95=float(track["in95"].mean()) if len(track) else None,
        track_record_forecasts=int(len(track)))
    out.update(ok=True, paths=paths, annual=annual, ytd=ytd, monthly=monthly, results=res,
               markdown=_text(ctx, res))
    return out


def _latent_cut(lp, like: Paths) -> Paths:
    """The latent model's paths over the months of `like` (same first month, same length)."""
    start = like.first.ordinal - lp.first.ordinal
    d = lp.draws[:, start:start + like.draws.shape[1]]
    return Paths(first=like.first, draws=d, known_ytd=like.known_ytd, model="latent", notes=dict(like.notes))


def _paths(final, until, within, ahead, share_method, use_ytd, n, seed=20240101) -> Paths:
    """One set of monthly paths: the current year's unknown months from the within-year method and
    the later years from the years-ahead model, anchored path by path on the drawn current year
    (the latent model's paths are spliced in where it is chosen)."""
    bench_ahead = ahead if ahead != "latent" else prt.DEFAULTS["years ahead"]
    base = simulate(final.annual, final.ytd, until, growth=bench_ahead,
                    share_method=share_method if within != "latent" else "mean",
                    use_ytd=use_ytd if within != "latent" else True, n=n, seed=seed)
    if "latent" not in (within, ahead):
        return base
    lat = _latent_cut(latent_paths(final, until, n, seed), base)
    y0, m0 = base.notes["current_year"], base.notes["months_known"]
    cur = np.flatnonzero(base.months.year == y0)
    later = np.flatnonzero(base.months.year > y0)
    within_src = lat if (within == "latent" and m0 > 0) else base
    ahead_src = lat if ahead == "latent" else base
    draws = ahead_src.draws.copy()
    if m0 > 0:
        draws[:, cur] = within_src.draws[:, cur]
        # later years keep the years-ahead model's growth from its own current year, on the chosen one:
        # the ratio of the two current-year totals (known months included; the unknown months alone
        # can be one month, whose ratio between two models' draws is too noisy to scale years by)
        known = float(base.known_ytd or 0.0)
        ratio = ((known + within_src.draws[:, cur].sum(axis=1)) / (known + ahead_src.draws[:, cur].sum(axis=1)))
        draws[:, later] = ahead_src.draws[:, later] * ratio[:, None]
    notes = {**base.notes, "growth_model": ahead, "within_model": within}
    return Paths(first=base.first, draws=draws, known_ytd=base.known_ytd, model=ahead, notes=notes)


def _fmt(v: float) -> str:
    return f"{v:,.1f}"


def _iv(t: Interval) -> str:
    return f"80% interval {_fmt(t.lo80)} to {_fmt(t.hi80)}, 95% interval {_fmt(t.lo95)} to {_fmt(t.hi95)}"


def _text(ctx, r: OutlookResults) -> str:
    unit = ctx.unit
    parts = [f"With the figures published up to {r.as_of}, the outlook for {ctx.subject} in "
             f"**{r.headline.year} is {_fmt(r.headline.point)} {unit}** ({_iv(r.headline)})."]
    if r.nowcast is not None and r.nowcast.year != r.headline.year:
        parts.append(f"The current year {r.nowcast.year}, of which {r.months_known} months are known "
                     f"({_fmt(r.known_ytd)} {unit}), comes to about {_fmt(r.nowcast.point)} {unit} ({_iv(r.nowcast)}).")
    elif r.nowcast is not None:
        parts.append(f"This is a nowcast: {r.months_known} months of {r.nowcast.year} are known "
                     f"({_fmt(r.known_ytd)} {unit}).")
    later = [a for a in r.annual if a.year > r.headline.year]
    for a in later:
        parts.append(f"For {a.year}: {_fmt(a.point)} {unit} ({_iv(a)}).")
    ch = {c.use: c for c in r.choices}
    parts.append(f"The rest of the current year is estimated with the {ch['within year'].label} method "
                 f"({ch['within year'].reason}); the years ahead with the {ch['years ahead'].label} model "
                 f"({ch['years ahead'].reason}). Monthly, year-to-date and annual figures are means and "
                 f"quantiles of the same simulated monthly paths, so they add up.")
    return " ".join(parts)


# --- tables for the chapter ---------------------------------------------------------------------

def comparison_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Scores by use, horizon and model, with readers' names."""
    s = prt.scores(frame)
    s["model"] = s["model"].map(model_label)
    return s.rename(columns={"use": "used for", "bucket": "horizon", "n": "forecasts", "coverage80": "coverage 80%",
                             "coverage95": "coverage 95%", "winkler80": "Winkler 80%", "winkler95": "Winkler 95%"})


def track_table(track: pd.DataFrame) -> pd.DataFrame:
    t = track[["vintage", "target", "period", "horizon", "model", "point", "lo80", "hi80", "lo95", "hi95",
               "actual", "error"]].copy()
    t["model"] = t["model"].map(model_label)
    t["error %"] = 100 * t["error"] / t["actual"]
    return t.rename(columns={"horizon": "months ahead"})


def coverage_table(track: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for use, g in [("all", track), *track.groupby("use")]:
        row = {"forecasts": use, "n": len(g), "nominal 80%": 80.0, "empirical 80%": 100 * g["in80"].mean(),
               "nominal 95%": 95.0, "empirical 95%": 100 * g["in95"].mean()}
        if "in80_raw" in g:
            row.update({"uncalibrated 80%": 100 * g["in80_raw"].mean(), "uncalibrated 95%": 100 * g["in95_raw"].mean()})
        rows.append(row)
    return pd.DataFrame(rows)


def outlook_table(res: OutlookResults) -> pd.DataFrame:
    rows = [{"target": f"total {a.period}", "forecast": a.point, "lower 80%": a.lo80, "upper 80%": a.hi80,
             "lower 95%": a.lo95, "upper 95%": a.hi95} for a in res.annual]
    rows += [{"target": f"year to date {t.period}", "forecast": t.point, "lower 80%": t.lo80, "upper 80%": t.hi80,
              "lower 95%": t.lo95, "upper 95%": t.hi95} for t in res.ytd if t.month < 12]
    return pd.DataFrame(rows)


# --- figures ---------------------------------------------------------------------------------------

def estimates_chart(est: pd.DataFrame, currency: str, title: str, source: str):
    import matplotlib.pyplot as plt

    from xjtrade.report import figures as xf

    fig, ax = plt.subplots()
    ax.plot(est["year"], est["value"], color="#999999", lw=1, zorder=1)
    styles = {"reported": ("o", xf.PALETTE[0]), "derived": ("s", xf.PALETTE[2]), "estimated": ("D", xf.PALETTE[3])}
    for origin, (marker, colour) in styles.items():
        g = est[est["origin"] == origin]
        if g.empty:
            continue
        if origin == "estimated":
            ax.errorbar(g["year"], g["value"], yerr=[g["value"] - g["lo95"], g["hi95"] - g["value"]], fmt="none",
                        ecolor=colour, elinewidth=1, capsize=3, alpha=0.6)
            ax.errorbar(g["year"], g["value"], yerr=[g["value"] - g["lo80"], g["hi80"] - g["value"]], fmt="none",
                        ecolor=colour, elinewidth=3, alpha=0.8)
        ax.scatter(g["year"], g["value"], marker=marker, color=colour, zorder=3, label=origin)
    ax.legend(frameon=False, fontsize=8)
    xf.integer_years(ax)
    xf.thousands(ax)
    from xjtrade.data.currency import CURRENCIES

    return xf.finish(fig, ax, title, source, ylabel=CURRENCIES[currency].unit)


def outlook_chart(est: pd.DataFrame, annual: pd.DataFrame, currency: str, title: str, source: str):
    import matplotlib.pyplot as plt

    from xjtrade.data.currency import CURRENCIES
    from xjtrade.report import figures as xf

    fig, ax = plt.subplots()
    ax.plot(est["year"], est["value"], "o-", color=xf.PALETTE[0], label="reported, derived or estimated")
    ax.fill_between(annual["year"], annual["lo95"], annual["hi95"], color=xf.PALETTE[1], alpha=0.2, label="95%")
    ax.fill_between(annual["year"], annual["lo80"], annual["hi80"], color=xf.PALETTE[1], alpha=0.35, label="80%")
    ax.plot(annual["year"], annual["point"], "o--", color=xf.PALETTE[1], label="outlook")
    # the axis is scaled to the data and the 80 % bands; a 95 % band beyond it is cut, its top written
    top = xf.HEADROOM * max([float(v) for v in est["value"]] + [float(v) for v in annual["hi80"]] + [0.0])
    if top > 0:
        xf.note_cut_bands(ax, [(int(y), 95, float(hi)) for y, hi in zip(annual["year"], annual["hi95"])
                               if hi > top], top)
        ax.set_ylim(0, top)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    xf.integer_years(ax)
    xf.thousands(ax)
    return xf.finish(fig, ax, title, source, ylabel=CURRENCIES[currency].unit)


def track_chart(track: pd.DataFrame, currency: str, title: str, source: str):
    import matplotlib.pyplot as plt

    from xjtrade.data.currency import CURRENCIES
    from xjtrade.report import figures as xf

    t = track[track["target"] != "next release"].copy()
    t["date"] = pd.to_datetime(t["vintage"])
    fig, ax = plt.subplots()
    for i, (period, g) in enumerate(t.groupby("period")):
        c = xf.PALETTE[i % len(xf.PALETTE)]
        ax.vlines(g["date"], g["lo95"], g["hi95"], color=c, alpha=0.35, lw=1)
        ax.vlines(g["date"], g["lo80"], g["hi80"], color=c, alpha=0.7, lw=3)
        ax.scatter(g["date"], g["point"], color=c, s=12, zorder=3, label=f"total {period}")
        ax.axhline(g["actual"].iloc[0], color=c, ls=":", lw=1)
    ax.legend(frameon=False, fontsize=7, ncol=2, loc="upper left")
    import matplotlib.dates as mdates
    ax.xaxis.set_major_locator(mdates.YearLocator())         # one label a year: dates never collide
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    xf.thousands(ax)
    return xf.finish(fig, ax, title, source, ylabel=CURRENCIES[currency].unit, xlabel="date of the forecast")
