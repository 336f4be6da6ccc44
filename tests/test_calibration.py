"""Calibrated intervals: the widening keeps the mean, the conformal factor follows its definition,
calibrated intervals reach their nominal coverage on simulated data of known volatility, and the
calibration at a vintage uses no actual published after it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xjtrade.stats import calibration as cal
from xjtrade.stats import pseudo_real_time as prt


def test_widen_keeps_the_mean_and_stretches_the_log_spread():
    rng = np.random.default_rng(1)
    draws = 50.0 + np.exp(3.0 + 0.1 * rng.standard_normal(20000))
    out = cal.widen(draws, 50.0, 2.0)
    assert out.mean() == pytest.approx(draws.mean(), rel=1e-12)
    assert cal.log_spread(out - 50.0)[1] == pytest.approx(2 * cal.log_spread(draws - 50.0)[1], rel=1e-9)
    assert (out > 50.0).all()
    np.testing.assert_array_equal(cal.widen(draws, 50.0, 1.0), draws)
    with pytest.raises(ValueError, match="not above the known"):
        cal.widen(np.array([40.0, 60.0]), 50.0, 2.0)


def test_inflation_by_hand():
    # 10 errors: the ceil(11 * 0.8) = 9th smallest |z| is 9 / 4 -> factor 2.25 / 1.2816
    z = np.arange(1, 11) / 4 * np.array([1, -1] * 5)
    k, n = cal.inflation(z)
    assert n == 10 and k == pytest.approx(2.25 / cal.Z80)
    assert cal.inflation(z[:7]) == (1.0, 7)                        # fewer than MIN_PAST: left alone
    assert cal.inflation(np.full(12, 0.1))[0] == 1.0              # never narrower
    assert cal.inflation(np.full(12, 100.0))[0] == cal.K_MAX      # capped


def test_growth_volatility_uses_every_consecutive_pair():
    annual = {2000: 100.0, 2001: 110.0, 2002: 99.0, 2004: 120.0, 2005: 150.0}
    g = [math.log(1.1), math.log(0.9), math.log(1.25)]
    sigma, n = cal.growth_volatility(annual, {})
    assert n == 3 and sigma == pytest.approx(np.std(g, ddof=1))
    assert math.isnan(cal.growth_volatility(annual, {}, before=2003)[0])


def test_calibrated_intervals_reach_nominal_coverage_on_simulated_data():
    """A forecaster whose spread is 3 times too small: after the conformal factor from the errors
    seen so far, its 80 % and 95 % intervals cover close to nominal; before, far below."""
    rng = np.random.default_rng(7)
    true_sd, model_sd, n_draws = 0.15, 0.05, 4000
    past, raw80, cal80, cal95 = [], [], [], []
    for i in range(400):
        draws = 100.0 * np.exp(model_sd * rng.standard_normal(n_draws))
        actual = 100.0 * math.exp(true_sd * rng.standard_normal())
        k, _ = cal.inflation(past)
        d = cal.widen(draws, 0.0, k)
        med, s = cal.log_spread(draws)
        past.append((math.log(actual) - med) / s)
        if i >= 50:
            q = np.quantile(d, [0.1, 0.9, 0.025, 0.975])
            raw80.append(np.quantile(draws, 0.1) <= actual <= np.quantile(draws, 0.9))
            cal80.append(q[0] <= actual <= q[1])
            cal95.append(q[2] <= actual <= q[3])
    assert np.mean(raw80) < 0.4
    assert abs(np.mean(cal80) - 0.80) < 0.06
    assert abs(np.mean(cal95) - 0.95) < 0.04


def test_years_ahead_floor_from_the_long_history():
    calib = {"sigma": 0.2, "k": {}}
    kf, kc = prt._factors("naive", "years ahead", 2025, 2025, 0, 0.05, calib)
    assert kf == pytest.approx(0.2 / 0.05) and kc == 1.0
    kf, _ = prt._factors("naive", "years ahead", 2026, 2025, 6, 0.05, calib)
    assert kf == pytest.approx(0.2 * math.sqrt(1.5) / 0.05)
    assert prt._factors("share_mean", "within year", 2025, 2025, 6, 0.05, calib) == (1.0, 1.0)


def test_calibration_uses_no_actual_published_after_the_vintage():
    """A planted past error with a huge z published after the vintage changes nothing; published
    before it, it enters the factor."""
    from xjtrade.data.estimates import Evidence

    ev = Evidence(annual={y: 100.0 * 1.1 ** (y - 2010) for y in range(2010, 2020)})
    rows = [{"model": "naive", "use": "within year", "vintage": f"2019-0{1 + i % 9}-01",
             "actual_published": "2019-10-01", "z": 0.5, "months_known": 3, "horizon": 9} for i in range(8)]
    planted = [{"model": "naive", "use": "within year", "vintage": "2019-09-01",
                "actual_published": "2020-02-01", "z": 50.0, "months_known": 3, "horizon": 9}] * 3
    at = prt.calibration_at(rows + planted, "2020-01-31", ev)
    assert at["k"][("naive", "within year")] == 1.0
    assert at == prt.calibration_at(rows, "2020-01-31", ev)
    later = prt.calibration_at(rows + planted, "2020-02-01", ev)
    # 11 errors: the ceil(12 * 0.8) = 10th smallest is 50, over the cap
    assert later["k"][("naive", "within year")] == cal.K_MAX
    assert at["sigma"] == pytest.approx(0.0, abs=1e-12) and at["n_sigma"] == 9


def test_latent_adapter_observations_and_paths():
    from xjtrade.data.estimates import Evidence
    from xjtrade.stats.latent_adapter import latent_paths, observations

    rng = np.random.default_rng(3)
    season = np.array([0.7, 0.7, 1.0, 1.0, 1.0, 1.1, 1.1, 1.1, 1.0, 1.0, 1.1, 1.2])
    months = {y: 10 * 1.05 ** (y - 2011) * season * np.exp(0.03 * rng.standard_normal(12)) for y in range(2011, 2020)}
    ev = Evidence(annual={y: float(m.sum()) for y, m in months.items() if y < 2019},
                  ytd={(y, k): float(months[y][:k].sum()) for y in (2017, 2018, 2019) for k in (2, 5, 8)})
    obs = observations(ev)
    assert len(obs) == 8 + 9 and obs["id"].is_unique
    assert set(obs.loc[obs["end"] == "2019-05", "start"]) == {"2019-01"}
    p = latent_paths(ev, 2020, 300, 1)
    # the reported windows are reproduced by every path; later ones are forecasts around the trend
    np.testing.assert_allclose(p.ytd_draws(2019, 8), ev.ytd[(2019, 8)], rtol=5e-3)
    np.testing.assert_allclose(p.annual_draws(2018), ev.annual[2018], rtol=5e-3)
    assert abs(np.mean(p.annual_draws(2019)) / months[2019].sum() - 1) < 0.1
    assert (p.annual_draws(2020) > 0).all()
    with pytest.raises(KeyError):
        p.ytd_draws(2021, 3)
