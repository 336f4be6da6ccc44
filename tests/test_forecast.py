"""Tests for xjtrade.stats.models: hand-computed benchmark forecasts and intervals,
model fallbacks, rolling-origin backtest arithmetic and model choice."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from xjtrade.stats import models as F
from xjtrade.stats.evaluation import BacktestResult, backtest, choose_model
from xjtrade.stats.models import (
    MODEL_ORDER,
    MODELS,
    ForecastResult,
    fit_forecast,
    min_obs,
)

Z80 = 1.2815515655446004
Z95 = 1.959963984540054

# 5-point series used for the hand-computed benchmark forecasts
Y5 = pd.Series([100.0, 110.0, 125.0, 130.0, 150.0], index=range(2019, 2024))


def smooth_exponential(n=20, rate=0.07, noise_sd=0.01, seed=3, start=2001):
    e = np.random.default_rng(seed).normal(0.0, noise_sd, n) if noise_sd else np.zeros(n)
    return pd.Series(100 * (1 + rate) ** np.arange(n) * np.exp(e), index=range(start, start + n))


# ---------------------------------------------------------------------------
# index handling
# ---------------------------------------------------------------------------


def test_forecast_index_is_next_periods():
    res = fit_forecast(Y5, "naive", 3)
    assert isinstance(res, ForecastResult)
    assert list(res.mean.index) == [2024, 2025, 2026]
    assert set(res.intervals) == {80, 95}
    for df in res.intervals.values():
        assert list(df.columns) == ["lower", "upper"]
        assert list(df.index) == [2024, 2025, 2026]


def test_gaps_raise_and_name_missing_periods():
    y = pd.Series([1.0, 2.0, 3.0, 4.0], index=[2000, 2001, 2003, 2005])
    with pytest.raises(ValueError, match=r"2002.*2004"):
        fit_forecast(y, "naive", 1)
    y_nan = pd.Series([1.0, np.nan, 3.0], index=[2000, 2001, 2002])
    with pytest.raises(ValueError, match="2001"):
        fit_forecast(y_nan, "naive", 1)
    with pytest.raises(ValueError, match="2002"):
        backtest(y, ["naive"])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="unknown model"):
        fit_forecast(Y5, "prophet", 1)
    with pytest.raises(ValueError, match="horizon"):
        fit_forecast(Y5, "naive", 0)
    with pytest.raises(TypeError):
        fit_forecast(pd.Series([1.0, 2.0], index=["a", "b"]), "naive", 1)


def test_unsorted_input_is_sorted():
    res = fit_forecast(Y5.iloc[::-1], "naive", 1)
    assert res.mean.iloc[0] == 150.0
    assert res.mean.index[0] == 2024


def test_period_index_supported():
    idx = pd.period_range("2023-01", periods=24, freq="M")
    y = pd.Series(np.arange(1.0, 25.0), index=idx)
    res = fit_forecast(y, "drift", 2)
    assert list(res.mean.index) == list(pd.period_range("2025-01", periods=2, freq="M"))
    assert res.mean.tolist() == pytest.approx([25.0, 26.0])
    gappy = y.drop(pd.Period("2023-05", freq="M"))
    with pytest.raises(ValueError, match="2023-05"):
        fit_forecast(gappy, "naive", 1)


# ---------------------------------------------------------------------------
# benchmark forecasts, by hand
# ---------------------------------------------------------------------------


def test_naive_hand_computed():
    res = fit_forecast(Y5, "naive", 3)
    # residuals e_t = y_t - y_{t-1} = 10, 15, 5, 20; sigma^2 = 750 / 4 = 187.5
    sigma = math.sqrt(187.5)
    assert res.fitted_ok and res.reason == ""
    assert res.mean.tolist() == [150.0, 150.0, 150.0]
    lo95, hi95 = res.intervals[95].iloc[0]
    assert (lo95, hi95) == pytest.approx((150 - Z95 * sigma, 150 + Z95 * sigma), abs=1e-9)
    assert (lo95, hi95) == pytest.approx((123.1621, 176.8379), abs=1e-4)
    # h = 3: sd = sigma * sqrt(3)
    assert res.intervals[95].iloc[2].tolist() == pytest.approx([103.5154, 196.4846], abs=1e-4)
    assert res.intervals[80].iloc[0].tolist() == pytest.approx(
        [150 - Z80 * sigma, 150 + Z80 * sigma], abs=1e-9
    )


def test_drift_hand_computed():
    res = fit_forecast(Y5, "drift", 3)
    # slope = (150 - 100) / 4 = 12.5; differences 10, 15, 5, 20 -> deviations
    # -2.5, 2.5, -7.5, 7.5, sum of squares 125, sigma^2 = 125 / (4 - 1)
    sigma = math.sqrt(125 / 3)
    assert res.mean.tolist() == pytest.approx([162.5, 175.0, 187.5])
    sd1 = sigma * math.sqrt(1 * (1 + 1 / 4))  # T = 5
    sd3 = sigma * math.sqrt(3 * (1 + 3 / 4))
    assert res.intervals[95].iloc[0].tolist() == pytest.approx(
        [162.5 - Z95 * sd1, 162.5 + Z95 * sd1], abs=1e-9
    )
    assert res.intervals[95].iloc[0].tolist() == pytest.approx([148.3552, 176.6448], abs=1e-4)
    assert res.intervals[95].iloc[2].tolist() == pytest.approx([158.5117, 216.4883], abs=1e-4)
    assert res.intervals[95].iloc[2].tolist() == pytest.approx(
        [187.5 - Z95 * sd3, 187.5 + Z95 * sd3], abs=1e-9
    )
    assert res.info["slope"] == pytest.approx(12.5)


def test_mean_growth_hand_computed():
    res = fit_forecast(Y5, "mean_growth", 2)
    logg = [math.log(110 / 100), math.log(125 / 110), math.log(130 / 125), math.log(150 / 130)]
    g = sum(logg) / 4  # = ln(1.5) / 4
    s = statistics.stdev(logg)  # ddof = 1
    assert g == pytest.approx(math.log(1.5) / 4)
    assert res.mean.tolist() == pytest.approx([150 * math.exp(g), 150 * math.exp(2 * g)], rel=1e-12)
    assert res.mean.iloc[0] == pytest.approx(166.0023, abs=1e-4)  # +10.67 % a year
    lo, hi = res.intervals[95].iloc[1]
    assert lo == pytest.approx(150 * math.exp(2 * g - Z95 * s * math.sqrt(2)), rel=1e-12)
    assert hi == pytest.approx(150 * math.exp(2 * g + Z95 * s * math.sqrt(2)), rel=1e-12)
    assert res.info["growth_pct"] == pytest.approx(100 * (1.5**0.25 - 1))


def test_snaive_hand_computed():
    idx = pd.period_range("2023-01", periods=14, freq="M")
    vals = np.array([10, 12, 14, 11, 10, 12, 14, 11, 10, 12, 14, 11, 13, 15], dtype=float)
    y = pd.Series(vals, index=idx)
    res = fit_forecast(y, "snaive", 14, season_length=12)
    # forecasts repeat the last 12 months: Mar-2024 .. Feb-2025 <- Mar-2023 .. Feb-2024
    assert res.mean.tolist()[:12] == vals[2:14].tolist()
    assert res.mean.tolist()[12:] == vals[2:4].tolist()
    # seasonal residuals: y[12] - y[0] = 3, y[13] - y[1] = 3 -> sigma = 3
    assert res.intervals[95].iloc[0].tolist() == pytest.approx([14 - Z95 * 3, 14 + Z95 * 3])
    # h = 13 is in the second season: sd = sigma * sqrt(2)
    assert res.intervals[95].iloc[12].tolist() == pytest.approx(
        [14 - Z95 * 3 * math.sqrt(2), 14 + Z95 * 3 * math.sqrt(2)]
    )
    assert min_obs("snaive", season_length=12) == 13
    short = fit_forecast(y.iloc[:12], "snaive", 1, season_length=12)
    assert not short.fitted_ok
    assert short.reason == "snaive needs at least 13 observations, series has 12"


def test_loglinear_exact_exponential_continuation():
    y = smooth_exponential(n=10, rate=0.08, noise_sd=0.0, start=2010)
    res = fit_forecast(y, "loglinear", 3)
    expected = 100 * 1.08 ** np.arange(10, 13)
    np.testing.assert_allclose(res.mean.to_numpy(), expected, rtol=1e-9)
    for lv in (80, 95):
        np.testing.assert_allclose(res.intervals[lv]["lower"], expected, rtol=1e-6)
        np.testing.assert_allclose(res.intervals[lv]["upper"], expected, rtol=1e-6)
    assert res.info["growth_pct"] == pytest.approx(8.0, abs=1e-9)


def test_loglinear_interval_matches_statsmodels_obs_ci():
    import statsmodels.api as sm

    res = fit_forecast(Y5, "loglinear", 2, levels=(90,))
    t = np.arange(5.0)
    fit = sm.OLS(np.log(Y5.to_numpy()), sm.add_constant(t)).fit()
    sf = fit.get_prediction(sm.add_constant(np.array([5.0, 6.0]), has_constant="add")).summary_frame(
        alpha=0.10
    )
    np.testing.assert_allclose(res.mean, np.exp(sf["mean"]), rtol=1e-12)
    np.testing.assert_allclose(res.intervals[90]["lower"], np.exp(sf["obs_ci_lower"]), rtol=1e-12)
    np.testing.assert_allclose(res.intervals[90]["upper"], np.exp(sf["obs_ci_upper"]), rtol=1e-12)


# ---------------------------------------------------------------------------
# minimum observations, failures
# ---------------------------------------------------------------------------


def test_declared_minimum_observations():
    expected = {"naive": 2, "snaive": 13, "drift": 3, "mean_growth": 3, "loglinear": 4,
                "ets": 6, "ets_damped": 6, "arima": 8}
    assert {m: min_obs(m) for m in expected} == expected
    assert set(MODEL_ORDER) == set(MODELS)


@pytest.mark.parametrize(
    "model,n,reason",
    [
        ("ets", 4, "ets needs at least 6 observations, series has 4"),
        ("ets_damped", 5, "ets_damped needs at least 6 observations, series has 5"),
        ("arima", 7, "arima needs at least 8 observations, series has 7"),
        ("loglinear", 3, "loglinear needs at least 4 observations, series has 3"),
        ("drift", 2, "drift needs at least 3 observations, series has 2"),
        ("naive", 1, "naive needs at least 2 observations, series has 1"),
    ],
)
def test_short_series_not_fitted_with_reason(model, n, reason):
    y = smooth_exponential(n=n, noise_sd=0.0)
    res = fit_forecast(y, model, 2)
    assert res.fitted_ok is False
    assert res.reason == reason
    assert res.mean.isna().all() and len(res.mean) == 2
    assert res.intervals[95].isna().all().all()


def test_log_models_need_positive_values():
    y = pd.Series([5.0, 3.0, 0.0, 2.0, 4.0, 6.0], index=range(2000, 2006))
    res = fit_forecast(y, "mean_growth", 1)
    assert not res.fitted_ok
    assert res.reason == "mean_growth needs strictly positive values (log scale)"
    assert fit_forecast(y, "drift", 1).fitted_ok  # level models are fine


def test_numerical_errors_become_fitted_ok_false(monkeypatch):
    def boom(y, h, levels, **kw):
        raise np.linalg.LinAlgError("Singular matrix")

    spec = MODELS["ets"]
    monkeypatch.setitem(MODELS, "ets", F.ModelSpec("ets", "boom", spec.min_obs, True, "x", "ETS", fn=boom))
    res = fit_forecast(smooth_exponential(), "ets", 2)
    assert not res.fitted_ok
    assert res.reason == "LinAlgError: Singular matrix"


def test_non_finite_forecast_is_reported(monkeypatch):
    def nan_model(y, h, levels, **kw):
        m = np.full(h, np.nan)
        return m, {lv: (m, m) for lv in levels}, {}

    monkeypatch.setitem(MODELS, "naive", F.ModelSpec("naive", "nan_model", lambda kw: 2, False, "x", "naive", fn=nan_model))
    res = fit_forecast(Y5, "naive", 1)
    assert not res.fitted_ok and "non-finite" in res.reason


# ---------------------------------------------------------------------------
# ETS / ARIMA on a realistic series
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smooth20():
    return smooth_exponential(n=20, rate=0.07, noise_sd=0.01, seed=3)


@pytest.fixture(scope="module")
def fits20(smooth20):
    return {m: fit_forecast(smooth20, m, 3) for m in MODELS if m != "snaive"}


@pytest.mark.parametrize("model", ["ets", "ets_damped", "arima", "loglinear", "mean_growth"])
def test_sensible_forecast_on_smooth_exponential(fits20, model):
    res = fits20[model]
    assert res.fitted_ok, res.reason
    truth = 100 * 1.07 ** np.arange(20, 23)
    np.testing.assert_allclose(res.mean.to_numpy(), truth, rtol=0.10)
    assert list(res.mean.index) == [2021, 2022, 2023]


def test_ets_and_arima_details(fits20):
    ets = fits20["ets"]
    assert isinstance(ets.info["damped"], bool)
    # damped chosen only if its AICc is lower
    if ets.info["damped"]:
        assert ets.info["aicc_damped"] < ets.info["aicc_undamped"]
    else:
        assert not ets.info["aicc_damped"] < ets.info["aicc_undamped"]
    assert fits20["ets_damped"].info["damped"] is True
    ar = fits20["arima"]
    p, d, q = ar.info["order"]
    assert 0 <= p <= 2 and 0 <= q <= 2 and d in (0, 1)
    # a steadily growing series is not level-stationary: KPSS -> d = 1 (with drift)
    assert d == 1 and ar.info["drift"] is True
    best = min(c[2] for c in ar.info["candidates"])
    assert ar.info["aicc"] == pytest.approx(best)


def test_ets_on_six_points_defaults_to_undamped():
    # 6 points: AICc has no degrees of freedom left for either variant
    y = pd.Series(100 * 1.1 ** np.arange(6) * np.exp(np.random.default_rng(6).normal(0, 0.05, 6)),
                  index=range(2010, 2016))
    res = fit_forecast(y, "ets", 2)
    assert res.fitted_ok
    assert res.info["damped"] is False
    assert math.isinf(res.info["aicc_undamped"]) and math.isinf(res.info["aicc_damped"])
    assert res.info["selection"].startswith("AICc undefined")
    # forecast keeps growing roughly at the sample rate (~10 %)
    assert 1.0 < res.mean.iloc[0] / y.iloc[-1] < 1.25


def test_intervals_nested_and_ordered(fits20):
    for name, res in fits20.items():
        assert res.fitted_ok, (name, res.reason)
        lo80, hi80 = res.intervals[80]["lower"], res.intervals[80]["upper"]
        lo95, hi95 = res.intervals[95]["lower"], res.intervals[95]["upper"]
        assert (lo95 < lo80).all() and (hi80 < hi95).all(), name
        assert (lo80 < res.mean).all() and (res.mean < hi80).all(), name
        # uncertainty does not shrink with the horizon
        assert (np.diff(hi95 - lo95) >= -1e-9).all(), name
        assert (lo95 > 0).all() or name in ("naive", "drift"), name


def test_forecasts_are_deterministic(smooth20):
    a = fit_forecast(smooth20, "ets", 2)
    b = fit_forecast(smooth20, "ets", 2)
    pd.testing.assert_series_equal(a.mean, b.mean)
    pd.testing.assert_frame_equal(a.intervals[95], b.intervals[95])


# ---------------------------------------------------------------------------
# backtest
# ---------------------------------------------------------------------------


def test_backtest_hand_worked_naive():
    y = pd.Series([10.0, 12.0, 11.0, 13.0, 15.0])  # index 0..4
    bt = backtest(y, ["naive"], horizon=1, min_train=2)
    assert isinstance(bt, BacktestResult)
    f = bt.forecasts
    # origins: train [10,12] -> 12 vs 11; [10,12,11] -> 11 vs 13; [..,13] -> 13 vs 15
    assert f["n_train"].tolist() == [2, 3, 4]
    assert f["origin"].tolist() == [1, 2, 3]
    assert f["period"].tolist() == [2, 3, 4]
    assert f["forecast"].tolist() == [12.0, 11.0, 13.0]
    assert f["actual"].tolist() == [11.0, 13.0, 15.0]
    assert f["error"].tolist() == [-1.0, 2.0, 2.0]
    # MASE scales: mean |diff| of each training set = 2, (2+1)/2, (2+1+2)/3
    scales = [2.0, 1.5, 5 / 3]
    np.testing.assert_allclose(f["scaled_error"], [-1 / 2.0, 2 / 1.5, 2 / (5 / 3)])
    s = bt.summary.loc["naive"]
    assert s.n_forecasts == 3
    assert s.MAE == pytest.approx((1 + 2 + 2) / 3)
    assert s.RMSE == pytest.approx(math.sqrt((1 + 4 + 4) / 3))
    assert s.MAPE == pytest.approx(100 * (1 / 11 + 2 / 13 + 2 / 15) / 3)
    assert s.MAPE == pytest.approx(12.60295, abs=1e-5)
    assert s.MASE == pytest.approx((1 / scales[0] + 2 / scales[1] + 2 / scales[2]) / 3)
    assert s.MASE == pytest.approx(1.011111, abs=1e-6)
    # first origin: one residual (2) -> sigma = 2; 80 % interval 12 -/+ 1.2816 * 2
    assert f[["lower_80", "upper_80"]].iloc[0].tolist() == pytest.approx(
        [12 - Z80 * 2, 12 + Z80 * 2]
    )
    # all three actuals fall inside: 11 in [9.44, 14.56], 13 in [8.97, 13.03], 15 in [10.78, 15.22]
    assert s.coverage_80 == 1.0 and s.coverage_95 == 1.0
    assert bool(s.evaluable) and bool(s.complete) and s.reason == ""
    assert bt.min_train == 2 and bt.horizon == 1


def test_backtest_columns_and_multi_step_rows():
    y = smooth_exponential(n=12, noise_sd=0.05, seed=5)
    bt = backtest(y, ["naive", "drift", "mean_growth", "loglinear"], horizon=3)
    assert bt.min_train == 4  # largest minimum among the requested models
    n_origins = 12 - 3 - 4 + 1
    assert list(bt.forecasts.columns) == [
        "model", "origin", "n_train", "h", "period", "actual", "forecast", "error",
        "scaled_error", "lower_80", "upper_80", "lower_95", "upper_95",
    ]
    assert len(bt.forecasts) == 4 * n_origins * 3
    assert (bt.summary["n_forecasts"] == n_origins * 3).all()
    assert (bt.summary["n_origins"] == n_origins).all()
    for col in ("coverage_80", "coverage_95"):
        assert bt.summary[col].between(0, 1).all()
    assert (bt.summary["coverage_95"] >= bt.summary["coverage_80"]).all()
    # forecast error is actual - forecast, and period = origin + h
    f = bt.forecasts
    np.testing.assert_allclose(f["error"], f["actual"] - f["forecast"])
    assert (f["period"] == f["origin"] + f["h"]).all()
    # summary MASE is the mean absolute scaled error of the rows
    for m, sub in f.groupby("model"):
        assert bt.summary.loc[m, "MASE"] == pytest.approx(sub["scaled_error"].abs().mean())
    # by-horizon table is consistent with the rows
    bh = bt.by_horizon.set_index(["model", "h"])
    sub = f[(f["model"] == "drift") & (f["h"] == 2)]
    assert bh.loc[("drift", 2), "MAE"] == pytest.approx(sub["error"].abs().mean())


def test_backtest_model_never_fitted_is_not_evaluable():
    y = pd.Series([10.0, 12.0, 11.0, 13.0, 15.0, 14.0])
    bt = backtest(y, ["naive", "arima"], horizon=1, min_train=2)
    s = bt.summary
    assert bool(s.loc["naive", "evaluable"]) and s.loc["naive", "n_forecasts"] == 4
    assert not bool(s.loc["arima", "evaluable"])
    assert s.loc["arima", "n_forecasts"] == 0 and math.isnan(s.loc["arima", "MASE"])
    assert s.loc["arima", "reason"].startswith("never fitted at any of 4 origins")
    assert "arima needs at least 8 observations" in s.loc["arima", "reason"]
    assert len(bt.failures) == 4
    name, reason = choose_model(s)
    assert name == "naive" and "naive" in reason


def test_backtest_too_short_has_no_origin():
    bt = backtest(pd.Series([1.0, 2.0]), ["naive", "drift"], horizon=1)
    assert bt.forecasts.empty
    assert not bt.summary["evaluable"].any()
    assert "no forecast origin" in bt.summary.loc["naive", "reason"]
    assert choose_model(bt.summary) == (
        "naive", "no evaluable model with a finite MASE; falling back to naive"
    )


# ---------------------------------------------------------------------------
# choose_model
# ---------------------------------------------------------------------------


def test_choose_model_prefers_drift_on_a_straight_line():
    y = pd.Series(10.0 + 2.0 * np.arange(12), index=range(2010, 2022))
    bt = backtest(y, ["naive", "drift", "mean_growth"], horizon=2)
    assert bt.summary.loc["drift", "MASE"] == pytest.approx(0.0, abs=1e-12)
    assert bt.summary.loc["naive", "MASE"] > 1.0  # errors 2 and 4 on a scale of 2
    name, reason = choose_model(bt.summary)
    assert name == "drift"
    assert "lowest MASE" in reason
    assert choose_model(bt.summary, metric="RMSE")[0] == "drift"


def _summary(rows):
    return pd.DataFrame(rows).set_index("model")


def test_choose_model_tie_goes_to_simpler_model():
    s = _summary([
        {"model": "arima", "evaluable": True, "complete": True, "MASE": 0.5, "n_forecasts": 5},
        {"model": "ets", "evaluable": True, "complete": True, "MASE": 0.5, "n_forecasts": 5},
        {"model": "drift", "evaluable": True, "complete": True, "MASE": 0.5, "n_forecasts": 5},
        {"model": "naive", "evaluable": True, "complete": True, "MASE": 0.9, "n_forecasts": 5},
    ])
    name, reason = choose_model(s)
    assert name == "drift"
    assert "tied" in reason


def test_choose_model_skips_unevaluable_and_incomplete():
    s = _summary([
        {"model": "naive", "evaluable": True, "complete": True, "MASE": 1.2, "n_forecasts": 5},
        {"model": "ets", "evaluable": True, "complete": False, "MASE": 0.3, "n_forecasts": 2},
        {"model": "arima", "evaluable": False, "complete": False, "MASE": np.nan, "n_forecasts": 0},
    ])
    name, reason = choose_model(s)
    assert name == "naive"
    assert "ets" in reason  # explains why the lower-MASE model was ignored
    with pytest.raises(ValueError):
        choose_model(s, metric="coverage_95")
