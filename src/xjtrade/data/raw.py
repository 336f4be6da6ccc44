"""The raw tables: reported figures, their sources and exchange rates.

Each table is read as text (nothing is coerced on the way in), checked against a
declared schema (pandera, column by column) and then against rules that span
columns and tables (periods, units, foreign keys, duplicates).  Every problem is
reported with the file, the line (as a text editor numbers it) and the column.
Nothing is dropped: a table with any problem is refused as a whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from xjtrade.data import periods, qualifiers
from xjtrade.errors import DataValidationError, Problem  # noqa: F401  (re-exported)
from xjtrade.textsafe import hidden_character, printable, shorten, url_problem

REPORT_COLUMNS = [
    "row_id", "entity", "flow", "partner", "product", "segment", "indicator",
    "period_start", "period_end", "period_kind", "value", "unit", "qualifier",
    "yoy_pct", "yoy_qualifier", "source_id", "description", "check",
]
# Columns a reports.csv written before they existed may lack, with the value every row then takes:
# a table without `yoy_qualifier` is read as printing every growth rate exactly.
OPTIONAL_REPORT_COLUMNS = {"yoy_qualifier": ""}
SOURCE_COLUMNS = ["source_id", "title", "publisher", "published", "url", "language", "date_inferred"]
RATE_COLUMNS = ["year", "cny_per_usd", "source_id", "note"]

FLOWS = ("total", "exports", "imports", "n/a")
QUALIFIERS = qualifiers.QUALIFIERS
CHECKS = ("verified", "seed", "unchecked", "doubt", "mismatch", "implausible")

# unit as reported -> (currency, factor to billions of that currency); None = not money
CURRENCY_UNITS: dict[str, tuple[str, float]] = {
    "trillion yuan": ("CNY", 1000.0),
    "billion yuan": ("CNY", 1.0),
    "100 million yuan": ("CNY", 0.1),
    "million yuan": ("CNY", 0.001),
    "10k yuan": ("CNY", 1e-5),
    "yuan": ("CNY", 1e-9),
    "trillion USD": ("USD", 1000.0),
    "billion USD": ("USD", 1.0),
    "100 million USD": ("USD", 0.1),
    "million USD": ("USD", 0.001),
    "USD": ("USD", 1e-9),
}
# Money figures are converted to billions of yuan and of dollars (at most MAX_RATE yuan a dollar, the
# exchange-rate schema's bound); beyond MAX_BILLIONS a value is a typo, and sums and ratios of such values
# would overflow downstream (1e306 trillion yuan passed `data check` and crashed `data build`).
MAX_RATE = 20.0
MAX_BILLIONS = 1e12
OTHER_UNITS = ("10k tons", "count", "days", "percentage points", "rank", "percent")
UNITS = tuple(CURRENCY_UNITS) + OTHER_UNITS

# Patterns are matched whole (re.fullmatch) and with ASCII digits only: `\d` and str.isdigit()
# accept Arabic-Indic or fullwidth digits, and `$` would let a trailing newline through.
_ID = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


@dataclass
class RawData:
    reports: pd.DataFrame
    sources: pd.DataFrame
    rates: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)


def _is_number(text: str) -> bool:
    """Empty, or a finite decimal number written with ASCII digits (float() alone would also take
    'nan', 'inf', '1_000', padded text and non-ASCII digits)."""
    if text == "":
        return True
    return bool(_NUMBER.fullmatch(text)) and math.isfinite(float(text))


def _matches(pattern: str, allow_empty: bool = False):
    rx = re.compile(pattern, re.ASCII)
    return lambda x: (allow_empty and x == "") or bool(rx.fullmatch(x))


def _is_date(text: str) -> bool:
    """A real calendar date YYYY-MM-DD in ASCII digits (2023-02-30 is not one)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text, re.ASCII):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_source_url(text: str) -> bool:
    if text.startswith("seed:"):
        return bool(re.fullmatch(r"seed:[A-Za-z0-9][A-Za-z0-9._/-]*", text, re.ASCII)) and ".." not in text
    return url_problem(text) is None


def _nonblank(x: str) -> bool:
    return x.strip() != "" and x == x.strip()


