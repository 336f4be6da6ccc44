"""A latent monthly series estimated from reported sums over blocks of months.

Every reported figure is an observation of a SUM of monthly values over its window
(a single month, a two-month opening block, a year-to-date total, a quarter, a half,
a year).  Nothing is spread evenly over the months of a block: the monthly values are
latent, and the model says how much each reported window tells about each month.

Model
-----
Let ``x_t > 0`` be the monthly value and ``z_t = log x_t``.  The log follows a basic
structural model (Harvey 1989)::

    z_t    = mu_t + gamma_t + eps_t,               eps_t   ~ N(0, s2_irregular)
    mu_t   = mu_{t-1} + beta_{t-1} + eta_t,        eta_t   ~ N(0, s2_level)   (trend="llt")
    beta_t = beta_{t-1} + zeta_t,                  zeta_t  ~ N(0, s2_slope)
    gamma_t = -(gamma_{t-1} + ... + gamma_{t-11}) + omega_t,   omega_t ~ N(0, s2_seasonal)

A reported value ``y`` for the window of length ``L`` ending in month ``t`` is::

    y = x_t + x_{t-1} + ... + x_{t-L+1} + e,       e ~ N(0, sd^2)

with a small FIXED measurement error (default ``sd = rel_sd * y``, ``rel_sd = 5e-4``,
about the rounding error of a figure printed to 3-4 significant digits; a column
``sd`` in the input overrides it row by row).  The variances are estimated, ``sd`` is not.

State space layout (the "cumulator by lags"): the state holds the trend (2), the
dummy seasonal (11) and the last twelve values ``z_t, ..., z_{t-11}`` (12): 25 states.
``endog`` has one row per month and one column per window length that occurs
(``L = 1..12``); the figure for a window of length ``L`` ending in month ``t`` is
put at row ``t``, column ``L``, and its design row picks up the last ``L`` lagged
values.  Cells without a report are NaN and the Kalman filter skips them.  Several
windows ending in the same month (December, Q4, H2, the year) are simply several
columns of the same row.  The level and slope are exactly diffuse; the 11 seasonal
states get a proper but very wide prior (sd ~1 on the log scale, symmetric over the
12 months), so that a stretch of years reported only as annual totals cannot make the
filter fail.

Why the log scale, and iterated linearisation (option "b" of the design brief)
---------------------------------------------------------------------------
The values grow threefold over the sample and the seasonal amplitude grows with the
level, and intervals must be positive.  Three options were compared on simulated data
(``benchmarks/latent.py --compare``; numbers in the report of the change that added
this module):

(a) "level": the same model on ``x_t`` itself.  Sums are linear, the design is
    time-invariant and the fit is one pass, but the seasonal amplitude cannot grow
    with the level (early years get too wide intervals, late years too narrow ones)
    and nothing keeps the intervals positive: lower bounds of forecasts of low
    (January-February) months can be negative.
(c) "scaled": the level model on ``x_t / s_t`` with ``s_t`` a smooth known
    exponential trend fitted to the reports.  It fixes most of the scale problem,
    but it is still Gaussian in levels (no positivity guarantee) and its answer
    depends on the arbitrary choice of ``s_t``.
(b) "log" (chosen): the model above, in logs, with the nonlinear constraint
    ``sum exp(z) = y`` handled by iterated linearisation (Proietti 2006, "On the
    estimation of nonlinearly aggregated mixed models"): at the current trajectory
    ``z~`` the constraint is replaced by ``sum w_t (1 + z_t - z~_t)`` with
    ``w_t = exp(z~_t)``, the linear Gaussian model is smoothed, ``z~`` is replaced by
    the smoothed mean, and so on to convergence (Gauss-Newton; the fixed point is the
    posterior mode).  Positive by construction.  The price: the design holds the
    weights ``w`` and so is time-VARYING (it is (c) with the scale re-estimated at
    every step, on the log scale), and the fit is iterated.

Estimation alternates (i) the posterior mode at fixed variances and (ii) maximum
likelihood of the variances in the linearised model at that mode (statsmodels'
``MLEModel``, exact diffuse Kalman filter); two to four rounds converge.  The
measurement error is fixed, not estimated.

Uncertainty and coherent paths
------------------------------
At the mode, the linearised model gives the joint Gaussian posterior of all the
months' logs (in sample and any number of forecast months; computed densely as
universal kriging with a flat prior on level and slope, which is exactly what the
diffuse Kalman smoother computes, and cross-checked against it in the tests).  Paths
are drawn from it by a Cholesky factor in month order, so a path's first months do
not depend on how far it is extended.  A log-space draw does not satisfy the reported
sums exactly (``sum exp(z)`` exceeds the linear approximation by a second-order
term, about half the variance); each draw is therefore moved back onto the reported
sums by a few chord-Newton steps along the smoother's gain (Durbin and Koopman's
mean-correction idea applied to the nonlinear constraint), keeping its share of
measurement error.  Then every path reproduces every reported window, and any
aggregate (a year-to-date total, the rest of a year, a full year that mixes reported
and forecast months) is the sum of the same positive monthly values, path by path.
Monthly summaries, aggregates and forecasts are all read from these paths, so they
are coherent with each other (means add up exactly; quantiles of a year-to-date total
are monotone in its end month).
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg
from statsmodels.tsa.statespace.initialization import Initialization
from statsmodels.tsa.statespace.mlemodel import MLEModel

MAX_WINDOW = 12
SHOCKS = ("level", "slope", "seasonal", "irregular")
_TREND = {"llt": (0, 1, 2, 3), "smooth": (1, 2, 3)}
_Z = 13                       # index of z_t in the state (2 trend + 11 seasonal before it)
K_STATES = _Z + MAX_WINDOW    # 25
_START_SD = {"level": 0.01, "slope": 0.001, "seasonal": 0.01, "irregular": 0.05}
# bounds of log(variance / unit^2) in maximum likelihood: the irregular is kept above a
# monthly sd of 0.03 % so that the prior covariance of the months stays invertible
_BOUNDS = {"level": (np.log(1e-12), 0.0), "slope": (np.log(1e-12), 0.0),
           "seasonal": (np.log(1e-12), 0.0), "irregular": (np.log(1e-7), 0.0)}
_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")
SEASONAL_PRIOR_SD = 0.5       # prior sd of each seasonal effect on the log scale (see docstring)


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
    if not (np.isfinite(rel_sd) and rel_sd >= 0):
        raise ValueError(f"rel_sd must be a finite number >= 0, got {rel_sd!r}")
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
# the state space system
# --------------------------------------------------------------------------------------

def _system() -> tuple[np.ndarray, np.ndarray]:
    """Transition T (25x25) and selection R (25x4) for (level, slope, seasonal, irregular)."""
    T = np.zeros((K_STATES, K_STATES))
    T[0, 0] = T[0, 1] = T[1, 1] = 1.0              # mu_{t+1} = mu_t + beta_t; beta_{t+1} = beta_t
    T[2, 2:13] = -1.0                              # gamma_{t+1} = -sum of the last 11
    for i in range(3, 13):
        T[i, i - 1] = 1.0
    T[_Z, 0] = T[_Z, 1] = 1.0                      # z_{t+1} = mu_{t+1} + gamma_{t+1} + eps
    T[_Z, 2:13] = -1.0
    for j in range(1, MAX_WINDOW):
        T[_Z + j, _Z + j - 1] = 1.0                # lags
    R = np.zeros((K_STATES, 4))
    R[0, 0] = R[1, 1] = R[2, 2] = 1.0
    R[_Z, [0, 2, 3]] = 1.0
    return T, R


_T, _R = _system()


def _seasonal_prior(kappa: float) -> np.ndarray:
    """Covariance of the 11 seasonal states when the 12 effects are iid N(0, kappa) summing to 0."""
    return kappa * (np.eye(11) - np.ones((11, 11)) / 12.0)


def _initialization(kappa: float) -> Initialization:
    init = Initialization(K_STATES)
    init.set((0, 2), "diffuse")
    cov = np.zeros((K_STATES - 2, K_STATES - 2))
    cov[:11, :11] = _seasonal_prior(kappa)
    init.set((2, K_STATES), "known", constant=np.zeros(K_STATES - 2), stationary_cov=cov)
    return init


class _Aggregated(MLEModel):
    """Linear Gaussian model for sums of ``w_t z_t`` over windows (rows: a blank month, then the months)."""

    def __init__(self, endog, design, obs_var, free, unit, kappa):
        super().__init__(endog, k_states=K_STATES, k_posdef=4)
        self.ssm.initialization = _initialization(kappa)
        self["design"] = design
        k, n = endog.shape[1], endog.shape[0]
        obs_cov = np.zeros((k, k, n))
        obs_cov[np.arange(k), np.arange(k), :] = obs_var.T
        self["obs_cov"] = obs_cov
        self["transition"] = _T
        self["selection"] = _R
        self._free = list(free)
        self._unit2 = unit ** 2

    @property
    def param_names(self):
        return [f"sigma2.{SHOCKS[i]}" for i in self._free]

    @property
    def start_params(self):
        return np.array([(_START_SD[SHOCKS[i]]) ** 2 * self._unit2 for i in self._free])

    def transform_params(self, unconstrained):
        return self._unit2 * np.exp(unconstrained)

    def untransform_params(self, constrained):
        return np.log(np.asarray(constrained) / self._unit2)

    def update(self, params, **kwargs):
        params = super().update(params, **kwargs)
        q = np.zeros((4, 4), dtype=np.result_type(params, float))
        q[self._free, self._free] = params
        self["state_cov"] = q
        return params


# --------------------------------------------------------------------------------------
# dense posterior (the same model, for the joint distribution of all months)
# --------------------------------------------------------------------------------------

def _prior(n: int, q: np.ndarray, kappa: float) -> tuple[np.ndarray, np.ndarray]:
    """Months 0..n-1 of z: diffuse directions Hd (n x 2) and proper covariance S (n x n)."""
    phi = np.empty((n + 1, K_STATES))
    v = np.zeros(K_STATES)
    v[_Z] = 1.0
    for h in range(n + 1):                 # phi[h] = e_z' T^h
        phi[h] = v
        v = v @ _T
    H = phi[1:]                            # z of month t loads on the initial state via T^(t+1)
    imp = phi[:n] @ _R                     # response of z_{s+h} to the shocks entering at s
    S = H[:, 2:13] @ _seasonal_prior(kappa) @ H[:, 2:13].T
    for k in range(4):
        if q[k] > 0:
            G = linalg.toeplitz(imp[:, k], np.zeros(n))
            S += q[k] * (G @ G.T)
    return H[:, :2].copy(), S


@dataclass
class _Post:
    mean: np.ndarray       # posterior mean of z (n)
    cov: np.ndarray | None  # joint posterior covariance (n x n)
    gain: np.ndarray | None  # d mean / d ytil (n x m)


def _posterior(Hd, S, J, r_var, ytil, full: bool) -> _Post:
    """Universal kriging = diffuse Kalman smoother for z given ytil = J z + e."""
    V = J @ S @ J.T
    V[np.diag_indices_from(V)] += r_var
    try:
        cV = linalg.cho_factor(V, lower=True, check_finite=False)
    except linalg.LinAlgError as exc:  # pragma: no cover - R > 0 keeps V positive definite
        raise ValueError("reported windows are linearly dependent and have no measurement error") from exc
    X = J @ Hd
    WX = linalg.cho_solve(cV, X, check_finite=False)
    M = X.T @ WX
    if np.linalg.cond(M) > 1e12:
        raise ValueError("the reports do not identify a trend: at least two windows with different "
                         "ends are needed")
    SJ = S @ J.T
    Wy = linalg.cho_solve(cV, ytil, check_finite=False)
    b = np.linalg.solve(M, X.T @ Wy)
    mean = Hd @ b + SJ @ (Wy - WX @ b)
    if not full:
        return _Post(mean, None, None)
    D = Hd - SJ @ WX
    cov = S - SJ @ linalg.cho_solve(cV, SJ.T, check_finite=False) + D @ np.linalg.solve(M, D.T)
    cov = 0.5 * (cov + cov.T)
    A1 = np.linalg.solve(M, WX.T)                      # (2 x m) = M^-1 X' W
    W = linalg.cho_solve(cV, np.eye(len(ytil)), check_finite=False)
    gain = SJ @ (W - WX @ A1) + Hd @ A1
    return _Post(mean, cov, gain)


def _cholesky(cov: np.ndarray) -> np.ndarray:
    jitter = 0.0
    scale = float(np.max(np.diag(cov)))
    for _ in range(8):
        try:
            return np.linalg.cholesky(cov + jitter * np.eye(len(cov)))
        except np.linalg.LinAlgError:
            jitter = scale * 1e-13 if jitter == 0 else jitter * 100
    raise ValueError("posterior covariance is not positive semi-definite")  # pragma: no cover


def _linearise(A: np.ndarray, logy: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log(sum over a window of exp z) ~ its tangent at z: design J (shares) and pseudo-data ytil."""
    e = np.exp(z)
    tot = A @ e
    J = A * e / tot[:, None]
    return J, logy - np.log(tot) + J @ z


