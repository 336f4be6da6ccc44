"""The outlook: shares and estimates by hand, coherent paths, one headline, estimates without a gap,
and an outlook at dates when the year was not complete."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from xjtrade.data.estimates import Evidence, estimate_year
from xjtrade.stats.benchmarks import ShareModel, fit_annual
from xjtrade.stats.paths import simulate

ROOT = Path(__file__).resolve().parents[1]


def test_share_model_by_hand():
    sm = ShareModel.fit({(2020, 6): 40.0, (2021, 6): 60.0}, {2020: 100.0, 2021: 120.0})
    assert sm.share(6) == pytest.approx(math.sqrt(0.4 * 0.5))       # geometric mean of 0.4 and 0.5
    mu, sd = sm.log_total(50.0, 6)
    assert math.exp(mu) == pytest.approx(50.0 / math.sqrt(0.2))
    assert sm.share(12) == pytest.approx(1.0) and sm.share(3) == pytest.approx(sm.share(6) / 2)
    last = ShareModel.fit({(2020, 6): 40.0, (2021, 6): 60.0}, {2020: 100.0, 2021: 120.0}, method="last")
    assert last.share(6) == pytest.approx(0.5)
    w = sm.weights()
    assert w.sum() == pytest.approx(1.0) and (w > 0).all()


def test_estimate_of_a_partial_year_never_below_what_is_known():
    ev = Evidence(annual={2020: 100.0, 2021: 120.0}, ytd={(2020, 11): 90.0, (2021, 11): 110.0, (2022, 11): 130.0},
                  year_ids={2022: ["R1"]})
    est = estimate_year(ev, 2022)
    share = math.sqrt(0.9 * 110 / 120)
    assert est["value"] == pytest.approx(130 / share)
    assert 130.0 <= est["lo95"] <= est["lo80"] < est["value"] < est["hi80"] <= est["hi95"]
    assert est["origin"] == "estimated" and est["inputs"] == "R1"
    assert estimate_year(ev, 2019) is None


def test_benchmarks_on_logs_by_hand():
    ly = np.log([100.0, 110.0, 121.0, 133.1])
    naive = fit_annual("naive", ly, 2)
    np.testing.assert_allclose(naive.mean, [ly[-1], ly[-1]])
    np.testing.assert_allclose(naive.sd, [math.log(1.1), math.log(1.1) * math.sqrt(2)])
    mg = fit_annual("mean_growth", ly, 1)
    assert mg.mean[0] == pytest.approx(math.log(133.1 * 1.1))
    with pytest.raises(ValueError, match="arima needs at least 6"):
        fit_annual("arima", ly, 1)


def _toy():
    annual = {2015 + i: 100.0 * 1.05**i for i in range(8)}
    ytd = {(y, m): v * m / 12 * (1 + 0.01 * (m % 3)) for y, v in annual.items() for m in (2, 6, 11)}
    ytd[(2023, 6)] = 70.0
    return annual, ytd


def test_paths_add_up_and_stay_positive():
    annual, ytd = _toy()
    p = simulate(annual, ytd, 2024, growth="mean_growth", n=2000, seed=1)
    assert str(p.first) == "2023-07" and p.known_ytd == 70.0
    assert (p.draws > 0).all()
    months, ann, cum = p.monthly_table(), p.annual_table(), p.ytd_table()
    for year in (2023, 2024):
        # means add up from months to the year; the central number (the median) is the year's own
        total = months.loc[months["year"] == year, "mean"].sum() + (70.0 if year == 2023 else 0.0)
        assert ann.set_index("year").loc[year, "mean"] == pytest.approx(total, rel=1e-9)
        assert cum[(cum["year"] == year) & (cum["month"] == 12)]["mean"].iloc[0] == pytest.approx(total, rel=1e-9)
        assert ann.set_index("year").loc[year, "point"] == pytest.approx(float(np.median(p.annual_draws(year))))
    # each draw's year-to-date totals rise month by month and end at its annual total
    np.testing.assert_allclose(p.ytd_draws(2024, 12), p.annual_draws(2024))
    assert (p.ytd_draws(2023, 8) > 70.0).all()
    row = ann.iloc[1]
    assert 0 < row["lo95"] < row["lo80"] < row["point"] < row["hi80"] < row["hi95"]


def test_ignoring_the_year_to_date_starts_the_year_afresh():
    annual, ytd = _toy()
    p = simulate(annual, ytd, 2024, growth="naive", use_ytd=False, n=500, seed=1)
    assert str(p.first) == "2023-01" and p.known_ytd == 0.0


# --- on the project's data ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def raw():
    from xjtrade.data.raw import load_raw
    return load_raw(ROOT / "data" / "raw")


@pytest.fixture(scope="module")
def vintage_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("vintage-cache")


def _ctx(processed_or_figs, as_of=None):
    from xjtrade.report.chapters import Context, load_context
    from xjtrade.report.params import RunParams
    params = RunParams(as_of=as_of) if as_of else RunParams()
    if isinstance(processed_or_figs, Path):
        return load_context(processed_or_figs, params)
    return Context(params=params, figures=processed_or_figs, issues=None, sources=None)


@pytest.fixture(scope="module")
def default_outlook(processed, raw, vintage_cache):
    from xjtrade.report import outlook as xo
    ctx = _ctx(processed)
    return ctx, xo.outlook(ctx, raw=raw, cache_dir=vintage_cache)


def test_default_run_has_one_coherent_outlook_for_the_current_year(default_outlook):
    """The default edition follows the record: data to the 2025 full year (published 2026-01-23..30), so
    the outlook is for 2026 (no month known yet) and 2027, measured from the 2025 total."""
    ctx, o = default_outlook
    r = o["results"]
    assert r.ok and r.headline.year == 2026 and r.as_of >= "2026-01-30" and r.months_known == 0
    h = r.headline
    assert 0 < h.lo95 < h.lo80 < h.point < h.hi80 < h.hi95
    assert h.lo95 > 520.37 * 0.4          # positive and not absurdly low
    assert [a.year for a in r.annual] == [2026, 2027]
    months = [m for m in r.monthly if m.year == 2026]
    assert len(months) == 12
    # the central number is the median of the simulated annual totals; means add up, medians do not
    assert r.central == "median"
    paths = o["paths"]
    assert h.point == pytest.approx(float(np.median(paths.annual_draws(2026))), rel=1e-12)
    assert h.mean == pytest.approx(float(np.mean(paths.annual_draws(2026))), rel=1e-12)
    assert sum(m.mean for m in months) == pytest.approx(h.mean, rel=1e-9)
    assert h.point < h.mean                         # right-skewed totals
    dec = next(t for t in r.ytd if t.year == 2026 and t.month == 12)
    assert dec.point == pytest.approx(h.point, rel=1e-9)
    assert r.vintages >= 20 and r.track_record_forecasts >= 20
    assert 0 <= r.coverage80 <= r.coverage95 <= 1
    assert {c.use for c in r.choices} == {"within year", "years ahead"}
    # the headline's width in words and the coverage at its horizon
    assert r.base_year == 2025 and r.base_value == pytest.approx(520.37)
    assert r.headline_growth80 == pytest.approx([100 * (h.lo80 / 520.37 - 1), 100 * (h.hi80 / 520.37 - 1)])
    c = r.headline_coverage
    assert (c.use, c.horizon) == ("years ahead", "12-17 months") and c.n >= 8
    assert c in r.coverage_by_horizon
    t = o["track"]
    same = t[(t["use"] == "years ahead") & t["target"].isin(["current year", "next year"])
             & (t["horizon"] >= 12) & (t["horizon"] <= 17)]
    assert c.n == len(same) and c.empirical80 == pytest.approx(same["in80"].mean())
    # the release calendar: January-February 2026, about three weeks after the end of February
    cal = o["forecast"].calendar
    assert cal.period == "January-February 2026" and "2026-03-10" <= cal.expected <= "2026-03-31"
    assert cal.earliest <= cal.expected <= cal.latest
    # the ledger's recovered outlooks of 2024 (first and second editions), now scored against the 2024
    # total (derived from the 2025 release's growth: 520.37 / 1.199)
    ledger = o["forecast"].ledger
    early = [x for x in ledger if x.target_year == 2024 and x.kind == "recovered"]
    assert {round(x.point, 1) for x in early} >= {357.3, 396.0}
    assert all(x.actual == pytest.approx(520.37 / 1.199, rel=1e-3) for x in early)
    assert all(x.actual is None for x in ledger if x.target_year >= 2026)


def test_benchmark_comparison_of_the_default_outlook_by_horizon_era_and_year(default_outlook):
    """The years-ahead outlook against the benchmark (issue 20: scores by year as well as pooled): the
    horizon classes, the eras and the target years each split the same pooled forecasts, and each class's
    score is the mean over its own forecasts, so the classes' scores weighted by their counts give the
    pooled one; the pooled row is the one the methods chapter quotes."""
    _, o = default_outlook
    r = o["results"]
    pooled = [b for b in r.benchmark if b.by == "pooled"]
    assert len(pooled) == 1 and pooled[0].group == "all"
    p = pooled[0]
    assert (p.ratio80, p.ratio95, p.n) == (r.benchmark_ratio80, r.benchmark_ratio95, r.benchmark_n) and p.n >= 20
    for by in ("horizon", "era", "target year"):
        part = [b for b in r.benchmark if b.by == by]
        assert sum(b.n for b in part) == p.n
        assert sum(b.n * b.winkler80 for b in part) / p.n == pytest.approx(p.winkler80, rel=1e-9)
        assert sum(b.n * b.winkler80_benchmark for b in part) / p.n == pytest.approx(p.winkler80_benchmark, rel=1e-9)
    years = [b.group for b in r.benchmark if b.by == "target year"]
    assert years == sorted(years) and {"2020", "2023", "2024", "2025"} <= set(years)
    assert [b.group for b in r.benchmark if b.by == "era"] == ["2019-2023", "2024-latest"]
    assert all(b.years == 1 for b in r.benchmark if b.by == "target year")
    from xjtrade.report import forecast_words as fw
    words = fw.benchmark_by_year(r.benchmark)
    assert words.startswith("By target year, the outlook's 80% intervals scored ") and "2024-latest" in words


def test_annual_series_with_estimates_has_no_gap(processed):
    from xjtrade.report import outlook as xo
    est = xo.annual_with_estimates(_ctx(processed)).set_index("year")
    assert list(est.index) == list(range(2011, 2026))      # the default window: to the latest year in the data
    # 2024: derived from the 2025 release's growth (520.37 bn, +19.9 %)
    assert est.loc[2024, "origin"] == "derived" and est.loc[2024, "value"] == pytest.approx(520.37 / 1.199, rel=1e-3)
    assert set(est["origin"]) <= {"reported", "derived", "estimated"}
    # 2019: estimated from its year-to-date releases, with an interval above Jan-Nov 2019 (149.17)
    y = 2019
    assert est.loc[y, "origin"] == "estimated"
    assert est.loc[y, "lo95"] <= est.loc[y, "lo80"] < est.loc[y, "value"] < est.loc[y, "hi80"] <= est.loc[y, "hi95"]
    assert est.loc[2019, "value"] > 149.17 and est.loc[2019, "lo95"] >= 149.17
    assert "R0106" in est.loc[2019, "inputs"].split(";")        # the Jan-Nov 2019 release informs 2019
    # 2020: derived, from 2021's reported growth (156.9 / 1.058) or the "93 % of the previous year" statement
    assert est.loc[2020, "origin"] == "derived"
    assert est.loc[2020, "value"] == pytest.approx(156.9 / 1.058, rel=5e-3)
    assert est.loc[2020, "value"] == pytest.approx(137.66 / 0.93, rel=5e-3)
    # 2021: reported (R0443, 156.9 bn yuan)
    assert est.loc[2021, "origin"] == "reported" and est.loc[2021, "value"] == pytest.approx(156.9)
    assert est.loc[2023, "value"] == pytest.approx(357.33) and est.loc[2023, "origin"] == "reported"
    # 2018 was reported as "about 20 bn USD" (R0093): the word stays with the value; estimated years have none
    assert est.loc[2018, "qualifier"] == "about" and est.loc[2017, "qualifier"] == "" and est.loc[2019, "qualifier"] == ""
    # 2018 (R0093) and 2012 (R0016) were printed in dollars, 2021 (R0443) in yuan: the table says which
    assert est.loc[2018, "printed in"] == "US dollars, converted" and est.loc[2012, "printed in"] == "US dollars, converted"
    assert est.loc[2021, "printed in"] == "yuan"


@pytest.mark.parametrize("as_of, current, known", [("2022-06-30", 2022, 6), ("2023-06-30", 2023, 5),
                                                   ("2023-12-31", 2023, 11)])
def test_outlook_while_the_year_is_incomplete(raw, vintage_cache, as_of, current, known):
    from xjtrade.data.clean import clean
    from xjtrade.report import outlook as xo
    figs = clean(raw, as_of=as_of).figures
    r = xo.outlook(_ctx(figs, as_of), raw=raw, cache_dir=vintage_cache, n=1000)["results"]
    assert r.ok and r.current_year == current and r.months_known >= known - 1
    assert r.nowcast is not None and r.nowcast.point > r.known_ytd
    years = [a.year for a in r.annual]
    assert years == [current, current + 1]
    assert r.headline.year == int(as_of[:4])


def test_spliced_paths_scale_later_years_by_the_current_year_total(raw):
    """With the latent model within the year and another model for later years, later years are
    scaled path by path by the ratio of the two models' current-year totals (known months
    included).  At 2022-12-31 only December was unknown: scaling by the ratio of two December
    draws gave a 2023 mean of 11,743 bn yuan (median 141); the totals' ratio gives a sane path."""
    from xjtrade.data.clean import clean
    from xjtrade.data.estimates import evidence
    from xjtrade.report import outlook as xo
    final = evidence(clean(raw, as_of="2022-12-31").figures, "Xinjiang", "total", "World", "CNY")
    assert max(k for k in final.ytd if k[0] == 2022) == (2022, 11)
    base = xo._paths(final, 2023, "share_mean", "ses", 2000)
    spliced = xo._paths(final, 2023, "latent", "ses", 2000)
    for p in (base, spliced):
        tot = {y: p.draws[:, p.months.year == y].sum(axis=1) + (p.known_ytd if y == 2022 else 0) for y in (2022, 2023)}
        growth = tot[2023] / tot[2022]
        assert np.mean(tot[2023]) / np.median(tot[2023]) < 1.2
        assert 0.2 < np.quantile(growth, 0.01) and np.quantile(growth, 0.99) < 5
    # the years-ahead model's growth from its own current year is kept, path by path
    cur = spliced.months.year == 2022
    later = spliced.months.year == 2023
    k = spliced.known_ytd
    ratio_spliced = spliced.draws[:, later].sum(axis=1) / (k + spliced.draws[:, cur].sum(axis=1))
    ratio_base = base.draws[:, later].sum(axis=1) / (k + base.draws[:, cur].sum(axis=1))
    np.testing.assert_allclose(ratio_spliced, ratio_base, rtol=1e-9)


