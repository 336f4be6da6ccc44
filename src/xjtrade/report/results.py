"""The results contract: everything the published pages say, as the run computed it.

Each notebook saves one section (`data`, `growth`, `forecast`) through `display.save_results`,
which validates it against the section's model here; the run step merges the sections, the run's
parameters (:class:`~xjtrade.report.params.RunParams`) and the data step's summary into
`results.json` as a :class:`Results`.  The publish step (`publish.py` and what it calls: `staging`,
`pages`, `site`, `downloads`) reads that file back through the same model and formats it; it
computes nothing.  What a page states is a field here: the annual series with its window, origins
and estimated years (:class:`AnnualSeries`), the front page's facts, the counts by scope
(:class:`ScopeCounts`), the sources the edition uses, the methods chapter's tables and the facts
behind its statements on the evaluation and the intervals (:class:`EvaluationFacts`).  Besides
`results.json` the run writes what pages show as files: charts (`figures/`, with the front page's
headline chart and the data of its interactive version), tables (`tables/*.csv`) and the figures
table (`results/figure_index.parquet`).

A renamed or missing key fails the run that wrote it, with the section and the key, instead of
silently dropping a line from a page.  Light to import (pydantic and the parameter schema only).
"""

from __future__ import annotations

import json
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xjtrade.report.params import RunParams
from xjtrade.report.results_forecast import _Strict  # one strict base for the whole contract
from xjtrade.report.results_forecast import (  # noqa: F401  (part of the contract, re-exported)
    Interval, Target, ModelChoice, CoverageRow, ScoreRow, BenchmarkRow,
    ReleaseWindow, NoReleaseDate, LedgerRow, OutlookResults, ModelRow, ScoreFacts,
    BucketFacts, ChoiceFacts, Outcome, CoverageFacts, EvaluationFacts)




# ---------------------------------------------------------------- counts and sources

class ScopeCounts(_Strict):
    """What a set of figures rests on, with its scope (counts.counts: the dataset or an entity;
    Context.scope: the figures behind a chart or a table, traced back to the reported figures)."""
    scope: str
    reported: int                  # reported figures (traced: the reported figures behind derived ones)
    derived: int                   # derived figures among those counted
    sources_used: int              # distinct sources behind the reported figures
    sources_listed: int = 0        # sources in the sources table (whole-dataset counts only)
    conflicts: int = 0
    warnings: int = 0
    notes: int = 0
    publishers: list[str] = []     # the most cited publishers, most cited first (at most three)
    more_publishers: bool = False  # whether other publishers stand behind the figures too


class SourceRef(_Strict):         # a source as a page cites it: its id (its anchor) and its publisher
    id: str
    publisher: str


class ToleranceRow(_Strict):     # the methods chapter's table of tolerances
    comparison: str                # the field of xjtrade.data.clean.Tolerance
    words: str                     # what is compared, for readers
    value: float                   # as a fraction, or in percentage points for `points`
    points: bool = False


class Revision(_Strict):
    """An earlier figure of the edition's series and the figure a later release implies for the same
    period (the later release's growth rate applied backwards: customs compute growth against revised
    figures of the year before), in the series' unit (bulletin.revisions)."""
    period: str
    first_id: str                  # the figure first printed (the one the selection rule uses)
    first_value: float
    first_published: str
    later_id: str                  # the derived figure: the later release's total over its growth rate
    later_value: float
    later_published: str
    change_pct: float              # later over first, minus one, in %


class RevisionFacts(_Strict):
    """The revisions of the edition's series (report/revisions.py): every pair, how many, how many
    downward, and the largest (in absolute terms)."""
    threshold_pct: float           # smaller differences are taken as the rounding of the growth rate
    n: int = 0
    downward: int = 0
    largest: Revision | None = None
    rows: list[Revision] = []


class ChartText(_Strict):
    """A chapter chart's text alternative, as the run wrote it (display.show_figure, from
    report/alt_text.py): staging gives it to the chart's cell as ``fig-alt`` (the image's alt text on the
    site and in the PDF); the SVG carries it as its ``<desc>``."""
    file: str                      # the chart's file in the run's figures folder (figures/<name>.svg)
    alt: str                       # what the chart shows, with its numbers (plain text)


