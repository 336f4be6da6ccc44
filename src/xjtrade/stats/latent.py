"""A latent monthly series estimated from reported sums over blocks of months.

Every reported figure is an observation of a SUM of monthly values over its window (a
single month, a two-month opening block, a year-to-date total, a quarter, a half, a
year).  Nothing is spread evenly over the months of a block: the monthly values are
latent, and the model says how much each reported window tells about each month.

API: ``fit_latent(obs) -> LatentFit``; ``LatentFit.monthly()``, ``.aggregate(start,
end)``, ``.forecast(until)``, ``.paths(until)``, ``.fitted()``; ``validate(obs)``.

Model
-----
Let ``x_t > 0`` be the monthly value and ``z_t = log x_t``.  The log follows a basic
structural model (Harvey 1989)::

    z_t     = mu_t + gamma_t + eps_t,                      eps_t   ~ N(0, s2_irregular)
    mu_t    = mu_{t-1} + beta_{t-1} + eta_t,               eta_t   ~ N(0, s2_level)
    beta_t  = beta_{t-1} + zeta_t,                         zeta_t  ~ N(0, s2_slope)
    gamma_t = -(gamma_{t-1} + ... + gamma_{t-11}) + omega_t,  omega_t ~ N(0, s2_seasonal)

(``trend="smooth"`` drops ``eta``).  A report ``y`` on the window of length ``L`` ending
in month ``t`` is::

    log y = log(x_t + x_{t-1} + ... + x_{t-L+1}) + e,      e ~ N(0, (sd / y)^2)

a sum observed with a small FIXED relative error (default ``sd = rel_sd * y`` with
``rel_sd = 5e-4``, about the rounding of a figure printed to 3-4 significant digits; a
column ``sd`` in the input sets it row by row).  The four variances are estimated by
maximum likelihood; the measurement error is not.

State space form (the cumulator by lags): the state holds the trend (2), the dummy
seasonal (11) and the last twelve logs ``z_t, ..., z_{t-11}`` (12): 25 states.
``endog`` has one row per month and one column per window length that occurs (of
``L = 1..12``); the report on a window of length ``L`` ending in month ``t`` sits at
row ``t``, column ``L``, and its design row loads on the last ``L`` lagged logs.
Cells without a report are NaN and the Kalman filter skips them; several windows
ending in the same month (December, Q4, H2, the year) are several cells of one row.
Level and slope are exactly diffuse.  The 11 seasonal states get a proper, weakly
informative prior (each of the 12 effects sd ``SEASONAL_PRIOR_SD = 0.5`` on the log
scale, summing to zero), so that years reported only as totals cannot make the filter
fail.  Where no report ever separates two months, this prior is all there is: when
January and February are only published together, each of them alone gets a wide
band (about +-60 %) while their sum is pinned; that is what the reports say.

Why logs, and how the sums are handled (option "b" of the design brief)
---------------------------------------------------------------------
Values grow threefold over the sample, the seasonal amplitude grows with the level,
and intervals must be positive.  Three options were compared on 60 simulated 10-year
samples (``benchmarks/latent.py --compare 60``; the truth is a log-scale structural
model with level, slope and seasonal disturbances and log-normal noise, reported as
opening blocks, year-to-date totals, single months, quarters, halves and years, two
years only as totals, the last year cut; coverage of the true values not reported):

=========  ===================  ===================  ===================  ==============
scale      months in sample     months forecast      years, forecast      95 % lower
           80 % / 95 %          80 % / 95 %          80 % / 95 %          bound > 0
=========  ===================  ===================  ===================  ==============
log        0.85 / 0.96          0.80 / 0.94          0.75 / 0.93          100 %
scaled     0.86 / 0.96          0.77 / 0.93          0.68 / 0.90          97.9 %
level      0.91 / 0.98          0.68 / 0.87          0.55 / 0.75          88.9 %
=========  ===================  ===================  ===================  ==============

(6245 in-sample and 372 forecast months, 60 forecast years; trend "llt"; median
relative width of the in-sample monthly 95 % band: log 0.20, scaled 0.20, level 0.29.)

(a) "level": the model on ``x_t``.  Sums are linear and the design time-invariant,
    but the seasonal amplitude cannot grow with the level: bands are too wide early
    and too narrow late (forecasts of annual totals cover 55 % at 80 %), and one in
    nine in-sample 95 % bands reaches below zero.
(c) "scaled": the level model on ``x_t / s_t`` with ``s_t`` a smooth exponential
    trend fitted to the reports.  Close to (b) for months, worse for annual totals,
    still Gaussian in levels (2 % of the lower bounds negative), and the answer
    depends on the arbitrary ``s_t``.
(b) "log" (chosen): positive by construction and the best calibrated.  The sum is
    nonlinear in the logs and is handled by iterated linearisation (Proietti 2006,
    "On the estimation of nonlinearly aggregated mixed models"): at a trajectory
    ``z~``, ``log sum exp z`` is replaced by its tangent ``sum_t pi_t z_t + const``,
    with ``pi_t`` the month's share of the window at ``z~``.  The design row then
    holds those shares, so the design is time-VARYING (``(k_endog, 25, nobs)``): that
    is the price of (b) over the time-invariant 0/1 design of (a).  Linearising the
    log of the sum rather than the sum keeps the level direction exactly linear and
    makes the measurement error relative, as rounding is.

The trends "llt" and "smooth" were indistinguishable in that comparison (smooth:
months 0.87 / 0.96 and 0.82 / 0.95, forecast years 0.75 / 0.92; a little faster);
"llt" is the default because it nests "smooth" and allows level breaks.  Annual
totals cover a little under nominal at 80 % (forecast years 0.75, n = 60; in-sample
years reported only in part 0.73, n = 41; 95 %: 0.93 and 0.95): the variances are
plugged in, the uncertainty of their estimates is not carried into the intervals.

Estimation
----------
Rounds of (i) the posterior mode of the logs at fixed variances and (ii) maximum
likelihood of the variances in the model linearised at that mode (statsmodels'
``MLEModel``, exact diffuse Kalman filter with missing data, L-BFGS), until the
variances settle (usually two rounds).  The mode is found by Newton's method on the
log posterior with a second-order correction and a line search: the plain iterated
linearisation (Gauss-Newton: smooth, re-linearise at the smoothed mean) has the same
fixed point but ignores the curvature of the constraints and crawled or cycled on
about one simulated sample in ten, along directions the reports barely pin down (the
January/February split again).  About 0.2-0.3 s of CPU for 180 months and 150 reports
(``benchmarks/latent.py``).

Uncertainty and coherent paths
------------------------------
At the mode the linearised model gives the joint Gaussian posterior of the logs of all
months, in sample and any number of forecast months.  It is computed densely, as
universal kriging with a flat prior on level and slope, which is what the diffuse
Kalman smoother computes (the tests check equality with statsmodels' smoother,
lagged covariances included).  Paths are drawn from it with a Cholesky factor in
month order, so a path's first months do not depend on how far it is extended.  A
log-space draw does not reproduce the reports exactly (the exponential adds a
second-order term, about half a variance); each draw is moved back onto them by a few
chord-Newton steps along the smoother's gain (Durbin and Koopman's mean correction
applied to the nonlinear constraint), keeping its own draw of the measurement error.
So every path reproduces every reported window, and any aggregate (a year-to-date
total, the rest of a year, a full year mixing reported and forecast months, a window
longer than 12 months) is the sum of the same positive monthly values, path by path.
Monthly tables, aggregates and forecasts are all read from the same paths (default
2000, seed 0), so they are coherent: means add up exactly, and the quantiles of a
year-to-date total rise with its end month.

Numerical note: the work is many small dense matrices; a multi-threaded BLAS only
adds overhead there, and on a busy machine a lot of it (``OPENBLAS_NUM_THREADS=1``
makes the tests several times faster on a shared machine).
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import latent_model  # noqa: F401
from .latent_model import (  # noqa: F401  (the state space pieces, re-exported for tests)
    K_STATES, MAX_WINDOW, SEASONAL_PRIOR_SD, SHOCKS, _START_SD, _TREND, _Z, _Aggregated, _cholesky,
    _endog, _impulses, _linearise, _mle, _mode, _Post, _posterior, _prior, _window_matrix,
    _window_sums,
)

_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")


# --------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------

def _month(value, what: str) -> int:
    """A month as its pandas ordinal (months since 1970-01)."""
    if isinstance(value, pd.Period):
        if value.freqstr != "M":
            raise ValueError(f"{what} {value!r} is a Period with freq {value.freqstr!r}, not 'M'")
        return int(value.ordinal)
    if isinstance(value, str):
        m = _MONTH_RE.match(value)
        if m and 1 <= int(m.group(2)) <= 12:
            return int(pd.Period(f"{m.group(1)}-{m.group(2)}", freq="M").ordinal)
    raise ValueError(f"{what} {value!r} is neither a monthly pandas Period nor a 'YYYY-MM' string")


def _period(ordinal: int) -> pd.Period:
    return pd.Period(pd.Timestamp(1970 + ordinal // 12, ordinal % 12 + 1, 1), freq="M")


def _label(start: int, end: int) -> str:
    return f"{_period(start)}..{_period(end)}"


def validate(obs: pd.DataFrame, *, rel_sd: float = 5e-4) -> pd.DataFrame:
    """Check reported windows and return them as integer months, sorted by end then length.

    Columns of ``obs``: ``start``, ``end`` (monthly Periods or 'YYYY-MM'), ``value``
    (> 0), optional ``id`` (str) and ``sd`` (absolute measurement sd, > 0).  Raises
    ValueError for: a missing column, a bad month, an end before its start, a window
    longer than 12 months, a non-positive or non-finite value, a duplicated window or
    id, and a window that lies inside another one but has a value at least as large
    (impossible for positive months).
    """
    if not isinstance(obs, pd.DataFrame):
        raise ValueError("obs must be a pandas DataFrame with columns start, end, value")
    missing = {"start", "end", "value"} - set(obs.columns)
    if missing:
        raise ValueError(f"obs lacks column(s) {sorted(missing)}")
    if len(obs) == 0:
        raise ValueError("obs has no rows")
    if not (np.isfinite(rel_sd) and rel_sd > 0):
        raise ValueError(f"rel_sd must be a positive finite number, got {rel_sd!r}")
    start = np.array([_month(v, "start") for v in obs["start"]], dtype=np.int64)
    end = np.array([_month(v, "end") for v in obs["end"]], dtype=np.int64)
    value = pd.to_numeric(obs["value"], errors="coerce").to_numpy(dtype=float)
    if "id" in obs.columns:
        ids = [str(v) for v in obs["id"]]
    else:
        ids = [_label(a, b) for a, b in zip(start, end)]
    for i in range(len(obs)):
        if end[i] < start[i]:
            raise ValueError(f"observation {ids[i]}: window ends ({_period(end[i])}) before it "
                             f"starts ({_period(start[i])})")
        if end[i] - start[i] + 1 > MAX_WINDOW:
            raise ValueError(f"observation {ids[i]}: window {_label(start[i], end[i])} covers "
                             f"{end[i] - start[i] + 1} months; at most {MAX_WINDOW} are supported")
        if not np.isfinite(value[i]) or value[i] <= 0:
            raise ValueError(f"observation {ids[i]}: value {obs['value'].iloc[i]!r} is not a "
                             "positive number")
    if "sd" in obs.columns:
        sd = pd.to_numeric(obs["sd"], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(sd) & (sd > 0))
        if bad.any():
            raise ValueError(f"observation {ids[int(np.argmax(bad))]}: sd must be a positive number")
    else:
        sd = rel_sd * value
    table = pd.DataFrame({"id": ids, "start": start, "end": end, "length": end - start + 1,
                          "value": value, "sd": sd})
    dup = table.duplicated(["start", "end"], keep=False)
    if dup.any():
        d = table[dup]
        raise ValueError(f"window {_label(d.start.iloc[0], d.end.iloc[0])} is reported more than "
                         f"once (ids {list(d.id)}); de-duplicate before fitting")
    dup = table.duplicated("id", keep=False)
    if dup.any():
        raise ValueError(f"id {table.id[dup].iloc[0]!r} is used more than once")
    # a window strictly inside another must have a smaller value
    s, e, v = table.start.to_numpy(), table.end.to_numpy(), table.value.to_numpy()
    inside = (s[:, None] >= s[None, :]) & (e[:, None] <= e[None, :]) & (v[:, None] >= v[None, :])
    np.fill_diagonal(inside, False)
    if inside.any():
        i, j = map(int, np.argwhere(inside)[0])
        raise ValueError(f"inconsistent reports: {table.id[i]} ({_label(s[i], e[i])}) = {v[i]:g} "
                         f"is not smaller than {table.id[j]} ({_label(s[j], e[j])}) = {v[j]:g}, "
                         "which contains it")
    return table.sort_values(["end", "length"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------------------

@dataclass
class LatentFit:
    """A fitted latent monthly model; see the module docstring.  Build it with `fit_latent`."""

    obs: pd.DataFrame              # validated reports (integer months), sorted by end, length
    first: pd.Period
    last: pd.Period
    params: dict                   # estimated variances (state units: logs for scale="log")
    scale: str
    trend: str
    loglike: float
    rounds: int                    # estimation rounds (mode, then ML) until the variances settled
    seconds: float
    n_paths: int = 2000
    seed: int = 0
    # the fitted state, set by `_fit` (keywords)
    _q: np.ndarray = field(kw_only=True, repr=False)
    _kappa: float = field(default=1.0, repr=False)
    _A: np.ndarray = field(kw_only=True, repr=False)       # m x n window matrix (fit range)
    _J: np.ndarray = field(kw_only=True, repr=False)       # m x n design of the (linearised) model
    _ytil: np.ndarray = field(kw_only=True, repr=False)    # its pseudo-observations
    _r_var: np.ndarray = field(kw_only=True, repr=False)   # and their error variances
    _zmode: np.ndarray | None = field(default=None, repr=False)   # the posterior mode of the logs (scale "log")
    _s: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)           # scale function for "scaled"
    _cache: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        sds = ", ".join(f"{k} {np.sqrt(v):.4g}" for k, v in self.params.items())
        return (f"LatentFit({self.first}..{self.last}, {len(self.obs)} reports, scale={self.scale!r}, "
                f"trend={self.trend!r}, sd: {sds}, loglike={self.loglike:.2f})")

    # ---- helpers -------------------------------------------------------------------
    @property
    def n_months(self) -> int:
        return int(self.last.ordinal - self.first.ordinal + 1)

    def months(self, until=None) -> pd.PeriodIndex:
        end = self.last if until is None else _period(_month(until, "until"))
        return pd.period_range(self.first, end, freq="M")

    def _horizon(self, until) -> int:
        if until is None:
            return self.n_months
        u = _month(until, "until")
        if u < self.last.ordinal:
            raise ValueError(f"until ({_period(u)}) is before the last modelled month ({self.last})")
        return int(u - self.first.ordinal + 1)

    def _post(self, n: int) -> _Post:
        if n not in self._cache:
            Hd, S = _prior(n, self._q, self._kappa)
            m = self._A.shape[0]
            J = np.zeros((m, n))
            J[:, :self.n_months] = self._J
            self._cache[n] = _posterior(Hd, S, J, self._r_var, self._ytil)
        return self._cache[n]

    def _levels(self, Z: np.ndarray, n: int) -> np.ndarray:
        if self.scale == "log":
            return np.exp(Z)
        if self.scale == "scaled":
            if self._s is None:
                raise ValueError("a fit on the 'scaled' scale needs its scale function (_s)")
            return Z * self._s(np.arange(n))[:, None]
        return Z

    # ---- paths ---------------------------------------------------------------------
    def paths(self, until=None, n_paths: int | None = None, seed: int | None = None) -> pd.DataFrame:
        """Simulated monthly paths, one row per path, one column per month from `first` to `until`.

        In-sample months are joint posterior draws that reproduce every reported window;
        later months are forecast draws that continue them.  A path's first months do not
        depend on `until` (same `n_paths` and `seed`), and every value is positive.
        """
        n = self._horizon(until)
        n_paths = self.n_paths if n_paths is None else int(n_paths)
        seed = self.seed if seed is None else seed
        if n_paths < 1:
            raise ValueError("n_paths must be at least 1")
        # draw to the December of `until`'s year and cut: all requests within a year share
        # one set of draws (a path's first months do not depend on its length anyway)
        end = self.first.ordinal + n - 1
        n_draw = n + 11 - end % 12
        key = ("paths", n_draw, n_paths, seed)
        if key not in self._cache:
            post = self._post(n_draw)
            L = _cholesky(post.cov)
            eps = np.random.default_rng(seed).standard_normal((n_draw, n_paths))   # month by month
            Z = post.mean[:, None] + L @ eps
            if self.scale == "log":
                Z = self._reproject(Z, post)
            X = self._levels(Z, n_draw).T
            self._cache[key] = pd.DataFrame(X, columns=self.months(_period(self.first.ordinal + n_draw - 1)))
        return self._cache[key].iloc[:, :n].copy()

    def _reproject(self, Z: np.ndarray, post: _Post) -> np.ndarray:
        """Move log-space draws onto the reported sums (chord Newton along the smoother's gain).

        A draw's window values in the linearised model, ``ytil``-scale ``J z``, differ from
        the reports by its draw of the measurement error; the draw is moved until the exact
        ``log sum exp z`` over each window equals that linearised value, so it keeps its
        error draw and loses only the second-order term.
        """
        if self._zmode is None:
            raise ValueError(f"draws are reprojected on the log scale only, not on scale {self.scale!r}")
        nf = self.n_months
        a = self.obs.start.to_numpy() - self.first.ordinal
        b = self.obs.end.to_numpy() - self.first.ordinal
        e = np.exp(self._zmode)
        tot = _window_sums(e[:, None], a, b)
        # log sum exp z_mode + J (z - z_mode), with J = window-restricted shares e / tot
        target = np.log(tot) + _window_sums(e[:, None] * (Z[:nf] - self._zmode[:, None]), a, b) / tot
        tol = 1e-2 * np.sqrt(self._r_var)[:, None]
        todo = np.arange(Z.shape[1])
        for _ in range(50):
            resid = target[:, todo] - np.log(_window_sums(np.exp(Z[:nf, todo]), a, b))
            off = np.any(np.abs(resid) > tol, axis=0)
            if not off.any():
                return Z
            todo, resid = todo[off], resid[:, off]
            Z[:, todo] += post.gain @ resid
        warnings.warn("some simulated paths reproduce the reports only approximately", RuntimeWarning)
        return Z

    # ---- summaries -------------------------------------------------------------------
    @staticmethod
    def _summary(X: np.ndarray, levels) -> dict:
        out = {"mean": X.mean(axis=0), "sd": X.std(axis=0, ddof=1) if len(X) > 1 else 0 * X[0],
               "median": np.median(X, axis=0)}
        for lev in levels:
            if not 0 < lev < 100:
                raise ValueError(f"interval level {lev!r} is not between 0 and 100")
            a = (1 - lev / 100) / 2
            lo, hi = np.quantile(X, [a, 1 - a], axis=0)
            out[f"lo{lev:g}"], out[f"hi{lev:g}"] = lo, hi
        return out

    def _monthly_frame(self, X: pd.DataFrame, levels) -> pd.DataFrame:
        frame = pd.DataFrame(self._summary(X.to_numpy(), levels), index=X.columns)
        frame.index.name = "month"
        o = self.obs
        ords = np.array([p.ordinal for p in X.columns])
        single = set(o.start[o.length == 1])
        frame["observed"] = [int(t) in single for t in ords]
        frame["informed_by"] = [tuple(o.id[(o.start <= t) & (o.end >= t)]) for t in ords]
        return frame

    def monthly(self, levels=(80, 95)) -> pd.DataFrame:
        """Monthly estimates from `first` to `last`: mean, sd, median, intervals, observed, informed_by.

        ``observed`` is True only for a month that was itself reported as a single month;
        ``informed_by`` lists the ids of all reports whose windows include the month.
        """
        return self._monthly_frame(self.paths(), levels)

    def forecast(self, until, levels=(80, 95), n_paths: int | None = None,
                 seed: int | None = None) -> pd.DataFrame:
        """Monthly forecasts for the months after `last` up to `until` (same columns as `monthly`)."""
        if _month(until, "until") <= self.last.ordinal:
            raise ValueError(f"until must be after the last modelled month {self.last}")
        X = self.paths(until, n_paths, seed)
        return self._monthly_frame(X.loc[:, X.columns > self.last], levels)

    def aggregate(self, start, end, levels=(80, 95), n_paths: int | None = None,
                  seed: int | None = None) -> dict:
        """Distribution of the sum over start..end (in sample, forecast, or both), from joint paths."""
        a, b = _month(start, "start"), _month(end, "end")
        if b < a:
            raise ValueError(f"window ends ({_period(b)}) before it starts ({_period(a)})")
        if a < self.first.ordinal:
            raise ValueError(f"window starts ({_period(a)}) before the first modelled month {self.first}")
        X = self.paths(_period(max(b, self.last.ordinal)), n_paths, seed)
        total = X.to_numpy()[:, a - self.first.ordinal:b - self.first.ordinal + 1].sum(axis=1)
        out: dict[str, object] = {k: float(v[0]) for k, v in self._summary(total[:, None], levels).items()}
        hit = self.obs[(self.obs.start == a) & (self.obs.end == b)]
        out.update(start=_period(a), end=_period(b), months=b - a + 1,
                   reported=float(hit.value.iloc[0]) if len(hit) else None)
        return out

    def fitted(self) -> pd.DataFrame:
        """Each report next to the model's sum over its window (mean over paths) and the gap."""
        X = self.paths().to_numpy()
        sums = X @ self._A.T
        o = self.obs
        out = pd.DataFrame({"id": o.id, "start": [_period(s) for s in o.start],
                            "end": [_period(e) for e in o.end], "value": o.value,
                            "fitted": sums.mean(axis=0), "sd": sums.std(axis=0, ddof=1)})
        out["rel_gap"] = out.fitted / out.value - 1
        return out


def _initial_logs(table, first, n) -> np.ndarray:
    """Linearisation start only (never data): log of each month's share of its shortest report."""
    share = np.full(n, np.nan)
    best = np.full(n, MAX_WINDOW + 1)
    for s, e, L, v in zip(table.start, table.end, table.length, table.value):
        idx = np.arange(s - first, e - first + 1)
        better = L < best[idx]
        share[idx[better]] = v / L
        best[idx[better]] = L
    ok = np.isfinite(share)
    t = np.arange(n)
    return np.interp(t, t[ok], np.log(share[ok]))


def _smooth_scale(table, first):
    """Exponential trend through the reports' monthly averages (for scale='scaled')."""
    mid = (table.start + table.end).to_numpy() / 2.0 - first
    y = np.log(table.value.to_numpy() / table.length.to_numpy())
    X = np.column_stack([np.ones_like(mid), mid])
    coef = np.linalg.lstsq(X * np.sqrt(table.length.to_numpy())[:, None],
                           y * np.sqrt(table.length.to_numpy()), rcond=None)[0]
    return lambda t: np.exp(coef[0] + coef[1] * np.asarray(t, dtype=float))


def fit_latent(obs: pd.DataFrame, *, first=None, last=None, trend: str = "llt",
               rel_sd: float = 5e-4, params: dict | None = None,
               n_paths: int = 2000, seed: int = 0) -> LatentFit:
    """Fit the latent monthly model (log scale, iterated linearisation) to reported windows.

    obs      DataFrame with start, end ('YYYY-MM' or monthly Period), value (> 0),
             optional id and sd (absolute measurement sd; default rel_sd * value).
    first, last  the months to model (default: earliest start, latest end); every window
             must lie inside.
    trend    "llt" (level and slope disturbances) or "smooth" (slope only).
    params   fixed variances {"level": .., "slope": .., "seasonal": .., "irregular": ..}
             (log-scale units) instead of maximum likelihood.
    n_paths, seed  defaults for the simulated paths behind every summary.
    """
    return _fit(obs, first=first, last=last, trend=trend, rel_sd=rel_sd, params=params,
                n_paths=n_paths, seed=seed, scale="log")


def _fit(obs, *, first=None, last=None, trend="llt", rel_sd=5e-4, params=None,
         n_paths=2000, seed=0, scale="log", max_rounds=6) -> LatentFit:
    """`fit_latent` with the scale as a choice: "log" (the model), or the rejected
    alternatives "level" and "scaled" kept for the comparison in benchmarks/latent.py."""
    t0 = time.perf_counter()
    if trend not in _TREND:
        raise ValueError(f"trend must be one of {sorted(_TREND)}, got {trend!r}")
    if scale not in ("log", "level", "scaled"):
        raise ValueError(f"scale must be 'log', 'level' or 'scaled', got {scale!r}")
    table = validate(obs, rel_sd=rel_sd)
    f = int(table.start.min()) if first is None else _month(first, "first")
    l = int(table.end.max()) if last is None else _month(last, "last")
    if l < f:
        raise ValueError(f"last ({_period(l)}) is before first ({_period(f)})")
    out = table[(table.start < f) | (table.end > l)]
    if len(out):
        raise ValueError(f"report {out.id.iloc[0]} ({_label(out.start.iloc[0], out.end.iloc[0])}) "
                         f"lies outside the modelled months {_label(f, l)}")
    if table.end.nunique() < 2:
        raise ValueError("at least two reports ending in different months are needed")
    n = l - f + 1
    A = _window_matrix(table, f, n)
    free = list(_TREND[trend])
    y = table.value.to_numpy()
    s_fun: Callable[[np.ndarray], np.ndarray] | None = None
    if scale == "level":
        unit = float(np.sum(y) / np.sum(table.length))     # variances in (billions)^2
    else:
        unit = 1.0                                         # logs, or ratios to a smooth scale
        if scale == "scaled":
            s_fun = _smooth_scale(table, f)
    kappa = (SEASONAL_PRIOR_SD * unit) ** 2

    def q_of(p):
        q = np.zeros(4)
        q[free] = p
        return q

    fixed = None
    if params is not None:
        names = [SHOCKS[i] for i in free]
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"unknown variance name(s) {sorted(unknown)} for trend {trend!r}; "
                             f"use {names}")
        fixed = np.array([float(params.get(k, 0.0)) for k in names])
        if np.any(~np.isfinite(fixed)) or np.any(fixed < 0):
            raise ValueError("fixed variances must be finite and >= 0")
        if fixed[-1] < 1e-7 * unit ** 2:
            raise ValueError("the irregular variance must be at least 1e-7 (log scale)")

    rounds, loglike, z = 1, np.nan, None
    if scale == "log":
        logy = np.log(y)
        r_var = (table.sd.to_numpy() / y) ** 2                # relative error = sd of log y
        z = _initial_logs(table, f, n)
        p = fixed if fixed is not None else np.array([_START_SD[SHOCKS[i]] ** 2 for i in free])
        z = _mode(A, logy, r_var, n, q_of(p), kappa, z)
        if fixed is None:
            for rounds in range(1, max_rounds + 1):
                J, ytil = _linearise(A, logy, z)
                p_new, loglike = _mle(table, f, n, J, ytil, r_var, free, unit, kappa, p)
                sd_new, sd_old = np.sqrt(p_new), np.sqrt(p)
                moved = float(np.max(np.abs(sd_new - sd_old) / (sd_old + 1e-3)))   # sd scale
                p = p_new
                z = _mode(A, logy, r_var, n, q_of(p), kappa, z)     # the mode at the new variances
                if moved < 0.05:
                    break
        J, ytil = _linearise(A, logy, z)
    else:
        w = s_fun(np.arange(n)) if s_fun is not None else np.ones(n)     # (s_fun is set for "scaled" only)
        J, ytil, r_var = A * w, y.copy(), table.sd.to_numpy() ** 2
        if fixed is None:
            p, loglike = _mle(table, f, n, J, ytil, r_var, free, unit, kappa, None)
        else:
            p = fixed
    if fixed is not None or scale == "log":         # the likelihood at the final linearisation
        endog, design, obs_var = _endog(table, f, n, J, ytil, r_var)
        loglike = float(_Aggregated(endog, design, obs_var, free, unit, kappa).loglike(p))
    fit = LatentFit(obs=table, first=_period(f), last=_period(l),
                    params={SHOCKS[i]: float(v) for i, v in zip(free, p)}, scale=scale,
                    trend=trend, loglike=float(loglike), rounds=rounds, seconds=0.0,
                    n_paths=int(n_paths), seed=seed, _q=q_of(p), _kappa=kappa, _A=A, _J=J,
                    _ytil=ytil, _r_var=r_var, _zmode=z, _s=s_fun)
    fit.seconds = time.perf_counter() - t0
    return fit
