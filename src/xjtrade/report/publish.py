"""The publication step: a run folder -> the published report under reports/<name>/.

`stage_project` assembles a Quarto book project from the repository's `_quarto.yml`
and `methods.qmd`, the run's executed notebooks, and pages generated from the run's
results (summary, sources, about this build).  `publish` renders it (Quarto when
installed, the portable pandoc + typst renderer otherwise) into a staging folder and
swaps it in for the previous report only when everything succeeded.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
from dataclasses import fields
from pathlib import Path

import pandas as pd
import yaml

from xjtrade.data.currency import CURRENCIES
from xjtrade.report.results import GrowthResults, Results, annual_outlook, load_results
from xjtrade.data.selector import main_rows, unique_ids
from xjtrade.project import staged_dir
from xjtrade.data.clean import Tolerance
from xjtrade.project import Project
from xjtrade.report import forecast_words, interactive, wording
from xjtrade.report.editions import editions
from xjtrade.report.html_tables import style_tables
from xjtrade.report.counts import counts
from xjtrade.textsafe import md_escape, url_problem

PAGES = ("index.qmd", "methods.qmd", "sources.qmd", "about.qmd")
READER_CSS = Path(__file__).resolve().parent / "reader.css"


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


def _publisher(sources: pd.DataFrame | None, source_id: str) -> str:
    if sources is None:
        return source_id
    row = sources[sources["source_id"] == source_id]
    return str(row.iloc[0]["publisher"]) if len(row) else source_id


def cite(figures: pd.DataFrame, figure_id: str, sources: pd.DataFrame | None = None) -> str:
    """'(figure R0339, China Xiaokang Net)': the id links to its row in the figures table, the
    publisher to the source; a derived figure names the sources of the figures it comes from."""
    srcs = _figure_sources(figures, figure_id)
    kind = "figure" if figure_id.startswith("R") else "derived figure"
    links = ", ".join(_src_link(s, _publisher(sources, s)) for s in srcs[:3]) + (" and others" if len(srcs) > 3 else "")
    return f"({kind} {wording.figure_link(figure_id)}; {links})"


def _main_history(figures: pd.DataFrame, p: dict) -> pd.DataFrame:
    from xjtrade.data import selector
    s = selector.series(figures, entity=p["entity"], flow=p["flow"], partner=p["partner"], kind="year",
                        currency=p["currency"])
    return s[s["value"].notna()].sort_values("year").reset_index(drop=True)


def estimated_years(figures: pd.DataFrame, p: dict, history: pd.DataFrame, first_outlook_year: int | None = None
                    ) -> pd.DataFrame:
    """Years of the main series with no calendar-year figure but part-year figures, estimated
    (:func:`xjtrade.data.estimates.annual_estimates`), before the outlook's first year."""
    from xjtrade.data.estimates import annual_estimates
    est = annual_estimates(figures, p["entity"], p["flow"], p["partner"], p["currency"])
    est = est[(est["origin"] == "estimated") & ~est["year"].isin(history["year"].astype(int))]
    if first_outlook_year is not None:
        est = est[est["year"] < first_outlook_year]
    if len(history):
        est = est[est["year"] > int(history["year"].min())]
    return est.reset_index(drop=True)


def outlooks(results: Results) -> list[dict]:
    """One outlook per target year (the nowcast of the current year, then the years ahead): year,
    value, 80 % and 95 % intervals, and how it was made."""
    o = results.forecast.outlook if results.forecast else None
    if o is None or not o.ok:
        return []
    how = {c.use: c.label for c in o.choices}
    out = []
    for a in o.annual:
        within = o.months_known and a.year == o.current_year
        out.append({"year": a.year, "value": a.point, "intervals": {80: (a.lo80, a.hi80), 95: (a.lo95, a.hi95)},
                    "how": (f"nowcast from {o.months_known} published months, {how.get('within year', '')}"
                            if within else f"forecast, {how.get('years ahead', '')}")})
    return out


def outlook_reason(results: Results) -> str:
    o = results.forecast.outlook if results.forecast else None
    return o.reason if o is not None and not o.ok else ""


def headline_title(history: pd.DataFrame, subject: str, unit: str) -> str:
    return wording.level_title(history, subject, unit)


def surge_year(history: pd.DataFrame) -> tuple[int, float] | None:
    """The year of fastest growth between consecutive years (for an annotation), if above 20%."""
    h = history.set_index("year")["value"]
    g = {int(y): (h[y] / h[y - 1] - 1) * 100 for y in h.index if y - 1 in h.index and h[y - 1]}
    if not g:
        return None
    year = max(g, key=g.get)
    return (year, g[year]) if g[year] >= 20 else None


