"""Cleaning: normalise reported figures, derive figures with lineage, reconcile sources.

Every function here takes tables and returns tables.  The long table of figures has
one row per figure, reported or derived; derived rows name the figures they came
from (`inputs`) and the method (`method`), so any number can be traced back to the
reports behind it (`trace`).

Selection rule (documented in data/README.md): where several figures describe the
same quantity (same entity, flow, partner, product, segment, indicator and months),
the selected one is the first by
  1. usable (rows checked as `mismatch` or `implausible` are never selected),
  2. with a value before growth rate only,
  3. reported before derived (and fewer derivation steps before more),
  4. exact before approximate (`about`), then bounds (`nearly`, `over`): the value's qualifier, then
     its growth rate's (`yoy_qualifier`),
  5. reported in yuan before US dollars (customs publish in yuan; dollars are conversions),
  6. more significant digits in the figure as printed,
  7. the value given by more sources,
  8. a reachable primary source (an address that is not a mirror, repost or translation) before a
     mirror, and a mirror before a source without an address (seed article),
  9. the earliest publication (the first release), then the row id.
Every other figure for the quantity is compared with the selected one; differences
beyond the tolerance go into the data-quality table, never into an exception.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from xjtrade.data import periods, qualifiers
from xjtrade.data.currency import CURRENCIES
from xjtrade.data.selector import main_rows, split_ids, unique_ids
from xjtrade.data.raw import CURRENCY_UNITS, RawData

KEY = ["entity", "flow", "partner", "product", "segment", "indicator", "measure", "start", "end"]
SERIES_KEY = ["entity", "flow", "partner", "product", "segment", "indicator", "measure"]
QUALIFIER_RANK = qualifiers.RANK
ADDITIVE_INDICATORS = {"trade value", "cargo weight"}


@dataclass(frozen=True)
class Tolerance:
    """Relative differences (as fractions) accepted before two figures are called in conflict."""

    same_currency: float = 0.005      # rounding in print: 23.82 vs 23.8 is 0.08 %
    cross_currency: float = 0.04      # dollars converted at the annual average rate, not the period's own
    about: float = 0.03               # "about X" tolerates 3 %
    parts: float = 0.01               # exports + imports against the total
    yoy_points: float = 0.15          # year-on-year rates printed to one decimal


FIGURE_COLUMNS = [
    "figure_id", "origin", "method", "steps", "inputs", "source_ids", "published",
    "entity", "flow", "partner", "product", "segment", "indicator", "measure",
    "period_start", "period_end", "period_kind", "period_label", "year", "months", "start", "end",
    "value", "unit", "qualifier", "yoy_pct", "yoy_qualifier", "currency", "value_cny_bn", "value_usd_bn",
    "check", "usable", "description", "source_rank",
]

MIRROR_WORDS = ("mirror", "repost", "translat", "wikipedia")


def source_rank(url: str, publisher: str, title: str = "") -> int:
    """0: a primary source with a web address; 1: a mirror, repost or translation; 2: no address."""
    if not str(url).startswith("http"):
        return 2
    text = f"{publisher} {title}".lower()
    return 1 if any(w in text for w in MIRROR_WORDS) else 0

CONFLICT_COLUMNS = [
    "issue_id", "kind", "severity", "entity", "flow", "partner", "product", "segment", "indicator",
    "period_label", "selected_id", "selected_value", "other_id", "other_value", "unit",
    "difference_pct", "source_ids", "note",
]


def significant_digits(text: str) -> int:
    digits = str(text).replace("-", "").replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in str(text) else len(digits)


def _rate_lookup(rates: pd.DataFrame) -> dict[int, float]:
    return {int(r.year): float(r.cny_per_usd) for r in rates.itertuples(index=False)}


def _convert(value: float, currency: str | None, year: int, fx: dict[int, float]) -> tuple[float, float]:
    """(CNY billion, USD billion) of a value in billions of `currency`."""
    if currency is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return (np.nan, np.nan)
    rate = fx.get(year, np.nan)
    if currency == "CNY":
        return (value, value / rate)
    return (value * rate, value)


def normalise(raw: RawData, as_of: str | None = None) -> pd.DataFrame:
    """Reported figures with parsed periods and values in CNY and USD billions.

    `as_of` (YYYY-MM-DD) keeps only figures whose source was published on or before it;
    sources with an unknown date are then left out too.
    """
    rep = raw.reports.copy()
    src = raw.sources.set_index("source_id")
    fx = _rate_lookup(raw.rates)
    rep["published"] = rep["source_id"].map(src["published"]).fillna("")
    ranks = {sid: source_rank(r.url, r.publisher, r.title) for sid, r in src.iterrows()}
    if as_of is not None:
        rep = rep[(rep["published"] != "") & (rep["published"] <= as_of)]
    rows = []
    for r in rep.itertuples(index=False):
        dated = r.period_kind != "undated"
        start = periods.parse_month(r.period_start) if dated else -1
        end = periods.parse_month(r.period_end) if dated else -1
        per = periods.Period(start, end) if dated else None
        value = float(r.value) if r.value != "" else np.nan
        cur = CURRENCY_UNITS.get(r.unit)
        currency = cur[0] if cur else None
        native_bn = value * cur[1] if cur else np.nan
        cny, usd = _convert(native_bn, currency, periods.year_of(end), fx) if dated else (np.nan, np.nan)
        rows.append({
            "figure_id": r.row_id, "origin": "reported", "method": "reported", "steps": 0,
            "inputs": r.row_id, "source_ids": r.source_id, "published": r.published,
            "entity": r.entity, "flow": r.flow, "partner": r.partner, "product": r.product,
            "segment": r.segment, "indicator": r.indicator,
            "measure": "money" if currency else r.unit,
            "period_start": r.period_start, "period_end": r.period_end, "period_kind": r.period_kind,
            "period_label": per.label() if per else "undated", "year": periods.year_of(end) if dated else -1,
            "months": per.months if per else 0, "start": start, "end": end,
            "value": value, "unit": r.unit, "qualifier": r.qualifier,
            "yoy_pct": float(r.yoy_pct) if r.yoy_pct != "" else np.nan,
            # the word printed before the growth rate; empty where the row gives no rate
            "yoy_qualifier": qualifiers.of(getattr(r, "yoy_qualifier", "")) if r.yoy_pct != "" else None,
            "currency": currency, "value_cny_bn": cny, "value_usd_bn": usd,
            "check": r.check, "usable": r.check not in ("mismatch", "implausible"),
            "description": r.description, "source_rank": ranks.get(r.source_id, 2),
        })
    return pd.DataFrame(rows, columns=FIGURE_COLUMNS)


def _comparable(df: pd.DataFrame) -> pd.Series:
    """The value used to compare figures of one quantity: CNY billions for money, else the value."""
    return df["value_cny_bn"].where(df["measure"] == "money", df["value"])


def _ranked(figures: pd.DataFrame) -> pd.DataFrame:
    """Figures sorted so that, within each quantity, the first row is the one the rule selects."""
    g = figures.copy()
    comp = _comparable(g).round(6)
    freq = g.assign(_c=comp).groupby(KEY + ["_c"], dropna=False)["figure_id"].transform("count")
    g["_r_usable"] = (~g["usable"].astype(bool)).astype(int)
    g["_r_origin"] = (g["origin"] != "reported").astype(int)
    g["_r_has_value"] = g["value"].isna().astype(int)
    g["_r_qual"] = g["qualifier"].map(QUALIFIER_RANK).fillna(9)
    g["_r_yoy_qual"] = g["yoy_qualifier"].map(QUALIFIER_RANK).fillna(0) if "yoy_qualifier" in g else 0
    g["_r_cur"] = (g["currency"] == "USD").astype(int)
    g["_r_digits"] = -g["value"].map(lambda v: significant_digits(repr(v)) if not pd.isna(v) else 0)
    g["_r_freq"] = -freq.where(comp.notna(), 0)
    g["_r_source"] = g["source_rank"].fillna(0) if "source_rank" in g else 0
    order = KEY + ["_r_usable", "_r_has_value", "_r_origin", "steps", "_r_qual", "_r_yoy_qual", "_r_cur",
                   "_r_digits", "_r_freq", "_r_source", "published", "figure_id"]
    return g.sort_values(order, kind="mergesort")


def select(figures: pd.DataFrame) -> pd.DataFrame:
    """Mark one figure per quantity as selected (column `selected`) by the documented rule."""
    out = figures.copy()
    ranked = _ranked(out[out["start"] >= 0])
    first = ranked[~ranked.duplicated(KEY, keep="first")]
    best = first.index[first["usable"].astype(bool)]
    out["selected"] = out.index.isin(best)
    return out


def _issue(kind, severity, sel, other, diff, note, unit=None) -> dict:
    return {
        "kind": kind, "severity": severity, "entity": sel["entity"], "flow": sel["flow"],
        "partner": sel["partner"], "product": sel["product"], "segment": sel["segment"],
        "indicator": sel["indicator"], "period_label": sel["period_label"],
        "selected_id": sel["figure_id"], "selected_value": sel["_cmp"],
        "other_id": None if other is None else other["figure_id"],
        "other_value": None if other is None else other["_cmp"],
        "unit": unit or ("CNY billion" if sel["measure"] == "money" else sel["unit"]),
        "difference_pct": diff,
        "source_ids": ";".join(unique_ids([sel["source_ids"]] + ([] if other is None else [other["source_ids"]]))),
        "note": note,
    }


def compare_within_quantity(figures: pd.DataFrame, tol: Tolerance = Tolerance()) -> list[dict]:
    """Disagreements between the selected figure of each quantity and every other figure of it."""
    issues = []
    f = figures.copy()
    f["_cmp"] = _comparable(f)
    for _, group in f[f["start"] >= 0].groupby(KEY, sort=False, dropna=False):
        if len(group) < 2 or not group["selected"].any():
            continue
        sel = group[group["selected"]].iloc[0]
        for _, other in group[~group["selected"]].iterrows():
            if not other["usable"]:
                continue
            issues += _compare_pair(sel, other, tol)
    return issues


def _compare_pair(sel: pd.Series, other: pd.Series, tol: Tolerance) -> list[dict]:
    issues = []
    a, b = sel["_cmp"], other["_cmp"]
    origins = {sel["origin"], other["origin"]}
    derived = "derived" in origins
    kind = ("derived figures disagree" if origins == {"derived"} else
            "derived vs reported" if derived else "sources disagree")
    if not (pd.isna(a) or pd.isna(b)) and a != 0:
        diff = (b - a) / a * 100
        q = other["qualifier"]
        cross = sel["currency"] != other["currency"] and sel["measure"] == "money"
        limit = tol.cross_currency if cross else tol.same_currency
        bad, note = False, ""
        if q == "over":
            bad = a < b * (1 - limit)
            note = f"{other['figure_id']} says more than {b:,.4g}; the selected value is below that bound"
        elif q == "nearly":
            bad = a > b * (1 + limit) or a < b * (1 - 0.1)
            note = f"{other['figure_id']} says nearly {b:,.4g}"
        elif q == "about" or sel["qualifier"] == "about":
            bad = abs(diff) > max(tol.about, limit) * 100
            note = f"approximate figure {other['figure_id']} is {diff:+.2f}% off the selected one"
        else:
            bad = abs(diff) > limit * 100
            note = f"{other['figure_id']} differs by {diff:+.2f}%"
        if cross:
            note += " (compared across currencies at the annual average rate)"
        if bad:
            issues.append(_issue(kind, "warning" if derived or cross else "conflict", sel, other, round(diff, 3), note))
    ya, yb = sel["yoy_pct"], other["yoy_pct"]
    if not (pd.isna(ya) or pd.isna(yb)) and not rates_agree(ya, sel.get("yoy_qualifier"), yb,
                                                            other.get("yoy_qualifier"), tol):
        s, o = sel.copy(), other.copy()
        s["_cmp"], o["_cmp"] = ya, yb
        issues.append(_issue("growth rates disagree", "conflict", s, o, round(yb - ya, 3),
                             f"year-on-year {_rate_text(ya, sel.get('yoy_qualifier'))} (selected) against "
                             f"{_rate_text(yb, other.get('yoy_qualifier'))} in {other['figure_id']}",
                             unit="percent"))
    return issues


def _rate_words(q) -> str:
    """The words before a qualified rate in a note ('more than '), '' for an exact one."""
    return {"about": "about ", "nearly": "nearly ", "over": "more than ", "under": "less than "}.get(
        qualifiers.of(q), "")


def _rate_text(rate: float, q) -> str:
    return f"{_rate_words(q)}{rate:+.1f}%"


def rates_agree(a: float, qa, b: float, qb, tol: Tolerance = Tolerance()) -> bool:
    """Whether two growth rates of one quantity can be the same rate, each read with its qualifier.
    Two exact rates agree within `tol.yoy_points`; otherwise each rate stands for a range and the
    ranges must meet: an exact rate itself, "more than x" from x on, "less than x" up to x, "nearly
    x" a tenth below x up to x (as for values), "about x" (a rate printed as "doubled") a tenth
    either way; a qualified rate's range is widened by the points a printed rate is rounded to."""
    if qualifiers.of(qa) == qualifiers.of(qb) == "exact":
        return abs(a - b) <= tol.yoy_points
    (lo_a, hi_a), (lo_b, hi_b) = _rate_range(a, qa, tol), _rate_range(b, qb, tol)
    return lo_a <= hi_b and lo_b <= hi_a


