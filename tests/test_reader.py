"""What a reader sees: wording, counts, the source preference, the data package, the front page."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from xjtrade.report import wording
from xjtrade.report.counts import counts


# --- wording ------------------------------------------------------------------------------------

def test_years_and_lists_in_words():
    assert wording.years_text([2011, 2012, 2013, 2014, 2022, 2023]) == "2011-2014, 2022 and 2023"
    assert wording.years_text([2019]) == "2019"
    assert wording.join_words(["a", "b", "c"]) == "a, b and c"
    assert wording.count(1, "derived value") == "1 derived value"
    assert wording.count(3, "derived value") == "3 derived values"


def test_prose_removes_python_literals_and_identifiers():
    text = ("years [2019, 2020, 2021] are missing; ['arima'] fails; mean_growth beats ets_damped; "
            "evaluable True; see [R0012](../figures.html#R0012)")
    out = wording.prose(text)
    assert out == ("years 2019-2021 are missing; ARIMA fails; mean growth beats ETS with damped trend; "
                   "evaluable yes; see [R0012](../figures.html#R0012)")


def test_md_text_escapes_markdown():
    assert wording.md_text("a *b* [c](d) <e>") == r"a \*b\* \[c\]\(d\) \<e\>"
    assert wording.md_text(None) == ""


# --- counts -------------------------------------------------------------------------------------

def _figs():
    return pd.DataFrame({
        "figure_id": ["R1", "R2", "R3", "DPY-1"], "entity": ["X", "X", "Y", "X"],
        "origin": ["reported", "reported", "reported", "derived"],
        "source_ids": ["s1", "s1;s2", "s3", "s1"]})


def test_counts_are_labelled_by_scope():
    issues = pd.DataFrame({"entity": ["X", "Y", "X"], "severity": ["conflict", "warning", "note"],
                           "selected_id": ["R1", "R3", "R2"], "other_id": [None, None, None]})
    every = counts(_figs(), issues, pd.DataFrame({"source_id": ["s1", "s2", "s3", "s4"]}))
    assert (every.reported, every.derived, every.sources_used, every.sources_listed) == (3, 1, 3, 4)
    assert (every.conflicts, every.warnings, every.notes) == (1, 1, 1)
    x = counts(_figs(), issues, entity="X")
    assert (x.reported, x.derived, x.sources_used, x.conflicts, x.warnings) == (2, 1, 2, 1, 0)
    assert x.sentence().startswith("X: 2 reported figures from 2 sources, 1 derived figure;")
    series = counts(_figs(), issues, figure_ids=["R2", "DPY-1"])
    assert (series.reported, series.derived, series.notes, series.conflicts) == (1, 1, 1, 0)
    assert series.scope == "this series"


# --- source preference --------------------------------------------------------------------------

def test_source_rank():
    from xjtrade.data.clean import source_rank
    assert source_rank("http://english.www.gov.cn/x", "State Council of the PRC (gov.cn)") == 0
    assert source_rank("https://x.com/a", "x.com (mirror or repost site)") == 1
    assert source_rank("seed:002_x.txt", "seed article") == 2


def test_headline_2023_figure_comes_from_a_reachable_source(project_data):
    figures, _, sources = project_data
    sel = figures[(figures["entity"] == "Xinjiang") & (figures["flow"] == "total") & (figures["partner"] == "World")
                  & (figures["period_kind"] == "year") & (figures["year"] == 2023) & figures["selected"]
                  & (figures["indicator"] == "trade value") & (figures["segment"] == "all")]
    assert len(sel) == 1
    src = sources.set_index("source_id").loc[sel.iloc[0]["source_ids"]]
    assert src["url"].startswith("http"), src
    assert sel.iloc[0]["value_cny_bn"] == pytest.approx(357.33)


@pytest.fixture(scope="module")
def project_data(tmp_path_factory):
    from pathlib import Path

    from xjtrade.data.processed import build_dataset, load_processed
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("processed")
    build_dataset(root / "data" / "raw", out)
    return load_processed(out)


# --- data package -------------------------------------------------------------------------------

def test_data_package_validates(project_data, tmp_path):
    frictionless = pytest.importorskip("frictionless")
    from xjtrade.report.downloads import write_package
    figures, issues, sources = project_data
    path = write_package(tmp_path, figures, sources, issues, "Xinjiang Trade Monitor", None, "2026-01-01")
    report = frictionless.validate(str(path))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    pkg = json.loads(path.read_text())
    fig = next(r for r in pkg["resources"] if r["name"] == "figures")
    fields = {f["name"]: f for f in fig["schema"]["fields"]}
    assert fields["value_cny_bn"]["unit"] == "billion CNY"
    assert all(f["description"] for f in fields.values())
    assert pkg["licenses"][0]["name"] == "CC-BY-4.0"
    back = pd.read_csv(tmp_path / "figures.csv")
    assert len(back) == len(figures)
    assert len(pd.read_parquet(tmp_path / "figures.parquet")) == len(figures)


def test_bad_package_fails_validation(project_data, tmp_path):
    """The validation can fail: a text in a number column is caught."""
    frictionless = pytest.importorskip("frictionless")
    from xjtrade.report.downloads import write_package
    figures, issues, sources = project_data
    path = write_package(tmp_path, figures, sources, issues, "t", None, None)
    csv = tmp_path / "sources.csv"
    lines = csv.read_text().splitlines()
    lines[1] = ",".join(lines[1].split(",")[:-1] + ["many"])
    csv.write_text("\n".join(lines) + "\n")
    assert not frictionless.validate(str(path)).valid


# --- front page ---------------------------------------------------------------------------------

def _results(**forecast):
    return {"parameters": {"entity": "Xinjiang", "flow": "total", "partner": "World", "currency": "CNY",
                           "as_of": None, "title": "T", "break_year": 2022},
            "growth": {}, "forecast": forecast}


def test_one_outlook_per_target_year():
    from xjtrade.report.publish import outlooks
    res = _results(main={"forecast": {"2024": 357.3, "2025": 360.0}, "chosen_model": "mean_growth",
                         "first_year": 2022, "last_year": 2023, "intervals": {"80": {"2024": [1, 2], "2025": [1, 3]}}},
                   monthly={"next_year": 2024, "next_year_total": 535.7, "chosen_model": "drift"},
                   nowcast={"year": 2024, "by_share": 400.0})
    outs = outlooks(res)
    assert [o["year"] for o in outs] == [2024, 2025]
    assert outs[0]["value"] == 357.3 and "mean growth" in outs[0]["how"]
    only_monthly = outlooks(_results(monthly={"next_year": 2024, "next_year_total": 535.7, "chosen_model": "drift"}))
    assert [(o["year"], o["value"]) for o in only_monthly] == [(2024, 535.7)]


def test_summary_page_has_no_code_and_links_figures(project_data):
    from xjtrade.report.publish import summary_page
    figures, issues, sources = project_data
    res = _results(main={"forecast": {"2024": 357.3}, "chosen_model": "ets_damped", "first_year": 2022,
                         "last_year": 2023, "intervals": {"80": {"2024": [300.0, 420.0]}}})
    res["growth"] = {"latest_year": 2023, "latest_value": 357.33, "latest_yoy_pct": 45.9,
                     "figures": {"2023": "R0339"}, "cagr": [{"start": 2011, "end": 2023, "cagr_pct": 7.66}]}
    page = summary_page(res, figures, sources, issues, [], {"build_date": "2026-01-01"}, "figures/headline.svg")
    assert "[R0339](figures.html#R0339)" in page
    assert "China Xiaokang" in page
    assert "ETS with damped trend" in page and "ets_damped" not in page
    assert page.count("**Outlook.**") == 1
    n = int((figures["origin"] == "reported").sum())
    assert f"The whole dataset: {n} reported figures" in page  # labelled with what it counts
    assert "The whole dataset:" in page and "Xinjiang: " in page