def summary_page(results: Results, figures: pd.DataFrame, sources: pd.DataFrame | None = None,
                 issues: pd.DataFrame | None = None, editions: list[dict] | None = None,
                 manifest: dict | None = None, headline_figure: str | None = None) -> str:
    """index.qmd: the main points first (headline chart, one figure per question with its source, one
    outlook per target year), then what the data are, the editions, and a short glossary."""
    p = results.parameters
    unit = CURRENCIES[p["currency"]].unit
    flow = wording.FLOW_WORDS.get(p["flow"], p["flow"])
    subject = f"{p['entity']} {flow}" + ("" if p["partner"] == "World" else f" with {p['partner']}")
    g = results.growth or GrowthResults()
    manifest = manifest or {}
    as_of = p.get("as_of")
    history = _main_history(figures, p)
    esc = wording.md_text
    lines = ["---", f"title: {json.dumps(esc(p['title']))}", "---", ""]
    dated = (f"Data as known on **{as_of}**" if as_of else
             f"Data to the latest source, published **{manifest.get('data_latest_source') or (results.data.last_published if results.data else 'n/a')}**")
    lines += [f"{dated}; edition built {manifest.get('build_date') or 'n/a'}. {esc(wording.capitalised(subject))}, "
              f"in {unit}.", "", "## Main points", ""]
    # level
    points = []
    if g.latest_year:
        fid = g.figures.get(str(g.latest_year))
        ref = cite(figures, fid, sources) if fid else ""
        yoy = f", {wording.pct(g.latest_yoy_pct)} on the year before" if g.latest_yoy_pct is not None else ""
        points.append(f"**Level.** {esc(wording.capitalised(subject))} came to **{_fmt(g.latest_value)} {unit}** "
                      f"in {g.latest_year}{yoy} {ref}.")
    # growth
    t = g.trend
    spans = [w for w in g.cagr if w.cagr_pct is not None]
    if spans:
        w = spans[0]
        grow = (f"**Growth.** From {w.start} to {w.end} it grew by **{wording.pct(w.cagr_pct)} a year** "
                f"on average (compound rate)")
        if t.growth_pct is not None:
            grow += (f"; a trend fitted to the {t.n_obs} years with a full-year figure grows "
                     f"{wording.pct(t.growth_pct)} a year (95% interval {wording.pct(t.ci_low)} to "
                     f"{wording.pct(t.ci_high)})")
        b = g.break_
        if b.testable:
            verdict = "a significant break" if b.p_value < 0.05 else "no significant break"
            grow += (f". From {p['break_year']} the trend shows {verdict} (trend growth "
                     f"{wording.pct(b.growth_before_pct)} before, {wording.pct(b.growth_after_pct)} after)")
        points.append(grow + ". Details and sources in the growth chapter.")
    # outlook: one per target year
    outs = outlooks(results)
    if outs:
        items = [f"{o['year']}: **{_fmt(o['value'])} {unit}** ({o['how']}; 80% interval "
                 f"{_fmt(o['intervals'][80][0])} to {_fmt(o['intervals'][80][1])}, 95% interval "
                 f"{_fmt(o['intervals'][95][0])} to {_fmt(o['intervals'][95][1])})" for o in outs]
        words = forecast_words.front_page(results.forecast, unit, manifest.get("build_date"))
        points.append("**Outlook.** " + "; ".join(items) + ". These are estimates, not published figures; the "
                      "forecasts chapter shows how they are made and how past outlooks fared. " + words["outlook"])
    else:
        reason = outlook_reason(results)
        points.append("**Outlook.** " + (esc(wording.capitalised(reason)) + "." if reason else
                                           "No outlook is given for this choice."))
    fw = forecast_words.front_page(results.forecast, unit, manifest.get("build_date"))
    points += [f"**Next release.** {fw['calendar']}"] if fw["calendar"] else []
    points = ([f"**Warning.** {fw['warning']}"] if fw["warning"] else []) + points
    lines += [f"- {pt}" for pt in points] + [""]
    if headline_figure:
        lines += [f"![{esc(headline_title(history, subject, unit))}. Reported values are filled, values derived "
                  f"from reported figures are open circles, years estimated from part-year figures are open "
                  f"diamonds with their 80% interval, the outlook is dashed with its 80% and 95% intervals (a band "
                  f"reaching above the chart is cut, its top written at the edge).]({headline_figure}){{#fig-headline}}",
                  ""]
        lines += ["::: {.content-visible when-format=\"html\"}", "Interactive version:", "", "```{=html}",
                  interactive.headline_html(results.as_dict()), "```", "", "[Headline series as CSV](tables/headline.csv){.csv-link}",
                  ":::", ""]
    # the data, with labelled counts
    every = counts(figures, issues, sources)
    here = counts(figures, issues, sources, entity=p["entity"])
    used = counts(figures, issues, sources, figure_ids=history["figure_id"], scope="the annual series charted above")
    lines += ["## The data", "",
              f"- {every.sentence()} The sources page lists {wording.count(every.sources_listed, 'source')}.",
              f"- {here.sentence()}",
              f"- The annual series charted above uses {wording.count(used.reported, 'reported figure')} and "
              f"{wording.count(used.derived, 'derived figure')}.",
              "- Every figure id links to its row in the [figures table](figures.html), which links to its "
              "source. The whole dataset can be downloaded as a [data package](data/datapackage.json) "
              "(CSV with a schema, and Parquet).", ""]
    lines += ["## Chapters", "",
              "The data chapter shows what is known and where sources disagree; the growth chapter measures "
              "growth and tests for a break; the forecasts chapter compares simple benchmarks and statistical "
              "models on past forecasts. The methods chapter states every rule, and the last chapter records "
              "how this edition was built.", ""]
    if editions:
        lines += ["## Other editions", "", "Scenario editions and sweep comparisons built beside this one:", "",
                  "| edition | what changes | data as of | built |", "|:--|:--|:--|:--|"]
        for e in editions:
            lines.append(f"| [{esc(e['title'])}]({e['link']}) | {esc(e['changes'])} | "
                         f"{e['as_of'] or 'all data'} | {e['build_date'] or 'n/a'} |")
        lines += ["", "[Editions as CSV](tables/editions.csv){.csv-link}", ""]
    lines += ["## Terms", "", wording.glossary_markdown(["MASE", "nowcast", "pp", "derived value"]), ""]
    return "\n".join(lines) + "\n"


