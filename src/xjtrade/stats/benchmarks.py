"""Benchmarks on the aggregate targets: annual totals (on logs) and year-to-date shares.

Two families, both pure numpy/statsmodels on small arrays:

* **Annual models**: the implementations behind the registry's years-ahead models
  (:mod:`xjtrade.stats.registry`).  Each function ``f(ly, h)`` forecasts the log of the annual
  total 1..h years ahead from a gap-free run of log totals ``ly`` and returns (mean, sd, df,
  info); :class:`AnnualFit` wraps it as a :class:`LogForecast` (mean and standard deviation of
  the log total per step, the degrees of freedom of the Student-t used for draws), so that every
  interval is positive and asymmetric on levels.  ``combination`` is the equal-weight mixture of
  the others that could be fitted (:class:`CombinationFit`); ``empirical_growth`` (a benchmark)
  draws the growths from those of the run.
* **Year-to-date shares** (:class:`ShareModel`): the share of the annual total reached by the
  end of each month, estimated from years where both a year-to-date figure and the annual total
  are known: the mean log share over all such years ('mean'), the latest year ('last', the
  seasonal naive of the aggregate) or a mean weighted toward recent years ('recent').  It
  estimates a partial year's total from its latest year-to-date figure, and splits a year into
  months.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from xjtrade.stats import registry as reg

__all__ = ["LogForecast", "AnnualFit", "CombinationFit", "ANNUAL_BENCHMARKS", "BENCHMARK_LABELS", "fit_annual",
           "ShareModel", "draw_log", "MIN_YEARS", "FIT_ERRORS"]

FIT_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError, IndexError)
_FIT_ERRORS = FIT_ERRORS
Z80 = 1.2815515655446004


# from the registry: the years-ahead models that can be chosen, what each needs, every reader's name
ANNUAL_BENCHMARKS = reg.YEARS_AHEAD_MODELS
MIN_YEARS = {m.name: m.min_years for m in reg.REGISTRY if m.use == reg.YEARS_AHEAD}
BENCHMARK_LABELS = {m.name: m.label for m in reg.REGISTRY}


@dataclass
class LogForecast:
    """Forecast of log totals: ``mean[i]``, ``sd[i]`` for step i+1; draws are Student-t(df).
    A combination holds its members instead (a mixture); an empirical forecast its growths
    (draws resample them)."""

    model: str
    mean: np.ndarray
    sd: np.ndarray
    df: float
    members: list = field(default_factory=list)
    info: dict = field(default_factory=dict)
    last: float | None = None          # the last log total (empirical draws start from it)
    growths: np.ndarray | None = None  # empirical one-year log growths

    def draws(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, h) simulated log totals, steps joined as a random walk of the increments so that
        the paths of consecutive years are coherent."""
        if self.members:
            pick = rng.integers(0, len(self.members), size=n)
            out = np.empty((n, len(self.mean)))
            for i, mem in enumerate(self.members):
                idx = np.flatnonzero(pick == i)
                if len(idx):
                    out[idx] = mem.draws(len(idx), rng)
            return out
        if self.growths is not None:
            g = self.growths[rng.integers(0, len(self.growths), size=(n, len(self.mean)))]
            return self.last + np.cumsum(g, axis=1)
        return draw_log(self.mean, self.sd, self.df, n, rng)

    def interval(self, level: float, n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) of the central `level` % interval of the total (levels, not logs) per step."""
        a = (100 - level) / 200
        d = np.exp(self.draws(n, np.random.default_rng(seed)))
        lo, hi = np.quantile(d, [a, 1 - a], axis=0)
        return lo, hi


def draw_log(mean, sd, df, n, rng) -> np.ndarray:
    """Paths whose step-i marginal is mean[i] + sd[i] * t(df), built from independent increments."""
    mean, sd = np.asarray(mean, float), np.asarray(sd, float)
    var = sd**2
    inc_sd = np.sqrt(np.maximum(np.diff(np.concatenate([[0.0], var])), 0.0))
    t = rng.standard_t(df, size=(n, len(mean))) if np.isfinite(df) else rng.standard_normal((n, len(mean)))
    return mean + np.cumsum(t * inc_sd, axis=1)


def _df(n_resid: int) -> float:
    return float(max(n_resid - 1, 2))


# --- the annual methods: f(ly, h) -> (mean, sd, df, info) ------------------------------------------

def naive(ly, h):
    e = np.diff(ly)
    s = math.sqrt(np.mean(e**2))
    steps = np.arange(1, h + 1)
    return np.full(h, ly[-1]), s * np.sqrt(steps), _df(len(e)), {"sigma": s}


def mean_growth(ly, h):
    g = np.diff(ly)
    gbar, s = float(np.mean(g)), float(np.std(g, ddof=1))
    steps = np.arange(1, h + 1)
    return ly[-1] + steps * gbar, s * np.sqrt(steps * (1 + steps / len(g))), _df(len(g)), {"growth": gbar}


def drift(ly, h):
    """Drift on levels (the last value plus the mean change), carried to logs by the delta method."""
    y = np.exp(ly)
    d = np.diff(y)
    slope, s = float(np.mean(d)), float(np.std(d, ddof=1))
    steps = np.arange(1, h + 1)
    mean = y[-1] + steps * slope
    if np.any(mean <= 0):
        raise ValueError("the drift forecast falls below zero")
    sd = s * np.sqrt(steps * (1 + steps / len(d))) / mean
    return np.log(mean), sd, _df(len(d)), {"slope": slope}


def empirical_growth(ly, h):
    """The naive level; the spread from the run's one-year growths (resampled by the draws)."""
    g = np.diff(ly)
    steps = np.arange(1, h + 1)
    lo, hi = np.quantile(g, [0.1, 0.9])
    return (np.full(h, ly[-1]), (hi - lo) / (2 * Z80) * np.sqrt(steps), _df(len(g)),
            {"growths": g, "last": float(ly[-1])})


