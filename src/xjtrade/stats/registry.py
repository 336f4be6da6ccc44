"""The one list of forecasting models: names, reader labels, needs, and what each is used for.

The outlook has two uses for a model: *years ahead* (annual totals, on logs, from a gap-free run of
years) and *within year* (the rest of the current year from its year-to-date figures).  Adding a
years-ahead model is one function in :mod:`xjtrade.stats.benchmarks` (signature
``fn(log_totals, h) -> (mean, sd, df, info)``: mean and sd of the log total per step, Student-t
degrees of freedom) plus one entry here; its label and description fill the methods chapter's
model table, the run-parameter schema offers it, and the evaluation scores it.  Kept free of
heavy imports: the command line validates parameters against it without loading pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

YEARS_AHEAD = "years ahead"
WITHIN_YEAR = "within year"
BOTH = "within year and years ahead"


@dataclass(frozen=True)
class ModelSpec:
    """One forecasting model."""

    name: str
    function: str | None      # name of its function in xjtrade.stats.benchmarks (None: built in)
    min_years: int            # consecutive annual totals it needs
    label: str                # the model's name in text written for readers
    description: str          # one line on what it does (the methods chapter's table)
    use: str = YEARS_AHEAD    # YEARS_AHEAD, WITHIN_YEAR or BOTH


MODELS: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec("naive", "_naive", 2, "naive", "the last annual total carried forward (a random walk on logs)"),
    ModelSpec("drift", "_drift", 3, "drift", "the last total plus the average yearly change"),
    ModelSpec("mean_growth", "_mean_growth", 3, "mean growth", "the last total compounded at the mean log growth"),
    ModelSpec("ses", "_ses", 4, "simple exponential smoothing", "a level updated by exponential smoothing"),
    ModelSpec("theta", "_theta", 4, "Theta", "simple exponential smoothing with half the linear trend (Theta method)"),
    ModelSpec("damped", "_damped", 5, "damped trend", "exponential smoothing with a damped additive trend"),
    ModelSpec("ets", "_ets", 5, "ETS", "exponential smoothing with an additive trend"),
    ModelSpec("arima", "_arima", 6, "ARIMA", "one difference with drift, AR or MA order chosen by AICc"),
    ModelSpec("combination", None, 2, "equal-weight combination",
              "an equal mixture of the forecast distributions of the models above that can be fitted"),
    ModelSpec("share_mean", None, 2, "year-to-date share (mean of years)",
              "the year's total from its year-to-date figure and the mean share those months make of a year",
              use=WITHIN_YEAR),
    ModelSpec("share_last", None, 2, "year-to-date share (last year)",
              "the same with the latest year's share (the seasonal naive of the aggregate)", use=WITHIN_YEAR),
    ModelSpec("latent", None, 3, "latent monthly model",
              "a structural model of the monthly logs (trend, seasonal, irregular) fitted to every reported "
              "window since 2011 by the Kalman filter; paths drawn from it", use=BOTH),
)}

YEARS_AHEAD_MODELS: tuple[str, ...] = tuple(m for m, s in MODELS.items() if s.use == YEARS_AHEAD)
WITHIN_YEAR_MODELS: tuple[str, ...] = tuple(m for m, s in MODELS.items() if s.use == WITHIN_YEAR)
BOTH_USES_MODELS: tuple[str, ...] = tuple(m for m, s in MODELS.items() if s.use == BOTH)
# the robust defaults when the evaluation has too few scored forecasts to choose
DEFAULTS = {WITHIN_YEAR: "share_mean", YEARS_AHEAD: "combination"}


def spec_of(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {list(MODELS)}") from None


def model_label(name: str) -> str:
    """The reader's name of a model ('mean_growth' -> 'mean growth'; 'naive_annual' -> 'naive, annual
    figures only')."""
    if name in MODELS:
        return MODELS[name].label
    if name.endswith("_annual") and name.removesuffix("_annual") in MODELS:
        return f"{MODELS[name.removesuffix('_annual')].label}, annual figures only"
    return name
