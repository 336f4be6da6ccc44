"""Tests for xjtrade.data.periods: month indices, kinds, labels, year-to-date arithmetic.

The hypothesis properties at the end also run the real differencing code
(clean.normalise -> clean.select -> clean.derive_ytd_blocks) on a tiny in-memory
RawData built from random positive monthly values.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xjtrade.data import clean
from xjtrade.data.periods import (
    KINDS,
    Period,
    PeriodError,
    format_month,
    kind_is_consistent,
    month_of,
    natural_kind,
    parse_month,
    year_of,
    ytd_blocks,
    ytd_difference,
)
from xjtrade.data.raw import RATE_COLUMNS, REPORT_COLUMNS, SOURCE_COLUMNS, RawData

# derandomize: the same examples on every run; database=None: nothing written to disk
HSETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None)

years = st.integers(min_value=1900, max_value=2100)
months = st.integers(min_value=1, max_value=12)


def P(start: str, end: str) -> Period:
    return Period.parse(start, end)


# ---------------------------------------------------------------------------
# parse / format
# ---------------------------------------------------------------------------


def test_parse_month_is_year_times_12_plus_month_minus_1():
    assert parse_month("2023-01") == 2023 * 12
    assert parse_month("2023-12") == 2023 * 12 + 11
    assert parse_month(" 2023-02 ") == 2023 * 12 + 1          # surrounding blanks are tolerated
    assert format_month(2023 * 12 + 11) == "2023-12"
    assert format_month(2024 * 12) == "2024-01"
    assert month_of(parse_month("2023-07")) == 7
    assert year_of(parse_month("2023-07")) == 2023


@pytest.mark.parametrize("text", ["2023-13", "2023-00", "23-01", "2023/01", "2023-1", "Jan 2023", "",
                                  "1899-12", "2101-01"])
def test_parse_month_rejects_non_months(text):
    with pytest.raises(PeriodError):
        parse_month(text)


@HSETTINGS
@given(year=years, month=months)
def test_parse_format_round_trip(year, month):
    text = f"{year:04d}-{month:02d}"
    index = parse_month(text)
    assert format_month(index) == text
    assert parse_month(format_month(index)) == index
    assert (year_of(index), month_of(index)) == (year, month)


def test_period_parse_and_texts():
    p = P("2023-01", "2023-11")
    assert (p.start_text, p.end_text) == ("2023-01", "2023-11")
    assert p.months == 11
    assert p.year == 2023
    assert p.is_ytd
    with pytest.raises(PeriodError, match="before it starts"):
        P("2023-05", "2023-04")


# ---------------------------------------------------------------------------
# labels and kinds
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("start,end,label,kind", [
    ("2023-01", "2023-12", "2023", "year"),
    ("2023-01", "2023-06", "H1 2023", "half"),
    ("2023-07", "2023-12", "H2 2023", "half"),
    ("2023-01", "2023-03", "Q1 2023", "quarter"),
    ("2023-10", "2023-12", "Q4 2023", "quarter"),
    ("2023-12", "2023-12", "Dec 2023", "month"),
    ("2023-01", "2023-11", "Jan-Nov 2023", "ytd"),
    ("2023-01", "2023-02", "Jan-Feb 2023", "ytd"),
    ("2022-09", "2022-10", "Sep-Oct 2022", "other"),
    ("2023-02", "2023-04", "Feb-Apr 2023", "other"),
    ("2022-12", "2023-02", "Dec 2022-Feb 2023", "other"),
])
def test_label_and_natural_kind(start, end, label, kind):
    p = P(start, end)
    assert p.label() == label
    assert p.kind == kind == natural_kind(p.start, p.end)


def test_a_12_month_span_across_years_is_not_a_year():
    p = P("2022-07", "2023-06")
    assert p.months == 12
    assert p.kind == "other"
    assert p.label() == "Jul 2022-Jun 2023"


@pytest.mark.parametrize("kind,start,end,ok", [
    ("quarter", "2023-02", "2023-04", False),   # three months, but not a calendar quarter
    ("quarter", "2023-04", "2023-06", True),
    ("ytd", "2023-01", "2023-05", True),
    ("ytd", "2023-02", "2023-05", False),        # year-to-date must start in January
    ("ytd", "2022-01", "2023-03", False),        # ... of the same year
    ("ytd", "2023-01", "2023-06", True),         # a Jan-Jun 'ytd' is also a half: both fit
    ("half", "2023-01", "2023-06", True),
    ("half", "2023-04", "2023-09", False),
    ("year", "2023-01", "2023-11", False),
    ("year", "2023-01", "2023-12", True),
    ("month", "2023-12", "2023-12", True),
    ("month", "2023-11", "2023-12", False),
    ("other", "2023-02", "2023-04", True),       # 'other' fits anything
    ("other", "2023-01", "2023-12", True),
])
def test_kind_is_consistent(kind, start, end, ok):
    assert kind in KINDS
    assert kind_is_consistent(kind, parse_month(start), parse_month(end)) is ok


def test_natural_kind_refuses_reversed_range():
    with pytest.raises(PeriodError):
        natural_kind(parse_month("2023-05"), parse_month("2023-04"))


def test_contains_and_previous_year():
    year = P("2023-01", "2023-12")
    assert year.contains(P("2023-12", "2023-12"))
    assert not year.contains(P("2022-12", "2023-01"))
    assert P("2023-01", "2023-06").previous_year() == P("2022-01", "2022-06")
    assert P("2023-01", "2023-06").previous_year().label() == "H1 2022"


# ---------------------------------------------------------------------------
# ytd_difference
# ---------------------------------------------------------------------------


def test_ytd_difference_hand_cases():
    may = ytd_difference(P("2023-01", "2023-05"), P("2023-01", "2023-04"))
    assert may == P("2023-05", "2023-05") and may.label() == "May 2023"
    dec = ytd_difference(P("2023-01", "2023-12"), P("2023-01", "2023-11"))
    assert dec == P("2023-12", "2023-12") and dec.label() == "Dec 2023"
    sep_oct = ytd_difference(P("2022-01", "2022-10"), P("2022-01", "2022-08"))
    assert sep_oct == P("2022-09", "2022-10") and sep_oct.label() == "Sep-Oct 2022"
    mar = ytd_difference(P("2023-01", "2023-03"), P("2023-01", "2023-02"))
    assert mar.label() == "Mar 2023"


@pytest.mark.parametrize("later,earlier,message", [
    (("2023-01", "2023-05"), ("2022-01", "2022-04"), "different years"),
    (("2023-01", "2023-05"), ("2023-02", "2023-04"), "from January"),
    (("2023-03", "2023-05"), ("2023-01", "2023-02"), "from January"),
    (("2023-01", "2023-04"), ("2023-01", "2023-04"), "does not end before"),
    (("2023-01", "2023-04"), ("2023-01", "2023-05"), "does not end before"),
])
def test_ytd_difference_errors(later, earlier, message):
    with pytest.raises(PeriodError, match=message):
        ytd_difference(P(*later), P(*earlier))


def test_ytd_blocks_hand_case():
    blocks = ytd_blocks([2, 3, 5, 12], 2023)
    assert [b.label() for b in blocks] == ["Jan-Feb 2023", "Mar 2023", "Apr-May 2023", "Jun-Dec 2023"]
    # duplicates and order do not matter
    assert ytd_blocks([5, 3, 2, 3], 2023) == ytd_blocks([2, 3, 5], 2023)
    with pytest.raises(PeriodError):
        ytd_blocks([0, 3], 2023)
    with pytest.raises(PeriodError):
        ytd_blocks([13], 2023)


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------

cutoffs = st.lists(months, min_size=1, max_size=12)


@HSETTINGS
@given(year=years, ends=cutoffs)
def test_ytd_blocks_partition_january_to_last_cutoff(year, ends):
    blocks = ytd_blocks(ends, year)
    cuts = sorted(set(ends))
    assert len(blocks) == len(cuts)
    assert blocks[0].start == year * 12                          # starts in January
    assert blocks[-1].end == year * 12 + max(ends) - 1           # ends at the last cut-off
    for a, b in zip(blocks, blocks[1:]):
        assert b.start == a.end + 1                              # no gap, no overlap
    assert [month_of(b.end) for b in blocks] == cuts             # each block ends at a cut-off
    assert sum(b.months for b in blocks) == max(ends)            # months sum
    covered = list(itertools.chain.from_iterable(range(b.start, b.end + 1) for b in blocks))
    assert covered == list(range(year * 12, year * 12 + max(ends)))


@HSETTINGS
@given(year=years, pair=st.lists(months, min_size=2, max_size=2, unique=True))
def test_ytd_difference_plus_earlier_is_later(year, pair):
    e, l_ = sorted(pair)
    later, earlier = Period.ytd(year, l_), Period.ytd(year, e)
    diff = ytd_difference(later, earlier)
    assert diff.start == earlier.end + 1 and diff.end == later.end
    assert earlier.start == later.start
    assert earlier.months + diff.months == later.months
    assert Period(earlier.start, diff.end) == later
    assert ytd_difference(later, earlier) == ytd_blocks([e, l_], year)[1]


@HSETTINGS
@given(year=st.integers(1901, 2099), start=months, length=st.integers(1, 36))
def test_previous_year_then_shift_12_is_identity(year, start, length):
    p = Period(year * 12 + start - 1, year * 12 + start - 1 + length - 1)
    assert p.previous_year().shift(12) == p
    assert p.previous_year().months == p.months
    assert p.previous_year().kind == p.kind
    assert p.previous_year().year == p.year - 1


# --- differencing cumulative sums through the real cleaning code ------------


def _raw_from_cumulative(year: int, cumulative: dict[int, str]) -> RawData:
    """A RawData (strings, as load_raw returns) with one Xinjiang total ytd row per cut-off."""
    reports = []
    for i, (last, value) in enumerate(sorted(cumulative.items())):
        per = Period.ytd(year, last)
        reports.append({
            "row_id": f"R{i + 1:04d}", "entity": "Xinjiang", "flow": "total", "partner": "World",
            "product": "all", "segment": "all", "indicator": "trade value",
            "period_start": per.start_text, "period_end": per.end_text,
            "period_kind": "year" if last == 12 else "ytd", "value": value, "unit": "billion yuan",
            "qualifier": "exact", "yoy_pct": "", "source_id": "s1", "description": "synthetic",
            "check": "verified", "line_no": i + 2,
        })
    sources = pd.DataFrame([{"source_id": "s1", "title": "t", "publisher": "p", "published": "2024-01-01",
                             "url": "https://example.org/a", "language": "en", "date_inferred": "no",
                             "line_no": 2}])
    rates = pd.DataFrame([{"year": str(year), "cny_per_usd": "7.0", "source_id": "s1", "note": "",
                           "line_no": 2}])
    rep = pd.DataFrame(reports, columns=REPORT_COLUMNS + ["line_no"])
    assert list(sources.columns[:-1]) == SOURCE_COLUMNS and list(rates.columns[:-1]) == RATE_COLUMNS
    return RawData(reports=rep, sources=sources, rates=rates)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(year=st.integers(2000, 2030),
       monthly=st.lists(st.integers(min_value=1, max_value=100_000), min_size=12, max_size=12),
       ends=st.lists(months, min_size=2, max_size=12, unique=True))
def test_differencing_cumulative_sums_recovers_block_sums(year, monthly, ends):
    """Random positive monthly values (in hundredths of a billion), cumulated at random cut-offs,
    then differenced by clean.derive_ytd_blocks: each derived block equals the sum of its months."""
    cuts = sorted(ends)
    cumulative = {m: f"{sum(monthly[:m]) / 100:.2f}" for m in cuts}
    raw = _raw_from_cumulative(year, cumulative)
    selected = clean.select(clean.normalise(raw))
    assert selected["selected"].all()
    rows, issues = clean.derive_ytd_blocks(selected[selected["selected"]], clean.DeriveEnv(clean._rate_lookup(raw.rates)))
    assert issues == []
    derived = {(r["start"], r["end"]): r for r in rows}
    expected_blocks = ytd_blocks(cuts, year)
    # the first block is the first cumulative figure itself; every later block is derived
    assert set(derived) == {(b.start, b.end) for b in expected_blocks[1:]}
    for block, prev_cut in zip(expected_blocks[1:], cuts):
        r = derived[(block.start, block.end)]
        block_sum = sum(monthly[month_of(block.start) - 1:month_of(block.end)]) / 100
        assert r["value_cny_bn"] == pytest.approx(block_sum, abs=1e-6)
        assert r["method"] == "ytd difference"
        assert r["period_label"] == block.label()
        later_id = selected.loc[selected["end"] == block.end, "figure_id"].item()
        earlier_id = selected.loc[selected["end"] == year * 12 + prev_cut - 1, "figure_id"].item()
        assert r["inputs"] == f"{later_id};{earlier_id}"
    # and the first block plus every derived block add up to the last cumulative figure
    total = float(cumulative[cuts[0]]) + sum(r["value_cny_bn"] for r in rows)
    assert total == pytest.approx(sum(monthly[:cuts[-1]]) / 100, abs=1e-6)
