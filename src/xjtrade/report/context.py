"""The run's context: its parameters, its data and what each chart or table rests on.

A notebook builds one :class:`Context` from its parameters cell (`context_from_namespace`) and
passes it to every chapter function.  `Context.scope` counts the figures behind a chart or a
table once (traced back to the reported figures, with their sources and publishers), keeps the
count for the results (:class:`~xjtrade.report.results.ScopeCounts`, saved with the notebook's
section) and `Context.source_note` writes the source note from that count, so every number in a
note is one the results hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xjtrade.data import selector
from xjtrade.data.currency import CURRENCIES
from xjtrade.data.processed import load_processed, load_raw_tables
from xjtrade.data.selector import split_ids, unique_ids
from xjtrade.report import wording
from xjtrade.report.params import ParameterError, RunParams
from xjtrade.report.results import ChartText, ScopeCounts, SourceRef

subject = wording.subject


@dataclass
class Context:
    params: RunParams
    figures: pd.DataFrame
    issues: pd.DataFrame
    sources: pd.DataFrame
    out_dir: Path | None = None
    results: dict = field(default_factory=dict)
    data_dir: Path | None = None          # the run's processed data (its raw/ holds the validated raw tables)
    cache_dir: Path | None = None         # the project's cache folder (None: nothing cached)
    chapter: str | None = None            # the notebook's section (data, growth, forecast): owns the tables it saves
    scopes: dict[str, ScopeCounts] = field(default_factory=dict)
    charts: dict[str, ChartText] = field(default_factory=dict)   # the alt text of the charts shown (show_figure)
    _leaves: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _lineage: dict[str, tuple] = field(default_factory=dict, repr=False)

    @property
    def unit(self) -> str:
        return CURRENCIES[self.params.currency].unit

    @property
    def subject(self) -> str:
        return subject(self.params.entity, self.params.flow, self.params.partner)

    def series(self, kind: str = "year", flow: str | None = None, partner: str | None = None,
               currency: str | None = None) -> pd.DataFrame:
        p = self.params
        return selector.series(self.figures, entity=p.entity, flow=flow or p.flow, partner=partner or p.partner,
                               kind=kind, currency=currency or p.currency)

    def raw(self):
        """The validated raw tables the run's data were cleaned from (for the evaluation's vintages),
        read from the run's own data folder: the run needs no checkout."""
        if self.data_dir is None:
            raise ValueError("this context has no data folder, so no raw tables")
        return load_raw_tables(self.data_dir)

    @property
    def vintage_cache(self) -> Path | None:
        return None if self.cache_dir is None else Path(self.cache_dir) / "vintages"

    # --- what a chart or table rests on ------------------------------------------------------------

    def leaves(self, figure_id: str) -> list[str]:
        """The reported figures behind a figure, depth first (as :func:`xjtrade.data.clean.trace`
        gives them), memoised over the whole table (the figures table traces every derived figure)."""
        if figure_id in self._leaves:
            return self._leaves[figure_id]
        if not self._lineage:
            f = self.figures
            self._lineage.update(zip(f["figure_id"], zip(f["origin"], f["inputs"])))
        if figure_id not in self._lineage:
            raise KeyError(f"no figure {figure_id!r}")
        origin, inputs = self._lineage[figure_id]
        if origin == "reported":
            out = [figure_id]
        else:
            out = []
            for parent in split_ids(inputs):
                out += [leaf for leaf in self.leaves(parent) if leaf not in out]
        self._leaves[figure_id] = out
        return out

    def count(self, figure_ids, scope: str = "these figures") -> ScopeCounts:
        """How many reported figures (traced) and sources stand behind `figure_ids`, and which
        publishers (most cited first; at most three named)."""
        ids = list(dict.fromkeys(str(f) for f in figure_ids if isinstance(f, str) and f))
        rows: list[str] = []
        for fid in ids:
            for leaf in self.leaves(fid):
                if leaf not in rows:
                    rows.append(leaf)
        rep = self.figures[self.figures["figure_id"].isin(rows)]
        src_ids = unique_ids(rep["source_ids"])
        pubs = self.sources[self.sources["source_id"].isin(src_ids)]["publisher"].value_counts()
        return ScopeCounts(scope=scope, reported=len(rows), derived=sum(1 for f in ids if not f.startswith("R")),
                           sources_used=len(src_ids), publishers=[str(p) for p in pubs.index[:3]],
                           more_publishers=len(pubs) > 3)

    def scope(self, name: str, figure_ids) -> ScopeCounts:
        """Count the figures behind the chart or table `name` and keep the count for the results."""
        self.scopes[name] = self.count(figure_ids, scope=name)
        return self.scopes[name]

    def source_note(self, figure_ids, name: str | None = None, values: bool = True) -> str:
        """'Source: ...' naming how many reported figures and sources stand behind the figures, and
        the main publishers.  Plain text (publishers come from the data): `show_table` escapes it for
        markdown.  With `name`, the count is kept for the results under that name.  `values=False`
        for a chart that draws no money values (periods covered, shares): no conversion note."""
        c = self.scope(name, figure_ids) if name else self.count(figure_ids)
        note = source_note(c, self.params.as_of.isoformat() if self.params.as_of else None)
        converted = wording.converted_note(self.converted_years(figure_ids), self.params.currency) if values else ""
        return " ".join(t for t in (note, converted) if t)

    def converted_years(self, figure_ids) -> list[int]:
        """The years of the money figures among `figure_ids` printed in another currency than the
        edition's (their values are converted at the year's average rate)."""
        ids = set(unique_ids([figure_ids] if isinstance(figure_ids, str) else figure_ids))
        f = self.figures
        rows = f[f["figure_id"].isin(ids) & (f["measure"] == "money") & f["currency"].notna()
                 & (f["currency"] != self.params.currency)]
        return sorted({int(y) for y in rows["year"].dropna()})

    def source_refs(self, figure_id: str, limit: int = 3) -> tuple[list[SourceRef], bool]:
        """The sources behind one figure (traced back to the reported figures), with their publishers."""
        rep = self.figures[self.figures["figure_id"].isin(self.leaves(figure_id))]
        ids = unique_ids(rep["source_ids"])
        pub = dict(zip(self.sources["source_id"], self.sources["publisher"]))
        return [SourceRef(id=s, publisher=str(pub.get(s, s))) for s in ids[:limit]], len(ids) > limit


