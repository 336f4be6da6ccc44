"""The comparison edition of a sweep: one static HTML page with SVG charts and CSV downloads.

Made on the client after the sweep (this is the only sweep module that imports matplotlib).
Every piece of data text is escaped (`html.escape`); charts are inline-free files under
`charts/`, tables under `tables/` and linked for download.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from xjtrade.textsafe import write_csv

DIMS = ("entity", "partner", "flow", "currency", "models")


def _esc(v) -> str:
    return html.escape("" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v), quote=True)


# reader labels of the machine columns the pages show (the CSV files keep the machine names)
LABELS = {
    "scenario": "scenario", "label": "scenario", "entity": "entity", "partner": "partner", "flow": "flow",
    "currency": "currency", "as_of": "data as of", "models": "models", "n_years": "full years",
    "latest_year": "latest full year", "latest_value": "latest value, bn", "latest_yoy_pct": "growth on the year before, %",
    "cagr_start": "compound growth from", "cagr_end": "to", "cagr_pct": "compound growth, % a year",
    "trend_growth_pct": "trend growth, % a year", "trend_ci_low": "trend 95% interval: low",
    "trend_ci_high": "high", "target": "what", "period": "year", "status": "status", "model": "model",
    "forecast": "central, bn", "lower_80": "80% low", "upper_80": "80% high", "lower_95": "95% low",
    "upper_95": "95% high", "reason": "why not estimable", "error": "error", "actual": "outcome, bn",
    "error_pct": "error, %", "backtest_n": "forecasts scored", "backtest_MASE": "MASE", "backtest_MAPE": "MAPE, %",
    "backtest_coverage_80": "in 80% interval", "backtest_coverage_95": "in 95% interval",
    "forecasts": "forecasts", "coverage80": "in 80% interval, %", "coverage95": "in 95% interval, %",
    "series": "series", "use": "used for", "horizon": "horizon", "vintage": "data as of",
}
# columns holding whole numbers (years, counts): printed without decimals or thousands separators
WHOLE = {"n_years", "latest_year", "cagr_start", "cagr_end", "backtest_n", "forecasts", "months_known", "track_n",
         "scenarios", "n", "outcome_years"}


def _cell(col: str, v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return '<td class="num"></td>'
    if col in WHOLE and isinstance(v, (int, float)):
        return f'<td class="num">{int(v)}</td>'
    if isinstance(v, float):
        return f'<td class="num">{v:,.1f}</td>'
    if isinstance(v, int) and not isinstance(v, bool):
        return f'<td class="num">{v}</td>'
    return f"<td>{_esc(v)}</td>"


def _html_table(df: pd.DataFrame, max_rows: int = 60) -> str:
    """A table for readers: labelled columns, years as years, one decimal, in a box that scrolls on its
    own if it is wider than the page (the page itself never is)."""
    shown = df.head(max_rows)
    head = "".join(f"<th>{_esc(LABELS.get(str(c), str(c).replace('_', ' ')))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        body.append("<tr>" + "".join(_cell(str(c), v) for c, v in zip(shown.columns, row)) + "</tr>")
    more = f"<p class='note'>{len(df) - max_rows} more rows in the CSV.</p>" if len(df) > max_rows else ""
    return (f"<div class='table-box'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"</div>{more}")


def _shown(df: pd.DataFrame, varying=(), drop=("scenario",)) -> pd.DataFrame:
    """The columns a page shows: without the machine ids and without the scenarios' settings that the
    grid does not vary (said once above the tables)."""
    keep = [c for c in df.columns if c not in drop and not (c in DIMS + ("as_of",) and c not in varying)]
    return df[keep]


def _by(df: pd.DataFrame) -> list[str]:
    """The dimensions that differ between scenarios (entity first, then partner, ...)."""
    return [d for d in DIMS if d in df.columns and df[d].nunique() > 1]


def growth_table(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["scenario", "entity", "partner", "flow", "currency", "as_of", "n_years", "latest_year", "latest_value",
            "latest_yoy_pct", "cagr_start", "cagr_end", "cagr_pct", "trend_growth_pct", "trend_ci_low",
            "trend_ci_high"]
    return df.drop_duplicates("scenario").reindex(columns=cols)


def outlook_table(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["scenario", "entity", "partner", "flow", "currency", "as_of", "target", "period", "status", "model",
            "forecast"] + [c for c in df.columns if c.startswith(("lower_", "upper_"))] + ["reason"]
    return df.reindex(columns=cols)


def accuracy_table(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["scenario", "as_of", "entity", "flow", "currency", "target", "period", "model", "forecast", "actual",
            "error_pct", "backtest_n", "backtest_MASE", "backtest_MAPE"] + \
        [c for c in df.columns if c.startswith("backtest_coverage_")]
    ok = df[df["status"] == "ok"] if "status" in df else df
    return ok.reindex(columns=cols)


def _label_of(df: pd.DataFrame, dims: list[str]) -> pd.Series:
    if not dims:
        return df["scenario"].astype(str)
    return df[dims].astype(str).agg(" / ".join, axis=1)


def _charts(out: Path, df: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(title, svg path, table path) of each chart."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    from xjtrade.report import figures as xf

    charts = []
    (out / "charts").mkdir(exist_ok=True)
    (out / "tables").mkdir(exist_ok=True)
    dims = [d for d in _by(df) if d != "flow"]
    hue = "flow" if "flow" in _by(df) else None
    g = growth_table(df)
    write_csv(g, out / "tables" / "growth.csv", float_format="%.6g")
    o = outlook_table(df)
    write_csv(o, out / "tables" / "outlook.csv", float_format="%.6g")
    a = accuracy_table(df)
    write_csv(a, out / "tables" / "accuracy.csv", float_format="%.6g")
    source = "Source: Xinjiang Trade Monitor sweep; one bar per scenario with data."

    for dim in dims[:2]:
        gg = g.dropna(subset=["latest_yoy_pct"]).assign(group=lambda d: d[dim].map(xf.no_math))
        if len(gg):
            fig, ax = plt.subplots(figsize=(xf.WIDTH, max(xf.HEIGHT, 0.35 * gg["group"].nunique() + 1.5)))
            sns.barplot(data=gg, y="group", x="latest_yoy_pct", hue=hue, ax=ax, orient="h")
            ax.axvline(0, color="#333", lw=0.8)
            xf.finish(fig, ax, f"Latest year-on-year growth by {dim}", source, xlabel="growth, %", ylabel=dim)
            charts.append((f"Growth by {dim}", _save(fig, out, f"growth-by-{dim}"), "tables/growth.csv"))
            plt.close(fig)
        oo = o[(o["target"] == "annual") & (o["status"] == "ok")]
        oo = oo[oo["period"] == oo.groupby("scenario")["period"].transform("min")]
        if len(oo):
            oo = oo.assign(group=oo[dim].map(xf.no_math))
            fig, ax = plt.subplots(figsize=(xf.WIDTH, max(xf.HEIGHT, 0.35 * oo["group"].nunique() + 1.5)))
            sns.barplot(data=oo, y="group", x="forecast", hue=hue, ax=ax, orient="h", errorbar=None)
            xf.finish(fig, ax, f"Outlook for the next year by {dim} (point forecast; intervals in the table)", source,
                      xlabel="forecast, billions", ylabel=dim)
            charts.append((f"Outlook by {dim}", _save(fig, out, f"outlook-by-{dim}"), "tables/outlook.csv"))
            plt.close(fig)

    if "as_of" in df and df["as_of"].nunique() > 1:
        acc = a.dropna(subset=["backtest_MASE"]).copy()
        if len(acc):
            acc["vintage"] = pd.to_datetime(acc["as_of"])
            fig, ax = plt.subplots()
            sns.lineplot(data=acc, x="vintage", y="backtest_MASE", hue="target", marker="o", ax=ax)
            ax.axhline(1, color="#333", lw=0.8, ls="--")
            xf.finish(fig, ax, "Backtest accuracy of the chosen model by data vintage",
                      "MASE < 1: better than the naive forecast. Source: Xinjiang Trade Monitor sweep.",
                      ylabel="MASE", xlabel="data as of")
            charts.append(("Backtest accuracy by vintage", _save(fig, out, "accuracy-backtest-by-vintage"),
                           "tables/accuracy.csv"))
            plt.close(fig)
        err = a.dropna(subset=["error_pct"]).copy()
        if len(err):
            err["vintage"] = pd.to_datetime(err["as_of"])
            err["forecast of"] = err["target"] + " " + err["period"].astype(str)
            fig, ax = plt.subplots()
            sns.lineplot(data=err, x="vintage", y="error_pct", hue="forecast of", marker="o", ax=ax)
            ax.axhline(0, color="#333", lw=0.8)
            xf.finish(fig, ax, "Forecast error against the latest figures, by data vintage",
                      "Error = (forecast - latest figure) / latest figure. Source: Xinjiang Trade Monitor sweep.",
                      ylabel="error, %", xlabel="data as of")
            charts.append(("Forecast error by vintage", _save(fig, out, "accuracy-error-by-vintage"),
                           "tables/accuracy.csv"))
            plt.close(fig)
    return charts


def _save(fig, out: Path, name: str) -> str:
    path = out / "charts" / f"{name}.svg"
    fig.savefig(path, format="svg", metadata={"Date": None, "Creator": None})
    return f"charts/{name}.svg"


CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
.table-box{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:.85rem;margin:1rem 0}th,td{border:1px solid #ccc;padding:.2rem .4rem}
th{font-weight:600;text-align:left;vertical-align:bottom}
td.num{text-align:right}figure{margin:1.5rem 0}img{max-width:100%}.note{color:#555;font-size:.85rem}
.failed{color:#a00}"""


