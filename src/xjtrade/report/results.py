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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class LevelFacts(_Strict):
    """Where the series stands against its first year in the window (the charts' titles)."""
    first_year: int
    first_value: float
    last_year: int
    last_value: float
    ratio: float | None = None          # last over first
    change_pct: float | None = None     # (ratio - 1) x 100


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
    n_years: int = 0
    cagr: list[CagrWindow] = []
    trend: TrendSummary = TrendSummary()
    break_: BreakSummary = Field(BreakSummary(), alias="break")   # "break" is a Python keyword
    contributions: int = 0
    national_periods: int = 0
    scopes: dict[str, ScopeCounts] = {}

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---------------------------------------------------------------- forecast chapter
class Interval(_Strict):
    point: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class Target(Interval):
    """A forecast target; ``point`` is the central number: the median of the simulated totals."""
    period: str
    year: int
    month: int
    mean: Optional[float] = None               # the mean of the same draws (means add up, medians do not)


class ModelChoice(_Strict):
    use: Literal["within year", "years ahead"]
    model: str
    label: str
    reason: str
    scored: int


class CoverageRow(_Strict):
    """The track record's empirical coverage at one horizon (the outlook's own past forecasts)."""
    use: Literal["within year", "years ahead"]
    horizon: str                               # months known within the year, horizon bucket beyond
    n: int
    years: int                                 # distinct outcome years behind them
    empirical80: Optional[float] = None        # share of outcomes inside the 80 % intervals (0-1)
    empirical95: Optional[float] = None
    mape: Optional[float] = None               # mean absolute error of the central number, % of the outcome


class ScoreRow(_Strict):
    """One row of the evaluation's scores (stats.scoring.score_table): a model at a horizon, a target year,
    every year pooled ("all") or an era ("2019-2023", "2024-latest")."""
    use: Literal["within year", "years ahead"]
    model: str
    label: str
    horizon: str
    years: str
    n: int
    outcome_years: int
    mape: Optional[float] = None
    coverage80: Optional[float] = None
    coverage95: Optional[float] = None
    winkler80: Optional[float] = None
    winkler95: Optional[float] = None


class ReleaseWindow(_Strict):
    """When the series' next figures are expected (data.calendar.next_release)."""
    latest_period: str
    latest_end: str
    latest_published: str
    period: str
    end: str
    expected: str
    earliest: str
    latest: str
    lag_median: int
    lag_low: int
    lag_high: int
    releases: int


class LedgerRow(_Strict):
    """A real forecast from the ledger (ledger/forecasts.csv), scored when its outcome is published."""
    vintage: str
    written: str
    code_version: str
    kind: Literal["published", "recovered"]
    target_year: int
    point: float
    central: str
    lo80: Optional[float] = None
    hi80: Optional[float] = None
    lo95: Optional[float] = None
    hi95: Optional[float] = None
    method: str = ""
    actual: Optional[float] = None
    error_pct: Optional[float] = None
    in80: Optional[bool] = None
    in95: Optional[bool] = None


class OutlookResults(_Strict):
    ok: bool
    reason: str = ""
    as_of: Optional[str] = None
    current_year: Optional[int] = None
    months_known: int = 0
    known_ytd: Optional[float] = None
    annual: list[Target] = []
    ytd: list[Target] = []
    monthly: list[Target] = []
    headline: Optional[Target] = None          # the coming year's total: the one central number
    nowcast: Optional[Target] = None           # the current year's total from its year-to-date figures
    choices: list[ModelChoice] = []
    vintages: int = 0
    evaluated_forecasts: int = 0
    coverage80: Optional[float] = None         # empirical coverage of the track record
    coverage95: Optional[float] = None
    track_record_forecasts: int = 0
    central: str = "median"                    # what the central numbers (`point`) are
    base_year: Optional[int] = None            # the year before the headline's, and its total (reported or
    base_value: Optional[float] = None         # estimated): the headline's growth is measured from it
    headline_growth80: Optional[list[float]] = None   # the headline's 80 % interval as growth on base_value, %
    headline_coverage: Optional[CoverageRow] = None   # the track record at the headline's horizon
    coverage_by_horizon: list[CoverageRow] = []
    within_weights: dict[str, float] = {}      # the within-year combination's members and weights
    scores: list[ScoreRow] = []                # the evaluation by use, model, horizon and year (annual totals)
    benchmark_ratio80: Optional[float] = None  # the years-ahead outlook's Winkler-80 score / the benchmark's
    benchmark_ratio95: Optional[float] = None
    benchmark_n: int = 0


class ModelRow(_Strict):         # one model of the registry (the methods chapter's model table)
    model: str
    label: str
    description: str
    use: str
    min_years: int


class ScoreFacts(_Strict):
    model: str
    label: str
    n: int
    mase: float
    coverage80: float | None = None
    coverage95: float | None = None


class BucketFacts(_Strict):
    """The scores of one use and horizon: the best model and the best of the annual-only ones."""
    use: str
    bucket: str                         # "1-3 months": the months from the forecast to the outcome
    months_from: int
    months_to: int
    n: int                              # forecasts per model
    best: ScoreFacts
    best_annual_only: ScoreFacts | None = None   # within the year: the best model ignoring the year-to-date figures


class ChoiceFacts(_Strict):
    """How a use's model was chosen at the run's date: the forecasts scored for every candidate and
    the candidates' MASE over them, lowest first (empty when the robust default was used)."""
    use: str
    model: str
    label: str
    scored: int
    required: int
    default_used: bool
    scores: list[ScoreFacts] = []


class Outcome(_Strict):          # a published annual total the years-ahead track record was scored on
    year: int
    value: float
    growth_pct: float | None = None     # on the year before, where that is known


class CoverageFacts(_Strict):
    forecasts: str                      # "all", "within year", "years ahead"
    n: int
    empirical80: float                  # percent
    empirical95: float
    uncalibrated80: float | None = None
    uncalibrated95: float | None = None
    below_nominal: bool = False         # calibrated 80 % coverage short of 80 % by more than sampling


class EvaluationFacts(_Strict):
    """What the methods chapter says about the evaluation, the choice and the intervals of this
    edition (computed from the run's evaluation by :mod:`xjtrade.report.evaluation_facts`)."""
    vintages: int = 0
    first_vintage: str | None = None
    last_vintage: str | None = None
    forecasts: int = 0
    buckets: list[BucketFacts] = []
    choices: list[ChoiceFacts] = []
    years_ahead_forecasts: int = 0      # years-ahead forecasts in the track record
    outcomes: list[Outcome] = []        # the annual totals those forecasts were scored on
    coverage: list[CoverageFacts] = []
    min_origins: int                    # scored forecasts required for a choice
    min_past: int                       # past errors required for a conformal factor
    k_max: float                        # largest conformal factor
    z80: float                          # the normal's half-width of an 80 % interval


class ForecastResults(_Strict):
    outlook: OutlookResults
    models: list[ModelRow] = []
    evaluation: EvaluationFacts | None = None
    headline_figure: str | None = None  # the front page's chart (figures/headline.svg), drawn by the run
    interactive: str | None = None      # the data of its interactive version (figures/headline.json)
    scopes: dict[str, ScopeCounts] = {}
    calendar: Optional[ReleaseWindow] = None   # the next release's expected window
    ledger: list[LedgerRow] = []               # the real forecasts of the ledger, scored


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
