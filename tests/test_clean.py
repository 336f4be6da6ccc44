"""Tests for xjtrade.data.clean against the real raw data (hand-computed values) and against
tiny synthetic raw tables written into tmp_path.

The real-data tests read the session-wide processed build (`processed` fixture) back with
dataset.load_processed, so they check what `xjtrade data build` writes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xjtrade.data import clean, selector

from xjtrade.data import processed as dataset
from xjtrade.data.clean import Tolerance
from xjtrade.data.raw import RATE_COLUMNS, REPORT_COLUMNS, SOURCE_COLUMNS, load_raw

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"

CNY_PER_USD_2012 = 6.3123
CNY_PER_USD_2022 = 6.7372
CNY_PER_USD_2023 = 7.0840


@pytest.fixture(scope="module")
def built(processed):
    figures, issues, sources = dataset.load_processed(processed)
    return figures, issues, sources


@pytest.fixture(scope="module")
def figs(built) -> pd.DataFrame:
    return built[0]


@pytest.fixture(scope="module")
def issues(built) -> pd.DataFrame:
    return built[1]


@pytest.fixture(scope="module")
def raw():
    return load_raw(RAW)


def one(df: pd.DataFrame) -> pd.Series:
    assert len(df) == 1, df[["figure_id", "method", "inputs", "period_label"]].to_string()
    return df.iloc[0]


def by_id(figs: pd.DataFrame, figure_id: str) -> pd.Series:
    return one(figs[figs["figure_id"] == figure_id])


def quantity(figs, entity="Xinjiang", flow="total", partner="World", label=None, indicator="trade value",
             product="all", segment="all"):
    f = figs[(figs["entity"] == entity) & (figs["flow"] == flow) & (figs["partner"] == partner)
             & (figs["indicator"] == indicator) & (figs["product"] == product) & (figs["segment"] == segment)]
    return f if label is None else f[f["period_label"] == label]


# ---------------------------------------------------------------------------
# prior year from a growth rate; lineage
# ---------------------------------------------------------------------------


def test_2022_total_implied_by_2023_growth(figs):
    q = quantity(figs, label="2022")
    d = one(q[q["method"] == "prior year from yoy"])
    # 357.33 / 1.459 = 244.914...
    assert d["value_cny_bn"] == pytest.approx(357.33 / 1.459, abs=1e-9)
    assert d["value_cny_bn"] == pytest.approx(244.92, abs=0.01)
    assert d["value_usd_bn"] == pytest.approx(357.33 / 1.459 / CNY_PER_USD_2022, rel=1e-9)
    assert d["origin"] == "derived" and d["inputs"] == "R0339" and d["steps"] == 1
    assert d["source_ids"] == "chinaxiaokang-2024-01-24" and d["published"] == "2024-01-24"
    assert d["unit"] == "billion yuan" and d["period_kind"] == "year" and d["year"] == 2022
    assert d["figure_id"].startswith("DPY-")
    assert clean.trace(figs, d["figure_id"]) == ["R0339"]
    # the reported 246.36 (R0393) is preferred to the derived value for 2022
    assert by_id(figs, "R0393")["selected"] and not d["selected"]


def test_trace_through_two_steps(figs):
    """Aug-Sep 2022 = Jan-Sep 2022 (itself implied by Jan-Sep 2023 R0316 at +47.3 %) - Jan-Jul 2022 R0212."""
    q = quantity(figs, label="Aug-Sep 2022")
    d = one(q[q["method"] == "ytd difference"])
    jan_sep = by_id(figs, d["inputs"].split(";")[0])
    assert jan_sep["method"] == "prior year from yoy" and jan_sep["inputs"] == "R0316"
    assert jan_sep["value_cny_bn"] == pytest.approx(252.84 / 1.473, rel=1e-9)
    assert d["steps"] == 2
    assert d["value_cny_bn"] == pytest.approx(252.84 / 1.473 - 115.47, rel=1e-9)
    assert clean.trace(figs, d["figure_id"]) == ["R0316", "R0212"]
    assert clean.trace(figs, "R0212") == ["R0212"]
    with pytest.raises(KeyError):
        clean.trace(figs, "R9999")


def test_every_derived_figure_traces_to_reported_rows(figs):
    ids = set(figs["figure_id"])
    reported = set(figs.loc[figs["origin"] == "reported", "figure_id"])
    derived = figs[figs["origin"] == "derived"]
    assert len(derived) > 0
    for _, d in derived.iterrows():
        assert set(d["inputs"].split(";")) <= ids
        leaves = clean.trace(figs, d["figure_id"])
        assert leaves and set(leaves) <= reported
        # the sources of a derived figure are exactly those of the reports behind it
        leaf_sources = set(figs.loc[figs["figure_id"].isin(leaves), "source_ids"])
        assert set(d["source_ids"].split(";")) == leaf_sources


# ---------------------------------------------------------------------------
# December 2023: derived vs reported
# ---------------------------------------------------------------------------


def test_december_2023_derived_and_reported(figs, issues):
    q = quantity(figs, label="Dec 2023")
    d = one(q[q["method"] == "ytd difference"])
    assert d["value_cny_bn"] == pytest.approx(357.33 - 320.53, abs=1e-9)      # 36.80
    assert round(d["value_cny_bn"], 2) == 36.80
    assert d["inputs"] == "R0339;R0336" and d["months"] == 1
    assert not d["selected"]
    # December 2023 reported at 37.43 by the seed article (R0338) and China Xiaokang (R0340): the
    # reachable source is used
    r = by_id(figs, "R0340")
    assert r["value_cny_bn"] == 37.43 and r["yoy_pct"] == 36.4 and r["selected"]
    assert by_id(figs, "R0338")["value_cny_bn"] == 37.43 and not by_id(figs, "R0338")["selected"]
    assert one(q[q["selected"]])["figure_id"] == "R0340"
    issue = one(issues[(issues["selected_id"] == "R0340") & (issues["other_id"] == d["figure_id"])])
    assert issue["kind"] == "derived vs reported" and issue["severity"] == "warning"
    # (36.80 - 37.43) / 37.43 = -1.683 %
    assert issue["difference_pct"] == pytest.approx((36.80 - 37.43) / 37.43 * 100, abs=1e-3)
    assert issue["difference_pct"] == pytest.approx(-1.68, abs=0.01)
    assert issue["period_label"] == "Dec 2023"
    assert issue["source_ids"] == "chinaxiaokang-2024-01-24;people-2023-12-18"


# ---------------------------------------------------------------------------
# unit normalisation
# ---------------------------------------------------------------------------


def test_unit_normalisation(raw):
    norm = clean.normalise(raw).set_index("figure_id")
    r = norm.loc["R0206"]                       # 950.4 (100 million yuan), Jan-Jul 2022
    assert (r["value"], r["unit"], r["currency"], r["measure"]) == (950.4, "100 million yuan", "CNY", "money")
    assert r["value_cny_bn"] == pytest.approx(95.04, abs=1e-9)
    assert r["value_usd_bn"] == pytest.approx(95.04 / CNY_PER_USD_2022, rel=1e-12)
    r = norm.loc["R0016"]                       # 25.17 billion USD, 2012
    assert r["currency"] == "USD" and r["measure"] == "money"
    assert r["value_usd_bn"] == 25.17
    assert r["value_cny_bn"] == pytest.approx(158.880591, abs=1e-6)   # 25.17 x 6.3123
    r = norm.loc["R0399"]                       # 41.76 trillion yuan, 2023
    assert r["value_cny_bn"] == pytest.approx(41760.0, abs=1e-6)
    assert r["value_usd_bn"] == pytest.approx(41760.0 / CNY_PER_USD_2023, rel=1e-12)
    r = norm.loc["R0355"]                       # 70 million USD, 2023
    assert r["value_usd_bn"] == pytest.approx(0.07, abs=1e-12)
    assert r["value_cny_bn"] == pytest.approx(0.07 * CNY_PER_USD_2023, abs=1e-12)
    r = norm.loc["R0353"]                       # 15 ports: a count, not money
    assert r["measure"] == "count" and pd.isna(r["currency"]) and np.isnan(r["value_cny_bn"])
    assert norm.loc["R0376", "measure"] == "percentage points"
    # every currency unit is money, nothing else is
    money_units = {"trillion yuan", "billion yuan", "100 million yuan", "million yuan", "billion USD",
                   "100 million USD", "million USD"}
    assert set(norm.loc[norm["measure"] == "money", "unit"]) <= money_units
    assert (norm.loc[norm["unit"].isin(money_units), "measure"] == "money").all()
    # the undated row keeps no period
    r = norm.loc["R0367"]
    assert (r["start"], r["end"], r["period_label"], r["year"]) == (-1, -1, "undated", -1)


# ---------------------------------------------------------------------------
# selection rule
# ---------------------------------------------------------------------------


def test_2023_total_selects_the_exact_yuan_figure(figs, issues):
    q = quantity(figs, label="2023")
    # the same 357.33 is in the seed article (R0337, no address) and on China Xiaokang (R0339): the rule
    # prefers the reachable primary source
    assert one(q[q["selected"]])["figure_id"] == "R0339"
    others = q.set_index("figure_id")
    assert others.loc["R0343", "qualifier"] == "over" and others.loc["R0343", "value"] == 357
    assert others.loc["R0350", "qualifier"] == "about" and others.loc["R0350", "value"] == 357
    assert not others.loc[["R0337", "R0343", "R0350", "R0352"], "selected"].any()
    # 357 'about' and 'over' are consistent with 357.33: no quality issue for them
    assert issues[issues["other_id"].isin(["R0343", "R0350"])].empty


def test_one_selected_figure_per_quantity(figs):
    dated = figs[figs["start"] >= 0]
    counts = dated.groupby(clean.KEY)["selected"].sum()
    assert counts.max() == 1
    assert not figs.loc[figs["start"] < 0, "selected"].any()        # undated rows are never selected


@pytest.mark.parametrize("row_id,other", [("R0009", "DPY-"), ("R0306", "R0239")])
def test_implausible_rows_never_selected(figs, issues, row_id, other):
    r = by_id(figs, row_id)
    assert r["check"] == "implausible" and not r["usable"] and not r["selected"]
    same = figs[(figs["entity"] == r["entity"]) & (figs["flow"] == r["flow"]) & (figs["partner"] == r["partner"])
                & (figs["indicator"] == r["indicator"]) & (figs["start"] == r["start"]) & (figs["end"] == r["end"])]
    assert one(same[same["selected"]])["figure_id"].startswith(other)
    i = one(issues[issues["selected_id"] == row_id])
    assert i["kind"] == "row marked implausible" and i["severity"] == "conflict"
    assert pd.isna(i["other_id"])


def test_no_usable_figures_means_nothing_selected(raw):
    norm = clean.normalise(raw)
    only = norm[norm["figure_id"] == "R0306"]
    assert not clean.select(only)["selected"].any()


# ---------------------------------------------------------------------------
# parts and totals
# ---------------------------------------------------------------------------


def test_total_from_parts_hand_case(figs):
    """Horgos port Nov 2022: exports 16.83 (R0236) + imports 10.68 (R0237), no total reported."""
    q = quantity(figs, entity="Horgos port", label="Nov 2022")
    assert q[(q["origin"] == "reported") & (q["flow"] == "total")].empty
    d = one(q[q["method"] == "total from parts"])
    assert d["flow"] == "total" and d["inputs"] == "R0236;R0237"
    assert d["value_cny_bn"] == pytest.approx(16.83 + 10.68, abs=1e-9)   # 27.51
    assert d["value_usd_bn"] == pytest.approx(27.51 / CNY_PER_USD_2022, rel=1e-9)
    assert d["selected"]


def test_every_total_from_parts_adds_up(figs):
    derived = figs[figs["method"] == "total from parts"]
    assert len(derived) >= 1
    for _, d in derived.iterrows():
        x, m = (by_id(figs, i) for i in d["inputs"].split(";"))
        assert (x["flow"], m["flow"]) == ("exports", "imports")
        col = "value_cny_bn" if d["currency"] == "CNY" else "value_usd_bn"
        assert d[col] == pytest.approx(x[col] + m[col], rel=1e-12)
        reported_total = figs[(figs["origin"] == "reported") & (figs["flow"] == "total")
                              & (figs["entity"] == d["entity"]) & (figs["partner"] == d["partner"])
                              & (figs["indicator"] == "trade value") & (figs["product"] == d["product"])
                              & (figs["segment"] == d["segment"])
                              & (figs["start"] == d["start"]) & (figs["end"] == d["end"])]
        assert reported_total.empty


def test_part_from_total_hand_case(figs):
    """Jan-Apr 2022 imports = total about 52 (R0187) - exports 42.5 (R0184) = 9.5."""
    q = quantity(figs, flow="imports", label="Jan-Apr 2022")
    d = one(q[q["method"] == "part from total"])
    assert d["inputs"] == "R0187;R0184"
    assert d["value_cny_bn"] == pytest.approx(52 - 42.5, abs=1e-9)
    assert d["qualifier"] == "about"          # the least precise input's qualifier carries over
    assert d["unit"] == "billion yuan"


def test_every_part_from_total_subtracts(figs):
    derived = figs[figs["method"] == "part from total"]
    assert len(derived) >= 1
    for _, d in derived.iterrows():
        t, part = (by_id(figs, i) for i in d["inputs"].split(";"))
        assert t["flow"] == "total" and {part["flow"], d["flow"]} == {"exports", "imports"}
        col = "value_cny_bn" if d["currency"] == "CNY" else "value_usd_bn"
        assert d[col] == pytest.approx(t[col] - part[col], rel=1e-9)
        assert d[col] > 0


def test_parts_vs_total_warning(issues):
    """Jan-Feb 2020: exports R0107 + imports R0108 do not add up to the total R0114 (20.3)."""
    i = one(issues[(issues["kind"] == "parts vs total") & (issues["selected_id"] == "R0114")])
    assert i["other_id"] == "R0107+R0108" and i["severity"] == "warning"
    assert i["selected_value"] == pytest.approx(20.3)
    # CHECKS.md: exports 12.95 + imports 7.08 = 20.03
    assert i["other_value"] == pytest.approx(20.03, abs=1e-9)
    assert i["difference_pct"] == pytest.approx((20.03 - 20.3) / 20.3 * 100, abs=1e-3)


# ---------------------------------------------------------------------------
# partner shares, national growth
# ---------------------------------------------------------------------------


def test_belt_and_road_share_of_h1_2023(figs):
    q = quantity(figs, partner="Belt and Road", label="H1 2023", indicator="share of world total")
    d = one(q[q["method"] == "partner share"])
    assert d["value"] == pytest.approx(138.3 / 149.62 * 100, abs=1e-4)       # 92.434...
    assert round(d["value"], 2) == 92.43
    assert d["unit"] == "percent" and d["measure"] == "percent"
    assert d["inputs"] == "R0294;R0290"
    assert by_id(figs, "R0294")["value"] == 138.3 and by_id(figs, "R0290")["value"] == 149.62
    assert np.isnan(d["value_cny_bn"])


def test_national_growth_from_gap(figs, issues):
    q = quantity(figs, entity="China", label="2023")
    d = one(q[q["method"] == "national rate from gap"])
    assert d["yoy_pct"] == pytest.approx(45.9 - 45.7, abs=1e-9)              # 0.2
    assert d["inputs"] == "R0339;R0378" and d["origin"] == "derived"
    assert np.isnan(d["value"])
    r = by_id(figs, "R0399")
    assert r["yoy_pct"] == 0.2 and r["selected"] and not d["selected"]
    assert abs(d["yoy_pct"] - r["yoy_pct"]) <= Tolerance().yoy_points
    assert issues[(issues["kind"] == "growth rates disagree") & (issues["selected_id"] == "R0399")].empty


def test_annual_and_monthly_series(figs):
    def annual(currency):
        s = selector.series(figs, kind="year", currency=currency)
        return s[s["value"].notna()].set_index("year")["value"]
    cny, usd = annual("CNY"), annual("USD")
    assert cny[2023] == pytest.approx(357.33)
    assert cny[2022] == pytest.approx(246.36)
    assert cny[2012] == pytest.approx(25.17 * CNY_PER_USD_2012)
    assert usd[2012] == pytest.approx(25.17)
    assert usd[2023] == pytest.approx(357.33 / CNY_PER_USD_2023)
    blocks = selector.series(figs, kind="block")
    b23 = blocks[blocks["year"] == 2023].set_index("period_label")["value"]
    # January-August 2023 is known from the 2024 release's growth (285.32 bn, +30.9 %: R0455), so August
    # and September are blocks of their own
    assert list(b23.index) == ["Jan-Feb 2023", "Mar 2023", "Apr 2023", "May 2023", "Jun 2023", "Jul 2023",
                               "Aug 2023", "Sep 2023", "Oct 2023", "Nov 2023", "Dec 2023"]
    assert b23["Jan-Feb 2023"] == pytest.approx(44.39)          # 443.9 (100 million yuan), R0249
    assert b23["Mar 2023"] == pytest.approx(68.07 - 44.39)
    assert b23["Aug 2023"] == pytest.approx(285.32 / 1.309 - 183.16)
    assert b23["Sep 2023"] == pytest.approx(252.84 - 285.32 / 1.309)
    assert b23["Dec 2023"] == pytest.approx(37.43)             # the reported December
    assert b23["Nov 2023"] == pytest.approx(320.53 - 287.3)


# ---------------------------------------------------------------------------
# as_of
# ---------------------------------------------------------------------------


def test_as_of_excludes_later_publications(raw):
    cut = "2022-12-31"
    c = clean.clean(raw, as_of=cut)
    f = c.figures
    rep, der = f[f["origin"] == "reported"], f[f["origin"] == "derived"]
    assert (rep["published"] != "").all() and (rep["published"] <= cut).all()
    assert (der["published"] <= cut).all()
    published = raw.reports["source_id"].map(raw.sources.set_index("source_id")["published"])
    assert len(rep) == int(((published != "") & (published <= cut)).sum())
    assert {"R0337", "R0338", "R0393", "R0367"}.isdisjoint(rep["figure_id"])
    assert {"R0225", "R0220"} <= set(rep["figure_id"])
    # without the 2023 figures, nothing about 2022 is implied from them
    assert f[(f["method"] == "prior year from yoy") & (f["inputs"] == "R0337")].empty
    # Dec 2022 is no longer derivable (the 2022 total came out in 2023)
    assert quantity(f, label="Dec 2022").empty
    assert set(c.issues["selected_id"].dropna()) <= set(f["figure_id"])


# ---------------------------------------------------------------------------
# synthetic raw tables
# ---------------------------------------------------------------------------

SOURCES = {
    "s1": "2023-04-10",
    "s2": "2023-04-12",
    "s3": "2023-06-20",
}


def write_raw(folder: Path, rows: list[dict]) -> Path:
    """Tiny raw tables: Xinjiang total 2023 ytd rows in billion yuan unless overridden."""
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {"entity": "Xinjiang", "flow": "total", "partner": "World", "product": "all", "segment": "all",
                "indicator": "trade value", "unit": "billion yuan", "qualifier": "exact", "yoy_pct": "",
                "yoy_qualifier": "", "source_id": "s1", "description": "synthetic", "check": "verified"}
    with (folder / "reports.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(REPORT_COLUMNS)
        for i, row in enumerate(rows):
            rec = {**defaults, "row_id": f"R{i + 1:04d}", **row}
            last = int(rec.pop("through"))
            rec.setdefault("period_start", "2023-01")
            rec.setdefault("period_end", f"2023-{last:02d}")
            rec.setdefault("period_kind", "year" if last == 12 else "ytd")
            w.writerow([rec[c] for c in REPORT_COLUMNS])
    with (folder / "sources.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(SOURCE_COLUMNS)
        for sid, date in SOURCES.items():
            w.writerow([sid, f"title {sid}", "publisher", date, f"https://example.org/{sid}", "en", "no"])
    with (folder / "exchange_rates.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(RATE_COLUMNS)
        w.writerow(["2023", "7.0840", "s1", "test"])
    return folder


def ytd_rows(cleaned: clean.Cleaned) -> pd.DataFrame:
    f = cleaned.figures
    return f[f["method"] == "ytd difference"].set_index("period_label")


def test_ytd_differencing_synthetic(tmp_path):
    raw = load_raw(write_raw(tmp_path / "raw", [
        {"through": 2, "value": "10"},
        {"through": 3, "value": "16", "source_id": "s2"},
        {"through": 5, "value": "30", "source_id": "s3"},
    ]))
    c = clean.clean(raw)
    d = ytd_rows(c)
    assert sorted(d.index) == ["Apr-May 2023", "Mar 2023"]
    mar, apr_may = d.loc["Mar 2023"], d.loc["Apr-May 2023"]
    assert mar["value_cny_bn"] == pytest.approx(6.0) and mar["months"] == 1
    assert apr_may["value_cny_bn"] == pytest.approx(14.0) and apr_may["months"] == 2
    assert mar["inputs"] == "R0002;R0001" and apr_may["inputs"] == "R0003;R0002"
    assert mar["source_ids"] == "s1;s2" and apr_may["source_ids"] == "s2;s3"
    assert mar["published"] == "2023-04-12" and apr_may["published"] == "2023-06-20"
    assert (mar["period_start"], mar["period_end"]) == ("2023-03", "2023-03")
    assert (apr_may["period_start"], apr_may["period_end"], apr_may["period_kind"]) == ("2023-04", "2023-05",
                                                                                        "other")
    assert mar["value_usd_bn"] == pytest.approx(6.0 / CNY_PER_USD_2023)
    assert clean.trace(c.figures, apr_may["figure_id"]) == ["R0003", "R0002"]
    blocks = selector.series(c.figures, kind="block")
    assert blocks["period_label"].tolist() == ["Jan-Feb 2023", "Mar 2023", "Apr-May 2023"]
    assert blocks["value"].tolist() == pytest.approx([10.0, 6.0, 14.0])
    assert c.issues.empty


def test_falling_ytd_is_an_issue_not_a_negative_month(tmp_path):
    raw = load_raw(write_raw(tmp_path / "raw", [
        {"through": 2, "value": "10"},
        {"through": 3, "value": "9"},
    ]))
    c = clean.clean(raw)
    assert ytd_rows(c).empty
    assert not (c.figures["value_cny_bn"] < 0).any()
    i = one(c.issues)
    assert i["kind"] == "year-to-date falls" and i["severity"] == "conflict"
    assert (i["selected_id"], i["other_id"]) == ("R0002", "R0001")
    assert (i["selected_value"], i["other_value"]) == (9.0, 10.0)
    assert i["period_label"] == "Q1 2023"
    assert "Q1 2023 (9.00) is not above Jan-Feb 2023 (10.00)" in i["note"]


@pytest.mark.parametrize("other,expect_conflict", [
    ("16.1", True),     # (16.1 - 16.0) / 16.0 = +0.625 % > 0.5 %
    ("16.05", False),   # 0.31 %: rounding in print
    ("16.07", False),   # 0.44 %: still within the 0.5 % tolerance
])
def test_sources_disagree(tmp_path, other, expect_conflict):
    raw = load_raw(write_raw(tmp_path / "raw", [
        {"through": 3, "value": "16.0", "source_id": "s1"},
        {"through": 3, "value": other, "source_id": "s2"},
    ]))
    c = clean.clean(raw)
    found = c.issues[c.issues["kind"] == "sources disagree"]
    if expect_conflict:
        i = one(found)
        assert i["severity"] == "conflict"
        assert (i["selected_id"], i["other_id"]) == ("R0001", "R0002")   # same digits: earlier source wins
        assert i["difference_pct"] == pytest.approx(0.625, abs=1e-9)
        assert i["source_ids"] == "s1;s2"
        # a looser tolerance accepts it
        loose = clean.clean(raw, tol=Tolerance(same_currency=0.01))
        assert loose.issues[loose.issues["kind"] == "sources disagree"].empty
    else:
        assert found.empty
        assert c.issues.empty


def test_selection_prefers_yuan_and_exact_and_usable(tmp_path):
    raw = load_raw(write_raw(tmp_path / "raw", [
        {"through": 3, "value": "2.26", "unit": "billion USD", "source_id": "s1"},   # 16.01 CNY bn
        {"through": 3, "value": "16", "qualifier": "about", "source_id": "s2"},
        {"through": 3, "value": "16.02", "source_id": "s3"},
        {"through": 3, "value": "160.5", "unit": "100 million yuan", "source_id": "s3",
         "check": "implausible"},
    ]))
    f = clean.clean(raw).figures.set_index("figure_id")
    assert f["selected"].sum() == 1
    assert f.loc["R0003", "selected"]          # exact yuan beats dollars, 'about' and an implausible row


def test_published_order_then_row_id(tmp_path):
    raw = load_raw(write_raw(tmp_path / "raw", [
        {"through": 3, "value": "16.02", "source_id": "s3"},
        {"through": 3, "value": "16.02", "source_id": "s2"},
    ]))
    f = clean.clean(raw).figures.set_index("figure_id")
    assert f.loc["R0002", "selected"] and not f.loc["R0001", "selected"]   # first release wins


def test_part_exceeding_the_world_total_is_a_conflict(processed):
    """A partner figure above the entity's world total for the same months is flagged, naming both."""
    from xjtrade.data.clean import part_exceeds_whole
    from xjtrade.data.processed import load_processed
    figs, _, _ = load_processed(processed)
    sel = figs[figs["selected"]].copy()
    h1 = sel[(sel["entity"] == "Xinjiang") & (sel["partner"] == "Belt and Road") & (sel["flow"] == "total")
             & (sel["period_label"] == "H1 2023") & (sel["indicator"] == "trade value")].index[0]
    assert not [i for i in part_exceeds_whole(sel) if i["other_id"] == sel.at[h1, "figure_id"]]
    sel.at[h1, "value_cny_bn"] = 160.0                  # above the H1 2023 world total of 149.62
    issues = [i for i in part_exceeds_whole(sel) if i["other_id"] == sel.at[h1, "figure_id"]]
    assert len(issues) == 1
    issue = issues[0]
    assert issue["kind"] == "part exceeds whole" and issue["entity"] == "Xinjiang"
    assert issue["period_label"] == "H1 2023"
    assert issue["difference_pct"] == pytest.approx((160.0 - 149.62) / 149.62 * 100, abs=1e-3)


