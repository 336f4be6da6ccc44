"""What the notebooks call: each function takes the run's data and parameters and
returns tables, figures and narrative built from the data (no typed numbers).

The notebooks stay thin: a parameters cell, then one call per section.  Everything
here is computation (tested by pytest); showing and saving are the small helpers at
the bottom.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xjtrade.data import clean, selector

from xjtrade.data.currency import CURRENCIES
from xjtrade.data.selector import main_rows, unique_ids
from xjtrade.stats import evaluation as ev
from xjtrade.stats import models as fc

from xjtrade.stats import growth
from xjtrade.data.processed import load_processed
from xjtrade.report.params import RunParams, check_against_data



@dataclass
class Context:
    params: RunParams
    figures: pd.DataFrame
    issues: pd.DataFrame
    sources: pd.DataFrame
    out_dir: Path | None = None
    results: dict = field(default_factory=dict)

    @property
    def unit(self) -> str:
        return CURRENCIES[self.params.currency].unit

    @property
    def subject(self) -> str:
        p = self.params
        flow = {"total": "total trade", "exports": "exports", "imports": "imports"}[p.flow]
        partner = "" if p.partner == "World" else f" with {p.partner}"
        return f"{p.entity} {flow}{partner}"

    def series(self, kind: str = "year", flow: str | None = None, partner: str | None = None) -> pd.DataFrame:
        p = self.params
        return selector.series(self.figures, entity=p.entity, flow=flow or p.flow, partner=partner or p.partner,
                            kind=kind, currency=p.currency)

    def source_note(self, figure_ids) -> str:
        """'Source: ...' naming how many reports and which publishers stand behind the figures."""
        rows: list[str] = []
        for fid in figure_ids:
            for leaf in clean.trace(self.figures, fid):
                if leaf not in rows:
                    rows.append(leaf)
        rep = self.figures[self.figures["figure_id"].isin(rows)]
        src_ids = unique_ids(rep["source_ids"])
        pubs = self.sources[self.sources["source_id"].isin(src_ids)]["publisher"].value_counts()
        top = ", ".join(pubs.index[:3])
        derived = sum(1 for f in figure_ids if not str(f).startswith("R"))
        vintage = f"; data as of {self.params.as_of}" if self.params.as_of else ""
        note = (f"Source: Xinjiang Trade Monitor, {len(rows)} reported figures from {len(src_ids)} reports "
                f"({top}{' and others' if len(pubs) > 3 else ''}){vintage}.")
        if derived:
            note += f" Includes {derived} derived values; their lineage is in the data chapter."
        return note


def context_from_namespace(namespace: dict) -> Context:
    """Build the context from a notebook's parameter variables (validated again here)."""
    fields = {k: namespace[k] for k in RunParams.model_fields if k in namespace}
    params = RunParams(**fields)
    return load_context(namespace["data_dir"], params, namespace.get("out_dir"))


def load_context(data_dir, params: RunParams, out_dir=None) -> Context:
    figs, issues, sources = load_processed(Path(data_dir))
    check_against_data(params, figs)
    return Context(params=params, figures=figs, issues=issues, sources=sources,
                   out_dir=Path(out_dir) if out_dir else None)


# --- formatting -----------------------------------------------------------------------------

def money(value: float, currency: str, digits: int = 1) -> str:
    return f"{value:,.{digits}f} {CURRENCIES[currency].unit}"


def pct(value: float, digits: int = 1, sign: bool = True) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:+.{digits}f}%" if sign else f"{value:.{digits}f}%"


def markdown_table(df: pd.DataFrame, floatfmt: str = ",.2f", max_text: int = 160) -> str:
    """A pipe table; missing values shown as a dash, long texts cut, and the separator line's dashes
    capped so that pandoc gives a long text column at most a few times the width of the others."""
    shown = df.copy()
    for col in shown.columns:
        if not pd.api.types.is_numeric_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: v if not isinstance(v, str) or len(v) <= max_text
                                        else v[: max_text - 1] + "…")
    shown = shown.astype(object).where(shown.notna(), None)
    text = shown.to_markdown(index=False, floatfmt=floatfmt, missingval="–")
    lines = text.split("\n")
    cells = lines[1].strip("|").split("|")
    capped = []
    for cell in cells:
        left, right = cell.strip().startswith(":"), cell.strip().endswith(":")
        n = max(3, min(len(cell.strip()), 24))
        capped.append((":" if left else "-") + "-" * (n - 2) + (":" if right else "-"))
    lines[1] = "|" + "|".join(capped) + "|"
    return "\n".join(lines)


