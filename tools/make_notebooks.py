"""Write the three analysis notebooks (source cells only; outputs come from `make notebooks`).

The notebooks are the source of truth once written; this script documents their shape and
rewrites them from scratch when their structure changes:  python tools/make_notebooks.py
With --parameters it only rewrites the `parameters` cell of the existing notebooks from the
schema (xjtrade.report.params.RunParams), keeping every other cell and output.
"""

import sys

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from xjtrade.report.params import parameters_cell

PARAMETERS = parameters_cell()

SETUP = '''#| output: false
from xjtrade.report import chapters as xa
from xjtrade.report import figures as xf

ctx = xa.context_from_namespace(globals())'''


def code(src, tags=None):
    cell = new_code_cell(src)
    if tags:
        cell.metadata["tags"] = tags
    return cell


COMMON = ["entity", "flow", "partner", "currency", "start_year", "end_year", "as_of"]
USES = {
    "data": COMMON,
    "growth": COMMON + ["break_year"],
    "forecast": COMMON + ["horizon", "models", "levels", "min_train"],
}


def notebook(title, intro, cells, uses):
    nb = new_notebook()
    # the run parameters this notebook's results depend on (the build cache keys on them)
    nb.metadata["xjtrade"] = {"parameters": USES[uses]}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(f"# {title}\n\n{intro}"), code(PARAMETERS, ["parameters"]), code(SETUP)] + cells
    return nb


DATA = notebook(
    "Data: coverage, quality and lineage",
    "Which figures the report rests on, where they come from, where sources disagree, and how each "
    "derived figure was computed.",
    [
        code('cov = xa.coverage(ctx)\nxa.show_markdown(cov["markdown"])'),
        new_markdown_cell("## Coverage\n\nEach bar in @fig-coverage is one figure, drawn over the months it "
                          "covers; @tbl-coverage counts them by kind of period."),
        code('#| label: fig-coverage\n#| fig-cap: "Figures by the months they cover and kind of period"\n'
             'fig = xf.coverage_timeline(cov["figures"], f"What is known about {ctx.params.entity}",\n'
             '                           ctx.source_note(cov["figures"].query("origin == \'reported\'")["figure_id"]))\n'
             'xa.show_figure(ctx, fig, "coverage")'),
        code('#| label: tbl-coverage\n#| tbl-cap: "Figures by kind of period"\n'
             'xa.save_table(ctx, cov["by_kind"], "coverage")\n'
             'xa.show_table(cov["by_kind"], "Source: Xinjiang Trade Monitor processed data (figures table).", ",.0f")'),
        new_markdown_cell("## Data quality and conflicts\n\n@tbl-quality lists every disagreement the "
                          "reconciliation found for this entity."),
        code('quality = xa.quality_table(ctx)\nqs = xa.quality_summary(ctx, quality)\nxa.show_markdown(qs["markdown"])'),
        code('#| label: tbl-quality\n#| tbl-cap: "Data-quality issues: conflicts, warnings and notes"\n'
             'xa.save_table(ctx, quality, "quality")\n'
             'xa.show_table(quality, "Source: Xinjiang Trade Monitor reconciliation of the reported figures "\n'
             '              "(ids starting with R are reported figures, with D derived ones; each links to the figures table).",\n'
             '              max_text=90)'),
        new_markdown_cell("## Derived figures and their lineage\n\n@tbl-lineage shows each derived value "
                          "used by the growth and forecast chapters, the method, and the reported rows it "
                          "comes from."),
        code('#| label: tbl-lineage\n#| tbl-cap: "Derived figures used in the analysis, with their inputs"\n'
             'lineage = xa.lineage_table(ctx)\nxa.save_table(ctx, lineage, "lineage")\n'
             'xa.show_table(lineage, "Source: Xinjiang Trade Monitor derivations; every id links to its row in "\n'
             '              "the figures table.")'),
        code('#| include: false\n# NBVAL_CHECK_OUTPUT\nprint(xa.save_results(ctx, "data", {**cov["results"], "quality": qs["results"],\n'
             '                                         "derived_in_use": len(lineage)}))'),
    ], "data")

