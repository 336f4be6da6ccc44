"""Revisions of earlier figures, found in the data (the run side of the bulletin's revisions note).

Customs revise their figures: a release's growth rate is computed against the revised figure of the
same period a year before, so the earlier figure it implies (the cleaning step's "prior year from
yoy" figures) can differ from the one first printed.  :func:`revisions` pairs every selected
reported figure of the edition's series with the figures later releases imply for the same period,
in the series' currency, and keeps those that differ by more than the rounding of a growth rate
printed to one decimal could explain (:data:`THRESHOLD_PCT`).  The pairs go into the run's results
(:class:`~xjtrade.report.results.Revision`); the pages only format them (`bulletin.py`).
"""

from __future__ import annotations

import pandas as pd

from xjtrade.data.selector import MAIN

IMPLIED = "prior year from yoy"   # the cleaning step's method for a figure implied by a later growth rate
# A growth rate printed to one decimal (g %) moves the figure it implies by at most 0.05 / (1 + g/100) %
# of it (0.05 % at zero growth): a smaller difference is rounding, not a revision.
THRESHOLD_PCT = 0.1


def revisions(figures: pd.DataFrame, entity: str, flow: str, partner: str, currency: str,
              as_of: str | None = None) -> list[dict]:
    """The revisions of the series (entity, flow, partner; all goods, all segments, trade values) in
    `currency` (billions), oldest period first: the selected reported figure of each period against each
    figure a later release implies for it (published later; by `as_of` when given)."""
    f = figures
    mask = (f["entity"] == entity) & (f["flow"] == flow) & (f["partner"] == partner)
    for col, value in MAIN.items():
        mask &= f[col] == value
    f = f[mask & f["value"].notna()]
    if as_of:
        f = f[f["published"].astype(str) <= str(as_of)]
    first = f[(f["origin"] == "reported") & f["selected"].astype(bool)]
    later = f[f["method"] == IMPLIED]
    keys = ["period_start", "period_end"]
    pairs = first.merge(later, on=keys, suffixes=("", "_later"))
    pairs = pairs[pairs["published_later"].astype(str) > pairs["published"].astype(str)]
    out = []
    for r in pairs.sort_values(["period_start", "period_end", "published_later", "figure_id_later"]).to_dict("records"):
        a = r["value_cny_bn"] if currency == "CNY" else r["value_usd_bn"]
        b = r["value_cny_bn_later"] if currency == "CNY" else r["value_usd_bn_later"]
        if pd.isna(a) or pd.isna(b) or a == 0:
            continue
        change = 100 * (b / a - 1)
        if abs(change) < THRESHOLD_PCT:
            continue
        out.append({"period": str(r["period_label"]), "first_id": str(r["figure_id"]), "first_value": round(float(a), 4),
                    "first_published": str(r["published"]), "later_id": str(r["figure_id_later"]),
                    "later_value": round(float(b), 4), "later_published": str(r["published_later"]),
                    "change_pct": round(float(change), 4)})
    return out


def facts(figures: pd.DataFrame, entity: str, flow: str, partner: str, currency: str,
          as_of: str | None = None) -> dict:
    """The results' revision facts (:class:`~xjtrade.report.results.RevisionFacts`) of the series."""
    rows = revisions(figures, entity, flow, partner, currency, as_of)
    largest = max(rows, key=lambda r: abs(r["change_pct"]), default=None)
    return {"threshold_pct": THRESHOLD_PCT, "n": len(rows), "downward": sum(r["change_pct"] < 0 for r in rows),
            "largest": largest, "rows": rows}