# ---------------------------------------------------------------- data chapter
class DataResults(_Strict):
    reported_figures: int
    sources: int
    derived_figures: int
    derived_in_use: int
    first_year: int | None = None
    last_year: int | None = None
    first_published: str | None = None
    last_published: str | None = None
    undated: int = 0                    # reported figures without a period (counts of partners ...)
    quality: dict[str, int] = {}
    counts: dict[str, ScopeCounts] = {}     # "dataset" (every entity) and "entity" (this edition's)
    sources_used: list[str] = []        # sources of the reported figures of the entity (and of China)
    tolerances: list[ToleranceRow] = []
    scopes: dict[str, ScopeCounts] = {}     # what each chart or table of the chapter rests on
    sources_cited: int = 0              # sources_used found in the sources table: those the sources page lists first
    revisions: RevisionFacts | None = None   # earlier figures of the series revised by a later release
    charts: dict[str, ChartText] = {}   # the chapter's charts by cell label (fig-coverage): their alt text


# ---------------------------------------------------------------- growth chapter
class CagrWindow(_Strict):
    start: int
    end: int
    start_value: float | None = None
    end_value: float | None = None
    years: int | None = None
    cagr_pct: float | None = None
    note: str = ""


class TrendSummary(_Strict):
    start: int | None = None
    end: int | None = None
    n_obs: int | None = None
    growth_pct: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    r2: float | None = None
    note: str = ""
    reason: str = ""
    error: str = ""      # why no trend could be estimated (too few years, ...)


class BreakSummary(_Strict):
    testable: bool = False
    reason: str = ""
    f_stat: float | None = None
    p_value: float | None = None
    significant: bool | None = None     # a single trend rejected at the 5 % level
    growth_before_pct: float | None = None
    growth_after_pct: float | None = None
    n_before: int | None = None
    n_after: int | None = None


class SeriesPoint(_Strict):
    """One year of an annual series: a calendar-year figure (reported or derived, with its id and
    the sources behind it) or a year estimated from its year-to-date figures (with intervals)."""
    year: int
    value: float
    origin: Literal["reported", "derived", "estimated"]
    figure_id: str | None = None
    sources: list[SourceRef] = []       # behind the figure (traced back to reported ones), at most 3
    more_sources: bool = False
    lo80: float | None = None
    hi80: float | None = None
    lo95: float | None = None
    hi95: float | None = None
    inputs: list[str] = []              # the figures an estimated year was estimated from
    qualifier: str = "exact"            # as printed before the figure ("about", "over"): shown with it
    printed_in: str | None = None       # currency the figure was printed in (a USD figure in a CNY series
                                        # is converted at the annual average rate)
    months_known: int | None = None     # an estimated year: months of its latest year-to-date figure


class LevelFacts(_Strict):
    """Where the series stands against its first year in the window (the charts' titles)."""
    first_year: int
    first_value: float
    last_year: int
    last_value: float
    ratio: float | None = None          # last over first
    change_pct: float | None = None     # (ratio - 1) x 100
    last_qualifier: str = "exact"       # the word printed before the last figure ("about")


class AnnualSeries(_Strict):
    """The edition's annual series in its window: every calendar-year figure, then the years with
    only year-to-date figures, estimated; the same on the front page, in the growth chapter, in
    the headline chart and in its CSV."""
    entity: str
    flow: str
    partner: str
    currency: str
    unit: str
    subject: str
    start_year: int
    end_year: int
    points: list[SeriesPoint] = []
    level: LevelFacts | None = None
    n_years: int = 0                    # calendar-year figures in the window
    counts: ScopeCounts | None = None   # the figures behind the calendar-year figures


class GrowthResults(_Strict):
    series: AnnualSeries | None = None
    years: list[int] = []
    figures: dict[str, str] = {}       # year -> figure id of the annual value used
    latest_year: int | None = None
    latest_value: float | None = None
    latest_yoy_pct: float | None = None
    latest_yoy_qualifier: str = "exact"  # the word before that rate ("about" for a rate printed as "doubled")
    converted_years: list[int] = []    # years whose figure was printed in the other currency (converted)
    n_years: int = 0
    cagr: list[CagrWindow] = []
    trend: TrendSummary = TrendSummary()
    break_: BreakSummary = Field(BreakSummary(), alias="break")   # "break" is a Python keyword
    contributions: int = 0
    national_periods: int = 0
    scopes: dict[str, ScopeCounts] = {}
    charts: dict[str, ChartText] = {}   # the chapter's charts by cell label (fig-annual ...): their alt text

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ForecastResults(_Strict):
    outlook: OutlookResults
    models: list[ModelRow] = []
    evaluation: EvaluationFacts | None = None
    headline_figure: str | None = None  # the front page's chart (figures/headline.svg), drawn by the run
    interactive: str | None = None      # the data of its interactive version (figures/headline.json)
    scopes: dict[str, ScopeCounts] = {}
    calendar: Optional[ReleaseWindow] = None   # the next release's expected window
    no_release_date: Optional[NoReleaseDate] = None   # why no window can be given (when calendar is None)
    ledger: list[LedgerRow] = []               # the real forecasts of the ledger, scored
    charts: dict[str, ChartText] = {}          # the chapter's charts by cell label (fig-outlook ...): alt text


