"""What the notebooks call: each function takes the run's context (parameters and data) and returns
tables, figures, narrative built from the data (no typed numbers) and the values the results
contract keeps (`report/results.py`).

The notebooks stay thin: a parameters cell, then one call per section.  The context and the
source notes are in `report/context.py`, showing and saving in `report/display.py` (both re-exported
here, the notebooks' one namespace), the growth chapter in `report/growth_chapter.py` (re-exported
too), the annual series and the front page's charts in
`report/series.py`, the figures table in `report/catalogue.py`, the facts behind the methods
chapter in `report/evaluation_facts.py`.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd

from xjtrade.data import clean
from xjtrade.data.clean import Tolerance
from xjtrade.data.selector import unique_ids
from xjtrade.report import wording
from xjtrade.report.context import Context, context_from_namespace, load_context  # noqa: F401 (notebooks)
from xjtrade.report.counts import counts, trade_issues
from xjtrade.report.revisions import facts as revision_facts
from xjtrade.report.display import (  # noqa: F401 (the notebooks' namespace)
    csv_link, link_ids, markdown_table, save_frame, save_results, save_table, show_figure, show_markdown,
    show_table)
from xjtrade.report.series import annual, annual_series
# the growth chapter (notebook 02) is in its own module; its functions are the notebooks' namespace too
from xjtrade.report.growth_chapter import (  # noqa: F401
    SIGNIFICANCE, _converted, money, _growth_text, contributions_by_period, growth_analysis, growth_qualifier,
    growth_table, national_comparison, partner_shares, windows)

pct = wording.pct   # one formatter for percentages (report.wording)


def coverage(ctx: Context) -> dict:
    """What is known about the entity: figures by kind of period, sources, years."""
    p = ctx.params
    every = ctx.figures[ctx.figures["entity"] == p.entity]
    f = every[every["start"] >= 0]
    rep = f[f["origin"] == "reported"]
    n = counts(ctx.figures, ctx.issues, ctx.sources, entity=p.entity)
    by_kind = (f.groupby(["period_kind", "origin"]).size().unstack(fill_value=0)
               .reindex(columns=["reported", "derived"], fill_value=0))
    from xjtrade.report import figures as xf  # plotting stays out of the compute-only paths (sweeps)
    by_kind = by_kind.reindex([k for k in xf.KIND_ORDER if k in by_kind.index]).reset_index()
    by_kind["period_kind"] = by_kind["period_kind"].map(KIND_WORDS).fillna(by_kind["period_kind"])
    by_kind.columns = ["kind of period", "reported", "derived"]
    first, last = int(rep["year"].min()), int(rep["year"].max())
    pub = rep["published"].replace("", np.nan).dropna()
    undated = n.reported - len(rep)
    md = (f"The data hold **{wording.count(n.reported, 'reported figure')}** on {p.entity} from "
          f"**{wording.count(n.sources_used, 'source')}** published between {pub.min()} and {pub.max()}, "
          f"covering {first} to {last}"
          + (f" ({undated} of them without a period, such as counts of partners, are not charted)" if undated else "")
          + f". The cleaning step added **{wording.count(n.derived, 'derived figure')}** (last year's values "
          f"implied by growth rates, single months and blocks from year-to-date releases, totals from exports "
          f"and imports, partner shares); each names the figures it came from. These counts cover every "
          f"{p.entity} figure; the series analysed in the next chapters use a subset, counted under each "
          f"chart.")
    if p.as_of:
        md += f" Only sources published on or before **{p.as_of}** are used in this edition."
    whole = counts(ctx.figures, ctx.issues, ctx.sources)
    return {"markdown": md, "by_kind": by_kind, "figures": f, "chart": coverage_chart_data(f), "counts": n,
            "results": {"reported_figures": n.reported, "derived_figures": n.derived, "sources": n.sources_used,
                        "first_year": first, "last_year": last, "first_published": str(pub.min()),
                        "last_published": str(pub.max()), "undated": undated,
                        "counts": {"dataset": whole.model_dump(), "entity": n.model_dump()},
                        "sources_used": sources_used(ctx), "tolerances": tolerance_rows(),
                        # the sources page lists these first (both outputs); the bulletin's revisions note
                        "sources_cited": len(set(sources_used(ctx)) & set(ctx.sources["source_id"])),
                        "revisions": revision_facts(ctx.figures, p.entity, p.flow, p.partner, p.currency,
                                                    p.as_of.isoformat() if p.as_of else None)}}


def _month(m: int) -> str:
    return f"{int(m) // 12}-{int(m) % 12 + 1:02d}"


def coverage_chart_data(figs: pd.DataFrame) -> pd.DataFrame:
    """What the coverage chart draws, one row a bar: the figure, its period and the months it covers."""
    f = figs[figs["start"] >= 0]
    return pd.DataFrame({"figure": f["figure_id"].to_numpy(), "period": f["period_label"].to_numpy(),
                         "kind of period": f["period_kind"].map(KIND_WORDS).fillna(f["period_kind"]).to_numpy(),
                         "origin": f["origin"].to_numpy(), "first month": [_month(m) for m in f["start"]],
                         "last month": [_month(m) for m in f["end"]]})


def sources_used(ctx: Context) -> list[str]:
    """The sources of this edition's reported figures: those of its entity, and of China (the
    national comparison); the sources page lists them first."""
    f = ctx.figures
    reported = f[(f["origin"] == "reported") & f["entity"].isin([ctx.params.entity, "China"])]
    return sorted(unique_ids(reported["source_ids"]))


TOLERANCE_WORDS = {"same_currency": "two figures in the same currency",
                   "cross_currency": "figures in different currencies (annual average rate)",
                   "about": "a figure reported as 'about'", "parts": "exports plus imports against the total",
                   "yoy_points": "two growth rates (percentage points)"}


def tolerance_rows() -> list[dict]:
    """The reconciliation's tolerances (the methods chapter's table)."""
    tol = Tolerance()
    return [{"comparison": f.name, "words": TOLERANCE_WORDS[f.name], "value": getattr(tol, f.name),
             "points": f.name == "yoy_points"} for f in fields(tol)]


KIND_WORDS = {"year": "calendar year", "half": "half year", "quarter": "quarter", "ytd": "year to date",
              "month": "single month", "other": "other span"}


def lineage_table(ctx: Context) -> pd.DataFrame:
    """Derived figures used in the analysed annual and monthly series, with the rows behind them."""
    used = pd.concat([ctx.series("year"), ctx.series("block")])
    used = used[(used["origin"] == "derived") & used["value"].notna()].drop_duplicates("figure_id")
    rows = []
    for r in used.itertuples(index=False):
        rows.append({"figure": r.figure_id, "period": r.period_label, "qualifier": wording.qualifier_word(r.qualifier),
                     f"value ({ctx.unit})": r.value,
                     "method": r.method, "inputs": r.inputs.replace(";", ", "),
                     "reported figures behind it": ", ".join(clean.trace(ctx.figures, r.figure_id))})
    return pd.DataFrame(rows, columns=["figure", "period", "qualifier", f"value ({ctx.unit})", "method", "inputs",
                                       "reported figures behind it"])


def _issue_kind(kind: str) -> str:
    return {"row marked implausible": "figure set aside as implausible",
            "row marked mismatch": "figure set aside: does not match its source",
            "row marked doubt": "figure kept with a doubt"}.get(kind, kind)


def _segment_words(segment) -> str | None:
    """The segment of trade a figure covers, for readers: 'all trade' for the whole, so a border-trade
    figure never reads as the region's total."""
    if not isinstance(segment, str) or not segment:
        return None
    return "all trade" if segment == "all" else segment


