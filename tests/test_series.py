"""What the run computes for the pages: the annual series in the run's window, the counts behind a chart,
the figures table, the facts behind the methods chapter (hand-computed expectations on the project's data
and on small made-up frames)."""

from __future__ import annotations

import pandas as pd
import pytest

from xjtrade.report.params import RunParams


@pytest.fixture(scope="module")
def ctx(processed):
    """A window fixed at 2011-2023 (the hand-computed values below are of those years)."""
    from xjtrade.report.context import load_context
    return load_context(processed, RunParams(end_year=2023))


def test_the_default_window_ends_with_the_latest_year_in_the_data(processed):
    from xjtrade.report.context import load_context
    from xjtrade.report.series import annual_series
    default = load_context(processed, RunParams())
    latest = int(default.series("year")["year"].max())
    s = annual_series(default)
    assert RunParams().end_year is None and latest >= 2025
    assert (s.start_year, s.end_year) == (2011, latest) and max(p.year for p in s.points) == latest


def test_annual_series_keeps_to_the_window(ctx):
    from xjtrade.report.series import annual_series
    s = annual_series(ctx)
    years = [p.year for p in s.points]
    assert (s.start_year, s.end_year) == (2011, 2023) and min(years) == 2011 and max(years) == 2023
    assert [p.year for p in s.points if p.origin == "estimated"] == [2019]     # only year-to-date figures in 2019
    est = next(p for p in s.points if p.year == 2019)
    assert est.lo80 < est.value < est.hi80 and est.inputs and est.figure_id is None
    assert s.n_years == 12 == len([p for p in s.points if p.origin != "estimated"])
    # the multiple is over the window: 2023 against 2011, not against the first year of the data
    lvl = s.level
    assert (lvl.first_year, lvl.last_year) == (2011, 2023) and lvl.last_value == pytest.approx(357.33)
    assert lvl.ratio == pytest.approx(357.33 / lvl.first_value) and lvl.change_pct == pytest.approx(100 * (lvl.ratio - 1))
    latest = next(p for p in s.points if p.year == 2023)
    assert latest.figure_id == "R0339" and latest.sources[0].publisher
    narrower = annual_series(ctx.__class__(**{**ctx.__dict__, "params": RunParams(start_year=2015, end_year=2023,
                                                                                    break_year=2022)}))
    assert narrower.level.first_year == 2015 and narrower.n_years == s.n_years - 4


def test_series_counts_trace_derived_figures_to_reported_ones(ctx):
    from xjtrade.data.clean import trace
    from xjtrade.report.series import annual, annual_series
    ids = list(annual(ctx)["figure_id"])
    leaves = {leaf for fid in ids for leaf in trace(ctx.figures, fid)}
    c = annual_series(ctx).counts
    assert c.reported == len(leaves) and c.derived == sum(not f.startswith("R") for f in ids)
    assert ctx.source_note(ids, "fig-annual").startswith(f"Source: Xinjiang Trade Monitor, {c.reported} reported "
                                                          f"figures from {c.sources_used} reports (")
    assert ctx.scopes["fig-annual"] == c.model_copy(update={"scope": "fig-annual"})


def test_memoised_leaves_are_the_trace(ctx):
    from xjtrade.data.clean import trace
    for fid in ctx.figures["figure_id"].sample(200, random_state=1):
        assert ctx.leaves(fid) == trace(ctx.figures, fid)
    with pytest.raises(KeyError):
        ctx.leaves("R9999")


def test_headline_drops_estimated_years_the_outlook_covers(ctx):
    from xjtrade.report.results import OutlookResults
    from xjtrade.report.series import annual_series, estimated_years, headline_table, surge_year
    s = annual_series(ctx)
    assert list(estimated_years(s)["year"]) == [2019] and estimated_years(s, before=2019).empty
    t = {"period": "2019", "year": 2019, "month": 12, "point": 1.0, "lo80": 1.0, "hi80": 1.0, "lo95": 1.0, "hi95": 1.0}
    table = headline_table(s, OutlookResults(ok=True, annual=[t]))
    assert 2019 not in set(table["year"]) and len(table) == 12
    assert surge_year(pd.DataFrame({"year": [2020, 2021, 2022], "value": [100.0, 110.0, 165.0]})) == (2022, pytest.approx(50.0))
    assert surge_year(pd.DataFrame({"year": [2020, 2021], "value": [100.0, 110.0]})) is None


def test_figure_index_orders_sources_and_traces_derived_ones(ctx):
    from xjtrade.report.catalogue import figure_index, ranked
    assert ranked(["b", "a", "c", "a"], {"a": 2, "b": 0}) == ["b", "a", "c"]
    idx = figure_index(ctx).set_index("figure_id")
    assert len(idx) == len(ctx.figures)
    derived = ctx.figures[ctx.figures["origin"] == "derived"].iloc[0]
    leaves = ctx.leaves(derived["figure_id"])
    own = set(ctx.figures.loc[ctx.figures["figure_id"].isin(leaves), "source_ids"].str.split(";").sum())
    assert set(idx.loc[derived["figure_id"], "sources"].split(";")) == own
    assert set(idx["used"]) == {"yes", "no", "set aside"}


def test_coverage_below_nominal_is_a_binomial_test():
    from xjtrade.report.evaluation_facts import below_nominal, coverage_facts
    assert below_nominal(8, 24, 0.8) and not below_nominal(19, 24, 0.8) and not below_nominal(0, 0, 0.8)
    track = pd.DataFrame({"use": ["within year"] * 10 + ["years ahead"] * 10,
                          "in80": [True] * 10 + [True] * 2 + [False] * 8, "in95": [True] * 20})
    rows = {r.forecasts: r for r in coverage_facts(track)}
    assert rows["all"].n == 20 and rows["all"].empirical80 == pytest.approx(60.0)
    assert rows["years ahead"].below_nominal and not rows["within year"].below_nominal
    assert rows["within year"].uncalibrated80 is None


def test_bucket_facts_name_the_best_model_and_the_best_annual_only_one():
    from xjtrade.report.evaluation_facts import bucket_facts
    rows = []
    for model, err in (("share_mean", 0.1), ("naive_annual", 0.5), ("mean_growth_annual", 0.4)):
        for i in range(3):
            rows.append({"use": "within year", "bucket": "1-3 months", "model": model, "scaled_error": err,
                         "error": err, "actual": 1.0, "in80": True, "in95": True, "winkler80": 1.0, "winkler95": 1.0,
                         "vintage": f"2020-0{i + 1}-01"})
    (b,) = bucket_facts(pd.DataFrame(rows))
    assert (b.best.model, b.best.mase, b.n) == ("share_mean", pytest.approx(0.1), 3)
    assert (b.months_from, b.months_to) == (1, 3)
    assert b.best_annual_only.model == "mean_growth_annual" and b.best_annual_only.mase == pytest.approx(0.4)
