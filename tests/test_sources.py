"""Tests for xjtrade.data.raw: the real raw tables load; every kind of bad input is refused
with a message naming the file, the line (as an editor numbers it) and the column.

Bad tables are made by copying data/raw into tmp_path and editing one line with the csv module.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from xjtrade.errors import DataValidationError, Problem
from xjtrade.data.raw import (
    CURRENCY_UNITS,
    RATE_COLUMNS,
    REPORT_COLUMNS,
    SOURCE_COLUMNS,
    load_raw,
    read_table,
)

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


class RawCopy:
    """A copy of data/raw whose reports.csv can be edited row by row."""

    def __init__(self, folder: Path):
        self.folder = folder
        shutil.copytree(RAW, folder)
        self.path = folder / "reports.csv"
        with self.path.open(newline="", encoding="utf-8") as fh:
            self.rows = list(csv.reader(fh))
        self.header = self.rows[0]

    def line_of(self, row_id: str) -> int:
        """Line number (1 = header) of a row; no field of reports.csv spans two lines."""
        for i, rec in enumerate(self.rows):
            if rec[0] == row_id:
                return i + 1
        raise KeyError(row_id)

    def row(self, row_id: str) -> list[str]:
        return self.rows[self.line_of(row_id) - 1]

    def set(self, row_id: str, column: str, value: str) -> int:
        line = self.line_of(row_id)
        self.rows[line - 1][self.header.index(column)] = value
        return line

    def append_copy(self, row_id: str, new_id: str, **changes) -> int:
        new = list(self.row(row_id))
        new[0] = new_id
        for col, val in changes.items():
            new[self.header.index(col)] = val
        self.rows.append(new)
        return len(self.rows)

    def save(self) -> None:
        with self.path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(self.rows)


@pytest.fixture
def raw_copy(tmp_path) -> RawCopy:
    return RawCopy(tmp_path / "raw")


def problems_of(folder: Path) -> list[Problem]:
    with pytest.raises(DataValidationError) as info:
        load_raw(folder)
    err = info.value
    assert err.problems, "a DataValidationError must list its problems"
    # the exception text lists every problem, each as 'file, line N, column C: message'
    for p in err.problems[:25]:
        assert str(p) in str(err)
    return err.problems


def only_problem(folder: Path) -> Problem:
    found = problems_of(folder)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def assert_located(p: Problem, filename: str, line: int | None, column: str | None) -> None:
    assert Path(p.file).name == filename
    assert p.line == line
    assert p.column == column
    text = str(p)
    assert text.startswith(p.file)
    where = filename
    if line is not None:
        where += f", line {line}"
    if column is not None:
        where += f", column {column}"
    assert where in text, text


# ---------------------------------------------------------------------------
# the real data
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    return load_raw(RAW)


def test_real_raw_data_loads(real):
    rep, src, rates = real.reports, real.sources, real.rates
    assert len(rep) >= 399
    assert list(rep.columns) == REPORT_COLUMNS + ["line_no"]
    assert list(src.columns) == SOURCE_COLUMNS + ["line_no"]
    assert list(rates.columns) == RATE_COLUMNS + ["line_no"]
    # every value is kept as text, nothing coerced on the way in
    assert all(isinstance(v, str) for v in rep["value"])
    assert rep["row_id"].is_unique and src["source_id"].is_unique and rates["year"].is_unique
    # every source used (by a report or an exchange rate) is listed
    assert set(rep["source_id"]) <= set(src["source_id"])
    assert set(rates["source_id"]) <= set(src["source_id"])
    # line numbers as an editor numbers them: header is line 1, first row line 2
    assert rep["line_no"].tolist() == list(range(2, len(rep) + 2))
    assert rep.iloc[0]["row_id"] == "R0001"
    # a few rows read back exactly as written
    r337 = rep.set_index("row_id").loc["R0337"]
    assert (r337["value"], r337["unit"], r337["yoy_pct"], r337["source_id"]) == ("357.33", "billion yuan",
                                                                                   "45.9", "seed-002")
    assert r337["period_start"] == "2023-01" and r337["period_end"] == "2023-12"
    assert rates.set_index("year").loc["2012", "cny_per_usd"] == "6.3123"
    # the undated seed-003 row is the only one without a period
    undated = rep[rep["period_kind"] == "undated"]
    assert undated["row_id"].tolist() == ["R0367"]
    assert undated.iloc[0]["source_id"] == "seed-003"


def test_rewriting_the_copy_unchanged_still_loads(raw_copy):
    raw_copy.save()
    assert len(load_raw(raw_copy.folder).reports) == len(raw_copy.rows) - 1


def test_read_table_keeps_line_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,"x"\n2,y\n', encoding="utf-8")
    df, problems = read_table(path, ["a", "b"])
    assert problems == []
    assert df["a"].tolist() == ["1", "2"] and df["line_no"].tolist() == [2, 3]


def test_missing_file(tmp_path):
    folder = tmp_path / "raw"
    shutil.copytree(RAW, folder)
    (folder / "exchange_rates.csv").unlink()
    p = only_problem(folder)
    assert_located(p, "exchange_rates.csv", None, None)
    assert p.message == "file not found"


# ---------------------------------------------------------------------------
# one bad cell
# ---------------------------------------------------------------------------


def test_non_numeric_value_in_money_row(raw_copy):
    line = raw_copy.set("R0002", "value", "abc")           # R0002: 1480 billion USD, line 3
    assert line == 3
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", 3, "value")
    assert "'abc'" in p.message and "is not a number" in p.message


def test_non_numeric_yoy(raw_copy):
    line = raw_copy.set("R0353", "yoy_pct", "n/a")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "yoy_pct")
    assert "is not a number" in p.message


def test_non_numeric_value_in_count_row(raw_copy):
    """The schema check itself names file, line and column (a row whose unit is not money)."""
    line = raw_copy.set("R0353", "value", "fifteen")       # R0353: 15 ports, unit count
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "value")
    assert p.message == "'fifteen' is not a number"


def test_unknown_unit(raw_copy):
    raw_copy.set("R0002", "unit", "billion euro")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", 3, "unit")
    assert "'billion euro'" in p.message and "is not a known unit" in p.message
    assert "billion euro" not in CURRENCY_UNITS


def test_end_before_start(raw_copy):
    line = raw_copy.set("R0337", "period_start", "2023-12")
    raw_copy.set("R0337", "period_end", "2023-01")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "period_end")
    assert p.message == "period ends (2023-01) before it starts (2023-12)"


def test_period_kind_inconsistent_with_months(raw_copy):
    line = raw_copy.set("R0337", "period_start", "2023-02")
    raw_copy.set("R0337", "period_end", "2023-04")
    raw_copy.set("R0337", "period_kind", "quarter")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "period_kind")
    assert p.message == "'quarter' does not fit 2023-02..2023-04 (looks like 'other')"


def test_ytd_not_from_january(raw_copy):
    line = raw_copy.set("R0336", "period_start", "2023-02")   # Jan-Nov 2023 -> Feb-Nov, still 'ytd'
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "period_kind")
    assert "'ytd' does not fit 2023-02..2023-11" in p.message


def test_impossible_month(raw_copy):
    line = raw_copy.set("R0337", "period_end", "2023-13")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "period_start/period_end")
    assert "month 13" in p.message


def test_unknown_source_id(raw_copy):
    line = raw_copy.set("R0337", "source_id", "no-such-source")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "source_id")
    assert p.message == "unknown source id 'no-such-source' (not in sources.csv)"


def test_duplicate_row_id(raw_copy):
    line = raw_copy.set("R0003", "row_id", "R0002")
    assert line == 4
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", 4, "row_id")          # the second occurrence is the duplicate
    assert p.message == "duplicate id 'R0002'"


def test_blank_padded_entity(raw_copy):
    line = raw_copy.set("R0337", "entity", "Xinjiang ")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "entity")
    assert p.message == "'Xinjiang ' must not be blank or padded"


def test_blank_entity(raw_copy):
    line = raw_copy.set("R0337", "entity", "")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "entity")
    assert "must not be blank" in p.message


def test_negative_trade_value(raw_copy):
    line = raw_copy.set("R0337", "value", "-357.33")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, "value")
    assert p.message == "a trade value cannot be negative"


def test_every_problem_is_reported_at_once(raw_copy):
    l1 = raw_copy.set("R0337", "unit", "billion euro")
    l2 = raw_copy.set("R0338", "source_id", "no-such-source")
    raw_copy.save()
    found = problems_of(raw_copy.folder)
    assert {(p.line, p.column) for p in found} == {(l1, "unit"), (l2, "source_id")}


# ---------------------------------------------------------------------------
# the same source reporting one quantity twice
# ---------------------------------------------------------------------------


def test_same_source_conflicting_values(raw_copy):
    first = raw_copy.line_of("R0337")                        # seed-002: 2023 total 357.33
    new = raw_copy.append_copy("R0337", "R9999", value="357.99")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", new, "value")
    assert p.message.startswith(f"conflicts with line {first}: source 'seed-002' reports Xinjiang total World "
                                "2023-01..2023-12")


def test_same_source_conflict_message_puts_each_value_on_its_line(raw_copy):
    first = raw_copy.line_of("R0337")
    raw_copy.append_copy("R0337", "R9999", value="357.99")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    # line `first` has 357.33, the new line has 357.99
    assert p.message.endswith("as 357.33 (45.9%) there and 357.99 (45.9%) here"), p.message
    assert f"line {first}" in p.message


def test_same_source_repeating_a_figure(raw_copy):
    first = raw_copy.line_of("R0337")
    new = raw_copy.append_copy("R0337", "R9999")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", new, "value")
    assert p.message.startswith(f"repeats line {first}:")


def test_two_sources_may_report_the_same_quantity(raw_copy):
    """Only one source repeating itself is an error; R0337 and R0339 (two sources) coexist."""
    raw_copy.append_copy("R0337", "R9999", source_id="people-2023-12-18", value="357.99")
    raw_copy.save()
    assert "R9999" in set(load_raw(raw_copy.folder).reports["row_id"])


# ---------------------------------------------------------------------------
# broken files
# ---------------------------------------------------------------------------


def test_empty_file(raw_copy):
    raw_copy.path.write_text("", encoding="utf-8")
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", None, None)
    assert "file is empty" in p.message
    assert str(p).endswith("reports.csv: file is empty (expected a header and rows)")


def test_header_only(raw_copy):
    raw_copy.rows = raw_copy.rows[:1]
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", None, None)
    assert p.message == "has a header but no rows"


def test_truncated_file(raw_copy):
    """The last line cut in the middle of its 7th field, and no final newline."""
    text = raw_copy.path.read_text(encoding="utf-8")
    body = text.rstrip("\n")
    last_start = body.rfind("\n") + 1
    last = body[last_start:]
    assert last.startswith("R0") and last.count(",") >= 16   # a whole row
    commas = [i for i, c in enumerate(last) if c == ","]
    cut = last[:commas[6] - 3]               # e.g. 'R0440,Xinjiang,total,World,all,all,trade va'
    raw_copy.path.write_text(body[:last_start] + cut, encoding="utf-8")
    line = len(raw_copy.rows)                # the last line of the file
    found = problems_of(raw_copy.folder)
    by_msg = {p.message: p for p in found}
    fields = [m for m in by_msg if m.startswith("has ")]
    assert fields == [f"has 7 fields, expected {len(REPORT_COLUMNS)} (truncated or mis-quoted line?)"]
    assert_located(by_msg[fields[0]], "reports.csv", line, None)
    ending = by_msg["file does not end with a newline (truncated?)"]
    assert_located(ending, "reports.csv", line, None)
    assert len(found) == 2


def test_missing_final_newline_only(raw_copy):
    raw_copy.path.write_text(raw_copy.path.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", len(raw_copy.rows), None)
    assert "does not end with a newline" in p.message


def test_extra_field(raw_copy):
    line = raw_copy.line_of("R0010")
    raw_copy.row("R0010").append("surplus")
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", line, None)
    assert p.message.startswith(f"has {len(REPORT_COLUMNS) + 1} fields, expected {len(REPORT_COLUMNS)}")


def test_blank_line_is_skipped(raw_copy):
    """Blank lines (editors and spreadsheets leave them) are skipped; line numbers stay the editor's."""
    from xjtrade.data.raw import load_raw
    n = len(raw_copy.rows) - 1  # rows[0] is the header
    raw_copy.rows.insert(5, [])  # line 6
    raw_copy.save()
    raw = load_raw(raw_copy.folder)
    assert len(raw.reports) == n
    assert list(raw.reports["line_no"].iloc[3:5]) == [5, 7]


