"""The one list of forecasting models: model objects with one interface, and the fallbacks.

In the style of statsforecast (``StatsForecast(models=[...], fallback_model=...)``), the registry
is a list of model *instances* (:data:`REGISTRY`).  Every model has a ``name`` (its id in tables
and parameters), a ``label`` (its name in text written for readers), a ``description`` (the
methods chapter's table), ``min_years`` (the years of evidence it needs) and a ``use``:

* **years ahead** (:class:`AnnualModel`): annual totals on logs, from a gap-free run of years.
  ``fit(log_totals)`` returns a fitted model whose ``forecast(h)`` is a
  :class:`xjtrade.stats.benchmarks.LogForecast` (mean and sd of the log total per step, the
  Student-t degrees of freedom, ``draws(n, rng)`` and ``interval(level)``);
  ``forecast(log_totals, h)`` does both.
* **within year** (:class:`WithinYearModel`): the rest of the current year from its year-to-date
  figures.  ``fit(annual, ytd, year)`` learns from the years before ``year``; the fitted model's
  ``forecast(known, month)`` is a :class:`xjtrade.stats.nowcast.YearForecast` of the year's
  total (``draws(n, rng)``, ``interval(level)``, monthly weights to split the rest into months).
* **both** (:class:`LatentModel`): the latent monthly model, fitted to every reported window;
  ``fit(evidence)`` and ``forecast(evidence, until, n, seed)`` give simulated monthly paths.

The fallbacks (:data:`FALLBACK`) are what the outlook uses when the evaluation has too little
evidence to choose, and what a failed fit falls back to.  The implementations are imported
lazily inside the methods (``xjtrade.stats.benchmarks``, ``.nowcast``, ``.latent_adapter``), so
this module stays free of heavy imports: the command line validates parameters against it
without loading numpy, pandas or statsmodels.  Adding a model is one class (or one instance of
an existing class) here and, for a new method, one function in its implementation module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

YEARS_AHEAD = "years ahead"
WITHIN_YEAR = "within year"
BOTH = "within year and years ahead"

__all__ = ["Model", "AnnualModel", "WithinYearModel", "LatentModel", "REGISTRY", "MODELS", "FALLBACK",
           "DEFAULTS", "LAST_RESORT", "YEARS_AHEAD", "WITHIN_YEAR", "BOTH", "YEARS_AHEAD_MODELS", "WITHIN_YEAR_MODELS",
           "BOTH_USES_MODELS", "BENCHMARK_MODELS", "COMBINED", "model", "spec_of", "model_label", "candidates"]


@dataclass(frozen=True)
class Model:
    """A forecasting model: what it is called, what it needs and what it is used for."""

    name: str
    label: str                # the model's name in text written for readers
    description: str          # one line on what it does (the methods chapter's table)
    min_years: int            # years of evidence it needs
    use: str = YEARS_AHEAD    # YEARS_AHEAD, WITHIN_YEAR or BOTH
    benchmark: bool = False   # scored for comparison, never chosen

    def serves(self, use: str) -> bool:
        return self.use in (use, BOTH)

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- years ahead

@dataclass(frozen=True)
class AnnualModel(Model):
    """Years ahead: forecasts of the log annual total from a gap-free run of log totals."""

    def fit(self, log_totals) -> "Any":
        """The model fitted to the run of log totals (raises ValueError when it cannot be)."""
        from xjtrade.stats.benchmarks import AnnualFit
        return AnnualFit.of(self, log_totals)

    def forecast(self, log_totals, h: int):
        """:class:`~xjtrade.stats.benchmarks.LogForecast` of the next `h` log totals."""
        return self.fit(log_totals).forecast(h)

    def compute(self, ly, h: int):
        """(mean, sd, df, info) of the log totals 1..h steps ahead: the model's own method."""
        raise NotImplementedError


@dataclass(frozen=True)
class Naive(AnnualModel):
    def compute(self, ly, h):
        from xjtrade.stats import benchmarks
        return benchmarks.naive(ly, h)


@dataclass(frozen=True)
class Drift(AnnualModel):
    def compute(self, ly, h):
        from xjtrade.stats import benchmarks
        return benchmarks.drift(ly, h)


@dataclass(frozen=True)
class MeanGrowth(AnnualModel):
    def compute(self, ly, h):
        from xjtrade.stats import benchmarks
        return benchmarks.mean_growth(ly, h)


