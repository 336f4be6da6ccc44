"""The growth chapter's analysis (notebook 02, through `chapters`, the notebooks' one namespace): growth
over windows split at a break year and the break test, the growth table in the currency each figure was
printed in, the chapter's text, contributions by period, partner shares and the comparison with China."""

from __future__ import annotations

import numpy as np
import pandas as pd

from xjtrade.data import qualifiers
from xjtrade.data.currency import CURRENCIES
from xjtrade.data.selector import main_rows
from xjtrade.report import wording
from xjtrade.report.context import Context
from xjtrade.report.display import _r  # rounding of the values kept in the results
from xjtrade.report.series import annual, annual_series, as_series
from xjtrade.stats import growth

pct = wording.pct   # one formatter for percentages (report.wording)
SIGNIFICANCE = 0.05  # level of the trend-break test


def money(value: float, currency: str, digits: int = 1) -> str:
    return f"{value:,.{digits}f} {CURRENCIES[currency].unit}"


# --- 01 data --------------------------------------------------------------------------------

def windows(years: list[int], break_year: int) -> list[tuple[int, int]]:
    """CAGR windows: whole span, before the break, from the year before the break to the end."""
    if len(years) < 2:
        return []
    first, last = min(years), max(years)
    before = [y for y in years if y < break_year]
    out = [(first, last)]
    if len(before) >= 2:
        out.append((first, max(before)))
    if before and max(before) < last:
        out.append((max(before), last))
    return list(dict.fromkeys(out))


def _converted(df: pd.DataFrame, currency: str) -> pd.Series:
    """Rows of an annual series printed in another currency than `currency` (converted at the year's
    average rate)."""
    return df["printed_in"].notna() & (df["printed_in"] != currency)


def growth_table(df: pd.DataFrame, currency: str, unit: str) -> pd.DataFrame:
    """Table 2.2: the annual values with their growth, comparing like with like.  Growth in the edition's
    currency is computed from the values shown; a reported growth rate is in the currency its figure was
    printed in (column "printed in"), so it is set beside growth computed from the values of both years in
    that currency (a dollar figure converted to yuan grows in yuan by its dollar growth plus the change of
    the exchange rate).  `df`: the annual series' rows (:func:`xjtrade.report.series.annual`)."""
    y = as_series(df)
    yo = growth.yoy(y)
    rows = df.set_index(df["year"].astype(int))
    rate_cur = rows["printed_in"].where(rows["yoy_pct"].notna())
    same: list[float] = []
    for year, cur in rate_cur.items():
        col = CURRENCIES[cur].column if isinstance(cur, str) and cur in CURRENCIES else None
        if col is None or year - 1 not in rows.index:
            same.append(np.nan)
            continue
        v0, v1 = float(rows.loc[year - 1, col]), float(rows.loc[year, col])
        same.append((v1 / v0 - 1) * 100 if v0 else np.nan)
    converted = _converted(df, currency).to_numpy()
    words = [wording.CURRENCY_WORDS.get(c, "") if isinstance(c, str) else "" for c in rows["printed_in"]]
    own = wording.CURRENCY_WORDS.get(currency, currency)
    return pd.DataFrame({
        "year": y.index, "qualifier": df["qualifier"].map(wording.qualifier_word).to_numpy(),
        f"value ({unit})": y.values,
        "printed in": [f"{w}, converted" if c else w for w, c in zip(words, converted)],
        f"growth in {own} %": yo.values,
        # the word printed before the reported rate ("about" for "doubled"), as the value's qualifier is shown
        "growth qualifier": _rate_words(rows),
        "growth as reported %": rows["yoy_pct"].to_numpy(),
        "growth in the printed currency %": same,
        "origin": df["origin"].values, "figure": df["figure_id"].values})


def _rate_words(rows: pd.DataFrame) -> list[str]:
    """The word printed before each row's growth rate ("about", "over"; "" for an exact rate or none)."""
    qs = rows["yoy_qualifier"] if "yoy_qualifier" in rows else pd.Series([None] * len(rows), index=rows.index)
    return [wording.qualifier_word(q) if not pd.isna(y) else "" for q, y in zip(qs, rows["yoy_pct"])]


