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
    assert row["Xinjiang growth %"] == pytest.approx(45.9)
    assert row["China growth %"] == pytest.approx(0.2)
    assert row["gap pp"] == pytest.approx(45.7)
    assert (row["China rate from"], row["gap"]) == ("reported", "computed here")   # R0399 gives China's rate
    # Jan-Nov 2022: China's rate is Xinjiang's +59.8 % (R0225) less the 51.2 points reported (R0374)
    nov = n[n["period"] == "Jan-Nov 2022"].iloc[0]
    assert nov["China growth %"] == pytest.approx(59.8 - 51.2)
    assert (nov["China rate from"], nov["gap"]) == ("implied by a gap reported for Xinjiang", "reported")


def test_port_growth_is_not_set_against_a_gap_a_release_reported(tables):
    """Horgos's Jan-Nov 2022 growth (+5.8 %, R0235) beside China's rate implied by Xinjiang's gap: the
    table says that this gap is computed here and where China's rate comes from."""
    n = xa.national_comparison(ctx_for(tables, entity="Horgos port", start_year=2017))
    row = n[n["period"] == "Jan-Nov 2022"].iloc[0]
    assert row["Horgos port growth %"] == pytest.approx(5.8)
    assert row["gap pp"] == pytest.approx(5.8 - (59.8 - 51.2))
    assert (row["China rate from"], row["gap"]) == ("implied by a gap reported for Xinjiang", "computed here")


def test_growth_table_compares_growth_in_the_currency_it_was_reported_in(tables):
    """2012: 25.17 bn USD (R0016, +10.3 % as reported, in dollars) on 22.82 bn USD in 2011 (R0012).
    Converted to yuan at 6.3123 and 6.4615 the values grow 7.75 %; in dollars, as reported, 10.30 %."""
    t = xa.growth_table(xa.annual(ctx_for(tables)), "CNY", "billion yuan").set_index("year")
    row = t.loc[2012]
    assert row["growth in the printed currency %"] == pytest.approx((25.17 / 22.82 - 1) * 100, abs=1e-6)  # 10.298
    assert row["growth in yuan %"] == pytest.approx(
        (25.17 * 6.3123 / (22.82 * 6.4615) - 1) * 100, abs=1e-6)                                     # 7.751
    assert row["growth as reported %"] == pytest.approx(10.3)
    assert row["printed in"] == "US dollars, converted"
    # 2023: printed in yuan, reported +45.9 % in yuan; computed on 2022's 246.36 it is 45.04 %
    y23 = t.loc[2023]
    assert y23["printed in"] == "yuan"
    assert y23["growth in the printed currency %"] == pytest.approx((357.33 / 246.36 - 1) * 100, abs=1e-6)
    # 2018: "about 20 bn USD" (R0093) keeps its qualifier and has no reported rate
    assert t.loc[2018, "qualifier"] == "about" and np.isnan(t.loc[2018, "growth in the printed currency %"])
    note = xa.currency_note(ctx_for(tables))
    assert "from values printed in US dollars (2011, 2012 and 2014-2018)" in note and "unrounded" not in note
    # every chart or table note over these values says which were converted (2016: implied by 2017's
    # dollar rate, so a dollar figure too)
    ctx = ctx_for(tables)
    assert ctx.source_note(xa.annual(ctx)["figure_id"]).endswith(
        "Values of 2011, 2012 and 2014-2018 were printed in US dollars and are converted at each year's "
        "average rate.")
    assert "converted" not in ctx.source_note(["R0526", "R0339"])     # 2025 and 2023, printed in yuan
    # a chart that draws no money values (the coverage timeline, partner shares) converts nothing
    assert "converted" not in ctx.source_note(xa.annual(ctx)["figure_id"], values=False)


def test_contributions_in_the_currency_the_figures_were_printed_in(tables):
    """Jan-Jul 2008: 11.58 bn USD "described as doubled" (R0005, +100 %), exports 9.89 and imports 1.69
    bn USD; every figure in dollars, so growth is computed in dollars: 100 %, as the release said, not the
    82.68 % the yuan conversions at the 2007 and 2008 rates give."""
    c = xa.contributions_by_period(ctx_for(tables)).set_index("period")
    row = c.loc["Jan-Jul 2008"]
    assert row["computed in"] == "US dollars"
    assert row["total growth %"] == pytest.approx((11.58 / (11.58 / 2) - 1) * 100)
    assert row["imports pp"] == pytest.approx((1.69 - 1.69 / 1.8) / (11.58 / 2) * 100)
    assert c.loc["2012", "total growth %"] == pytest.approx((25.17 / 22.82 - 1) * 100, abs=1e-6)


