"""Growth rates printed with a word (issue 21, item 4): "doubled" is about 100 %, "more than 42 percent"
a lower bound.  The `yoy_qualifier` column of data/raw, its checks, its way through the cleaning step
(derived figures carry it, turned the way the arithmetic turns it), the extractor's reading of 翻番 /
"doubled", `data add`, and the tables and pages that show a reported rate."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xjtrade.data import qualifiers, schema
from xjtrade.data.clean import Tolerance, clean, normalise, rates_agree
from xjtrade.data.extract.add import plan_add
from xjtrade.data.extract.candidates import CANDIDATE_COLUMNS, propose_source, rows as candidate_rows, to_csv
from xjtrade.data.extract.release import extract_release
from xjtrade.data.extract.text import read_page
from xjtrade.data.processed import load_processed
from xjtrade.data.raw import REPORT_COLUMNS, load_raw
from xjtrade.errors import DataValidationError
from xjtrade.report import chapters as xa
from xjtrade.report import site
from xjtrade.report.params import RunParams

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
# the rows whose growth rate the release printed with a word (data/raw/CHECKS.md)
QUALIFIED = {"R0001": "nearly", "R0004": "over", "R0005": "about", "R0045": "over", "R0046": "over", "R0053": "over",
             "R0123": "over", "R0136": "over", "R0239": "over", "R0352": "nearly", "R0392": "over"}


@pytest.fixture(scope="module")
def raw():
    return load_raw(RAW)


@pytest.fixture(scope="module")
def cleaned(raw):
    return clean(raw)


def _edit(tmp_path: Path, edit) -> Path:
    """A copy of data/raw whose reports.csv rows (header first) went through `edit`; returns the folder."""
    import shutil
    folder = tmp_path / "raw"
    shutil.copytree(RAW, folder)
    with (folder / "reports.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows = edit(rows)
    with (folder / "reports.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return folder


def _line(rows, row_id: str) -> int:
    return next(i + 1 for i, r in enumerate(rows) if r[0] == row_id)


# ---------------------------------------------------------------- data/raw

def test_the_record_marks_the_rates_printed_with_a_word(raw):
    rep = raw.reports.set_index("row_id")
    marked = rep[rep["yoy_qualifier"] != ""]["yoy_qualifier"].to_dict()
    assert marked == QUALIFIED
    assert rep.loc["R0005", "yoy_pct"] == "100" and "doubled" in rep.loc["R0005", "description"]
    assert REPORT_COLUMNS.index("yoy_qualifier") == REPORT_COLUMNS.index("yoy_pct") + 1


def test_a_word_outside_the_vocabulary_is_refused_with_file_line_and_column(tmp_path):
    found = {}

    def edit(rows):
        col = rows[0].index("yoy_qualifier")
        found["line"] = _line(rows, "R0005")
        rows[found["line"] - 1][col] = "doubled"
        return rows
    folder = _edit(tmp_path, edit)
    with pytest.raises(DataValidationError) as info:
        load_raw(folder)
    (p,) = info.value.problems
    assert (Path(p.file).name, p.line, p.column) == ("reports.csv", found["line"], "yoy_qualifier")
    assert "'doubled' must be one of exact, about, nearly, over, under, or empty (exact)" in str(p)


def test_a_qualifier_without_a_rate_is_refused(tmp_path):
    found = {}

    def edit(rows):
        found["line"] = _line(rows, "R0003")        # Jan-Jul 2008 exports: no rate entered
        assert rows[found["line"] - 1][rows[0].index("yoy_pct")] == ""
        rows[found["line"] - 1][rows[0].index("yoy_qualifier")] = "nearly"
        return rows
    with pytest.raises(DataValidationError) as info:
        load_raw(_edit(tmp_path, edit))
    (p,) = info.value.problems
    assert (p.line, p.column) == (found["line"], "yoy_qualifier")
    assert "the row has none (yoy_pct is empty)" in p.message


def test_a_table_written_before_the_column_still_loads_with_every_rate_exact(tmp_path):
    def edit(rows):
        col = rows[0].index("yoy_qualifier")
        return [r[:col] + r[col + 1:] for r in rows]
    data = load_raw(_edit(tmp_path, edit))
    assert list(data.reports.columns[:-1]) == REPORT_COLUMNS
    assert set(data.reports["yoy_qualifier"]) == {""}
    r5 = normalise(data).set_index("figure_id").loc["R0005"]
    assert (r5["yoy_pct"], r5["yoy_qualifier"]) == (100.0, "exact")


def test_a_table_with_the_column_in_the_wrong_place_is_refused(tmp_path):
    def edit(rows):
        col = rows[0].index("yoy_qualifier")
        return [r[:col] + r[col + 1:] + [r[col]] for r in rows]      # moved to the end
    with pytest.raises(DataValidationError) as info:
        load_raw(_edit(tmp_path, edit))
    assert "columns out of order" in str(info.value)


# ---------------------------------------------------------------- qualifiers and the cleaning step

def test_qualifier_algebra():
    assert qualifiers.turned("over") == "under" and qualifiers.turned("under") == "over"
    assert qualifiers.turned("nearly") == "about" and qualifiers.turned(None) == "exact"
    assert qualifiers.combined("exact", "about") == "about"
    assert qualifiers.combined("about", "under") == "under"
    assert qualifiers.combined("over", qualifiers.turned("over")) == "about"   # more than / more than: near
    assert qualifiers.combined("", float("nan")) == "exact"


@pytest.mark.parametrize("a, qa, b, qb, agree", [
    (45.9, "exact", 46.0, "exact", True), (45.9, "exact", 46.1, "exact", False),
    (95, "exact", 100, "about", True), (85, "exact", 100, "about", False),   # a tenth of 100, plus 0.15
    (89.9, "exact", 100, "about", True), (89.8, "exact", 100, "about", False), (110.1, "exact", 100, "about", True),
    (85, "exact", 80, "over", True), (79.8, "exact", 80, "over", False),
    (36, "exact", 40, "nearly", True), (35.8, "exact", 40, "nearly", False), (40.2, "exact", 40, "nearly", False),
    (100, "about", 80, "over", True), (50, "under", 80, "over", False),
])
def test_rates_agree_reads_each_rate_with_its_word(a, qa, b, qb, agree):
    assert rates_agree(a, qa, b, qb, Tolerance()) is agree
    assert rates_agree(b, qb, a, qa, Tolerance()) is agree       # symmetric


def test_clean_carries_the_word_and_derives_with_it(cleaned):
    f = cleaned.figures.set_index("figure_id")
    assert f.loc["R0005", "yoy_qualifier"] == "about" and f.loc["R0005", "yoy_pct"] == 100
    assert f.loc["R0002", "yoy_qualifier"] == "exact"
    assert pd.isna(f.loc["R0003", "yoy_qualifier"])                 # no rate, no word
    prior = cleaned.figures[cleaned.figures["method"] == "prior year from yoy"]
    by_input = prior.set_index("inputs")
    # Jan-Jul 2007 implied by "doubled": about half of 11.58 bn USD
    p5 = by_input.loc["R0005"]
    assert (p5["period_label"], p5["qualifier"]) == ("Jan-Jul 2007", "about")
    assert p5["value_usd_bn"] == pytest.approx(11.58 / 2)
    assert "at about +100% year on year" in p5["description"]
    # imports implied by "more than 80 %": under 1.69 / 1.8
    p4 = by_input.loc["R0004"]
    assert p4["qualifier"] == "under" and p4["value_usd_bn"] == pytest.approx(1.69 / 1.8)
    # exports = total less imports: an import value under the one shown leaves more, and the total is about
    x07 = cleaned.figures[(cleaned.figures["method"] == "part from total") & (cleaned.figures["entity"] == "Xinjiang")
                          & (cleaned.figures["period_label"] == "Jan-Jul 2007")]
    assert list(x07["qualifier"]) == ["over"]
    # more than 2.9 bn USD at more than 42 %: the 2016 imports are bounded neither way, near 2.9 / 1.42
    p392 = by_input.loc["R0392"]
    assert p392["qualifier"] == "about" and p392["value_usd_bn"] == pytest.approx(2.9 / 1.42)
    assert "at more than +42% year on year" in p392["description"]
    # a derived figure from an exact rate stays exact (2024 from 2025's +19.9 %), and has no rate of its own
    y24 = prior[(prior["entity"] == "Xinjiang") & (prior["flow"] == "total") & (prior["partner"] == "World")
                & (prior["segment"] == "all") & (prior["period_label"] == "2024")]
    assert len(y24) >= 1 and set(y24["qualifier"]) == {"exact"} and y24["yoy_qualifier"].isna().all()


def test_a_national_rate_from_a_gap_of_more_than_some_points_is_under(cleaned):
    """Jan-May 2025: Xinjiang's rate less a gap of "more than 20 points" (R0461) leaves China's rate under
    the one computed."""
    f = cleaned.figures
    nat = f[(f["method"] == "national rate from gap") & f["inputs"].str.contains("R0461")]
    assert len(nat) == 1 and nat["yoy_qualifier"].iloc[0] == "under"
    # a gap printed exactly keeps the rate exact (Jan-Nov 2022: 59.8 less 51.2 points, R0374)
    exact = f[(f["method"] == "national rate from gap") & f["inputs"].str.contains("R0374")]
    assert list(exact["yoy_qualifier"]) == ["exact"] and exact["yoy_pct"].iloc[0] == pytest.approx(8.6)


def test_processed_figures_declare_and_pass_the_column(cleaned):
    col = {c.name: c for c in schema.FIGURES.columns}["yoy_qualifier"]
    assert col.enum == qualifiers.QUALIFIERS and not col.required and "doubled" in col.description
    schema.check(schema.FIGURES, cleaned.figures.drop(columns=["start", "end"]))
    bad = cleaned.figures.drop(columns=["start", "end"]).copy()
    bad.loc[bad["figure_id"] == "R0005", "yoy_qualifier"] = "doubled"
    with pytest.raises(schema.SchemaError, match="yoy_qualifier"):
        schema.check(schema.FIGURES, bad)
    field = {f["name"]: f for f in schema.frictionless_schema(schema.FIGURES)["fields"]}["yoy_qualifier"]
    assert field["constraints"]["enum"] == list(qualifiers.QUALIFIERS) and "doubled" in field["description"]


# ---------------------------------------------------------------- the extractor and `data add`

PUB = dt.date(2008, 8, 20)


def extracted(text: str, language: str):
    page = read_page(text.encode("utf-8"), "release.txt")
    return [(c.period_start, c.period_end, c.value, c.unit, c.yoy_pct, c.yoy_qualifier)
            for c in extract_release(page, PUB, language)]


@pytest.mark.parametrize("text, language, rate, word", [
    ("今年1至7月，新疆外贸进出口总值115.8亿美元，同比翻一番。", "zh", "100", "about"),
    ("今年1至7月，新疆外贸进出口总值115.8亿美元，同比翻番。", "zh", "100", "about"),
    ("今年1至7月，新疆外贸进出口总值115.8亿美元，比去年同期增长一倍。", "zh", "100", "about"),
    ("今年1至7月，新疆外贸进出口总值115.8亿美元，同比接近翻番。", "zh", "100", "nearly"),
    ("今年1至7月，新疆外贸进出口总值115.8亿美元，同比翻了一番多。", "zh", "100", "over"),
    ("In the first seven months of 2008, Xinjiang's foreign trade reached 11.58 billion U.S. dollars, "
     "which doubled year on year.", "en", "100", "about"),
    ("In the first seven months of 2008, Xinjiang's foreign trade reached 11.58 billion U.S. dollars, "
     "nearly doubled year on year.", "en", "100", "nearly"),
    ("In the first seven months of 2008, Xinjiang's foreign trade reached 11.58 billion U.S. dollars, "
     "up more than 80 percent year on year.", "en", "80", "over"),
])
def test_the_extractor_reads_growth_printed_in_words(text, language, rate, word):
    got = extracted(text, language)
    value, unit = ("115.8", "100 million USD") if language == "zh" else ("11.58", "billion USD")
    assert got == [("2008-01", "2008-07", value, unit, rate, word)]


def test_an_exact_rate_and_double_digit_growth_carry_no_word():
    assert extracted("In the first seven months of 2008, Xinjiang's foreign trade reached 11.58 billion U.S. "
                     "dollars, up 26.4 percent year on year.", "en") == [
        ("2008-01", "2008-07", "11.58", "billion USD", "26.4", "")]
    assert extracted("Xinjiang's foreign trade kept double-digit growth in the first seven months of 2008.",
                     "en") == []


def test_candidates_and_data_add_carry_the_word(tmp_path):
    import shutil
    raw_dir = tmp_path / "raw"
    shutil.copytree(RAW, raw_dir)
    page = read_page("In the first seven months of 2018, Xinjiang's foreign trade with Pakistan reached "
                     "1.5 billion U.S. dollars, which doubled year on year.".encode(), "release.txt")
    cands = extract_release(page, dt.date(2018, 8, 20), "en")
    src = propose_source("https://example.org/xj-2018-08", "2018-08-20", "Xinjiang trade", "en", "", None)
    table = candidate_rows(cands, src)
    text = to_csv(table)
    header = next(csv.reader(text.splitlines()))
    assert header == CANDIDATE_COLUMNS and "yoy_qualifier" in header
    (row,) = list(csv.DictReader(text.splitlines()))
    assert (row["partner"], row["value"], row["yoy_pct"], row["yoy_qualifier"]) == ("Pakistan", "1.5", "100", "about")
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    plan = plan_add(raw_dir, path)
    (rid,) = plan.row_ids
    added = list(csv.DictReader(plan.reports_text.splitlines()))[-1]
    assert (added["row_id"], added["yoy_pct"], added["yoy_qualifier"]) == (rid, "100", "about")
    # a candidate file written before the column existed is still taken (its rates exact)
    old = [{k: v for k, v in r.items() if k != "yoy_qualifier"} for r in csv.DictReader(text.splitlines())]
    with open(tmp_path / "old.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[c for c in CANDIDATE_COLUMNS if c != "yoy_qualifier"], lineterminator="\n")
        w.writeheader()
        w.writerows(old)
    added_old = list(csv.DictReader(plan_add(raw_dir, tmp_path / "old.csv").reports_text.splitlines()))[-1]
    assert (added_old["yoy_pct"], added_old["yoy_qualifier"]) == ("100", "")


def test_data_add_to_a_table_without_the_column_refuses_a_word_it_cannot_hold(tmp_path):
    raw_dir = _edit(tmp_path, lambda rows: [r[:rows[0].index("yoy_qualifier")] + r[rows[0].index("yoy_qualifier") + 1:]
                                            for r in rows])
    page = read_page("In the first seven months of 2018, Xinjiang's foreign trade with Pakistan reached "
                     "1.5 billion U.S. dollars, which doubled year on year.".encode(), "release.txt")
    src = propose_source("https://example.org/xj-2018-08", "2018-08-20", "Xinjiang trade", "en", "", None)
    path = tmp_path / "c.csv"
    path.write_text(to_csv(candidate_rows(extract_release(page, dt.date(2018, 8, 20), "en"), src)), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        plan_add(raw_dir, path)
    (p,) = info.value.problems
    assert (p.file, p.line, p.column) == (str(path), 2, "yoy_qualifier")
    assert "has no yoy_qualifier column" in p.message


# ---------------------------------------------------------------- tables and pages

@pytest.fixture(scope="module")
def ctx(processed):
    figs, issues, sources = load_processed(processed)
    return xa.Context(params=RunParams(), figures=figs, issues=issues, sources=sources)


def test_regional_and_national_growth_table_shows_doubled_as_about(ctx):
    """Table 2.5: Jan-Jul 2008, Xinjiang +100 % printed as "doubled" (R0005), China +26.4 % (R0002)."""
    n = xa.national_comparison(ctx)
    row = n[n["period"] == "Jan-Jul 2008"].iloc[0]
    assert row["Xinjiang growth %"] == 100 and row["Xinjiang growth qualifier"] == "about"
    assert row["China growth %"] == pytest.approx(26.4) and row["China growth qualifier"] == ""
    y23 = n[n["period"] == "2023"].iloc[0]
    assert (y23["Xinjiang growth qualifier"], y23["China growth qualifier"]) == ("", "")
    cols = list(n.columns)
    assert cols.index("Xinjiang growth qualifier") == cols.index("Xinjiang growth %") - 1
    assert row["gap qualifier"] == "about" and row["gap pp"] == pytest.approx(100 - 26.4)
    # Jan-May 2025: China's rate implied by a gap of "more than 20 points" (R0461) is under the one shown, and
    # the gap, as reported, over the one shown
    may = n[n["period"] == "Jan-May 2025"].iloc[0]
    assert (may["China growth qualifier"], may["gap qualifier"], may["gap pp"]) == ("under", "over", pytest.approx(20))
    assert y23["gap qualifier"] == ""


def test_contributions_say_the_growth_from_a_doubled_total_is_about(ctx):
    c = xa.contributions_by_period(ctx).set_index("period")
    assert c.loc["Jan-Jul 2008", "growth qualifier"] == "about"
    assert c.loc["Jan-Jul 2008", "total growth %"] == pytest.approx(100)
    assert c.loc["H1 2023", "growth qualifier"] == ""


def test_growth_table_shows_the_reported_rate_with_its_word():
    """Table 2.2 on a small annual series: 2017 reported "more than 42 %" keeps its word; 2018 has none."""
    df = pd.DataFrame({"figure_id": ["R1", "R2", "R3"], "origin": "reported", "year": [2016, 2017, 2018],
                       "value": [10.0, 14.2, 15.0], "yoy_pct": [np.nan, 42.0, 5.6],
                       "yoy_qualifier": [None, "over", "exact"], "qualifier": ["exact", "exact", "about"],
                       "printed_in": "CNY", "value_cny_bn": [10.0, 14.2, 15.0], "value_usd_bn": [1.5, 2.1, 2.2]})
    t = xa.growth_table(df, "CNY", "billion yuan").set_index("year")
    assert list(t["growth qualifier"]) == ["", "over", ""]
    assert t.loc[2017, "growth as reported %"] == 42.0
    assert xa.growth_qualifier("exact", "about") == "about"
    assert xa.growth_qualifier("exact", "over") == "under"      # a larger base: smaller growth
    assert xa.growth_qualifier("over", "over") == "about"       # bounded neither way: approximate


def test_figures_page_and_its_csv_show_the_word(ctx):
    from xjtrade.report.catalogue import figure_index
    index = figure_index(ctx)
    r5 = index.set_index("figure_id").loc["R0005"]
    assert (r5["yoy_pct"], r5["yoy_qualifier"]) == (100, "about")
    assert site._growth_text(100.0, "about") == "about +100.0%"
    assert site._growth_text(26.4, "exact") == "+26.4%" and site._growth_text(float("nan"), "about") == ""
    html = site.figures_page_html(index[index["figure_id"].isin(["R0005", "R0002"])], ctx.sources, "t")
    body = html[html.index('<tbody id="R0005"'):]
    assert "about +100.0%" in body[:body.index("</tbody>")]
    assert "about +26.4%" not in html and "+26.4%" in html
    table = site.figures_table_frame(index).set_index("figure")
    assert table.loc["R0005", "growth qualifier"] == "about" and table.loc["R0005", "growth (%)"] == 100
    assert math.isnan(table.loc["R0003", "growth (%)"])


def test_growth_chapter_and_answer_carry_the_rate_word(ctx):
    """The latest year's rate: exact in the default edition (2025, +19.9 %, R0526); a rate printed as
    "doubled" reads "about +100.0%" in the growth chapter's text and in the front page's answer."""
    from test_reader import OUTLOOK, SERIES, _results
    from xjtrade.report import wording
    from xjtrade.report.first_screen import answer
    g = xa.growth_analysis(ctx)
    assert g["results"]["latest_yoy_qualifier"] == "exact" and "+19.9% on the year before" in g["markdown"]
    assert wording.qualified_pct(100.0, "about") == "about +100.0%" and wording.qualified_pct(19.9, None) == "+19.9%"
    growth = {"latest_year": 2023, "latest_value": 357.33, "latest_yoy_pct": 100.0, "latest_yoy_qualifier": "about",
              "series": SERIES, "figures": {"2023": "R0339"}}
    text = answer(_results(OUTLOOK, growth=growth), "billion yuan", "Xinjiang total trade", None, stale=False)
    assert "came to **357.3 billion yuan** in 2023, about +100.0% on the year before" in text
    res = {**g["results"], "latest_yoy_pct": 100.0, "latest_yoy_qualifier": "about"}
    assert ", about +100.0% on the year before." in xa._growth_text(ctx, res, g["annual_series"])


def test_the_record_check_reads_rates_with_their_words():
    """A candidate "doubled" (about 100 %) against a recorded +82.68 % conflicts (a tenth of 100 is 10
    points); "more than 80 %" against a recorded +85 % does not; two exact rates 0.2 points apart do."""
    from xjtrade.data.extract.check import check
    from xjtrade.data.extract.release import Candidate
    row = dict.fromkeys(REPORT_COLUMNS, "")
    row.update(row_id="R0001", entity="Xinjiang", flow="total", partner="World", product="all", segment="all",
               indicator="trade value", period_start="2008-01", period_end="2008-07", period_kind="ytd",
               value="", unit="billion USD", qualifier="exact", source_id="s", description="d", check="verified")

    def verdict(recorded: str, rate: str, word: str) -> str:
        rec = pd.DataFrame([{**row, "yoy_pct": recorded}], columns=REPORT_COLUMNS)
        c = Candidate("Xinjiang", "total", "World", "all", "all", "trade value", "2008-01", "2008-07", "ytd", "",
                      "billion USD", "exact", rate, "evidence", yoy_qualifier=word)
        check([c], rec, "other-source")
        return c.remark
    assert "growth 100% conflicts with R0001" in verdict("82.68", "100", "about")
    assert verdict("95", "100", "about") == "same figure as R0001: growth only, billion USD, 95% from s"
    assert "conflicts" not in verdict("85", "80", "over")
    assert "conflicts" in verdict("80.2", "80", "exact") and "conflicts" not in verdict("80.1", "80", "exact")
