"""The edition's annual series and the front page's charts, computed in the run.

:func:`annual_series` is the one definition of "the annual series" every page shows: the
calendar-year figures of the edition's entity, flow, partner and currency inside its window
(`start_year`-`end_year`), then the years of the window with only year-to-date figures, estimated
with their intervals (:func:`xjtrade.data.estimates.annual_estimates`).  The growth chapter, the
front page's facts, its headline chart and that chart's interactive version all read it, so they
give the same window, multiple and counts.

:func:`headline_chart` draws the front page's chart (with the outlook) and :func:`interactive_spec`
the data of its interactive version (every flow and currency); the forecast notebook saves both
(`figures/headline.svg`, `figures/headline.json`) and the chart's series as `tables/headline.csv`.
"""

from __future__ import annotations

import pandas as pd

from xjtrade.data.currency import CURRENCIES
from xjtrade.data.estimates import annual_estimates, evidence
from xjtrade.report import headline, wording
from xjtrade.report.context import subject
from xjtrade.report.results import AnnualSeries, LevelFacts, OutlookResults, SeriesPoint

FLOWS = headline.FLOWS
outlook_series = headline.outlook_series   # the outlook's targets as chart series (one definition)
SURGE_PCT = 20.0    # growth from one year to the next marked on the headline chart


def _qualifier(q) -> str:
    """The qualifier of a processed figure ("exact" when missing)."""
    return str(q) if isinstance(q, str) and q else "exact"


def annual(ctx, flow: str | None = None, partner: str | None = None, currency: str | None = None) -> pd.DataFrame:
    """The calendar-year figures of the series inside the window (rows of the processed figures)."""
    s = ctx.series("year", flow=flow, partner=partner, currency=currency)
    p = ctx.params
    s = s[(s["year"] >= p.start_year) & (s["year"] <= p.window_end()) & s["value"].notna()]
    return s.sort_values("year").reset_index(drop=True)


def as_series(df: pd.DataFrame) -> pd.Series:
    return pd.Series(df["value"].to_numpy(dtype=float), index=df["year"].astype(int).to_numpy(), name="value")


def level_facts(df: pd.DataFrame) -> LevelFacts | None:
    """Where the last calendar-year figure stands against the first one in the window."""
    if df.empty:
        return None
    first, last = df.iloc[0], df.iloc[-1]
    ratio = float(last["value"]) / float(first["value"]) if float(first["value"]) else None
    return LevelFacts(first_year=int(first["year"]), first_value=float(first["value"]), last_year=int(last["year"]),
                      last_value=float(last["value"]), ratio=ratio,
                      change_pct=None if ratio is None else (ratio - 1) * 100,
                      last_qualifier=_qualifier(last["qualifier"]) if "qualifier" in df else "exact")


def annual_series(ctx, flow: str | None = None, currency: str | None = None) -> AnnualSeries:
    """The edition's annual series (another flow or currency of the same entity and partner with
    `flow` / `currency`, for the interactive chart)."""
    p = ctx.params
    flow, currency = flow or p.flow, currency or p.currency
    df = annual(ctx, flow=flow, currency=currency)
    points = []
    for r in df.itertuples(index=False):
        refs, more = ctx.source_refs(r.figure_id)
        points.append(SeriesPoint(year=int(r.year), value=float(r.value), origin=r.origin, figure_id=r.figure_id,
                                  sources=refs, more_sources=more, qualifier=_qualifier(r.qualifier),
                                  printed_in=r.printed_in if isinstance(r.printed_in, str) else None))
    est = annual_estimates(ctx.figures, p.entity, flow, p.partner, currency)
    est = est[(est["origin"] == "estimated") & est["year"].between(p.start_year, p.window_end())
              & ~est["year"].isin(df["year"])]
    known = evidence(ctx.figures, p.entity, flow, p.partner, currency).ytd if len(est) else {}
    for r in est.itertuples(index=False):
        points.append(SeriesPoint(year=int(r.year), value=float(r.value), origin="estimated", lo80=float(r.lo80),
                                  hi80=float(r.hi80), lo95=float(r.lo95), hi95=float(r.hi95),
                                  inputs=[i for i in str(r.inputs).split(";") if i],
                                  months_known=max((m for (y, m) in known if y == int(r.year)), default=None)))
    return AnnualSeries(entity=p.entity, flow=flow, partner=p.partner, currency=currency,
                        unit=CURRENCIES[currency].unit, subject=subject(p.entity, flow, p.partner),
                        start_year=p.start_year, end_year=p.end_year or max((pt.year for pt in points), default=p.start_year), points=sorted(points, key=lambda pt: pt.year),
                        level=level_facts(df), n_years=len(df),
                        counts=ctx.count(df["figure_id"], scope="the annual series"))