def _rate_range(x: float, q, tol: Tolerance) -> tuple[float, float]:
    pts, tenth = tol.yoy_points, 0.1 * abs(x)
    return {"exact": (x, x), "over": (x - pts, math.inf), "under": (-math.inf, x + pts),
            "nearly": (x - tenth - pts, x + pts), "about": (x - tenth - pts, x + tenth + pts)}[qualifiers.of(q)]


def flagged_rows(figures: pd.DataFrame) -> list[dict]:
    """Rows the curators marked as doubtful, mismatched or implausible."""
    out = []
    f = figures.copy()
    f["_cmp"] = _comparable(f)
    for _, r in f[f["check"].isin(["doubt", "mismatch", "implausible"])].iterrows():
        out.append(_issue(f"row marked {r['check']}", "conflict" if r["check"] != "doubt" else "note",
                          r, None, None, f"{r['figure_id']}: {r['description']}"))
    return out


def published_before_period(figures: pd.DataFrame) -> list[dict]:
    """Reported figures whose source is dated before the last month they cover had even begun (a source
    dated 1900 for a 2008 figure): the date or the period is wrong.  A warning; the figure is kept."""
    f = figures[(figures["origin"] == "reported") & (figures["published"] != "") & (figures["end"] >= 0)].copy()
    f = f[f["published"] < f["period_end"] + "-01"]
    f["_cmp"] = _comparable(f)
    return [_issue("published before its period", "warning", r, None, None,
                   f"{r['figure_id']}: source {r['source_ids']} is dated {r['published']}, before the period it "
                   f"reports ({r['period_label']}) ends")
            for _, r in f.iterrows()]