def _col(checks, error=None):
    return pa.Column(str, checks=checks, nullable=False)


def _check(fn, error):
    return pa.Check(fn, element_wise=True, error=error)


REPORTS_SCHEMA = pa.DataFrameSchema(
    {
        "row_id": _col([_check(_matches(r"R[0-9]{4,}"), "must look like R0001")]),
        "entity": _col([_check(_nonblank, "must not be blank or padded")]),
        "flow": _col([_check(lambda x: x in FLOWS, f"must be one of {', '.join(FLOWS)}")]),
        "partner": _col([_check(_nonblank, "must not be blank or padded")]),
        "product": _col([_check(_nonblank, "must not be blank or padded ('all' for all goods)")]),
        "segment": _col([_check(_nonblank, "must not be blank or padded ('all' for all trade)")]),
        "indicator": _col([_check(_nonblank, "must not be blank or padded")]),
        "period_start": _col([_check(_matches(r"[0-9]{4}-[0-9]{2}", True), "must be a month YYYY-MM")]),
        "period_end": _col([_check(_matches(r"[0-9]{4}-[0-9]{2}", True), "must be a month YYYY-MM")]),
        "period_kind": _col([_check(lambda x: x in periods.KINDS, f"must be one of {', '.join(periods.KINDS)}")]),
        "value": _col([_check(_is_number, "is not a number")]),
        "unit": _col([_check(lambda x: x in UNITS, "is not a known unit (see data/README.md)")]),
        "qualifier": _col([_check(lambda x: x in QUALIFIERS, f"must be one of {', '.join(QUALIFIERS)}")]),
        "yoy_pct": _col([_check(_is_number, "is not a number")]),
        "yoy_qualifier": _col([_check(lambda x: x == "" or x in QUALIFIERS,
                                      f"must be one of {', '.join(QUALIFIERS)}, or empty (exact)")]),
        "source_id": _col([_check(_matches(_ID), "must be an id (letters, digits, . _ -)")]),
        "description": _col([_check(_nonblank, "must not be blank")]),
        "check": _col([_check(lambda x: x in CHECKS, f"must be one of {', '.join(CHECKS)}")]),
    },
    strict=True,
    ordered=True,
)

SOURCES_SCHEMA = pa.DataFrameSchema(
    {
        "source_id": _col([_check(_matches(_ID), "must be an id (letters, digits, . _ -)")]),
        "title": _col([_check(_nonblank, "must not be blank")]),
        "publisher": _col([_check(_nonblank, "must not be blank")]),
        "published": _col([_check(lambda x: x == "" or _is_date(x),
                                   "must be a date YYYY-MM-DD (a real calendar date, or empty if unknown)")]),
        "url": _col([_check(_is_source_url, "must be an http(s) URL (host, no spaces, quotes or angle brackets) "
                                            "or seed:FILE")]),
        "language": _col([_check(_matches(r"[a-z]{2}"), "must be a two-letter language code")]),
        "date_inferred": _col([_check(lambda x: x in ("yes", "no"), "must be yes or no")]),
    },
    strict=True,
    ordered=True,
)

RATES_SCHEMA = pa.DataFrameSchema(
    {
        "year": _col([_check(_matches(r"[0-9]{4}"), "must be a year")]),
        "cny_per_usd": _col([_check(lambda x: x != "" and _is_number(x) and 1 < float(x) < 20,
                                    "must be a number of yuan per US dollar (1-20)")]),
        "source_id": _col([_check(_matches(_ID), "must be an id")]),
        "note": pa.Column(str, nullable=False),
    },
    strict=True,
    ordered=True,
)


