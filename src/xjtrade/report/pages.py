"""The pages the publish step writes from the run's results: the front page (index.qmd), the methods
chapter (methods.qmd, a template filled with this edition's facts), the sources chapter and the
about page.  Each is a Jinja2 template in `report/templates/` (see `report/templating.py` for the
escaping); the functions here only pick the values out of the results and the manifest.  Nothing
is computed: every number a page prints is a field of the results (`report/results.py`) or of the
build's manifest.
"""

from __future__ import annotations

import re

import pandas as pd

from xjtrade.report import bulletin, forecast_words
from xjtrade.report.render import describe_engine
from xjtrade.report import first_screen, interactive, wording
from xjtrade.report.results import Results
from xjtrade.report.templating import MARKDOWN, Md, markdown
from xjtrade.textsafe import md_escape

MARKDOWN.filters.update({
    "counts_sentence": lambda c: Md(wording.counts_sentence(c.model_copy(update={"scope": md_escape(c.scope)}))),
    "edition_link": lambda link, title: Md(f"[{md_escape(title)}]({link})"),
    "md_g": lambda v: Md(f"{v:g}"),
    "coverage_scope": lambda name: {"all": "over the whole track record", "within year": "within the year",
                                    "years ahead": "for the years ahead"}[name],
})

LANGUAGES = {"en": "English", "zh": "Chinese", "ru": "Russian", "de": "German", "it": "Italian", "ja": "Japanese",
             "ar": "Arabic", "pt": "Portuguese", "tr": "Turkish", "kk": "Kazakh"}
GLOSSARY_TERMS = ["MASE", "nowcast", "pp", "derived value"]


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
        out.append({"year": a.year, "value": a.point, "lo80": a.lo80, "hi80": a.hi80, "lo95": a.lo95, "hi95": a.hi95,
                    "how": (f"nowcast from {o.months_known} published months, {how.get('within year', '')}"
                            if within else f"forecast, {how.get('years ahead', '')}")})
    return out


def outlook_reason(results: Results) -> str:
    o = results.forecast.outlook if results.forecast else None
    return o.reason if o is not None and not o.ok else ""


def chart_title(results: Results) -> str:
    """The headline chart's title (the same words the run wrote on the chart)."""
    s = results.growth.series if results.growth else None
    return "" if s is None else wording.level_title(s.level, s.subject, s.unit)


def summary_page(results: Results, editions: list[dict] | None = None, manifest: dict | None = None) -> str:
    """index.qmd: the main points, the headline chart with its interactive version, the data, the
    chapters, the editions beside this one and the glossary."""
    p, manifest = results.parameters, manifest or {}
    g = results.growth
    series = g.series if g else None
    latest = first_screen.latest_point(results)
    f = results.forecast
    data = results.data
    unit = series.unit if series else _unit(p.currency)
    # a vintage edition is read as of its date: the next release is late only against that date
    words = forecast_words.front_page(f, unit, str(p.as_of) if p.as_of else manifest.get("build_date"))
    o = f.outlook if f else None
    nowcast_year = o.nowcast.year if o is not None and o.ok and o.nowcast is not None else None
    level_q = wording.qualifier_word(latest.qualifier) + " " if latest and wording.qualifier_word(latest.qualifier) else ""
    level_note = " ".join(t for t in (
        wording.capitalised(wording.printed_in_note(latest.printed_in, p.currency)) + " at the year's average rate."
        if latest and wording.printed_in_note(latest.printed_in, p.currency) else "",
        wording.later_years_note(series, unit, nowcast_year) if series else "") if t)
    subj = wording.subject(p.entity, p.flow, p.partner)
    latest_source = manifest.get("data_latest_source") or (data.last_published if data else None)
    alt = first_screen.alt_text(results)
    return markdown(
        "index.qmd.j2", p=p, g=g, series=series, latest=latest, subject=subj,
        unit=unit, words=words, level_q=level_q, level_note=level_note,
        cagr=next((w for w in (g.cagr if g else []) if w.cagr_pct is not None), None),
        outlooks=outlooks(results), outlook=f.outlook if f else None, outlook_reason=outlook_reason(results),
        latest_source=latest_source,
        build_date=manifest.get("build_date"), headline_figure=f.headline_figure if f else None,
        interactive=(interactive.headline_html(p, alt=alt, rows=first_screen.chart_rows(results), unit=unit,
                                               title=chart_title(results))
                     if f and f.interactive else None), chart_title=chart_title(results),
        answer=Md(first_screen.answer(results, unit, subj, latest_source, stale=bool(words["warning"]) and not p.as_of)),
        chart_alt=Md(first_screen.attribute(alt)),
        dataset=data.counts.get("dataset") if data else None, entity=data.counts.get("entity") if data else None,
        editions=editions or [], glossary=wording.glossary_markdown(GLOSSARY_TERMS),
        things=bulletin.things_to_know(results), cited=data.sources_cited if data else 0)