METHOD_CODES = {
    "prior year from yoy": "PY", "national rate from gap": "NG", "total from parts": "TP",
    "part from total": "PT", "ytd difference": "YD", "partner share": "SH",
    "previous year from ratio": "PR", "total from share": "TS",
}


def _derived_id(method: str, inputs: list[str], extra: str = "") -> str:
    """Stable id of a derived figure: method code and a hash of its inputs."""
    digest = hashlib.sha1(("|".join([method, *inputs, extra])).encode()).hexdigest()[:8]
    return f"D{METHOD_CODES[method]}-{digest}"


def _derived_row(template: pd.Series, method: str, inputs: list[pd.Series], **changes) -> dict:
    row = {c: template[c] for c in FIGURE_COLUMNS if c in template.index}
    ids = [str(i["figure_id"]) for i in inputs]
    srcs = unique_ids(i["source_ids"] for i in inputs)
    row.update({
        "origin": "derived", "method": method, "steps": 1 + max(int(i["steps"]) for i in inputs),
        "inputs": ";".join(ids), "source_ids": ";".join(srcs),
        "published": max(str(i["published"]) for i in inputs),
        "qualifier": max((str(i["qualifier"]) for i in inputs), key=lambda q: QUALIFIER_RANK.get(q, 9)),
        "check": "derived", "usable": True, "yoy_pct": np.nan, "yoy_qualifier": None,
    })
    row.update(changes)
    if "start" in changes:
        per = periods.Period(row["start"], row["end"])
        row.update({"period_start": per.start_text, "period_end": per.end_text, "period_kind": per.kind,
                    "period_label": per.label(), "year": per.year, "months": per.months})
    row["figure_id"] = _derived_id(method, ids, f"{row['entity']}|{row['flow']}|{row['period_start']}")
    return row