def growth_analysis(ctx: Context) -> dict:
    p = ctx.params
    df = annual(ctx)
    y = as_series(df)
    series = annual_series(ctx)
    res: dict = {"series": series.model_dump(), "n_years": len(y), "years": [int(v) for v in y.index],
                 "figures": {str(int(yr)): fid for yr, fid in zip(df["year"], df["figure_id"])}}
    out: dict = {"annual": df, "series": y, "annual_series": series}
    yo = growth.yoy(y)
    out["yoy_table"] = growth_table(df, p.currency, ctx.unit)
    res["converted_years"] = [int(v) for v in df.loc[_converted(df, p.currency), "year"]]
    latest = df.iloc[-1] if len(df) else None
    if latest is not None:
        res["latest_year"] = int(latest["year"])
        res["latest_value"] = _r(latest["value"])
        # a growth rate reported in the other currency is not this series' growth: computed from the values
        same = latest["printed_in"] == p.currency and not pd.isna(latest["yoy_pct"])
        res["latest_yoy_pct"] = _r(latest["yoy_pct"] if same else yo.iloc[-1])
        # a reported rate keeps the word printed before it ("about" for "doubled"); a computed one takes the
        # qualifiers of the two values it is computed from
        res["latest_yoy_qualifier"] = (qualifiers.of(latest.get("yoy_qualifier")) if same else
                                       _computed_growth_qualifier(df))
    out["cagr"] = growth.cagr_table(y, windows(list(y.index), p.break_year)) if len(y) >= 2 else pd.DataFrame()
    res["cagr"] = [{k: _r(v) for k, v in row.items()} for row in out["cagr"].to_dict("records")]
    try:
        tr = growth.trend_growth(y, level=0.95)
        out["trend"] = tr
        res["trend"] = {"growth_pct": _r(tr.growth_pct), "ci_low": _r(tr.ci_low), "ci_high": _r(tr.ci_high),
                        "n_obs": tr.n_obs, "start": tr.start, "end": tr.end, "r2": _r(tr.r2), "note": tr.note}
    except ValueError as exc:
        out["trend"] = None
        res["trend"] = {"error": str(exc)}
    br = growth.structural_break(y, p.break_year)
    out["break"] = br
    res["break"] = {"testable": br.testable, "reason": br.reason, "f_stat": _r(br.f_stat),
                    "significant": bool(br.p_value < SIGNIFICANCE) if br.testable and not np.isnan(br.p_value)
                    else None,
                    "p_value": _r(br.p_value), "growth_before_pct": _r(br.growth_before_pct),
                    "growth_after_pct": _r(br.growth_after_pct), "n_before": br.n_before, "n_after": br.n_after}
    out["results"] = res
    out["markdown"] = _growth_text(ctx, res, series)
    return out


def _computed_growth_qualifier(df: pd.DataFrame) -> str:
    """The qualifier of the growth computed from the last two years of an annual series (the later value
    over the earlier one: an earlier value "about" makes the growth about; an earlier lower bound makes it
    an upper bound); "exact" when the years are not consecutive (no growth is computed then)."""
    if len(df) < 2 or int(df["year"].iloc[-1]) - int(df["year"].iloc[-2]) != 1:
        return "exact"
    return growth_qualifier(df["qualifier"].iloc[-1], df["qualifier"].iloc[-2])


def growth_qualifier(q_now, q_before) -> str:
    """The qualifier of growth computed as now / before - 1 from values with these qualifiers (two bounds
    pulling opposite ways: "about")."""
    return qualifiers.combined(q_now, qualifiers.turned(q_before))