def _r(x, n=4):
    if x is None:
        return None
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(x) else round(float(x), n)
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


# --- 01 data --------------------------------------------------------------------------------

def coverage(ctx: Context) -> dict:
    """What is known about the entity: figures by kind of period, sources, years."""
    f = ctx.figures[(ctx.figures["entity"] == ctx.params.entity) & (ctx.figures["start"] >= 0)]
    rep = f[f["origin"] == "reported"]
    der = f[f["origin"] == "derived"]
    by_kind = (f.groupby(["period_kind", "origin"]).size().unstack(fill_value=0)
               .reindex(columns=["reported", "derived"], fill_value=0))
    from xjtrade.report import figures as xf  # plotting stays out of the compute-only paths (sweeps)
    by_kind = by_kind.reindex([k for k in xf.KIND_ORDER if k in by_kind.index]).reset_index()
    by_kind.columns = ["kind of period", "reported", "derived"]
    n_src = len(unique_ids(rep["source_ids"]))
    first, last = int(rep["year"].min()), int(rep["year"].max())
    pub = rep["published"].replace("", np.nan).dropna()
    md = (f"The data hold **{len(rep):,} reported figures** on {ctx.params.entity} from **{n_src} reports** "
          f"published between {pub.min()} and {pub.max()}, covering {first} to {last}. "
          f"The cleaning step added **{len(der):,} derived figures** (prior-year values implied by growth "
          f"rates, single months and blocks from year-to-date releases, totals from exports and imports, "
          f"partner shares); each names the figures it came from.")
    if ctx.params.as_of:
        md += f" Only reports published on or before **{ctx.params.as_of}** are used in this run."
    return {"markdown": md, "by_kind": by_kind, "figures": f,
            "results": {"reported_figures": len(rep), "derived_figures": len(der), "sources": n_src,
                        "first_year": first, "last_year": last, "last_published": str(pub.max())}}


def lineage_table(ctx: Context) -> pd.DataFrame:
    """Derived figures used in the analysed annual and monthly series, with the rows behind them."""
    used = pd.concat([ctx.series("year"), ctx.series("block")])
    used = used[(used["origin"] == "derived") & used["value"].notna()].drop_duplicates("figure_id")
    rows = []
    for r in used.itertuples(index=False):
        rows.append({"figure": r.figure_id, "period": r.period_label, f"value ({ctx.unit})": r.value,
                     "method": r.method, "inputs": r.inputs.replace(";", ", "),
                     "reported rows behind it": ", ".join(clean.trace(ctx.figures, r.figure_id))})
    return pd.DataFrame(rows)


def quality_table(ctx: Context) -> pd.DataFrame:
    q = ctx.issues[ctx.issues["entity"] == ctx.params.entity]
    cols = {"issue_id": "issue", "severity": "severity", "kind": "kind", "flow": "flow", "partner": "partner",
            "period_label": "period", "selected_id": "selected", "other_id": "other",
            "difference_pct": "diff. %", "note": "note"}
    order = {"conflict": 0, "warning": 1, "note": 2}
    q = q.assign(_o=q["severity"].map(order)).sort_values(["_o", "issue_id"])
    return q[list(cols)].rename(columns=cols)


def quality_summary(ctx: Context, table: pd.DataFrame) -> dict:
    counts = table["severity"].value_counts()
    n = {k: int(counts.get(k, 0)) for k in ("conflict", "warning", "note")}
    md = (f"For {ctx.params.entity} the reconciliation found **{n['conflict']} conflicts** between sources "
          f"(figures for the same quantity that disagree beyond the tolerance, or rows marked as doubtful), "
          f"**{n['warning']} warnings** (derived values or sums that do not match a reported figure) and "
          f"{n['note']} notes. Where sources disagree, the selection rule in the methods chapter picks one "
          f"figure; the other stays in the data, flagged.")
    return {"markdown": md, "results": n}


# --- 02 growth ------------------------------------------------------------------------------

