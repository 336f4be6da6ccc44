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


def _html_table(df: pd.DataFrame, max_rows: int = 60) -> str:
    shown = df.head(max_rows)
    head = "".join(f"<th>{_esc(c)}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append(f'<td class="num">{"" if pd.isna(v) else f"{v:,.2f}"}</td>')
            else:
                cells.append(f"<td>{_esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>{len(df) - max_rows} more rows in the CSV.</p>" if len(df) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


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
table{border-collapse:collapse;font-size:.85rem;margin:1rem 0}th,td{border:1px solid #ccc;padding:.2rem .4rem}
td.num{text-align:right}figure{margin:1.5rem 0}img{max-width:100%}.note{color:#555;font-size:.85rem}
.failed{color:#a00}"""


def write_edition(out: Path, grid, df: pd.DataFrame, failures: pd.DataFrame) -> Path:
    charts = _charts(out, df) if len(df) else []
    n = df["scenario"].nunique() if len(df) else 0
    ne = df[df["status"] != "ok"] if len(df) else df
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_esc(grid.title)}</title>",
             f"<style>{CSS}</style></head><body><h1>{_esc(grid.title)}</h1>",
             f"<p>Grid <code>{_esc(grid.path.name)}</code>: {len(grid.scenarios)} scenarios varying "
             f"{_esc(', '.join(grid.varying) or 'nothing')}; {n} computed, {len(failures)} failed. "
             f"Downloads: <a href='results.csv'>results.csv</a> (one row per scenario and target), "
             f"<a href='results.parquet'>results.parquet</a>, <a href='failures.csv'>failures.csv</a>, "
             f"<a href='tables/growth.csv'>growth.csv</a>, <a href='tables/outlook.csv'>outlook.csv</a>, "
             f"<a href='tables/accuracy.csv'>accuracy.csv</a>.</p>"]
    if len(failures):
        parts.append(f"<h2 class='failed'>Failed scenarios ({len(failures)})</h2>"
                     + _html_table(failures[["scenario", "label", "error"]]))
    for title, svg, table in charts:
        parts.append(f"<figure><img src='{_esc(svg)}' alt='{_esc(title)}'><figcaption>{_esc(title)} "
                     f"(<a href='{_esc(table)}'>data, CSV</a>)</figcaption></figure>")
    if len(df):
        parts.append("<h2>Growth</h2>" + _html_table(growth_table(df).drop(columns=["scenario"])))
        parts.append("<h2>Outlook</h2>" + _html_table(outlook_table(df[df["status"] == "ok"]).drop(columns=["reason"])))
        if len(ne):
            parts.append("<h2>Not estimable</h2>" + _html_table(ne[["scenario", "label", "target", "reason"]]))
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


def write_meta(out: Path, grid, root: Path) -> Path:
    """edition.json: what the main site's list of editions shows of this comparison (title, kind,
    number of scenarios, what varies, build date as the manifests give it)."""
    import json
    from xjtrade.manifest import build_date, build_time
    path = out / "edition.json"
    path.write_text(json.dumps({"title": grid.title, "kind": grid.kind, "scenarios": len(grid.scenarios),
                                "varying": list(grid.varying), "build_date": build_date(build_time(root))},
                               indent=1) + "\n", encoding="utf-8")
    return path