def _reason_words(reason: str) -> str:
    """A "not estimable" reason without the series' name it starts with ("no outlook can be given for
    Horgos port total trade: its latest ..." -> "its latest ..."): the row's label names the series."""
    head, sep, rest = str(reason).partition(": ")
    return rest if sep and head.startswith("no outlook can be") else str(reason)


def estimable(df: pd.DataFrame) -> int:
    """Scenarios with at least one estimate (a row with status ok)."""
    return int(df.loc[df["status"] == "ok", "scenario"].nunique()) if len(df) and "status" in df else 0


def _setting_words(col: str, v) -> str:
    from xjtrade.report import wording
    if col == "currency":
        return wording.CURRENCY_WORDS.get(str(v), str(v))
    if col == "models":
        return wording.models_text(m for m in str(v).split(",") if m)
    if col == "as_of":
        return str(v) if v not in ("", None) and not (isinstance(v, float) and pd.isna(v)) else "every release"
    return str(v)


def _constants(df: pd.DataFrame, varying=()) -> str:
    """What every scenario shares, in words ('partner World; currency yuan; data as of every release')."""
    words = []
    for c in DIMS + ("as_of",):
        if c in df.columns and c not in varying and df[c].nunique(dropna=False) == 1:
            words.append(f"{LABELS.get(c, c)} {_setting_words(c, df[c].iloc[0])}")
    return "; ".join(words)