def annual(ctx: Context, flow: str | None = None, partner: str | None = None) -> pd.DataFrame:
    s = ctx.series("year", flow=flow, partner=partner)
    p = ctx.params
    s = s[(s["year"] >= p.start_year) & (s["year"] <= p.end_year) & s["value"].notna()]
    return s.reset_index(drop=True)


def as_series(df: pd.DataFrame) -> pd.Series:
    return pd.Series(df["value"].to_numpy(dtype=float), index=df["year"].astype(int).to_numpy(), name="value")


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


def growth_analysis(ctx: Context) -> dict:
    p = ctx.params
    df = annual(ctx)
    y = as_series(df)
    res: dict = {"n_years": len(y), "years": [int(v) for v in y.index],
                 "figures": {str(int(yr)): fid for yr, fid in zip(df["year"], df["figure_id"])}}
    out: dict = {"annual": df, "series": y}
    yo = growth.yoy(y)
    reported_yoy = df.set_index("year")["yoy_pct"]
    out["yoy_table"] = pd.DataFrame({
        "year": y.index, f"value ({ctx.unit})": y.values,
        "growth computed %": yo.values, "growth reported %": reported_yoy.reindex(y.index).values,
        "origin": df["origin"].values, "figure": df["figure_id"].values})
    latest = df.iloc[-1] if len(df) else None
    if latest is not None:
        res["latest_year"] = int(latest["year"])
        res["latest_value"] = _r(latest["value"])
        g = latest["yoy_pct"] if not pd.isna(latest["yoy_pct"]) else yo.iloc[-1]
        res["latest_yoy_pct"] = _r(g)
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
                    "p_value": _r(br.p_value), "growth_before_pct": _r(br.growth_before_pct),
                    "growth_after_pct": _r(br.growth_after_pct), "n_before": br.n_before, "n_after": br.n_after}
    out["results"] = res
    out["markdown"] = _growth_text(ctx, res)
    return out


def _growth_text(ctx: Context, res: dict) -> str:
    p = ctx.params
    if res["n_years"] < 2:
        return (f"Only {res['n_years']} calendar-year figure(s) of {ctx.subject} fall in {p.start_year}-"
                f"{p.end_year}; growth over years cannot be measured for this choice.")
    parts = [f"The annual series of {ctx.subject} has {res['n_years']} calendar years in the window "
             f"({', '.join(str(y) for y in res['years'])})."]
    if "latest_year" in res:
        parts.append(f"In {res['latest_year']} it reached **{money(res['latest_value'], p.currency)}**"
                     + (f", {pct(res['latest_yoy_pct'])} on the year before." if res["latest_yoy_pct"] is not None
                        else "."))
    for w in res["cagr"]:
        if w.get("cagr_pct") is not None:
            parts.append(f"Compound annual growth {w['start']}-{w['end']}: **{pct(w['cagr_pct'])}** a year.")
    t = res["trend"]
    if "growth_pct" in t:
        parts.append(f"A log-linear trend fitted to the {t['n_obs']} years {t['start']}-{t['end']} grows "
                     f"**{pct(t['growth_pct'])}** a year (95% interval {pct(t['ci_low'])} to {pct(t['ci_high'])}, "
                     f"HAC standard errors){'; ' + t['note'] if t['note'] else ''}.")
    b = res["break"]
    if b["testable"]:
        verdict = "rejects" if b["p_value"] < 0.05 else "does not reject"
        parts.append(f"A test for a break in the trend from {p.break_year} {verdict} a single trend at the 5% "
                     f"level (F = {b['f_stat']:.2f}, p = {b['p_value']:.3f}); trend growth "
                     f"{pct(b['growth_before_pct'])} before against {pct(b['growth_after_pct'])} from {p.break_year}.")
    else:
        parts.append(f"The trend-break test from {p.break_year} cannot be run: {b['reason']}.")
    return " ".join(parts)