def read_table(path: Path, columns: list[str],
               optional: dict[str, str] | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a CSV as text; every row keeps its line number in column `line_no`.  A header without the
    `optional` columns (name -> the value every row takes) is read too, those columns filled in."""
    name = str(path)
    optional = optional or {}
    if not path.exists():
        return pd.DataFrame(), [Problem(name, None, None, "file not found")]
    raw = path.read_bytes()
    try:
        # utf-8-sig: a byte-order mark (what spreadsheet programs write) is not part of the header
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return pd.DataFrame(), [Problem(name, line, None, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} "
                                                          f"at offset {exc.start})")]
    if text.strip() == "":
        return pd.DataFrame(), [Problem(name, None, None, "file is empty (expected a header and rows)")]
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as exc:
        return pd.DataFrame(), [Problem(name, reader.line_num or 1, None, _csv_problem(exc))]
    filled: dict[str, str] = {}
    if header != columns and optional and header == [c for c in columns if c not in optional]:
        filled = optional       # an older table without the optional columns: read, columns filled in
    elif header != columns:
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        detail = []
        if missing:
            detail.append(f"missing {', '.join(missing)}")
        if extra:
            detail.append(f"unexpected {', '.join(extra)}")
        if not detail:
            detail.append("columns out of order")
        detail = [shorten(d, 200) for d in detail]
        problems.append(Problem(name, 1, None, f"header does not match the schema: {'; '.join(detail)} "
                                               f"(expected: {', '.join(columns)})"))
        return pd.DataFrame(), problems
    records, lines = [], []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:   # a field over the csv module's limit, a NUL byte...: located, never a traceback
            problems.append(Problem(name, start, None, _csv_problem(exc)))
            return pd.DataFrame(), problems
        line = reader.line_num
        if not rec or rec == [""]:  # a blank line (spreadsheets and editors leave them): skipped
            continue
        if len(rec) != len(header):
            problems.append(Problem(name, start, None, f"has {len(rec)} fields, expected {len(header)} "
                                                       "(truncated or mis-quoted line?)"))
            continue
        if filled:
            got = dict(zip(header, rec))
            rec = [got[c] if c in got else filled[c] for c in columns]
        records.append(rec)
        lines.append(start)
    if not text.endswith("\n"):
        problems.append(Problem(name, line, None, "file does not end with a newline (truncated?)"))
    if not records and not problems:
        problems.append(Problem(name, None, None, "has a header but no rows"))
    df = pd.DataFrame(records, columns=columns, dtype=object)
    df["line_no"] = lines
    return df, problems


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return (f"a field is longer than {csv.field_size_limit():,} characters (at most {MAX_FIELD:,} are allowed; "
                "an unclosed quote?)")
    return f"cannot be read as CSV ({shorten(text, 120)})"


# The longest text a field may hold (a description is a sentence or two; a title a headline).
MAX_FIELD = 10_000
# Columns holding ids and names: besides the rules for any text, no invisible character and no space
# but the plain one (two names that look the same must be the same name).
NAME_COLUMNS = {"reports": ("row_id", "entity", "flow", "partner", "product", "segment", "indicator", "unit",
                            "qualifier", "yoy_qualifier", "source_id", "check"),
                "sources": ("source_id", "publisher", "language", "date_inferred"),
                "rates": ("year", "source_id")}


def _text_problems(df: pd.DataFrame, name: str, names: tuple[str, ...]) -> list[Problem]:
    """Fields too long, and text that is hidden or looks like other text: control characters (ANSI
    escapes, line breaks), bidi overrides and zero-width characters in any field; in ids and names also
    any invisible character or unusual space.  Each with its line, column and character position."""
    out = []
    for col in df.columns:
        if col == "line_no":
            continue
        values = df[col]
        suspect = [not (v.isascii() and v.isprintable()) or len(v) > MAX_FIELD for v in values]
        for value, line in zip(values[suspect], df["line_no"][suspect]):
            if len(value) > MAX_FIELD:
                out.append(Problem(name, int(line), col, f"is {len(value):,} characters long; at most {MAX_FIELD:,} "
                                                         "are allowed"))
                continue
            found = None if col == "url" else hidden_character(value, name=col in names)  # URLs: their own check
            if found:
                pos, what = found
                out.append(Problem(name, int(line), col, f"{shorten(printable(repr(value)))} contains {what} at "
                                                         f"character {pos}: text must show what it holds"))
    return out


def _today() -> dt.date:
    return dt.date.today()


def _future_problems(sources: pd.DataFrame, name: str) -> list[Problem]:
    """A publication date after today (a day's grace for time zones) is a typo: refused."""
    latest = (_today() + dt.timedelta(days=1)).isoformat()
    return [Problem(name, int(r.line_no), "published", f"{r.published} is in the future (today is {_today()}): "
                                                      "a source cannot have been published yet")
            for r in sources.itertuples(index=False)
            if _is_date(r.published) and r.published > latest]


def _schema_problems(df: pd.DataFrame, schema: pa.DataFrameSchema, name: str) -> list[Problem]:
    if df.empty:
        return []
    try:
        schema.validate(df.drop(columns="line_no"), lazy=True)
    except pa.errors.SchemaErrors as exc:
        out = []
        for case in exc.failure_cases.itertuples(index=False):
            idx = case.index
            line = int(df["line_no"].iloc[int(idx)]) if idx is not None and not pd.isna(idx) else None
            out.append(Problem(name, line, case.column, f"{shorten(repr(case.failure_case))} {case.check}"))
        return sorted(out, key=lambda p: (p.line or 0, p.column or ""))
    return []


def _report_rule_problems(df: pd.DataFrame, name: str) -> list[Problem]:
    out = []
    for row in df.itertuples(index=False):
        line = row.line_no
        if row.period_kind == "undated":
            if row.period_start or row.period_end:
                out.append(Problem(name, line, "period_kind", "'undated' rows must leave the period empty"))
        else:
            try:
                start, end = periods.parse_month(row.period_start), periods.parse_month(row.period_end)
            except periods.PeriodError as exc:
                out.append(Problem(name, line, "period_start/period_end", str(exc)))
            else:
                if end < start:
                    out.append(Problem(name, line, "period_end",
                                       f"period ends ({row.period_end}) before it starts ({row.period_start})"))
                elif not periods.kind_is_consistent(row.period_kind, start, end):
                    out.append(Problem(name, line, "period_kind",
                                       f"'{row.period_kind}' does not fit {row.period_start}..{row.period_end} "
                                       f"(looks like '{periods.natural_kind(start, end)}')"))
        if row.value == "" and row.yoy_pct == "" and row.period_kind != "undated":
            out.append(Problem(name, line, "value", "row has neither a value nor a year-on-year rate"))
        if row.value != "" and _is_number(row.value) and row.unit in CURRENCY_UNITS and float(row.value) < 0:
            out.append(Problem(name, line, "value", "a trade value cannot be negative"))
        elif row.value != "" and _is_number(row.value) and row.unit in CURRENCY_UNITS:
            billions = abs(float(row.value)) * CURRENCY_UNITS[row.unit][1] * MAX_RATE
            if not math.isfinite(billions) or billions > MAX_BILLIONS:
                out.append(Problem(name, line, "value", f"{shorten(row.value)} {row.unit} is too large: in billions of "
                                                        f"yuan or dollars it exceeds {MAX_BILLIONS:.0e} (a typo?)"))
        if row.yoy_qualifier != "" and row.yoy_pct == "":
            out.append(Problem(name, line, "yoy_qualifier", f"{shorten(repr(row.yoy_qualifier))} qualifies a growth "
                                                            "rate, but the row has none (yoy_pct is empty)"))
        if row.yoy_pct != "" and _is_number(row.yoy_pct) and float(row.yoy_pct) <= -100:
            out.append(Problem(name, line, "yoy_pct", f"{row.yoy_pct}% would mean the figure vanished or "
                                                      "turned negative"))
    return out


def _duplicate_problems(df: pd.DataFrame, column: str, name: str) -> list[Problem]:
    dup = df[df[column].duplicated(keep="first")]
    return [Problem(name, int(r.line_no), column, f"duplicate id {shorten(repr(getattr(r, column)))}")
            for r in dup.itertuples(index=False)]


def _rate_coverage_problems(reports: pd.DataFrame, rates: pd.DataFrame, reports_name: str,
                            rates_name: str) -> list[Problem]:
    """Every money figure is converted into both currencies at the annual average rate of the year
    its period ends in (US dollar figures into yuan, yuan figures into dollars): a year without a
    rate would silently leave those conversions empty."""
    have = {r.year for r in rates.itertuples(index=False)} if not rates.empty else set()
    need: dict[str, list[int]] = {}
    for r in reports.itertuples(index=False):
        if (r.unit in CURRENCY_UNITS and r.value != "" and r.period_kind != "undated"
                and re.fullmatch(r"[0-9]{4}-[0-9]{2}", r.period_end, re.ASCII)):
            need.setdefault(r.period_end[:4], []).append(int(r.line_no))
    out = []
    for year in sorted(set(need) - have):
        lines = need[year]
        shown = ", ".join(str(n) for n in lines[:10]) + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")
        out.append(Problem(rates_name, None, "year",
                           f"no exchange rate for {year}, which {len(lines)} money figure(s) in {reports_name} "
                           f"need (lines {shown}) to convert between yuan and US dollars"))
    return out


KEY_COLUMNS = ["entity", "flow", "partner", "product", "segment", "indicator", "period_start", "period_end"]


def _same_source_problems(df: pd.DataFrame, name: str) -> list[Problem]:
    """One source cannot report one quantity twice: a repeat is a typo or a misread period."""
    out = []
    seen: dict[tuple, tuple[int, str, str]] = {}
    for r in df.itertuples(index=False):
        key = tuple(getattr(r, c) for c in KEY_COLUMNS) + (r.unit, r.source_id)
        if key in seen:
            line, value, yoy = seen[key]
            same = value == r.value and yoy == r.yoy_pct
            what = "repeats" if same else "conflicts with"
            out.append(Problem(name, int(r.line_no), "value",
                               f"{what} line {line}: source {r.source_id!r} reports {r.entity} {r.flow} "
                               f"{r.partner} {r.period_start}..{r.period_end} as {value or '-'} "
                               f"({yoy or '-'}%) there and {r.value or '-'} ({r.yoy_pct or '-'}%) here"))
        else:
            seen[key] = (int(r.line_no), r.value, r.yoy_pct)
    return out


def load_raw(raw_dir: Path) -> RawData:
    """Read and validate data/raw; raise DataValidationError listing every problem."""
    raw_dir = Path(raw_dir)
    files = {"reports": raw_dir / "reports.csv", "sources": raw_dir / "sources.csv",
             "rates": raw_dir / "exchange_rates.csv"}
    problems: list[Problem] = []
    reports, p = read_table(files["reports"], REPORT_COLUMNS, OPTIONAL_REPORT_COLUMNS)
    problems += p
    sources, p = read_table(files["sources"], SOURCE_COLUMNS)
    problems += p
    rates, p = read_table(files["rates"], RATE_COLUMNS)
    problems += p
    for df, table in ((reports, "reports"), (sources, "sources"), (rates, "rates")):
        if not df.empty:
            problems += _text_problems(df, str(files[table]), NAME_COLUMNS[table])
    if not sources.empty:
        problems += _future_problems(sources, str(files["sources"]))
    problems += _schema_problems(reports, REPORTS_SCHEMA, str(files["reports"]))
    problems += _schema_problems(sources, SOURCES_SCHEMA, str(files["sources"]))
    problems += _schema_problems(rates, RATES_SCHEMA, str(files["rates"]))
    if not reports.empty:
        problems += _duplicate_problems(reports, "row_id", str(files["reports"]))
        problems += _report_rule_problems(reports, str(files["reports"]))
        problems += _same_source_problems(reports, str(files["reports"]))
    if not sources.empty:
        problems += _duplicate_problems(sources, "source_id", str(files["sources"]))
    if not rates.empty:
        problems += _duplicate_problems(rates, "year", str(files["rates"]))
    if not reports.empty and not any(p.file == str(files["rates"]) for p in problems):
        problems += _rate_coverage_problems(reports, rates, str(files["reports"]), str(files["rates"]))
    if not reports.empty and not sources.empty:
        known = set(sources["source_id"])
        for r in reports.itertuples(index=False):
            if r.source_id not in known:
                problems.append(Problem(str(files["reports"]), int(r.line_no), "source_id",
                                        f"unknown source id {shorten(repr(r.source_id))} (not in {files['sources'].name})"))
        for r in rates.itertuples(index=False) if not rates.empty else []:
            if r.source_id not in known:
                problems.append(Problem(str(files["rates"]), int(r.line_no), "source_id",
                                        f"unknown source id {shorten(repr(r.source_id))} (not in {files['sources'].name})"))
    if problems:
        raise DataValidationError(problems)
    return RawData(reports=reports, sources=sources, rates=rates, files=files)