def source_note(c: ScopeCounts, as_of: str | None = None) -> str:
    """The source note of a chart or table from its counts."""
    pubs = ", ".join(c.publishers) + (" and others" if c.more_publishers else "")
    note = (f"Source: Xinjiang Trade Monitor, {wording.count(c.reported, 'reported figure')} from "
            f"{wording.count(c.sources_used, 'report')}" + (f" ({pubs})" if pubs else "")
            + (f"; data as of {as_of}" if as_of else "") + ".")
    if c.derived:
        note += f" Includes {wording.count(c.derived, 'derived value')}; their lineage is in the data chapter."
    return note


def check_against_data(params: RunParams, figures) -> None:
    """Values that are well-formed but impossible for the data: an entity with no figures, etc."""
    money = figures[selector.main_rows(figures)]
    entities = sorted(money["entity"].unique())
    if params.entity not in entities:
        raise ParameterError(f"entity: no trade figures for {params.entity!r}; entities with data: "
                             + ", ".join(entities))
    of_entity = money[money["entity"] == params.entity]
    partners = sorted(of_entity["partner"].unique())
    if params.partner not in partners:
        raise ParameterError(f"partner: {params.entity} has no figures with partner {params.partner!r}; "
                             f"partners with data: {', '.join(partners)}")
    flows = sorted(of_entity.loc[of_entity["partner"] == params.partner, "flow"].unique())
    if params.flow not in flows:
        raise ParameterError(f"flow: {params.entity} / {params.partner} has no {params.flow!r} figures; "
                             f"flows with data: {', '.join(flows)}")


def context_from_namespace(namespace: dict, chapter: str | None = None) -> Context:
    """Build the context from a notebook's parameter variables (validated again here); `chapter` names
    the notebook (the owner of the table files it saves: no two notebooks of a run share a name)."""
    fields = {k: namespace[k] for k in RunParams.model_fields if k in namespace}
    params = RunParams(**fields)
    return load_context(namespace["data_dir"], params, namespace.get("out_dir"), namespace.get("cache_dir"),
                        chapter=chapter)


def load_context(data_dir, params: RunParams, out_dir=None, cache_dir=None, chapter: str | None = None) -> Context:
    figs, issues, sources = load_processed(Path(data_dir))
    check_against_data(params, figs)
    return Context(params=params, figures=figs, issues=issues, sources=sources,
                   out_dir=Path(out_dir) if out_dir else None, data_dir=Path(data_dir),
                   cache_dir=Path(cache_dir) if cache_dir else None, chapter=chapter)