@dataclass(frozen=True)
class Smoothing(AnnualModel):
    """Exponential smoothing on logs: `trend` None (simple) or "add", optionally damped."""

    trend: str | None = None
    damped: bool = False

    def compute(self, ly, h):
        from xjtrade.stats import benchmarks
        return benchmarks.ets(ly, h, self.trend, self.damped)


@dataclass(frozen=True)
class Theta(AnnualModel):
    def compute(self, ly, h):
        from xjtrade.stats import benchmarks
        return benchmarks.theta(ly, h)


@dataclass(frozen=True)
class Arima(AnnualModel):
    def compute(self, ly, h):
        from xjtrade.stats import benchmarks
        return benchmarks.arima(ly, h)


@dataclass(frozen=True)
class EmpiricalGrowth(AnnualModel):
    """The naive level with the empirical distribution of past annual growth (a benchmark of the
    intervals' sharpness: the log total h years ahead is the last one plus h growths drawn from
    every one-year growth of the run)."""

    def compute(self, ly, h):
        from xjtrade.stats import benchmarks
        return benchmarks.empirical_growth(ly, h)


@dataclass(frozen=True)
class Combination(AnnualModel):
    """The equal-weight mixture of the forecast distributions of the other (non-benchmark) annual
    models that can be fitted."""

    def fit(self, log_totals):
        from xjtrade.stats.benchmarks import CombinationFit
        members = [m for m in REGISTRY if isinstance(m, AnnualModel) and not isinstance(m, Combination)
                   and not m.benchmark]
        return CombinationFit.of(self, members, log_totals)


# ---------------------------------------------------------------- within the year

@dataclass(frozen=True)
class WithinYearModel(Model):
    """The current year's total from its year-to-date figures.  ``fit(annual, ytd, year)`` uses
    the evidence of the years before `year` (and, for growth methods, the same months of the year
    before); the fitted model's ``forecast(known, month)`` is a YearForecast."""

    use: str = WITHIN_YEAR

    def fit(self, annual: dict, ytd: dict, year: int, ahead_growth: float | None = None):
        raise NotImplementedError

    def forecast(self, annual: dict, ytd: dict, year: int, known: float, month: int,
                 ahead_growth: float | None = None):
        return self.fit(annual, ytd, year, ahead_growth).forecast(known, month)


@dataclass(frozen=True)
class YtdShare(WithinYearModel):
    """Year-to-date total / the share those months make of a year; `method` 'mean' (geometric mean
    over years), 'last' (the latest year) or 'recent' (weights halving every `half_life` years)."""

    method: str = "mean"
    half_life: float = 2.0

    def fit(self, annual, ytd, year, ahead_growth=None):
        from xjtrade.stats.nowcast import ShareNowcast
        return ShareNowcast.of(self, annual, ytd, year)


@dataclass(frozen=True)
class ShrunkGrowth(WithinYearModel):
    """The rest of the year = the same months of the year before times a growth rate shrunk from the
    year-to-date growth toward the years-ahead outlook's growth: weight m/12 on the year-to-date
    growth with m months known."""

    def fit(self, annual, ytd, year, ahead_growth=None):
        from xjtrade.stats.nowcast import GrowthNowcast
        return GrowthNowcast.of(self, annual, ytd, year, ahead_growth)


@dataclass(frozen=True)
class SkillWeighted(WithinYearModel):
    """A mixture of the within-year candidates, weighted by their past skill at the same number of
    months known (inverse mean squared log error), with equal weights while the evidence is thin.
    Its weights come from the evaluation (:func:`xjtrade.stats.nowcast.skill_weights`); its draws
    are the members' draws, mixed path by path."""

    members: tuple[str, ...] = ()


# ---------------------------------------------------------------- both uses

@dataclass(frozen=True)
class LatentModel(Model):
    """The latent monthly model: every reported window since 2011 as a sum of latent months."""

    use: str = BOTH

    def fit(self, evidence, n: int = 2000, seed: int = 0):
        from xjtrade.stats.latent_adapter import latent_fit
        return latent_fit(evidence, n=n, seed=seed)

    def forecast(self, evidence, until: int, n: int, seed: int):
        """Monthly paths to December of `until` (a LatentPaths: ``ytd_draws(year, month)``)."""
        from xjtrade.stats.latent_adapter import latent_paths
        return latent_paths(evidence, until, n, seed)