def contributions_by_period(ctx: Context) -> pd.DataFrame:
    """Contributions of exports and imports to total growth, for every period where the three flows
    are known this year and a year earlier (reported or implied by reported growth rates)."""
    p = ctx.params
    f = ctx.figures
    col = CURRENCIES[p.currency].column
    sel = f[main_rows(f, entity=p.entity, partner=p.partner) & f[col].notna()]
    wide = sel.pivot_table(index=["start", "end"], columns="flow", values=col, aggfunc="first")
    labels = sel.drop_duplicates(["start", "end"]).set_index(["start", "end"])["period_label"]
    rows = []
    for (s, e), r in wide.iterrows():
        if (s - 12, e - 12) not in wide.index:
            continue
        prev = wide.loc[(s - 12, e - 12)]
        if any(pd.isna(v) for v in (r.get("total"), r.get("exports"), r.get("imports"),
                                    prev.get("total"), prev.get("exports"), prev.get("imports"))):
            continue
        t = growth.contributions(pd.Series([prev["total"], r["total"]], index=[0, 1]),
                                 pd.Series([prev["exports"], r["exports"]], index=[0, 1]),
                                 pd.Series([prev["imports"], r["imports"]], index=[0, 1])).iloc[-1]
        rows.append({"period": labels.loc[(s, e)], "start": s, "end": e, "year": e // 12,
                     "total growth %": t["total_yoy"], "exports pp": t["contrib_x"],
                     "imports pp": t["contrib_m"], "residual pp": t["residual"]})
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
    if m.empty:
        return pd.DataFrame(columns=["period", "region %", "China %", "gap pp", "figure"])
    gap = growth.growth_gap(pd.Series(m["yoy_pct_reg"].to_numpy()), pd.Series(m["yoy_pct_nat"].to_numpy()))
    return pd.DataFrame({"period": m["period_label_reg"], "region %": m["yoy_pct_reg"],
                         "China %": m["yoy_pct_nat"], "gap pp": gap.iloc[:, -1].to_numpy(),
                         "figure": m["figure_id_nat"], "end": m["end"]}).sort_values("end").drop(columns="end")


# --- 03 forecast ----------------------------------------------------------------------------

def recent_gapfree(y: pd.Series) -> pd.Series:
    """The run of consecutive periods that ends at the latest one (forecasts start from the present,
    not from the end of an older, longer stretch)."""
    s = y.dropna().sort_index()
    if s.empty:
        return s
    pos = s.index.asi8 if isinstance(s.index, pd.PeriodIndex) else s.index.to_numpy(dtype="int64")
    breaks = np.flatnonzero(np.diff(pos) != 1)
    first = breaks[-1] + 1 if len(breaks) else 0
    return s.iloc[first:]


def _model_table(fits: dict, levels, index_name: str = "year") -> pd.DataFrame:
    """Forecasts of every fitted model; a model that could not be fitted gets one row with the reason."""
    rows = []
    for m, r in fits.items():
        if not r.fitted_ok:
            rows.append({"model": m, index_name: "–", "forecast": np.nan, "note": r.reason})
            continue
        for period, mean in r.mean.items():
            row = {"model": m, index_name: str(period), "forecast": mean}
            for lvl in levels:
                iv = r.intervals.get(lvl)
                row[f"lower {lvl}%"] = np.nan if iv is None else iv.loc[period, "lower"]
                row[f"upper {lvl}%"] = np.nan if iv is None else iv.loc[period, "upper"]
            row["note"] = ""
            rows.append(row)
    columns = ["model", index_name, "forecast"] + [f"{side} {lvl}%" for lvl in levels
                                                   for side in ("lower", "upper")] + ["note"]
    return pd.DataFrame(rows).reindex(columns=columns)


def _evaluate_and_forecast(y: pd.Series, models, horizon: int, levels, min_train: int) -> dict:
    """Backtest (where the sample allows), choose by MASE, refit everything on the full sample."""
    out: dict = {}
    if len(y) >= 3:
        mt = min(min_train, len(y) - 1)
        bt = ev.backtest(y, list(models), horizon=1, min_train=mt, levels=tuple(levels))
        chosen, why = ev.choose_model(bt.summary)
        summary = bt.summary.rename_axis("model").reset_index()
    else:
        mt, bt = None, None
        chosen, why = "naive", (f"only {len(y)} consecutive observations: no backtest is possible, so the "
                                "naive benchmark is used")
        summary = pd.DataFrame()
    fits = {m: fc.fit_forecast(y, m, horizon, levels=tuple(levels)) for m in models}
    if not fits.get(chosen) or not fits[chosen].fitted_ok:
        reason = fits[chosen].reason if chosen in fits else "not requested"
        fitted = [m for m in fc.MODEL_ORDER if m in fits and fits[m].fitted_ok]
        fallback = fitted[0] if fitted else "naive"
        why += f"; {chosen} cannot be fitted on the full sample ({reason}), so {fallback} is used"
        chosen = fallback
        fits.setdefault(chosen, fc.fit_forecast(y, chosen, horizon, levels=tuple(levels)))
    out.update(backtest=bt, summary=summary, chosen=chosen, why=why, fits=fits, min_train=mt)
    return out