def sources_page(sources: pd.DataFrame, as_of: str | None, used: set[str] | None = None) -> str:
    """The sources chapter.  With `used` (the sources of this edition's figures), those are listed
    first and in both outputs; the rest of the dataset's sources follow on the site only, so the PDF of
    a port's edition does not spend pages on sources it never cites."""
    s = sources.sort_values(["published", "source_id"], na_position="first")
    with_figures = int((s["figures"] > 0).sum()) if "figures" in s else len(s)
    lines = ["---", 'title: "Sources"', "---", "",
             f"{wording.count(len(s), 'source')} are listed, by publication date "
             f"({with_figures} of them supply at least one reported figure"
             + (f"; only sources published on or before {as_of} were used in this edition" if as_of else "")
             + "). Each shows its publisher, date, language and address. Titles in square brackets describe a "
               "page whose headline was not available. Mirrors, reposts and translations say so in the "
               "publisher; where the same figure appears in several sources, the report uses a primary source "
               "with a web address before a mirror or an article without an address.", ""]
    langs = {"en": "English", "zh": "Chinese", "ru": "Russian", "de": "German", "it": "Italian", "ja": "Japanese",
             "ar": "Arabic", "pt": "Portuguese", "tr": "Turkish", "kk": "Kazakh"}
    mine = s if used is None else s[s["source_id"].isin(used)]
    rest = s.iloc[0:0] if used is None else s[~s["source_id"].isin(used)]
    lines += _source_entries(mine, langs)
    if len(rest):
        lines += ["", "::: {.content-visible when-format=\"html\"}",
                  f"The other {wording.count(len(rest), 'source')} of the whole dataset (they supply none of this "
                  "edition's figures):", ""] + _source_entries(rest, langs) + [":::", "",
                  "::: {.content-visible when-format=\"pdf\"}",
                  f"The other {wording.count(len(rest), 'source')} of the whole dataset, which supply none of this "
                  "edition's figures, are listed on the site and in its sources table.", ":::"]
    lines += ["", "::: {.content-visible when-format=\"html\"}",
              "[Sources as CSV](data/sources.csv){.csv-link}", ":::"]
    return "\n".join(lines) + "\n"


