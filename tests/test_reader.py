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
    text = ("years [2019, 2020, 2021] are missing; ['arima'] fails; mean_growth beats share_mean; "
            "evaluable True; see [R0012](../figures.html#R0012)")
    out = wording.prose(text)
    assert out == ("years 2019-2021 are missing; ARIMA fails; mean growth beats year-to-date share (mean of years); "
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
    assert wording.counts_sentence(x).startswith("X: 2 reported figures from 2 sources, 1 derived figure;")
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
def processed_dir(tmp_path_factory):
    from pathlib import Path

    from xjtrade.data.processed import build_dataset
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("processed")
    build_dataset(root / "data" / "raw", out)
    return out


@pytest.fixture(scope="module")
def project_data(processed_dir):
    from xjtrade.data.processed import load_processed
    return load_processed(processed_dir)


# --- data package -------------------------------------------------------------------------------

def test_data_package_validates(project_data, processed_dir, tmp_path):
    """Written with frictionless from the processed tables and their one declared schema, and valid."""
    import frictionless

    from xjtrade.data.schema import TABLES
    from xjtrade.report.downloads import write_package
    figures, issues, sources = project_data
    path = write_package(tmp_path, processed_dir, "Xinjiang Trade Monitor", None, "2026-01-01")
    report = frictionless.validate(str(path))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    pkg = json.loads(path.read_text())
    fig = next(r for r in pkg["resources"] if r["name"] == "figures")
    fields = {f["name"]: f for f in fig["schema"]["fields"]}
    assert fields["value_cny_bn"]["unit"] == "billion CNY"
    assert all(f["description"] for f in fields.values())
    assert pkg["licenses"][0]["name"] == "CC-BY-4.0"
    assert [r["name"] for r in pkg["resources"]] == list(TABLES) == ["figures", "quality", "sources", "exchange_rates"]
    for r in pkg["resources"]:     # every table's fields are its declared columns, in order
        assert [f["name"] for f in r["schema"]["fields"]] == TABLES[r["name"]].names
    assert fields["origin"]["constraints"] == {"required": True, "enum": ["reported", "derived"]}
    assert next(r for r in pkg["resources"] if r["name"] == "exchange_rates")["schema"]["primaryKey"] == ["year"]
    back = pd.read_csv(tmp_path / "figures.csv")
    assert len(back) == len(figures)
    assert len(pd.read_parquet(tmp_path / "figures.parquet")) == len(figures)


def test_bad_package_fails_validation(processed_dir, tmp_path):
    """The validation can fail: a text in a number column is caught, and the publish step's check
    (`downloads.validate`) refuses the package, naming the problem."""
    import frictionless

    from xjtrade.report.downloads import DataPackageError, validate, write_package
    path = write_package(tmp_path, processed_dir, "t", None, None)
    csv = tmp_path / "sources.csv"
    lines = csv.read_text().splitlines()
    lines[1] = ",".join(lines[1].split(",")[:-1] + ["many"])
    csv.write_text("\n".join(lines) + "\n")
    assert not frictionless.validate(str(path)).valid
    with pytest.raises(DataPackageError, match="type-error"):
        validate(path)


# --- front page ---------------------------------------------------------------------------------

def _target(year, point, lo80, hi80, lo95, hi95):
    return {"period": str(year), "year": year, "month": 12, "point": point, "lo80": lo80, "hi80": hi80,
            "lo95": lo95, "hi95": hi95}


def _results(outlook=None, growth=None, data=None, calendar=None):
    from xjtrade.report.results import load_results
    raw = {"parameters": {"entity": "Xinjiang", "flow": "total", "partner": "World", "currency": "CNY",
                          "as_of": None, "title": "T", "break_year": 2022},
           "growth": growth or {}}
    if outlook is not None:
        raw["forecast"] = {"outlook": outlook, **({"calendar": calendar} if calendar else {})}
    if data is not None:
        raw["data"] = data
    return load_results(json.dumps(raw))


OUTLOOK = {"ok": True, "as_of": "2024-01-30", "current_year": 2024, "months_known": 0,
           "annual": [_target(2024, 396.2, 282.7, 521.8, 230.6, 632.6), _target(2025, 443.3, 261.1, 655.7, 202.4, 861.7)],
           "choices": [{"use": "within year", "model": "share_mean", "label": "year-to-date share (mean of years)",
                        "reason": "r", "scored": 48},
                       {"use": "years ahead", "model": "mean_growth", "label": "mean growth", "reason": "r",
                        "scored": 19}],
           "coverage80": 0.67, "coverage95": 0.87, "track_record_forecasts": 67,
           "headline": _target(2024, 396.2, 282.7, 521.8, 230.6, 632.6), "base_year": 2023, "base_value": 357.33, "headline_growth80": [-20.9, 46.0],
           "headline_coverage": {"use": "years ahead", "horizon": "12-17 months", "n": 12, "years": 4,
                                 "empirical80": 0.25, "empirical95": 0.75}}
CALENDAR = {"latest_period": "the year 2023", "latest_end": "2023-12", "latest_published": "2024-01-23",
            "period": "January-February 2024", "end": "2024-02", "expected": "2024-03-20", "earliest": "2024-03-16",
            "latest": "2024-03-25", "lag_median": 20, "lag_low": 16, "lag_high": 25, "releases": 24}


def test_one_outlook_per_target_year():
    from xjtrade.report.pages import outlooks
    outs = outlooks(_results(OUTLOOK))
    assert [o["year"] for o in outs] == [2024, 2025]
    assert outs[0]["value"] == 396.2 and (outs[0]["lo95"], outs[0]["hi95"]) == (230.6, 632.6)
    assert "mean growth" in outs[0]["how"]
    # with two months of 2024 known, 2024 is the nowcast made by the within-year method
    now = outlooks(_results({**OUTLOOK, "months_known": 2}))
    assert "nowcast from 2 published months" in now[0]["how"] and "forecast" in now[1]["how"]
    assert outlooks(_results({"ok": False, "reason": "no data"})) == []


SERIES = {"entity": "Xinjiang", "flow": "total", "partner": "World", "currency": "CNY", "unit": "billion yuan",
          "subject": "Xinjiang total trade", "start_year": 2011, "end_year": 2023, "n_years": 12,
          "points": [{"year": 2011, "value": 147.5, "origin": "reported", "figure_id": "R0100"},
                     {"year": 2019, "value": 237.0, "origin": "estimated", "lo80": 220.0, "hi80": 250.0},
                     {"year": 2023, "value": 357.33, "origin": "reported", "figure_id": "R0339",
                      "sources": [{"id": "chinaxiaokang-2024-01-24", "publisher": "China Xiaokang Net"}]}],
          "level": {"first_year": 2011, "first_value": 147.5, "last_year": 2023, "last_value": 357.33,
                    "ratio": 2.4226, "change_pct": 142.26},
          "counts": {"scope": "the annual series", "reported": 10, "derived": 2, "sources_used": 8}}
COUNTS = {"dataset": {"scope": "the whole dataset", "reported": 443, "derived": 570, "sources_used": 156,
                      "sources_listed": 159, "conflicts": 6, "warnings": 22, "notes": 8},
          "entity": {"scope": "Xinjiang", "reported": 321, "derived": 481, "sources_used": 99}}


def test_summary_page_formats_the_results(tmp_path):
    """The front page states the run's results (window, multiple, counts, outlook), with links and
    no code; nothing on it is computed from the data (the publish step reads no processed table)."""
    from xjtrade.report.pages import summary_page
    res = _results({**OUTLOOK, "choices": [{**c, "label": "ETS with damped trend"} if c["use"] == "years ahead" else c
                                           for c in OUTLOOK["choices"]]},
                   growth={"latest_year": 2023, "latest_value": 357.33, "latest_yoy_pct": 45.9, "series": SERIES,
                           "figures": {"2023": "R0339"}, "cagr": [{"start": 2011, "end": 2023, "cagr_pct": 7.66}]},
                   data={"reported_figures": 321, "sources": 99, "derived_figures": 481, "derived_in_use": 59,
                         "counts": COUNTS})
    res = res.model_copy(update={"forecast": res.forecast.model_copy(update={"headline_figure": "figures/headline.svg"})})
    page = summary_page(res, [], {"build_date": "2026-01-01"})
    assert "[R0339](figures.html#R0339)" in page
    assert "[China Xiaokang Net](sources.qmd#src-chinaxiaokang-2024-01-24)" in page
    assert "ETS with damped trend" in page and "ets_damped" not in page and "mean_growth" not in page
    assert "2024: **396.2 billion yuan**" in page and "95% interval 230.6 to 632.6" in page
    # the width of the headline's interval in words and the coverage at its horizon, not the pooled one
    assert "anything from -20.9% to +46.0% growth on 2023 would not surprise the model" in page
    assert "made 12-17 months before the end of the target year" in page and "in 3 of 12 forecasts (25.0%" in page
    assert "67.0%" not in page and "median of the simulated totals" in page
    assert page.count("**Outlook.**") == 1
    assert "The whole dataset: 443 reported figures from 156 sources" in page  # labelled with what it counts
    assert "Xinjiang: 321 reported figures from 99 sources" in page
    # the chart's caption and the series' counts: the run's window, not the whole history
    assert "reached 357.3 billion yuan in 2023, 2.4 times its 2011 level" in page.replace("\\", "")
    assert ("The annual series charted above (2011-2023, 12 calendar years with a published or derived total) "
            "rests on 10 reported figures from 8 sources; 2 of its values are derived") in page
    # the chart is a figure of its own (a paragraph of its own), not an image inside a list item; its alt text
    # is generated (tests/test_first_screen.py)
    assert "\n\n![" in page and '](figures/headline.svg){#fig-headline fig-alt="Chart of ' in page
    assert "**Next release.**" not in page and "**Warning.**" not in page


def test_summary_page_gives_the_next_release_and_warns_when_the_record_is_stale(monkeypatch):
    """With the build date (or XJTRADE_TODAY) fixed after the expected date of the next release, the front
    page warns first; before it, it only says when the next figures are expected."""
    from xjtrade.report.pages import summary_page
    monkeypatch.delenv("XJTRADE_TODAY", raising=False)
    res = _results(OUTLOOK, calendar=CALENDAR)
    fresh = summary_page(res, [], {"build_date": "2024-03-01"})
    assert "**Next release.** The next figures (January-February 2024) are expected around 2024-03-20" in fresh
    assert "**Warning.**" not in fresh
    stale = summary_page(res, [], {"build_date": "2024-05-01"})
    points = stale.split("## Main points", 1)[1]
    assert points.lstrip().startswith("- **Warning.** The record may be out of date")
    monkeypatch.setenv("XJTRADE_TODAY", "2024-03-01")
    assert "**Warning.**" not in summary_page(res, [], {"build_date": "2024-05-01"})


def test_sources_page_lists_the_editions_sources_first_and_the_rest_on_the_site_only():
    """A port's PDF does not spend pages on sources it never cites: those follow in an HTML-only block."""
    from xjtrade.report.pages import sources_page
    df = pd.DataFrame([{"source_id": f"s{i}", "title": f"T{i}", "publisher": "P", "published": f"2020-01-0{i + 1}",
                        "url": "https://example.com/x", "language": "en", "date_inferred": "no", "figures": 1}
                       for i in range(3)])
    page = sources_page(df, None, {"s1"})
    before_html, html_block = page.split('::: {.content-visible when-format="html"}', 1)
    assert "**T1**" in before_html and "**T0**" not in before_html and "**T2**" not in before_html
    assert "**T0**" in html_block.split(":::")[0] and "**T2**" in html_block.split(":::")[0]
    assert "The other sources of the whole dataset, which supply none" in page
    assert sources_page(df, None).count("**T") == 3          # no edition filter: every source, once


def test_methods_chapter_is_filled_from_the_results(root):
    """methods.qmd is a template: its front matter stays, its tables and statements come from the
    results (an edition whose evaluation scored nothing says so instead of quoting numbers)."""
    import yaml

    from xjtrade.report.evaluation_facts import model_rows
    from xjtrade.report.pages import methods_page
    from xjtrade.report.results import EvaluationFacts
    facts = {"min_origins": 8, "min_past": 8, "k_max": 4.0, "z80": 1.2816,
             "choices": [{"use": "years ahead", "model": "combination", "label": "equal-weight combination",
                          "scored": 3, "required": 8, "default_used": True}]}
    res = _results(OUTLOOK, data={"reported_figures": 1, "sources": 1, "derived_figures": 0, "derived_in_use": 0,
                                  "tolerances": [{"comparison": "about", "words": "a figure reported as 'about'",
                                                  "value": 0.03}]})
    res = res.model_copy(update={"forecast": res.forecast.model_copy(update={
        "models": model_rows(), "evaluation": EvaluationFacts(**facts)})})
    page = methods_page((root / "methods.qmd").read_text(encoding="utf-8"), res)
    assert page.startswith("---\n") and yaml.safe_load(page.split("---\n")[1]) == {"title": "Methods"}
    assert "{{" not in page and "{%" not in page and "{##" not in page
    assert "| a figure reported as 'about' | 3% |" in page
    # the rule's constants come from the code (stats/calibration.py), the statements from the results
    assert "with fewer than 8 such errors at that horizon" in page and "at most 4)" in page
    assert "No forecast of this edition's track record has been scored yet" in page


# --- the trend-break test in words (issue 21, item 5) ---------------------------------------------

REFUSED = {"testable": False, "n_before": 11, "n_after": 2,
           "reason": "the series has only 2 years from 2022 on; the test needs at least 3 years on each side "
                     "of the break"}
TESTED = {"testable": True, "reason": "", "f_stat": 9.12, "p_value": 0.004, "significant": True,
          "growth_before_pct": 6.1, "growth_after_pct": 31.9, "n_before": 10, "n_after": 3}


def test_front_page_claims_no_break_the_test_refused():
    from xjtrade.report.pages import summary_page
    growth = {"latest_year": 2023, "latest_value": 357.33, "cagr": [{"start": 2011, "end": 2023, "cagr_pct": 7.66}]}
    refused = summary_page(_results(growth={**growth, "break": REFUSED}), [], {"build_date": "2026-01-01"})
    assert "significant break" not in refused
    assert ("Whether the trend broke in 2022 is not tested: the series has only 2 years from 2022 on; the test "
            "needs at least 3 years on each side of the break.") in refused
    tested = summary_page(_results(growth={**growth, "break": TESTED}), [], {"build_date": "2026-01-01"})
    assert ("From 2022 the trend shows a significant break (trend growth +6.1% before, +31.9% after; "
            "10 years before, 3 from 2022 on)") in tested
    assert "not tested" not in tested
    # a test that ran but gave no p-value (an exact fit) claims nothing either way
    exact = summary_page(_results(growth={**growth, "break": {**TESTED, "p_value": None, "significant": None,
                                                              "reason": "broken trend fits the data exactly"}}),
                         [], {"build_date": "2026-01-01"})
    assert "significant break" not in exact


def test_growth_chapter_states_the_points_on_each_side_or_refuses_in_words():
    from types import SimpleNamespace
    from xjtrade.report.chapters import _growth_text
    ctx = SimpleNamespace(params=SimpleNamespace(break_year=2022, currency="CNY", start_year=2011, end_year=2023),
                          subject="Xinjiang total trade")
    base = {"n_years": 13, "years": list(range(2011, 2024)), "cagr": [], "trend": {}}
    refused = _growth_text(ctx, {**base, "break": REFUSED})
    assert ("The trend is not tested for a break from 2022: the series has only 2 years from 2022 on; the test "
            "needs at least 3 years on each side of the break.") in refused
    assert "reject" not in refused and "not testable: not testable" not in refused
    tested = _growth_text(ctx, {**base, "break": TESTED})
    assert ("A test for a break in the trend from 2022, on 10 years before 2022 and 3 from it on, rejects a single "
            "trend at the 5% level (F = 9.12, p = 0.004)") in tested


def test_quality_table_names_the_segment():
    """A border-trade figure in the data-quality table says so (it is not the region's total)."""
    from types import SimpleNamespace
    from xjtrade.report.chapters import quality_table
    issues = pd.DataFrame([
        {"issue_id": "Q001", "severity": "conflict", "kind": "values differ", "entity": "Xinjiang", "flow": "total",
         "partner": "World", "segment": "border trade", "period_label": "2014", "selected_id": "R0010",
         "other_id": "R0011", "difference_pct": 12.5, "note": "n"},
        {"issue_id": "Q002", "severity": "warning", "kind": "sum mismatch", "entity": "Xinjiang", "flow": "exports",
         "partner": "World", "segment": "all", "period_label": "2015", "selected_id": "R0020", "other_id": None,
         "difference_pct": 1.5, "note": ""},
        {"issue_id": "Q003", "severity": "note", "kind": "x", "entity": "Horgos", "flow": "total",
         "partner": "World", "segment": "all", "period_label": "2015", "selected_id": "R0030", "other_id": None,
         "difference_pct": None, "note": ""}])
    figures = pd.DataFrame({"figure_id": ["R0010", "R0020"], "selected": [True, True]})
    ctx = SimpleNamespace(issues=issues, figures=figures, params=SimpleNamespace(entity="Xinjiang"))
    t = quality_table(ctx)
    assert list(t.columns[:6]) == ["issue", "severity", "what", "flow", "partner", "segment"]
    assert t.set_index("issue")["segment"].to_dict() == {"Q001": "border trade", "Q002": "all trade"}


# --- every edition consistent; qualifiers and currency on the front page (issue 21, items 4 and 6) ----

def test_front_page_level_carries_the_qualifier_and_the_conversion():
    """2018 was reported as "about 20 bn USD" (R0093): a yuan edition ending in 2018 says "about" and
    that the figure was converted from dollars."""
    from xjtrade.report.pages import summary_page
    pt = {"year": 2018, "value": 132.348, "origin": "reported", "figure_id": "R0093", "qualifier": "about",
          "printed_in": "USD"}
    series = {**SERIES, "end_year": 2018, "points": [SERIES["points"][0], pt],
              "level": {"first_year": 2011, "first_value": 147.5, "last_year": 2018, "last_value": 132.348,
                        "ratio": 0.8973, "change_pct": -10.27, "last_qualifier": "about"}}
    res = _results({"ok": False, "reason": "r"}, growth={"latest_year": 2018, "latest_value": 132.348,
                                                         "series": series})
    res = res.model_copy(update={"forecast": res.forecast.model_copy(update={"headline_figure": "figures/h.svg"})})
    page = summary_page(res, [], {"build_date": "2026-01-01"})
    assert "came to **about 132.3 billion yuan** in 2018" in page
    assert "Converted from US dollars at the year's average rate." in page
    assert "reached about 132.3 billion yuan in 2018" in page.replace("\\", "")   # the chart title too


HORGOS = {"entity": "Horgos port", "flow": "total", "partner": "World", "currency": "CNY", "unit": "billion yuan",
          "subject": "Horgos port total trade", "start_year": 2017, "end_year": 2022, "n_years": 2,
          # R0068: 135.2 bn yuan in 2018 at +22.2 %; 2022 only to November (R0235, 271.94 bn yuan)
          "points": [{"year": 2017, "value": 110.64, "origin": "derived", "figure_id": "DPY-541bdaa3"},
                     {"year": 2018, "value": 135.2, "origin": "reported", "figure_id": "R0068"},
                     {"year": 2019, "value": 119.71, "origin": "estimated", "lo80": 112.25, "hi80": 127.66,
                      "months_known": 11},
                     {"year": 2022, "value": 298.94, "origin": "estimated", "lo80": 280.32, "hi80": 318.8,
                      "months_known": 11}],
          "level": {"first_year": 2017, "first_value": 110.64, "last_year": 2018, "last_value": 135.2,
                    "ratio": 1.222, "change_pct": 22.2}}


def test_port_front_page_names_the_latest_year_the_outlook_speaks_of():
    """The level is the last full year (2018); the outlook's reason speaks of January-November 2022: the
    level point says that later years have only part-year figures and what 2022 is estimated at."""
    from xjtrade.report.pages import summary_page
    reason = ("no outlook can be given for Horgos port total trade: its latest figure covers January-November "
              "2022, too long before 2026 to say anything about the coming year")
    page = summary_page(_results({"ok": False, "reason": reason},
                                 growth={"latest_year": 2018, "latest_value": 135.2, "latest_yoy_pct": 22.2,
                                         "series": HORGOS}), [], {"build_date": "2026-12-07"})
    assert "came to **135.2 billion yuan** in 2018" in page
    assert ("Later years have only part-year figures (2019 and 2022); the latest, 2022, is estimated at 298.9 "
            "billion yuan from its January-November figure (80% interval 280.3 to 318.8).") in page
    # each point on its own line: the outlook's reason is not run into the next point
    assert "\n- **Outlook.** No outlook can be given for Horgos port total trade" in page
    assert "January\\-November 2022, too long before 2026" in page          # markdown-escaped data text
    assert "year.-" not in page and page.count("**Outlook.**") == 1


def test_vintage_front_page_gives_one_number_for_the_nowcast_year_and_reads_lateness_at_its_date():
    """An edition as of 2022-12-31: 2022 is known to November; the outlook nowcasts it, so the level point
    refers to the outlook instead of giving a second estimate of 2022; the next release (expected
    2023-01-24) is not late on 2022-12-31, whenever the edition is built."""
    from xjtrade.report.pages import summary_page
    series = {**HORGOS, "entity": "Xinjiang", "subject": "Xinjiang total trade",
              "points": [HORGOS["points"][1], {**HORGOS["points"][3], "value": 246.0}],
              "level": {**HORGOS["level"], "last_year": 2018}}
    out = {**OUTLOOK, "as_of": "2022-12-31", "current_year": 2022, "months_known": 11,
           "nowcast": _target(2022, 247.2, 236.9, 253.6, 232.2, 259.8)}
    cal = {**CALENDAR, "latest_period": "January-November 2022", "latest_end": "2022-11",
           "latest_published": "2022-12-16", "period": "the year 2022", "end": "2022-12", "expected": "2023-01-24",
           "earliest": "2023-01-17", "latest": "2023-02-01"}
    res = _results(out, calendar=cal, growth={"latest_year": 2018, "latest_value": 135.2, "series": series})
    res = res.model_copy(update={"parameters": res.parameters.model_copy(update={"as_of": "2022-12-31"})})
    page = summary_page(res, [], {"build_date": "2026-12-07"})
    assert "2022 has only part-year figures (January-November); its nowcast is in the outlook below." in page
    assert "246.0" not in page
    assert "**Warning.**" not in page and "expected around 2023-01-24" in page
