"""Sentences about the outlook, generated from the results alone (no number typed by hand).

The forecast chapter, the front page and the build log use these: what the central number is, how
wide the headline interval is in words, the coverage that applies to the horizon shown, when the
next figures are expected and whether the record looks stale.  Each function takes the typed
results (:mod:`xjtrade.report.results`) or their JSON data and returns a string ("" when there is
nothing to say).  Kept free of heavy imports: the publish step and the pipeline use it.
"""

from __future__ import annotations

import datetime as dt

from xjtrade.data.calendar import GRACE_DAYS, is_stale, stale_text  # noqa: F401
from xjtrade.report import wording
from xjtrade.textsafe import md_escape
from xjtrade.report.results import BenchmarkRow, CoverageRow, NoReleaseDate, OutlookResults, ReleaseWindow

__all__ = ["central_sentence", "width_sentence", "coverage_sentence", "release_sentence", "stale_warning",
           "no_date_sentence", "no_date_words", "next_release_sentence",
           "headline_sentences", "horizon_words", "front_page", "methods_evaluation",
           "evaluation_table", "evaluation_sentences", "benchmark_by_year", "nowcast_sentence", "ledger_sentence"]


def _num(v: float) -> str:
    return f"{v:,.1f}"


def _pct(v: float) -> str:
    return wording.pct(v)


def horizon_words(c: CoverageRow) -> str:
    """'with 4-7 months known' / 'made 12-17 months before the end of the target year'."""
    if c.use == "within year":
        return f"with {c.horizon}"
    return f"made {c.horizon} before the end of the target year"


def central_sentence(o: OutlookResults) -> str:
    if not o.ok:
        return ""
    return ("Each central number is the median of the simulated totals: half of the simulated paths end "
            "above it, half below. The totals are skewed to the right, so their mean, given beside it in the "
            "tables, is higher; means add up from months to years, medians do not.")


def width_sentence(o: OutlookResults, unit: str) -> str:
    """'The 2024 outlook's 80% interval, 226.4 to 592.7 billion yuan, is wide: anything from -36.6% to +65.9%
    growth on 2023 would not surprise the model.'"""
    h, g = o.headline, o.headline_growth80
    if not o.ok or h is None or not g or o.base_year is None:
        return ""
    ratio = h.hi80 / h.lo80 if h.lo80 > 0 else float("inf")
    size = "wide" if ratio >= 1.5 else "moderate" if ratio >= 1.15 else "narrow"
    return (f"The {h.year} outlook's 80% interval, {_num(h.lo80)} to {_num(h.hi80)} {unit}, is {size}: anything from "
            f"{_pct(g[0])} to {_pct(g[1])} growth on {o.base_year} would not surprise the model.")


def coverage_sentence(o: OutlookResults) -> str:
    """The track record's coverage at the headline's horizon, beside the nominal levels."""
    c = o.headline_coverage
    if not o.ok or c is None:
        return ""
    if c.n == 0 or c.empirical80 is None:
        return ("No past forecast at this horizon has been scored yet, so how often such intervals hold the "
                "outcome is not known.")
    held80 = round(c.empirical80 * c.n)
    years = wording.count(c.years, "outcome year")
    s = (f"Past outlooks {horizon_words(c)} held the published value inside their 80% interval in {held80} of "
         f"{c.n} forecasts ({wording.pct(100 * c.empirical80, sign=False)}, against 80% nominal)")
    if c.empirical95 is not None:
        s += f" and inside their 95% interval in {wording.pct(100 * c.empirical95, sign=False)} (95% nominal)"
    return s + f"; they concern {years}, so this is a rough guide."


def release_sentence(cal: ReleaseWindow | dict | None) -> str:
    if not cal:
        return ""
    c = cal if isinstance(cal, ReleaseWindow) else ReleaseWindow(**cal)
    return (f"The next figures ({c.period}) are expected around {c.expected} (between {c.earliest} and "
            f"{c.latest}, from the publication lags of the latest {c.releases} releases).")


def _gap(gap: NoReleaseDate | dict | None) -> NoReleaseDate | None:
    return gap if isinstance(gap, NoReleaseDate) or gap is None else NoReleaseDate(**gap)