def _with_money(row: dict, native_bn: float, currency: str, fx: dict[int, float]) -> dict:
    cny, usd = _convert(native_bn, currency, row["year"], fx)
    row.update({"value": native_bn, "unit": "billion yuan" if currency == "CNY" else "billion USD",
                "currency": currency, "value_cny_bn": cny, "value_usd_bn": usd})
    return row


@dataclass(frozen=True)
class DeriveEnv:
    """What every derivation may use besides the selected figures."""

    fx: dict[int, float]          # CNY per USD by year
    tol: Tolerance = Tolerance()


Derived = tuple[list[dict], list[dict]]   # (derived rows, data-quality issues)


def derive_prior_year(selected: pd.DataFrame, env: DeriveEnv) -> Derived:
    """Value of the same months a year earlier implied by a value and its year-on-year rate."""
    fx = env.fx
    out = []
    base = selected[selected["value"].notna() & selected["yoy_pct"].notna()
                    & selected["indicator"].isin(ADDITIVE_INDICATORS | {"China-Europe freight trains"})]
    for _, r in base.iterrows():
        factor = 1 + r["yoy_pct"] / 100
        start, end = r["start"] - 12, r["end"] - 12
        # the value over its rate: a rate printed as "more than" gives an earlier value under the one
        # computed, "doubled" (about 100 %) an approximate one (data.qualifiers)
        q = qualifiers.combined(r["qualifier"], qualifiers.turned(r.get("yoy_qualifier")))
        desc = (f"{r['entity']} {r['flow']} {periods.Period(start, end).label()} implied by "
                f"{r['figure_id']} ({r['value']:g} {r['unit']} at {_rate_words(r.get('yoy_qualifier'))}"
                f"{r['yoy_pct']:+g}% year on year)")
        row = _derived_row(r, "prior year from yoy", [r], start=start, end=end, description=desc, qualifier=q)
        if r["measure"] == "money":
            cur, mult = CURRENCY_UNITS[r["unit"]]
            _with_money(row, r["value"] * mult / factor, cur, fx)
        else:
            row["value"] = r["value"] / factor
        out.append(row)
    return out, []


