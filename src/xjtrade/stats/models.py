"""Benchmark-first forecasting for short trade series, in the style of FPP3.

Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed.):
start from simple benchmarks (naive, drift, ...), evaluate every model by
rolling-origin cross-validation, compare with scale-free MASE, and report
prediction intervals -- then only prefer a complex model when it beats the
benchmarks out of sample.

Pure functions: pandas in, pandas / dataclasses out; no I/O, no plotting,
no randomness (ETS intervals use the exact formulas, never simulation).

Index convention
----------------
``y`` is a ``pd.Series`` indexed by *consecutive* integers (years, e.g.
2010..2024) or by a ``pd.PeriodIndex`` with a frequency (e.g. monthly
``2022-01``..``2024-12``). Gaps (missing labels or NaN values) are rejected
with a ``ValueError`` naming the missing periods: pass a gap-free stretch.
Forecasts are indexed by the next ``horizon``
labels (``last + 1 ... last + horizon``).

Models (registry :data:`MODELS`, minimum observations in brackets)
-----------------------------------------------------------------
* ``naive`` [2] -- last value. ``sigma^2 = mean(e_t^2)``, ``e_t = y_t - y_{t-1}``
  (FPP3: K = 0 parameters, 1 missing residual); ``sd_h = sigma * sqrt(h)``.
* ``snaive`` [season_length + 1] -- value one season earlier.
  ``e_t = y_t - y_{t-m}``, ``sigma^2 = mean(e_t^2)``,
  ``sd_h = sigma * sqrt(floor((h - 1) / m) + 1)``.
* ``drift`` [3] -- ``y_T + h * (y_T - y_1) / (T - 1)``; sigma is the sd
  (ddof = 1) of the first differences; ``sd_h = sigma * sqrt(h * (1 + h / (T - 1)))``.
* ``mean_growth`` [3] -- ``y_T * exp(h * g)`` with ``g`` the mean log growth
  ``mean(diff(ln y))`` (i.e. ``y_T * (1 + G)^h`` with ``1 + G = exp(g)``);
  interval on the log scale ``ln y_T + h g -/+ z * s * sqrt(h)`` with ``s`` the
  sd (ddof = 1) of the log growth rates, then exponentiated. (Unlike
  ``drift`` on logs, this ignores the uncertainty in ``g``.)
* ``loglinear`` [4] -- OLS ``ln y = a + b t``; intervals are the ``obs_ci``
  bounds of ``get_prediction(...).summary_frame(alpha=...)``, exponentiated.
* ``ets`` [6] -- ``ETSModel`` on ``ln y``, additive error, additive trend;
  damped vs. undamped chosen by AICc (damped only if its AICc is finite and
  lower). Exact (not simulated) intervals, exponentiated.
* ``ets_damped`` [6] -- same, damped trend forced.
* ``arima`` [8] -- statsmodels ``ARIMA`` on ``ln y``. The differencing order
  ``d`` in {0, 1} is chosen by a KPSS level-stationarity test at 5 %
  (as ``auto.arima`` / fable do: AICc is *not* comparable across different
  ``d``), then ``p, q`` in 0..2 and, for ``d = 1``, with/without drift, by AICc
  (``d = 0`` always has a constant). Candidates with AICc undefined
  (too many parameters for the sample) are skipped.

Models marked "ln y" need strictly positive data; their point forecasts are
``exp`` of the log-scale forecast, i.e. the forecast *median* (no bias
adjustment), and their intervals are the exponentiated log-scale intervals.
Normal quantiles are used for the benchmark intervals (as in FPP3).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from xjtrade.stats.registry import (  # noqa: F401  (re-exported)
    ANNUAL_MODELS, MODEL_ORDER, MODELS, MONTHLY_MODELS, ModelSpec, model_label, spec_of,
)

__all__ = [
    "MODELS",
    "MODEL_ORDER",
    "ANNUAL_MODELS",
    "MONTHLY_MODELS",
    "ModelSpec",
    "ForecastResult",
    "min_obs",
    "model_label",
    "fit_forecast",
]


_FIT_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError)


# ---------------------------------------------------------------------------
# result containers
# ---------------------------------------------------------------------------


@dataclass
class ForecastResult:
    """Forecast of one model.

    model : registry name.
    mean : point forecasts indexed by the next ``horizon`` periods (NaN when
        ``fitted_ok`` is False).
    intervals : ``{level: DataFrame(lower, upper)}`` indexed like ``mean``;
        ``level`` is the percentage as passed (e.g. 80, 95).
    fitted_ok : False when the model could not be fitted; see ``reason``.
    reason : why the model was not fitted ("" when fitted), e.g.
        ``"ets needs at least 6 observations, series has 4"``.
    info : model details (chosen order, damping, sigma, warnings raised by
        statsmodels, ...).
    """

    model: str
    mean: pd.Series
    intervals: dict
    fitted_ok: bool
    reason: str = ""
    info: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# index helpers
# ---------------------------------------------------------------------------


def _check_index_type(idx: pd.Index) -> None:
    if isinstance(idx, pd.PeriodIndex):
        return
    if not pd.api.types.is_integer_dtype(idx.dtype):
        raise TypeError(
            "y must be indexed by consecutive integers (years) or a PeriodIndex, "
            f"got index dtype {idx.dtype}"
        )


def _full_range(idx: pd.Index) -> pd.Index:
    if isinstance(idx, pd.PeriodIndex):
        return pd.period_range(idx.min(), idx.max(), freq=idx.freq)
    return pd.Index(np.arange(int(idx.min()), int(idx.max()) + 1), dtype="int64")


def _future_index(idx: pd.Index, horizon: int) -> pd.Index:
    last = idx[-1]
    if isinstance(idx, pd.PeriodIndex):
        return pd.period_range(last + 1, periods=horizon, freq=idx.freq)
    return pd.Index(np.arange(int(last) + 1, int(last) + 1 + horizon), dtype="int64")


def _validated(y: pd.Series) -> pd.Series:
    """Sorted float copy of ``y``; raises if it has gaps, NaNs or duplicates."""
    if not isinstance(y, pd.Series):
        raise TypeError(f"y must be a pandas Series, got {type(y).__name__}")
    _check_index_type(y.index)
    if y.index.has_duplicates:
        dups = sorted(set(y.index[y.index.duplicated()].tolist()))
        raise ValueError(f"y has duplicate periods: {dups}")
    s = pd.Series(
        pd.to_numeric(y, errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        index=y.index,
        name=y.name,
    ).sort_index()
    if len(s) == 0:
        raise ValueError("y is empty")
    missing = list(_full_range(s.index).difference(s.index))
    missing += list(s.index[~np.isfinite(s.to_numpy())])
    if missing:
        missing = sorted(set(missing))
        raise ValueError(
            f"y has gaps: missing or non-finite values for periods {[str(m) for m in missing]}; "
            "pass a gap-free stretch of the series"
        )
    return s


# ---------------------------------------------------------------------------
# model implementations: values (np.ndarray) -> (mean, {level: (lo, hi)}, info)
# ---------------------------------------------------------------------------


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 200.0))


def _normal_intervals(mean, sd, levels):
    return {lv: (mean - _z(lv) * sd, mean + _z(lv) * sd) for lv in levels}


def _naive(y, h, levels, **_):
    e = np.diff(y)
    sigma = math.sqrt(np.mean(e**2))
    steps = np.arange(1, h + 1)
    mean = np.full(h, y[-1])
    sd = sigma * np.sqrt(steps)
    return mean, _normal_intervals(mean, sd, levels), {"sigma": sigma}


def _snaive(y, h, levels, season_length=12, **_):
    m = int(season_length)
    T = len(y)
    e = y[m:] - y[:-m]
    sigma = math.sqrt(np.mean(e**2))
    steps = np.arange(1, h + 1)
    mean = y[T - m + (steps - 1) % m]
    sd = sigma * np.sqrt((steps - 1) // m + 1)
    return mean, _normal_intervals(mean, sd, levels), {"sigma": sigma, "season_length": m}


def _drift(y, h, levels, **_):
    T = len(y)
    d = np.diff(y)
    slope = (y[-1] - y[0]) / (T - 1)  # == mean(d)
    sigma = float(np.std(d, ddof=1))
    steps = np.arange(1, h + 1)
    mean = y[-1] + steps * slope
    sd = sigma * np.sqrt(steps * (1.0 + steps / (T - 1)))
    return mean, _normal_intervals(mean, sd, levels), {"sigma": sigma, "slope": slope}


def _mean_growth(y, h, levels, **_):
    g = np.diff(np.log(y))
    gbar = float(np.mean(g))
    s = float(np.std(g, ddof=1))
    steps = np.arange(1, h + 1)
    logmean = math.log(y[-1]) + steps * gbar
    sd = s * np.sqrt(steps)
    ints = {lv: (np.exp(lo), np.exp(hi)) for lv, (lo, hi) in _normal_intervals(logmean, sd, levels).items()}
    info = {"mean_log_growth": gbar, "sd_log_growth": s, "growth_pct": 100 * math.expm1(gbar)}
    return np.exp(logmean), ints, info


def _loglinear(y, h, levels, **_):
    import statsmodels.api as sm

    T = len(y)
    t = np.arange(T, dtype=float)
    X = sm.add_constant(t, has_constant="add")
    res = sm.OLS(np.log(y), X).fit()
    tf = np.arange(T, T + h, dtype=float)
    Xf = sm.add_constant(tf, has_constant="add")
    pred = res.get_prediction(Xf)
    mean, ints = _exp_prediction(pred, levels, "obs_ci_lower", "obs_ci_upper")
    b = float(res.params[1])
    return mean, ints, {"slope": b, "growth_pct": 100 * math.expm1(b), "sigma": float(np.sqrt(res.scale))}


def _exp_prediction(pred, levels, lower: str, upper: str):
    """Point forecasts and intervals of a log-scale statsmodels prediction, back on the level scale
    (`lower`/`upper`: the interval columns of its summary_frame, which differ between models)."""
    mean = np.exp(np.asarray(pred.predicted_mean, dtype=float))
    ints = {}
    for lv in levels:
        sf = pred.summary_frame(alpha=1.0 - lv / 100.0)
        ints[lv] = (np.exp(sf[lower].to_numpy(dtype=float)), np.exp(sf[upper].to_numpy(dtype=float)))
    return mean, ints


def _ets_fit(logy: pd.Series, damped: bool):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(logy, error="add", trend="add", damped_trend=damped)
    return model.fit(disp=False)


def _ets_forecast(res, T, h, levels):
    pred = res.get_prediction(start=T, end=T + h - 1, method="exact")
    return _exp_prediction(pred, levels, "pi_lower", "pi_upper")


def _ets_info(res, damped):
    p = dict(zip(res.model.param_names, np.asarray(res.params, dtype=float)))
    return {
        "damped": damped,
        "aicc": float(res.aicc),
        "aic": float(res.aic),
        "params": p,
        "converged": bool(res.mle_retvals.get("converged", True)) if res.mle_retvals else None,
    }


def _ets(y, h, levels, **_):
    T = len(y)
    logy = pd.Series(np.log(y))
    fits = {}
    errors = {}
    for damped in (False, True):
        try:
            fits[damped] = _ets_fit(logy, damped)
        except _FIT_ERRORS as exc:
            errors[damped] = exc
    if not fits:
        raise errors[False]
    if False in fits and True in fits:
        a0, a1 = fits[False].aicc, fits[True].aicc
        damped = bool(np.isfinite(a1) and (not np.isfinite(a0) or a1 < a0))
        if not (np.isfinite(a0) or np.isfinite(a1)):
            selection = "AICc undefined for both (too few observations): undamped by default"
        else:
            selection = "lower AICc"
    else:
        damped = True in fits
        selection = f"only the {'damped' if damped else 'undamped'} model could be fitted"
    res = fits[damped]
    mean, ints = _ets_forecast(res, T, h, levels)
    info = _ets_info(res, damped)
    info["selection"] = selection
    info["aicc_undamped"] = float(fits[False].aicc) if False in fits else np.nan
    info["aicc_damped"] = float(fits[True].aicc) if True in fits else np.nan
    return mean, ints, info


def _ets_damped(y, h, levels, **_):
    T = len(y)
    res = _ets_fit(pd.Series(np.log(y)), True)
    mean, ints = _ets_forecast(res, T, h, levels)
    return mean, ints, _ets_info(res, True)


def _kpss_d(logy: np.ndarray) -> tuple[int, float]:
    """d = 1 if the KPSS level-stationarity test rejects at 5 %, else 0."""
    from statsmodels.tsa.stattools import kpss

    try:
        with warnings.catch_warnings():
            # InterpolationWarning (p-value outside the table) and the 0.15
            # FutureWarning about the return type are expected and harmless.
            warnings.simplefilter("ignore")
            out = kpss(logy, regression="c", nlags="auto")
        pval = float(out[1])
    except _FIT_ERRORS:
        return 1, np.nan
    if not np.isfinite(pval):
        return 1, float(pval)
    return (1 if pval < 0.05 else 0), float(pval)


def _arima(y, h, levels, order=None, trend=None, **_):
    """`order` (p, d, q) and `trend` given: fit that one model, no KPSS test nor order search
    (a backtest can reuse the order chosen once on the whole series)."""
    from statsmodels.tsa.arima.model import ARIMA

    logy = np.log(y)
    T = len(y)
    d, kpss_p = (int(order[1]), np.nan) if order is not None else _kpss_d(logy)
    trends = ["c"] if d == 0 else ["t", "n"]
    if trend is not None:
        trends = [trend]
    n_eff = T - d
    best = None
    tried = []
    last_error = None
    for trend in trends:
        for p in range(3):
            for q in range(3):
                if order is not None and (p, q) != (int(order[0]), int(order[2])):
                    continue
                k = p + q + (trend != "n") + 1  # + sigma2
                if n_eff - k - 1 <= 0:
                    continue
                try:
                    res = ARIMA(logy, order=(p, d, q), trend=trend).fit()
                except _FIT_ERRORS as exc:
                    last_error = exc
                    continue
                aicc = float(res.aicc)
                tried.append(((p, d, q), trend, aicc))
                if np.isfinite(aicc) and (best is None or aicc < best[0] - 1e-9):
                    best = (aicc, (p, d, q), trend, res)
    if best is None:
        if last_error is not None:
            raise last_error
        raise ValueError(f"no ARIMA candidate could be estimated on {T} observations")
    aicc, order, trend, res = best
    fc = res.get_forecast(steps=h)
    mean = np.exp(np.asarray(fc.predicted_mean, dtype=float))
    ints = {}
    for lv in levels:
        ci = np.asarray(fc.conf_int(alpha=1.0 - lv / 100.0), dtype=float)
        ints[lv] = (np.exp(ci[:, 0]), np.exp(ci[:, 1]))
    info = {
        "order": order,
        "trend": trend,
        "drift": trend == "t",
        "aicc": aicc,
        "kpss_pvalue": kpss_p,
        "converged": bool(res.mle_retvals.get("converged", True)) if res.mle_retvals else None,
        "candidates": tried,
    }
    return mean, ints, info


def _spec(model: str) -> ModelSpec:
    spec = spec_of(model)
    if spec.fn is None:
        object.__setattr__(spec, "fn", globals()[spec.function])
    return spec


def min_obs(model: str, season_length: int = 12) -> int:
    """Minimum number of observations ``model`` needs."""
    return _spec(model).min_obs({"season_length": season_length})



def _normalize_levels(levels: Iterable[float]) -> tuple:
    out = []
    for lv in levels:
        if not 0 < float(lv) < 100:
            raise ValueError(f"levels are percentages in (0, 100), got {lv}")
        out.append(int(lv) if float(lv).is_integer() else float(lv))
    return tuple(out)


def _level_tag(lv) -> str:
    return str(lv).replace(".", "_")


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def fit_forecast(
    y: pd.Series,
    model: str,
    horizon: int,
    levels: Sequence[float] = (80, 95),
    season_length: int = 12,
    options: dict | None = None,
) -> ForecastResult:
    """Fit ``model`` to ``y`` and forecast ``horizon`` periods ahead.

    ``options``: extra keywords for the model function (e.g. ``{"order": (1, 1, 0), "trend": "t"}``
    fixes the ARIMA order instead of searching for it).

    ``y`` must be gap-free (consecutive integer labels or a PeriodIndex, no
    NaN); otherwise ``ValueError`` names the missing periods. Unknown model
    names and ``horizon < 1`` also raise ``ValueError``.

    A model that cannot be fitted does **not** raise: the result has
    ``fitted_ok=False``, NaN forecasts and a ``reason``:

    * ``"<model> needs at least <k> observations, series has <n>"``
    * ``"<model> needs strictly positive values (log scale)"``
    * ``"<ExceptionType>: <message>"`` for statsmodels / numerical failures
    * ``"<model> produced non-finite forecasts"``

    Statsmodels warnings are suppressed; their messages are kept in
    ``info["warnings"]``.
    """
    spec = _spec(model)
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon}")
    horizon = int(horizon)
    levels = _normalize_levels(levels)
    s = _validated(y)
    fidx = _future_index(s.index, horizon)
    kw = {"season_length": int(season_length), **(options or {})}

    def failed(reason: str, info: dict | None = None) -> ForecastResult:
        nan = pd.Series(np.nan, index=fidx, name=model)
        ints = {
            lv: pd.DataFrame({"lower": np.nan, "upper": np.nan}, index=fidx) for lv in levels
        }
        return ForecastResult(model, nan, ints, False, reason, info or {})

    need = spec.min_obs(kw)
    n = len(s)
    if n < need:
        return failed(f"{model} needs at least {need} observations, series has {n}")
    values = s.to_numpy(dtype=float)
    if spec.needs_positive and np.any(values <= 0):
        return failed(f"{model} needs strictly positive values (log scale)")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mean, ints, info = spec.fn(values, horizon, levels, **kw)
        except _FIT_ERRORS as exc:
            return failed(f"{type(exc).__name__}: {exc}")
    info = dict(info)
    msgs = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    if msgs:
        info["warnings"] = msgs

    mean = np.asarray(mean, dtype=float)
    arrays = [mean] + [np.asarray(a, dtype=float) for pair in ints.values() for a in pair]
    if not all(np.all(np.isfinite(a)) for a in arrays):
        return failed(f"{model} produced non-finite forecasts", info)
    mean_s = pd.Series(mean, index=fidx, name=model)
    out_ints = {}
    for lv in levels:
        lo, hi = ints[lv]
        out_ints[lv] = pd.DataFrame(
            {"lower": np.asarray(lo, dtype=float), "upper": np.asarray(hi, dtype=float)},
            index=fidx,
        )
    return ForecastResult(model, mean_s, out_ints, True, "", info)