GROWTH = notebook(
    "Growth",
    "Year-on-year and compound growth, the log-linear trend with a test for a break, the contributions "
    "of exports and imports, partner shares and the comparison with China as a whole.",
    [
        code('g = xa.growth_analysis(ctx)\nxa.show_markdown(g["markdown"])'),
        code('#| label: fig-annual\n#| fig-cap: "Annual values and the log-linear trend"\n'
             'trend = g["trend"].fitted if g["trend"] is not None else None\n'
             'fig = xf.annual_levels(g["annual"], ctx.params.currency, xa.level_title(ctx, g["annual"]),\n'
             '                       ctx.source_note(g["annual"]["figure_id"]), trend=trend)\n'
             'xa.show_figure(ctx, fig, "annual")'),
        code('#| label: tbl-growth\n#| tbl-cap: "Annual values and year-on-year growth"\n'
             'xa.save_table(ctx, g["yoy_table"], "annual_growth")\n'
             'xa.show_table(g["yoy_table"], ctx.source_note(g["annual"]["figure_id"]) + " " + xa.currency_note(ctx))'),
        code('#| label: tbl-cagr\n#| tbl-cap: "Compound annual growth over windows"\n'
             'xa.save_table(ctx, g["cagr"], "cagr")\nxa.show_table(g["cagr"], ctx.source_note(g["annual"]["figure_id"]))'),
        new_markdown_cell("## Exports and imports\n\n@tbl-contrib splits total growth into the part due to "
                          "exports and the part due to imports (percentage points), for every period where "
                          "all three flows are known in both years."),
        code('#| label: tbl-contrib\n#| tbl-cap: "Contributions to total growth, percentage points"\n'
             'contrib = xa.contributions_by_period(ctx)\nxa.save_table(ctx, contrib, "contributions")\n'
             'xa.show_table(contrib.drop(columns=["start", "end", "year"], errors="ignore"),\n'
             '              "Source: Xinjiang Trade Monitor; prior-year values implied by reported growth rates.",\n'
             '              name="contributions")'),
        new_markdown_cell("## Partners"),
        code('shares = xa.partner_shares(ctx)\nxa.save_table(ctx, shares, "partner_shares")\n'
             'main = shares[shares["partner"].isin(["Belt and Road", "Central Asia", "Kazakhstan", "Kyrgyzstan"])]\n'
             'xa.show_markdown("@fig-shares follows the share of the Belt and Road countries and of Central Asia "\n'
             '                 "in the total, for the periods where both are reported." if len(main) else\n'
             '                 f"No partner shares of {ctx.subject} are reported, so there is no partner chart.")'),
        code('#| label: fig-shares\n#| fig-cap: "Partner shares of the total"\n'
             'if len(main):\n'
             '    fig = xf.shares_chart(main, xa.shares_title(ctx, main), ctx.source_note(main["figure_id"]))\n'
             '    xa.show_figure(ctx, fig, "shares")'),
        new_markdown_cell("## Against China as a whole\n\nReleases often say how far regional growth beat the "
                          "national rate; @tbl-national turns those gaps into China's rate."),
        code('#| label: tbl-national\n#| tbl-cap: "Regional and national trade growth"\n'
             'national = xa.national_comparison(ctx)\nxa.save_table(ctx, national, "national")\n'
             'xa.show_table(national, "Source: Xinjiang Trade Monitor; national rates implied by reported gaps.")'),
        code('#| include: false\n# NBVAL_CHECK_OUTPUT\nprint(xa.save_results(ctx, "growth", {**g["results"], "contributions": len(contrib),\n'
             '                                           "national_periods": len(national)}))'),
    ], "growth")

