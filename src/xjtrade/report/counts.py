"""The one function behind every count the report prints.

Counts disagreed across pages because each page counted something else (all entities or one,
sources listed or sources used, reported or derived rows) without saying so.  Here every count
is computed once, from the processed tables, with the scope it covers, and `label` says what
it counts; pages print `Counts.sentence` or individual labelled numbers, never their own sums.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from xjtrade.data.selector import unique_ids

SEVERITIES = ("conflict", "warning", "note")


@dataclass(frozen=True)
class Counts:
    scope: str                 # "the whole dataset" or "Xinjiang", "this series"
    reported: int              # reported figures (rows of the raw table that are in scope)
    derived: int               # figures computed by the cleaning step
    sources_used: int          # distinct sources behind the reported figures in scope
    sources_listed: int        # sources in the sources table (some may carry no figure in scope)
    conflicts: int
    warnings: int
    notes: int

    @property
    def issues(self) -> int:
        return self.conflicts + self.warnings + self.notes

    def as_dict(self) -> dict:
        return asdict(self)

    def sentence(self) -> str:
        """'For Xinjiang: 288 reported figures from 86 sources, 418 derived figures; 2 conflicts
        between sources, 15 warnings and 2 notes.'"""
        from xjtrade.report.wording import capitalised, count
        return (f"{capitalised(self.scope)}: {count(self.reported, 'reported figure')} from "
                f"{count(self.sources_used, 'source')}, {count(self.derived, 'derived figure')}; "
                f"{count(self.conflicts, 'conflict')} between sources, {count(self.warnings, 'warning')} "
                f"and {count(self.notes, 'note')} in the data-quality table.")


def counts(figures: pd.DataFrame, issues: pd.DataFrame | None = None, sources: pd.DataFrame | None = None,
           entity: str | None = None, figure_ids=None, scope: str | None = None) -> Counts:
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
        q = issues if entity is None else issues[issues["entity"] == entity]
        if figure_ids is not None:
            ids = set(figure_ids)
            q = q[q["selected_id"].isin(ids) | q["other_id"].isin(ids)]
        vc = q["severity"].value_counts()
        sev = {k: int(vc.get(k, 0)) for k in SEVERITIES}
    if scope is None:
        scope = "the whole dataset" if entity is None and figure_ids is None else (
            f"{entity}" if figure_ids is None else "this series")
    return Counts(scope=scope, reported=len(rep), derived=len(der),
                  sources_used=len(unique_ids(rep["source_ids"])) if len(rep) else 0,
                  sources_listed=0 if sources is None else len(sources),
                  conflicts=sev["conflict"], warnings=sev["warning"], notes=sev["note"])
