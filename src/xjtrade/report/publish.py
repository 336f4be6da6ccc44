"""The publication step: a run folder -> the published report under reports/<name>/.

`stage_project` assembles a Quarto book project from the repository's `_quarto.yml`
and `methods.qmd`, the run's executed notebooks, and pages generated from the run's
results (summary, sources, about this build).  `publish` renders it (Quarto when
installed, the portable pandoc + typst renderer otherwise) into a staging folder and
swaps it in for the previous report only when everything succeeded.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import fields
from pathlib import Path

import pandas as pd
import yaml

from xjtrade.data.currency import CURRENCIES
from xjtrade.data.selector import main_rows, unique_ids
from xjtrade.project import staged_dir
from xjtrade.data.clean import Tolerance
from xjtrade.project import Project
from xjtrade.textsafe import md_escape, url_problem

PAGES = ("index.qmd", "methods.qmd", "sources.qmd", "about.qmd")


def _fmt(v, digits=1) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def _anchor(source_id: str) -> str:
    """The id of a source on the sources page: its id with anything but letters, digits, . _ -
    replaced (ids are validated so, but the anchor must never end the attribute it sits in)."""
    import re
    return "src-" + re.sub(r"[^A-Za-z0-9._-]", "-", str(source_id))


def _src_link(source_id: str, label: str | None = None) -> str:
    return f"[{md_escape(label or source_id)}](sources.qmd#{_anchor(source_id)})"


def _figure_sources(figures: pd.DataFrame, figure_id: str) -> list[str]:
    from xjtrade.data.clean import trace
    rows = trace(figures, figure_id)
    rep = figures[figures["figure_id"].isin(rows)]
    return unique_ids(rep["source_ids"])


def cite(figures: pd.DataFrame, figure_id: str) -> str:
    """'(R0337; source seed-002)' with links to the sources page."""
    srcs = _figure_sources(figures, figure_id)
    kind = "figure" if figure_id.startswith("R") else "derived figure"
    links = ", ".join(_src_link(s) for s in srcs[:4]) + (" and others" if len(srcs) > 4 else "")
    return f"({kind} {figure_id}; {links})"


def summary_page(results: dict, figures: pd.DataFrame) -> str:
    """index.qmd: key figures and findings, every number generated from the run's results."""
    p = results["parameters"]
    unit = CURRENCIES[p["currency"]].unit
    subject = md_escape(f"{p['entity']} {p['flow']} trade" + ("" if p["partner"] == "World" else f" with {p['partner']}"))
    g, fc, d = results.get("growth", {}), results.get("forecast", {}), results.get("data", {})
    ds = results.get("dataset", {})
    lines = ["---", f"title: {json.dumps(md_escape(p['title']))}", "---", "",
             f"This report follows **{subject}**, in {unit}, over {p['start_year']}-{p['end_year']}, "
             f"from figures published in official releases and news reports"
             + (f" up to **{p['as_of']}**" if p["as_of"] else f" up to {d.get('last_published', 'n/a')}")
             + ". Every number below refers to the figure it comes from; the sources chapter lists every "
               "report with its date and address.", "", "## Key figures", ""]
    if g.get("latest_year"):
        row = figures[main_rows(figures, entity=p["entity"], flow=p["flow"], partner=p["partner"])
                      & (figures["period_kind"] == "year") & (figures["year"] == g["latest_year"])]
        ref = cite(figures, row.iloc[0]["figure_id"]) if len(row) else ""
        yoy = f", {g['latest_yoy_pct']:+.1f}% on the year before" if g.get("latest_yoy_pct") is not None else ""
        lines.append(f"- **{g['latest_year']}**: {_fmt(g['latest_value'])} {unit}{yoy} {ref}.")
    ids = g.get("figures", {})

    def by_year(year) -> str:
        fid = ids.get(str(year))
        return cite(figures, fid) if fid else ""

    for w in g.get("cagr", []):
        if w.get("cagr_pct") is not None:
            lines.append(f"- Compound annual growth {w['start']}-{w['end']}: **{w['cagr_pct']:+.1f}%** a year "
                         f"({_fmt(w['start_value'])} {by_year(w['start'])} to {_fmt(w['end_value'])} {unit} "
                         f"{by_year(w['end'])}).")
    t = g.get("trend", {})
    if "growth_pct" in t:
        lines.append(f"- Log-linear trend growth {t['start']}-{t['end']} ({t['n_obs']} years): "
                     f"**{t['growth_pct']:+.1f}%** a year, 95% interval {t['ci_low']:+.1f}% to {t['ci_high']:+.1f}% "
                     f"(annual figures {', '.join(ids.values())}, listed with their sources in the growth chapter).")
    b = g.get("break", {})
    if b.get("testable"):
        verdict = "a break" if b["p_value"] < 0.05 else "no significant break"
        lines.append(f"- Trend break from {p['break_year']}: {verdict} (F = {b['f_stat']:.2f}, p = {b['p_value']:.3f}); "
                     f"trend growth {b['growth_before_pct']:+.1f}% before, {b['growth_after_pct']:+.1f}% after.")
    main = fc.get("main", {})
    if main.get("forecast"):
        for year, v in main["forecast"].items():
            ivs = "; ".join(f"{lvl}% interval {_fmt(iv[year][0])}-{_fmt(iv[year][1])}"
                            for lvl, iv in sorted(main.get("intervals", {}).items(), key=lambda kv: int(kv[0])))
            base = ", ".join(ids.get(str(y), "") for y in range(main["first_year"], main["last_year"] + 1))
            lines.append(f"- Forecast for {year} ({main['chosen_model']}, from {main['n_obs']} consecutive years, "
                         f"figures {base}): **{_fmt(v)} {unit}** ({ivs}).")
    elif main.get("reason"):
        lines.append(f"- Annual forecast: not made, because {md_escape(main['reason'])}.")
    mo = fc.get("monthly", {})
    if mo.get("next_year_total") is not None:
        lines.append(f"- Monthly model ({mo['chosen_model']}, {mo['n_months']} months to {mo['last']}): "
                     f"**{_fmt(mo['next_year_total'])} {unit}** for {mo['next_year']} (sum of monthly forecasts; "
                     f"the monthly figures and their lineage are in the data chapter).")
    now = fc.get("nowcast", {})
    for key, how in (("by_share", "scaled by last year's pattern"), ("by_monthly_model", "with the monthly model")):
        if now.get(key) is not None:
            refs = "; ".join(cite(figures, f) for f in now.get("figures", [])[:3])
            lines.append(f"- Nowcast of {now['year']} from {now['period']} ({_fmt(now['ytd_value'])} {unit}), "
                         f"{how}: **{_fmt(now[key])} {unit}** {refs}.")
    lines += ["", "## The data", "",
              f"- {ds.get('reported_rows', 'n/a')} reported figures from {ds.get('sources', 'n/a')} sources, "
              f"{ds.get('derived_rows', 'n/a')} derived figures with their lineage.",
              f"- Data quality: {ds.get('conflicts', 'n/a')} conflicts between sources, {ds.get('warnings', 'n/a')} "
              f"warnings and {ds.get('notes', 'n/a')} notes, all listed in the data chapter.",
              "", "## Chapters", "",
              "The data chapter shows what is known and where sources disagree; the growth chapter measures "
              "growth and tests for a break; the forecasts chapter compares benchmark and statistical models "
              "by backtest. The methods chapter states every rule, and the last chapter records how this "
              "edition was built. The executed notebooks can be downloaded from their chapters."]
    return "\n".join(lines) + "\n"