def _source_entries(s: pd.DataFrame, langs: dict) -> list[str]:
    lines = []
    for r in s.itertuples(index=False):
        url = str(r.url)
        if url.startswith("seed:"):
            where = f"no web address (seed article {md_escape(url.split(':', 1)[1])})"
        elif url_problem(url) is None:  # checked again here: only a plain http(s) URL becomes a link
            where = f"<{url}>"
        else:
            where = md_escape(url)
        date = md_escape(r.published or "date unknown")
        inferred = " (date inferred)" if r.date_inferred == "yes" else ""
        lang = md_escape(langs.get(str(r.language), str(r.language)))
        lines.append(f"- []{{#{_anchor(r.source_id)}}}**{md_escape(r.title)}**. {md_escape(r.publisher)}, "
                     f"{date}{inferred}; {lang}; {wording.count(int(r.figures), 'figure')}. {where} "
                     f"(id {md_escape(r.source_id)})")
    return lines


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
    return "Tolerances used by the reconciliation:\n\n" + "\n".join(rows + _csv_note("tolerances"))


def _param_value(key: str, v) -> str:
    if v is None:
        return "(none)"
    if key == "models":
        return wording.models_text(v)
    if isinstance(v, (list, tuple)):
        return wording.join_words(v)
    return wording.md_text(v)


def about_tables(manifest: dict) -> dict[str, pd.DataFrame]:
    """The tables of the about page (also published as CSV)."""
    p = manifest["parameters"]
    return {
        "about_parameters": pd.DataFrame({"parameter": list(p), "value": [_param_value(k, v) for k, v in p.items()]}),
        "about_build": pd.DataFrame({"item": ["data vintage (as of)", "latest source used", "git commit",
                                              "build time", "render engine"],
                                     "value": [p.get("as_of") or "all data",
                                               manifest.get("data_latest_source", "n/a"),
                                               manifest.get("git_commit", "unknown"),
                                               manifest.get("build_time", "n/a"),
                                               manifest.get("render_engine", "n/a")]}),
        "about_inputs": pd.DataFrame({"input": sorted(manifest.get("inputs", {})),
                                      "sha256": [manifest["inputs"][k] for k in sorted(manifest.get("inputs", {}))]}),
        "about_versions": pd.DataFrame({"package": sorted(manifest.get("versions", {})),
                                        "version": [manifest["versions"][k] for k in sorted(manifest.get("versions", {}))]}),
    }


def _csv_note(name: str) -> list[str]:
    return ["", "::: {.content-visible when-format=\"html\"}", f"[Full table as CSV](tables/{name}.csv){{.csv-link}}",
            ":::", ""]


def model_frame() -> pd.DataFrame:
    """The forecasting models of the registry (the methods chapter's table and its CSV)."""
    from xjtrade.stats.registry import MODELS
    return pd.DataFrame([{"model": s.label, "what it does": s.description, "used for": s.use,
                          "needs at least (years)": s.min_years} for s in MODELS.values()])


def model_table() -> str:
    """The forecasting models of the registry, as a table for the methods chapter (with its CSV link)."""
    lines = ["| model | what it does | used for | needs at least |", "|---|---|---|--:|"]
    for r in model_frame().itertuples(index=False):
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} years |")
    return "\n".join(lines + _csv_note("models"))


def about_page(manifest: dict) -> str:
    p = manifest["parameters"]
    t = about_tables(manifest)
    lines = ["---", 'title: "About this build"', "---", "",
             f"This edition uses the data as known on **{p.get('as_of') or manifest.get('data_latest_source', 'n/a')}**"
             f"{'' if p.get('as_of') else ' (the latest source)'} and was built on "
             f"**{manifest.get('build_date') or 'n/a'}**. The same inputs give the same report "
             "(the build time is the time of the source commit, not of the machine's clock).", "",
             "## Parameters", "", "| parameter | value |", "|:--|:--|"]
    lines += [f"| {md_escape(k)} | {v} |" for k, v in zip(t["about_parameters"]["parameter"], t["about_parameters"]["value"])]
    lines += _csv_note("about_parameters")
    lines += ["## Build", "", "| item | value |", "|:--|:--|"]
    lines += [f"| {k} | {'`' + str(v) + '`' if k == 'git commit' else md_escape(v)} |"
              for k, v in zip(t["about_build"]["item"], t["about_build"]["value"])]
    lines += _csv_note("about_build")
    lines += ["## Input hashes", "", "| input | sha256 |", "|:--|:--|"]
    lines += [f"| {md_escape(k)} | `{v[:16]}…` |" for k, v in zip(t["about_inputs"]["input"], t["about_inputs"]["sha256"])]
    lines += _csv_note("about_inputs")
    lines += ["## Package versions", "", "| package | version |", "|:--|:--|"]
    lines += [f"| {md_escape(k)} | {md_escape(v)} |" for k, v in zip(t["about_versions"]["package"], t["about_versions"]["version"])]
    lines += _csv_note("about_versions")
    return "\n".join(lines) + "\n"


