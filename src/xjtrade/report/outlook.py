"""The forecast chapter: one outlook, its nowcast, the model comparison by horizon and the track record.

``outlook(ctx)`` runs the pseudo-real-time evaluation on the run's data (vintages cleaned from
data/raw with ``as_of`` = each release date, cached under the project's cache folder), applies the
choice rule (:mod:`xjtrade.stats.choice`, fixed in docs/forecast-rule.md) with the scores known at
the run's date, and simulates the monthly paths whose medians, means and quantiles give every
monthly, year-to-date and annual number of the outlook (the central number is the median).  It
also gives the release calendar (when the next figures are expected) and the ledger's real
forecasts, scored.  ``annual_with_estimates(ctx)`` gives the growth chapter an annual series
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
from xjtrade.stats import choice, scoring
from xjtrade.stats import pseudo_real_time as prt
from xjtrade.stats import registry as reg
from xjtrade.stats.nowcast import known_bucket
from xjtrade.stats.registry import model_label
from xjtrade.report import forecast_words as fw
# the chapter's tables and charts (re-exported: the notebook and the benchmarks call them from here)
from xjtrade.report.forecast_tables import (benchmark_rows, benchmark_table, comparison_table, coverage_rows,  # noqa: F401
                                            coverage_table, estimates_chart, ledger_table, outlook_chart,
                                            outlook_table, score_rows, track_chart, track_table, weights_table,
                                            year_table)
from xjtrade.report.releases import as_of_date as _as_of, ledger_rows, release_gap, release_window  # noqa: F401
from xjtrade.report import wording
from xjtrade.report.wording import capitalised
from xjtrade.report.results import (CoverageRow, ForecastResults, Interval, LedgerRow, ModelChoice,  # noqa: F401
                                    NoReleaseDate, OutlookResults, ReleaseWindow, ScoreRow,
                                    Target)
from xjtrade.stats.latent_adapter import latent_paths
from xjtrade.stats.paths import Paths, simulate


def annual_with_estimates(ctx) -> pd.DataFrame:
    """year, value, lo80, hi80, lo95, hi95, origin (reported / derived / estimated), inputs."""
    p = ctx.params
    t = annual_estimates(ctx.figures, p.entity, p.flow, p.partner, p.currency)
    t = t[(t["year"] >= p.start_year) & (t["year"] <= p.window_end())]
    # the word the release printed before a reported or derived year's figure ("about"); estimated years
    # carry their intervals instead
    said = dict(zip(ctx.figures["figure_id"], ctx.figures["qualifier"]))
    t = t.assign(qualifier=[wording.qualifier_word(said.get(str(i))) if o != "estimated" else ""
                            for i, o in zip(t["inputs"], t["origin"])])
    # the currency the year's figures were printed in: a dollar figure in a yuan series is converted
    printed = dict(zip(ctx.figures["figure_id"], ctx.figures["currency"]))

    def printed_in(inputs) -> str:
        curs = {c for c in (printed.get(i) for i in str(inputs).split(";") if i) if isinstance(c, str)}
        other = sorted(c for c in curs if c != p.currency)
        words = [wording.CURRENCY_WORDS.get(c, c) for c in sorted(curs - set(other))]
        words += [f"{wording.CURRENCY_WORDS.get(c, c)}, converted" for c in other]
        return wording.join_words(words)
    t = t.assign(**{"printed in": t["inputs"].map(printed_in)})
    return t[["year", "qualifier", "value", "printed in", "lo80", "hi80", "lo95", "hi95", "origin",
              "inputs"]].reset_index(drop=True)


def _raw_and_cache():
    from xjtrade.data.raw import load_raw
    from xjtrade.project import find_project

    proj = find_project()
    return load_raw(proj.raw), proj.cache / "vintages"


def _targets(tab: pd.DataFrame, period_col: str) -> list[Target]:
    out = []
    for r in tab.to_dict("records"):
        out.append(Target(period=str(r[period_col]), year=int(r["year"]), month=int(r.get("month", 12)),
                          **{k: float(r[k]) for k in ("point", "mean", "lo80", "hi80", "lo95", "hi95")}))
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
    entity, flow, partner, currency = plan["series"]
    vint = vintages.vintage_evidence(raw, dates, entity, flow, partner, currency, cache_dir=cache_dir)
    frame = prt.evaluate(vint, final, models=ctx.params.models, latent=latent_paths)
    frame = store_frame(frame, plan)
    return {"frame": frame, "final": final, "as_of": as_of, "dates": dates, "cached": False}


def _base(final, year: int, annual_targets: list[Target]) -> float | None:
    """The total of `year`: reported or derived, else the outlook's own median (a nowcast), else the
    estimate of the year from its year-to-date figures."""
    if year in final.annual:
        return float(final.annual[year])
    own = next((a for a in annual_targets if a.year == year), None)
    if own is not None:
        return float(own.point)
    from xjtrade.stats.benchmarks import ShareModel
    from xjtrade.stats.paths import filled_history
    hist = {k: v for k, v in final.ytd.items() if k[0] <= year}
    years, logs, _ = filled_history(final.annual, hist, ShareModel.fit(hist, final.annual), before=year + 1)
    return float(np.exp(logs[-1])) if years and years[-1] == year else None


def _latest_words(y_last: int, m_last: int) -> str:
    """'is for 2018' (a full year: `y_last` is the year after it, none of its months known) or 'covers
    January-November 2022' (the latest year-to-date figure): the same year the front page's level
    sentence names as the latest."""
    if not m_last:
        return f"is for {y_last - 1}"
    return f"covers {wording.months_words(m_last)} {y_last}" if m_last < 12 else f"is for {y_last}"


def _horizon_of(year: int, y0: int, m0: int) -> tuple[str, str]:
    """(use, horizon class) of an annual target of `year` from a date with `m0` months of `y0` known."""
    if year == y0 and m0 > 0:
        return reg.WITHIN_YEAR, known_bucket(m0)
    return reg.YEARS_AHEAD, scoring.bucket((year - y0) * 12 + 12 - m0)


def outlook(ctx, raw=None, cache_dir=None, n: int = 4000) -> dict:
    """Everything the forecast chapter shows; `results` is an :class:`OutlookResults`, `forecast` the
    chapter's :class:`ForecastResults` (the outlook, the release calendar and the scored ledger)."""
    p = ctx.params
    ev = evaluation(ctx, raw, cache_dir)
    frame, final, as_of = ev["frame"], ev["final"], ev["as_of"]
    y_last, m_last = prt.position(final.annual, final.ytd)
    choices = choice.choose_all(frame, as_of=as_of, min_origins=p.min_origins, months_known=m_last)
    within, ahead = choices[reg.WITHIN_YEAR], choices[reg.YEARS_AHEAD]
    until = max(int(as_of[:4]), y_last or 0) + p.horizon
    track = prt.track_record(frame)
    out = {"frame": frame, "choices": choices, "scores": prt.scores(frame), "as_of": as_of, "track": track,
           "calendar": release_window(ctx, as_of), "no_release_date": release_gap(ctx, as_of),
           "ledger": ledger_rows(ctx, final)}
    if y_last is None or int(as_of[:4]) - y_last > 1:
        why = ("no annual or year-to-date figure of this series was published" if y_last is None else
               f"its latest figure {_latest_words(y_last, m_last)}, "
               f"too long before {as_of[:4]} to say anything about the coming year")
        res = OutlookResults(ok=False, as_of=as_of, reason=f"no outlook can be given for {ctx.subject}: {why}")
        return _finish(out, ctx, res, ok=False)
    try:
        paths = _paths(final, until, within.model, ahead.model, n, weights=within.weights)
        calib = prt.calibration_at(frame.to_dict("records"), as_of, final)
        paths = prt.calibrate_paths(paths, calib, paths.notes.get("within_model") or within.model, ahead.model)
    except ValueError as exc:
        res = OutlookResults(ok=False, as_of=as_of, reason=f"no outlook can be estimated for {ctx.subject}: {exc}")
        return _finish(out, ctx, res, ok=False)
    annual = paths.annual_table()
    ytd = paths.ytd_table()
    monthly = paths.monthly_table()
    y0, m0 = paths.notes["current_year"], paths.notes["months_known"]
    headline_year = int(as_of[:4]) if int(as_of[:4]) >= y0 else y0
    ann = _targets(annual.assign(month=12, period=annual["year"].astype(str)), "period")
    headline = next(a for a in ann if a.year == headline_year)
    base = _base(final, headline_year - 1, ann)
    cov = coverage_rows(track)
    use_h, hclass = _horizon_of(headline_year, y0, m0)
    head_cov = next((c for c in cov if c.use == use_h and c.horizon == hclass),
                    CoverageRow(use=use_h, horizon=hclass, n=0, years=0))
    bench = benchmark_rows(frame)
    b_all = next((b for b in bench if b.by == "pooled"), None)
    used_within = paths.notes.get("within_model") or within.model
    res = OutlookResults(
        ok=True, as_of=as_of, current_year=y0, months_known=m0,
        known_ytd=paths.known_ytd if m0 else None, annual=ann,
        ytd=_targets(ytd, "period"), monthly=_targets(monthly, "period"),
        headline=headline, nowcast=next((a for a in ann if a.year == y0), None) if m0 else None,
        choices=[ModelChoice(use=c.use, model=(used_within if c.use == reg.WITHIN_YEAR else c.model),
                             label=model_label(used_within if c.use == reg.WITHIN_YEAR else c.model),
                             reason=c.reason, scored=c.n) for c in choices.values()],
        vintages=int(frame["vintage"].nunique()), evaluated_forecasts=int(len(frame)),
        coverage80=float(track["in80"].mean()) if len(track) else None,
        coverage95=float(track["in95"].mean()) if len(track) else None,
        track_record_forecasts=int(len(track)), central="median",
        base_year=headline_year - 1 if base else None, base_value=base,
        headline_growth80=[100 * (headline.lo80 / base - 1), 100 * (headline.hi80 / base - 1)] if base else None,
        headline_coverage=head_cov, coverage_by_horizon=cov,
        within_weights={k: float(v) for k, v in (paths.notes.get("weights") or {}).items()},
        scores=score_rows(frame),
        benchmark_ratio80=b_all.ratio80 if b_all else None, benchmark_ratio95=b_all.ratio95 if b_all else None,
        benchmark_n=b_all.n if b_all else 0, benchmark=bench)
    out.update(paths=paths, annual=annual, ytd=ytd, monthly=monthly)
    return _finish(out, ctx, res, ok=True)


