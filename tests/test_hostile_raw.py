"""Text that looks like other text, dates that cannot be, values too large (issue 22, item 6).

The second hostile trial's cases, each a test: entities and publishers with ANSI escapes (printed raw
into the terminal by an error message), U+202E or zero-width characters were accepted
(`Xinjiang\\u200b` became a second "Xinjiang" that looks identical); sources published in 2099, or in
1900 for a 2008 figure, passed without a flag; 1e306 trillion yuan passed `data check` and crashed
`data build`; a description over 131,072 characters gave a `_csv.Error` traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from xjtrade.cli import main
from xjtrade.data.raw import MAX_FIELD, load_raw
from xjtrade.errors import DataValidationError

ROOT = Path(__file__).resolve().parents[1]


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:   # every field quoted: a CR stays in its field
        csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)


@pytest.fixture
def raw(tmp_path) -> Path:
    folder = tmp_path / "raw"
    shutil.copytree(ROOT / "data" / "raw", folder)
    return folder


def edit(folder: Path, table: str, row: int, column: str, value: str) -> int:
    """Set `column` of data row `row` (1 = the first after the header); return its line number."""
    path = folder / table
    rows = read_rows(path)
    rows[row][rows[0].index(column)] = value
    write_rows(path, rows)
    return row + 1


def problems(folder: Path):
    with pytest.raises(DataValidationError) as info:
        load_raw(folder)
    return info.value


def located(err: DataValidationError) -> set[tuple[str, int | None, str | None]]:
    return {(Path(p.file).name, p.line, p.column) for p in err.problems}


def assert_printable(text: str) -> None:
    """No raw control, bidi or zero-width character in what a terminal is shown."""
    bad = [c for c in text if c != "\n" and not c.isprintable()]
    assert bad == [], [hex(ord(c)) for c in bad]


# --------------------------------------------------------------------------- look-alikes

@pytest.mark.parametrize("table,column,value,what", [
    ("reports.csv", "entity", "Xinjiang\u200b", "a zero-width character (U+200B ZERO WIDTH SPACE) at character 9"),
    ("reports.csv", "entity", "Xin\u2060jiang", "a zero-width character (U+2060 WORD JOINER) at character 4"),
    ("reports.csv", "partner", "\ufeffWorld", "U+FEFF"),
    ("reports.csv", "partner", "World\u202eXXX", "a bidirectional-text control (U+202E RIGHT-TO-LEFT OVERRIDE)"),
    ("reports.csv", "entity", "Horgos\u00a0port", "a space other than the plain space (U+00A0 NO-BREAK SPACE)"),
    ("reports.csv", "entity", "\x1b[31mXinjiang\x1b[0m", "a control character (U+001B ESCAPE) at character 1"),
    ("reports.csv", "source_id", "s\u200c1", "U+200C"),
    ("reports.csv", "description", "line one\nline two", "U+000A LINE FEED"),
    ("reports.csv", "description", "before\r=cmd", "U+000D CARRIAGE RETURN"),
    ("reports.csv", "description", "tab\there", "U+0009"),
    ("reports.csv", "description", "text \u2067isolate\u2069", "U+2067"),
    ("sources.csv", "publisher", "\x1b]8;;http://evil/\x07People's Daily\x1b]8;;\x07", "U+001B ESCAPE"),
    ("sources.csv", "publisher", "People\u2019s Daily\u200d", "U+200D"),
    ("sources.csv", "title", "Headline \u202dreversed", "U+202D"),
    ("exchange_rates.csv", "note", "note\x00", "U+0000"),
])
def test_hidden_characters_refused_with_location(raw, table, column, value, what):
    line = edit(raw, table, 3, column, value)
    err = problems(raw)
    assert (table, line, column) in located(err), err.problems
    here = [p.message for p in err.problems if (Path(p.file).name, p.line, p.column) == (table, line, column)]
    assert [m for m in here if what in m and "text must show what it holds" in m], here
    assert_printable(str(err))


def test_a_name_may_not_hide_but_a_text_may_hold_other_scripts(raw):
    """Free text keeps what honest text needs (accents, Chinese, curly quotes, a no-break space)."""
    edit(raw, "reports.csv", 3, "description", "Ürümqi \u4e4c\u9c81\u6728\u9f50 \u201cquoted\u201d 5\u00a0bn")
    edit(raw, "sources.csv", 3, "publisher", "Xinhua \u65b0\u534e\u793e")
    load_raw(raw)


def test_cli_never_prints_raw_control_characters(raw, monkeypatch, tmp_path):
    """An ANSI escape in a publisher was printed raw into the terminal by an error message."""
    root = tmp_path / "project"
    from xjtrade.project import copy_project
    copy_project(ROOT, root)
    shutil.rmtree(root / "data" / "raw")
    shutil.copytree(raw, root / "data" / "raw")
    edit(root / "data" / "raw", "sources.csv", 2, "publisher", "\x1b[2J\x1b[31mPWNED\x1b[0m")
    edit(root / "data" / "raw", "reports.csv", 2, "entity", "\u202eXinjiang")
    monkeypatch.setenv("XJTRADE_ROOT", str(root))
    for args in (["data", "check"], ["data", "build"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "\\x1b[2J\\x1b[31mPWNED" in result.output and "\\u202eXinjiang" in result.output
        assert_printable(result.output)


# --------------------------------------------------------------------------- dates

def test_publication_date_in_the_future_is_refused(raw):
    line = edit(raw, "sources.csv", 4, "published", "2099-01-01")
    err = problems(raw)
    assert ("sources.csv", line, "published") in located(err)
    assert "2099-01-01 is in the future" in str(err)


def test_publication_date_tomorrow_is_allowed_the_day_after_is_not(raw, monkeypatch):
    from xjtrade.data import raw as rawmod
    latest = max(dt.date.fromisoformat(r[3]) for r in read_rows(raw / "sources.csv")[1:] if r[3])
    monkeypatch.setattr(rawmod, "_today", lambda: latest)            # the day of the record's latest source
    edit(raw, "sources.csv", 4, "published", str(latest + dt.timedelta(days=1)))   # a time zone ahead: accepted
    load_raw(raw)
    line = edit(raw, "sources.csv", 4, "published", str(latest + dt.timedelta(days=2)))
    assert ("sources.csv", line, "published") in located(problems(raw))


def test_source_published_before_its_period_is_a_warning(raw):
    """A source dated 1900 for a 2008 figure: kept, and flagged in the quality table."""
    from xjtrade.data import clean
    reports = read_rows(raw / "reports.csv")
    h = reports[0]
    row = next(r for r in reports[1:] if r[h.index("period_end")].startswith("2008")
               and r[h.index("period_kind")] == "year")
    sid = row[h.index("source_id")]
    sources = read_rows(raw / "sources.csv")
    i = next(n for n, r in enumerate(sources) if r[0] == sid)
    edit(raw, "sources.csv", i, "published", "1900-01-01")
    issues = clean.clean(load_raw(raw)).issues
    flagged = issues[issues["kind"] == "published before its period"]
    assert row[0] in set(flagged["selected_id"]) and set(flagged["severity"]) == {"warning"}
    note = flagged.loc[flagged["selected_id"] == row[0], "note"].iloc[0]
    assert "dated 1900-01-01, before the period it reports (2008) ends" in note
    # the unchanged data have none
    assert not (clean.clean(load_raw(ROOT / "data" / "raw")).issues["kind"] == "published before its period").any()


# --------------------------------------------------------------------------- values

@pytest.mark.parametrize("value,unit", [("1e306", "trillion yuan"), ("1e300", "billion USD"), ("2e12", "billion yuan")])
def test_value_whose_conversion_overflows_is_refused(raw, value, unit):
    reports = read_rows(raw / "reports.csv")
    h = reports[0]
    n = next(i for i, r in enumerate(reports) if i and r[h.index("unit")] == "billion yuan" and r[h.index("value")])
    edit(raw, "reports.csv", n, "unit", unit)
    line = edit(raw, "reports.csv", n, "value", value)
    err = problems(raw)
    assert ("reports.csv", line, "value") in located(err)
    assert "is too large" in str(err)


def test_overflowing_value_in_data_check_cli(tmp_path, monkeypatch):
    from xjtrade.project import copy_project
    root = copy_project(ROOT, tmp_path / "project")
    reports = read_rows(root / "data" / "raw" / "reports.csv")
    h = reports[0]
    n = next(i for i, r in enumerate(reports) if i and r[h.index("unit")] == "billion yuan" and r[h.index("value")])
    edit(root / "data" / "raw", "reports.csv", n, "unit", "trillion yuan")
    line = edit(root / "data" / "raw", "reports.csv", n, "value", "1e306")
    monkeypatch.setenv("XJTRADE_ROOT", str(root))
    result = CliRunner().invoke(main, ["data", "check"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"reports.csv, line {line}, column value: 1e306 trillion yuan is too large" in result.output


# --------------------------------------------------------------------------- long fields

def test_long_field_refused_with_location(raw):
    line = edit(raw, "reports.csv", 5, "description", "x" * (MAX_FIELD + 1))
    err = problems(raw)
    assert ("reports.csv", line, "description") in located(err)
    assert f"is {MAX_FIELD + 1:,} characters long; at most {MAX_FIELD:,}" in str(err)


def test_field_over_the_csv_limit_is_a_located_error_not_a_traceback(raw, tmp_path, monkeypatch):
    """A description over 131,072 characters gave a `_csv.Error` traceback."""
    line = edit(raw, "reports.csv", 5, "description", "y" * 200_000)
    err = problems(raw)
    assert ("reports.csv", line, None) in located(err)
    assert "a field is longer than 131,072 characters" in str(err)
    from xjtrade.project import copy_project
    root = copy_project(ROOT, tmp_path / "project")
    shutil.copy(raw / "reports.csv", root / "data" / "raw" / "reports.csv")
    monkeypatch.setenv("XJTRADE_ROOT", str(root))
    result = CliRunner().invoke(main, ["data", "check"])
    assert result.exit_code == 1 and "Traceback" not in result.output and "_csv.Error" not in result.output
    assert f"reports.csv, line {line}: a field is longer than" in result.output


def test_fast_path_of_the_text_rule_matches_its_definition():
    """`hidden_character` finds the text rule's characters with one regular expression: it matches
    exactly the characters the rule describes, over the Basic Multilingual Plane."""
    from xjtrade.textsafe import _HIDDEN_IN_TEXT, _hidden_why
    assert [hex(c) for c in range(0x10000) if bool(_HIDDEN_IN_TEXT.match(chr(c))) != bool(_hidden_why(chr(c), False))] == []
