"""The results contract: what a run's notebooks write and the summary page reads.

Each notebook saves one section (`data`, `growth`, `forecast`) through
`chapters.save_results`, which validates it against the section's model here; the run
step merges the sections into `results.json` as a :class:`Results`, and the publish step
reads that file back through the same model.  A renamed or missing key therefore fails
the run that wrote it, with the section and the key, instead of silently dropping a
line from the summary page.  Kept free of heavy imports (pydantic only): the publish
step reads results without loading pandas or statsmodels.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- data chapter

class DataResults(_Strict):
    reported_figures: int
    sources: int
    derived_figures: int
    derived_in_use: int
    first_year: int | None = None
    last_year: int | None = None
    last_published: str | None = None
    quality: dict[str, int] = {}


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
    growth_before_pct: float | None = None
    growth_after_pct: float | None = None
    n_before: int | None = None
    n_after: int | None = None


class GrowthResults(_Strict):
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


class ForecastResults(_Strict):
    outlook: OutlookResults
    calendar: Optional[ReleaseWindow] = None   # the next release's expected window
    ledger: list[LedgerRow] = []               # the real forecasts of the ledger, scored


# ---------------------------------------------------------------- the whole run

SECTIONS: dict[str, type[BaseModel]] = {
    "data": DataResults,
    "growth": GrowthResults,
    "forecast": ForecastResults,
}


class Results(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    parameters: dict[str, Any]
    data: DataResults | None = None
    growth: GrowthResults | None = None
    forecast: ForecastResults | None = None
    dataset: dict[str, Any] = {}     # data/processed summary.json of the run's vintage

    def as_dict(self) -> dict[str, Any]:
        """The results as plain JSON data (for charts that take every series at once)."""
        return json.loads(self.to_json())

    def to_json(self) -> str:
        out: dict[str, Any] = {"parameters": self.parameters}
        for name in SECTIONS:
            section = getattr(self, name)
            if section is not None:
                out[name] = section.model_dump(mode="json", exclude_unset=True, by_alias=True)
        if self.dataset:
            out["dataset"] = self.dataset
        return json.dumps(out, indent=1, sort_keys=True) + "\n"


def annual_outlook(results: dict) -> dict | None:
    """The outlook's annual targets as chart series, from results as JSON data:
    {"years": [...], "point": [...], "intervals": {80: [(lo, hi), ...], 95: [...]}} or None."""
    out = ((results.get("forecast") or {}).get("outlook") or {})
    annual = out.get("annual") or []
    if not out.get("ok") or not annual:
        return None
    return {"years": [a["year"] for a in annual], "point": [a["point"] for a in annual],
            "intervals": {lvl: [(a[f"lo{lvl}"], a[f"hi{lvl}"]) for a in annual] for lvl in (80, 95)}}


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
        return Results(parameters=raw.get("parameters", {}), dataset=raw.get("dataset", {}), **sections)
    except ValidationError as exc:
        raise ResultsError(_errors("results", exc)) from None
