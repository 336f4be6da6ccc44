"""The figures table of the site (figures.html), computed in the run: every figure of the data with
its lineage, whether it is used, and its sources in the order the report prefers them (primary
sources with an address first, then mirrors, then articles without an address:
:func:`xjtrade.data.clean.source_rank`), with the other sources that print the same value.

The data notebook saves it as results/figure_index.parquet; the publish step writes the page from
it without computing anything.
"""

from __future__ import annotations

import pandas as pd

from xjtrade.data.clean import KEY, source_rank
from xjtrade.data.selector import split_ids, unique_ids

COLUMNS = ["figure_id", "entity", "flow", "partner", "indicator", "period_label", "qualifier", "value", "unit",
           "yoy_qualifier", "yoy_pct", "origin", "method", "inputs", "used", "sources", "description"]


def ranked(ids, rank: dict[str, int]) -> list[str]:
    """Source ids in the report's order of preference (rank, then id), each once."""
    return sorted(dict.fromkeys(ids), key=lambda s: (rank.get(s, 3), s))


def figure_index(ctx) -> pd.DataFrame:
    """One row per figure: what the figures table shows (`sources`: ids joined by ';', preferred first)."""
    f, src = ctx.figures, ctx.sources
    rank = {r.source_id: source_rank(r.url, r.publisher, r.title) for r in src.itertuples(index=False)}
    cmpv = f["value_cny_bn"].where(f["measure"] == "money", f["value"]).round(4)
    rep = f.assign(cmpv=cmpv)[f["origin"] == "reported"]
    same = rep.groupby(KEY + ["cmpv"], dropna=False)["source_ids"].agg(list)
    rows = []
    for r, v in zip(f.sort_values("figure_id").itertuples(index=False), cmpv.loc[f.sort_values("figure_id").index]):
        if r.origin == "reported":
            try:
                also = unique_ids(same.loc[tuple(getattr(r, k) for k in KEY) + (v,)])
            except (KeyError, TypeError):
                also = []
            own = split_ids(r.source_ids)
            ids = own + [s for s in also if s not in own]
        else:
            leaves = ctx.leaves(r.figure_id)
            ids = unique_ids(f.loc[f["figure_id"].isin(leaves), "source_ids"])
        rows.append({"figure_id": r.figure_id, "entity": r.entity, "flow": r.flow, "partner": r.partner,
                     "indicator": r.indicator, "period_label": r.period_label, "qualifier": r.qualifier, "value": r.value, "unit": r.unit,
                     "yoy_qualifier": getattr(r, "yoy_qualifier", None), "yoy_pct": r.yoy_pct, "origin": r.origin, "method": r.method, "inputs": r.inputs,
                     "used": "yes" if r.selected else ("set aside" if not r.usable else "no"),
                     "sources": ";".join(ranked(ids, rank)), "description": r.description})
    return pd.DataFrame(rows, columns=COLUMNS)
