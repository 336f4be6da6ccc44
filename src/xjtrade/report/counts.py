"""The one function behind the counts of the whole dataset and of one entity.

Counts disagreed across pages because each page counted something else (all entities or one,
sources listed or sources used, reported or derived rows) without saying so.  Here every count
is computed once, in the run, from the processed tables, with the scope it covers
(:class:`~xjtrade.report.results.ScopeCounts`, kept in the results); pages print
:func:`xjtrade.report.wording.counts_sentence` or individual labelled numbers, never their own sums.
The figures behind one chart or table are counted by :meth:`xjtrade.report.context.Context.scope`.
"""

from __future__ import annotations

import pandas as pd

from xjtrade.data.raw import FLOWS
from xjtrade.data.selector import unique_ids
from xjtrade.report.results import ScopeCounts

SEVERITIES = ("conflict", "warning", "note")


TRADE_FLOWS = tuple(f for f in FLOWS if f != "n/a")   # the raw table's flows of trade ("n/a": a fact that is not)


def trade_issues(issues: pd.DataFrame) -> pd.DataFrame:
    """The issues about trade figures: those of a fact that is not a trade flow (no flow: a count of tasks,
    envoys, rules) are kept out of the data-quality table and its counts, as the facts are out of trade counts."""
    return issues[issues["flow"].isin(TRADE_FLOWS)] if "flow" in issues else issues


def counts(figures: pd.DataFrame, issues: pd.DataFrame | None = None, sources: pd.DataFrame | None = None,
           entity: str | None = None, figure_ids=None, scope: str | None = None) -> ScopeCounts:
    """Counts over the whole dataset (`entity` None), one entity, or an explicit set of figures
    (`figure_ids`: the rows one series uses).  Issues are counted for the same entity."""
    f = figures
    if entity is not None:
        f = f[f["entity"] == entity]
    if figure_ids is not None:
        f = f[f["figure_id"].isin(list(figure_ids))]
    rep = f[f["origin"] == "reported"]
    der = f[f["origin"] == "derived"]
    sev = {k: 0 for k in SEVERITIES}
    if issues is not None and len(issues):
        q = trade_issues(issues if entity is None else issues[issues["entity"] == entity])
        if figure_ids is not None:
            ids = set(figure_ids)
            q = q[q["selected_id"].isin(ids) | q["other_id"].isin(ids)]
        vc = q["severity"].value_counts()
        sev = {k: int(vc.get(k, 0)) for k in SEVERITIES}
    if scope is None:
        scope = "the whole dataset" if entity is None and figure_ids is None else (
            f"{entity}" if figure_ids is None else "this series")
    return ScopeCounts(scope=scope, reported=len(rep), derived=len(der),
                       sources_used=len(unique_ids(rep["source_ids"])) if len(rep) else 0,
                       sources_listed=0 if sources is None else len(sources),
                       conflicts=sev["conflict"], warnings=sev["warning"], notes=sev["note"])