# ---------------------------------------------------------------------------
# relational statements recorded as data
# ---------------------------------------------------------------------------

def test_percent_of_previous_year_gives_that_year(figs):
    """R0441: Jan-Nov 2021 (R0168, 137.66 bn yuan) was 93 % of 2020, so 2020 = 137.66 / 0.93 = 148.02."""
    r = one(figs[(figs["method"] == "previous year from ratio") & (figs["entity"] == "Xinjiang")])
    assert r["period_label"] == "2020" and r["period_kind"] == "year"
    assert r["value_cny_bn"] == pytest.approx(137.66 / 0.93, abs=1e-6)       # 148.0215
    assert r["inputs"] == "R0168;R0441" and r["qualifier"] == "about"
    assert clean.trace(figs, r["figure_id"]) == ["R0168", "R0441"]
    # 2021's reported total and growth (R0443: 156.9 at +5.8 %) also imply 2020, exactly (148.30): that
    # derived figure is preferred to this approximate one, and the two agree within the 3 % for "about"
    other = one(figs[(figs["method"] == "prior year from yoy") & (figs["inputs"] == "R0443")])
    assert other["value_cny_bn"] == pytest.approx(156.9 / 1.058, abs=1e-6) and bool(other["selected"])
    assert not bool(r["selected"]) and abs(r["value_cny_bn"] / other["value_cny_bn"] - 1) < 0.03