def no_date_sentence(gap: NoReleaseDate | dict | None) -> str:
    """Why no date can be given for the next figures, from the record's facts (markdown, its data
    escaped; '' when a date can be given): 'No date can be given for this series' next figures: the
    record holds 5 releases of it; only 1 of them came out in the twelve months up to the latest and
    within 90 days of its period's end, fewer than the 3 a release calendar is learned from; the
    latest, for January-November 2022, was published on 2022-12-23, more than a year before the
    latest release in the record.'"""
    g = _gap(gap)
    if g is None:
        return ""
    if not g.releases:
        return ("No date can be given for this series' next figures: the record holds no year-to-date or annual "
                "release of it.")
    fewer = f"fewer than the {g.min_releases} a release calendar is learned from"
    if "few" in g.reasons and g.releases < g.min_releases:
        parts = [f"the record holds only {wording.count(g.releases, 'release')} of it, {fewer}"]
    else:
        parts = [f"the record holds {wording.count(g.releases, 'release')} of it"]
        if "few" in g.reasons:
            parts.append(f"{f'only {g.recent}' if g.recent else 'none'} of them came out in the twelve months up to "
                         f"the latest and within {g.max_lag_days} days of its period's end, {fewer}")
    if "stopped" in g.reasons and g.latest_published:
        parts.append(f"the latest, for {md_escape(g.latest_period)}, was published on {md_escape(g.latest_published)}, "
                     "more than a year before the latest release in the record")
    return "No date can be given for this series' next figures: " + "; ".join(parts) + "."


def no_date_words(gap: NoReleaseDate | dict | None) -> str:
    """The first screen's short form: 'the record has too few recent releases of this series and its
    latest is more than a year old, so no date can be given for its next figures' ('' when a date can
    be given)."""
    g = _gap(gap)
    if g is None:
        return ""
    if not g.releases:
        why = ["no release of this series is in the record"]
    elif g.reasons == ["stopped"]:
        why = ["the latest release of this series is more than a year old"]
    else:
        why = ["the record has too few recent releases of this series"]
        if "stopped" in g.reasons:
            why.append("its latest is more than a year old")
    return wording.join_words(why) + ", so no date can be given for its next figures"


def next_release_sentence(forecast) -> str:
    """The chapter's and the front page's sentence on the next release: when it is expected, or why no
    date can be given (`forecast`: a ForecastResults, or None)."""
    if forecast is None:
        return ""
    return release_sentence(forecast.calendar) or no_date_sentence(forecast.no_release_date)


def stale_warning(cal: ReleaseWindow | dict | None, today: dt.date | str | None = None) -> str:
    """A warning when `today` (default: :func:`xjtrade.manifest.today`) is more than a few days past the
    expected date of the next release: the record may be missing figures (:func:`calendar.stale_text`)."""
    if not cal:
        return ""
    return stale_text(cal.model_dump() if isinstance(cal, ReleaseWindow) else dict(cal), today)


def headline_sentences(o: OutlookResults, unit: str) -> str:
    """The headline's uncertainty in words: its width and the coverage at its horizon."""
    return " ".join(s for s in (width_sentence(o, unit), coverage_sentence(o)) if s)


# ---------------------------------------------------------------- the evaluation, for the methods chapter

def _rows(o: OutlookResults, model: str = "outlook"):
    return [s for s in o.scores if s.model == model]


MID = "4-11 months known"   # the run scores this class over its forecasts (stats.scoring.MID_YEAR)


def _pooled(rows, years: str) -> tuple[int, float | None, int]:
    """(n, MAPE, outcome years) of the outlook's forecasts with 4-11 months known, for one `years` value:
    read from the run's scores, not recomputed."""
    s = next((s for s in rows if s.horizon == MID and s.years == years and s.mape is not None), None)
    return (s.n, s.mape, s.outcome_years) if s is not None else (0, None, 0)