def sources_page(sources: pd.DataFrame, as_of: str | None) -> str:
    lines = ["---", 'title: "Sources"', "---", "",
             f"{len(sources)} sources are listed, by publication date. Titles in square brackets describe a "
             "page whose headline was not available. Figures: how many reported figures in the data come "
             "from the source" + (f"; only sources published on or before {as_of} were used in this edition"
                                  if as_of else "") + ".", ""]
    s = sources.sort_values(["published", "source_id"], na_position="first")
    for r in s.itertuples(index=False):
        url = str(r.url)
        if url.startswith("seed:"):
            where = f"seed article {md_escape(url.split(':', 1)[1])}"
        elif url_problem(url) is None:  # checked again here: only a plain http(s) URL becomes a link
            where = f"<{url}>"
        else:
            where = md_escape(url)
        date = md_escape(r.published or "date unknown")
        inferred = " (date inferred)" if r.date_inferred == "yes" else ""
        lines.append(f"- []{{#{_anchor(r.source_id)}}}**{md_escape(r.title)}**. {md_escape(r.publisher)}, "
                     f"{date}{inferred}; language {md_escape(r.language)}; {int(r.figures)} figure(s). {where} "
                     f"\\[{md_escape(r.source_id)}\\]")
    return "\n".join(lines) + "\n"


def tolerance_table() -> str:
    tol = Tolerance()
    words = {"same_currency": "two figures in the same currency", "cross_currency":
             "figures in different currencies (annual average rate)", "about": "a figure reported as 'about'",
             "parts": "exports plus imports against the total", "yoy_points": "two growth rates (percentage points)"}
    rows = ["| comparison | tolerance |", "|:--|--:|"]
    for f in fields(tol):
        v = getattr(tol, f.name)
        shown = f"{v:g} points" if f.name == "yoy_points" else f"{v * 100:g}%"
        rows.append(f"| {words[f.name]} | {shown} |")
    return "Tolerances used by the reconciliation:\n\n" + "\n".join(rows)


