"""State space pieces of the latent monthly model (see `xjtrade.stats.latent`).

The 25-state structural model with twelve lagged logs, its statsmodels `MLEModel`,
the same model in dense form (joint posterior of all months by universal kriging), the
posterior mode of the logs under the nonlinear sum constraints, and maximum likelihood.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import linalg
from statsmodels.tsa.statespace.initialization import Initialization
from statsmodels.tsa.statespace.mlemodel import MLEModel

if TYPE_CHECKING:
    import pandas as pd

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
SEASONAL_PRIOR_SD = 0.5       # prior sd of each seasonal effect on the log scale (see docstring)


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
    """The linear(ised) model ``ytil = J z + e`` in state space form.

    Rows: a blank month (so that the initial state is the month before the first), then
    the months; columns: window lengths; design: time-varying, ``J``'s row of each report.
    """

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

def _impulses(n: int) -> tuple[np.ndarray, np.ndarray]:
    """e_z' T^h for h = 0..n (rows), and the responses of z_{s+h} to the shocks entering at s."""
    phi = np.empty((n + 1, K_STATES))
    v = np.zeros(K_STATES)
    v[_Z] = 1.0
    for h in range(n + 1):
        phi[h] = v
        v = v @ _T
    return phi, phi[:n] @ _R


def _prior(n: int, q: np.ndarray, kappa: float) -> tuple[np.ndarray, np.ndarray]:
    """Months 0..n-1 of z: diffuse directions Hd (n x 2) and proper covariance S (n x n).

    S = seasonal prior part + sum_k q_k G_k G_k', G_k the lower-triangular Toeplitz matrix of
    the responses to shock k; in closed form for the level (response 1, 1, 1, ...), the
    slope (0, 1, 2, ...) and the irregular (1, 0, 0, ...), by a product for the seasonal.
    """
    phi, imp = _impulses(n)
    H = phi[1:]                            # z of month t loads on the initial state via T^(t+1)
    S = H[:, 2:13] @ _seasonal_prior(kappa) @ H[:, 2:13].T
    i, j = np.indices((n, n))
    m, d = np.minimum(i, j).astype(float), np.abs(i - j).astype(float)
    if q[0] > 0:
        S += q[0] * (m + 1)
    if q[1] > 0:
        S += q[1] * (m * (m + 1) * (2 * m + 1) / 6 + d * m * (m + 1) / 2)
    if q[2] > 0:
        G = linalg.toeplitz(imp[:, 2], np.zeros(n))
        S += q[2] * (G @ G.T)
    S[np.diag_indices(n)] += q[3]
    return H[:, :2].copy(), S


def _window_sums(X: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sums of rows starts[k]..ends[k] of X (months x paths) for each window k (= A @ X)."""
    c = np.cumsum(X, axis=0)
    out = c[ends]
    has = starts > 0
    out[has] -= c[starts[has] - 1]
    return out


@dataclass
class _Post:
    mean: np.ndarray       # posterior mean of z (n)
    cov: np.ndarray        # joint posterior covariance (n x n)
    gain: np.ndarray       # d mean / d ytil (n x m)


def _posterior(Hd, S, J, r_var, ytil) -> _Post:
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
                         bounds=[_BOUNDS[SHOCKS[i]] for i in free],
                         # stop at a log-likelihood within ~0.05 of the optimum: on 12 simulated
                         # samples a third fewer evaluations than scipy's defaults, and one
                         # sample's flat ridge no longer takes thousands of them
                         factr=1e11, pgtol=1e-3, maxfun=400)
        params = np.asarray(params, dtype=float)
        loglike = float(mod.loglike(params))
    return params, loglike
