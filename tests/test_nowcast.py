"""The within-year nowcast models, the skill weights, the choice rule and the scores: values by hand,
simulated data with a known truth, and the rule's thresholds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from xjtrade.stats import choice, scoring
from xjtrade.stats import registry as reg
from xjtrade.stats.benchmarks import ShareModel
from xjtrade.stats.nowcast import known_bucket, skill_weights


def test_recent_shares_weigh_recent_years_more_by_hand():
    ytd = {(2020, 6): 40.0, (2021, 6): 50.0, (2022, 6): 30.0}
    annual = {2020: 100.0, 2021: 100.0, 2022: 100.0}
    recent = ShareModel.fit(ytd, annual, method="recent", half_life=2.0)
    w = np.array([0.5 ** (2 / 2), 0.5 ** (1 / 2), 1.0])            # 2020, 2021, 2022
    expected = math.exp(np.sum(w * np.log([0.4, 0.5, 0.3])) / w.sum())
    assert recent.share(6) == pytest.approx(expected)
    mean = ShareModel.fit(ytd, annual).share(6)
    last = ShareModel.fit(ytd, annual, method="last").share(6)
    assert last < recent.share(6) < mean                          # between the latest year and the mean
    with pytest.raises(ValueError, match="share method"):
        ShareModel.fit(ytd, annual, method="median")


def test_shrunk_growth_by_hand():
    """rest = (A_prev - ytd_prev(m)) exp(w g_ytd + (1 - w) g_out), w = m / 12."""
    annual = {2018: 80.0, 2019: 95.0, 2020: 100.0, 2021: 110.0}
    ytd = {(2021, 3): 25.0, (2022, 3): 30.0, (2020, 3): 22.0}
    m = reg.model("shrunk_growth")
    fc = m.fit(annual, ytd, 2022, ahead_growth=0.05).forecast(33.0, 3)
    w = 3 / 12
    g = w * math.log(33.0 / 25.0) + (1 - w) * 0.05
    assert fc.kind == "rest" and fc.mu == pytest.approx(math.log((110.0 - 25.0)) + g)
    assert math.exp(fc.log_median) == pytest.approx(33.0 + (110.0 - 25.0) * math.exp(g))
    growths = np.diff(np.log([80.0, 95.0, 100.0, 110.0]))
    assert fc.sd == pytest.approx(np.std(growths, ddof=1) * math.sqrt(9 / 12))
    d = fc.draws(5000, np.random.default_rng(0))
    assert (d > 33.0).all() and np.median(d) == pytest.approx(math.exp(fc.log_median), rel=0.02)
    # eleven months known: almost all the weight on the year-to-date growth
    late = m.fit(annual, {**ytd, (2021, 11): 100.0}, 2022, ahead_growth=0.05).forecast(120.0, 11)
    assert late.info["w"] == pytest.approx(11 / 12)
    # the same months of last year unknown: the usual share of the year before stands in for them
    est = m.fit(annual, ytd, 2022, ahead_growth=0.05).forecast(60.0, 6)
    assert est.info["prev_ytd_estimated"]


def test_within_year_models_never_fall_below_what_is_known():
    annual = {2019: 90.0, 2020: 100.0, 2021: 110.0}
    ytd = {(y, m): v * m / 12 for y, v in annual.items() for m in (2, 6, 10)}
    for m in reg.REGISTRY:
        if isinstance(m, (reg.YtdShare, reg.ShrunkGrowth)):
            fc = m.forecast(annual, ytd, 2022, known=70.0, month=6, ahead_growth=0.0)
            d = fc.draws(2000, np.random.default_rng(1))
            assert (d > 70.0).all(), m.name
            rest = fc.months(d, np.random.default_rng(2))
            assert rest.shape == (2000, 6) and np.allclose(rest.sum(axis=1), d - 70.0)


def test_shrunk_growth_follows_a_shift_in_seasonality_that_the_mean_share_misses():
    """Simulated truth: for years the first half made 40 % of the year, then one year (the year before the
    nowcast) and the current one 55 %.  With six months known the mean share overshoots by about a third;
    last year's months grown at the shrunk growth land close to the truth."""
    annual, ytd = {}, {}
    for y in range(2012, 2022):
        annual[y] = 100.0 * 1.05 ** (y - 2012)
        ytd[(y, 6)] = annual[y] * (0.55 if y == 2021 else 0.40)
    truth = annual[2021] * 1.05
    known = truth * 0.55
    fits = {name: reg.model(name).forecast(annual, ytd, 2022, known, 6, ahead_growth=math.log(1.05))
            for name in ("share_mean", "share_recent", "shrunk_growth")}
    err = {k: math.exp(f.log_median) / truth - 1 for k, f in fits.items()}
    assert err["share_mean"] > 0.3
    assert abs(err["shrunk_growth"]) < 0.05
    assert 0 < err["share_recent"] < err["share_mean"]


