"""The forecast part of the results contract (:mod:`xjtrade.report.results`): the outlook, its
intervals and scores, the ledger's rows, the release calendar and the facts behind the methods
chapter's statements on the evaluation.  Re-exported by `results.py`; light to import."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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


class BenchmarkRow(_Strict):
    """The years-ahead outlook's interval scores beside the benchmark's (stats.scoring.benchmark_comparison)
    over one class of forecasts: a horizon bucket, an era of target years, one target year, or all pooled."""
    by: Literal["horizon", "era", "target year", "pooled"]
    group: str                                 # "12-17 months", "2019-2023", "2023", "all"
    n: int
    years: int                                 # distinct target years
    winkler80: Optional[float] = None
    winkler80_benchmark: Optional[float] = None
    ratio80: Optional[float] = None            # below 1: the outlook's 80 % intervals score better
    winkler95: Optional[float] = None
    winkler95_benchmark: Optional[float] = None
    ratio95: Optional[float] = None
    coverage80: Optional[float] = None         # 0-1
    coverage80_benchmark: Optional[float] = None


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


class NoReleaseDate(_Strict):
    """Why no date can be expected for the series' next figures (data.calendar.no_date): the reasons
    that apply ("few": fewer than min_releases timely releases in the twelve months up to the latest;
    "stopped": the latest more than a year before the edition's date) and the facts the sentence states."""
    reasons: list[Literal["few", "stopped"]]
    releases: int                              # periods whose first release is in the record
    timely: int                                # of them, published within max_lag_days of the period's end
    recent: int                                # timely ones of periods in the twelve months up to the latest
    latest_period: Optional[str] = None
    latest_published: Optional[str] = None
    as_of: Optional[str] = None                # the date of the edition's data the latest release is compared with
    min_releases: int                          # recent timely releases needed for a calendar
    max_lag_days: int


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
    benchmark: list[BenchmarkRow] = []         # the same by horizon, era and target year, and pooled


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
