"""Tests of xjtrade.stats.latent, the latent monthly model of reported sums over windows.

Most tests use a known simulated monthly path (trend, seasonal, log-normal noise; 10 years)
reported the way the trade figures are: two-month opening blocks, year-to-date totals
ending in irregular months, some single months, quarters, second halves, full years, two
years reported only as a total, and a last year cut after a few months; values rounded to
4 significant digits.  Tolerances are stated where they are used.

The model's algebra is many small dense matrices: on a busy shared machine a
multi-threaded BLAS makes these tests several times slower (OPENBLAS_NUM_THREADS=1 helps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xjtrade.stats import latent
from xjtrade.stats.latent import fit_latent, validate
from xjtrade.stats.latent_sim import report, simulate_monthly

REL_SD = 5e-4          # the default relative measurement sd of a report


def make_case(seed: int, years: int = 10):
    truth = simulate_monthly(years, seed=seed)
    ys = sorted({p.year for p in truth.index})
    obs = report(truth, seed=seed, total_only_years=(ys[2], ys[5]))
    return truth, obs


@pytest.fixture(scope="module")
def case():
    truth, obs = make_case(11)
    return truth, obs, fit_latent(obs)


def M(text: str) -> pd.Period:
    return pd.Period(text, freq="M")


# --------------------------------------------------------------------------------------
# reproduction of the reports, coverage
# --------------------------------------------------------------------------------------

def test_reported_windows_are_reproduced(case):
    """Sum of monthly means over each reported window = the report, within 3 measurement sd;
    every single path reproduces every report within 6 sd (its share of measurement error)."""
    _, obs, fit = case
    monthly = fit.monthly()
    paths = fit.paths()
    for row in obs.itertuples():
        total = monthly.loc[row.start:row.end, "mean"].sum()
        assert abs(total / row.value - 1) < 3 * REL_SD, row
        per_path = paths.loc[:, row.start:row.end].sum(axis=1).to_numpy()
        assert np.max(np.abs(per_path / row.value - 1)) < 6 * REL_SD, row
    gaps = fit.fitted()
    assert list(gaps.id) == list(fit.obs.id)
    assert gaps.rel_gap.abs().max() < 3 * REL_SD


def test_true_path_within_its_95_interval_at_about_the_nominal_rate(case):
    """One sample of 120 months: the truth lies inside the 95 % band for 88-100 % of months."""
    truth, _, fit = case
    m = fit.monthly()
    t = truth.reindex(m.index)
    inside = (m.lo95 <= t) & (t <= m.hi95)
    assert 0.88 <= inside.mean() <= 1.0
    assert (m.lo95 > 0).all() and (m.lo80 >= m.lo95).all() and (m.hi80 <= m.hi95).all()
    assert ((m.lo95 <= m["median"]) & (m["median"] <= m.hi95)).all()


def test_coverage_over_many_seeds_is_close_to_nominal():
    """30 simulated samples (about 25 s).  Coverage of the true monthly values by the
    monthly intervals (months not themselves reported) and of the true calendar-year
    totals that were not reported (in-sample years reported only in part, and the last,
    cut, year whose total needs forecast months).

    Tolerances: months (about 3000): 80 % within [0.72, 0.90], 95 % within [0.90, 0.99];
    years (about 60, binomial sd 5 %): 80 % within [0.62, 0.95], 95 % within [0.83, 1.0].
    """
    month80, month95, year80, year95 = [], [], [], []
    for seed in range(30):
        truth, obs = make_case(100 + seed)
        fit = fit_latent(obs, n_paths=1000)
        until = truth.index[-1]
        paths = fit.paths(until)
        lo95, lo80, hi80, hi95 = np.quantile(paths.to_numpy(), [0.025, 0.1, 0.9, 0.975], axis=0)
        t = truth.reindex(paths.columns).to_numpy()
        single = {p for p, L in zip(obs.start, obs.end) if p == L}
        free = np.array([p not in single for p in paths.columns])
        month80 += list(((lo80 <= t) & (t <= hi80))[free])
        month95 += list(((lo95 <= t) & (t <= hi95))[free])
        reported = set(zip(obs.start, obs.end))
        for year in sorted({p.year for p in truth.index}):
            a, b = M(f"{year}-01"), M(f"{year}-12")
            if (a, b) in reported:
                continue
            agg = fit.aggregate(a, b)
            true_total = truth[a:b].sum()
            year80.append(agg["lo80"] <= true_total <= agg["hi80"])
            year95.append(agg["lo95"] <= true_total <= agg["hi95"])
    assert len(month80) > 2000 and len(year80) >= 40
    assert 0.72 <= np.mean(month80) <= 0.90, np.mean(month80)
    assert 0.90 <= np.mean(month95) <= 0.99, np.mean(month95)
    assert 0.62 <= np.mean(year80) <= 0.95, np.mean(year80)
    assert 0.83 <= np.mean(year95) <= 1.0, np.mean(year95)


# --------------------------------------------------------------------------------------
# coherence of paths, aggregates and forecasts
# --------------------------------------------------------------------------------------

def test_forecast_annual_total_is_the_sum_of_monthly_forecasts_path_by_path(case):
    _, _, fit = case
    year = fit.last.year
    a, b = M(f"{year}-01"), M(f"{year}-12")
    paths = fit.paths(b)
    annual = paths.loc[:, a:b].sum(axis=1).to_numpy()
    agg = fit.aggregate(a, b)
    assert agg["reported"] is None and agg["months"] == 12
    assert agg["mean"] == pytest.approx(annual.mean(), rel=1e-12)
    assert agg["lo95"] == pytest.approx(np.quantile(annual, 0.025), rel=1e-12)
    assert agg["hi80"] == pytest.approx(np.quantile(annual, 0.9), rel=1e-12)
    # the same number from the monthly tables: in-sample months plus forecast months
    fc = fit.forecast(b)
    assert fc.index[0] == fit.last + 1 and fc.index[-1] == b
    assert not fc.observed.any() and (fc.informed_by.map(len) == 0).all()
    in_sample = fit.monthly().loc[a:, "mean"].sum()
    assert agg["mean"] == pytest.approx(in_sample + fc["mean"].sum(), rel=1e-9)
    # a path does not depend on how far it is extended
    longer = fit.paths(b + 24)
    np.testing.assert_allclose(longer.iloc[:, :paths.shape[1]].to_numpy(), paths.to_numpy(), rtol=1e-7)


def test_year_to_date_forecasts_are_monotone_in_the_end_month(case):
    _, _, fit = case
    year = fit.last.year
    rows = [fit.aggregate(f"{year}-01", f"{year}-{m:02d}") for m in range(1, 13)]
    for key in ("mean", "median", "lo80", "hi80", "lo95", "hi95"):
        values = [r[key] for r in rows]
        assert all(x < y for x, y in zip(values, values[1:])), key


def test_forecast_intervals_are_strictly_positive(case):
    _, _, fit = case
    fc = fit.forecast(fit.last + 36)
    assert len(fc) == 36
    assert (fc.lo95 > 0).all() and (fc.lo80 > fc.lo95).all() and (fc.hi95 > fc.hi80).all()
    assert (fit.paths(fit.last + 36).to_numpy() > 0).all()
    # uncertainty grows with the horizon (relative width of the 95 % band, December to December)
    width = (fc.hi95 - fc.lo95) / fc["median"]
    decembers = width[[p.month == 12 for p in width.index]]
    assert decembers.is_monotonic_increasing


def test_sparse_reports_still_give_positive_intervals():
    """Five annual totals and two opening blocks only: very wide, still positive."""
    obs = pd.DataFrame({
        "start": ["2015-01", "2016-01", "2017-01", "2018-01", "2019-01", "2019-01", "2020-01"],
        "end": ["2015-12", "2016-12", "2017-12", "2018-12", "2019-12", "2019-02", "2020-02"],
        "value": [150.0, 170.0, 160.0, 200.0, 230.0, 30.0, 35.0]})
    fit = fit_latent(obs)
    m = fit.monthly()
    fc = fit.forecast("2021-12")
    assert (m.lo95 > 0).all() and (fc.lo95 > 0).all()
    for year, total in zip(range(2015, 2020), [150.0, 170.0, 160.0, 200.0, 230.0]):
        assert m.loc[f"{year}-01":f"{year}-12", "mean"].sum() == pytest.approx(total, rel=3 * REL_SD)


def test_aggregate_uses_the_joint_distribution_not_summed_marginals(case):
    """January and February are only ever reported together: each month alone is very
    uncertain, their sum is pinned by the report.  Summing the marginal intervals would
    give a band dozens of times wider than the joint one."""
    _, obs, fit = case
    m = fit.monthly()
    year = fit.first.year + 1
    a, b = M(f"{year}-01"), M(f"{year}-02")
    assert ((obs.start == a) & (obs.end == b)).any() and not (obs.end == a).any()
    agg = fit.aggregate(a, b)
    value = obs.value[(obs.start == a) & (obs.end == b)].iloc[0]
    assert agg["reported"] == value
    assert agg["lo95"] <= value * (1 + 3 * REL_SD) and agg["hi95"] >= value * (1 - 3 * REL_SD)
    joint = agg["hi95"] - agg["lo95"]
    summed = (m.hi95 - m.lo95).loc[a:b].sum()
    assert joint < summed / 20
    assert joint / value < 8 * REL_SD


# --------------------------------------------------------------------------------------
# hand-computable cases and what is "observed"
# --------------------------------------------------------------------------------------

def test_complete_single_months_are_returned_as_observed():
    """Only complete monthly observations: the smoothed months equal them (within the
    measurement error), and the sd of a twelve-month sum is the root of the sum of the
    squared measurement sds (independent errors), not their sum."""
    months = pd.period_range("2020-01", "2021-12", freq="M")
    values = 20 + 5 * np.sin(np.arange(24)) + np.arange(24) * 0.5
    obs = pd.DataFrame({"id": [f"m{i}" for i in range(24)], "start": months, "end": months,
                        "value": values})
    fit = fit_latent(obs)
    m = fit.monthly()
    np.testing.assert_allclose(m["mean"].to_numpy(), values, rtol=REL_SD / 5)
    np.testing.assert_allclose(m["median"].to_numpy(), values, rtol=REL_SD / 5)
    assert (m["sd"] / values < 1.2 * REL_SD).all()
    assert m.observed.all()
    assert list(m.informed_by) == [(f"m{i}",) for i in range(24)]
    agg = fit.aggregate("2020-01", "2020-12")
    assert agg["mean"] == pytest.approx(values[:12].sum(), rel=REL_SD / 10)
    root_sum = np.sqrt(np.sum((REL_SD * values[:12]) ** 2))
    assert agg["sd"] == pytest.approx(root_sum, rel=0.15)
    assert agg["sd"] < 0.5 * np.sum(REL_SD * values[:12])


def test_inconsistent_reports_are_reconciled_by_their_measurement_errors():
    """Jan-Nov + December exceed the reported year by 0.63 (as in the 2023 figures).  The
    months are otherwise free, so the fit spreads the gap over the three reports in
    proportion to their error variances (sd proportional to the value):
    fitted = reported -/+ gap * v_i / (v_a + v_b + v_c).  Tolerance 0.02 (path noise)."""
    obs = pd.DataFrame({"id": ["y22", "jf", "h1", "ytd11", "dec", "y23"],
                        "start": ["2022-01", "2023-01", "2023-01", "2023-01", "2023-12", "2023-01"],
                        "end": ["2022-12", "2023-02", "2023-06", "2023-11", "2023-12", "2023-12"],
                        "value": [246.0, 44.40, 149.62, 320.53, 37.43, 357.33]})
    fitted = fit_latent(obs).fitted().set_index("id").fitted
    a, b, c = 320.53, 37.43, 357.33
    gap, v = a + b - c, np.array([a, b, c]) ** 2
    assert fitted["ytd11"] == pytest.approx(a - gap * v[0] / v.sum(), abs=0.02)      # 320.251
    assert fitted["dec"] == pytest.approx(b - gap * v[1] / v.sum(), abs=0.02)        # 37.426
    assert fitted["y23"] == pytest.approx(c + gap * v[2] / v.sum(), abs=0.02)        # 357.677
    assert fitted["ytd11"] + fitted["dec"] == pytest.approx(fitted["y23"], abs=0.01)


def test_an_approximate_report_gives_way_to_exact_ones():
    """A half-year given as 'about 100' (sd 5) against Jan-May = 80 and June = 21 (exact)."""
    obs = pd.DataFrame({"id": ["y22", "h1", "ytd5", "jun", "y23"],
                        "start": ["2022-01", "2023-01", "2023-01", "2023-06", "2023-01"],
                        "end": ["2022-12", "2023-06", "2023-05", "2023-06", "2023-12"],
                        "value": [246.0, 100.0, 80.0, 21.0, 300.0],
                        "sd": [0.1, 5.0, 0.04, 0.01, 0.15]})
    fitted = fit_latent(obs).fitted().set_index("id").fitted
    assert fitted["h1"] == pytest.approx(101.0, abs=0.01)
    assert fitted["ytd5"] == pytest.approx(80.0, abs=0.01)


def test_fixed_variances_skip_estimation_and_give_the_same_answer(case):
    _, obs, fit = case
    again = fit_latent(obs, params=fit.params)
    assert again.params == fit.params
    np.testing.assert_allclose(again.monthly()["mean"], fit.monthly()["mean"], rtol=1e-6)
    assert again.loglike == pytest.approx(fit.loglike, abs=1e-6)
    smooth = fit_latent(obs, trend="smooth")
    assert set(smooth.params) == {"slope", "seasonal", "irregular"}


def test_a_block_spread_over_its_months_is_never_observed():
    obs = pd.DataFrame({
        "id": ["q1", "h1", "apr", "y", "q1b"],
        "start": ["2020-01", "2020-01", "2020-04", "2020-01", "2021-01"],
        "end": ["2020-03", "2020-06", "2020-04", "2020-12", "2021-03"],
        "value": [60.0, 130.0, 22.0, 270.0, 66.0]})
    fit = fit_latent(obs)
    m = fit.monthly()
    assert list(m.index[m.observed]) == [M("2020-04")]
    assert m.loc["2020-02", "informed_by"] == ("q1", "h1", "y")
    assert m.loc["2020-04", "informed_by"] == ("apr", "h1", "y")
    assert m.loc["2021-02", "informed_by"] == ("q1b",)
    assert m.loc["2020-01":"2020-03", "mean"].sum() == pytest.approx(60.0, rel=3 * REL_SD)
    assert m.loc["2020-04", "mean"] == pytest.approx(22.0, rel=3 * REL_SD)
    assert m.loc["2020-05":"2020-06", "mean"].sum() == pytest.approx(48.0, rel=3 * REL_SD)
    # the simulated case: observed exactly for the months reported singly
    truth, obs2 = make_case(11)
    m2 = fit_latent(obs2, n_paths=200).monthly()
    singles = sorted(p for p, q in zip(obs2.start, obs2.end) if p == q)
    assert list(m2.index[m2.observed]) == singles


def test_periods_and_strings_give_the_same_fit():
    obs = pd.DataFrame({"start": ["2020-01", "2020-01", "2020-07", "2021-01"],
                        "end": ["2020-06", "2020-12", "2020-07", "2021-02"],
                        "value": [100.0, 230.0, 21.0, 40.0]})
    as_periods = obs.assign(start=obs.start.map(M), end=obs.end.map(M))
    a, b = fit_latent(obs), fit_latent(as_periods)
    assert a.params == b.params
    pd.testing.assert_frame_equal(a.monthly(), b.monthly())
    assert a.monthly().loc["2020-07", "informed_by"] == ("2020-07..2020-07", "2020-01..2020-12")


def test_first_and_last_extend_the_modelled_months():
    obs = pd.DataFrame({"start": ["2020-01", "2020-01", "2021-01"], "end": ["2020-06", "2020-12", "2021-12"],
                        "value": [100.0, 230.0, 260.0]})
    fit = fit_latent(obs, first="2019-07", last="2022-03")
    m = fit.monthly()
    assert m.index[0] == M("2019-07") and m.index[-1] == M("2022-03")
    assert m.loc["2019-07":"2019-12", "informed_by"].map(len).eq(0).all()
    assert (m.lo95 > 0).all()
    with pytest.raises(ValueError, match="outside the modelled months"):
        fit_latent(obs, last="2021-06")


# --------------------------------------------------------------------------------------
# the dense posterior is the Kalman smoother's
# --------------------------------------------------------------------------------------

def test_joint_posterior_equals_the_diffuse_kalman_smoother(case):
    """The joint distribution behind the paths (universal kriging with flat level and
    slope) equals statsmodels' exact diffuse Kalman smoother of the same linearised model:
    smoothed means, variances and covariances at lags 1 and 11; and the log-likelihood at
    the estimates is the one maximum likelihood reported."""
    _, _, fit = case
    n = fit.n_months
    endog, design, obs_var = latent._endog(fit.obs, fit.first.ordinal, n, fit._J, fit._ytil, fit._r_var)
    free = [latent.SHOCKS.index(k) for k in fit.params]
    mod = latent._Aggregated(endog, design, obs_var, free, 1.0, fit._kappa)
    res = mod.smooth(np.array(list(fit.params.values())))
    post = fit._post(n)
    z = latent._Z
    np.testing.assert_allclose(res.smoothed_state[z, 1:], post.mean, atol=1e-8)
    np.testing.assert_allclose(res.smoothed_state_cov[z, z, 1:], np.diag(post.cov), atol=1e-9)
    for lag in (1, 11):
        np.testing.assert_allclose(res.smoothed_state_cov[z, z + lag, 1 + lag:],
                                   np.diag(post.cov, -lag), atol=1e-9)
    assert res.llf == pytest.approx(fit.loglike, abs=1e-6)
    # and the mode is a fixed point of the linearisation
    J, ytil = latent._linearise(fit._A, np.log(fit.obs.value.to_numpy()), fit._zmode)
    np.testing.assert_allclose(J, fit._J)
    np.testing.assert_allclose(post.mean[:n], fit._zmode, atol=1e-7)


def test_closed_form_prior_and_window_sums_match_their_definitions():
    n = 40
    q = np.array([1e-4, 1e-6, 2e-4, 3e-3])
    Hd, S = latent._prior(n, q, 0.25)
    phi, imp = latent._impulses(n)
    H = phi[1:]
    ref = H[:, 2:13] @ latent.latent_model._seasonal_prior(0.25) @ H[:, 2:13].T
    for k in range(4):
        G = np.tril(np.array([[imp[i - j, k] if i >= j else 0.0 for j in range(n)] for i in range(n)]))
        ref += q[k] * G @ G.T
    np.testing.assert_allclose(S, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(Hd, H[:, :2])
    starts, ends = np.array([0, 3, 10, 0]), np.array([1, 3, 21, 39])
    X = np.random.default_rng(0).lognormal(size=(n, 5))
    A = np.zeros((4, n))
    for k, (a, b) in enumerate(zip(starts, ends)):
        A[k, a:b + 1] = 1
    np.testing.assert_allclose(latent._window_sums(X, starts, ends), A @ X, rtol=1e-12)


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------

GOOD = {"start": ["2020-01", "2020-01", "2021-01"], "end": ["2020-02", "2020-12", "2021-12"],
        "value": [30.0, 200.0, 220.0]}


@pytest.mark.parametrize("change, message", [
    ({"start": ["2019-01", "2020-01", "2021-01"]}, "at most 12"),
    ({"end": ["2020-02", "2020-12", "2022-01"]}, "at most 12"),
    ({"value": [30.0, 0.0, 220.0]}, "not a positive number"),
    ({"value": [30.0, -5.0, 220.0]}, "not a positive number"),
    ({"value": [30.0, np.nan, 220.0]}, "not a positive number"),
    ({"value": [30.0, "n/a", 220.0]}, "not a positive number"),
    ({"end": ["2019-11", "2020-12", "2021-12"]}, "before it starts"),
    ({"start": ["2020-01", "2020-01", "2020-01"], "end": ["2020-02", "2020-12", "2020-12"]},
     "more than once"),
    ({"start": ["2020-1", "2020-01", "2021-01"]}, "YYYY-MM"),
    ({"start": ["2020-13", "2020-01", "2021-01"]}, "YYYY-MM"),
    ({"start": [pd.Period("2020Q1", freq="Q"), "2020-01", "2021-01"]}, "freq"),
    ({"value": [300.0, 200.0, 220.0]}, "inconsistent reports"),
])
def test_bad_input_is_refused_with_a_clear_error(change, message):
    with pytest.raises(ValueError, match=message):
        fit_latent(pd.DataFrame({**GOOD, **change}))


def test_other_bad_input():
    with pytest.raises(ValueError, match="lacks column"):
        validate(pd.DataFrame({"start": ["2020-01"], "end": ["2020-01"]}))
    with pytest.raises(ValueError, match="no rows"):
        validate(pd.DataFrame({"start": [], "end": [], "value": []}))
    with pytest.raises(ValueError, match="used more than once"):
        validate(pd.DataFrame({**GOOD, "id": ["a", "b", "a"]}))
    with pytest.raises(ValueError, match="rel_sd"):
        validate(pd.DataFrame(GOOD), rel_sd=0.0)
    with pytest.raises(ValueError, match="sd must be a positive"):
        validate(pd.DataFrame({**GOOD, "sd": [0.1, 0.0, 0.1]}))
    with pytest.raises(ValueError, match="two reports ending in different months"):
        fit_latent(pd.DataFrame({"start": ["2020-01"], "end": ["2020-12"], "value": [5.0]}))
    with pytest.raises(ValueError, match="trend"):
        fit_latent(pd.DataFrame(GOOD), trend="quadratic")
    with pytest.raises(ValueError, match="unknown variance"):
        fit_latent(pd.DataFrame(GOOD), params={"noise": 0.1})
    with pytest.raises(ValueError, match="unknown variance"):
        fit_latent(pd.DataFrame(GOOD), trend="smooth", params={"level": 0.1, "irregular": 0.01})
    with pytest.raises(ValueError, match="irregular variance"):
        fit_latent(pd.DataFrame(GOOD), params={"irregular": 0.0})
    fit = fit_latent(pd.DataFrame(GOOD))
    with pytest.raises(ValueError, match="after the last modelled month"):
        fit.forecast("2021-12")
    with pytest.raises(ValueError, match="before the first modelled month"):
        fit.aggregate("2019-12", "2020-03")
    with pytest.raises(ValueError, match="before it starts"):
        fit.aggregate("2020-03", "2020-01")
    with pytest.raises(ValueError, match="between 0 and 100"):
        fit.monthly(levels=(80, 100))
