"""The within-year nowcast: the current year's total from its year-to-date figures.

The registry's within-year models (:mod:`xjtrade.stats.registry`) are fitted here.  Each fitted
model's ``forecast(known, m)`` is a :class:`YearForecast`: the distribution of the year's total
given ``known``, the year-to-date total through month ``m``, as Student-t draws on the log scale
(never below what is known), with the monthly weights that split the rest of the year into months.

* **Year-to-date shares** (:class:`ShareNowcast`): total = known / share of the year those months
  make up, the share from the years before (their mean, the latest year, or a mean weighted toward
  recent years); see :class:`xjtrade.stats.benchmarks.ShareModel`.
* **Shrunk growth** (:class:`GrowthNowcast`): the rest of the year is the same months of the year
  before, ``R_prev = A_prev - ytd_prev(m)``, grown at ``g = w g_ytd + (1 - w) g_out`` where
  ``g_ytd = log(known / ytd_prev(m))`` is the year-to-date growth, ``g_out`` the years-ahead
  outlook's growth for the year and ``w = m / 12`` the share of the year known.  With one month
  known the rest grows almost as the annual outlook says; with eleven, almost as the year so far.
  (With ``w = 1`` this is the last year's share, the seasonal naive.)  The log of the rest has a
  spread ``sigma sqrt((12 - m) / 12)`` with ``sigma`` the standard deviation of the annual log
  growth over the run of years before.
* **Skill weights** (:func:`skill_weights`): the weights of the skill-weighted combination at a
  number of months known, from the forecasts whose outcome was published by the date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from xjtrade.stats import registry as reg
from xjtrade.stats.benchmarks import ShareModel

__all__ = ["YearForecast", "ShareNowcast", "GrowthNowcast", "split", "skill_weights", "KNOWN_BUCKETS",
           "known_bucket", "MIN_SKILL_FORECASTS", "MIN_SKILL_YEARS"]

#: months-known buckets: the horizons of the within-year nowcast (0: nothing known of the year)
KNOWN_BUCKETS = ((0, 0, "no month known"), (1, 3, "1-3 months known"), (4, 7, "4-7 months known"),
                 (8, 11, "8-11 months known"))
MIN_SKILL_FORECASTS = 8     # scored forecasts of every member in the bucket before skill weights are used
MIN_SKILL_YEARS = 5         # ... about at least this many distinct target years


def known_bucket(m: int) -> str:
    for lo, hi, name in KNOWN_BUCKETS:
        if lo <= m <= hi:
            return name
    return f"{m} months known"


@dataclass
class YearForecast:
    """The current year's total given the year-to-date total `known` through month `m`.

    ``kind`` 'total': log total ~ ``mu + sd t(df)`` (floored just above `known`); 'rest': log of the
    rest of the year ~ ``mu + sd t(df)``, total = known + rest."""

    model: str
    known: float
    m: int
    mu: float
    sd: float
    df: float
    kind: str
    weights: np.ndarray          # 12 monthly shares of a year (to split the rest into months)
    info: dict = field(default_factory=dict)

    def draws(self, n: int, rng: np.random.Generator) -> np.ndarray:
        t = rng.standard_t(self.df, size=n)
        x = np.exp(self.mu + self.sd * t)
        if self.kind == "rest":
            return self.known + x
        return np.maximum(x, self.known * (1 + 1e-6))

    @property
    def log_median(self) -> float:
        """The log of the median total."""
        return self.mu if self.kind == "total" else math.log(self.known + math.exp(self.mu))

    def interval(self, level: float, n: int = 4000, seed: int = 0) -> tuple[float, float]:
        a = (100 - level) / 200
        lo, hi = np.quantile(self.draws(n, np.random.default_rng(seed)), [a, 1 - a])
        return float(lo), float(hi)

    def months(self, totals: np.ndarray, rng: np.random.Generator, noise: float = 0.1) -> np.ndarray:
        """The rest of each drawn total split into months m+1..12: (n, 12 - m)."""
        return split(np.asarray(totals, float) - self.known, self.weights, self.m + 1, rng, noise)


def split(rest: np.ndarray, weights: np.ndarray, first_month: int, rng, noise: float = 0.1) -> np.ndarray:
    """Simulated totals of months first_month..12 (array (n,)) split into months: (n, k), each row
    adding up to its total, in proportion to `weights` with log-normal noise."""
    w = np.asarray(weights, float)[first_month - 1:]
    draws = w * np.exp(noise * rng.standard_normal((len(rest), len(w))))
    draws /= draws.sum(axis=1, keepdims=True)
    return draws * np.asarray(rest, float)[:, None]


def _before(ytd: dict, year: int) -> dict:
    return {k: v for k, v in ytd.items() if k[0] < year}


@dataclass
class ShareNowcast:
    """A year-to-date share model fitted to the years before the current one."""

    model: reg.YtdShare
    share: ShareModel

    @classmethod
    def of(cls, model: reg.YtdShare, annual: dict, ytd: dict, year: int) -> "ShareNowcast":
        share = ShareModel.fit(_before(ytd, year), annual, method=model.method, half_life=model.half_life)
        if not share.n_years:
            raise ValueError("no year shows both a year-to-date and an annual total, so the rest of the year "
                             "cannot be estimated")
        return cls(model, share)

    def forecast(self, known: float, m: int) -> YearForecast:
        mu, sd = self.share.log_total(known, m)
        return YearForecast(self.model.name, known, m, mu, sd, self.share.df, "total", self.share.weights(),
                            {"share": self.share.share(m)})


@dataclass
class GrowthNowcast:
    """The same months of the year before, grown at the shrunk year-to-date growth."""

    model: reg.ShrunkGrowth
    year: int
    prev_total: float            # the year before's total (reported or estimated)
    prev_ytd: dict               # month -> the year before's year-to-date total (reported or derived)
    share: ShareModel            # for a missing month of the year before, and the monthly weights
    ahead_growth: float          # the years-ahead outlook's log growth of the year
    sigma: float                 # sd of the annual log growth over the run before
    df: float

    @classmethod
    def of(cls, model: reg.ShrunkGrowth, annual: dict, ytd: dict, year: int,
           ahead_growth: float | None) -> "GrowthNowcast":
        from xjtrade.stats.paths import filled_history

        hist = _before(ytd, year)
        share = ShareModel.fit(hist, annual)
        years, logs, _ = filled_history(annual, hist, share, before=year)
        if not years or years[-1] != year - 1:
            raise ValueError(f"no total or estimate of {year - 1}, so the same months of the year before "
                             "are unknown")
        g = np.diff(logs)
        if len(g) < 2:
            raise ValueError("fewer than two annual growths before the year")
        sigma = float(np.std(g, ddof=1))
        if ahead_growth is None or not np.isfinite(ahead_growth):
            ahead_growth = float(np.mean(g))
        prev = {m: v for (y, m), v in ytd.items() if y == year - 1}
        return cls(model, year, float(math.exp(logs[-1])), prev, share, float(ahead_growth), sigma,
                   float(max(len(g) - 1, 2)))

    def forecast(self, known: float, m: int) -> YearForecast:
        prev_m = self.prev_ytd.get(m)
        derived = prev_m is None
        if prev_m is None:   # not published: the year before's total times the usual share of those months
            prev_m = self.prev_total * self.share.share(m)
        rest_prev = self.prev_total - prev_m
        if not (rest_prev > 0 and prev_m > 0):
            raise ValueError(f"the year before's year-to-date total through month {m} is not below its total")
        w = m / 12
        g_ytd = math.log(known / prev_m)
        g = w * g_ytd + (1 - w) * self.ahead_growth
        sd = self.sigma * math.sqrt((12 - m) / 12)
        return YearForecast(self.model.name, known, m, math.log(rest_prev) + g, max(sd, 0.01), self.df, "rest",
                            self.share.weights(),
                            {"g_ytd": g_ytd, "g_out": self.ahead_growth, "w": w, "prev_ytd_estimated": derived})


def skill_weights(scored, members, bucket: str, min_forecasts: int = MIN_SKILL_FORECASTS,
                  min_years: int = MIN_SKILL_YEARS) -> tuple[dict, str]:
    """({member: weight}, reason) for the skill-weighted combination at months-known `bucket`.

    `scored`: the past forecasts known at the date (rows with model, target, bucket of months known
    ``known_bucket``, year, log_error), only those whose outcome was published by then.  Each member's
    skill is its mean squared log error over the current-year forecasts of the bucket; when every
    member has at least `min_forecasts` of them about at least `min_years` distinct years, the
    weights are halfway between equal weights and weights proportional to its inverse; otherwise
    every member weighs the same."""
    members = list(members)
    stats = {}
    for m in members:
        errs = [(r["year"], r["log_error"]) for r in scored
                if r["model"] == m and r["target"] == "current year" and r["known_bucket"] == bucket
                and np.isfinite(r["log_error"])]
        stats[m] = (len(errs), len({y for y, _ in errs}),
                    float(np.mean([e**2 for _, e in errs])) if errs else float("nan"))
    thin = [m for m, (n, ny, _) in stats.items() if n < min_forecasts or ny < min_years]
    if thin or not members:
        n = min((s[0] for s in stats.values()), default=0)
        return ({m: 1 / len(members) for m in members},
                f"equal weights: {n} scored forecasts with {bucket} for the thinnest member "
                f"(at least {min_forecasts} about {min_years} years are needed for skill weights)")
    inv = {m: 1 / max(s[2], 1e-6) for m, s in stats.items()}
    tot = sum(inv.values())
    n = min(s[0] for s in stats.values())
    # halfway between equal weights and the inverse of the errors: a few years of outcomes estimate
    # relative skill with much noise
    return ({m: 0.5 / len(members) + 0.5 * v / tot for m, v in inv.items()},
            f"weights halfway between equal and inverse to the mean squared error of at least {n} scored "
            f"forecasts with {bucket}")