def _backtest_results(summary: pd.DataFrame) -> tuple[dict, dict]:
    if summary is None or summary.empty:
        return {}, {}
    s = summary if "model" not in summary.columns else summary.set_index("model")
    scores = {m: {k: _r(s.loc[m, k]) for k in ("n_forecasts", "MASE", "MAPE", "coverage_80", "coverage_95")
                  if k in s.columns} for m in s.index if bool(s.loc[m, "evaluable"])}
    missing = {m: str(s.loc[m, "reason"]) for m in s.index if not bool(s.loc[m, "evaluable"])}
    return scores, missing


def forecast_annual(ctx: Context, flow: str | None = None) -> dict:
    """Forecast calendar years from the run of consecutive years that ends with the latest one."""
    p = ctx.params
    flow = flow or p.flow
    df = annual(ctx, flow=flow)
    y_all = as_series(df)
    out: dict = {"flow": flow, "annual": df}
    if len(y_all) < 2:
        out.update(ok=False, reason=f"{len(y_all)} calendar-year value(s) of {p.entity} {flow} in "
                                    f"{p.start_year}-{p.end_year}: nothing to forecast from")
        return out
    y = recent_gapfree(y_all)
    if int(y.index[-1]) < p.end_year - 1:
        out.update(ok=False, reason=f"the latest calendar-year figure of {p.entity} {flow} is for "
                                    f"{int(y.index[-1])}, more than a year before the end of the window "
                                    f"({p.end_year}); a forecast from there would forecast the past")
        return out
    if len(y) < 2:
        out.update(ok=False, reason=f"the latest year ({int(y.index[-1])}) follows a gap, so no model has "
                                    "two consecutive years to start from")
        return out
    dropped = sorted(set(y_all.index) - set(y.index))
    ev = _evaluate_and_forecast(y, p.models, p.horizon, p.levels, p.min_train)
    best = ev["fits"][ev["chosen"]]
    scores, missing = _backtest_results(ev["summary"])
    out.update(ok=True, y=y, dropped=dropped, table=_model_table(ev["fits"], p.levels), **ev)
    res = {"flow": flow, "chosen_model": ev["chosen"], "why": ev["why"], "n_obs": len(y),
           "first_year": int(y.index[0]), "last_year": int(y.index[-1]),
           "dropped_years": [int(v) for v in dropped], "min_train": ev["min_train"],
           "forecast": {str(int(k)): _r(v) for k, v in best.mean.items()},
           "intervals": {str(l): {str(int(k)): [_r(best.intervals[l].loc[k, "lower"]),
                                                _r(best.intervals[l].loc[k, "upper"])]
                                  for k in best.mean.index} for l in p.levels if l in best.intervals},
           "backtest": scores, "not_evaluable": missing,
           "not_fitted": {m: r.reason for m, r in ev["fits"].items() if not r.fitted_ok}}
    out["results"] = res
    out["markdown"] = _forecast_text(ctx, res)
    return out