def write_edition(out: Path, grid, df: pd.DataFrame, failures: pd.DataFrame) -> Path:
    charts = _charts(out, df) if len(df) else []
    n = df["scenario"].nunique() if len(df) else 0
    ne = df[df["status"] != "ok"] if len(df) else df
    ok = estimable(df)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_esc(grid.title)}</title>",
             f"<style>{CSS}</style></head><body><h1>{_esc(grid.title)}</h1>",
             f"<p>Grid <code>{_esc(grid.path.name)}</code>: {len(grid.scenarios)} scenarios varying "
             f"{_esc(', '.join(grid.varying) or 'nothing')}; {n} computed, {ok} with an estimate, {len(failures)} "
             f"failed." + (f" Every scenario shares: {_esc(_constants(df, grid.varying))}."
                           if len(df) and _constants(df, grid.varying) else "")
             + " Downloads: <a href='results.csv'>results.csv</a> (one row per scenario and target), "
             "<a href='results.parquet'>results.parquet</a>, <a href='failures.csv'>failures.csv</a>, "
             "<a href='tables/growth.csv'>growth.csv</a>, <a href='tables/outlook.csv'>outlook.csv</a>, "
             "<a href='tables/accuracy.csv'>accuracy.csv</a>.</p>"]
    if n and not ok:
        parts.append(f"<p><strong>Nothing to compare.</strong> None of the {n} scenarios could be estimated, so "
                     f"this page is not a comparison and the editions list does not offer it; each scenario's reason "
                     f"is given once below.</p>")
    if len(failures):
        parts.append(f"<h2 class='failed'>Failed scenarios ({len(failures)})</h2>"
                     + _html_table(failures[["scenario", "label", "error"]]))
    for title, svg, table in charts:
        parts.append(f"<figure><img src='{_esc(svg)}' alt='{_esc(title)}'><figcaption>{_esc(title)} "
                     f"(<a href='{_esc(table)}'>data, CSV</a>)</figcaption></figure>")
    if len(df):
        g = growth_table(df)
        g = g[g["n_years"].fillna(0) > 0] if "n_years" in g else g
        if len(g):
            parts.append("<h2>Growth</h2><p class='note'>From the full-year figures of each series in the "
                         "window.</p>" + _html_table(_shown(g, grid.varying)))
        if ok:
            parts.append("<h2>Outlook</h2>"
                         + _html_table(_shown(outlook_table(df[df["status"] == "ok"]).drop(columns=["reason", "status"]),
                                              grid.varying)))
        if len(ne):
            why = ne.drop_duplicates("scenario").assign(reason=lambda d: d["reason"].map(_reason_words))
            dims = [d for d in grid.varying if d in why.columns] or ["label"]
            parts.append("<h2>Not estimable</h2>" + _html_table(why[dims + ["reason"]]))
    parts.append("</body></html>\n")
    path = out / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_evaluation_page(out: Path, grid, tabs: dict, failed: list) -> Path:
    """The page of an evaluation grid: the models' accuracy and interval coverage by series, use and
    horizon (nominal 80 % and 95 %), and the track record's coverage; every table as CSV."""
    scores, track = tabs["scores"], tabs["track_record"]
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_esc(grid.title)}</title>",
             f"<style>{CSS}</style></head><body><h1>{_esc(grid.title)}</h1>",
             f"<p>Grid <code>{_esc(grid.path.name)}</code>: the pseudo-real-time evaluation of the forecasting "
             f"models for {len(grid.scenarios)} series, each model forecasting, at every release date, the "
             f"figures published later, with only what was published by then. Downloads: "
             f"<a href='evaluation.csv'>evaluation.csv</a> (every forecast), "
             f"<a href='evaluation.parquet'>evaluation.parquet</a>, <a href='scores.csv'>scores.csv</a>, "
             f"<a href='track_record.csv'>track_record.csv</a>, <a href='failures.csv'>failures.csv</a>.</p>"]
    if failed:
        parts.append(f"<h2 class='failed'>Failed vintages ({len(failed)})</h2>"
                     + _html_table(pd.DataFrame(failed)[["scenario", "vintage", "error"]]))
    if len(track):
        cov = (track.groupby(["label", "use"], sort=False)
               .agg(forecasts=("in80", "size"), coverage80=("in80", "mean"), coverage95=("in95", "mean"))
               .reset_index())
        cov[["coverage80", "coverage95"]] *= 100
        parts.append("<h2>Track record: empirical coverage of the chosen models' intervals (%; nominal 80 and 95)"
                     "</h2>" + _html_table(cov.rename(columns={"label": "series"})))
    if len(scores):
        show = scores.drop(columns=["scenario"]).rename(columns={"label": "series"})
        for c in ("coverage80", "coverage95"):
            show[c] = show[c] * 100
        parts.append("<h2>Accuracy by horizon and model</h2><p class='note'>MASE: mean absolute error of the log "
                     "forecast, scaled by the in-sample error of last year's value as the forecast; coverage in %."
                     "</p>" + _html_table(show, max_rows=200))
    parts.append("</body></html>\n")
    path = out / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_meta(out: Path, grid, root: Path, df: pd.DataFrame | None = None) -> Path:
    """edition.json: what the main site's list of editions shows of this comparison (title, kind,
    number of scenarios, what varies, build date as the manifests give it)."""
    import json
    from xjtrade.manifest import build_date, build_time
    path = out / "edition.json"
    path.write_text(json.dumps({"title": grid.title, "kind": grid.kind, "scenarios": len(grid.scenarios),
                                "varying": list(grid.varying), "build_date": build_date(build_time(root)),
                                **({} if df is None else {"estimable": estimable(df)})},
                               indent=1) + "\n", encoding="utf-8")
    return path
