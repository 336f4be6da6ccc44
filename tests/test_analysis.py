"""What the notebooks compute, on the real processed data, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xjtrade.report import chapters as xa
from xjtrade.data.processed import load_processed
from xjtrade.report.params import RunParams


@pytest.fixture(scope="module")
def tables(processed):
    return load_processed(processed)


def ctx_for(tables, **params):
    figs, issues, sources = tables
    return xa.Context(params=RunParams(**params), figures=figs, issues=issues, sources=sources)


def test_recent_gapfree_starts_from_the_present():
    y = pd.Series([1.0, 2, 3, 5, 6], index=[2011, 2012, 2013, 2022, 2023])
    assert list(xa.recent_gapfree(y).index) == [2022, 2023]
    m = pd.Series([1.0, 2, 3], index=pd.PeriodIndex(["2022-01", "2022-03", "2022-04"], freq="M"))
    assert [str(p) for p in xa.recent_gapfree(m).index] == ["2022-03", "2022-04"]


def test_windows():
    assert xa.windows([2011, 2012, 2018, 2022, 2023], 2022) == [(2011, 2023), (2011, 2018), (2018, 2023)]
    assert xa.windows([2022], 2022) == []


def test_growth_analysis_latest_year(tables):
    g = xa.growth_analysis(ctx_for(tables))
    res = g["results"]
    assert res["latest_year"] == 2023
    assert res["latest_value"] == pytest.approx(357.33)
    assert res["latest_yoy_pct"] == pytest.approx(45.9)
    full = [w for w in res["cagr"] if (w["start"], w["end"]) == (2011, 2023)][0]
    # 2011 total reported as 22.82 bn USD, converted at the 2011 annual rate
    start = g["annual"].set_index("year").loc[2011, "value"]
    assert full["cagr_pct"] == pytest.approx(((357.33 / start) ** (1 / 12) - 1) * 100, abs=1e-3)
    assert "357.3 billion yuan" in g["markdown"]


def test_contributions_hand_computed(tables):
    c = xa.contributions_by_period(ctx_for(tables)).set_index("period")
    # H1 2023: exports 125.49 (+69.8 %), imports 24.13 (+44.7 %); the H1 2022 total is the reported
    # 91.51 (R0200), which beats the 149.62 / 1.652 implied by the 2023 rate; the flows of H1 2022 are
    # only known as implied by their 2023 rates
    row = c.loc["H1 2023"]
    x_prev, m_prev = 125.49 / 1.698, 24.13 / 1.447
    t_prev = 91.51
    assert row["exports pp"] == pytest.approx((125.49 - x_prev) / t_prev * 100, abs=0.05)
    assert row["imports pp"] == pytest.approx((24.13 - m_prev) / t_prev * 100, abs=0.05)
    # the parts do not add up to the reported total: the residual says by how much
    assert row["residual pp"] == pytest.approx((149.62 - 91.51) / 91.51 * 100 - row["exports pp"]
                                               - row["imports pp"], abs=1e-6)


def test_partner_share_belt_and_road(tables):
    s = xa.partner_shares(ctx_for(tables))
    h1 = s[(s["partner"] == "Belt and Road") & (s["period_label"] == "H1 2023")]
    assert h1["share"].iloc[0] == pytest.approx(138.3 / 149.62 * 100, abs=0.01)


def test_national_comparison_2023(tables):
    n = xa.national_comparison(ctx_for(tables))
    row = n[n["period"] == "2023"].iloc[0]
    assert row["region %"] == pytest.approx(45.9)
    assert row["China %"] == pytest.approx(0.2)
    assert row["gap pp"] == pytest.approx(45.7)


def test_monthly_series_spreads_release_blocks(tables):
    y, blocks = xa.monthly_series(ctx_for(tables))
    jan_feb_2023 = blocks[blocks["period_label"] == "Jan-Feb 2023"]["value"].iloc[0]
    assert jan_feb_2023 == pytest.approx(44.39)
    assert y[pd.Period("2023-01", "M")] == pytest.approx(44.39 / 2)
    assert y[pd.Period("2023-02", "M")] == pytest.approx(44.39 / 2)
    assert y[pd.Period("2023-12", "M")] == pytest.approx(37.43)
    # no gaps in the run used for forecasting
    assert (np.diff(y.index.asi8) == 1).all()


def test_forecast_annual_says_why_models_are_not_fitted(tables):
    f = xa.forecast_annual(ctx_for(tables))
    assert f["ok"]
    res = f["results"]
    assert (res["first_year"], res["last_year"]) == (2022, 2023)
    assert "arima needs at least 8 observations" in res["not_fitted"]["arima"]
    assert set(res["forecast"]) == {"2024", "2025"}


def test_forecast_refuses_to_forecast_the_past(tables):
    f = xa.forecast_annual(ctx_for(tables), flow="exports")
    assert not f["ok"] and "would forecast the past" in f["reason"]


# The nowcast as of 2022 (Jan-Nov 2022, 219.4 year to date) is checked by
# tests/test_notebooks.py::test_as_of_uses_only_the_data_known_then on the executed notebook.


def test_markdown_table_caps_widths_and_shows_missing_as_dash():
    text = xa.markdown_table(pd.DataFrame({"a": [1.0, np.nan], "note": ["x" * 300, "y"]}))
    lines = text.splitlines()
    assert "–" in lines[3]
    assert all(len(cell) <= 24 for cell in lines[1].strip("|").split("|"))
    assert "…" in lines[2]
