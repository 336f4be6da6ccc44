"""Simulated monthly series and the block reports a statistics office might publish about it.

Used by the tests and the benchmark of `latent`: a known positive monthly path (trend,
seasonal and log-normal noise) and reports of it as two-month opening blocks, year-to-date
totals ending in irregular months, some single months, quarters, second halves and full
years, rounded to a few significant digits, with some years reported only as a total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: log seasonal pattern (Jan..Dec): a low January-February, a high December
BASE_SEASONAL = np.array([-0.30, -0.45, -0.05, 0.00, 0.02, 0.05, 0.03, 0.03, 0.05, 0.00, 0.08, 0.35])
BASE_SEASONAL = BASE_SEASONAL - BASE_SEASONAL.mean()


def simulate_monthly(n_years: int = 10, *, seed: int, first: str = "2011-01", level0: float = 12.0,
                     growth: float = 3.0, sd_irregular: float = 0.05, sd_level: float = 0.01,
                     sd_slope: float = 0.0003, sd_seasonal: float = 0.01) -> pd.Series:
    """Monthly values (positive, billions) indexed by month: exp(trend + seasonal + noise).

    The log trend grows by log(growth) over the sample plus random-walk disturbances of its
    level and slope; the seasonal starts at BASE_SEASONAL and evolves as a stochastic dummy
    seasonal; the irregular is iid normal on the log scale (log-normal noise).
    """
    rng = np.random.default_rng(seed)
    n = 12 * n_years
    slope = np.log(growth) / n + np.cumsum(rng.normal(0.0, sd_slope, n))
    mu = np.log(level0) + np.cumsum(slope) - slope[0] + np.cumsum(rng.normal(0.0, sd_level, n))
    start = pd.Period(first, freq="M")
    offset = start.month - 1
    gamma = np.empty(n + 11)
    gamma[:11] = [BASE_SEASONAL[(offset - 11 + j) % 12] for j in range(11)]   # months -11..-1
    for t in range(n):
        gamma[t + 11] = -gamma[t:t + 11].sum() + rng.normal(0.0, sd_seasonal)
    z = mu + gamma[11:] + rng.normal(0.0, sd_irregular, n)
    return pd.Series(np.exp(z), index=pd.period_range(start, periods=n, freq="M"), name="value")


def _round(v: float, digits: int) -> float:
    return float(f"{v:.{digits}g}")


def report(truth: pd.Series, *, seed: int, total_only_years=(), cut: int | None = None,
           p_ytd: float = 0.45, p_single: float = 0.12, p_december: float = 0.3,
           p_quarter: float = 0.15, p_h2: float = 0.15, p_year: float = 0.9,
           digits: int = 4) -> pd.DataFrame:
    """Reports of a monthly series: columns id, start, end (Periods), value (rounded), kind.

    Years in `total_only_years` are reported only as their total.  The last year is cut
    after month `cut` (default: a random month 2-10): only its windows ending by then are
    kept and its total is not reported.  Every window appears once.
    """
    rng = np.random.default_rng(seed)
    years = sorted({p.year for p in truth.index})
    if cut is None:
        cut = int(rng.integers(2, 11))
    rows = []
    for i, year in enumerate(years):
        if year in total_only_years:
            wins = {(1, 12)}
        else:
            wins = set()
            if rng.random() < 0.85:
                wins.add((1, 2))
            for m in range(3, 12):
                if rng.random() < p_ytd:
                    wins.add((1, m))
            for m in range(3, 12):
                if rng.random() < p_single:
                    wins.add((m, m))
            if rng.random() < p_december:
                wins.add((12, 12))
            for q in (2, 3, 4):
                if rng.random() < p_quarter:
                    wins.add((3 * q - 2, 3 * q))
            if rng.random() < p_h2:
                wins.add((7, 12))
            if rng.random() < p_year:
                wins.add((1, 12))
        if i == len(years) - 1:
            wins = {(a, b) for a, b in wins if b <= cut and (a, b) != (1, 12)}
            wins.add((1, 2) if cut >= 2 else (1, 1))
        for a, b in sorted(wins, key=lambda ab: (ab[1], ab[0])):
            s, e = pd.Period(f"{year}-{a:02d}", freq="M"), pd.Period(f"{year}-{b:02d}", freq="M")
            if s < truth.index[0] or e > truth.index[-1]:
                continue
            kind = "month" if a == b else ("year" if (a, b) == (1, 12) else
                                           "ytd" if a == 1 else "block")
            rows.append({"start": s, "end": e, "value": _round(truth[s:e].sum(), digits),
                         "kind": kind})
    out = pd.DataFrame(rows)
    out.insert(0, "id", [f"r{i:03d}" for i in range(len(out))])
    return out
