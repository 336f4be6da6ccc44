"""The forecast chapter's sections of a sparse edition (issue 21, item 6): a section with nothing to show
says nothing (the staging step then drops its heading), the chapter says once what is missing and why,
and a lead-in names only the tables shown (a reference to a table left out would dangle)."""

from __future__ import annotations

import pandas as pd

from xjtrade.report import forecast_sections as fs
from xjtrade.report.results import EvaluationFacts, OutlookResults
from xjtrade.report.staging import stage_notebook

EMPTY = pd.DataFrame()
ROWS = pd.DataFrame({"a": [1]})
# Horgos port: 11 forecasts at 2 release dates, all of the next year-to-date figure
HORGOS = EvaluationFacts(vintages=2, first_vintage="2019-01-13", last_vintage="2019-04-22", forecasts=11,
                         min_origins=8, min_past=8, k_max=4.0, z80=1.28)
NONE = EvaluationFacts(min_origins=8, min_past=8, k_max=4.0, z80=1.28)


def test_a_sparse_edition_says_once_what_is_missing_and_why():
    text = fs.comparison(EMPTY, HORGOS, "Horgos port total trade", track_shown=True)
    assert text == ("The evaluation scored 11 forecasts of Horgos port total trade, made at 2 release dates "
                    "(2019-01-13 to 2019-04-22), all of the next year-to-date figure: no total of the year of a "
                    "release date, or of the year after, was published later, so the models cannot be compared on "
                    "annual totals, by target year or against a naive benchmark.")
    # the sections that rest on the same forecasts say nothing more: their headings go
    assert fs.years(EMPTY, EMPTY, comparison_shown=False) == ""
    assert fs.benchmark(EMPTY, comparison_shown=False) == ""
    # the track record names only its one table, without repeating the reason
    track = fs.track(annual=0, coverage=0, forecasts=2, comparison_shown=False)
    assert track == "The track record holds only the outlook's forecasts of the next year-to-date release (@tbl-track)."
    assert "@tbl-interval-coverage" not in track and "@fig-track" not in track
    assert fs.nowcast(OutlookResults(ok=False, reason="no outlook"), "billion yuan") == ""
    assert fs.ledger(track_shown=True).startswith("The track record above is recomputed")
    # nothing scored at all: no track record either, said in the same sentence
    nothing = fs.comparison(EMPTY, NONE, "X total trade", track_shown=False)
    assert nothing.startswith("No forecast of X total trade could be scored") and "no track record" in nothing
    assert fs.track(0, 0, 0, comparison_shown=False) == ""
    assert not fs.ledger(track_shown=False).startswith("The track record")


def test_a_full_edition_keeps_every_lead_in_and_a_partial_one_says_what_each_lacks():
    assert fs.comparison(ROWS, HORGOS, "X", track_shown=True).startswith("@tbl-comparison scores every model")
    assert fs.years(ROWS, ROWS, True).endswith("; @tbl-years-coverage the coverage of its 80% intervals.")
    assert "@tbl-years-coverage" not in fs.years(ROWS, EMPTY, True)
    assert fs.benchmark(ROWS, True).startswith("Coverage alone rewards wide intervals. @tbl-benchmark")
    assert "@fig-track" in fs.track(5, 3, 9, True) and "@tbl-interval-coverage" in fs.track(5, 3, 9, True)
    # annual totals scored, but none within the year / none of the years ahead: each section says so
    assert fs.years(EMPTY, EMPTY, True) == "No forecast within the year was scored, so there are no scores by target year."
    assert fs.benchmark(EMPTY, True).startswith("No forecast of the years ahead was scored")


def _md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": [text]}


def _code(source, shown: str | None):
    outputs = [{"output_type": "display_data", "metadata": {}, "data": {"text/markdown": [shown]}}] if shown else []
    return {"cell_type": "code", "metadata": {}, "source": [source], "outputs": outputs, "execution_count": 1}


def test_the_book_drops_the_heading_of_a_section_that_shows_nothing():
    """The chapter's headings are heading-only cells: with an empty lead-in and tables not shown, the
    staging step leaves the section out (both engines read the staged notebook)."""
    nb = {"cells": [_md("## Year by year"), _code("xa.show_markdown(fs.years(...))", None),
                    _code("#| label: tbl-years-within\nif len(years_within): ...", None),
                    _md("## Track record"), _code("xa.show_markdown(fs.track(...))", "The track record holds ...")],
          "metadata": {}}
    kept = ["".join(c["source"]) for c in stage_notebook(nb)["cells"] if c["cell_type"] == "markdown"]
    assert kept == ["## Track record"]


def _bench(by, group, n, ratio):
    from xjtrade.report.results import BenchmarkRow
    return BenchmarkRow(by=by, group=group, n=n, years=1, ratio80=ratio)


def test_benchmark_by_target_year_and_era_in_words():
    """Better, worse or the same as the ratio prints (2 decimals: 0.996 prints 1.00, so 'the same'); the
    eras named with their forecasts; one year alone is not called better or worse 'by target year'."""
    from xjtrade.report import forecast_words as fw
    rows = [_bench("horizon", "12-17 months", 5, 1.2), _bench("era", "2019-2023", 3, 1.234),
            _bench("era", "2024-latest", 2, 0.5), _bench("target year", "2021", 1, 0.996),
            _bench("target year", "2022", 2, 1.5), _bench("target year", "2023", 1, 0.7),
            _bench("target year", "2024", 2, 0.5), _bench("pooled", "all", 5, 1.2)]
    assert fw.benchmark_by_year(rows) == (
        "By target year, the outlook's 80% intervals scored better than the benchmark's in 2023 and 2024; "
        "worse in 2022; the same in 2021. By era, the ratio is 1.23 over the target years 2019-2023 (3 forecasts) "
        "and 0.50 over the target years 2024-latest (2 forecasts).")
    assert fw.benchmark_by_year([rows[3], rows[4]]) == (
        "By target year, the outlook's 80% intervals scored worse than the benchmark's in 2022; the same in 2021.")
    assert fw.benchmark_by_year([rows[3], _bench("target year", "2022", 2, 1.004)]) == (
        "By target year, the outlook's 80% intervals scored as well as the benchmark's in 2021 and 2022.")
    assert fw.benchmark_by_year([rows[4]]) == "The one target year scored, 2022, gives a ratio of 1.50."
    assert fw.benchmark_by_year(rows[:3]) == ""          # no target year: nothing to say by year
    # the section's lead-in carries it after the fixed text, only when the table is shown
    assert fs.benchmark(ROWS, True, rows).endswith("(2 forecasts).")
    assert fs.benchmark(EMPTY, True, rows).startswith("No forecast of the years ahead was scored")