def test_skill_weighted_nowcast_mixes_its_members_path_by_path(raw):
    """Within the year the paths' current year comes from the members of the combination, each path from one
    member drawn with the weights; the later years keep the years-ahead model's growth from its own current
    year; every path still adds up and stays above what is known."""
    from xjtrade.data.clean import clean
    from xjtrade.data.estimates import evidence
    from xjtrade.report import outlook as xo
    final = evidence(clean(raw, as_of="2023-06-30").figures, "Xinjiang", "total", "World", "CNY")
    weights = {"share_mean": 0.5, "shrunk_growth": 0.5}
    mixed = xo._paths(final, 2024, "skill_weighted", "mean_growth", 2000, weights=weights)
    assert mixed.notes["within_model"] == "skill_weighted" and mixed.notes["weights"] == weights
    cur = mixed.months.year == 2023
    total = mixed.known_ytd + mixed.draws[:, cur].sum(axis=1)
    assert (total > mixed.known_ytd).all() and (mixed.draws > 0).all()
    alone = {m: xo._paths(final, 2024, m, "mean_growth", 2000) for m in weights}
    med = {m: float(np.median(p.known_ytd + p.draws[:, cur].sum(axis=1))) for m, p in alone.items()}
    lo, hi = sorted(med.values())
    assert lo < float(np.median(total)) < hi           # a mixture lies between its members
    # half of the paths from each member (binomial: within 5 sd of 1000)
    same = {m: np.isclose(mixed.draws[:, cur], p.draws[:, cur]).all(axis=1).sum() for m, p in alone.items()}
    assert sum(same.values()) == 2000 and all(abs(v - 1000) < 5 * 22.4 for v in same.values())