def _finish(out: dict, ctx, res: OutlookResults, ok: bool) -> dict:
    out.update(ok=ok, results=res,
               forecast=ForecastResults(outlook=res, calendar=out["calendar"],
                                        no_release_date=out["no_release_date"], ledger=out["ledger"]),
               markdown=_text(ctx, res) if ok else capitalised(res.reason) + ".")
    return out


def _latent_cut(lp, like: Paths) -> Paths:
    """The latent model's paths over the months of `like` (same first month, same length)."""
    start = like.first.ordinal - lp.first.ordinal
    d = lp.draws[:, start:start + like.draws.shape[1]]
    return Paths(first=like.first, draws=d, known_ytd=like.known_ytd, model="latent", notes=dict(like.notes))


def _paths(final, until, within: str, ahead: str, n, seed=20240101, weights: dict | None = None) -> Paths:
    """One set of monthly paths: the current year's unknown months from the within-year model (for the
    skill-weighted combination, each path's months from one member drawn with the weights: a mixture),
    the later years from the years-ahead model, scaled path by path by the ratio of the current-year
    total drawn for the path to the years-ahead model's own (so the later years keep that model's growth
    from its own current year)."""
    bench_ahead = ahead if ahead != "latent" else reg.DEFAULTS[reg.YEARS_AHEAD]
    base = simulate(final.annual, final.ytd, until, growth=bench_ahead, within=reg.LAST_RESORT[reg.WITHIN_YEAR],
                    n=n, seed=seed)
    y0, m0 = base.notes["current_year"], base.notes["months_known"]
    lat: list = []

    def latent() -> Paths:
        if not lat:
            lat.append(_latent_cut(latent_paths(final, until, n, seed), base))
        return lat[0]

    ahead_src = latent() if ahead == "latent" else base
    if m0 == 0:
        return Paths(first=base.first, draws=ahead_src.draws, known_ytd=base.known_ytd, model=ahead,
                     notes={**base.notes, "growth_model": ahead})
    model = reg.model(within)
    members = dict(weights) if isinstance(model, reg.SkillWeighted) and weights else {within: 1.0}
    cur = np.flatnonzero(base.months.year == y0)
    later = np.flatnonzero(base.months.year > y0)
    months = {}
    for name in members:
        try:
            if name == "latent":
                months[name] = latent().draws[:, cur]
            elif name == base.notes.get("within_model"):
                months[name] = base.draws[:, cur]
            else:
                p = simulate(final.annual, final.ytd, y0, growth=bench_ahead, within=name, n=n, seed=seed)
                months[name] = p.draws[:, :len(cur)]
        except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError, KeyError):
            continue
    fallback = not months
    if fallback:         # no member could be drawn: the last resort
        months = {base.notes["within_model"]: base.draws[:, cur]}
    used = {k: members.get(k, 1.0) for k in months}
    total = sum(used.values())
    used = {k: v / total for k, v in used.items()}
    names = list(used)
    pick = np.random.default_rng(seed + 1).choice(len(names), size=n, p=[used[k] for k in names])
    draws = ahead_src.draws.copy()
    for i, name in enumerate(names):
        draws[np.ix_(pick == i, cur)] = months[name][pick == i]
    known = float(base.known_ytd or 0.0)
    ratio = (known + draws[:, cur].sum(axis=1)) / (known + ahead_src.draws[:, cur].sum(axis=1))
    draws[:, later] = ahead_src.draws[:, later] * ratio[:, None]
    chosen = names[0] if fallback else within
    notes = {**base.notes, "growth_model": ahead, "within_model": chosen, "weights": used}
    return Paths(first=base.first, draws=draws, known_ytd=base.known_ytd, model=ahead, notes=notes)