def derive_national_growth(selected: pd.DataFrame, env: DeriveEnv) -> Derived:
    """China's growth rate implied by a regional rate and a reported gap to the national rate."""
    out = []
    gaps = selected[selected["indicator"] == "growth gap to national rate"]
    totals = selected[main_rows(selected, selected=False) & selected["yoy_pct"].notna()]
    for _, g in gaps.iterrows():
        match = totals[(totals["entity"] == g["entity"]) & (totals["flow"] == g["flow"])
                       & (totals["partner"] == g["partner"]) & (totals["start"] == g["start"])
                       & (totals["end"] == g["end"])]
        if match.empty:
            continue
        t = match.iloc[0]
        yoy = t["yoy_pct"] - g["value"]
        # the region's rate less the gap: a gap of "more than 20 points" leaves a national rate under the one
        # computed (data.qualifiers)
        yq = qualifiers.combined(t.get("yoy_qualifier"), qualifiers.turned(g["qualifier"]))
        row = _derived_row(t, "national rate from gap", [t, g], entity="China", value=np.nan, unit="percent",
                           currency=None, value_cny_bn=np.nan, value_usd_bn=np.nan, yoy_pct=round(yoy, 3),
                           yoy_qualifier=yq,
                           description=(f"China's trade growth {g['period_label']} = {t['entity']} "
                                        f"{t['yoy_pct']:+g}% less the reported gap of {g['value']:g} points"))
        out.append(row)
    return out, []