def _sm_prediction(res, T, h):
    pred = res.get_prediction(start=T, end=T + h - 1)
    sf = pred.summary_frame(alpha=0.2)
    mean = np.asarray(pred.predicted_mean, float)
    lo = sf.filter(like="lower").iloc[:, -1].to_numpy(float)
    sd = (mean - lo) / Z80
    return mean, sd


def ets(ly, h, trend=None, damped=False):
    """Exponential smoothing with additive errors: simple (trend None) or with an additive trend."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandas as pd

        res = ETSModel(pd.Series(ly), error="add", trend=trend, damped_trend=damped).fit(disp=False)
        mean, sd = _sm_prediction(res, len(ly), h)
    k = 2 + (trend is not None) * (2 + damped)
    return mean, sd, _df(len(ly) - k + 1), {"aicc": float(res.aicc)}


def theta(ly, h):
    from statsmodels.tsa.forecasting.theta import ThetaModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ThetaModel(ly, period=1, deseasonalize=False).fit()
        mean = np.asarray(res.forecast(h), float)
        pi = res.prediction_intervals(h, alpha=0.2)
    sd = (mean - np.asarray(pi.iloc[:, 0], float)) / Z80
    return mean, sd, _df(len(ly) - 2), {"b0": float(res.params["b0"]), "alpha": float(res.params["alpha"])}


def arima(ly, h):
    """ARIMA on logs: d = 1, (p, q) in {0, 1} with drift, chosen by AICc."""
    from statsmodels.tsa.arima.model import ARIMA

    best = None
    for p, q in ((0, 0), (1, 0), (0, 1)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = ARIMA(ly, order=(p, 1, q), trend="t").fit()
        except FIT_ERRORS:
            continue
        if np.isfinite(res.aicc) and (best is None or res.aicc < best[0]):
            best = (float(res.aicc), (p, 1, q), res)
    if best is None:
        raise ValueError(f"no ARIMA candidate could be estimated on {len(ly)} years")
    fc = best[2].get_forecast(steps=h)
    mean = np.asarray(fc.predicted_mean, float)
    sd = np.asarray(fc.se_mean, float)
    return mean, sd, _df(len(ly) - 3), {"order": best[1], "aicc": best[0]}


# --- fitted annual models ------------------------------------------------------------------------

def _checked(model, log_totals) -> np.ndarray:
    ly = np.asarray(log_totals, float)
    if len(ly) < model.min_years:
        raise ValueError(f"{model.name} needs at least {model.min_years} consecutive years, has {len(ly)}")
    if not np.all(np.isfinite(ly)):
        raise ValueError("log totals must be finite")
    return ly


@dataclass
class AnnualFit:
    """An annual model fitted to a run of log totals; ``forecast(h)`` gives its LogForecast."""

    model: reg.AnnualModel
    ly: np.ndarray

    @classmethod
    def of(cls, model, log_totals) -> "AnnualFit":
        return cls(model, _checked(model, log_totals))

    def forecast(self, h: int) -> LogForecast:
        name, ly = self.model.name, self.ly
        try:
            mean, sd, df, info = self.model.compute(ly, h)
        except FIT_ERRORS as exc:
            raise ValueError(f"{name} could not be fitted: {exc}") from exc
        sd = np.asarray(sd, float)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))):
            raise ValueError(f"{name} gave a non-finite forecast")
        growths = info.pop("growths", None)
        # a fitted variance of zero (a perfect fit on few points) is not an honest interval:
        # floor the one-step sd at a tenth of the naive one
        floor = 0.1 * math.sqrt(np.mean(np.diff(ly) ** 2)) * np.sqrt(np.arange(1, h + 1))
        return LogForecast(name, np.asarray(mean, float), np.maximum(sd, floor), df, [], info,
                           last=float(ly[-1]), growths=None if growths is None else np.asarray(growths, float))


@dataclass
class CombinationFit:
    """The equal-weight mixture of the members that can be fitted to the run."""

    model: reg.Model     # the registry's Combination
    members: list
    ly: np.ndarray

    @classmethod
    def of(cls, model, members, log_totals) -> "CombinationFit":
        return cls(model, list(members), _checked(model, log_totals))

    def forecast(self, h: int) -> LogForecast:
        fits = []
        for m in self.members:
            try:
                fits.append(m.forecast(self.ly, h))
            except FIT_ERRORS:
                continue
        if not fits:
            raise ValueError(f"no member of the {self.model.name} could be fitted")
        mean = np.mean([f.mean for f in fits], axis=0)
        # mixture sd: within-model variance plus the spread of the means
        var = np.mean([f.sd**2 + (f.mean - mean) ** 2 for f in fits], axis=0)
        return LogForecast(self.model.name, mean, np.sqrt(var), min(f.df for f in fits), fits,
                           {"members": [f.model for f in fits]}, last=float(self.ly[-1]))


def fit_annual(model, log_totals, h: int) -> LogForecast:
    """Fit one annual model (a registry model or its name) to a gap-free run of log totals and forecast
    `h` steps; raises ValueError when the run is too short for the model or the fit fails (the message
    says why)."""
    m = reg.model(model) if isinstance(model, str) else model
    if not isinstance(m, reg.AnnualModel):
        raise ValueError(f"unknown benchmark {m.name!r}; available: "
                         f"{[x.name for x in reg.REGISTRY if isinstance(x, reg.AnnualModel)]}")
    return m.forecast(log_totals, h)


# --- year-to-date shares ---------------------------------------------------------------------

@dataclass
class ShareModel:
    """Cumulative shares of the annual total by month, from (year, month, ytd, annual) evidence.

    ``log_share[m]`` (m = 1..12, 12 -> 0) is the central log share; ``kappa`` the scale of its
    uncertainty, which grows with the months still to come: sd_m = kappa * sqrt((12 - m) / m).
    ``method``: 'mean' (mean over years), 'last' (the latest year with that month) or 'recent'
    (a weighted mean, the weight of a year halving every ``half_life`` years before the latest year
    of the evidence).
    """

    log_share: np.ndarray          # index 0..12; [0] unused
    kappa: float
    df: float
    n_years: dict                  # month -> number of years behind it
    method: str = "mean"

    @classmethod
    def fit(cls, ytd: dict, annual: dict, method: str = "mean", half_life: float = 2.0) -> "ShareModel":
        """ytd: {(year, month): value} of year-to-date totals; annual: {year: total}."""
        if method not in ("mean", "last", "recent"):
            raise ValueError(f"share method must be 'mean', 'last' or 'recent', got {method!r}")
        obs: dict[int, list[tuple[int, float]]] = {}
        for (year, m), v in ytd.items():
            a = annual.get(year)
            if a and 1 <= m <= 11 and v > 0 and v < a:
                obs.setdefault(m, []).append((year, math.log(v / a)))
        known = {}
        newest = max((y for vals in obs.values() for y, _ in vals), default=0)
        for m, vals in obs.items():
            vals.sort()
            if method == "last":
                known[m] = vals[-1][1]
            elif method == "recent":
                w = np.array([0.5 ** ((newest - y) / half_life) for y, _ in vals])
                known[m] = float(np.sum(w * [v for _, v in vals]) / w.sum())
            else:
                known[m] = float(np.mean([v for _, v in vals]))
        # a month no year shows is interpolated on the share scale between its neighbours (0 at
        # month 0, 1 at month 12); with no evidence at all, months weigh equally
        grid = {0: 0.0, 12: 1.0, **{m: math.exp(v) for m, v in known.items()}}
        xs = sorted(grid)
        share = np.interp(np.arange(13), xs, [grid[x] for x in xs])
        share = np.maximum.accumulate(share)
        share[1:12] = np.clip(share[1:12], 1e-3, 1 - 1e-3)
        log_share = np.log(np.maximum(share, 1e-9))
        # pooled scale of the deviations from the mean curve
        means = {m: float(np.mean([v for _, v in vals])) for m, vals in obs.items()}
        dev = [((v - means[m]) / math.sqrt((12 - m) / m)) ** 2 for m, vals in obs.items() for _, v in vals]
        n_dev = len(dev) - len(obs)
        kappa = math.sqrt(sum(dev) / n_dev) if n_dev >= 2 else 0.08
        kappa = max(kappa, 0.02)
        return cls(log_share, kappa, float(max(n_dev, 2)), {m: len(v) for m, v in obs.items()}, method)

    def share(self, m: int) -> float:
        return float(math.exp(self.log_share[m])) if m > 0 else 0.0

    def sd(self, m: int) -> float:
        if m >= 12:
            return 0.0
        n = max(self.n_years.get(m, 0), 1)
        return self.kappa * math.sqrt((12 - m) / m) * math.sqrt(1 + 1 / n)

    def log_total(self, ytd_value: float, m: int) -> tuple[float, float]:
        """(mean, sd) of the log annual total given the year-to-date value through month m."""
        return math.log(ytd_value) - self.log_share[m], self.sd(m)

    def draw_total(self, ytd_value: float, m: int, n: int, rng) -> np.ndarray:
        mu, sd = self.log_total(ytd_value, m)
        t = rng.standard_t(self.df, size=n)
        # the total cannot fall below what is already known
        return np.maximum(np.exp(mu + sd * t), ytd_value * (1 + 1e-6))

    def weights(self) -> np.ndarray:
        """Monthly shares of the year (12 values, positive, summing to 1)."""
        s = np.exp(self.log_share)
        s[0], s[12] = 0.0, 1.0
        w = np.maximum(np.diff(s), 1e-4)
        return w / w.sum()

    def split(self, rest: np.ndarray, first_month: int, rng, noise: float = 0.1) -> np.ndarray:
        """Split simulated totals of months first_month..12 (array (n,)) into months: (n, k)."""
        w = self.weights()[first_month - 1:]
        draws = w * np.exp(noise * rng.standard_normal((len(rest), len(w))))
        draws /= draws.sum(axis=1, keepdims=True)
        return draws * np.asarray(rest, float)[:, None]