def _scored(model, n, years, err, bucket="4-7 months known", target="current year"):
    return [{"model": model, "target": target, "known_bucket": bucket, "year": 2010 + i % years, "log_error": err}
            for i in range(n)]


def test_skill_weights_equal_until_enough_years_then_halfway_to_inverse_mse():
    members = ("a", "b")
    thin = _scored("a", 20, 4, 0.1) + _scored("b", 20, 4, 0.2)
    w, why = skill_weights(thin, members, "4-7 months known")
    assert w == {"a": 0.5, "b": 0.5} and "equal weights" in why
    enough = _scored("a", 10, 5, 0.1) + _scored("b", 10, 5, 0.2)
    w, why = skill_weights(enough, members, "4-7 months known")
    inv = {"a": 1 / 0.01, "b": 1 / 0.04}
    assert w["a"] == pytest.approx(0.25 + 0.5 * inv["a"] / sum(inv.values()))        # 0.25 + 0.4 = 0.65
    assert w["a"] == pytest.approx(0.65) and sum(w.values()) == pytest.approx(1.0) and "halfway" in why
    # other buckets and next-release forecasts do not count
    other = _scored("a", 10, 5, 0.1, bucket="1-3 months known") + _scored("b", 10, 5, 0.2, target="next release")
    assert skill_weights(other, members, "4-7 months known")[0] == {"a": 0.5, "b": 0.5}
    assert known_bucket(0) == "no month known" and known_bucket(7) == "4-7 months known"


def _frame(rows):
    base = {"use": "years ahead", "target": "next year", "actual_published": "2020-01-01", "actual": 1.0,
            "in80": True, "in95": True, "winkler95": 1.0, "scaled_error": 0.1, "error": 0.1, "horizon": 15,
            "months_known": 0, "known_bucket": "no month known", "bucket": "12-17 months", "log_error": 0.1}
    return pd.DataFrame([{**base, **r} for r in rows])


def _ahead_rows(n_years, per_year, winkler):
    rows = []
    for y in range(n_years):
        for k in range(per_year):
            for model, w in winkler.items():
                rows.append({"vintage": f"{2010 + y}-0{k + 1}-01", "model": model, "year": 2011 + y,
                             "actual_published": f"{2012 + y}-01-15", "winkler80": w})
    return rows


def test_years_ahead_choice_by_interval_score_with_enough_years():
    cands = {m.name: 5.0 for m in reg.candidates(reg.YEARS_AHEAD)}
    cands["arima"] = 3.0
    few = _frame(_ahead_rows(4, 3, cands))                       # 12 forecasts about 4 years: not enough
    c = choice.choose(few, reg.YEARS_AHEAD)
    assert c.model == reg.DEFAULTS[reg.YEARS_AHEAD] == "mean_growth" and "robust default" in c.reason
    enough = _frame(_ahead_rows(5, 2, cands))                    # 10 forecasts about 5 years
    c = choice.choose(enough, reg.YEARS_AHEAD)
    assert c.model == "arima" and c.n == 10 and "interval score" in c.reason
    # outcomes published after the date of the choice are not used
    assert choice.choose(enough, reg.YEARS_AHEAD, as_of="2015-06-01").model == "mean_growth"
    # the benchmark is never chosen, however good
    bench = _frame(_ahead_rows(5, 2, {**cands, "empirical_growth": 0.1}))
    assert choice.choose(bench, reg.YEARS_AHEAD).model == "arima"


def test_within_year_choice_is_always_the_combination():
    c = choice.choose(pd.DataFrame(columns=["use", "model", "target", "known_bucket", "year", "log_error",
                                            "actual_published", "vintage"]), reg.WITHIN_YEAR, months_known=5)
    assert c.model == "skill_weighted" and set(c.weights) == set(reg.COMBINED)
    assert all(v == pytest.approx(0.25) for v in c.weights.values())