def derive_parts_and_totals(selected: pd.DataFrame, env: DeriveEnv) -> Derived:
    """Totals from exports plus imports (and a missing part from the total), with consistency checks."""
    tol = env.tol
    fx = env.fx
    out, issues = [], []
    money = selected[(selected["measure"] == "money") & selected["value"].notna()
                     & (selected["indicator"] == "trade value")]
    keys = ["entity", "partner", "product", "segment", "start", "end"]
    for _, group in money.groupby(keys, sort=False):
        flows = {r["flow"]: r for _, r in group.iterrows()}
        x, m, t = flows.get("exports"), flows.get("imports"), flows.get("total")
        if x is not None and m is not None:
            parts = x["value_cny_bn"] + m["value_cny_bn"]
            if t is not None:
                diff = (parts - t["value_cny_bn"]) / t["value_cny_bn"] * 100
                if abs(diff) > tol.parts * 100:
                    sel = t.copy()
                    sel["_cmp"] = t["value_cny_bn"]
                    oth = x.copy()
                    oth["_cmp"] = parts
                    oth["figure_id"] = f"{x['figure_id']}+{m['figure_id']}"
                    oth["source_ids"] = f"{x['source_ids']};{m['source_ids']}"
                    issues.append(_issue("parts vs total", "warning", sel, oth, round(diff, 3),
                                         f"exports {x['figure_id']} plus imports {m['figure_id']} give "
                                         f"{parts:,.2f} against a total of {t['value_cny_bn']:,.2f}"))
            else:
                cur = "CNY" if "CNY" in (x["currency"], m["currency"]) else "USD"
                col = CURRENCIES[cur].column
                row = _derived_row(x, "total from parts", [x, m], flow="total",
                                   description=f"{x['entity']} total {x['period_label']} = exports "
                                               f"{x['figure_id']} + imports {m['figure_id']}")
                out.append(_with_money(row, x[col] + m[col], cur, fx))
        part = x if x is not None else m
        if t is not None and part is not None and (x is None or m is None):   # exactly one part reported
            missing = "imports" if x is not None else "exports"
            cur = t["currency"]
            col = CURRENCIES[cur].column
            rest = t[col] - part[col]
            # the total less a part: a part under the one shown (implied by a rate of "more than") leaves
            # more for the other part (data.qualifiers)
            q = qualifiers.combined(t["qualifier"], qualifiers.turned(part["qualifier"]))
            if rest > 0:
                row = _derived_row(t, "part from total", [t, part], flow=missing, qualifier=q,
                                   description=f"{t['entity']} {missing} {t['period_label']} = total "
                                               f"{t['figure_id']} - {part['flow']} {part['figure_id']}")
                out.append(_with_money(row, rest, cur, fx))
    return out, issues