# ---------------------------------------------------------------- the whole run

SECTIONS: dict[str, type[BaseModel]] = {
    "data": DataResults,
    "growth": GrowthResults,
    "forecast": ForecastResults,
}


class DatasetSummary(BaseModel):
    """data/processed/summary.json of the run's vintage (what `xjtrade data check` prints)."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: str | None = None
    reported_rows: int = 0
    raw_rows: int = 0
    sources: int = 0
    sources_listed: int = 0
    first_year: int | None = None
    last_year: int | None = None
    years_covered: int = 0
    derived_rows: int = 0
    derived_by_method: dict[str, int] = {}
    selected_figures: int = 0
    quality_issues: int = 0
    conflicts: int = 0
    warnings: int = 0
    notes: int = 0
    entities: int = 0


class Results(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    parameters: RunParams
    data: DataResults | None = None
    growth: GrowthResults | None = None
    forecast: ForecastResults | None = None
    dataset: DatasetSummary | None = None     # data/processed summary.json of the run's vintage

    def to_json(self) -> str:
        out: dict[str, Any] = {"parameters": self.parameters.notebook_parameters()}
        for name in SECTIONS:
            section = getattr(self, name)
            if section is not None:
                out[name] = section.model_dump(mode="json", exclude_unset=True, by_alias=True)
        if self.dataset is not None:
            out["dataset"] = self.dataset.model_dump(mode="json", exclude_unset=True)
        return json.dumps(out, indent=1, sort_keys=True) + "\n"

    def chart_alts(self) -> dict[str, str]:
        """The alt text of every chapter chart, by its cell label (fig-annual: ...)."""
        return {label: chart.alt for name in SECTIONS if (section := getattr(self, name)) is not None
                for label, chart in getattr(section, "charts", {}).items()}

    def with_parameters(self, overrides: dict[str, Any]) -> "Results":
        """The results with some parameters replaced (a retitled edition is rendered again, not run)."""
        params = RunParams(**{**self.parameters.notebook_parameters(), **overrides})
        return self.model_copy(update={"parameters": params})


class ResultsError(ValueError):
    """A section does not match the contract: the message names the section and the keys."""


def _errors(section: str, exc: ValidationError) -> str:
    lines = [f"  - {'.'.join(str(x) for x in e['loc']) or '(section)'}: {e['msg']}" for e in exc.errors()]
    return f"results section {section!r} does not match the contract (xjtrade.report.results):\n" + "\n".join(lines)


def validate_section(section: str, values: dict) -> BaseModel:
    """Check one notebook's results against its section model."""
    if section not in SECTIONS:
        raise ResultsError(f"unknown results section {section!r}; known: {', '.join(SECTIONS)}")
    try:
        return SECTIONS[section](**values)
    except ValidationError as exc:
        raise ResultsError(_errors(section, exc)) from None


def section_json(section: str, values: dict) -> str:
    """The JSON text of a validated section (as written to results/<section>.json)."""
    model = validate_section(section, values)
    return json.dumps(model.model_dump(mode="json", exclude_unset=True, by_alias=True), indent=1, sort_keys=True)


def load_results(text: str) -> Results:
    """Parse results.json (raises ResultsError naming the section and key on a mismatch)."""
    raw = json.loads(text)
    sections = {}
    for name in SECTIONS:
        if name in raw:
            sections[name] = validate_section(name, raw[name])
    try:
        return Results(parameters=raw.get("parameters", {}), dataset=raw.get("dataset"), **sections)
    except ValidationError as exc:
        raise ResultsError(_errors("results", exc)) from None
