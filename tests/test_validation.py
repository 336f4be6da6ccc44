"""Validation gaps (issue 11, item 6): calendar dates, ASCII digits, URLs, exchange-rate coverage,
spreadsheet-written CSVs (BOM, CRLF, every field quoted), parameter and params-file errors as one
clear message, and an unwritable output folder as one line naming the path."""

from __future__ import annotations

import csv
import errno
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from xjtrade.cli import main
from xjtrade.data.raw import CURRENCY_UNITS, load_raw
from xjtrade.errors import DataValidationError
from xjtrade.report.params import ParameterError, load_params, parse_overrides

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]], **kw) -> None:
    with path.open("w", newline="", encoding=kw.pop("encoding", "utf-8")) as fh:
        csv.writer(fh, lineterminator=kw.pop("lineterminator", "\n"), **kw).writerows(rows)


@pytest.fixture
def raw(tmp_path) -> Path:
    folder = tmp_path / "raw"
    shutil.copytree(RAW, folder)
    return folder


def problems(folder: Path):
    with pytest.raises(DataValidationError) as info:
        load_raw(folder)
    return info.value.problems


def edit(folder: Path, table: str, key: str, column: str, value: str) -> int:
    """Set `column` of the row whose first field is `key`; return its line number."""
    path = folder / table
    rows = read_rows(path)
    col = rows[0].index(column)
    for i, rec in enumerate(rows):
        if rec[0] == key:
            rec[col] = value
            write_rows(path, rows)
            return i + 1
    raise KeyError(key)


def first_key(folder: Path, table: str) -> str:
    return read_rows(folder / table)[1][0]


# --------------------------------------------------------------------------- dates and digits

@pytest.mark.parametrize("date", ["2023-02-30", "2023-13-45", "2023-00-10", "2023-04-31"])
def test_impossible_source_date(raw, date):
    sid = first_key(raw, "sources.csv")
    line = edit(raw, "sources.csv", sid, "published", date)
    [p] = problems(raw)
    assert (Path(p.file).name, p.line, p.column) == ("sources.csv", line, "published")
    assert repr(date) in p.message and "real calendar date" in p.message


@pytest.mark.parametrize("table,column,value", [
    ("reports.csv", "value", "\u0661\u0662\u0663"),            # Arabic-Indic 123
    ("reports.csv", "value", "\uff11\uff12\uff13"),            # fullwidth 123
    ("reports.csv", "yoy_pct", "\u06f5"),                      # Extended Arabic-Indic 5
    ("reports.csv", "period_end", "\uff12\uff10\uff10\uff12-10"),  # fullwidth year
    ("sources.csv", "published", "\u0662\u0660\u0662\u0663-01-05"),
    ("exchange_rates.csv", "cny_per_usd", "\u0666.\u0668"),
    ("reports.csv", "value", "nan"),
    ("reports.csv", "value", "1_000"),
])
def test_non_ascii_digits_refused(raw, table, column, value):
    key = first_key(raw, table)
    line = edit(raw, table, key, column, value)
    found = [p for p in problems(raw) if Path(p.file).name == table and p.line == line and p.column == column]
    assert found, f"{value!r} in {table} {column} was accepted"


def test_non_ascii_year_in_rates(raw):
    line = edit(raw, "exchange_rates.csv", "2010", "year", "\u0662\u0660\u0661\u0660")
    found = {(Path(p.file).name, p.line, p.column) for p in problems(raw)}
    assert ("exchange_rates.csv", line, "year") in found


def test_cli_as_of_non_ascii_digits(project_copy):
    result = CliRunner().invoke(main, ["data", "check", "--as-of", "\u0662\u0660\u0662\u0662-01-01"])
    assert result.exit_code == 2 and "is not a date YYYY-MM-DD" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --------------------------------------------------------------------------- URLs

@pytest.mark.parametrize("url,why", [
    ("http://example.com/page\n", "'\\n'"),                  # trailing newline (passed `$`)
    ("http://x/><svg/onload=alert(1)>", "'>'"),             # passed `\S+`
    ("javascript:alert(1)", "scheme 'javascript'"),
    ("http:///no-host", "no host"),
    ("https://example.com/a b", "' '"),
    ('https://example.com/"onmouseover=x', "'\"'"),
    ("ftp://example.com/file", "scheme 'ftp'"),
])
def test_bad_url_refused_with_location(raw, url, why):
    from xjtrade.textsafe import url_problem
    sid = first_key(raw, "sources.csv")
    line = edit(raw, "sources.csv", sid, "url", url)
    [p] = problems(raw)
    assert (Path(p.file).name, p.line, p.column) == ("sources.csv", line, "url")
    assert "must be an http(s) URL" in p.message
    assert why in url_problem(url)


# --------------------------------------------------------------------------- exchange-rate coverage