def _mode(A, logy, r_var, n, q, kappa, z0, *, max_iter=100, tol=1e-9) -> np.ndarray:
    """Posterior mode of the logs at fixed variances: Newton's method on the log posterior.

    phi(z) = z'Qz/2 + sum_k (log y_k - log sum_{t in k} exp z_t)^2 / (2 r_k), with Q the
    prior precision (flat in level and slope).  The plain iterated linearisation
    (Gauss-Newton, "smooth the linearised model, re-linearise at the smoothed mean") has
    the same fixed point but ignores the curvature of the constraints; it crawls, and on
    some simulated samples cycles, along directions the reports barely pin down (the
    January/February split when only their sum is reported).  Here: Newton steps with
    that curvature (Gauss-Newton where the full Hessian is not positive definite), a
    second-order correction that puts each trial point back on the linearised reports
    (the constraints are stiff: r_k is tiny), and a backtracking line search on phi.
    """
    Hd, S = _prior(n, q, kappa)
    cS = linalg.cho_factor(S, lower=True, check_finite=False)
    SiH = linalg.cho_solve(cS, Hd, check_finite=False)
    Q = linalg.cho_solve(cS, np.eye(n), check_finite=False) - SiH @ np.linalg.solve(Hd.T @ SiH, SiH.T)
    Q = 0.5 * (Q + Q.T)

    def parts(z):
        e = np.exp(np.minimum(z, 100.0))
        tot = A @ e
        with np.errstate(divide="ignore", invalid="ignore"):
            res = logy - np.log(tot)
            phi = 0.5 * z @ Q @ z + 0.5 * np.sum(res ** 2 / r_var)
        return A * e / tot[:, None], res, phi if np.isfinite(phi) else np.inf

    z = z0.copy()
    J, res, phi = parts(z)
    for _ in range(max_iter):
        lam = res / r_var
        grad = Q @ z - J.T @ lam
        h_gn = Q + (J.T / r_var) @ J
        try:
            c = linalg.cho_factor(h_gn - np.diag(J.T @ lam) + (J.T * lam) @ J, lower=True,
                                  check_finite=False)
        except linalg.LinAlgError:
            c = linalg.cho_factor(h_gn, lower=True, check_finite=False)
        d = -linalg.cho_solve(c, grad, check_finite=False)
        big = float(np.max(np.abs(d)))
        if not np.isfinite(big):
            break
        if big < tol:
            return z + d
        t = min(1.0, 1.0 / big)                   # at most a factor e per step
        slope = float(grad @ d)
        while t > 1e-12:
            zt = z + t * d
            pred = res - t * (J @ d)              # the reports' residuals the step aims at
            for _ in range(3):                    # second-order correction back onto them
                Jt, rt, pt = parts(zt)
                if not np.isfinite(pt):
                    break
                zt = zt + linalg.cho_solve(c, (J.T / r_var) @ (rt - pred), check_finite=False)
            Jt, rt, pt = parts(zt)
            if pt <= phi + 1e-4 * t * slope + 1e-12 * abs(phi):
                break
            t *= 0.5
        else:
            break
        z, J, res, phi = zt, Jt, rt, pt
    raise ValueError("the reported windows cannot be reconciled with positive monthly values "
                     "(no posterior mode found); check for inconsistent reports")


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
    _q: np.ndarray = field(default=None, repr=False)
    _kappa: float = field(default=1.0, repr=False)
    _A: np.ndarray = field(default=None, repr=False)       # m x n window matrix (fit range)
    _J: np.ndarray = field(default=None, repr=False)       # m x n design of the (linearised) model
    _ytil: np.ndarray = field(default=None, repr=False)    # its pseudo-observations
    _r_var: np.ndarray = field(default=None, repr=False)   # and their error variances
    _zmode: np.ndarray = field(default=None, repr=False)
    _s: object = field(default=None, repr=False)           # scale function for "scaled"
    _cache: dict = field(default_factory=dict, repr=False)

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
            self._cache[n] = _posterior(Hd, S, J, self._r_var, self._ytil, full=True)
        return self._cache[n]

    def _levels(self, Z: np.ndarray, n: int) -> np.ndarray:
        if self.scale == "log":
            return np.exp(Z)
        if self.scale == "scaled":
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
        key = ("paths", n, n_paths, seed)
        if key not in self._cache:
            post = self._post(n)
            L = _cholesky(post.cov)
            eps = np.random.default_rng(seed).standard_normal((n, n_paths))   # month by month
            Z = post.mean[:, None] + L @ eps
            if self.scale == "log":
                Z = self._reproject(Z, post)
            X = self._levels(Z, n).T
            self._cache[key] = pd.DataFrame(X, columns=self.months(_period(self.first.ordinal + n - 1)))
        return self._cache[key].copy()

    def _reproject(self, Z: np.ndarray, post: _Post) -> np.ndarray:
        """Move log-space draws onto the reported sums (chord Newton along the smoother's gain).

        A draw's window values in the linearised model, ``ytil``-scale ``J z``, differ from
        the reports by its draw of the measurement error; the draw is moved until the exact
        ``log sum exp z`` over each window equals that linearised value, so it keeps its
        error draw and loses only the second-order term.
        """
        nf = self.n_months
        A, J = self._A, self._J
        zc = self._zmode[:, None]
        target = np.log(A @ np.exp(self._zmode))[:, None] + J @ (Z[:nf] - zc)
        tol = 1e-2 * np.sqrt(self._r_var)[:, None]
        for _ in range(50):
            resid = target - np.log(A @ np.exp(Z[:nf]))
            if np.all(np.abs(resid) <= tol):
                return Z
            Z = Z + post.gain @ resid
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
        out = {k: float(v[0]) for k, v in self._summary(total[:, None], levels).items()}
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