# ---------------------------------------------------------------- the registry

COMBINED = ("share_mean", "share_recent", "shrunk_growth", "latent")   # the skill-weighted combination's members

REGISTRY: tuple[Model, ...] = (
    Naive("naive", "naive", "the last annual total carried forward (a random walk on logs)", 2),
    Drift("drift", "drift", "the last total plus the average yearly change", 3),
    MeanGrowth("mean_growth", "mean growth", "the last total compounded at the mean log growth", 3),
    Smoothing("ses", "simple exponential smoothing", "a level updated by exponential smoothing", 4),
    Theta("theta", "Theta", "simple exponential smoothing with half the linear trend (Theta method)", 4),
    Smoothing("damped", "damped trend", "exponential smoothing with a damped additive trend", 5,
              trend="add", damped=True),
    Smoothing("ets", "ETS", "exponential smoothing with an additive trend", 5, trend="add"),
    Arima("arima", "ARIMA", "one difference with drift, AR or MA order chosen by AICc", 6),
    Combination("combination", "equal-weight combination",
                "an equal mixture of the forecast distributions of the models above that can be fitted", 2),
    EmpiricalGrowth("empirical_growth", "naive with empirical growth quantiles",
                    "benchmark of the intervals: the last total times a growth drawn from every past "
                    "one-year growth", 5, benchmark=True),
    YtdShare("share_mean", "year-to-date share (mean of years)",
             "the year's total from its year-to-date figure and the mean share those months make of a year", 2),
    YtdShare("share_last", "year-to-date share (last year)",
             "the same with the latest year's share (the seasonal naive of the aggregate)", 2, method="last"),
    YtdShare("share_recent", "year-to-date share (recent years)",
             "the same with the shares of recent years weighted more (weights halve every two years)", 2,
             method="recent"),
    ShrunkGrowth("shrunk_growth", "same months of last year, shrunk growth",
                 "the rest of the year from the same months of the year before, grown at the year-to-date "
                 "growth shrunk toward the years-ahead outlook (weight: months known / 12)", 2),
    LatentModel("latent", "latent monthly model",
                "a structural model of the monthly logs (trend, time-varying seasonal, irregular) fitted to "
                "every reported window since 2011 by the Kalman filter; paths drawn from it", 3),
    SkillWeighted("skill_weighted", "skill-weighted combination",
                  "a mixture of the year-to-date shares (mean and recent years), the shrunk growth and the "
                  "latent model, weighted by past skill at the same number of months known", 2, members=COMBINED),
)

#: the registry by name (an index of the one list, not a second list)
MODELS: dict[str, Model] = {m.name: m for m in REGISTRY}

#: what the outlook uses when the evaluation cannot choose (explicit, like statsforecast's fallback_model)
FALLBACK: dict[str, Model] = {WITHIN_YEAR: MODELS["skill_weighted"], YEARS_AHEAD: MODELS["mean_growth"]}
DEFAULTS = {use: m.name for use, m in FALLBACK.items()}
#: when the fallback itself cannot be drawn (no member of the combination could be fitted)
LAST_RESORT: dict[str, Model] = {WITHIN_YEAR: MODELS["share_mean"], YEARS_AHEAD: MODELS["naive"]}

YEARS_AHEAD_MODELS: tuple[str, ...] = tuple(m.name for m in REGISTRY if m.use == YEARS_AHEAD and not m.benchmark)
WITHIN_YEAR_MODELS: tuple[str, ...] = tuple(m.name for m in REGISTRY if m.use == WITHIN_YEAR)
BOTH_USES_MODELS: tuple[str, ...] = tuple(m.name for m in REGISTRY if m.use == BOTH)
BENCHMARK_MODELS: tuple[str, ...] = tuple(m.name for m in REGISTRY if m.benchmark)


def model(name: str) -> Model:
    """The registry's model called `name` (ValueError naming the known ones otherwise)."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {list(MODELS)}") from None


spec_of = model


def candidates(use: str) -> tuple[Model, ...]:
    """The models that can be chosen for `use` (benchmarks excluded)."""
    return tuple(m for m in REGISTRY if m.serves(use) and not m.benchmark)


def model_label(name: str) -> str:
    """The reader's name of a model ('mean_growth' -> 'mean growth')."""
    m = MODELS.get(str(name))
    return m.label if m is not None else str(name)