def test_share_of_world_total_gives_the_total(figs):
    """R0442: Kazakhstan's 9 bn USD (R0007) was 40.8 % of Xinjiang's 2008 trade: 9 / 0.408 = 22.06 bn USD,
    checked against the reported 22.217 (R0420) within the 3 % allowed to an approximate figure."""
    r = one(figs[figs["method"] == "total from share"])
    assert (r["partner"], r["period_label"]) == ("World", "2008")
    assert r["value_usd_bn"] == pytest.approx(9 / 0.408, abs=1e-6)
    assert not bool(r["selected"])       # a reported total exists
    reported = figs[(figs["figure_id"] == "R0420")].iloc[0]
    assert abs(r["value_usd_bn"] / reported["value_usd_bn"] - 1) < 0.03


def test_relational_rows_need_their_base_figure():
    """A ratio with no value for its period derives nothing (and raises nothing)."""
    sel = pd.DataFrame([{
        "figure_id": "R9", "origin": "reported", "unit": "percent", "value": 93.0, "measure": "percent",
        "indicator": clean.RATIO_TO_PREVIOUS_YEAR, "entity": "X", "flow": "total", "partner": "World",
        "product": "all", "segment": "all", "start": 12 * 2021, "end": 12 * 2021 + 10, "selected": True}])
    assert clean.derive_relational(sel, clean.DeriveEnv({})) == ([], [])