def test_wrong_header(raw_copy):
    raw_copy.header[raw_copy.header.index("value")] = "amount"
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", 1, None)
    assert p.message.startswith("header does not match the schema: missing value; unexpected amount")


def test_header_out_of_order(raw_copy):
    h = raw_copy.header
    i, j = h.index("value"), h.index("unit")
    for rec in raw_copy.rows:
        rec[i], rec[j] = rec[j], rec[i]
    raw_copy.save()
    p = only_problem(raw_copy.folder)
    assert_located(p, "reports.csv", 1, None)
    assert "columns out of order" in p.message


def test_not_utf8(raw_copy):
    raw_copy.path.write_bytes(raw_copy.path.read_bytes() + "R0400,Ürümqi\n".encode("latin-1"))
    p = only_problem(raw_copy.folder)
    n_lines = raw_copy.path.read_bytes().count(b"\n")
    assert_located(p, "reports.csv", n_lines, None)  # the appended (last) line holds the Latin-1 byte
    assert p.message.startswith("not UTF-8 text (byte 0xdc")


# ---------------------------------------------------------------------------
# the other two tables
# ---------------------------------------------------------------------------


def test_bad_source_date(tmp_path):
    folder = tmp_path / "raw"
    copy = RawCopy(folder)
    path = folder / "sources.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    line = next(i + 1 for i, r in enumerate(rows) if r[0] == "seed-002")
    rows[line - 1][SOURCE_COLUMNS.index("published")] = "23 Jan 2024"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    p = only_problem(copy.folder)
    assert_located(p, "sources.csv", line, "published")
    assert "'23 Jan 2024'" in p.message and "must be a date YYYY-MM-DD" in p.message


