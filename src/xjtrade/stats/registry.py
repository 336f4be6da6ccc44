"""The one list of forecasting models: names, reader labels, needs, and where each is used.

Adding a model is one function in :mod:`xjtrade.stats.models` (signature
``fn(y, h, levels, **kw) -> (mean, intervals, info)``) plus one entry here (and its
paragraph in methods.qmd).  The run parameter schema, the notebooks and the
model tables all read this registry.  Kept free of heavy imports: the command
line validates parameters against it without loading pandas or statsmodels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class ModelSpec:
    """One forecasting model."""

    name: str
    function: str             # name of the function in xjtrade.stats.models
    min_obs: Callable[[dict], int]
    needs_positive: bool
    description: str          # one line on what the model does
    label: str                # the model's name in text written for readers
    simplicity: int = 99      # rank for tie-breaks: a simpler model wins a tie
    annual: bool = True       # offered for annual series (a run-parameter choice)
    monthly: bool = True      # used for monthly series
    fn: Callable | None = field(default=None, compare=False, repr=False)  # resolved on first use


def _const(n: int) -> Callable[[dict], int]:
    return lambda kw: n


# In the order tables list them; `simplicity` ranks them for tie-breaks (simplest first).
MODELS: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec("naive", "_naive", _const(2), False, "last value", "naive", simplicity=0),
    ModelSpec("snaive", "_snaive", lambda kw: int(kw.get("season_length", 12)) + 1, False,
              "value one season earlier", "seasonal naive", simplicity=1, annual=False),
    ModelSpec("drift", "_drift", _const(3), False, "last value plus average change", "drift", simplicity=2),
    ModelSpec("mean_growth", "_mean_growth", _const(3), True, "last value compounded at mean log growth",
              "mean growth", simplicity=3),
    ModelSpec("loglinear", "_loglinear", _const(4), True, "OLS trend on logs", "log-linear trend",
              simplicity=4, monthly=False),
    ModelSpec("ets", "_ets", _const(6), True, "ETS(A,A,N)/(A,Ad,N) on logs, AICc", "ETS", simplicity=6),
    ModelSpec("ets_damped", "_ets_damped", _const(6), True, "ETS(A,Ad,N) on logs", "ETS with damped trend",
              simplicity=5),
    ModelSpec("arima", "_arima", _const(8), True, "ARIMA on logs, KPSS d, AICc p,q", "ARIMA", simplicity=7),
)}

MODEL_ORDER: tuple[str, ...] = tuple(sorted(MODELS, key=lambda m: MODELS[m].simplicity))
ANNUAL_MODELS: tuple[str, ...] = tuple(m for m, s in MODELS.items() if s.annual)
MONTHLY_MODELS: tuple[str, ...] = tuple(m for m, s in MODELS.items() if s.monthly)


def spec_of(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {list(MODELS)}") from None


def model_label(name: str) -> str:
    """The reader's name of a model ('mean_growth' -> 'mean growth')."""
    spec = MODELS.get(name)
    return spec.label if spec else name