FORECAST = notebook(
    "Forecasts",
    "Benchmarks first (naive, drift, mean growth), then statistical models (log-linear trend, ETS, "
    "ARIMA), compared by a rolling-origin backtest and chosen by it; prediction intervals as fans.",
    [
        code('f = xa.forecast_annual(ctx)\nxa.show_markdown(f["markdown"] if f["ok"] else f"No forecast: {f[\'reason\']}.")'),
        code('#| label: fig-fan\n#| fig-cap: "Forecast of the chosen model with prediction intervals"\n'
             'if f["ok"]:\n'
             '    best = f["fits"][f["chosen"]]\n'
             '    fig = xf.fan_chart(f["y"], best.mean, best.intervals, ctx.params.currency,\n'
             '                       f"{ctx.subject}: forecast", ctx.source_note(f["annual"]["figure_id"]), f["chosen"])\n'
             '    xa.show_figure(ctx, fig, "forecast")'),
        code('#| label: tbl-backtest\n#| tbl-cap: "Rolling-origin backtest, one year ahead"\n'
             'if f["ok"] and f["backtest"] is not None:\n'
             '    xa.save_table(ctx, f["summary"], "backtest")\n'
             '    xa.show_table(f["summary"], "Source: Xinjiang Trade Monitor backtest on the annual series.", ",.3f")\n'
             'else:\n'
             '    xa.show_markdown("_Too few consecutive years for a backtest._")'),
        code('#| label: tbl-forecast\n#| tbl-cap: "Forecasts of every model with prediction intervals"\n'
             'if f["ok"]:\n'
             '    xa.save_table(ctx, f["table"], "forecasts")\n'
             '    xa.show_table(f["table"], ctx.source_note(f["annual"]["figure_id"]))'),
        new_markdown_cell("## Exports and imports"),
        code('flows = {fl: xa.forecast_annual(ctx, flow=fl) for fl in ("exports", "imports") if fl != ctx.params.flow}\n'
             'for fl, r in flows.items():\n'
             '    xa.show_markdown(f"**{fl.capitalize()}.** " + (r["markdown"] if r["ok"] else f"No forecast: {r[\'reason\']}."))'),
        new_markdown_cell("## Within the year\n\nMonthly figures come as year-to-date releases, with January and "
                          "February together; @fig-blocks shows the average month of each release block, and "
                          "@fig-monthly the monthly forecast for the next year."),
        code('#| label: fig-blocks\n#| fig-cap: "Average monthly value by release block"\n'
             'blocks = xa.block_table(ctx)\nxa.save_table(ctx, blocks, "blocks")\n'
             'if len(blocks):\n'
             '    fig = xf.monthly_blocks(blocks, ctx.params.currency, f"{ctx.subject}: months by release block",\n'
             '                            ctx.source_note(blocks["figure_id"]))\n'
             '    xa.show_figure(ctx, fig, "blocks")'),
        code('monthly = xa.forecast_monthly(ctx)\n'
             'xa.show_markdown(monthly["markdown"] if monthly["ok"] else f"No monthly forecast: {monthly[\'reason\']}.")'),
        code('#| label: fig-monthly\n#| fig-cap: "Monthly forecast with prediction intervals"\n'
             'if monthly["ok"]:\n'
             '    best = monthly["fits"][monthly["chosen"]]\n'
             '    fig = xf.fan_chart(monthly["y"], best.mean, best.intervals, ctx.params.currency,\n'
             '                       f"{ctx.subject}: monthly forecast", ctx.source_note(monthly["blocks"]["figure_id"]),\n'
             '                       monthly["chosen"], per="month")\n'
             '    xa.show_figure(ctx, fig, "forecast_monthly")'),
        code('#| label: tbl-monthly-backtest\n#| tbl-cap: "Monthly models: rolling-origin backtest, one month ahead"\n'
             'if monthly["ok"] and monthly["backtest"] is not None:\n'
             '    xa.save_table(ctx, monthly["summary"], "backtest_monthly")\n'
             '    xa.save_table(ctx, monthly["table"], "forecasts_monthly")\n'
             '    xa.show_table(monthly["summary"], "Source: Xinjiang Trade Monitor backtest on the monthly series.", ",.3f")'),
        code('now = xa.nowcast(ctx, monthly)\nxa.show_markdown(now["markdown"] if now["ok"] else f"No nowcast: {now[\'reason\']}.")'),
        new_markdown_cell("## Key results"),
        code('# NBVAL_CHECK_OUTPUT\nprint(xa.save_results(ctx, "forecast", {\n'
             '    "main": f.get("results", {"ok": False, "reason": f.get("reason")}),\n'
             '    "flows": {fl: r.get("results", {"ok": False, "reason": r.get("reason")}) for fl, r in flows.items()},\n'
             '    "monthly": monthly.get("results", {"ok": False, "reason": monthly.get("reason")}),\n'
             '    "nowcast": now.get("results", {"ok": False, "reason": now.get("reason")})}))'),
    ], "forecast")

def rewrite_parameters(path: Path) -> bool:
    """Replace the `parameters` cell of an existing notebook by the generated one; True if it changed."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise SystemExit(f"{path}: expected one cell tagged 'parameters', found {len(cells)}")
    if cells[0].source == PARAMETERS:
        return False
    cells[0].source = PARAMETERS
    nbformat.write(nb, path)
    return True


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1] / "notebooks"
    if "--parameters" in sys.argv[1:]:
        for path in sorted(root.glob("[0-9][0-9]-*.ipynb")):
            print(("rewrote" if rewrite_parameters(path) else "unchanged"), path)
    else:
        for name, nb in [("01-data", DATA), ("02-growth", GROWTH), ("03-forecast", FORECAST)]:
            nbformat.write(nb, root / f"{name}.ipynb")
            print("wrote", root / f"{name}.ipynb")
