"""Text from the data is text, never markup: escaping for markdown, URL checks, CSV cells.

Titles, publishers, descriptions, URLs and notes come from `data/raw` (typed by hand or pasted
from web pages).  On their way into a page they pass through `md_escape` (pandoc markdown),
URLs through `web_url` (an http(s) address without anything that could end a link), and
published CSV cells through `csv_cell` (spreadsheet formula injection, OWASP's rule).
Kept free of heavy imports: the data layer and the report layer both use it.
"""

from __future__ import annotations

import re
import unicodedata
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


def shorten(text: object, limit: int = 80) -> str:
    """`text` cut to `limit` characters plus "…" (for error messages echoing user input)."""
    s = str(text)
    return s if len(s) <= limit else s[:limit] + "…"
