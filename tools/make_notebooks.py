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

def setup(chapter):
    """The setup cell; `chapter` names the notebook (the owner of the table files it saves)."""
    return ("#| output: false\nfrom xjtrade.report import chapters as xa\nfrom xjtrade.report import figures as xf\n"
            "from xjtrade.report import alt_text as xt\n\n"
            f"ctx = xa.context_from_namespace(globals(), chapter={chapter!r})")


def code(src, tags=None):
    cell = new_code_cell(src)
    if tags:
        cell.metadata["tags"] = tags
    return cell


COMMON = ["entity", "flow", "partner", "currency", "start_year", "end_year", "as_of"]
USES = {
    "data": COMMON,
    "growth": COMMON + ["break_year"],
    "forecast": COMMON + ["horizon", "models", "min_origins"],
}

# Declared costs (seconds, order of magnitude): the forecast notebook runs the pseudo-real-time evaluation.
EXPECTED_SECONDS = {"forecast": 60}


def notebook(title, intro, cells, uses):
    nb = new_notebook()
    # the run parameters this notebook's results depend on (the build cache keys on them)
    nb.metadata["xjtrade"] = {"parameters": USES[uses]}
    if uses in EXPECTED_SECONDS:   # its cost, so that a build starts the slowest notebook first (report/run.py)
        nb.metadata["xjtrade"]["expected_seconds"] = EXPECTED_SECONDS[uses]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(f"# {title}\n\n{intro}"), code(PARAMETERS, ["parameters"]), code(setup(uses))] + cells
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
             '                           ctx.source_note(cov["figures"].query("origin == \'reported\'")["figure_id"],\n'
             '                                           "fig-coverage", values=False))\n'
             'xa.save_table(ctx, cov["chart"], "coverage_figures")\n'
             'xa.show_figure(ctx, fig, "coverage", data="coverage_figures",\n'
             '               alt=xt.coverage(cov["figures"], ctx.params.entity))'),
        code('#| label: tbl-coverage\n#| tbl-cap: "Figures by kind of period"\n'
             'xa.save_table(ctx, cov["by_kind"], "data_coverage")\n'
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
        code('#| include: false\n# the figures table of the site (every figure, its lineage and sources)\n'
             'from xjtrade.report.catalogue import figure_index\n\n'
             'xa.save_frame(ctx, figure_index(ctx), "figure_index")'),
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
             'fig = xf.annual_levels(g["annual"], ctx.params.currency, xa.level_title(ctx, g["annual_series"]),\n'
             '                       ctx.source_note(g["annual"]["figure_id"], "fig-annual"), trend=trend)\n'
             'xa.show_figure(ctx, fig, "annual", data="annual_growth",\n'
             '               alt=xt.annual(g["annual"], ctx.unit, ctx.subject, g["trend"]))'),
        new_markdown_cell("## Every year with evidence\n\n@fig-estimates adds the years for which only "
                          "year-to-date figures were published, estimated with their intervals, so the series "
                          "runs without a gap; @tbl-estimates lists the figures behind each year."),
        code('#| label: fig-estimates\n#| fig-cap: "Annual totals: reported, derived and estimated years"\n'
             'from xjtrade.report import outlook as xo\n'
             'est = xo.annual_with_estimates(ctx)\n'
             'fig = xo.estimates_chart(est, ctx.params.currency, f"{ctx.subject}, every year with evidence",\n'
             '                         ctx.source_note(est["inputs"].str.split(";").explode(), "fig-estimates"))\n'
             'xa.show_figure(ctx, fig, "annual_estimates", data="annual_estimates", label="fig-estimates",\n'
             '               alt=xt.estimates(est, ctx.unit, ctx.subject))'),
        code('#| label: tbl-estimates\n#| tbl-cap: "Annual totals with their origin, intervals and inputs"\n'
             'xa.save_table(ctx, est, "annual_estimates")\n'
             'xa.show_table(est.assign(inputs=est["inputs"].str.replace(";", ", ")),\n'
             '              "Source: Xinjiang Trade Monitor; estimated years from their latest year-to-date figure.",\n'
             '              name="annual_estimates")'),
        code('#| label: tbl-growth\n#| tbl-cap: "Annual values and year-on-year growth"\n'
             'xa.save_table(ctx, g["yoy_table"], "annual_growth")\n'
             'xa.show_table(g["yoy_table"], ctx.source_note(g["annual"]["figure_id"], "tbl-growth") + " "\n'
             '              + xa.currency_note(ctx))'),
        code('#| label: tbl-cagr\n#| tbl-cap: "Compound annual growth over windows"\n'
             'xa.save_table(ctx, g["cagr"], "cagr")\nxa.show_table(g["cagr"], ctx.source_note(g["annual"]["figure_id"], "tbl-cagr"))'),
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
             '    fig = xf.shares_chart(main, xa.shares_title(ctx, main), ctx.source_note(main["figure_id"], "fig-shares",\n'
             '                                                                  values=False))\n'
             '    xa.show_figure(ctx, fig, "shares", data="partner_shares", alt=xt.shares(main, ctx.subject))'),
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
    "Where the record allows it: one outlook for the coming months, each year-to-date total and the annual "
    "totals, with 80% and 95% "
    "intervals that add up; the current year estimated from its year-to-date releases; the models compared "
    "by what they would have said at every release date since 2019, by months known and year by year; the "
    "track record of the choice rule; the forecasts actually published, from the ledger; and when the next "
    "figures are expected.",
    [
        code('#| output: false\nfrom xjtrade.report import outlook as xo\nfrom xjtrade.report import forecast_words as fw\n'
             'from xjtrade.report import forecast_sections as fs\nfrom xjtrade.report import evaluation_facts as ef\n\n'
             '# the evaluation\'s vintages come from the raw tables in the run\'s data folder (cached under cache_dir)\n'
             'o = xo.outlook(ctx, raw=ctx.raw(), cache_dir=ctx.vintage_cache)\nest = xo.annual_with_estimates(ctx)\nr = o["results"]\n'
             'facts = ef.evaluation_facts(ctx, o)\n\n'
             '# the chapter\'s tables: a section with nothing to show is left out, and the chapter says once what\n'
             '# is missing and why (forecast_sections)\n'
             'comparison = xo.comparison_table(o["frame"])\n'
             'years_within = xo.year_table(o["frame"])\n'
             'years_coverage = xo.year_table(o["frame"], value="coverage80")\n'
             'bench_rows = xo.benchmark_rows(o["frame"])\n'
             'bench = xo.benchmark_table(bench_rows)\n'
             'annual_track = o["track"][o["track"]["target"] != "next release"] if len(o["track"]) else o["track"]\n'
             'coverage = xo.coverage_table(o["track"])\n'
             'track = xo.track_table(o["track"])\n'
             'compared = bool(len(comparison))'),
        code('xa.show_markdown(o["markdown"])'),
        code('#| label: fig-outlook\n#| fig-cap: "Annual totals and the outlook (median) with 80% and 95% intervals"\n'
             'if o["ok"]:\n'
             '    fig = xo.outlook_chart(est, o["annual"], ctx.params.currency, f"{ctx.subject}: outlook",\n'
             '                           ctx.source_note(est["inputs"].str.split(";").explode(), "fig-outlook"))\n'
             '    xa.show_figure(ctx, fig, "outlook", data=["annual_estimates", "outlook"],\n'
             '                   alt=xt.outlook(est, o["annual"], ctx.unit, ctx.subject))'),
        code('#| label: tbl-outlook\n#| tbl-cap: "The outlook: annual and year-to-date totals, median and mean, with intervals"\n'
             'if o["ok"]:\n'
             '    table = xo.outlook_table(r)\n'
             '    xa.save_table(ctx, table, "outlook")\n'
             '    xa.save_table(ctx, o["monthly"], "outlook_monthly")\n'
             '    xa.show_table(table, "Source: Xinjiang Trade Monitor; medians, means and quantiles of simulated monthly paths.",\n'
             '                  also=[("outlook_monthly", "Monthly outlook as CSV")])'),
        new_markdown_cell("## Nowcast of the current year"),
        code('xa.show_markdown(fs.nowcast(r, ctx.unit))'),
        new_markdown_cell("## Models compared by horizon"),
        code('xa.show_markdown(fs.comparison(comparison, facts, ctx.subject, track_shown=bool(len(track))))'),
        code('#| label: tbl-comparison\n#| tbl-cap: "Pseudo-real-time scores of the annual totals by use, horizon and model"\n'
             'if len(o["frame"]):\n'
             '    xa.save_table(ctx, o["frame"], "evaluation")\n'
             'if compared:\n'
             '    xa.save_table(ctx, comparison, "model_comparison")\n'
             '    xa.show_table(comparison, "Source: Xinjiang Trade Monitor pseudo-real-time evaluation.", ",.2f",\n'
             '                  also=[("evaluation", "Every scored forecast as CSV")])'),
        new_markdown_cell("## Year by year"),
        code('xa.show_markdown(fs.years(years_within, years_coverage, compared))'),
        code('#| label: tbl-years-within\n#| tbl-cap: "Within the year: MAPE of the median (%) by months known and target year"\n'
             'if len(years_within):\n'
             '    xa.save_table(ctx, years_within, "scores_by_year")\n'
             '    xa.show_table(years_within, "Source: Xinjiang Trade Monitor pseudo-real-time evaluation.", ",.1f")'),
        code('#| label: tbl-years-coverage\n#| tbl-cap: "Within the year: coverage of the 80% intervals (%) by months known and target year"\n'
             'if len(years_coverage):\n'
             '    xa.save_table(ctx, years_coverage, "coverage_by_year")\n'
             '    xa.show_table(years_coverage, "Source: Xinjiang Trade Monitor pseudo-real-time evaluation.", ",.0f")'),
        new_markdown_cell("## Intervals against a naive benchmark"),
        code('xa.show_markdown(fs.benchmark(bench, compared, bench_rows))'),
        code('#| label: tbl-benchmark\n#| tbl-cap: "Years ahead: interval scores of the outlook and of the benchmark, by horizon, era and target year"\n'
             'if len(bench):\n'
             '    xa.save_table(ctx, bench, "benchmark")\n'
             '    xa.show_table(bench, "Source: Xinjiang Trade Monitor pseudo-real-time evaluation.", ",.2f")'),
        new_markdown_cell("## Track record"),
        code('xa.show_markdown(fs.track(len(annual_track), len(coverage), len(track), compared))'),
        code('#| label: fig-track\n#| fig-cap: "What the outlook said at each release date, against the published totals"\n'
             'if len(annual_track):\n'
             '    fig = xo.track_chart(o["track"], ctx.params.currency, f"{ctx.subject}: track record",\n'
             '                         ctx.source_note(o["track"]["figure"].unique(), "fig-track"))\n'
             '    xa.show_figure(ctx, fig, "track_record", data="track_record", label="fig-track",\n'
             '                   alt=xt.track(o["track"], ctx.unit, ctx.subject))'),
        code('#| label: tbl-interval-coverage\n#| tbl-cap: "Empirical and nominal coverage of the intervals, by horizon"\n'
             'if len(coverage):\n'
             '    xa.save_table(ctx, coverage, "interval_coverage")\n'
             '    xa.show_table(coverage, "Source: Xinjiang Trade Monitor pseudo-real-time evaluation.", ",.1f")'),
        code('#| label: tbl-track\n#| tbl-cap: "The outlook at each release date against what was published later"\n'
             'if len(track):\n'
             '    xa.save_table(ctx, track, "track_record")\n'
             '    xa.show_table(track, "Source: Xinjiang Trade Monitor pseudo-real-time evaluation.", ",.1f",\n'
             '                  also=[] if compared else [("evaluation", "Every scored forecast as CSV")])'),
        new_markdown_cell("## Forecasts actually published"),
        code('xa.show_markdown(fs.ledger(track_shown=bool(len(track))))\n'
             'xa.show_markdown(fw.ledger_sentence(o["forecast"]))'),
        code('#| label: tbl-ledger\n#| tbl-cap: "The ledger: published outlooks of annual totals and their outcomes"\n'
             'ledger_table = xo.ledger_table(o["forecast"].ledger)\nxa.save_table(ctx, ledger_table, "ledger")\n'
             'if len(ledger_table):\n'
             '    xa.show_table(ledger_table, "Source: Xinjiang Trade Monitor forecast ledger.", ",.1f")'),
        new_markdown_cell("## The next release"),
        code('xa.show_markdown(fw.next_release_sentence(o["forecast"]))'),
        code('#| include: false\n# the front page\'s chart (the annual series of the window and the outlook), its\n'
             '# interactive version and its table\n'
             'from xjtrade.report import series as xs\n\n'
             'headline = xs.save_headline(ctx, xa.annual_series(ctx), o["results"])'),
        new_markdown_cell("## Key results"),
        code('# NBVAL_CHECK_OUTPUT\nprint(xa.save_results(ctx, "forecast", {**o["forecast"].model_dump(),\n'
             '                                             "models": [m.model_dump() for m in ef.model_rows()],\n'
             '                                             "evaluation": facts.model_dump(), **headline}))'),
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