def monthly_series(ctx: Context) -> tuple[pd.Series, pd.DataFrame]:
    """Monthly values from the release blocks: a block of k months is spread evenly over its months
    (so Jan-Feb stays one release, its two months carry its average). Returns the most recent
    gap-free run and the blocks used."""
    b = ctx.series("block")
    b = b[b["value"].notna() & (b["year"] <= ctx.params.end_year)]
    values = {}
    for r in b.itertuples(index=False):
        for m in range(int(r.start), int(r.end) + 1):
            values[pd.Period(year=m // 12, month=m % 12 + 1, freq="M")] = r.value / r.months
    if not values:
        return pd.Series(dtype=float), b
    s = pd.Series(values).sort_index()
    s.index = pd.PeriodIndex(s.index, freq="M")
    return recent_gapfree(s), b


def forecast_monthly(ctx: Context, horizon: int = 12) -> dict:
    """Backtest monthly models on the recent monthly run, forecast the next `horizon` months and
    add them up into next year's total (point forecast only: intervals of a sum need the joint
    distribution, which these models do not give)."""
    p = ctx.params
    y, blocks = monthly_series(ctx)
    if len(y) < 6:
        return {"ok": False, "reason": f"only {len(y)} consecutive months of data (at least 6 are needed)"}
    ev = _evaluate_and_forecast(y, fc.MONTHLY_MODELS, horizon, p.levels, min_train=13 if len(y) >= 16 else 6)
    best = ev["fits"][ev["chosen"]]
    next_year = int(y.index[-1].year) + 1
    months = [per for per in best.mean.index if per.year == next_year]
    total = float(best.mean.loc[months].sum()) if len(months) == 12 else None
    spread = int((blocks["months"] > 1).sum())
    scores, missing = _backtest_results(ev["summary"])
    res = {"chosen_model": ev["chosen"], "why": ev["why"], "n_months": len(y), "first": str(y.index[0]),
           "last": str(y.index[-1]), "blocks_spread": spread, "next_year": next_year,
           "next_year_total": _r(total), "backtest": scores, "not_evaluable": missing}
    md = (f"The monthly series runs from {y.index[0]} to {y.index[-1]} ({len(y)} months without a gap); "
          f"{spread} releases cover more than one month (January-February always) and are spread evenly over "
          f"their months. Chosen by the one-month-ahead backtest: **{ev['chosen']}** ({ev['why']}).")
    if total is not None:
        md += (f" Adding up its twelve monthly forecasts gives **{money(total, p.currency)}** for {next_year} "
               f"(a point forecast; the monthly intervals are in the table).")
    return {"ok": True, "y": y, "blocks": blocks, "table": _model_table(ev["fits"], p.levels, "month"),
            "results": res, "markdown": md, **ev}


def _forecast_text(ctx: Context, res: dict) -> str:
    p = ctx.params
    subject = f"{p.entity} {res['flow']}" + ("" if p.partner == "World" else f" with {p.partner}")
    parts = [f"The forecasts of {subject} use the {res['n_obs']} consecutive calendar years "
             f"{res['first_year']}-{res['last_year']}"]
    if res["dropped_years"]:
        parts[-1] += (f" (the earlier years {', '.join(map(str, res['dropped_years']))} are left out: a gap "
                      f"separates them from the latest year, and a forecast starts from the present)")
    parts[-1] += "."
    if res["not_fitted"]:
        parts.append("Cannot be fitted on this sample: " + "; ".join(f"{m} ({why})" for m, why in
                                                                    res["not_fitted"].items()) + ".")
    bt = res["backtest"]
    if bt:
        ranked = sorted(bt.items(), key=lambda kv: (kv[1].get("MASE") is None, kv[1].get("MASE") or 0))
        desc = "; ".join(f"{m} {v['MASE']:.2f}" for m, v in ranked if v.get("MASE") is not None)
        parts.append(f"In a rolling-origin backtest of one-year-ahead forecasts (first origin after "
                     f"{res['min_train']} years) the scaled errors (MASE, 1 = naive) are: {desc}.")
    if res["not_evaluable"]:
        parts.append("Not evaluable on this sample: " + "; ".join(f"{m} ({why})" for m, why in
                                                                    res["not_evaluable"].items()) + ".")
    parts.append(f"Model used: **{res['chosen_model']}** ({res['why']}).")
    for year, v in res["forecast"].items():
        iv = [(lvl, res["intervals"][lvl][year]) for lvl in sorted(res["intervals"], key=int)]
        ivs = ", ".join(f"{lvl}% interval {a:,.1f}-{b:,.1f}" for lvl, (a, b) in iv)
        parts.append(f"Forecast for {year}: **{money(v, p.currency)}** ({ivs}).")
    if res["n_obs"] < 8:
        parts.append(f"With only {res['n_obs']} observations these intervals rest on very little history "
                     "and understate the real uncertainty (a regime change such as 2022-2023 is not in them).")
    return " ".join(parts)


def nowcast(ctx: Context, monthly: dict | None = None) -> dict:
    """Full-year estimate of the latest incomplete year from its year-to-date figure, two ways:
    (a) scaled by the share of the same months in the previous full year (Jan-Feb as one block);
    (b) year-to-date plus the monthly model's forecasts of the remaining months."""
    p = ctx.params
    ytd = ctx.series("ytd")
    ytd = ytd[ytd["value"].notna() & ytd["qualifier"].isin(["exact", "about"]) & (ytd["year"] <= p.end_year)]
    if ytd.empty:
        return {"ok": False, "reason": "no year-to-date figures"}
    last = ytd.iloc[-1]
    year = int(last["year"])
    if last["months"] == 12:
        return {"ok": False, "reason": f"the latest year ({year}) is complete: nothing to nowcast"}
    res = {"period": last["period_label"], "ytd_value": _r(last["value"]), "year": year,
           "figures": [last["figure_id"]]}
    lines = [f"The latest release covers **{last['period_label']}** ({money(last['value'], p.currency)})."]
    prev = ytd[(ytd["start"] == last["start"] - 12) & (ytd["end"] == last["end"] - 12)]
    full = ytd[(ytd["start"] == last["start"] - 12) & (ytd["months"] == 12)]
    if len(prev) and len(full):
        share = prev.iloc[0]["value"] / full.iloc[0]["value"]
        res.update(share_prev_year=_r(share), by_share=_r(last["value"] / share))
        res["figures"] += [prev.iloc[0]["figure_id"], full.iloc[0]["figure_id"]]
        lines.append(f"In {year - 1} the same months made up {share * 100:.1f}% of the year, so {year} would "
                     f"come to about **{money(res['by_share'], p.currency)}** if it keeps that pattern.")
    else:
        lines.append(f"No {year - 1} full-year figure is known to scale by.")
    if monthly and monthly.get("ok"):
        best = monthly["fits"][monthly["chosen"]]
        rest = [per for per in best.mean.index if per.year == year]
        if rest and int(monthly["y"].index[-1].month) == int(last["end"]) % 12 + 1:
            add = float(best.mean.loc[rest].sum())
            res.update(by_monthly_model=_r(last["value"] + add), remaining_months=len(rest))
            lines.append(f"Adding the {monthly['chosen']} model's forecasts for the remaining {len(rest)} "
                         f"month(s) gives **{money(res['by_monthly_model'], p.currency)}**.")
    ok = "by_share" in res or "by_monthly_model" in res
    return {"ok": ok, "markdown": " ".join(lines), "results": res,
            "reason": "" if ok else "neither a previous full year nor a monthly forecast to complete the year"}


def block_table(ctx: Context) -> pd.DataFrame:
    """Release blocks of recent years: value and average per month (Jan-Feb is one block)."""
    b = ctx.series("block")
    b = b[b["value"].notna() & (b["year"] >= ctx.params.end_year - 2) & (b["year"] <= ctx.params.end_year)]
    return b.assign(start_month=b["start"] % 12 + 1, end_month=b["end"] % 12 + 1,
                    per_month=b["value"] / b["months"])


# --- showing and saving (side effects) ------------------------------------------------------

def show_markdown(text: str):
    from IPython.display import Markdown, display
    display(Markdown(text))


def show_table(df: pd.DataFrame, source: str | None = None, floatfmt: str = ",.2f"):
    text = markdown_table(df, floatfmt) if len(df) else "_No rows._"
    if source:
        text += f"\n\n<small>{source}</small>"
    show_markdown(text)


def show_figure(ctx: Context, fig, name: str):
    """Display a figure as SVG and save it (SVG + PNG) into the run folder."""
    import matplotlib.pyplot as plt
    from IPython.display import SVG, display
    from xjtrade.report import figures as xf
    xf.save(fig, ctx.out_dir / "figures" if ctx.out_dir else None, name)
    display(SVG(xf.svg_bytes(fig)))
    plt.close(fig)


def save_table(ctx: Context, df: pd.DataFrame, name: str) -> None:
    if ctx.out_dir is None:
        return
    folder = ctx.out_dir / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / f"{name}.csv", index=False, float_format="%.6g", lineterminator="\n")


def save_results(ctx: Context, section: str, results: dict) -> str:
    """Write results/<section>.json (if saving) and return the JSON text (printed by the notebook)."""
    text = json.dumps(results, indent=1, sort_keys=True, default=_r)
    if ctx.out_dir is not None:
        folder = ctx.out_dir / "results"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{section}.json").write_text(text + "\n", encoding="utf-8")
    return text