def _fmt(v: float) -> str:
    return f"{v:,.1f}"


def _iv(t: Interval) -> str:
    return f"80% interval {_fmt(t.lo80)} to {_fmt(t.hi80)}, 95% interval {_fmt(t.lo95)} to {_fmt(t.hi95)}"


def _text(ctx, r: OutlookResults) -> str:
    unit = ctx.unit
    head = r.headline
    if head is None:
        raise ValueError("the outlook's text needs its headline (only an outlook that is not ok has none)")
    parts = [f"With the figures published up to {r.as_of}, the outlook for {ctx.subject} in "
             f"**{head.year} is {_fmt(head.point)} {unit}** ({_iv(head)})."]
    wide = fw.headline_sentences(r, unit)
    if wide:
        parts.append(wide)
    if r.nowcast is not None:
        if r.known_ytd is None:
            raise ValueError(f"the outlook has a nowcast of {r.nowcast.year} but no known year-to-date total")
        if r.nowcast.year != head.year:
            parts.append(f"The current year {r.nowcast.year}, of which {r.months_known} months are known "
                         f"({_fmt(r.known_ytd)} {unit}), comes to about {_fmt(r.nowcast.point)} {unit} "
                         f"({_iv(r.nowcast)}).")
        else:
            parts.append(f"This is a nowcast: {r.months_known} months of {r.nowcast.year} are known "
                         f"({_fmt(r.known_ytd)} {unit}).")
    later = [a for a in r.annual if a.year > head.year]
    for t in later:
        parts.append(f"For {t.year}: {_fmt(t.point)} {unit} ({_iv(t)}).")
    ch: dict[str, ModelChoice] = {c.use: c for c in r.choices}
    w, a = ch[reg.WITHIN_YEAR], ch[reg.YEARS_AHEAD]
    if r.months_known:
        members = wording.join_words(f"{model_label(m)} {wording.pct(100 * v, sign=False)}" for m, v in r.within_weights.items())
        parts.append(f"The rest of the current year is estimated with the {w.label}"
                     + (f" ({members}; {w.reason})" if r.within_weights else f" ({w.reason})") + ";")
        parts.append(f"the years ahead with the {a.label} model ({a.reason}).")
    else:
        parts.append(f"The years ahead are estimated with the {a.label} model ({a.reason}).")
    parts.append("The rule that chooses them was fixed before the evaluation of recent years; the methods chapter "
                 "states it.")
    parts.append(fw.central_sentence(r))
    return " ".join(parts)