def test_exchange_rate_out_of_range(tmp_path):
    folder = tmp_path / "raw"
    RawCopy(folder)
    path = folder / "exchange_rates.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    line = next(i + 1 for i, r in enumerate(rows) if r[0] == "2012")
    rows[line - 1][1] = "63.123"                 # a misplaced decimal point
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    p = only_problem(folder)
    assert_located(p, "exchange_rates.csv", line, "cny_per_usd")
    assert "'63.123'" in p.message


# --- the language of foreign titles (issue 21, item 9) ---------------------------------------------

def _sources_html(rows):
    import pandas as pd
    from xjtrade.report.pages import sources_page
    from xjtrade.report.render.base import pandoc_binary, run_pandoc
    base = {"publisher": "P", "published": "2020-01-01", "url": "https://example.com/x", "date_inferred": "no",
            "figures": 1}
    page = sources_page(pd.DataFrame([{**base, **r} for r in rows]), None)
    body = page.split("\n---\n", 1)[1]           # the page's text after its front matter
    return page, run_pandoc(pandoc_binary(), ["-f", "markdown", "-t", "html"], body, "sources page", [])


def test_foreign_titles_carry_their_language_and_direction():
    from html.parser import HTMLParser

    class Spans(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found, self._open = {}, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "span" and "lang" in a:
                self._open = (a["lang"], a.get("dir"))
                self.found[self._open] = ""

        def handle_data(self, data):
            if self._open:
                self.found[self._open] = " ".join((self.found[self._open] + data).split())

        def handle_endtag(self, tag):
            if tag == "span":
                self._open = None

    page, html = _sources_html([
        {"source_id": "s-zh", "title": "新疆外贸进出口总值创历史新高", "language": "zh"},
        {"source_id": "s-ar", "title": "التجارة الخارجية لشينجيانغ", "language": "ar"},
        {"source_id": "s-ru", "title": "Внешняя торговля Синьцзяна", "language": "ru"},
        {"source_id": "s-en", "title": "Xinjiang trade hits record", "language": "en"},
        {"source_id": "s-desc", "title": "[China News Service report on Xinjiang trade]", "language": "zh"},
        {"source_id": "s-bad", "title": "Hostile code", "language": 'zh" onmouseover="alert(1)'}])
    spans = Spans()
    spans.feed(html)
    assert spans.found == {("zh", None): "新疆外贸进出口总值创历史新高", ("ar", "rtl"): "التجارة الخارجية لشينجيانغ",
                           ("ru", None): "Внешняя торговля Синьцзяна"}
    flat = " ".join(html.split())
    assert "<strong>Xinjiang trade hits record</strong>" in flat and 'lang="en"' not in flat
    # a code that is not a language tag never reaches an attribute: the title has no span, the code is text
    assert "<strong>Hostile code</strong>" in flat
    # a bracketed title is the curators' English description of the page, not the page's own words
    assert "<strong>[China News Service report on Xinjiang trade]</strong>" in flat

    class Attributes(HTMLParser):
        names: set = set()

        def handle_starttag(self, tag, attrs):
            self.names |= {k for k, _ in attrs}
    attributes = Attributes()
    attributes.feed(html)
    assert "onmouseover" not in attributes.names and "lang" in attributes.names


def test_title_language_tags():
    from xjtrade.report.pages import title_language
    assert title_language("zh") == ("zh", None)
    assert title_language("zh-Hant") == ("zh-Hant", None)
    assert title_language("ar") == ("ar", "rtl") and title_language("ug") == ("ug", "rtl")
    assert title_language("en") == (None, None) and title_language("en-GB") == (None, None)
    for bad in ("", None, "Chinese", "z", 'zh"', "zh onload"):
        assert title_language(bad) == (None, None), bad