def calendar_years(series: AnnualSeries) -> pd.DataFrame:
    """The calendar-year figures of a series (year, value, origin, figure_id)."""
    rows = [{"year": pt.year, "value": pt.value, "origin": pt.origin, "figure_id": pt.figure_id}
            for pt in series.points if pt.origin != "estimated"]
    return pd.DataFrame(rows, columns=["year", "value", "origin", "figure_id"])


def estimated_years(series: AnnualSeries, before: int | None = None) -> pd.DataFrame:
    """The estimated years of a series (before `before`, the outlook's first year, which it shows)."""
    rows = [{"year": pt.year, "value": pt.value, "lo80": pt.lo80, "hi80": pt.hi80, "lo95": pt.lo95, "hi95": pt.hi95,
             "inputs": ";".join(pt.inputs)} for pt in series.points
            if pt.origin == "estimated" and (before is None or pt.year < before)]
    return pd.DataFrame(rows, columns=["year", "value", "lo80", "hi80", "lo95", "hi95", "inputs"])


def surge_year(history: pd.DataFrame) -> tuple[int, float] | None:
    """The year of fastest growth between consecutive calendar years, if at least SURGE_PCT."""
    h = history.set_index("year")["value"]
    g = {int(y): (h[y] / h[y - 1] - 1) * 100 for y in h.index if y - 1 in h.index and h[y - 1]}
    if not g:
        return None
    year = max(g, key=g.__getitem__)
    return (year, g[year]) if g[year] >= SURGE_PCT else None


def headline_table(series: AnnualSeries, outlook: OutlookResults | None) -> pd.DataFrame:
    """What the headline chart draws, as a table (tables/headline.csv)."""
    out = outlook_series(outlook)
    first_outlook = min(out["years"]) if out else None
    rows = [{"year": pt.year, f"value ({series.unit})": pt.value, "origin": pt.origin, "figure_id": pt.figure_id,
             "sources": ";".join(s.id for s in pt.sources), "lo80": pt.lo80, "hi80": pt.hi80,
             "estimated from": ";".join(pt.inputs)}
            for pt in series.points if pt.origin != "estimated" or first_outlook is None or pt.year < first_outlook]
    return pd.DataFrame(rows, columns=["year", f"value ({series.unit})", "origin", "figure_id", "sources", "lo80",
                                       "hi80", "estimated from"])


def headline_chart(ctx, series: AnnualSeries, outlook: OutlookResults | None):
    """The front page's chart: the annual series of the window, estimated years with their 80 %
    interval, the outlook with its intervals (None without a calendar-year figure), drawn from
    :func:`xjtrade.report.headline.chart_data`, as the interactive chart is."""
    from xjtrade.report import figures as xf
    data = headline.chart_data(series, outlook)
    if data is None:
        return None
    history = pd.DataFrame(data["history"], columns=["year", "value", "origin", "figure_id"])
    est = pd.DataFrame(data["estimated"], columns=["year", "value", "lo80", "hi80", "lo95", "hi95", "inputs"])
    note = ctx.source_note(history["figure_id"])
    return xf.headline(history, series.currency, wording.level_title(series.level, series.subject, series.unit), note,
                       outlook_series(outlook), events=xf.EVENTS, surge=surge_year(history), estimated=est)


def interactive_spec(ctx, outlook: OutlookResults | None, series: AnnualSeries | None = None) -> dict:
    """The data of the interactive headline chart (every currency and flow of the edition's entity and
    partner), from the same chart data as the static chart (:func:`xjtrade.report.headline.interactive_spec`)."""
    return headline.interactive_spec(lambda flow, cur: annual_series(ctx, flow=flow, currency=cur),
                                     series or annual_series(ctx), outlook)


def save_headline(ctx, series: AnnualSeries, outlook: OutlookResults | None) -> dict:
    """Draw and save the front page's chart, its interactive data and its table; returns the
    results fields naming them (None where there is nothing to draw)."""
    import json

    import matplotlib.pyplot as plt

    from xjtrade.report import figures as xf
    from xjtrade.report.display import save_table
    fig = headline_chart(ctx, series, outlook)
    if fig is None or ctx.out_dir is None:   # nothing to draw, or nowhere to save it
        if fig is not None:
            plt.close(fig)
        return {"headline_figure": None, "interactive": None}
    xf.save(fig, ctx.out_dir / "figures", "headline")
    (ctx.out_dir / "figures" / "headline.json").write_text(
        json.dumps(interactive_spec(ctx, outlook, series), separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    plt.close(fig)
    save_table(ctx, headline_table(series, outlook), "headline")
    return {"headline_figure": "figures/headline.svg", "interactive": "figures/headline.json"}
