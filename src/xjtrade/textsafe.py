"""Text from the data is text, never markup: escaping for markdown, URL checks, CSV files.

Titles, publishers, descriptions, URLs and notes come from `data/raw` (typed by hand or pasted
from web pages).  On their way into a page they pass through `md_escape` (pandoc markdown),
URLs through `web_url` (an http(s) address without anything that could end a link), and every
published CSV file through `write_csv` / `csv_text`, the one CSV writer of the project
(spreadsheet formula injection, OWASP's rule, for every text cell and header; line breaks kept
inside quoted fields).
Kept free of heavy imports: the data layer and the report layer both use it (pandas is imported
only by the CSV writer, whose callers have loaded it already).
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

# Every character that pandoc's markdown reader can give a meaning to (emphasis, code, links,
# raw HTML / raw attributes, headings, tables, math, citations, footnotes, strike-out, super-
# and subscript, lists, entities); with `markdown+all_symbols_escapable` (pandoc's default)
# a backslash before any ASCII punctuation gives the character itself.
MD_SPECIAL = frozenset("\\`*_[]<>#{}|$@~^!&:=+-.()%\"")  # "..." stays straight; ' may curl


def md_escape(text: object) -> str:
    """`text` as literal markdown: every markdown/pandoc special character backslash-escaped,
    control characters and line breaks turned into spaces (one paragraph, one table cell)."""
    s = "" if text is None else str(text)
    out = []
    for ch in s:
        if ch in "\r\n\t\v\f" or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif ch in MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


_URL_FORBIDDEN = re.compile(r"[\s\"'<>`\\{}|^\x00-\x1f\x7f]")


def url_problem(url: str) -> str | None:
    """Why `url` is not a plain http(s) URL (None when it is): scheme http or https, a host,
    and no whitespace, control characters, quotes, angle brackets or backslashes anywhere."""
    if not isinstance(url, str) or url == "":
        return "is empty"
    bad = _URL_FORBIDDEN.search(url)
    if bad:
        return f"contains {bad.group(0)!r}, which a URL cannot hold (encode it as %{ord(bad.group(0)):02X})"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp") for c in url):
        return "contains invisible or control characters"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"has scheme {parts.scheme or '(none)'!r}; only http and https are allowed"
    if not parts.netloc or not parts.hostname:
        return "has no host"
    try:
        parts.port
    except ValueError:
        return "has an invalid port"
    return None


def web_url(url: str) -> str:
    """`url` if it is a plain http(s) URL, else ValueError (checked again where a link is written)."""
    problem = url_problem(url)
    if problem:
        raise ValueError(f"URL {shorten(url)!r} {problem}")
    return url


def md_link(label: str, url: str) -> str:
    """A markdown link whose label is escaped text and whose target is a checked http(s) URL;
    an unusable URL is shown as plain text instead of a link."""
    if url_problem(url) is not None:
        return md_escape(label)
    return f"[{md_escape(label)}](<{url}>)"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """OWASP's rule against formula injection: a text cell starting with = + - @ tab or CR gets a
    leading single quote, so spreadsheet programs show it as text.  Non-strings pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_frame(frame):
    """A copy of `frame` as it is published in CSV: every text cell and every text header run
    through `csv_cell`; numbers (negative ones included), booleans and missing values untouched."""
    import pandas as pd
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out


class _LineFeeds:
    """A sink for `csv.writer` rows written with the terminator CRLF, kept with LF instead.  The
    csv module quotes a field holding any character of the row terminator: with CRLF a field holding
    a lone carriage return is quoted too (with LF alone it is written bare, and readers, pandas among
    them, then split the row there)."""

    def __init__(self, out):
        self.out = out

    def write(self, row: str) -> None:
        self.out.write(row[:-2] + "\n")   # every row ends with the terminator "\r\n"