def _growth_text(ctx: Context, res: dict, series=None) -> str:
    p = ctx.params
    if res["n_years"] < 2:
        return (f"Only {res['n_years']} calendar-year figure(s) of {ctx.subject} fall in {p.start_year}-"
                f"{p.end_year or 'the latest year'}; growth over years cannot be measured for this choice.")
    parts = [f"The annual series of {ctx.subject} has {res['n_years']} calendar years in the window "
             f"({wording.years_text(res['years'])})."]
    if "latest_year" in res:
        last = series.level if series is not None else None
        q = wording.qualifier_word(last.last_qualifier) + " " if last and wording.qualifier_word(
            last.last_qualifier) else ""
        other = "USD" if p.currency == "CNY" else "CNY"
        conv = (f" ({wording.printed_in_note(other, p.currency)})"
                if res["latest_year"] in res.get("converted_years", []) else "")
        growth_words = wording.qualified_pct(res["latest_yoy_pct"], res.get("latest_yoy_qualifier"))
        parts.append(f"In {res['latest_year']} it reached **{q}{money(res['latest_value'], p.currency)}**{conv}"
                     + (f", {growth_words} on the year before." if res["latest_yoy_pct"] is not None else "."))
        if series is not None and wording.later_years_note(series, ctx.unit):
            parts.append(wording.later_years_note(series, ctx.unit))
    for w in res["cagr"]:
        if w.get("cagr_pct") is not None:
            parts.append(f"Compound annual growth {w['start']}-{w['end']}: **{pct(w['cagr_pct'])}** a year.")
    t = res["trend"]
    if "growth_pct" in t:
        parts.append(f"A log-linear trend fitted to the {t['n_obs']} years {t['start']}-{t['end']} grows "
                     f"**{pct(t['growth_pct'])}** a year (95% interval {pct(t['ci_low'])} to {pct(t['ci_high'])}, "
                     f"HAC standard errors){'; ' + t['note'] if t['note'] else ''}.")
    b = res["break"]
    sides = (f"{wording.count(b['n_before'], 'year')} before {p.break_year} and {b['n_after']} from it on")
    if b["testable"] and b["significant"] is not None:
        verdict = "rejects" if b["significant"] else "does not reject"
        parts.append(f"A test for a break in the trend from {p.break_year}, on {sides}, {verdict} a single trend "
                     f"at the 5% level (F = {b['f_stat']:.2f}, p = {b['p_value']:.3f}); trend growth "
                     f"{pct(b['growth_before_pct'])} before against {pct(b['growth_after_pct'])} from {p.break_year}.")
    elif b["testable"]:
        parts.append(f"A test for a break in the trend from {p.break_year}, on {sides}, gives no verdict: "
                     f"{b['reason']}.")
    else:
        parts.append(f"The trend is not tested for a break from {p.break_year}: {b['reason']}.")
    return " ".join(parts)


def contributions_by_period(ctx: Context) -> pd.DataFrame:
    """Contributions of exports and imports to total growth, for every period where the three flows
    are known this year and a year earlier (reported or implied by reported growth rates)."""
    p = ctx.params
    f = ctx.figures
    col = CURRENCIES[p.currency].column
    sel = f[main_rows(f, entity=p.entity, partner=p.partner) & f[col].notna()]
    wide = sel.pivot_table(index=["start", "end"], columns="flow", values=col, aggfunc="first")
    # the same periods in the currency the figures were printed in: where all six figures of a period
    # (three flows, this year and the year before) were printed in one currency, growth is computed in
    # it, as the releases did (dollar figures converted to yuan would add the exchange rate's change)
    printed = {c.code: sel.pivot_table(index=["start", "end"], columns="flow", values=c.column, aggfunc="first")
               for c in CURRENCIES.values()}
    cur = sel.pivot_table(index=["start", "end"], columns="flow", values="currency", aggfunc="first")
    quals = sel.pivot_table(index=["start", "end"], columns="flow", values="qualifier", aggfunc="first")
    labels = sel.drop_duplicates(["start", "end"]).set_index(["start", "end"])["period_label"]
    rows = []
    for (s, e), r in wide.iterrows():
        if (s - 12, e - 12) not in wide.index:
            continue
        used = {cur.loc[k].get(fl) for k in ((s, e), (s - 12, e - 12)) for fl in ("total", "exports", "imports")}
        code = next(iter(used)) if len(used) == 1 and next(iter(used)) in printed else p.currency
        r = printed[code].loc[(s, e)] if code != p.currency else r
        prev = (printed[code] if code != p.currency else wide).loc[(s - 12, e - 12)]
        if any(pd.isna(v) for v in (r.get("total"), r.get("exports"), r.get("imports"),
                                    prev.get("total"), prev.get("exports"), prev.get("imports"))):
            continue
        t = growth.contributions(pd.Series([prev["total"], r["total"]], index=[0, 1]),
                                 pd.Series([prev["exports"], r["exports"]], index=[0, 1]),
                                 pd.Series([prev["imports"], r["imports"]], index=[0, 1])).iloc[-1]
        # growth from a total implied by a rate printed as "doubled" is about that rate, not exactly it
        q = growth_qualifier(quals.loc[(s, e)].get("total"), quals.loc[(s - 12, e - 12)].get("total"))
        rows.append({"period": labels.loc[(s, e)], "start": s, "end": e, "year": e // 12,
                     "computed in": wording.CURRENCY_WORDS.get(code, code),
                     "growth qualifier": wording.qualifier_word(q), "total growth %": t["total_yoy"],
                     "exports pp": t["contrib_x"], "imports pp": t["contrib_m"], "residual pp": t["residual"]})
    return pd.DataFrame(rows)