# Said on the front page only when the engine that makes the site links each notebook from its chapter
# (the portable renderer does; Quarto's HTML book does not).
NOTEBOOK_DOWNLOADS = "The executed notebooks can be downloaded from their chapters."
KEY_RESULTS_TAGS = {"key-results", "results"}


def front_page(text: str, downloads: bool = False) -> str:
    """The summary page with its title as an unnumbered heading (``# Title {.unnumbered}``) instead of
    front matter, so Quarto, like the portable renderer, does not count it as chapter 1."""
    if text.startswith("---\n"):
        end = text.index("\n---\n", 3)
        front = yaml.safe_load(text[4:end]) or {}
        body = text[end + 5:].lstrip("\n")
        title = " ".join(str(front.get("title", "")).split())
        text = (f"# {title} {{.unnumbered}}\n\n" if title else "") + body
    return text.rstrip("\n") + (f"\n\n{NOTEBOOK_DOWNLOADS}\n" if downloads else "\n")


def _is_key_results(cell: dict) -> bool:
    source = "".join(cell.get("source") or [])
    tags = set((cell.get("metadata") or {}).get("tags") or [])
    return cell.get("cell_type") == "code" and ("save_results" in source or bool(tags & KEY_RESULTS_TAGS))


def _visible(cell: dict) -> bool:
    """Does the cell show anything in the book (text, or an output not hidden by ``#| output: false``)?"""
    source = "".join(cell.get("source") or [])
    tags = set((cell.get("metadata") or {}).get("tags") or [])
    if cell.get("cell_type") == "markdown":
        return bool(source.strip())
    if cell.get("cell_type") != "code" or tags & {"parameters", "injected-parameters", "remove-cell"}:
        return False
    options = "\n".join(line for line in source.splitlines() if line.startswith("#|"))
    if re.search(r"^#\|\s*(output|include):\s*false\s*$", options, re.M):
        return False
    return bool(cell.get("outputs"))


def _heading_level(cell: dict) -> int | None:
    """Level of a markdown cell that is a heading and nothing else."""
    source = "".join(cell.get("source") or []).strip()
    m = re.fullmatch(r"(#{1,6})\s+[^\n]+", source)
    return len(m.group(1)) if m and cell.get("cell_type") == "markdown" else None


def stage_notebook(nb: dict) -> dict:
    """A notebook as the book shows it, identical for identical inputs under both engines:

    * papermill's metadata (notebook and cells) and the cells' ``execution`` timestamps removed;
    * "Key results" cells (``save_results`` in the source, or tagged) get ``#| output: false`` and lose
      their outputs (the JSON they print is for nbval and results.json, not the page);
    * a heading cell whose section then shows nothing is dropped (no empty "Key results" heading)."""
    nb = json.loads(json.dumps(nb))
    nb.get("metadata", {}).pop("papermill", None)
    for cell in nb.get("cells", []):
        meta = cell.get("metadata") or {}
        meta.pop("papermill", None)
        meta.pop("execution", None)
        if _is_key_results(cell):
            source = "".join(cell.get("source") or [])
            if not re.search(r"^#\|\s*output:\s*false\s*$", source, re.M):
                source = "#| output: false\n" + source
            cell["source"] = source.splitlines(keepends=True)
            cell["outputs"] = []
    cells = nb.get("cells", [])
    keep = []
    for i, cell in enumerate(cells):
        level = _heading_level(cell)
        if level is not None and level > 1:
            section = []
            for later in cells[i + 1:]:
                other = _heading_level(later)
                if other is not None and other <= level:
                    break
                section.append(later)
            if not any(_visible(c) for c in section):
                continue
        keep.append(cell)
    nb["cells"] = keep
    return nb