def csv_text(frame, float_format: str | None = None) -> str:
    """`frame` (without its index) as CSV text, the one format of every CSV file the project
    publishes: headers and text cells neutralised against formula injection (`csv_frame`), numbers
    formatted by pandas (`float_format`, e.g. "%.6g"), rows ending in LF, and every field holding a
    comma, a quote, a line feed or a carriage return quoted, so that a reader gets back as many rows
    as the frame has."""
    crlf = csv_frame(frame).to_csv(index=False, float_format=float_format, lineterminator="\r\n")
    out = io.StringIO()
    csv.writer(_LineFeeds(out), lineterminator="\r\n").writerows(csv.reader(io.StringIO(crlf, newline="")))
    return out.getvalue()


def csv_records(records, lineterminator: str = "\n") -> str:
    """Rows (lists of texts) as CSV text, written as they are (quoted where a field needs it, nothing
    neutralised): for the raw tables, where `xjtrade data add` appends the curators' rows in the file's
    own line ending, and for the candidate file, whose text cells the caller neutralises column by
    column (`csv_cell`: a growth rate of -8.9 stays a number there)."""
    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows(records)
    return out.getvalue()


def write_csv(frame, path, float_format: str | None = None) -> Path:
    """Write `csv_text(frame)` to `path` (UTF-8).  The file is opened without following a symbolic
    link (O_NOFOLLOW): a link planted where an output goes is refused (OSError), never written through."""
    path = Path(path)
    data = csv_text(frame, float_format).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def shorten(text: object, limit: int = 80) -> str:
    """`text` cut to `limit` characters plus "…" (for error messages echoing user input)."""
    s = str(text)
    return s if len(s) <= limit else s[:limit] + "…"


def printable(text: object) -> str:
    """`text` safe to print in a terminal or a log: every control, format or separator character
    (ANSI escapes, bidi overrides, zero-width characters, line breaks) written as its Python escape
    (`\\x1b`, `\\u202e`, `\\u200b`), so that an error message shows the data instead of obeying it."""
    s = str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in s)


# Characters that make one text look like another or reorder what is shown: bidi embeddings, overrides,
# isolates and marks, and zero-width characters (also refused in any text of the raw data).
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


# Any of them in any text: controls (C0, DEL, C1), ALM, zero-width and LRM/RLM, line/paragraph separators,
# bidi embeddings and overrides, word joiner, bidi isolates, zero-width no-break space.
_HIDDEN_IN_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]")


def _hidden_why(ch: str, name: bool) -> str | None:
    cat = unicodedata.category(ch)
    if cat == "Cc":
        return "a control character"
    if ch in BIDI:
        return "a bidirectional-text control"
    if ch in ZERO_WIDTH:
        return "a zero-width character"
    if cat in ("Zl", "Zp"):
        return "a line or paragraph separator"
    if name and cat in ("Cf", "Co", "Cs", "Cn"):
        return "an invisible or unassigned character"
    if name and cat == "Zs" and ch != " ":
        return "a space other than the plain space"
    return None


def hidden_character(text: str, name: bool = False) -> tuple[int, str] | None:
    """The first character of `text` that is hidden or not what it looks like, as (position from 1,
    description), or None.  Any text: control characters (tab, line breaks, ANSI escapes), bidi controls,
    zero-width characters, line and paragraph separators.  A name or id (`name=True`): also any other
    invisible format character and any space but the plain one (a no-break space makes a second
    "Horgos port" that looks like the first)."""
    if text.isascii() and text.isprintable():
        return None
    found: tuple[int, str | None] | None
    if name:
        found = next(((i, why) for i, ch in enumerate(text, start=1) if (why := _hidden_why(ch, True))), None)
    else:
        m = _HIDDEN_IN_TEXT.search(text)
        found = (m.start() + 1, _hidden_why(m.group(0), False)) if m else None
    if found is None:
        return None
    pos, what = found
    ch = text[pos - 1]
    label = unicodedata.name(ch, "") or {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN",
                                         "\x1b": "ESCAPE", "\x00": "NULL"}.get(ch, "")
    return pos, f"{what} (U+{ord(ch):04X}{' ' + label if label else ''})"