def about_page(manifest: dict) -> str:
    p = manifest["parameters"]
    lines = ["---", 'title: "About this build"', "---", "",
             "This edition was built from the inputs below; the same inputs give the same report "
             "(the build time is the time of the source commit, not of the machine's clock).", "",
             "## Parameters", "", "| parameter | value |", "|:--|:--|"]
    lines += [f"| {md_escape(k)} | {md_escape(v) if v is not None else '(none)'} |" for k, v in p.items()]
    lines += ["", "## Build", "", "| item | value |", "|:--|:--|",
              f"| data vintage (as of) | {md_escape(p.get('as_of') or 'all data')} |",
              f"| latest source used | {md_escape(manifest.get('data_latest_source', 'n/a'))} |",
              f"| git commit | {md_escape(manifest.get('git_commit', 'unknown'))} |",
              f"| build time | {md_escape(manifest.get('build_time', 'n/a'))} |",
              f"| render engine | {md_escape(manifest.get('render_engine', 'n/a'))} |", "",
              "## Input hashes", "", "| input | sha256 |", "|:--|:--|"]
    lines += [f"| {md_escape(k)} | {md_escape(str(v)[:16])}… |" for k, v in sorted(manifest.get("inputs", {}).items())]
    lines += ["", "## Package versions", "", "| package | version |", "|:--|:--|"]
    lines += [f"| {md_escape(k)} | {md_escape(v)} |" for k, v in sorted(manifest.get("versions", {}).items())]
    return "\n".join(lines) + "\n"


def stage_project(project: Project, run_dir: Path, stage: Path, manifest: dict) -> Path:
    """Assemble the Quarto project for one run into `stage`."""
    run_dir = Path(run_dir)
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    params = results["parameters"]
    config = yaml.safe_load((project.root / "_quarto.yml").read_text(encoding="utf-8"))
    config.setdefault("book", {})["title"] = params["title"]
    if params.get("as_of"):
        config["book"]["subtitle"] = f"{config['book'].get('subtitle', '')} (data as of {params['as_of']})".strip()
    config["book"]["date"] = manifest.get("build_date", config["book"].get("date"))
    stage.mkdir(parents=True, exist_ok=True)
    (stage / "_quarto.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    from xjtrade.data.processed import load_processed
    figures, _, sources = load_processed(run_dir / "data")
    (stage / "index.qmd").write_text(summary_page(results, figures), encoding="utf-8")
    methods = (project.root / "methods.qmd").read_text(encoding="utf-8")
    (stage / "methods.qmd").write_text(methods.replace("{{tolerances}}", tolerance_table()), encoding="utf-8")
    (stage / "sources.qmd").write_text(sources_page(sources, params.get("as_of")), encoding="utf-8")
    (stage / "about.qmd").write_text(about_page(manifest), encoding="utf-8")
    shutil.copytree(run_dir / "notebooks", stage / "notebooks")
    if (run_dir / "figures").exists():
        shutil.copytree(run_dir / "figures", stage / "figures")
    return stage


def planned_engine(engine: str) -> str:
    from xjtrade.report.render import find_quarto
    if engine == "auto":
        return "quarto" if find_quarto() else "portable"
    return engine


def publish(project: Project, run_dir: Path, manifest: dict, engine: str = "auto", log=print) -> Path:
    """Render the run into reports/<name>/ (site/, the PDF, manifest.json, notebooks/), atomically:
    the previous report is replaced only when the whole render succeeded."""
    import tempfile

    from xjtrade.report.render import render_project
    name = Path(run_dir).name
    final = project.reports / name
    manifest = {**manifest, "render_engine": planned_engine(engine)}
    project.reports.mkdir(parents=True, exist_ok=True)
    src = Path(tempfile.mkdtemp(prefix=f".src-{name}-", dir=project.reports))
    try:
        stage_project(project, run_dir, src, manifest)
        with staged_dir(final, "xjtrade render") as out:
            result = render_project(src, out, engine=engine, metadata={"run": name}, log=log)
            (out / "manifest.json").write_text(json.dumps({**manifest, "render_engine": result.engine},
                                                          indent=1, sort_keys=True) + "\n", encoding="utf-8")
            shutil.copytree(Path(run_dir) / "notebooks", out / "notebooks", dirs_exist_ok=True)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    log(f"published {final} ({len(result.pages)} pages, PDF {result.pdf.name if result.pdf else 'none'})")
    return final