def stage_project(project: Project, run_dir: Path, stage: Path, manifest: dict) -> Path:
    """Assemble the Quarto project for one run into `stage` (the same for both render engines but
    for the front page's note on notebook downloads, which only the portable site provides)."""
    run_dir = Path(run_dir)
    results = load_results((run_dir / "results.json").read_text(encoding="utf-8"))
    # the requested parameters (title, name...) win over those the notebooks were run with
    params = {**results.parameters, **manifest.get("parameters", {})}
    results = results.model_copy(update={"parameters": params})
    config = yaml.safe_load((project.root / "_quarto.yml").read_text(encoding="utf-8"))
    config.setdefault("book", {})["title"] = params["title"]
    cut = params.get("as_of") or manifest.get("data_latest_source")
    if cut:
        config["book"]["subtitle"] = f"{config['book'].get('subtitle', '')} (data as of {cut})".strip()
    config["book"]["date"] = manifest.get("build_date", config["book"].get("date"))
    stage.mkdir(parents=True, exist_ok=True)
    (stage / "_quarto.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    from xjtrade.data.processed import load_processed
    figures, issues, sources = load_processed(run_dir / "data")
    (stage / "notebooks").mkdir(exist_ok=True)
    for path in sorted((run_dir / "notebooks").glob("*.ipynb")):
        nb = stage_notebook(json.loads(path.read_text(encoding="utf-8")))
        (stage / "notebooks" / path.name).write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)
                                                     + "\n", encoding="utf-8")
    if (run_dir / "figures").exists():
        shutil.copytree(run_dir / "figures", stage / "figures")
    headline = _headline_figure(figures, results.as_dict(), stage / "figures")
    eds = editions(project, run_dir.name)
    downloads = manifest.get("render_engine") == "portable"
    (stage / "index.qmd").write_text(front_page(summary_page(results, figures, sources, issues, eds, manifest,
                                                             headline), downloads), encoding="utf-8")
    methods = (project.root / "methods.qmd").read_text(encoding="utf-8")
    (stage / "methods.qmd").write_text(methods.replace("{{tolerances}}", tolerance_table()).replace("{{models}}", model_table())
                                       .replace("{{forecast_evaluation}}", forecast_words.methods_evaluation(results)),
                                       encoding="utf-8")
    reported = figures[(figures["origin"] == "reported") & figures["entity"].isin([params["entity"], "China"])]
    used = set(unique_ids(reported["source_ids"]))   # this edition's entity, and China for the comparison
    (stage / "sources.qmd").write_text(sources_page(sources, params.get("as_of"), used), encoding="utf-8")
    (stage / "about.qmd").write_text(about_page(manifest), encoding="utf-8")
    return stage


def _headline_figure(figures: pd.DataFrame, results: dict, folder: Path) -> str | None:
    """figures/headline.svg for the front page; None when there is no annual series to draw."""
    import matplotlib.pyplot as plt

    from xjtrade.report import figures as xf
    p = results["parameters"]
    history = _main_history(figures, p)
    if history.empty:
        return None
    unit = CURRENCIES[p["currency"]].unit
    flow = wording.FLOW_WORDS.get(p["flow"], p["flow"])
    subject = f"{p['entity']} {flow}" + ("" if p["partner"] == "World" else f" with {p['partner']}")
    outlook = annual_outlook(results)
    n = counts(figures, figure_ids=history["figure_id"])
    note = (f"Source: Xinjiang Trade Monitor; {wording.count(n.reported, 'reported figure')} from "
            f"{wording.count(n.sources_used, 'source')}, {wording.count(n.derived, 'derived figure')}"
            + (f"; data as of {p['as_of']}" if p.get("as_of") else "") + ".")
    est = estimated_years(figures, p, history, min(outlook["years"]) if outlook else None)
    fig = xf.headline(history, p["currency"], headline_title(history, subject, unit), note, outlook,
                      events=xf.EVENTS, surge=surge_year(history), estimated=est)
    xf.save(fig, folder, "headline")
    plt.close(fig)
    return "figures/headline.svg"


# --- after rendering: downloads, figures table, styles ------------------------------------------