def evaluation_table(o: OutlookResults) -> str:
    """Markdown table: the outlook's scores (the rule's choice at each date) by use and horizon, for each
    era and every year pooled: forecasts, outcome years, MAPE, coverage of the 80% and 95% intervals."""
    rows = [s for s in _rows(o) if s.horizon != MID]   # the pooled class is for the sentences
    eras = sorted({s.years for s in rows if "-" in s.years})
    if not rows:
        return ""
    lines = ["| used for | horizon | years | forecasts | outcome years | MAPE, % | coverage 80% | coverage 95% |",
             "|:--|:--|:--|--:|--:|--:|--:|--:|"]
    seen = []
    for s in rows:
        if (s.use, s.horizon) not in seen:
            seen.append((s.use, s.horizon))
    for use, h in seen:
        for years in [*eras, "all"] if len(eras) > 1 else ["all"]:
            s = next((r for r in rows if r.use == use and r.horizon == h and r.years == years), None)
            if s is None:
                continue
            cov80 = "n/a" if s.coverage80 is None else f"{100 * s.coverage80:.0f}%"
            cov95 = "n/a" if s.coverage95 is None else f"{100 * s.coverage95:.0f}%"
            lines.append(f"| {use} | {h} | {years} | {s.n} | {s.outcome_years} | "
                         f"{'n/a' if s.mape is None else f'{s.mape:.1f}'} | {cov80} | {cov95} |")
    return "\n".join(lines)


def benchmark_by_year(rows: list[BenchmarkRow]) -> str:
    """The benchmark comparison by target year and era, in words: the years in which the outlook's 80 %
    intervals scored better than the benchmark's, worse, or the same (as the ratio prints, to 2 decimals)."""
    years = [(r.group, round(r.ratio80, 2)) for r in rows if r.by == "target year" and r.ratio80 is not None]
    if not years:
        return ""
    if len(years) == 1:
        text = f"The one target year scored, {years[0][0]}, gives a ratio of {years[0][1]:.2f}"
    else:
        side = {word: [y for y, q in years if test(q)] for word, test in (
            ("better", lambda q: q < 1), ("worse", lambda q: q > 1), ("the same", lambda q: q == 1))}
        said: list[str] = []
        for word, ys in ((w, ys) for w, ys in side.items() if ys):
            lead = word if said else ("as well as the benchmark's" if word == "the same"
                                      else f"{word} than the benchmark's")
            said.append(f"{lead} in {wording.join_words(ys)}")
        text = "By target year, the outlook's 80% intervals scored " + "; ".join(said)
    eras = [r for r in rows if r.by == "era" and r.ratio80 is not None]
    if len(eras) > 1:
        text += ". By era, the ratio is " + wording.join_words(
            f"{r.ratio80:.2f} over the target years {r.group} ({wording.count(r.n, 'forecast')})" for r in eras)
    return text + "."


def evaluation_sentences(o: OutlookResults) -> str:
    """What the evaluation shows, in words generated from the scores (the edition's own evidence)."""
    if not o.ok or not o.scores:
        return "This edition has no outlook, so there is no evaluation to report."
    rows = _rows(o)
    parts = []
    n, mape, years = _pooled(rows, "all")
    if n:
        parts.append(f"Within the year, with 4-11 months known, the outlook's central number missed the year's "
                     f"total by {mape:.1f}% on average over {wording.count(n, 'forecast')} about "
                     f"{wording.count(years, 'year')}")
        by_year = sorted({s.years for s in rows if s.years.isdigit()})
        per = [(y, _pooled(rows, y)) for y in by_year]
        per = [(y, v) for y, v in per if v[0]]
        if per:
            parts[-1] += " (" + ", ".join(f"{y}: {v[1]:.1f}%" for y, v in per) + ")"
        parts[-1] += "."
    cov = [s for s in rows if s.use == "within year" and s.years == "all" and s.coverage80 is not None
           and s.horizon != MID]
    if cov:
        parts.append("The 80% intervals held the outcome in " + ", ".join(
            f"{100 * s.coverage80:.0f}% of {s.n} forecasts with {s.horizon}" for s in cov) + ".")
    if o.benchmark_ratio80 is not None and o.benchmark_n:
        better = "better" if o.benchmark_ratio80 < 1 else "worse"
        parts.append(f"For the years ahead, the interval score of the outlook's 80% intervals is "
                     f"{o.benchmark_ratio80:.2f} times the benchmark's (the last total with the empirical "
                     f"distribution of past growth) over {o.benchmark_n} forecasts: {better} than the benchmark; at "
                     f"95%, {o.benchmark_ratio95:.2f} times.")
        bench_words = benchmark_by_year(o.benchmark)
        if bench_words:
            parts.append(bench_words)
    n_years = max((s.outcome_years for s in rows if s.years == "all"), default=0)
    parts.append(f"All of this rests on {wording.count(n_years, 'outcome year')}: forecasts of one year made at "
                 "successive release dates share that year's surprises, so the scores are a rough guide.")
    return " ".join(parts)