def partner_shares(ctx: Context) -> pd.DataFrame:
    """Shares of the entity's world total, for the partners reported (from the derived share figures)."""
    p = ctx.params
    f = ctx.figures
    sh = f[f["selected"] & (f["entity"] == p.entity) & (f["flow"] == p.flow)
           & (f["indicator"] == "share of world total")]
    out = sh[["partner", "period_label", "start", "end", "months", "value", "figure_id", "inputs"]].copy()
    out = out.rename(columns={"value": "share"}).sort_values(["partner", "end", "start"])
    out["x"] = (out["end"] + 1) / 12.0
    return out.reset_index(drop=True)


def national_comparison(ctx: Context) -> pd.DataFrame:
    """Regional growth against China's national growth for the periods where both are known."""
    f = ctx.figures
    p = ctx.params
    nat = f[f["selected"] & (f["entity"] == "China") & (f["partner"] == "World") & (f["flow"] == "total")
            & f["yoy_pct"].notna() & (f["indicator"] == "trade value")]
    reg = f[main_rows(f, entity=p.entity, partner="World", flow="total") & f["yoy_pct"].notna()]
    m = reg.merge(nat, on=["start", "end"], suffixes=("_reg", "_nat"))
    own = f"{p.entity} growth %"
    # the words printed before the rates ("about" for "doubled"; a national rate implied by a gap of "more
    # than" some points is under the one shown), shown beside them as the values' qualifiers are
    own_q, nat_q = f"{p.entity} growth qualifier", "China growth qualifier"
    if m.empty:
        return pd.DataFrame(columns=["period", own_q, own, nat_q, "China growth %", "China rate from",
                                     "gap qualifier", "gap pp", "gap", "figure"])
    gap = growth.growth_gap(pd.Series(m["yoy_pct_reg"].to_numpy()), pd.Series(m["yoy_pct_nat"].to_numpy()))
    # China's rate is reported, or implied by a gap a release reported for Xinjiang (its growth less the
    # gap); the gap itself was reported only when that rate is implied by this entity's own gap
    implied = (m["origin_nat"] == "derived").to_numpy()
    own_gap = np.array([_implied_by(f, fid, p.entity) for fid in m["figure_id_nat"]])
    # the gap is the region's rate less China's: a national rate under the one shown leaves a gap over it
    gap_q = [wording.qualifier_word(qualifiers.combined(a, qualifiers.turned(b)))
             for a, b in zip(m["yoy_qualifier_reg"], m["yoy_qualifier_nat"])]
    return pd.DataFrame({"period": m["period_label_reg"],
                         own_q: _rate_words(m.rename(columns={"yoy_qualifier_reg": "yoy_qualifier",
                                                              "yoy_pct_reg": "yoy_pct"})),
                         own: m["yoy_pct_reg"],
                         nat_q: _rate_words(m.rename(columns={"yoy_qualifier_nat": "yoy_qualifier",
                                                              "yoy_pct_nat": "yoy_pct"})),
                         "China growth %": m["yoy_pct_nat"],
                         "China rate from": np.where(implied, "implied by a gap reported for Xinjiang", "reported"),
                         "gap qualifier": gap_q, "gap pp": gap.iloc[:, -1].to_numpy(),
                         "gap": np.where(implied & own_gap, "reported", "computed here"),
                         "figure": m["figure_id_nat"], "end": m["end"]}).sort_values("end").drop(columns="end")


def _implied_by(f: pd.DataFrame, figure_id: str, entity: str) -> bool:
    """Whether a derived national rate was implied by a gap reported for `entity` (its inputs)."""
    row = f[f["figure_id"] == figure_id]
    if row.empty or row["origin"].iloc[0] != "derived":
        return False
    inputs = str(row["inputs"].iloc[0]).split(";")
    return bool(((f["figure_id"].isin(inputs)) & (f["entity"] == entity)
                 & (f["indicator"] == "growth gap to national rate")).any())