def quality_table(ctx: Context, max_note: int | None = None) -> pd.DataFrame:
    """Data-quality issues of the entity. 'figure used' is the figure the selection rule chose for the
    quantity (never a row set aside as implausible or mismatched); 'figure compared' the other one."""
    q = trade_issues(ctx.issues[ctx.issues["entity"] == ctx.params.entity])
    selected = set(ctx.figures.loc[ctx.figures["selected"].astype(bool), "figure_id"])
    order = {"conflict": 0, "warning": 1, "note": 2}
    q = q.assign(_o=q["severity"].map(order)).sort_values(["_o", "issue_id"])
    rows = []
    for r in q.itertuples(index=False):
        flagged = str(r.kind).startswith("row marked")
        sel_id, other = r.selected_id, r.other_id
        if flagged:
            used = sel_id if sel_id in selected else None
            other = None if used else sel_id
        else:
            used = sel_id
        note = str(r.note) if isinstance(r.note, str) else ""
        if max_note and len(note) > max_note:
            note = note[: max_note - 1] + "…"
        rows.append({"issue": r.issue_id, "severity": r.severity, "what": _issue_kind(r.kind),
                     "flow": r.flow if isinstance(r.flow, str) else None, "partner": r.partner,
                     "segment": _segment_words(r.segment), "period": r.period_label, "figure used": used,
                     "figure compared": other if isinstance(other, str) else None,
                     "difference %": r.difference_pct, "note": note})
    return pd.DataFrame(rows, columns=["issue", "severity", "what", "flow", "partner", "segment", "period",
                                       "figure used", "figure compared", "difference %", "note"])


def quality_summary(ctx: Context, table: pd.DataFrame) -> dict:
    n = counts(ctx.figures, ctx.issues, ctx.sources, entity=ctx.params.entity)
    md = (f"For {ctx.params.entity} the reconciliation found **{wording.count(n.conflicts, 'conflict')}** "
          f"between sources (figures for the same quantity that disagree beyond the tolerance, or figures set "
          f"aside as implausible), **{wording.count(n.warnings, 'warning')}** (derived values or sums that do "
          f"not match a reported figure) and {wording.count(n.notes, 'note')}. Where sources disagree, the "
          f"selection rule in the methods chapter picks one figure (column 'figure used'); the other stays in "
          f"the data, flagged. Figures set aside as implausible are never used. Notes are shortened here; the "
          f"full table is in the CSV file.")
    return {"markdown": md, "results": {"conflict": n.conflicts, "warning": n.warnings, "note": n.notes}}


# --- titles and notes for the growth chapter ------------------------------------------------

def level_title(ctx: Context, series=None) -> str:
    """A chart title that states the finding ('... reached 357.3 billion yuan in 2023, 2.4 times its
    2011 level'), not what is drawn: the annual series' level facts, in words."""
    s = series if series is not None else annual_series(ctx)
    return wording.level_title(s.level, s.subject, s.unit)


def shares_title(ctx: Context, shares: pd.DataFrame) -> str:
    last = shares.sort_values("x").groupby("partner").tail(1).sort_values("share", ascending=False)
    if last.empty:
        return f"Partner shares of {ctx.subject}"
    top = last.iloc[0]
    return (f"{top['partner']} took {top['share']:.0f}% of {ctx.subject} in {top['period_label']}")


def currency_note(ctx: Context) -> str:
    df = annual(ctx)
    return wording.currency_note(ctx.params.currency, df.loc[_converted(df, ctx.params.currency), "year"])
