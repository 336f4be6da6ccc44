"""Coherent outlooks: simulated monthly paths whose sums are the year-to-date and annual forecasts.

One simulation gives every target.  For the current year the known year-to-date total is kept
and the rest of the year is drawn (its total from a within-year model, split into months by the
usual monthly shares with noise); later years are drawn from an annual model on logs, anchored on
the drawn current year.  Every monthly, year-to-date and annual number is then a quantile or a
mean of the same draws.  The central number (``point``) is the median: the totals are right-skewed,
so their mean lies above the typical path.  Means add up exactly (months to years); medians do not,
so each total's median is taken from the simulated totals themselves, never summed from months.
All draws are positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xjtrade.stats.benchmarks import ShareModel, fit_annual

__all__ = ["Paths", "simulate", "filled_history", "LEVELS"]

LEVELS = (80, 95)


@dataclass
class Paths:
    """Simulated months from ``first`` (a monthly Period) on; ``draws`` is (n, months)."""

    first: pd.Period
    draws: np.ndarray
    known_ytd: float          # year-to-date total of the current year before `first` (0 if none)
    model: str
    notes: dict

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.first, periods=self.draws.shape[1], freq="M")

    @property
    def years(self) -> list[int]:
        return sorted(set(self.months.year))

    def _cols(self, year: int, last_month: int = 12) -> np.ndarray:
        idx = self.months
        return np.flatnonzero((idx.year == year) & (idx.month <= last_month))

    def ytd_draws(self, year: int, month: int) -> np.ndarray:
        """Draws of the Jan..month total of `year` (known part included)."""
        cols = self._cols(year, month)
        base = self.known_ytd if year == self.first.year else 0.0
        if not len(cols) and base == 0.0:
            raise KeyError(f"{year}-{month:02d} is outside the simulated months")
        return base + self.draws[:, cols].sum(axis=1)

    def annual_draws(self, year: int) -> np.ndarray:
        return self.ytd_draws(year, 12)

    @staticmethod
    def summary(x: np.ndarray, levels=LEVELS) -> dict:
        med = float(np.median(x))
        out = {"point": med, "median": med, "mean": float(np.mean(x))}
        for lv in levels:
            a = (100 - lv) / 200
            out[f"lo{lv}"], out[f"hi{lv}"] = (float(v) for v in np.quantile(x, [a, 1 - a]))
        return out

    def monthly_table(self) -> pd.DataFrame:
        rows = [{"period": str(p), "year": p.year, "month": p.month, **self.summary(self.draws[:, i])}
                for i, p in enumerate(self.months)]
        return pd.DataFrame(rows)

    def ytd_table(self) -> pd.DataFrame:
        rows = []
        for p in self.months:
            label = str(p.year) if p.month == 12 else (f"Jan {p.year}" if p.month == 1 else f"Jan-{p.strftime('%b')} {p.year}")
            rows.append({"period": label,
                         "year": p.year, "month": p.month, **self.summary(self.ytd_draws(p.year, p.month))})
        return pd.DataFrame(rows)

    def annual_table(self) -> pd.DataFrame:
        return pd.DataFrame([{"year": y, **self.summary(self.annual_draws(y))} for y in self.years])


def filled_history(annual: dict, ytd: dict, share: ShareModel, before: int) -> tuple[list[int], np.ndarray, list[int]]:
    """The most recent gap-free run of annual log totals ending before `before`, with partial
    years filled by their share-model estimate (median).  Returns (years, logs, estimated years)."""
    vals, est = {}, []
    years = set(annual) | {y for (y, _) in ytd}
    for y in sorted(years):
        if y >= before:
            continue
        if y in annual:
            vals[y] = math.log(annual[y])
        else:
            m = max(mm for (yy, mm) in ytd if yy == y)
            vals[y] = share.log_total(ytd[(y, m)], m)[0]
            est.append(y)
    if not vals:
        return [], np.array([]), []
    ys = sorted(vals)
    run = [ys[-1]]
    for y in reversed(ys[:-1]):
        if y != run[0] - 1:
            break
        run.insert(0, y)
    return run, np.array([vals[y] for y in run]), [y for y in est if y in run]


def ahead_growth(logs: np.ndarray, gap: int, fit_cache: dict | None = None) -> float:
    """The years-ahead fallback model's log growth a year for the first year after the run (the
    growth a shrunk-growth nowcast shrinks toward); the mean growth of the run if it cannot be fitted."""
    from xjtrade.stats.registry import FALLBACK, YEARS_AHEAD
    try:
        fc = _fit(FALLBACK[YEARS_AHEAD], logs, gap + 1, fit_cache)
        return float((fc.mean[-1] - logs[-1]) / (gap + 1))
    except ValueError:
        return float(np.mean(np.diff(logs))) if len(logs) > 1 else 0.0


def simulate(annual: dict, ytd: dict, until_year: int, growth="combination", within="share_mean",
             use_ytd: bool = True, n: int = 2000, seed: int = 2024, fit_cache: dict | None = None) -> Paths:
    """Simulated monthly paths from the month after the latest data to December of `until_year`.

    annual: {year: total}; ytd: {(year, month): Jan..month total}, month 1..11.
    growth: the years-ahead model for the years after the current one; within: the within-year model
    of the current year's rest (registry models or their names; the latent model and the skill-weighted
    combination are spliced in by :mod:`xjtrade.report.outlook`, not drawn here).
    use_ytd=False ignores the current year's year-to-date figures (a benchmark).
    Raises ValueError when the evidence cannot support an outlook (the message says why).
    """
    from xjtrade.stats import registry as reg

    ahead = reg.model(growth) if isinstance(growth, str) else growth
    inside = reg.model(within) if isinstance(within, str) else within
    if not hasattr(inside, "fit") or not isinstance(inside, reg.WithinYearModel) or isinstance(inside, reg.SkillWeighted):
        raise ValueError(f"{inside.name} cannot be simulated on its own")
    rng = np.random.default_rng(seed)
    last_year = max(annual) if annual else None
    cur_months = {}
    later = {(y, m): v for (y, m), v in ytd.items() if last_year is None or y > last_year}
    if later:
        y0 = max(y for (y, _) in later)
        cur_months = {m: v for (y, m), v in later.items() if y == y0}
    elif last_year is not None:
        y0 = last_year + 1
    else:
        raise ValueError("no annual or year-to-date figure to start from")
    m0 = max(cur_months) if (cur_months and use_ytd) else 0
    known = cur_months.get(m0, 0.0)
    if until_year < y0:
        raise ValueError(f"until_year {until_year} is before the current year {y0}")
    hist_ytd = {k: v for k, v in ytd.items() if k[0] < y0}
    share = ShareModel.fit(hist_ytd, annual)
    years, logs, est = filled_history(annual, hist_ytd, share, before=y0)
    if len(years) == 0:
        raise ValueError("no annual total or estimate before the current year")
    if m0 > 0 and not share.n_years:
        raise ValueError("no year shows both a year-to-date and an annual total, so the rest of the year "
                         "cannot be estimated")
    gap = y0 - 1 - years[-1]
    notes = {"current_year": y0, "months_known": m0, "history": [years[0], years[-1]], "estimated_years": est,
             "growth_model": ahead.name, "within_model": inside.name if m0 else None, "use_ytd": use_ytd}
    n_years = until_year - y0 + 1
    year_fc = None
    if m0 > 0:
        g_out = ahead_growth(logs, gap, fit_cache) if isinstance(inside, reg.ShrunkGrowth) else None
        year_fc = _fit_within(inside, annual, ytd, y0, g_out, fit_cache).forecast(known, m0)
        a0 = year_fc.draws(n, rng)
        mu0 = year_fc.log_median
        h = n_years - 1
        if h > 0:
            run = np.append(logs, mu0)
            # (a gap before the current year is bridged: the run is treated as consecutive)
            fc = _fit(ahead, run, h, fit_cache)
            later_logs = fc.draws(n, rng) - mu0
            later_tot = np.exp(np.log(a0)[:, None] + later_logs)
        else:
            later_tot = np.empty((n, 0))
        totals = np.column_stack([a0, later_tot])
    else:
        fc = _fit(ahead, logs, n_years + gap, fit_cache)
        totals = np.exp(fc.draws(n, rng)[:, gap:])
    # split each year into months: the current year only after its known months
    blocks = []
    for i in range(n_years):
        if i == 0 and year_fc is not None:      # (fitted exactly when m0 > 0)
            blocks.append(year_fc.months(totals[:, 0], rng))
        else:
            blocks.append(share.split(totals[:, i], 1, rng))
    draws = np.concatenate(blocks, axis=1)
    first = pd.Period(year=y0, month=m0 + 1, freq="M")
    return Paths(first=first, draws=draws, known_ytd=known if m0 > 0 else 0.0, model=ahead.name, notes=notes)


def _fit_within(model, annual, ytd, year, g_out, cache):
    if cache is None:
        return model.fit(annual, ytd, year, g_out)
    key = ("within", model.name, year, tuple(sorted(annual.items())),
           tuple(sorted((k, v) for k, v in ytd.items() if k[0] < year)), g_out)
    if key not in cache:
        try:
            cache[key] = model.fit(annual, ytd, year, g_out)
        except ValueError as exc:
            cache[key] = exc
    if isinstance(cache[key], Exception):
        raise cache[key]
    return cache[key]


def _fit(model, logs, h, cache):
    if cache is None:
        return fit_annual(model, logs, h)
    key = (str(model), tuple(np.round(logs, 10)), h)
    if key not in cache:
        try:
            cache[key] = fit_annual(model, logs, h)
        except ValueError as exc:
            cache[key] = exc
    if isinstance(cache[key], Exception):
        raise cache[key]
    return cache[key]