def figures_page_html(figures: pd.DataFrame, sources: pd.DataFrame, title: str) -> str:
    """figures.html: every figure with an anchor per id, a search box (plain JS), its value, lineage
    and sources (primary sources with an address first), and the other sources that print it."""
    from html import escape

    from xjtrade.data.clean import KEY, trace
    src = sources.set_index("source_id")
    rank = {sid: (0 if str(r.url).startswith("http") and not any(w in f"{r.publisher} {r.title}".lower()
                                                                  for w in ("mirror", "repost", "translat"))
                  else 1 if str(r.url).startswith("http") else 2) for sid, r in src.iterrows()}

    def src_links(ids) -> str:
        ids = sorted(dict.fromkeys(ids), key=lambda s: (rank.get(s, 3), s))
        out = []
        for sid in ids:
            if sid not in src.index:
                out.append(escape(sid))
                continue
            r = src.loc[sid]
            label = escape(f"{r.publisher}, {r.published or 'undated'}")
            out.append(f'<a href="sources.html#src-{escape(sid)}">{label}</a>')
        return "; ".join(out)

    f = figures.copy()
    f["cmpv"] = f["value_cny_bn"].where(f["measure"] == "money", f["value"]).round(4)
    same = f[f["origin"] == "reported"].groupby(KEY + ["cmpv"], dropna=False)["source_ids"].agg(list)
    rows = []
    for r in f.sort_values("figure_id").itertuples(index=False):
        fid = escape(r.figure_id)
        if r.origin == "reported":
            try:
                also = [s for s in unique_ids(same.loc[tuple(getattr(r, k) for k in KEY) + (r.cmpv,)])]
            except (KeyError, TypeError):
                also = []
            srcs = src_links(unique_ids([r.source_ids]) + [s for s in also if s not in str(r.source_ids)])
            lineage = "reported"
        else:
            leaves = trace(figures, r.figure_id)
            srcs = src_links(unique_ids(figures.loc[figures["figure_id"].isin(leaves), "source_ids"]))
            inputs = ", ".join(f'<a href="#{escape(i)}">{escape(i)}</a>' for i in str(r.inputs).split(";") if i)
            lineage = f"{escape(r.method)} from {inputs}"
        value = "" if pd.isna(r.value) else f"{r.value:,.4g} {escape(str(r.unit))}"
        growth = "" if pd.isna(r.yoy_pct) else f"{r.yoy_pct:+.1f}%"
        used = "yes" if r.selected else ("set aside" if not r.usable else "no")
        rows.append(f'<tr id="{fid}"><td><a href="#{fid}">{fid}</a></td><td>{escape(r.entity)}</td>'
                    f"<td>{escape(r.flow)}</td><td>{escape(r.partner)}</td><td>{escape(r.indicator)}</td>"
                    f"<td>{escape(r.period_label)}</td><td class=\"num\">{value}</td><td class=\"num\">{growth}</td>"
                    f"<td>{lineage}</td><td>{used}</td><td>{srcs}</td><td>{escape(str(r.description))}</td></tr>")
    head = ("<tr><th>figure</th><th>entity</th><th>flow</th><th>partner</th><th>indicator</th><th>period</th>"
            "<th>value</th><th>growth</th><th>origin</th><th>used</th><th>sources (primary first)</th>"
            "<th>note</th></tr>")
    script = ("<script>(function(){var box=document.getElementById('figure-search');"
              "var rows=Array.prototype.slice.call(document.querySelectorAll('#figures-table tbody tr'));"
              "var count=document.getElementById('figure-count');"
              "function apply(){var q=box.value.trim().toLowerCase();var n=0;rows.forEach(function(r){"
              "var show=!q||r.textContent.toLowerCase().indexOf(q)>=0;r.hidden=!show;if(show){n++;}});"
              "count.textContent=n+' of '+rows.length+' figures shown';}"
              "box.addEventListener('input',apply);"
              "if(location.hash){var t=document.getElementById(location.hash.slice(1));if(t){t.classList.add('target-row');}}"
              "apply();})();</script>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Figures table – {escape(title)}</title>"
            "<link rel=\"stylesheet\" href=\"site.css\"><link rel=\"stylesheet\" href=\"reader.css\"></head><body>"
            f"<header class=\"site-header\"><a class=\"site-title\" href=\"index.html\">{escape(title)}</a>"
            "<a class=\"pdf-link\" href=\"sources.html\">Sources</a></header>"
            "<main class=\"figures-page\"><h1>Figures table</h1>"
            f"<p>Every figure in the data ({len(f):,} rows: reported figures and figures derived from them), with "
            "its lineage and its sources. Primary sources with a web address are listed before mirrors and "
            "articles without an address. Download: <a class=\"csv-link\" href=\"data/figures.csv\">figures as CSV</a>, "
            "<a href=\"data/figures.parquet\">Parquet</a>, <a href=\"data/datapackage.json\">data package</a>.</p>"
            "<p><label for=\"figure-search\">Search </label><input id=\"figure-search\" type=\"search\" "
            "placeholder=\"id, period, entity, publisher…\"> <span id=\"figure-count\"></span></p>"
            f"<div class=\"table-scroll\"><table id=\"figures-table\"><thead>{head}</thead><tbody>"
            + "\n".join(rows) + "</tbody></table></div>"
            "<p><a class=\"csv-link\" href=\"data/figures.csv\">Full table as CSV</a></p></main>"
            + script + "</body></html>\n")




