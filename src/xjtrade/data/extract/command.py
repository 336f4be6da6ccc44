"""`xjtrade data extract`: a page (saved, from standard input, or fetched) -> the candidate CSV.

Side effects stay here (reading the page, fetching it, writing the output); `release.py`,
`check.py` and `candidates.py` take data and return data.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from xjtrade.data.extract.text import Page

if TYPE_CHECKING:   # imported where it is used (extract): it loads the raw tables' schema
    from xjtrade.data.extract.candidates import Source

FETCH_TIMEOUT = 20.0          # seconds
FETCH_LIMIT = 5 * 1024 * 1024  # bytes


class ExtractError(RuntimeError):
    """A page that cannot be read, fetched or dated, or that holds no figures (one line)."""


@dataclass
class Result:
    csv: str
    n: int
    by_confidence: dict
    source: Source
    saved: Path | None = None


def read_source(source: str) -> tuple[bytes, str]:
    """The bytes of SOURCE (a file, or '-' for standard input) and its name."""
    if source == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    path = Path(source)
    if not path.is_file():
        raise ExtractError(f"{source}: no such file (give a saved page, '-' for standard input, or --fetch URL)")
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise ExtractError(f"{source}: cannot be read ({exc.strerror or exc})") from None


def fetch(url: str, timeout: float = FETCH_TIMEOUT, limit: int = FETCH_LIMIT) -> bytes:
    """GET an http(s) page, at most `limit` bytes, within `timeout` seconds per step."""
    from xjtrade.textsafe import url_problem
    problem = url_problem(url)
    if problem:
        raise ExtractError(f"--fetch: the address {problem}")
    import httpx
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True,
                          headers={"User-Agent": "xjtrade-extract (Xinjiang Trade Monitor)"}) as client:
            with client.stream("GET", url) as resp:
                if resp.status_code >= 400:
                    raise ExtractError(f"could not fetch {url}: HTTP {resp.status_code}")
                final = str(resp.url)
                if url_problem(final):
                    raise ExtractError(f"could not fetch {url}: redirected to a non-http(s) address")
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise ExtractError(f"could not fetch {url}: the page is {int(declared):,} bytes, over the "
                                       f"limit of {limit:,}")
                chunks, size = [], 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ExtractError(f"could not fetch {url}: the page is over the limit of {limit:,} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
    except httpx.TimeoutException:
        raise ExtractError(f"could not fetch {url}: no answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExtractError(f"could not fetch {url}: {reason} (is this machine online?)") from None


def check_published(text: str, what: str) -> dt.date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text or "", re.ASCII):
        raise ExtractError(f"{what} {text!r} is not a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ExtractError(f"{what} {text!r} is not a calendar date") from None


def extract(data: bytes, name: str, *, raw_dir: Path, url: str | None, published: str | None,
            title: str | None = None, publisher: str | None = None, language: str | None = None) -> Result:
    """The candidate CSV of one page, checked against the record in `raw_dir`."""
    from xjtrade.data.extract.candidates import propose_source, rows, to_csv
    from xjtrade.data.extract.check import check
    from xjtrade.data.extract.release import extract_release
    from xjtrade.data.extract.text import read_page
    from xjtrade.data.raw import load_raw
    from xjtrade.textsafe import url_problem

    page: Page = read_page(data, name)
    if published:
        day = check_published(published, "--published")
    elif page.published:
        day = check_published(page.published, "the page's metadata date")
    else:
        raise ExtractError(f"{name}: no publication date: the page's metadata gives none; "
                           "pass --published YYYY-MM-DD")
    address = url or page.url or ""
    if address and url_problem(address):
        raise ExtractError(f"--url: the address {url_problem(address)}")
    lang = language or page.language or "en"
    cands = extract_release(page, day, lang)
    if not cands:
        raise ExtractError(f"{name}: no trade figures found in the page's text "
                           f"({len(page.text.split())} words read); nothing written")
    record = load_raw(raw_dir)
    source = propose_source(address, day.isoformat(), title or page.title or _bracket_title(cands, page),
                            lang, publisher or "", record.sources)
    check(cands, record.reports, source.source_id)
    table = rows(cands, source)
    counts = {k: sum(1 for c in cands if c.confidence == k) for k in ("high", "medium", "low")}
    return Result(to_csv(table), len(table), counts, source)


def _bracket_title(cands, page: Page) -> str:
    from xjtrade.data import periods as base
    c = cands[0]
    try:
        label = base.Period.parse(c.period_start, c.period_end).label()
    except base.PeriodError:
        label = ""
    return f"[Report on {c.entity}'s foreign trade{', ' + label if label else ''}]"


def save_copy(data: bytes, project_root: Path, save: Path | None, source_id: str) -> Path:
    """Keep a fetched page for the record (data/pages/<source id>.html unless --save names a file)."""
    import os
    import uuid
    target = Path(save) if save else project_root / "data" / "pages" / f"{source_id}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
