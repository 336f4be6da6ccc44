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


def test_windows():
    assert xa.windows([2011, 2012, 2018, 2022, 2023], 2022) == [(2011, 2023), (2011, 2018), (2018, 2023)]
    assert xa.windows([2022], 2022) == []


def test_growth_analysis_latest_year(tables):
    g = xa.growth_analysis(ctx_for(tables))
    res = g["results"]
    assert res["latest_year"] == 2025                        # the 2025 full year, published 2026-01-23
    assert res["latest_value"] == pytest.approx(520.37)
    assert res["latest_yoy_pct"] == pytest.approx(19.9)
    full = [w for w in res["cagr"] if (w["start"], w["end"]) == (2011, 2025)][0]
    # 2011 total reported as 22.82 bn USD, converted at the 2011 annual rate
    start = g["annual"].set_index("year").loc[2011, "value"]
    assert full["cagr_pct"] == pytest.approx(((520.37 / start) ** (1 / 14) - 1) * 100, abs=1e-3)
    assert "520.4 billion yuan" in g["markdown"]


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


def test_markdown_table_caps_widths_and_shows_missing_as_dash():
    text = xa.markdown_table(pd.DataFrame({"a": [1.0, np.nan], "note": ["x" * 300, "y"]}))
    lines = text.splitlines()
    assert "–" in lines[3]
    assert all(len(cell) <= 24 for cell in lines[1].strip("|").split("|"))
    assert "…" in lines[2]


def test_markdown_table_widths_follow_the_visible_text():
    """A linked figure id counts as its 5 characters (not its URL), prose gets up to 48 dashes and
    other long texts up to 24, so notes are not squeezed by columns of ids (PDF table 1.2)."""
    df = pd.DataFrame({"issue": ["Q001", "Q002"], "other id": ["R0012", "R0013"],
                       "figures": ["DPY-5e2a5d7c+DPY-fa3908ae+DPY-00000000", "R0001"],
                       "note": ["the January-November total was published later and differs " * 2, "x"]})
    sep = xa.markdown_table(df, link_prefix="../").splitlines()[1].strip("|").split("|")
    assert [len(c) for c in sep] == [5, 8, 24, 48]    # "issue", "other id", capped ids, capped prose