def test_missing_rate_year_is_an_error(raw):
    reports = read_rows(raw / "reports.csv")
    h = reports[0]
    need = [i + 1 for i, r in enumerate(reports[1:], start=1)
            if r[h.index("unit")] in CURRENCY_UNITS and r[h.index("value")] != ""
            and r[h.index("period_kind")] != "undated" and r[h.index("period_end")].startswith("2022")]
    usd = [n for n in need if "USD" in reports[n - 1][h.index("unit")]]
    assert len(need) > 10 and usd, "the data should hold 2022 money figures in both currencies"
    rates = read_rows(raw / "exchange_rates.csv")
    write_rows(raw / "exchange_rates.csv", [r for r in rates if r[0] != "2022"])
    [p] = problems(raw)
    assert Path(p.file).name == "exchange_rates.csv" and p.column == "year"
    assert "no exchange rate for 2022" in p.message
    assert f"{len(need)} money figure(s)" in p.message and "reports.csv" in p.message
    assert f"lines {', '.join(map(str, need[:10]))}" in p.message
    assert f"and {len(need) - 10} more" in p.message


# --------------------------------------------------------------------------- spreadsheet-written files

def test_spreadsheet_csv_bom_crlf_quoted(raw):
    """What a spreadsheet program writes: a UTF-8 BOM, CRLF line endings, every field quoted,
    and a trailing blank line.  The tables load exactly as the originals."""
    original = load_raw(RAW)
    for name in ("reports.csv", "sources.csv", "exchange_rates.csv"):
        rows = read_rows(raw / name)
        write_rows(raw / name, rows + [[]], encoding="utf-8-sig", lineterminator="\r\n",
                   quoting=csv.QUOTE_ALL)
        data = (raw / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf\"") and b"\r\n" in data and data.endswith(b"\r\n\r\n")
    loaded = load_raw(raw)
    for table in ("reports", "sources", "rates"):
        a = getattr(original, table).drop(columns="line_no")
        b = getattr(loaded, table).drop(columns="line_no")
        assert a.equals(b), table
    assert list(loaded.reports["line_no"][:3]) == [2, 3, 4]


def test_bom_header_not_contradictory(raw):
    path = raw / "exchange_rates.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load_raw(raw).rates) == len(load_raw(RAW).rates)


# --------------------------------------------------------------------------- long values in messages

def test_huge_title_message_is_short(raw):
    sid = first_key(raw, "sources.csv")
    edit(raw, "sources.csv", sid, "title", " " + "x" * 100_000)
    with pytest.raises(DataValidationError) as info:
        load_raw(raw)
    assert len(str(info.value)) < 1000
    assert "…" in str(info.value)


# --------------------------------------------------------------------------- parameters

def test_override_impossible_date_names_parameter():
    with pytest.raises(ParameterError) as info:
        load_params(None, parse_overrides(["as_of=2022-13-01"]))
    msg = str(info.value)
    assert "as_of" in msg and "2022-13-01" in msg and "Traceback" not in msg


def test_params_file_impossible_date_names_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("entity: Xinjiang\nas_of: 2022-13-01\n", encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_params(path)
    assert str(path) in str(info.value) and "as_of (line 2)" in str(info.value)


def test_params_file_not_utf8(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes("entity: Xinjiang\ntitle: \u00dcr\u00fcmqi\n".encode("latin-1"))
    with pytest.raises(ParameterError) as info:
        load_params(path)
    assert str(info.value) == f"{path}: not UTF-8 text at line 2 (byte 0xdc); save the file as UTF-8"


def test_overlong_title_says_too_long():
    with pytest.raises(ParameterError) as info:
        load_params(None, {"title": "A" * 81})
    assert "title is 81 characters long; at most 80 are allowed" in str(info.value)
    assert "not allowed" not in str(info.value)


def test_huge_override_message_is_short():
    with pytest.raises(ParameterError) as info:
        load_params(None, parse_overrides(["title=" + "A" * 100_000]))
    assert len(str(info.value)) < 1000 and "100000 characters" in str(info.value)


@pytest.mark.parametrize("args,needle", [
    (["-p", "as_of=2022-13-01"], "as_of"),
    (["-p", "start_year=\u0662\u0660\u0661\u0660"], "start_year"),
])
def test_cli_parameter_errors_are_one_message(project_copy, args, needle):
    result = CliRunner().invoke(main, ["run", *args])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert needle in result.output and "Traceback" not in result.output


def test_cli_params_file_not_utf8(project_copy, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: x\ntitle: \xff\n")
    result = CliRunner().invoke(main, ["run", "--params", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"{path}: not UTF-8 text at line 2" in result.output


# --------------------------------------------------------------------------- unwritable output

def test_read_only_processed_is_one_line(project_copy, monkeypatch):
    """Tests run as root (permissions are not enforced), so the read-only folder is simulated."""
    import xjtrade.project as prj
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **k):
        if self.name.startswith(".processed.tmp-"):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(prj.Path, "mkdir", mkdir)
    result = CliRunner().invoke(main, ["data", "build"])
    monkeypatch.undo()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and "Permission denied" in lines[0]
    assert str(project_copy.processed.parent / ".processed.tmp-") in lines[0]
    assert "Traceback" not in result.output
    assert not project_copy.processed.exists()
