"""Candidates against the record (data/raw): duplicates, conflicts, growth, year-to-date order.

* the same quantity (entity, flow, partner, product, segment, indicator and months) with the same
  value (within the rounding of the digits printed) and growth is a duplicate: the remark names
  the row; from the same source it is refused by `data add`;
* a different value or growth for the same quantity is a conflict naming the row: low confidence;
* growth rates are read with their qualifiers (`yoy_qualifier`: "about 100 %" for "doubled", a
  bound for "more than 42 %"), as the cleaning step reads them (`clean.rates_agree`);
* a value with an exact growth rate is checked against the previous year's value of the same quantity in
  the record: the growth implied by the two printed values (each within its rounding) must include
  the printed rate (within its rounding); when it does not, the remark says so (medium
  confidence: customs compute growth on revised figures, so a small gap can be right);
* a year-to-date value must be larger than every earlier year-to-date value of its series and year,
  and smaller than every later one, in the record and among the candidates: otherwise low.
Money is compared in billions of its currency; yuan and dollar figures are not compared with
each other (the rate of the period is not known here).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pandas as pd

from xjtrade.data import periods as base
from xjtrade.data import qualifiers
from xjtrade.data.clean import rates_agree
from xjtrade.data.extract.numbers import decimals, format_decimal
from xjtrade.data.extract.release import Candidate
from xjtrade.data.raw import CURRENCY_UNITS

KEY = ["entity", "flow", "partner", "product", "segment", "indicator", "period_start", "period_end"]
SERIES = ["entity", "flow", "partner", "product", "segment", "indicator"]
YOY_ROUNDING = Decimal("0.05")


@dataclass(frozen=True)
class Amount:
    """A printed value in billions of its currency (or in its own unit), with half a unit of its
    last printed digit as the rounding."""

    value: Decimal
    half: Decimal
    family: str

    @classmethod
    def of(cls, value: str, unit: str) -> "Amount | None":
        if value in ("", None):
            return None
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            return None
        factor = Decimal(str(CURRENCY_UNITS[unit][1])) if unit in CURRENCY_UNITS else Decimal(1)
        family = CURRENCY_UNITS[unit][0] if unit in CURRENCY_UNITS else unit
        half = Decimal(5) * Decimal(10) ** (-decimals(d) - 1)
        return cls(d * factor, half * factor, family)


def _fmt_row(r) -> str:
    value = f"{r.value} {r.unit}" if r.value else f"growth only, {r.unit}"
    q = f" ({r.qualifier})" if r.qualifier != "exact" else ""
    yq = qualifiers.of(getattr(r, "yoy_qualifier", ""))
    yoy = f", {'' if yq == 'exact' else yq + ' '}{r.yoy_pct}%" if r.yoy_pct else ""
    return f"{value}{q}{yoy} from {r.source_id}"


def _same_value(a: Amount, qa: str, b: Amount, qb: str) -> bool:
    """Whether two printed figures can be the same number (bounds read as bounds)."""
    close = abs(a.value - b.value) <= a.half + b.half
    if qa == qb or "exact" not in (qa, qb) and {qa, qb} <= {"exact", "about"}:
        return close or (("about" in (qa, qb)) and abs(a.value - b.value) <= max(a.value, b.value) * Decimal("0.03"))
    exact, (bound, q) = (a, (b, qb)) if qa == "exact" else (b, (a, qa))
    if q == "over":
        return exact.value + exact.half >= bound.value - bound.half
    if q == "under":
        return exact.value - exact.half <= bound.value + bound.half
    if q == "nearly":
        return bound.value * Decimal("0.9") <= exact.value <= bound.value + bound.half
    if q == "about":
        return abs(exact.value - bound.value) <= bound.value * Decimal("0.03")
    return close


def check(cands: list[Candidate], reports: pd.DataFrame, source_id: str) -> None:
    """Add the record's verdicts to each candidate's remarks (in place)."""
    rec = reports.copy()
    if "line_no" in rec:
        rec = rec.drop(columns="line_no")
    by_key = {k: g for k, g in rec.groupby(KEY, sort=False)} if not rec.empty else {}
    for c in cands:
        if not c.period_start:
            continue
        _against_same(c, by_key.get(c.key), source_id)
        _growth_against_previous(c, by_key)
    _ytd_order(cands, rec)


def _against_same(c: Candidate, rows: pd.DataFrame | None, source_id: str) -> None:
    if rows is None:
        return
    mine = Amount.of(c.value, c.unit)
    for r in rows.itertuples(index=False):
        theirs = Amount.of(r.value, r.unit)
        fam_c = mine.family if mine else (CURRENCY_UNITS[c.unit][0] if c.unit in CURRENCY_UNITS else c.unit)
        fam_r = theirs.family if theirs else (CURRENCY_UNITS[r.unit][0] if r.unit in CURRENCY_UNITS else r.unit)
        if fam_c != fam_r:
            continue
        yoy_same = _yoy_close(c.yoy_pct, c.yoy_qualifier, r.yoy_pct, getattr(r, "yoy_qualifier", ""))
        yoy_conflict = c.yoy_pct and r.yoy_pct and not yoy_same
        if mine and theirs:
            if not _same_value(mine, c.qualifier, theirs, r.qualifier):
                c.low.append(f"conflicts with {r.row_id}: {_fmt_row(r)}")
                continue
        elif mine is None and theirs is None:
            pass
        elif mine is None or theirs is None:
            if yoy_conflict:
                c.low.append(f"growth {c.yoy_pct}% conflicts with {r.row_id}: {_fmt_row(r)}")
            elif c.yoy_pct and r.yoy_pct:
                c.notes.append(f"growth as in {r.row_id}: {_fmt_row(r)}")
            continue
        if yoy_conflict:
            c.low.append(f"growth {c.yoy_pct}% conflicts with {r.row_id}: {_fmt_row(r)}")
            continue
        exact_same = (c.value == r.value and c.unit == r.unit and c.qualifier == r.qualifier
                      and (c.yoy_pct == r.yoy_pct)
                      and qualifiers.of(c.yoy_qualifier) == qualifiers.of(getattr(r, "yoy_qualifier", "")))
        if r.source_id == source_id and (exact_same or (c.unit == r.unit)):
            c.existing = r.row_id
            c.same_source = True
            c.notes.append(f"duplicate of {r.row_id} (same source): {_fmt_row(r)}")
        else:
            c.existing = c.existing or r.row_id
            c.notes.append(f"same figure as {r.row_id}: {_fmt_row(r)}")


def _yoy_close(a: str, qa: str, b: str, qb: str) -> bool:
    """Whether two printed rates can be one rate, each read with its qualifier (exact ones within the
    0.15 points of the cleaning step's tolerance)."""
    if not a or not b:
        return False
    try:
        if qualifiers.of(qa) == qualifiers.of(qb) == "exact":
            return abs(Decimal(a) - Decimal(b)) <= Decimal("0.15")
        return rates_agree(float(Decimal(a)), qa, float(Decimal(b)), qb)
    except InvalidOperation:
        return False


def _growth_against_previous(c: Candidate, by_key: dict) -> None:
    if not (c.value and c.yoy_pct) or c.qualifier != "exact" or qualifiers.of(c.yoy_qualifier) != "exact":
        return
    try:
        start, end = base.parse_month(c.period_start), base.parse_month(c.period_end)
    except base.PeriodError:
        return
    prev_key = c.key[:6] + (base.format_month(start - 12), base.format_month(end - 12))
    rows = by_key.get(prev_key)
    if rows is None:
        return
    mine = Amount.of(c.value, c.unit)
    if mine is None:      # a value that is no number: nothing to check the growth against
        return
    yoy = Decimal(c.yoy_pct)
    yoy_half = Decimal(5) * Decimal(10) ** (-decimals(Decimal(c.yoy_pct)) - 1)
    for r in rows.itertuples(index=False):
        prev = Amount.of(r.value, r.unit)
        if prev is None or prev.family != mine.family or r.qualifier != "exact" or prev.value <= prev.half:
            continue
        lo = ((mine.value - mine.half) / (prev.value + prev.half) - 1) * 100
        hi = ((mine.value + mine.half) / (prev.value - prev.half) - 1) * 100
        implied = (mine.value / prev.value - 1) * 100
        if yoy + yoy_half < lo or yoy - yoy_half > hi:
            c.medium.append(f"growth {c.yoy_pct}% but the record's previous-year value {r.row_id} "
                            f"({r.value} {r.unit}) implies {format_decimal(implied.quantize(Decimal('0.1')))}%")
        else:
            c.notes.append(f"growth agrees with {r.row_id} a year earlier")
        return


def _ytd_order(cands: list[Candidate], rec: pd.DataFrame) -> None:
    """Year-to-date values must rise through the year (same series, year and currency)."""
    pool = []
    for r in rec.itertuples(index=False) if not rec.empty else []:
        pool.append((tuple(getattr(r, k) for k in SERIES), r.period_start, r.period_end, r.value, r.unit,
                     r.qualifier, r.row_id))
    for i, c in enumerate(cands):
        pool.append((tuple(getattr(c, k) for k in SERIES), c.period_start, c.period_end, c.value, c.unit,
                     c.qualifier, f"candidate {i + 1}"))
    for i, c in enumerate(cands):
        if not (c.value and c.period_start.endswith("-01") and c.period_start[:4] == c.period_end[:4]):
            continue
        mine = Amount.of(c.value, c.unit)
        if mine is None or c.qualifier != "exact":
            continue
        series = tuple(getattr(c, k) for k in SERIES)
        for s, ps, pe, v, u, q, rid in pool:
            if s != series or rid == f"candidate {i + 1}" or q != "exact" or not v:
                continue
            if not (ps == c.period_start and pe[:4] == c.period_end[:4] and pe != c.period_end):
                continue
            other = Amount.of(v, u)
            if other is None or other.family != mine.family:
                continue
            if (pe < c.period_end and other.value > mine.value + mine.half + other.half) or \
                    (pe > c.period_end and other.value + other.half + mine.half < mine.value):
                c.low.append(f"year-to-date falls: {rid} gives {v} {u} for {ps}..{pe}")
