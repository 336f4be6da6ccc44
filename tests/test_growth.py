"""Tests for xjtrade.stats.growth: hand-computed values, known-growth simulations,
and hypothesis properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import statsmodels.api as sm

from xjtrade.stats.growth import (
    BreakResult,
    TrendResult,
    cagr,
    cagr_table,
    contributions,
    default_hac_maxlags,
    growth_gap,
    structural_break,
    trend_growth,
    yoy,
)

# derandomize: same examples on every run; database=None: nothing written to disk
HSETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None)


def geometric(rate: float, years, base: float = 100.0, noise_sd: float = 0.0, seed: int = 0):
    years = list(years)
    t = np.arange(len(years))
    e = np.random.default_rng(seed).normal(0.0, noise_sd, len(years)) if noise_sd else 0.0
    return pd.Series(base * (1 + rate) ** t * np.exp(e), index=years)


# ---------------------------------------------------------------------------
# yoy
# ---------------------------------------------------------------------------


def test_yoy_hand_computed():
    s = pd.Series([244.92, 357.33], index=[2020, 2021])
    out = yoy(s)
    assert math.isnan(out.loc[2020])
    # 357.33 / 244.92 - 1 = 0.458966...
    assert out.loc[2021] == pytest.approx(45.8966, abs=1e-4)
    assert round(out.loc[2021], 1) == 45.9


def test_yoy_gap_gives_nan_not_multi_year_change():
    s = pd.Series([100.0, 110.0, 150.0, 165.0], index=[2015, 2016, 2019, 2020])
    out = yoy(s)
    assert out.loc[2016] == pytest.approx(10.0)
    assert math.isnan(out.loc[2019])  # 2018 missing: no 3-year change labelled as one year
    assert out.loc[2020] == pytest.approx(10.0)
    assert list(out.index) == [2015, 2016, 2019, 2020]


def test_yoy_nan_value_zero_base_and_unsorted_index():
    s = pd.Series([120.0, np.nan, 100.0, 0.0, 5.0], index=[2012, 2011, 2010, 2013, 2014])
    out = yoy(s)
    assert list(out.index) == [2010, 2011, 2012, 2013, 2014]
    assert math.isnan(out.loc[2011])  # value missing
    assert math.isnan(out.loc[2012])  # previous value missing
    assert out.loc[2013] == pytest.approx(-100.0)
    assert math.isnan(out.loc[2014])  # zero base -> undefined, not inf


def test_yoy_accepts_whole_float_index_and_rejects_others():
    out = yoy(pd.Series([100.0, 105.0], index=[2020.0, 2021.0]))
    assert list(out.index) == [2020, 2021]
    assert out.loc[2021] == pytest.approx(5.0)
    with pytest.raises(TypeError):
        yoy(pd.Series([1.0, 2.0], index=["a", "b"]))
    with pytest.raises(ValueError, match="duplicate"):
        yoy(pd.Series([1.0, 2.0], index=[2020, 2020]))


# ---------------------------------------------------------------------------
# cagr
# ---------------------------------------------------------------------------


def test_cagr_hand_computed():
    s = pd.Series([100.0, 110.0, 121.0], index=[2018, 2019, 2020])
    assert cagr(s, 2018, 2020) == pytest.approx(10.0, abs=1e-12)
    # 244.92 -> 357.33 in one year equals the yoy
    s2 = pd.Series([244.92, 357.33], index=[2020, 2021])
    assert cagr(s2, 2020, 2021) == pytest.approx(45.8966, abs=1e-4)
    # halving over 2 years: sqrt(0.5) - 1 = -29.289 %
    s3 = pd.Series([200.0, 100.0], index=[2000, 2002])
    assert cagr(s3, 2000, 2002) == pytest.approx(-29.28932, abs=1e-5)


def test_cagr_errors_name_the_missing_year():
    s = pd.Series([100.0, 121.0, np.nan], index=[2018, 2020, 2021])
    with pytest.raises(ValueError, match="2019"):
        cagr(s, 2019, 2020)
    with pytest.raises(ValueError, match="2021"):
        cagr(s, 2018, 2021)  # NaN counts as missing
    with pytest.raises(ValueError, match="after"):
        cagr(s, 2020, 2018)
    with pytest.raises(ValueError, match="positive"):
        cagr(pd.Series([0.0, 5.0], index=[1, 2]), 1, 2)


def test_cagr_table_rows_and_notes():
    s = pd.Series([100.0, 110.0, 121.0, 133.1], index=[2010, 2011, 2012, 2013])
    tab = cagr_table(s, [(2010, 2012), (2010, 2015), (2009, 2013), (2011, 2013)])
    assert list(tab.columns) == [
        "start", "end", "years", "start_value", "end_value", "cagr_pct", "note",
    ]
    assert len(tab) == 4
    r0 = tab.iloc[0]
    assert (r0.start, r0.end, r0.years) == (2010, 2012, 2)
    assert r0.start_value == 100.0 and r0.end_value == 121.0
    assert r0.cagr_pct == pytest.approx(10.0)
    assert r0.note == ""
    assert math.isnan(tab.iloc[1].cagr_pct) and "2015" in tab.iloc[1].note
    assert math.isnan(tab.iloc[1].end_value)
    assert math.isnan(tab.iloc[2].cagr_pct) and "2009" in tab.iloc[2].note
    assert tab.iloc[3].cagr_pct == pytest.approx(10.0)


# ---------------------------------------------------------------------------
# trend_growth
# ---------------------------------------------------------------------------


def test_default_hac_maxlags():
    assert default_hac_maxlags(15) == 2  # floor(4 * 0.15**(2/9)) = floor(2.62)
    assert default_hac_maxlags(3) == 1  # floor(1.83) = 1
    assert default_hac_maxlags(100) == 4
    assert default_hac_maxlags(1) == 1  # floor(1.43) but at least 1


def test_trend_growth_noise_free_is_exact():
    s = geometric(0.08, range(2010, 2025))
    res = trend_growth(s)
    assert isinstance(res, TrendResult)
    assert res.growth_pct == pytest.approx(8.0, abs=1e-9)
    assert res.ci_high - res.ci_low < 1e-6
    assert res.ci_low <= 8.0 + 1e-9 and res.ci_high >= 8.0 - 1e-9
    assert res.r2 == pytest.approx(1.0)
    assert res.slope == pytest.approx(math.log(1.08), abs=1e-12)
    assert (res.n_obs, res.start, res.end, res.level) == (15, 2010, 2024, 0.95)
    assert res.maxlags == 2
    assert res.note == ""
    pd.testing.assert_series_equal(res.fitted, s, check_names=False, rtol=1e-10)


def test_trend_growth_recovers_8pct_from_noisy_series():
    # y_t = 100 * 1.08^t * exp(e_t), e_t ~ N(0, 0.02), 15 years
    s = geometric(0.08, range(2010, 2025), noise_sd=0.02, seed=42)
    res = trend_growth(s)
    assert abs(res.growth_pct - 8.0) < 1.0
    assert res.ci_low < 8.0 < res.ci_high
    assert res.ci_low < res.growth_pct < res.ci_high
    # interval is informative: a few tenths of a point, not tens of points
    assert 0.1 < res.ci_high - res.ci_low < 1.5
    assert res.slope_se == max(res.slope_se_hac, res.slope_se_ols)


def test_trend_growth_interval_coverage_over_many_seeds():
    """Nominal 95 % interval must actually cover 8 % most of the time.

    With the pure Newey-West s.e. coverage is ~86-89 % at n=15 (documented
    small-sample bias); the default se_rule="max" must be close to nominal."""
    years = range(2010, 2025)
    hits_max = hits_hac = 0
    estimates = []
    n_sim = 200
    for seed in range(n_sim):
        s = geometric(0.08, years, noise_sd=0.02, seed=seed)
        r = trend_growth(s)
        h = trend_growth(s, se_rule="hac")
        hits_max += r.ci_low <= 8.0 <= r.ci_high
        hits_hac += h.ci_low <= 8.0 <= h.ci_high
        estimates.append(r.growth_pct)
    assert hits_max / n_sim >= 0.92
    assert hits_hac <= hits_max
    assert abs(np.mean(estimates) - 8.0) < 0.05  # unbiased on the log scale
    assert np.max(np.abs(np.array(estimates) - 8.0)) < 1.0


def test_trend_growth_hac_matches_statsmodels_directly():
    s = geometric(0.05, range(2000, 2012), noise_sd=0.03, seed=7)
    res = trend_growth(s, se_rule="hac", level=0.9)
    t = np.arange(2000, 2012, dtype=float) - 2000
    ref = sm.OLS(np.log(s.to_numpy()), sm.add_constant(t)).fit(
        cov_type="HAC", cov_kwds={"maxlags": 2, "use_correction": True}, use_t=True
    )
    lo, hi = np.asarray(ref.conf_int(alpha=0.10))[1]
    assert res.slope == pytest.approx(ref.params[1], rel=1e-12)
    assert res.slope_se == pytest.approx(ref.bse[1], rel=1e-12)
    assert res.ci_low == pytest.approx(100 * math.expm1(lo), rel=1e-10)
    assert res.ci_high == pytest.approx(100 * math.expm1(hi), rel=1e-10)
    assert res.level == 0.9


def test_trend_growth_with_gaps_uses_actual_years():
    s = geometric(0.08, range(2010, 2025)).drop([2013, 2014, 2020])
    res = trend_growth(s)
    assert res.growth_pct == pytest.approx(8.0, abs=1e-9)  # not 8 % per observation
    assert res.n_obs == 12
    assert "2013" in res.note and "2020" in res.note
    assert list(res.fitted.index) == list(s.index)


def test_trend_growth_window_and_short_series():
    s = geometric(0.10, range(2010, 2020))
    res = trend_growth(s, start=2012, end=2015)
    assert (res.start, res.end, res.n_obs) == (2012, 2015, 4)
    assert res.growth_pct == pytest.approx(10.0, abs=1e-9)
    assert "unreliable" in res.note
    with pytest.raises(ValueError, match="at least 3"):
        trend_growth(s, start=2018)
    with pytest.raises(ValueError, match="at least 3"):
        trend_growth(pd.Series([1.0, np.nan, 2.0, np.nan], index=[1, 2, 3, 4]))


def test_trend_growth_rejects_non_positive():
    s = pd.Series([100.0, 0.0, 120.0, 130.0], index=[2000, 2001, 2002, 2003])
    with pytest.raises(ValueError, match="positive"):
        trend_growth(s)


# ---------------------------------------------------------------------------
# structural_break
# ---------------------------------------------------------------------------


def _two_regime_series(g_before, g_after, break_year, years, noise_sd, seed):
    years = list(years)
    rng = np.random.default_rng(seed)
    logy, level = [], math.log(100.0)
    for i, yr in enumerate(years):
        if i > 0:
            level += math.log(1 + (g_after if yr >= break_year else g_before))
        logy.append(level)
    logy = np.array(logy) + rng.normal(0.0, noise_sd, len(years))
    return pd.Series(np.exp(logy), index=years)


def test_structural_break_detects_acceleration():
    s = _two_regime_series(0.05, 0.30, 2020, range(2008, 2025), 0.02, seed=1)
    res = structural_break(s, 2020)
    assert isinstance(res, BreakResult)
    assert res.testable and res.reason == ""
    assert res.p_value < 0.01
    assert (res.n_before, res.n_after) == (12, 5)  # 2020 counted in "after"
    assert (res.df_num, res.df_denom) == (2, 13)
    assert res.growth_before_pct == pytest.approx(5.0, abs=1.0)
    assert res.growth_after_pct == pytest.approx(30.0, abs=3.0)


def test_structural_break_f_matches_statsmodels_f_test():
    s = _two_regime_series(0.05, 0.10, 2018, range(2008, 2025), 0.03, seed=3)
    res = structural_break(s, 2018)
    t = s.index.to_numpy(dtype=float) - 2018
    D = (t >= 0).astype(float)
    X = np.column_stack([np.ones_like(t), t, D, D * t])
    fit = sm.OLS(np.log(s.to_numpy()), X).fit()
    ft = fit.f_test(np.array([[0, 0, 1, 0], [0, 0, 0, 1]]))
    assert res.f_stat == pytest.approx(float(np.squeeze(ft.fvalue)), rel=1e-8)
    assert res.p_value == pytest.approx(float(ft.pvalue), rel=1e-8)
    assert res.slope_before == pytest.approx(fit.params[1], rel=1e-8)
    assert res.slope_after == pytest.approx(fit.params[1] + fit.params[3], rel=1e-8)


def test_structural_break_no_break_is_not_rejected():
    s = geometric(0.08, range(2008, 2025), noise_sd=0.03, seed=11)
    res = structural_break(s, 2020)
    assert res.testable
    assert res.p_value > 0.05
    assert res.growth_before_pct == pytest.approx(8.0, abs=2.0)


def test_structural_break_size_is_nominal():
    """Under constant growth with iid noise the 5 % test rejects ~5 % of the time."""
    rejections = 0
    n_sim = 300
    for seed in range(n_sim):
        s = geometric(0.08, range(2008, 2025), noise_sd=0.03, seed=seed)
        rejections += structural_break(s, 2019).p_value < 0.05
    assert 0.02 <= rejections / n_sim <= 0.09


def test_structural_break_too_short_is_not_testable():
    s = geometric(0.08, range(2015, 2022))  # 2015..2021
    res = structural_break(s, 2021)  # only 1 point from 2021 on
    assert res.testable is False
    assert res.reason == ("the series has only 1 year from 2021 on; the test needs at least 3 years on each "
                          "side of the break")
    assert math.isnan(res.p_value) and math.isnan(res.f_stat)
    res2 = structural_break(s, 2016)  # only 2015 before
    assert not res2.testable and res2.reason.startswith("the series has only 1 year before 2016;")
    assert (res2.n_before, res2.n_after) == (1, 6)
    res3 = structural_break(geometric(0.08, range(2015, 2019)), 2017)  # 2 + 2 = 4 points
    assert not res3.testable and "only 2 years before 2017 and only 2 years from 2017 on" in res3.reason
    assert (res3.n_before, res3.n_after) == (2, 2)
    res4 = structural_break(s, 2014)
    assert not res4.testable and res4.reason.startswith("the series has no year before 2014;")


def test_structural_break_refuses_two_points_after_the_break_and_takes_three():
    """Issue 21: a "significant break" from 2022 rested on two points after it (2022 and 2023): with two
    points the after-segment is fitted exactly, so the test needs at least three on each side."""
    s = _two_regime_series(0.05, 0.40, 2022, range(2008, 2024), 0.01, seed=2)   # 14 before, 2 from 2022
    two = structural_break(s, 2022)
    assert not two.testable and (two.n_before, two.n_after) == (14, 2)
    assert "only 2 years from 2022 on" in two.reason and math.isnan(two.p_value)
    s3 = _two_regime_series(0.05, 0.40, 2021, range(2008, 2024), 0.01, seed=2)   # 13 before, 3 from 2021
    three = structural_break(s3, 2021)
    assert three.testable and (three.n_before, three.n_after) == (13, 3)
    assert three.p_value < 0.01 and three.growth_after_pct == pytest.approx(40.0, abs=5.0)
    short_before = structural_break(s3, 2010)                                     # 2008, 2009 before
    assert not short_before.testable and (short_before.n_before, short_before.n_after) == (2, 14)


def test_structural_break_exact_data_is_flagged_not_crashing():
    res = structural_break(geometric(0.08, range(2010, 2020)), 2015)
    assert res.testable
    assert math.isnan(res.p_value)
    assert "exactly" in res.reason
    bent = _two_regime_series(0.05, 0.30, 2015, range(2010, 2020), 0.0, seed=0)
    res2 = structural_break(bent, 2015)
    assert res2.p_value == 0.0 and res2.growth_after_pct == pytest.approx(30.0, abs=1e-6)


# ---------------------------------------------------------------------------
# contributions, growth_gap
# ---------------------------------------------------------------------------


def test_contributions_hand_computed():
    T = pd.Series([100.0, 120.0], index=[2020, 2021])
    X = pd.Series([60.0, 80.0], index=[2020, 2021])
    M = pd.Series([40.0, 40.0], index=[2020, 2021])
    out = contributions(T, X, M)
    assert list(out.columns) == ["total_yoy", "contrib_x", "contrib_m", "residual"]
    row = out.loc[2021]
    assert row.total_yoy == pytest.approx(20.0)
    assert row.contrib_x == pytest.approx(20.0)
    assert row.contrib_m == pytest.approx(0.0)
    assert row.residual == pytest.approx(0.0, abs=1e-12)
    assert out.loc[2020].isna().all()


def test_contributions_residual_when_parts_do_not_add_up():
    # published total 120 but exports + imports = 75 + 40 = 115
    T = pd.Series([100.0, 120.0, 90.0], index=[2020, 2021, 2023])
    X = pd.Series([60.0, 75.0, 50.0], index=[2020, 2021, 2023])
    M = pd.Series([40.0, 40.0, 40.0], index=[2020, 2021, 2023])
    out = contributions(T, X, M)
    assert out.loc[2021, "contrib_x"] == pytest.approx(15.0)
    assert out.loc[2021, "contrib_m"] == pytest.approx(0.0)
    assert out.loc[2021, "residual"] == pytest.approx(5.0)
    assert out.loc[2023].isna().all()  # 2022 missing: no two-year change


def test_contributions_negative_import_contribution():
    T = pd.Series([200.0, 210.0], index=[1, 2])
    X = pd.Series([120.0, 150.0], index=[1, 2])
    M = pd.Series([80.0, 60.0], index=[1, 2])
    out = contributions(T, X, M).loc[2]
    assert (out.total_yoy, out.contrib_x, out.contrib_m) == pytest.approx((5.0, 15.0, -10.0))


def test_growth_gap():
    r = pd.Series([10.0, 45.9, np.nan], index=[2020, 2021, 2022])
    n = pd.Series([1.9, 21.4, 7.7], index=[2020, 2021, 2022])
    out = growth_gap(r, n)
    assert list(out.columns) == ["regional_yoy", "national_yoy", "gap_pts"]
    assert out.loc[2020, "gap_pts"] == pytest.approx(8.1)
    assert out.loc[2021, "gap_pts"] == pytest.approx(24.5)
    assert math.isnan(out.loc[2022, "gap_pts"])


# ---------------------------------------------------------------------------
# hypothesis properties
# ---------------------------------------------------------------------------

positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@HSETTINGS
@given(
    base=positive,
    ratios=st.lists(st.floats(min_value=0.05, max_value=20.0), min_size=1, max_size=19),
    start=st.integers(1980, 2030),
)
def test_yoy_compounds_back_to_series(base, ratios, start):
    # year-to-year ratios within [0.05, 20]: beyond that, expressing growth in
    # percent (1 + g/100) loses relative precision through cancellation.
    values = list(base * np.cumprod(np.r_[1.0, ratios]))
    s = pd.Series(values, index=range(start, start + len(values)))
    g = yoy(s)
    rebuilt = values[0] * np.cumprod(np.r_[1.0, 1.0 + g.to_numpy()[1:] / 100.0])
    np.testing.assert_allclose(rebuilt, values, rtol=1e-9)


@HSETTINGS
@given(
    base=st.floats(min_value=0.01, max_value=1e5),
    ratio=st.floats(min_value=0.5, max_value=2.0),
    n=st.integers(min_value=2, max_value=15),
    start=st.integers(1990, 2020),
)
def test_cagr_of_geometric_series_is_its_ratio(base, ratio, n, start):
    s = pd.Series(base * ratio ** np.arange(n), index=range(start, start + n))
    assert cagr(s, start, start + n - 1) == pytest.approx(100 * (ratio - 1), abs=1e-8)
    if n >= 3:  # the log-linear trend of an exact geometric series is its ratio too
        assert trend_growth(s).growth_pct == pytest.approx(100 * (ratio - 1), abs=1e-6)


def test_trend_note_names_the_missing_years_in_words():
    """The asof-2022 edition's series has no 2019 figure: the note says so in words, not as a list."""
    s = pd.Series([147.45, 158.88, 170.76, 169.99, 122.54, 117.56, 139.91, 132.35, 148.30, 156.90],
                  index=[2011, 2012, 2013, 2014, 2015, 2016, 2017, 2018, 2020, 2021])
    assert trend_growth(s).note == "year 2019 is missing; HAC lags are counted in observations, not years"
    two = trend_growth(s.drop(2018))
    assert two.note.startswith("years 2018 and 2019 are missing;")
