"""The extractor on the release corpus (tests/fixtures/releases): precision and recall of the
headline rows, every miss and every false positive printed.

Each fixture is a release text (or a saved HTML page) with its expected rows, written by hand from
the text (`NAME.expected.csv`, the columns of data/raw/reports.csv), and a line of `index.csv`
(address, publication date, language).  A headline row is a trade value, a partner's share of the
world total, the growth gap to the national rate, a count of freight trains or a cargo weight, over
all goods; it matches when entity, flow, partner, segment, indicator, period, value, unit,
growth and the word printed before the growth ("nearly 40 percent") all agree (values compared as
numbers).  Expected rows of other kinds (ranks, vehicles,
goods of one kind) are outside the extractor's scope: they are counted and named, not scored.

The report is printed (visible with -s) and attached to the test's report, from which
tests/conftest.py writes it into the terminal summary of every run.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from xjtrade.data.extract.release import extract_release
from xjtrade.data.extract.text import read_page
from xjtrade.data.raw import REPORT_COLUMNS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "releases"
HEADLINE = {"trade value", "share of world total", "growth gap to national rate", "cargo weight",
            "China-Europe freight trains", "China-Central Asia freight trains",
            "China-Europe/Central Asia freight trains", "China-Europe freight trains in/out"}
MATCH = ["entity", "flow", "partner", "segment", "indicator", "period_start", "period_end", "value", "unit",
         "yoy_pct", "yoy_qualifier"]
MIN_PRECISION = 0.95
MIN_RECALL = 0.95


def index() -> list[dict]:
    with open(FIXTURES / "index.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _number(text: str) -> str:
    return format(Decimal(text).normalize(), "f") if text.strip() else ""


def key(row) -> tuple:
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return tuple(_number(get(k) or "") if k in ("value", "yoy_pct") else (get(k) or "").strip() for k in MATCH)


def expected_rows(name: str) -> list[dict]:
    with open(FIXTURES / f"{name}.expected.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def extracted(meta: dict):
    page = read_page((FIXTURES / meta["file"]).read_bytes(), meta["file"])
    return extract_release(page, dt.date.fromisoformat(meta["published"]), meta["language"])


def score() -> dict:
    tp = fp = fn = 0
    lines: list[str] = []
    unscored: Counter = Counter()
    per_language: Counter = Counter()
    for meta in index():
        exp = expected_rows(meta["id"])
        unscored.update(r["indicator"] for r in exp if r["indicator"] not in HEADLINE or r["product"] != "all")
        want = [key(r) for r in exp if r["indicator"] in HEADLINE and r["product"] == "all"]
        got = [key(c) for c in extracted(meta)]
        left = list(want)
        false = []
        for g in got:
            if g in left:
                left.remove(g)
            else:
                false.append(g)
        tp += len(got) - len(false)
        fp += len(false)
        fn += len(left)
        per_language[meta["language"] + ("-" + meta["script"] if meta["script"] else "")] += 1
        for k in left:
            lines.append(f"  MISS  {meta['id']}: {' | '.join(k)}")
        for k in false:
            lines.append(f"  FALSE {meta['id']}: {' | '.join(k)}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    head = (f"release corpus: {len(index())} fixtures ({', '.join(f'{k} {v}' for k, v in sorted(per_language.items()))}); "
            f"headline rows expected {tp + fn}, extracted {tp + fp}, matched {tp}\n"
            f"precision {precision:.1%} (need {MIN_PRECISION:.0%}), recall {recall:.1%} (need {MIN_RECALL:.0%}); "
            f"{len(lines)} misses and false positives:")
    tail = ("expected rows outside the extractor's scope (not scored): "
            + ", ".join(f"{k} {v}" for k, v in unscored.most_common()))
    return {"precision": precision, "recall": recall, "report": "\n".join([head, *lines, tail]),
            "per_language": per_language}


def test_corpus_has_the_releases_the_issue_asks_for():
    rows = index()
    assert len(rows) >= 30
    langs = Counter((r["language"], r["script"]) for r in rows)
    assert langs[("zh", "simplified")] >= 3 and langs[("zh", "traditional")] >= 2
    assert langs[("en", "")] >= 10
    assert sum(n for (lang, _), n in langs.items() if lang not in ("zh", "en")) >= 4
    assert any(r["file"].endswith(".html") for r in rows), "a saved HTML page"
    for r in rows:
        assert (FIXTURES / r["file"]).is_file(), r["file"]
        dt.date.fromisoformat(r["published"])
        with open(FIXTURES / f"{r['id']}.expected.csv", encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == REPORT_COLUMNS, r["id"]
    # pages with no figure at all are in the corpus, with no expected rows
    assert sum(1 for r in rows if not expected_rows(r["id"])) >= 2


def test_precision_and_recall_on_the_corpus(record_property):
    result = score()
    record_property("extract_corpus", result["report"])
    print("\n" + result["report"])
    assert result["recall"] >= MIN_RECALL, result["report"]
    assert result["precision"] >= MIN_PRECISION, result["report"]


@pytest.mark.parametrize("name", [r["id"] for r in index() if not expected_rows(r["id"])])
def test_pages_without_figures_give_no_rows(name):
    meta = next(r for r in index() if r["id"] == name)
    assert extracted(meta) == []
