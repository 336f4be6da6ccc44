"""Calibrated intervals: widen a forecast's spread on the log scale, never move its mean.

The models' own intervals were too narrow in the pseudo-real-time evaluation (58 % of the
outcomes inside the nominal 80 % intervals, none of the years-ahead ones).  Two corrections,
applied to the simulated draws of any target (a year-to-date or annual total), whatever model
made them:

* **Long-history floor (years ahead only).**  A model fitted on the short gap-free run of recent
  years sees little of the volatility of this series.  The standard deviation of one year's log
  growth is estimated from every pair of consecutive years with an annual figure or estimate
  since the start of the data (:func:`growth_volatility`), and the log spread of a total still
  ``s`` years from being known is at least that volatility times ``sqrt(s)``.
* **Conformal inflation.**  For each model and use, the past log errors whose outcome was
  published by the date of the forecast are divided by the spread the (floored) forecast
  predicted; the spread is multiplied by the factor that would have put 80 % of them inside the
  80 % interval (split conformal: the ceil((n+1) 0.8)-th smallest ratio over 1.2816) when there
  are at least ``MIN_PAST`` of them (never below 1, at most ``K_MAX``), else left as it is.

The widening acts on the unknown part ``R = total - known`` of a target (``known`` is the
year-to-date figure already published for the current year, else 0): ``log R`` is stretched by
the factor ``k`` around its median and ``R`` is then rescaled so that its mean, and so the
point forecast, is unchanged.  Each path keeps its rank, so the paths of consecutive years stay
as correlated as they were; months are scaled with their year, so they still add up.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MIN_PAST", "K_MAX", "Z80", "growth_volatility", "log_spread", "widen", "inflation"]

MIN_PAST = 8          # past errors needed for the conformal factor of a model and use
K_MAX = 4.0           # largest conformal factor
Z80 = 1.2815515655446004   # the standard normal's 90 % quantile (half-width of an 80 % interval)


def growth_volatility(annual: dict, ytd: dict, share=None, before: int | None = None) -> tuple[float, int]:
    """(sd of the annual log growth, number of growths) from every pair of consecutive years with
    an annual total, or an estimate from the year's latest year-to-date figure and `share`
    (a :class:`~xjtrade.stats.benchmarks.ShareModel`); only years before `before`.
    Returns (nan, n) with fewer than 3 growths."""
    vals = {y: math.log(v) for y, v in annual.items() if v > 0 and (before is None or y < before)}
    if share is not None and share.n_years:
        for (y, m), v in ytd.items():
            if y in vals or (before is not None and y >= before) or v <= 0:
                continue
            last = max(mm for (yy, mm) in ytd if yy == y)
            vals[y] = share.log_total(ytd[(y, last)], last)[0]
    g = np.array([vals[y] - vals[y - 1] for y in sorted(vals) if y - 1 in vals])
    if len(g) < 3:
        return float("nan"), int(len(g))
    return float(np.std(g, ddof=1)), int(len(g))


def log_spread(rest: np.ndarray) -> tuple[float, float]:
    """(median, normal-equivalent sd) of log(rest), the sd from the 80 % quantiles."""
    lr = np.log(np.asarray(rest, float))
    lo, med, hi = np.quantile(lr, [0.1, 0.5, 0.9])
    return float(med), float((hi - lo) / (2 * Z80))


def widen(draws: np.ndarray, known: float, k: float) -> np.ndarray:
    """Draws of a total whose unknown part's log spread is multiplied by `k` (>= 1) around its
    median, its mean kept (the point forecast does not move)."""
    draws = np.asarray(draws, float)
    if k <= 1.0 + 1e-12:
        return draws
    rest = draws - known
    if np.any(rest <= 0):
        raise ValueError("a simulated total is not above the known year-to-date figure")
    lr = np.log(rest)
    med = np.median(lr)
    new = np.exp(med + k * (lr - med))
    new *= rest.mean() / new.mean()
    return known + new


def inflation(z_past, min_past: int = MIN_PAST, k_max: float = K_MAX) -> tuple[float, int]:
    """(factor, n): the split-conformal factor of the 80 % interval from past scaled errors
    `z_past` (log error / predicted log sd): the ceil((n+1) 0.8)-th smallest |z| divided by the
    normal 80 % half-width, at least 1 and at most `k_max`; 1 with fewer than `min_past` finite
    errors."""
    z = np.asarray(z_past, float)
    z = z[np.isfinite(z)]
    if len(z) < min_past:
        return 1.0, int(len(z))
    n = len(z)
    rank = min(math.ceil((n + 1) * 0.8), n)            # split conformal's finite-sample rank
    return float(min(max(np.sort(np.abs(z))[rank - 1] / Z80, 1.0), k_max)), n