def _unit(currency: str) -> str:
    from xjtrade.data.currency import CURRENCIES
    return CURRENCIES[currency].unit


LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")   # a BCP 47 tag as the sources table holds it
RIGHT_TO_LEFT = {"ar", "fa", "he", "ur", "ug", "ps", "sd", "yi", "dv"}
PAGE_LANGUAGE = "en"


def title_language(code) -> tuple[str | None, str | None]:
    """(lang, dir) for a source's title in another language than the page's: the sources table's code
    when it is a well-formed tag, and "rtl" for a language written right to left; (None, None) for
    English or a code that is not a tag (never put into the page then)."""
    code = str(code or "").strip()
    if not LANGUAGE_TAG.match(code) or code.split("-")[0] == PAGE_LANGUAGE:
        return None, None
    return code, ("rtl" if code.split("-")[0] in RIGHT_TO_LEFT else None)


def sources_page(sources: pd.DataFrame, as_of: str | None, used: set[str] | None = None, counts=None) -> str:
    """The sources chapter.  With `used` (the sources of this edition's figures), those are listed
    first and in both outputs; the rest of the dataset's sources follow on the site only, so the PDF of
    a port's edition does not spend pages on sources it never cites.  `counts` (the whole dataset's
    :class:`~xjtrade.report.results.ScopeCounts`) gives the numbers of sources listed and used."""
    s = sources.sort_values(["published", "source_id"], na_position="first")
    rows = []
    for r in s.to_dict("records"):
        url = str(r["url"])
        # a title in square brackets is the curators' English description of a page whose headline was
        # not available: in the page's language, whatever the source's
        described = str(r["title"]).strip().startswith("[") and str(r["title"]).strip().endswith("]")
        lang, direction = (None, None) if described else title_language(r["language"])
        rows.append({**r, "url": url, "seed": url.split(":", 1)[1] if url.startswith("seed:") else None,
                     "lang": lang, "dir": direction,
                     "language_name": LANGUAGES.get(str(r["language"]), str(r["language"])),
                     "figures": int(r.get("figures", 0) or 0)})
    mine = rows if used is None else [r for r in rows if r["source_id"] in used]
    rest = [] if used is None else [r for r in rows if r["source_id"] not in used]
    return markdown("sources.qmd.j2", counts=counts, as_of=as_of, mine=mine, rest=rest)


# --- the methods chapter ------------------------------------------------------------------------

def methods_page(template: str, results: Results) -> str:
    """methods.qmd (a Jinja2 template) filled with this edition's tables and generated statements."""
    d, f = results.data, results.forecast
    facts = f.evaluation if f else None
    if facts is None:
        raise ValueError("the run's results hold no evaluation facts (forecast section): run the notebooks again")
    unit = results.growth.series.unit if results.growth and results.growth.series else _unit(results.parameters.currency)
    sections = {
        "tolerances": Md(markdown("methods_tolerances.md.j2", rows=d.tolerances if d else [])),
        "models": Md(markdown("methods_models.md.j2", rows=f.models if f else [])),
        "choice": Md(markdown("methods_choice.md.j2", f=facts)),
        "calibration": Md(markdown("methods_calibration.md.j2", f=facts)),
        "evaluation": Md(markdown("methods_evaluation.md.j2", f=facts, unit=unit)),
        "forecast_evaluation": Md(forecast_words.methods_evaluation(results)),
    }
    return MARKDOWN.from_string(template).render(p=results.parameters, f=facts, **sections)


def tolerance_frame(results: Results) -> pd.DataFrame:
    rows = results.data.tolerances if results.data else []
    return pd.DataFrame({"comparison": [t.comparison for t in rows], "tolerance": [t.value for t in rows]})