def derive_ytd_blocks(selected: pd.DataFrame, env: DeriveEnv) -> Derived:
    """Single months and blocks from consecutive year-to-date figures of one year."""
    fx = env.fx
    out, issues = [], []
    ok = selected[(selected["measure"] == "money") & selected["value"].notna()
                  & selected["qualifier"].isin(["exact", "about"])
                  & (selected["start"] % 12 == 0) & (selected["start"] // 12 == selected["end"] // 12)]
    for _, group in ok.groupby(SERIES_KEY + ["year"], sort=False):
        group = group.sort_values("end")
        col = "value_cny_bn"
        rows = [r for _, r in group.iterrows()]
        for earlier, later in zip(rows, rows[1:]):
            diff = later[col] - earlier[col]
            block = periods.ytd_difference(periods.Period(later["start"], later["end"]),
                                           periods.Period(earlier["start"], earlier["end"]))
            if diff <= 0:
                s, o = later.copy(), earlier.copy()
                s["_cmp"], o["_cmp"] = later[col], earlier[col]
                issues.append(_issue("year-to-date falls", "conflict", s, o, None,
                                     f"{later['period_label']} ({later[col]:,.2f}) is not above "
                                     f"{earlier['period_label']} ({earlier[col]:,.2f})"))
                continue
            row = _derived_row(later, "ytd difference", [later, earlier], start=block.start, end=block.end,
                               description=f"{later['entity']} {later['flow']} {block.label()} = "
                                           f"{later['period_label']} {later['figure_id']} - "
                                           f"{earlier['period_label']} {earlier['figure_id']}")
            out.append(_with_money(row, diff, "CNY", fx))
    return out, issues


def derive_shares(selected: pd.DataFrame, env: DeriveEnv) -> Derived:
    """Partner shares of the same entity's world total (percent)."""
    out = []
    money = selected[(selected["measure"] == "money") & selected["value"].notna()
                     & main_rows(selected, selected=False)]
    world = money[money["partner"] == "World"].set_index(["entity", "flow", "start", "end"], drop=False)
    for _, r in money[money["partner"] != "World"].iterrows():
        k = (r["entity"], r["flow"], r["start"], r["end"])
        if k not in world.index:
            continue
        w = world.loc[[k]].iloc[0]
        share = r["value_cny_bn"] / w["value_cny_bn"] * 100
        out.append(_derived_row(r, "partner share", [r, w], indicator="share of world total",
                                measure="percent", value=round(share, 4), unit="percent", currency=None,
                                value_cny_bn=np.nan, value_usd_bn=np.nan,
                                description=f"{r['partner']} share of {r['entity']} {r['flow']} "
                                            f"{r['period_label']}: {r['figure_id']} / {w['figure_id']}"))
    return out, []


RATIO_TO_PREVIOUS_YEAR = "percent of previous full year"
SHARE_OF_WORLD = "share of world total"


def derive_relational(selected: pd.DataFrame, env: DeriveEnv) -> Derived:
    """Totals implied by relational statements reported as data:
    - "percent of previous full year": a period's value was N % of the previous calendar year's
      total (e.g. Jan-Nov 2021 equal to 93 % of 2020), so that total is value / (N / 100);
    - a reported "share of world total" of a partner: the partner's value was X % of the entity's
      total with the world for the same months, so that total is value / (X / 100).
    Percentages are printed rounded, so the results carry the qualifier "about"."""
    out = []
    money = selected[(selected["measure"] == "money") & selected["value"].notna()
                     & main_rows(selected, selected=False)].set_index(
        ["entity", "flow", "partner", "start", "end"], drop=False)
    rel = selected[(selected["origin"] == "reported") & (selected["unit"] == "percent")
                   & selected["value"].notna() & (selected["value"] > 0)
                   & selected["indicator"].isin([RATIO_TO_PREVIOUS_YEAR, SHARE_OF_WORLD])]
    for _, r in rel.iterrows():
        k = (r["entity"], r["flow"], r["partner"], r["start"], r["end"])
        if k not in money.index:
            continue
        base = money.loc[[k]].iloc[0]
        cur = base["currency"]
        native = base[CURRENCIES[cur].column] / (r["value"] / 100)
        if r["indicator"] == RATIO_TO_PREVIOUS_YEAR:
            year = int(periods.year_of(r["end"])) - 1
            start, end = periods.parse_month(f"{year}-01"), periods.parse_month(f"{year}-12")
            row = _derived_row(base, "previous year from ratio", [base, r], start=start, end=end, qualifier="about",
                               description=f"{r['entity']} {r['flow']} {year} implied by {base['figure_id']} "
                                           f"({base['period_label']}) being {r['value']:g}% of it ({r['figure_id']})")
        else:
            row = _derived_row(base, "total from share", [base, r], partner="World", qualifier="about",
                               description=f"{r['entity']} {r['flow']} total {base['period_label']} implied by "
                                           f"{r['partner']} {base['figure_id']} being {r['value']:g}% of it "
                                           f"({r['figure_id']})")
        out.append(_with_money(row, native, cur, env.fx))
    return out, []


@dataclass(frozen=True)
class Derivation:
    name: str                                           # what it derives (the `method` of its rows)
    progress: str                                       # what the step says while it runs
    fn: Callable[[pd.DataFrame, DeriveEnv], Derived]    # selected figures -> rows, issues


# The derivations, in the order they run; each sees the figures selected after the previous one.
DERIVATIONS: tuple[Derivation, ...] = (
    Derivation("prior year from yoy", "deriving prior-year values from growth rates", derive_prior_year),
    Derivation("previous year from ratio", "deriving totals from relational statements", derive_relational),
    Derivation("national rate from gap", "deriving China's rate from reported gaps", derive_national_growth),
    Derivation("total from parts", "deriving totals and parts from exports and imports", derive_parts_and_totals),
    Derivation("ytd difference", "deriving months and blocks from year-to-date figures", derive_ytd_blocks),
    Derivation("partner share", "deriving partner shares", derive_shares),
)


def part_exceeds_whole(selected: pd.DataFrame, tol: Tolerance = Tolerance()) -> list[dict]:
    """A partner, product or segment figure above the entity's world total for the same months."""
    issues = []
    f = selected[(selected["measure"] == "money") & selected["value"].notna()
                 & (selected["indicator"] == "trade value")].copy()
    f["_cmp"] = f["value_cny_bn"]
    whole = f[main_rows(f, selected=False, partner="World")]
    whole = whole.set_index(["entity", "flow", "start", "end"], drop=False)
    parts = f[(f["partner"] != "World") | (f["product"] != "all") | (f["segment"] != "all")]
    for _, p in parts.iterrows():
        k = (p["entity"], p["flow"], p["start"], p["end"])
        if k in whole.index:
            w = whole.loc[[k]].iloc[0]
            if p["_cmp"] > w["_cmp"] * (1 + tol.same_currency):
                issues.append(_issue("part exceeds whole", "conflict", w, p,
                                     round((p["_cmp"] - w["_cmp"]) / w["_cmp"] * 100, 3),
                                     f"{p['figure_id']} ({p['partner']}, {p['product']}, {p['segment']}) is larger "
                                     f"than the world total {w['figure_id']}"))
    return issues


@dataclass
class Cleaned:
    figures: pd.DataFrame      # every figure, reported and derived, with `selected`
    issues: pd.DataFrame       # the data-quality table


def _append(figures: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return figures
    new = pd.DataFrame(rows, columns=FIGURE_COLUMNS)
    new = new[~new["figure_id"].isin(figures["figure_id"])]
    return pd.concat([figures, new], ignore_index=True)


def clean(raw: RawData, as_of: str | None = None, tol: Tolerance = Tolerance(), log=None) -> Cleaned:
    """The whole cleaning step: normalise, select, derive (with lineage), reconcile."""
    say = log or (lambda msg: None)
    env = DeriveEnv(fx=_rate_lookup(raw.rates), tol=tol)
    say("normalising units and periods")
    figs = select(normalise(raw, as_of))
    issues: list[dict] = []
    for step in DERIVATIONS:
        say(step.progress)
        rows, found = step.fn(figs[figs["selected"]], env)
        issues += found
        figs = select(_append(figs, rows))
    say("reconciling sources")
    issues += compare_within_quantity(figs, tol)
    issues += part_exceeds_whole(figs[figs["selected"]], tol)
    issues += flagged_rows(figs)
    issues += published_before_period(figs)
    table = pd.DataFrame(issues, columns=[c for c in CONFLICT_COLUMNS if c != "issue_id"])
    table = table.sort_values(["severity", "kind", "entity", "period_label", "selected_id", "other_id"],
                              kind="mergesort", na_position="last").reset_index(drop=True)
    table.insert(0, "issue_id", [f"Q{i + 1:03d}" for i in range(len(table))])
    figs = figs.sort_values(["origin", "entity", "indicator", "flow", "partner", "start", "end", "figure_id"],
                            kind="mergesort").reset_index(drop=True)
    return Cleaned(figures=figs, issues=table)


def trace(figures: pd.DataFrame, figure_id: str) -> list[str]:
    """Every reported row behind a figure (depth first), e.g. ['R0337'] for an implied 2022 total."""
    by_id = figures.set_index("figure_id")
    if figure_id not in by_id.index:
        raise KeyError(f"no figure {figure_id!r}")
    row = by_id.loc[figure_id]
    if row["origin"] == "reported":
        return [figure_id]
    out: list[str] = []
    for parent in split_ids(row["inputs"]):
        for leaf in trace(figures, parent):
            if leaf not in out:
                out.append(leaf)
    return out