def methods_evaluation(results) -> str:
    """The methods chapter's paragraph and table on the evaluation ({{forecast_evaluation}}), from a run's
    results (:class:`xjtrade.report.results.Results`)."""
    f = getattr(results, "forecast", None)
    if f is None or not f.outlook.ok:
        return "This edition has no outlook, so there is no evaluation to report."
    o = f.outlook
    table = evaluation_table(o)
    csv = ('\n\n::: {.content-visible when-format="html"}\n[Full table as CSV](tables/rule_scores.csv)'
           '{.csv-link}\n:::')
    return evaluation_sentences(o) + ("\n\n" + table + "\n\n: The outlook's scores by use, horizon and years "
                                      "(the rule's choice at each release date; MAPE of the median) "
                                      "{#tbl-rule-scores}" + csv if table else "")


def front_page(forecast, unit: str, build_date: str | None = None) -> dict:
    """The front page's sentences about the forecast (``forecast``: a ForecastResults or None): the
    headline's uncertainty in words and the coverage at its horizon (``outlook``), when the next figures
    are expected (``calendar``) and a stale-record warning against the build date or ``XJTRADE_TODAY``
    (``warning``); "" where there is nothing to say."""
    if forecast is None:
        return {"outlook": "", "calendar": "", "warning": ""}
    o = forecast.outlook
    return {"outlook": " ".join(s for s in (headline_sentences(o, unit), central_sentence(o)) if s),
            "calendar": next_release_sentence(forecast),
            "warning": stale_warning(forecast.calendar, build_date)}


def nowcast_sentence(o: OutlookResults, unit: str) -> str:
    """The chapter's nowcast paragraph ("" without an outlook: the chapter has said why)."""
    if not o.ok:
        return ""
    if o.nowcast is None:
        return ("No month of the current year has been published yet, so there is nothing to nowcast: the current "
                "year is forecast from the annual totals.")
    n = o.nowcast
    if o.known_ytd is None:
        raise ValueError(f"the outlook has a nowcast of {n.year} but no known year-to-date total")
    s = (f"Nowcast of {n.year} from {o.months_known} known months ({_num(o.known_ytd)} {unit}): "
         f"**{_num(n.point)} {unit}** (median; 80% interval {_num(n.lo80)} to {_num(n.hi80)}).")
    if o.within_weights:
        s += (" The rest of the year is a mixture of " + wording.join_words(
            f"{wording.model_name(m)} ({wording.pct(100 * w, sign=False)} of the paths)" for m, w in o.within_weights.items()) + ".")
    return s


def ledger_sentence(forecast) -> str:
    """The chapter's paragraph on the ledger's real forecasts."""
    rows = list(getattr(forecast, "ledger", []) or [])
    if not rows:
        return "The ledger holds no published forecast of this series yet."
    rec = sum(r.kind == "recovered" for r in rows)
    scored = [r for r in rows if r.actual is not None]
    s = (f"The ledger holds {wording.count(len(rows), 'published forecast')} of this series"
         + (f" ({rec} recovered from earlier editions)" if rec else "") + "; @tbl-ledger lists them. ")
    if not scored:
        return s + "None of their target years has a published total yet."
    held = sum(bool(r.in80) for r in scored if r.in80 is not None)
    mean_err = sum(abs(r.error_pct) for r in scored) / len(scored)
    return s + (f"{wording.count(len(scored), 'forecast')} can be scored: their central numbers missed by "
                f"{mean_err:.1f}% on average and {held} of them held the outcome in their 80% interval.")
