"""Reporting periods: months, year-to-date ranges, quarters, halves and years.

A period is a closed range of calendar months.  Months are stored as one integer,
``year * 12 + (month - 1)``, so that arithmetic on them is plain integer arithmetic.

China's customs publish cumulative year-to-date figures (January to month m), and
release January and February together, so the first figure of a year covers two
months.  Single months and other blocks are found by differencing consecutive
year-to-date figures of the same year: Jan-May minus Jan-Apr is May; Jan-Oct minus
Jan-Aug is the two-month block Sep-Oct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
KINDS = ("year", "half", "quarter", "month", "ytd", "other", "undated")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period that cannot exist, or an operation that makes no sense for it."""


def parse_month(text: str) -> int:
    """'2023-02' -> month index; raises PeriodError on anything else."""
    m = _MONTH_RE.match(str(text).strip())
    if not m:
        raise PeriodError(f"{text!r} is not a month in YYYY-MM form")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise PeriodError(f"{text!r} has month {month}, not 01-12")
    if not 1900 <= year <= 2100:
        raise PeriodError(f"{text!r} has an implausible year {year}")
    return year * 12 + month - 1


def format_month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_of(index: int) -> int:
    """Calendar month 1-12 of a month index."""
    return index % 12 + 1


def year_of(index: int) -> int:
    return index // 12


def natural_kind(start: int, end: int) -> str:
    """The narrowest standard kind that describes the range start..end."""
    if end < start:
        raise PeriodError(f"period ends ({format_month(end)}) before it starts ({format_month(start)})")
    n = end - start + 1
    first = month_of(start)
    if n == 1:
        return "month"
    if year_of(start) != year_of(end):
        return "other"
    if n == 12:
        return "year"
    if n == 6 and first in (1, 7):
        return "half"
    if n == 3 and first in (1, 4, 7, 10):
        return "quarter"
    if first == 1:
        return "ytd"
    return "other"


def kind_is_consistent(kind: str, start: int, end: int) -> bool:
    """Whether a reported kind fits its months.

    'ytd' is any cumulative range from January (a Jan-Jun 'ytd' is also a half);
    'other' fits anything (stocks at a date, irregular spans).
    """
    nat = natural_kind(start, end)
    if kind == "other":
        return True
    if kind == "ytd":
        return month_of(start) == 1 and year_of(start) == year_of(end)
    return kind == nat


@dataclass(frozen=True, order=True)
class Period:
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(
                f"period ends ({format_month(self.end)}) before it starts ({format_month(self.start)})")

    @classmethod
    def parse(cls, start: str, end: str) -> "Period":
        return cls(parse_month(start), parse_month(end))

    @classmethod
    def ytd(cls, year: int, last_month: int) -> "Period":
        return cls(year * 12, year * 12 + last_month - 1)

    @property
    def months(self) -> int:
        return self.end - self.start + 1

    @property
    def year(self) -> int:
        """The calendar year of the period's last month."""
        return year_of(self.end)

    @property
    def kind(self) -> str:
        return natural_kind(self.start, self.end)

    @property
    def is_ytd(self) -> bool:
        """Cumulative from January of one year (includes full years and Jan-only)."""
        return month_of(self.start) == 1 and year_of(self.start) == year_of(self.end)

    @property
    def start_text(self) -> str:
        return format_month(self.start)

    @property
    def end_text(self) -> str:
        return format_month(self.end)

    def shift(self, months: int) -> "Period":
        return Period(self.start + months, self.end + months)

    def previous_year(self) -> "Period":
        """The same months one year earlier (the base of a year-on-year rate)."""
        return self.shift(-12)

    def contains(self, other: "Period") -> bool:
        return self.start <= other.start and other.end <= self.end

    def label(self) -> str:
        """Human label: '2023', 'H1 2023', 'Q1 2023', 'Dec 2023', 'Jan-Nov 2023', 'Sep-Oct 2022'."""
        kind = self.kind
        y = year_of(self.end)
        first, last = month_of(self.start), month_of(self.end)
        if kind == "year":
            return str(y)
        if kind == "half":
            return f"H{1 if first == 1 else 2} {y}"
        if kind == "quarter":
            return f"Q{(first - 1) // 3 + 1} {y}"
        if kind == "month":
            return f"{MONTH_NAMES[first - 1]} {y}"
        if year_of(self.start) == y:
            return f"{MONTH_NAMES[first - 1]}-{MONTH_NAMES[last - 1]} {y}"
        return f"{MONTH_NAMES[first - 1]} {year_of(self.start)}-{MONTH_NAMES[last - 1]} {y}"


def ytd_difference(later: Period, earlier: Period) -> Period:
    """The block of months in `later` but not in `earlier`, both year-to-date ranges of one year.

    Jan-May minus Jan-Apr is May; Jan-Dec minus Jan-Nov is December.
    """
    if not (later.is_ytd and earlier.is_ytd):
        raise PeriodError(f"{later.label()} and {earlier.label()} must both run from January")
    if later.year != earlier.year:
        raise PeriodError(f"{later.label()} and {earlier.label()} are in different years")
    if earlier.end >= later.end:
        raise PeriodError(f"{earlier.label()} does not end before {later.label()}")
    return Period(earlier.end + 1, later.end)


def ytd_blocks(ends: list[int], year: int) -> list[Period]:
    """Blocks between consecutive year-to-date cut-offs of one year.

    `ends` are calendar months (1-12) for which a cumulative figure exists.  The first
    block runs from January to the first cut-off (Jan-Feb when customs release the
    two months together); each following block runs from the month after the previous
    cut-off.  Together the blocks partition January..max(ends).
    """
    blocks: list[Period] = []
    previous = 0
    for last in sorted(set(ends)):
        if not 1 <= last <= 12:
            raise PeriodError(f"month {last} is not 1-12")
        blocks.append(Period(year * 12 + previous, year * 12 + last - 1))
        previous = last
    return blocks