def test_score_table_by_bucket_year_and_era_by_hand():
    rows = []
    for year, err in ((2022, 0.10), (2023, 0.30), (2024, -0.20)):
        for model in ("outlook", "share_mean"):
            rows.append({"vintage": f"{year}-06-01", "model": model, "use": "within year", "target": "current year",
                         "year": year, "months_known": 5, "known_bucket": "4-7 months known", "horizon": 7,
                         "bucket": "7-11 months", "actual": 100.0, "error": 100 * err, "scaled_error": err,
                         "in80": year != 2024, "in95": True, "winkler80": 1.0 + (year == 2024), "winkler95": 1.0})
    t = scoring.score_table(pd.DataFrame(rows))
    o = t[t["model"] == "outlook"].set_index("year")
    assert set(o.index) == {"2022", "2023", "2024", "all", "2019-2023", "2024-latest"}
    assert (o["bucket"] == "4-7 months known").all()
    assert o.loc["2019-2023", "MAPE"] == pytest.approx(20.0) and o.loc["2024-latest", "MAPE"] == pytest.approx(20.0)
    assert o.loc["all", "MAPE"] == pytest.approx(20.0) and o.loc["2023", "MAPE"] == pytest.approx(30.0)
    assert o.loc["2019-2023", "coverage80"] == 1.0 and o.loc["2024-latest", "coverage80"] == 0.0
    assert o.loc["all", "n"] == 3 and o.loc["all", "years"] == 3 and o.loc["2019-2023", "years"] == 2


def test_benchmark_comparison_by_hand():
    rows = []
    for i, (wo, wb) in enumerate(((2.0, 4.0), (6.0, 4.0))):
        for model, w in (("outlook", wo), ("empirical_growth", wb)):
            rows.append({"vintage": f"2020-0{i + 1}-01", "model": model, "use": "years ahead", "target": "next year",
                         "bucket": "12-17 months", "winkler80": w, "winkler95": 2 * w, "in80": w < 5})
    b = scoring.benchmark_comparison(pd.DataFrame(rows), "outlook").set_index("bucket")
    assert b.loc["all", "n"] == 2 and b.loc["all", "winkler80"] == pytest.approx(4.0)
    assert b.loc["all", "ratio80"] == pytest.approx(1.0) and b.loc["all", "coverage80"] == 0.5


def test_benchmark_comparison_by_horizon_era_and_target_year_by_hand():
    """Three target years, two horizons: each class scored over its own forecasts; a forecast the
    benchmark did not make is left out of every class."""
    rows = []
    cases = [  # (vintage, target year, horizon bucket, outlook's Winkler, benchmark's)
        ("2021-06-01", 2022, "18-23 months", 4.0, 2.0), ("2022-01-30", 2022, "12-17 months", 2.0, 2.0),
        ("2022-06-01", 2023, "18-23 months", 9.0, 3.0), ("2023-06-01", 2024, "18-23 months", 1.0, 2.0),
        ("2024-01-30", 2024, "12-17 months", 3.0, 6.0)]
    for vintage, year, bucket, wo, wb in cases:
        for model, w in (("outlook", wo), ("empirical_growth", wb)):
            rows.append({"vintage": vintage, "model": model, "use": "years ahead", "target": "next year",
                         "year": year, "bucket": bucket, "winkler80": w, "winkler95": w, "in80": w < 5})
    rows.append({**rows[-2], "vintage": "2024-03-01"})          # the outlook alone: not compared
    b = scoring.benchmark_comparison(pd.DataFrame(rows), "outlook")
    assert list(zip(b["by"], b["bucket"])) == [
        ("horizon", "12-17 months"), ("horizon", "18-23 months"), ("era", "2019-2023"), ("era", "2024-latest"),
        ("target year", "2022"), ("target year", "2023"), ("target year", "2024"), ("pooled", "all")]
    b = b.set_index("bucket")
    assert b.loc["12-17 months", "winkler80"] == pytest.approx(2.5) and b.loc["12-17 months", "ratio80"] == pytest.approx(0.625)
    assert b.loc["2019-2023", "n"] == 3 and b.loc["2019-2023", "years"] == 2
    assert b.loc["2019-2023", "ratio80"] == pytest.approx(5.0 / (7.0 / 3))
    assert b.loc["2024-latest", "ratio80"] == pytest.approx(0.5) and b.loc["2024-latest", "coverage80"] == 1.0
    assert b.loc["2022", "ratio80"] == pytest.approx(1.5) and b.loc["2023", "coverage80"] == 0.0
    assert b.loc["all", "n"] == 5 and b.loc["all", "years"] == 3
    assert b.loc["all", "winkler80"] == pytest.approx(19.0 / 5) and b.loc["all", "winkler80_benchmark"] == pytest.approx(3.0)
