"""Queries on the processed figures: the main-series selector, series of one key, id lists.

The "main series" of an entity, flow and partner is its trade value over all goods and all
trade segments: the quantity the report analyses.  Every filter for it goes through
:func:`main_rows`, and every `;`-joined list of ids (sources, inputs) through :func:`split_ids`.
"""

from __future__ import annotations

import pandas as pd

from xjtrade.data import periods
from xjtrade.data.currency import CURRENCIES

MAIN = {"product": "all", "segment": "all", "indicator": "trade value"}


def split_ids(text) -> list[str]:
    """'a;b;;c' -> ['a', 'b', 'c'] (sources and inputs are stored `;`-joined)."""
    return [s for s in str(text).split(";") if s and s != "nan"]


def unique_ids(values) -> list[str]:
    """Sorted distinct ids of a column of `;`-joined lists."""
    return sorted({s for v in values for s in split_ids(v)})


def main_rows(figures: pd.DataFrame, selected: bool = True, **key) -> pd.Series:
    """Mask of the main-series rows (all goods, all segments, trade value), optionally only the
    selected figures, narrowed by `key` (entity=..., flow=..., partner=...)."""
    mask = pd.Series(True, index=figures.index)
    for col, value in {**MAIN, **key}.items():
        mask &= figures[col] == value
    if selected:
        mask &= figures["selected"].astype(bool)
    return mask


def series(figures: pd.DataFrame, entity: str = "Xinjiang", flow: str = "total", partner: str = "World",
           kind: str = "year", currency: str = "CNY", product: str = "all", segment: str = "all",
           indicator: str = "trade value") -> pd.DataFrame:
    """Selected figures of one series, one row per period, with `value` in the chosen currency.

    kind: 'year' (calendar years), 'ytd' (cumulative Jan..m), 'block' (the months of each
    year cut at the year-to-date releases: Jan-Feb, Mar, ... -- blocks that do not overlap).
    Rows with only a growth rate keep value NaN.
    """
    col = CURRENCIES[currency].column
    f = figures[main_rows(figures, entity=entity, flow=flow, partner=partner, product=product,
                          segment=segment, indicator=indicator)]
    ytd = (f["start"] % 12 == 0) & (f["start"] // 12 == f["end"] // 12)
    if kind == "year":
        f = f[f["period_kind"] == "year"]
    elif kind == "ytd":
        f = f[ytd]
    elif kind == "block":
        cuts = f[ytd & f["value"].notna() & f["qualifier"].isin(["exact", "about"])]
        wanted = set()
        for year, grp in cuts.groupby("year"):
            for block in periods.ytd_blocks([periods.month_of(e) for e in grp["end"]], int(year)):
                wanted.add((block.start, block.end))
        f = f[[(s, e) in wanted for s, e in zip(f["start"], f["end"])]]
    else:
        raise ValueError(f"kind must be year, ytd or block, not {kind!r}")
    # printed_in: the currency the figure was printed in (its value in the other one is converted at
    # the year's average rate); value_cny_bn / value_usd_bn: the value in each currency
    if "yoy_qualifier" not in f:     # figures cleaned before growth rates had qualifiers: printed exactly
        f = f.assign(yoy_qualifier=f["yoy_pct"].map(lambda v: None if pd.isna(v) else "exact"))
    out = f.assign(value=f[col], printed_in=f["currency"])[[
        "figure_id", "origin", "method", "period_label", "period_start", "period_end", "start", "end", "months",
        "year", "value", "yoy_pct", "yoy_qualifier", "qualifier", "source_ids", "published", "inputs", "printed_in",
        "value_cny_bn", "value_usd_bn"]]
    return out.sort_values(["start", "end"]).reset_index(drop=True)