def rule_scores_frame(results: Results) -> pd.DataFrame:
    """The methods chapter's table of the outlook's scores (the rule's choice at each date), as CSV."""
    o = results.forecast.outlook if results.forecast else None
    rows = [s for s in (o.scores if o else []) if s.model == "outlook" and s.horizon != forecast_words.MID]
    cols = ["used for", "horizon", "years", "forecasts", "outcome years", "MAPE, %", "coverage 80%", "coverage 95%"]
    return pd.DataFrame([[s.use, s.horizon, s.years, s.n, s.outcome_years, s.mape,
                          None if s.coverage80 is None else 100 * s.coverage80,
                          None if s.coverage95 is None else 100 * s.coverage95] for s in rows], columns=cols)


def model_frame(results: Results) -> pd.DataFrame:
    """The forecasting models of the run (the methods chapter's table, as CSV)."""
    rows = results.forecast.models if results.forecast else []
    return pd.DataFrame([{"model": m.label, "what it does": m.description, "used for": m.use,
                          "needs at least (years)": m.min_years} for m in rows],
                        columns=["model", "what it does", "used for", "needs at least (years)"])


# --- the about page -----------------------------------------------------------------------------

HEX = re.compile(r"[0-9a-f]{7,64}")


def _param_value(key: str, v):
    if v is None:
        return "(none)"
    if key == "models":
        return wording.models_text(v)
    if isinstance(v, (list, tuple)):
        return wording.join_words(v)
    return v


def about_tables(manifest: dict) -> dict[str, pd.DataFrame]:
    """The tables of the about page (also published as CSV)."""
    # in the schema's order, whichever way the manifest's dict was made (a cached parameter set comes
    # back with its keys sorted): the same run renders the same page
    from xjtrade.report.params import RunParams
    order = {k: i for i, k in enumerate(RunParams.model_fields)}
    p = dict(sorted(manifest["parameters"].items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    inputs, versions = manifest.get("inputs", {}), manifest.get("versions", {})
    return {
        "about_parameters": pd.DataFrame({"parameter": list(p), "value": [_param_value(k, v) for k, v in p.items()]}),
        "about_build": pd.DataFrame({"item": ["data vintage (as of)", "latest source used", "git commit",
                                              "build time", "site made by", "PDF made by"],
                                     "value": [p.get("as_of") or "all data", manifest.get("data_latest_source", "n/a"),
                                               manifest.get("git_commit", "unknown"), manifest.get("build_time", "n/a"),
                                               describe_engine(manifest.get("render", {}).get("site", {})),
                                               describe_engine(manifest.get("render", {}).get("pdf", {}))]}),
        "about_inputs": pd.DataFrame({"input": sorted(inputs), "sha256": [inputs[k] for k in sorted(inputs)]}),
        "about_versions": pd.DataFrame({"package": sorted(versions), "version": [versions[k] for k in sorted(versions)]}),
    }


def _code(v) -> object:
    """A commit or a hash in code style (only hexadecimal text; anything else stays escaped text)."""
    return Md(f"`{v}`") if isinstance(v, str) and HEX.fullmatch(v) else v


def about_page(manifest: dict, results: Results | None = None, config: dict | None = None) -> str:
    """The about page: the reader sections (how to cite, licence, contact, changes between editions,
    revisions: `bulletin.about_sections`, given the results and the staged _quarto.yml), then how the
    edition was built."""
    t = about_tables(manifest)
    rows = {
        "about_parameters": list(zip(t["about_parameters"]["parameter"], t["about_parameters"]["value"])),
        "about_build": [(k, _code(v) if k == "git commit" else v)
                        for k, v in zip(t["about_build"]["item"], t["about_build"]["value"])],
        "about_inputs": [(k, Md(f"`{v[:16]}…`") if HEX.fullmatch(str(v)) else v)
                         for k, v in zip(t["about_inputs"]["input"], t["about_inputs"]["sha256"])],
        "about_versions": list(zip(t["about_versions"]["package"], t["about_versions"]["version"])),
    }
    return markdown("about.qmd.j2", p=manifest["parameters"], manifest=manifest, tables=rows,
                    bulletin=bulletin.about_sections(results, manifest, config))
