"""What the notebooks call: each function takes the run's data and parameters and
returns tables, figures and narrative built from the data (no typed numbers).

The notebooks stay thin: a parameters cell, then one call per section.  Everything
here is computation (tested by pytest); showing and saving are the small helpers at
the bottom.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xjtrade.data import clean, selector

from xjtrade.report import wording
from xjtrade.report.counts import counts

from xjtrade.data.currency import CURRENCIES
from xjtrade.data.selector import main_rows, unique_ids

from xjtrade.stats import growth
from xjtrade.data.processed import load_processed
from xjtrade.report.params import RunParams, check_against_data
from xjtrade.report.results import section_json
from xjtrade.textsafe import md_escape, write_csv



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
        """'Source: ...' naming how many reports and which publishers stand behind the figures.
        Plain text (publishers come from the data): `show_table` escapes it for markdown."""
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

pct = wording.pct   # one formatter for percentages (report.wording)


def money(value: float, currency: str, digits: int = 1) -> str:
    return f"{value:,.{digits}f} {CURRENCIES[currency].unit}"


FIGURE_ID = re.compile(r"^(R\d{4}|D[A-Z]{2}-[0-9a-f]{8})$")
FIGURE_ID_IN_TEXT = re.compile(r"\b(R\d{4}|D[A-Z]{2}-[0-9a-f]{8})\b")


def link_ids(text: str, prefix: str = "../") -> str:
    """Every figure id in a (markdown) text as a link to its row in the published figures table."""
    return FIGURE_ID_IN_TEXT.sub(lambda m: f"[{m.group(1)}]({prefix}figures.html#{m.group(1)})", text)


_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _visible(md: str) -> str:
    """The text a reader sees of a markdown cell: links as their text, escapes dropped."""
    return re.sub(r"\\(.)", r"\1", _LINK.sub(r"\1", md))


def text_of(v) -> str:
    return "–" if v is None else str(v)


def markdown_table(df: pd.DataFrame, floatfmt: str = ",.2f", max_text: int = 160, link_prefix: str | None = None
                   ) -> str:
    """A pipe table; missing values shown as a dash, long texts cut (the full text is in the table's
    CSV), data-derived texts escaped (`md_escape`: they show as text, never markup), figure ids linked to the figures table (`link_prefix`: path of
    the site root from the page), and the separator line's dashes capped so that pandoc gives a
    long text column at most a few times the width of the others."""
    shown = df.copy()
    shown.columns = [wording.column_words(str(c)) for c in shown.columns]
    for col in shown.columns:
        if not pd.api.types.is_numeric_dtype(shown[col]):
            def cell(v):
                if not isinstance(v, str):
                    return v
                v = v if len(v) <= max_text else v[: max_text - 1] + "…"
                if link_prefix is not None and all(FIGURE_ID.match(p.strip()) for p in re.split(r"[,+]", v)
                                                   if p.strip()):
                    return link_ids(v, link_prefix)
                text = md_escape(v)
                return link_ids(text, link_prefix) if link_prefix is not None else text
            shown[col] = shown[col].map(cell)
        if col == "model":
            shown[col] = shown[col].map(lambda v: wording.model_name(v) if isinstance(v, str) else v)
        elif pd.api.types.is_bool_dtype(shown[col]):
            shown[col] = shown[col].map({True: "yes", False: "no"})
    shown = shown.astype(object).where(shown.notna(), None)
    text = shown.to_markdown(index=False, floatfmt=floatfmt, missingval="–")
    lines = text.split("\n")
    cells = lines[1].strip("|").split("|")
    # widths from what the reader sees: a linked id "[R0012](../figures.html#R0012)" counts as 5
    texts = [[_visible(text_of(v)) for v in shown[c]] for c in shown.columns]
    visible = [max([len(_visible(str(c)))] + [len(t) for t in col]) for c, col in zip(shown.columns, texts)]
    # prose (notes, reasons) may take twice the width of a column of ids or numbers
    prose = [wording.is_prose(col) for col in texts]
    capped = []
    for cell, width, long in zip(cells, visible, prose):
        left, right = cell.strip().startswith(":"), cell.strip().endswith(":")
        n = max(3, min(width, 48 if long else 24))
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
    p = ctx.params
    every = ctx.figures[ctx.figures["entity"] == p.entity]
    f = every[every["start"] >= 0]
    rep = f[f["origin"] == "reported"]
    n = counts(ctx.figures, ctx.issues, ctx.sources, entity=p.entity)
    by_kind = (f.groupby(["period_kind", "origin"]).size().unstack(fill_value=0)
               .reindex(columns=["reported", "derived"], fill_value=0))
    from xjtrade.report import figures as xf  # plotting stays out of the compute-only paths (sweeps)
    by_kind = by_kind.reindex([k for k in xf.KIND_ORDER if k in by_kind.index]).reset_index()
    by_kind["period_kind"] = by_kind["period_kind"].map(KIND_WORDS).fillna(by_kind["period_kind"])
    by_kind.columns = ["kind of period", "reported", "derived"]
    first, last = int(rep["year"].min()), int(rep["year"].max())
    pub = rep["published"].replace("", np.nan).dropna()
    undated = n.reported - len(rep)
    md = (f"The data hold **{wording.count(n.reported, 'reported figure')}** on {p.entity} from "
          f"**{wording.count(n.sources_used, 'source')}** published between {pub.min()} and {pub.max()}, "
          f"covering {first} to {last}"
          + (f" ({undated} of them without a period, such as counts of partners, are not charted)" if undated else "")
          + f". The cleaning step added **{wording.count(n.derived, 'derived figure')}** (last year's values "
          f"implied by growth rates, single months and blocks from year-to-date releases, totals from exports "
          f"and imports, partner shares); each names the figures it came from. These counts cover every "
          f"{p.entity} figure; the series analysed in the next chapters use a subset, counted under each "
          f"chart.")
    if p.as_of:
        md += f" Only sources published on or before **{p.as_of}** are used in this edition."
    return {"markdown": md, "by_kind": by_kind, "figures": f, "counts": n,
            "results": {"reported_figures": n.reported, "derived_figures": n.derived, "sources": n.sources_used,
                        "first_year": first, "last_year": last, "last_published": str(pub.max())}}


KIND_WORDS = {"year": "calendar year", "half": "half year", "quarter": "quarter", "ytd": "year to date",
              "month": "single month", "other": "other span"}


def lineage_table(ctx: Context) -> pd.DataFrame:
    """Derived figures used in the analysed annual and monthly series, with the rows behind them."""
    used = pd.concat([ctx.series("year"), ctx.series("block")])
    used = used[(used["origin"] == "derived") & used["value"].notna()].drop_duplicates("figure_id")
    rows = []
    for r in used.itertuples(index=False):
        rows.append({"figure": r.figure_id, "period": r.period_label, f"value ({ctx.unit})": r.value,
                     "method": r.method, "inputs": r.inputs.replace(";", ", "),
                     "reported figures behind it": ", ".join(clean.trace(ctx.figures, r.figure_id))})
    return pd.DataFrame(rows, columns=["figure", "period", f"value ({ctx.unit})", "method", "inputs",
                                       "reported figures behind it"])


def _issue_kind(kind: str) -> str:
    return {"row marked implausible": "figure set aside as implausible",
            "row marked mismatch": "figure set aside: does not match its source",
            "row marked doubt": "figure kept with a doubt"}.get(kind, kind)


def quality_table(ctx: Context, max_note: int | None = None) -> pd.DataFrame:
    """Data-quality issues of the entity. 'figure used' is the figure the selection rule chose for the
    quantity (never a row set aside as implausible or mismatched); 'figure compared' the other one."""
    q = ctx.issues[ctx.issues["entity"] == ctx.params.entity]
    selected = set(ctx.figures.loc[ctx.figures["selected"].astype(bool), "figure_id"])
    order = {"conflict": 0, "warning": 1, "note": 2}
    q = q.assign(_o=q["severity"].map(order)).sort_values(["_o", "issue_id"])
    rows = []
    for r in q.itertuples(index=False):
        flagged = str(r.kind).startswith("row marked")
        sel_id, other = r.selected_id, r.other_id
        if flagged:
            used = sel_id if sel_id in selected else None
            other = None if used else sel_id
        else:
            used = sel_id
        note = str(r.note) if isinstance(r.note, str) else ""
        if max_note and len(note) > max_note:
            note = note[: max_note - 1] + "…"
        rows.append({"issue": r.issue_id, "severity": r.severity, "what": _issue_kind(r.kind),
                     "flow": r.flow if isinstance(r.flow, str) else None, "partner": r.partner,
                     "period": r.period_label, "figure used": used,
                     "figure compared": other if isinstance(other, str) else None,
                     "difference %": r.difference_pct, "note": note})
    return pd.DataFrame(rows, columns=["issue", "severity", "what", "flow", "partner", "period", "figure used",
                                       "figure compared", "difference %", "note"])


def quality_summary(ctx: Context, table: pd.DataFrame) -> dict:
    n = counts(ctx.figures, ctx.issues, ctx.sources, entity=ctx.params.entity)
    md = (f"For {ctx.params.entity} the reconciliation found **{wording.count(n.conflicts, 'conflict')}** "
          f"between sources (figures for the same quantity that disagree beyond the tolerance, or figures set "
          f"aside as implausible), **{wording.count(n.warnings, 'warning')}** (derived values or sums that do "
          f"not match a reported figure) and {wording.count(n.notes, 'note')}. Where sources disagree, the "
          f"selection rule in the methods chapter picks one figure (column 'figure used'); the other stays in "
          f"the data, flagged. Figures set aside as implausible are never used. Notes are shortened here; the "
          f"full table is in the CSV file.")
    return {"markdown": md, "results": {"conflict": n.conflicts, "warning": n.warnings, "note": n.notes}}


# --- titles and notes for the growth chapter ------------------------------------------------

def level_title(ctx: Context, annual_df: pd.DataFrame) -> str:
    """A chart title that states the finding ('... reached 357.3 billion yuan in 2023, 2.4 times its
    2011 level'), not what is drawn."""
    return wording.level_title(annual_df, ctx.subject, ctx.unit)


def shares_title(ctx: Context, shares: pd.DataFrame) -> str:
    last = shares.sort_values("x").groupby("partner").tail(1).sort_values("share", ascending=False)
    if last.empty:
        return f"Partner shares of {ctx.subject}"
    top = last.iloc[0]
    return (f"{top['partner']} took {top['share']:.0f}% of {ctx.subject} in {top['period_label']}")


def currency_note(ctx: Context) -> str:
    return wording.currency_note(ctx.params.currency)


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
        "growth from these values %": yo.values, "growth as reported %": reported_yoy.reindex(y.index).values,
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
             f"({wording.years_text(res['years'])})."]
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