def test_release_calendar_is_the_editions_own_series(processed):
    """Horgos port's edition takes no date from the region's calendar: its few releases, none since
    January-November 2022, give none, with the facts of why (issue 21, item 6)."""
    from xjtrade.report import outlook as xo
    from xjtrade.report.chapters import load_context
    from xjtrade.report.params import RunParams
    horgos = load_context(processed, RunParams(entity="Horgos port", start_year=2017))
    assert xo.release_window(horgos) is None
    gap = xo.release_gap(horgos)
    assert gap is not None and gap.reasons == ["few", "stopped"] and gap.recent < gap.min_releases
    assert gap.latest_period == "January-November 2022" and gap.as_of == xo._as_of(horgos)[:10]
    region = _ctx(processed)
    assert xo.release_gap(region) is None and xo.release_window(region).period == "January-February 2026"
    # the region's exports are printed in the same releases as its total, though the record keeps fewer of
    # them: their edition takes the region's calendar, not "no date" (the record has 2 export releases in 2025)
    from xjtrade.data import calendar
    exports = load_context(processed, RunParams(flow="exports"))
    assert calendar.no_date(exports.figures, xo._as_of(exports), flow="exports") is not None
    assert xo.release_gap(exports) is None
    assert xo.release_window(exports) == xo.release_window(region)