def _window_matrix(table: pd.DataFrame, first: int, n: int) -> np.ndarray:
    A = np.zeros((len(table), n))
    for i, (s, e) in enumerate(zip(table.start, table.end)):
        A[i, s - first:e - first + 1] = 1.0
    return A


def _endog(table, first, n, J, ytil, r_var):
    """endog (a blank row, then the n months; one column per window length used), design, variances.

    The report on the window of length L ending in month t sits at row t, column L; its
    design row holds that window's row of J on the lagged values z_t .. z_{t-L+1}.
    """
    lengths = sorted(set(table.length))
    col = {L: c for c, L in enumerate(lengths)}
    k = len(lengths)
    endog = np.full((n + 1, k), np.nan)
    design = np.zeros((k, K_STATES, n + 1))
    obs_var = np.ones((n + 1, k))
    for i, (e, L) in enumerate(zip(table.end, table.length)):
        row, c = e - first + 1, col[L]
        endog[row, c] = ytil[i]
        obs_var[row, c] = r_var[i]
        design[c, _Z:_Z + L, row] = J[i, e - first - np.arange(L)]
    return endog, design, obs_var


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


def _mle(table, first, n, J, ytil, r_var, free, unit, kappa, start):
    """Maximum likelihood of the free variances in the linear model ytil = J z + e (statsmodels)."""
    endog, design, obs_var = _endog(table, first, n, J, ytil, r_var)
    mod = _Aggregated(endog, design, obs_var, free, unit, kappa)
    if start is None:
        start = mod.start_params
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = mod.fit(start_params=start, method="lbfgs", disp=False, maxiter=200,
                         cov_type="none", return_params=True,
                         bounds=[_BOUNDS[SHOCKS[i]] for i in free], factr=1e10, pgtol=1e-4, maxfun=400)
        params = np.asarray(params, dtype=float)
        loglike = float(mod.loglike(params))
    return params, loglike


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
    s_fun = None
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
        unknown = set(params) - set(SHOCKS)
        if unknown:
            raise ValueError(f"unknown variance name(s) {sorted(unknown)}; use {SHOCKS}")
        fixed = np.array([float(params.get(SHOCKS[i], 0.0)) for i in free])
        if np.any(~np.isfinite(fixed)) or np.any(fixed < 0):
            raise ValueError("fixed variances must be finite and >= 0")

    rounds, loglike, z = 1, np.nan, None
    if scale == "log":
        logy = np.log(y)
        r_var = (table.sd.to_numpy() / y) ** 2                # relative error = sd of log y
        z = _initial_logs(table, f, n)
        p = fixed if fixed is not None else np.array([_START_SD[SHOCKS[i]] ** 2 for i in free])
        for rounds in range(1, max_rounds + 1):
            z = _mode(A, logy, r_var, n, q_of(p), kappa, z)
            if fixed is not None:
                break
            J, ytil = _linearise(A, logy, z)
            p_new, loglike = _mle(table, f, n, J, ytil, r_var, free, unit, kappa, p)
            sd_new, sd_old = np.sqrt(p_new), np.sqrt(p)
            moved = float(np.max(np.abs(sd_new - sd_old) / (sd_old + 1e-3)))   # on the sd scale
            p = p_new
            if moved < 0.05:
                z = _mode(A, logy, r_var, n, q_of(p), kappa, z)
                break
        J, ytil = _linearise(A, logy, z)
    else:
        w = np.ones(n) if scale == "level" else s_fun(np.arange(n))
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