def test_latest_growth_of_a_dollar_edition_is_not_the_yuan_rate(tables):
    """2025: 520.37 bn yuan, +19.9 % in yuan (R0526; 2024 implied by that rate). In dollars at 7.1428
    (2025) and 7.1215 (2024) it grew 1.199 x 7.1215 / 7.1428 - 1 = 19.54 %, which the USD edition states."""
    res = xa.growth_analysis(ctx_for(tables, currency="USD"))["results"]
    assert res["latest_year"] == 2025
    assert res["latest_yoy_pct"] == pytest.approx((1.199 * 7.1215 / 7.1428 - 1) * 100, abs=0.01)
    assert 2025 in res["converted_years"] and 2012 not in res["converted_years"]


def test_port_growth_text_names_the_latest_year_it_has(tables):
    """Horgos: full-year figures for 2017 (implied) and 2018 (R0068, 135.2 bn yuan); 2019, 2021 and 2022
    only year-to-date, the latest Jan-Nov 2022 (R0235, 271.94 bn yuan)."""
    g = xa.growth_analysis(ctx_for(tables, entity="Horgos port", start_year=2017))
    text = g["markdown"]
    assert "In 2018 it reached **135.2 billion yuan**" in text
    assert "Later years have only part-year figures (2019, 2021 and 2022); the latest, 2022," in text
    assert "from its January-November figure" in text
    est = next(pt for pt in g["annual_series"].points if pt.year == 2022)
    assert est.origin == "estimated" and est.months_known == 11 and est.value > 271.94


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


def test_markdown_table_shows_no_negative_zero():
    """A tiny negative value that rounds to zero shows as 0.00 (Table 2.4 showed "-0.00"); others keep their sign."""
    df = pd.DataFrame({"growth": [-0.001, -0.004999, -0.006, 0.0, 2.5], "when": list("abcde")})
    rows = [line.split("|")[1].strip() for line in xa.markdown_table(df).split("\n")[2:]]
    assert rows == ["0.00", "0.00", "-0.01", "0.00", "2.50"]
    one = [line.split("|")[1].strip() for line in xa.markdown_table(df, floatfmt=".1f").split("\n")[2:]]
    assert one == ["0.0", "0.0", "0.0", "0.0", "2.5"]


def test_quality_table_and_counts_leave_out_issues_of_non_trade_facts():
    """An issue about a fact with no trade flow (tasks of a free-trade-zone plan) is neither a row of the
    data-quality table nor counted with its notes (issue 21, item 5)."""
    from xjtrade.report.counts import counts, trade_issues
    issues = pd.DataFrame({"issue_id": ["Q1", "Q2", "Q3", "Q4"], "entity": ["X"] * 4,
                           "flow": ["total", None, "exports", "n/a"], "severity": ["note", "note", "conflict", "note"]})
    assert trade_issues(issues)["issue_id"].tolist() == ["Q1", "Q3"]   # the raw table writes "n/a" (R0366)
    figs = pd.DataFrame({"entity": ["X"], "origin": ["reported"], "figure_id": ["R1"], "source_ids": ["s"]})
    n = counts(figs, issues, entity="X")
    assert (n.notes, n.conflicts) == (1, 1)


def test_the_default_editions_quality_table_has_no_issue_of_a_non_trade_fact(processed):
    """On the real record: the free-trade-zone plan's 37 tasks (R0366, flow "n/a", kept with a doubt) is not a
    row of Xinjiang's data-quality table, and the table's notes are as many as the counts say."""
    from xjtrade.report.params import RunParams
    ctx = xa.load_context(processed, RunParams())
    table = xa.quality_table(ctx)
    assert not table["figure used"].eq("R0366").any() and not table["figure compared"].eq("R0366").any()
    assert set(table["flow"].dropna()) <= {"total", "exports", "imports"}
    n = xa.counts(ctx.figures, ctx.issues, ctx.sources, entity="Xinjiang")
    assert (table["severity"] == "note").sum() == n.notes and (table["severity"] == "conflict").sum() == n.conflicts