def show_markdown(text: str):
    """Display prose; any Python literal or model identifier that slipped into it is put into words."""
    from IPython.display import Markdown, display
    display(Markdown(wording.prose(text)))


_SAVED: dict[int, tuple[pd.DataFrame, str]] = {}


def csv_link(name: str, prefix: str = "../") -> str:
    """The download link shown under a table on the site (hidden in the PDF)."""
    return (f"::: {{.content-visible when-format=\"html\"}}\n[Full table as CSV]({prefix}tables/{name}.csv)"
            f"{{.csv-link}}\n:::")


def show_table(df: pd.DataFrame, source: str | None = None, floatfmt: str = ",.2f", name: str | None = None,
               max_text: int = 160):
    """Show a table with its source note and, on the site, a link to the full table as CSV (`name`, or
    the name the same table was saved under with `save_table`)."""
    if name is None and id(df) in _SAVED and _SAVED[id(df)][0] is df:
        name = _SAVED[id(df)][1]
    text = markdown_table(df, floatfmt, max_text=max_text, link_prefix="../") if len(df) else "_No rows._"
    if source:
        text += f"\n\n[{link_ids(md_escape(source))}]{{.small}}"  # plain text from the data, small print
    if name and len(df):
        text += "\n\n" + csv_link(name)
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
    write_csv(df, folder / f"{name}.csv", float_format="%.6g")
    _SAVED[id(df)] = (df, name)


def save_results(ctx: Context, section: str, results: dict) -> str:
    """Validate a section against the results contract (`report/results.py`), write
    results/<section>.json (if saving) and return the JSON text."""
    text = section_json(section, json.loads(json.dumps(results, default=_r)))
    if ctx.out_dir is not None:
        folder = ctx.out_dir / "results"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{section}.json").write_text(text + "\n", encoding="utf-8")
    return text
