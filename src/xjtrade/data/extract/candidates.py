"""The candidate file: the columns of data/raw/reports.csv (row_id empty), then `evidence`,
`confidence` and `remark`, then the source the rows cite (`source_title`, `source_publisher`,
`source_published`, `source_url`, `source_language`), so that one file carries everything
`xjtrade data add` needs.  Text cells are neutralised like the project's other CSV files (a cell
starting with = + - @ gets a leading ', see `textsafe.csv_cell`); `data add` takes that quote off
again before it writes data/raw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from xjtrade.data import periods as base
from xjtrade.data.raw import REPORT_COLUMNS
from xjtrade.textsafe import FORMULA_START, csv_cell, csv_records

EXTRA_COLUMNS = ["evidence", "confidence", "remark"]
SOURCE_FIELDS = ["source_title", "source_publisher", "source_published", "source_url", "source_language"]
CANDIDATE_COLUMNS = REPORT_COLUMNS + EXTRA_COLUMNS + SOURCE_FIELDS
NUMERIC_COLUMNS = ("value", "yoy_pct")
CONFIDENCES = ("high", "medium", "low")

# host (or its tail) -> (publisher, id prefix); the first match wins
PUBLISHERS: list[tuple[str, str, str]] = [
    ("german.news.cn", "Xinhua (German service)", "xinhua-de"),
    ("german.xinhuanet.com", "Xinhua (German service)", "xinhua-de"),
    ("russian.news.cn", "Xinhua (Russian service)", "xinhua-ru"),
    ("french.news.cn", "Xinhua (French service)", "xinhua-fr"),
    ("spanish.news.cn", "Xinhua (Spanish service)", "xinhua-es"),
    ("portuguese.news.cn", "Xinhua (Portuguese service)", "xinhua-pt"),
    ("news.cn", "Xinhua", "xinhua"),
    ("xinhuanet.com", "Xinhua", "xinhua"),
    ("people.cn", "People's Daily Online", "people"),
    ("people.com.cn", "People's Daily Online", "people"),
    ("peopledaily.com.cn", "People's Daily Online", "people"),
    ("chinadaily.com.cn", "China Daily", "chinadaily"),
    ("globaltimes.cn", "Global Times", "globaltimes"),
    ("ts.cn", "Tianshan Net (Xinjiang Daily)", "ts"),
    ("urumqi.customs.gov.cn", "Urumqi Customs", "urumqi-customs"),
    ("customs.gov.cn", "General Administration of Customs of the PRC", "customs"),
    ("xinjiang.gov.cn", "Xinjiang Uygur Autonomous Region government", "xjgov"),
    ("scio.gov.cn", "State Council Information Office", "scio"),
    ("gov.cn", "State Council of the PRC (gov.cn)", "govcn"),
    ("chinaxinjiang.cn", "China Xinjiang", "chinaxinjiang"),
    ("ecns.cn", "China News Service (ecns.cn)", "ecns"),
    ("chinanews.com.cn", "China News Service", "chinanews"),
    ("chinanews.com", "China News Service", "chinanews"),
    ("cgtn.com", "CGTN", "cgtn"),
    ("cri.cn", "China Radio International", "cri"),
    ("shine.cn", "Shanghai Daily (shine.cn)", "shine"),
    ("china.org.cn", "China.org.cn", "china"),
]


@dataclass(frozen=True)
class Source:
    source_id: str
    title: str
    publisher: str
    published: str
    url: str
    language: str
    new: bool = True        # False when data/raw/sources.csv already lists it


def publisher_of(url: str) -> tuple[str, str]:
    """(publisher, id prefix) for an address; the host itself when it is not in the registry."""
    host = (urlsplit(url).hostname or "").lower() if url else ""
    for tail, name, prefix in PUBLISHERS:
        if host == tail or host.endswith("." + tail):
            return name, prefix
    if not host:
        return "", "release"
    bare = re.sub(r"^(?:www|m|en|english)\.", "", host)
    return bare, re.sub(r"[^a-z0-9]+", "-", bare.rsplit(".", 1)[0]).strip("-") or "release"


def propose_source(url: str, published: str, title: str, language: str, publisher: str, sources) -> Source:
    """The source row for a release: an existing row with the same address, else a new one whose
    id is the publisher's prefix and the date (`xinhua-2025-07-26`, then `-b`, `-c` when taken)."""
    if sources is not None and not sources.empty and url:
        same = sources[sources["url"] == url]
        if not same.empty:
            r = same.iloc[0]
            return Source(r["source_id"], r["title"], r["publisher"], r["published"], r["url"], r["language"],
                          new=False)
    name, prefix = publisher_of(url)
    taken = set(sources["source_id"]) if sources is not None and not sources.empty else set()
    base_id = f"{prefix}-{published}"
    sid, n = base_id, 0
    while sid in taken:
        n += 1
        sid = f"{base_id}-{chr(ord('a') + n)}"
    return Source(sid, title, publisher or name, published, url, language)


_FLOW_WORDS = {"total": "trade", "exports": "exports", "imports": "imports", "n/a": ""}


def describe(c) -> str:
    """A row's description in the project's words: what the figure is, how it was read."""
    try:
        label = base.Period.parse(c.period_start, c.period_end).label() if c.period_start else "undated"
    except base.PeriodError:
        label = f"{c.period_start}..{c.period_end}"
    what = c.indicator if c.indicator != "trade value" else _FLOW_WORDS.get(c.flow, c.flow)
    if c.indicator == "trade value" and c.flow == "total":
        what = "total trade"
    parts = [f"{label} {what}"]
    if c.partner != "World":
        parts.append(f"with {c.partner}")
    if c.segment != "all":
        parts.append(f"({c.segment})")
    text = " ".join(parts)
    extra = [f for f in c.facts if f]
    return f"{text}; extracted from the release" + (f" ({'; '.join(extra)})" if extra else "")


def rows(cands, source: Source) -> list[dict]:
    out = []
    for c in cands:
        row = {col: "" for col in CANDIDATE_COLUMNS}
        row.update({col: getattr(c, col) for col in REPORT_COLUMNS if hasattr(c, col)})
        row.update({
            "row_id": "", "source_id": source.source_id, "description": c.description or describe(c),
            "check": "unchecked" if c.confidence == "low" else "verified",
            "evidence": c.evidence, "confidence": c.confidence, "remark": c.remark,
            "source_title": source.title, "source_publisher": source.publisher,
            "source_published": source.published, "source_url": source.url, "source_language": source.language,
        })
        out.append(row)
    return out


def to_csv(table: list[dict]) -> str:
    """The candidate CSV, text cells neutralised against formula injection."""
    return csv_records([CANDIDATE_COLUMNS] + [[row[c] if c in NUMERIC_COLUMNS else csv_cell(str(row[c]))
                                               for c in CANDIDATE_COLUMNS] for row in table])


def unneutralise(text: str) -> str:
    """The inverse of `csv_cell` on a text cell: "'=x" -> "=x" (only before a formula character)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text