def finish_site(site: Path, run_dir: Path, results: dict, manifest: dict) -> None:
    """Write what the renderer does not: the reader stylesheet (linked from every page), scroll boxes
    around tables, the tables' CSV files, the data package, the figures table and the interactive chart."""
    from xjtrade.data.processed import load_processed
    from xjtrade.report import downloads
    figures, issues, sources = load_processed(Path(run_dir) / "data")
    p = results["parameters"]
    shutil.copyfile(READER_CSS, site / "reader.css")
    tables = site / "tables"
    if (Path(run_dir) / "tables").exists():
        shutil.copytree(Path(run_dir) / "tables", tables, dirs_exist_ok=True)
    tables.mkdir(exist_ok=True)
    tol = Tolerance()
    pd.DataFrame({"comparison": [f.name for f in fields(tol)], "tolerance": [getattr(tol, f.name) for f in fields(tol)]}
                 ).to_csv(tables / "tolerances.csv", index=False, lineterminator="\n")
    model_frame().to_csv(tables / "models.csv", index=False, lineterminator="\n")
    for name, df in about_tables(manifest).items():
        df.to_csv(tables / f"{name}.csv", index=False, lineterminator="\n")
    hist = _main_history(figures, p)
    outlook = annual_outlook(results)
    est = estimated_years(figures, p, hist, min(outlook["years"]) if outlook else None)
    headline_rows = pd.concat([hist[["year", "value", "origin", "figure_id", "source_ids"]],
                               est[["year", "value", "origin", "lo80", "hi80", "inputs"]]], ignore_index=True)
    headline_rows["year"] = headline_rows["year"].astype(int)
    headline_rows.sort_values("year").rename(columns={"value": f"value ({CURRENCIES[p['currency']].unit})",
                                                      "inputs": "estimated from"}).to_csv(
        tables / "headline.csv", index=False, lineterminator="\n")
    pd.DataFrame(editions_for_csv(manifest.get("_editions", []))).to_csv(tables / "editions.csv", index=False,
                                                                          lineterminator="\n")
    downloads.write_package(site / "data", figures, sources, issues, p["title"], p.get("as_of"),
                            manifest.get("build_date"))
    (site / "figures.html").write_text(figures_page_html(figures, sources, p["title"]), encoding="utf-8")
    interactive.write_assets(site, figures, results)
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        if page.name != "figures.html":
            css = posixpath.relpath("reader.css", posixpath.dirname(page.relative_to(site).as_posix()) or ".")
            html = html.replace("</head>", f'<link rel="stylesheet" href="{css}">\n</head>', 1)
            html = style_tables(html)
        page.write_text(html, encoding="utf-8")


def editions_for_csv(eds: list[dict]) -> list[dict]:
    return [{"edition": e["name"], "title": e["title"], "changes": e["changes"], "as_of": e["as_of"] or "",
             "build_date": e["build_date"] or ""} for e in eds]


def planned_engine(engine: str) -> str:
    from xjtrade.report.render import find_quarto
    if engine == "auto":
        return "quarto" if find_quarto() else "portable"
    return engine


def publish(project: Project, run_dir: Path, manifest: dict, engine: str = "auto", log=print) -> Path:
    """Render the run into reports/<name>/ (site/, the PDF, manifest.json, notebooks/), atomically:
    the previous report is replaced only when the whole render succeeded."""
    import os
    import tempfile

    from xjtrade.report.render import render_project
    name = Path(run_dir).name
    final = project.reports / name
    manifest = {**manifest, "render_engine": planned_engine(engine)}
    project.reports.mkdir(parents=True, exist_ok=True)
    # the owner's pid in the name: a later build removes it only once this process is gone
    src = Path(tempfile.mkdtemp(prefix=f".src-{name}-p{os.getpid()}-", dir=project.reports))
    try:
        stage_project(project, run_dir, src, manifest)
        with staged_dir(final, "xjtrade render") as out:
            result = render_project(src, out, engine=engine, metadata={"run": name}, log=log)
            results = json.loads((Path(run_dir) / "results.json").read_text(encoding="utf-8"))
            finish_site(out / "site", Path(run_dir), results,
                        {**manifest, "_editions": editions(project, name)})
            (out / "manifest.json").write_text(json.dumps({**manifest, "render_engine": result.engine},
                                                          indent=1, sort_keys=True) + "\n", encoding="utf-8")
            shutil.copytree(Path(run_dir) / "notebooks", out / "notebooks", dirs_exist_ok=True)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    log(f"published {final} ({len(result.pages)} pages, PDF {result.pdf.name if result.pdf else 'none'})")
    return final
