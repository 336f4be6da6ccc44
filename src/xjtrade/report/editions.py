"""The editions built beside a report: scenario builds (``reports/<name>/manifest.json``) and sweep
comparisons (``reports/sweeps/<grid>/edition.json``), as listed on a report's front page.

:func:`editions_key` is the part of the render step's key that depends on them, so a report is
rendered again when an edition beside it appears, goes or changes what the list shows.  Only the
listed fields enter the key (not the whole manifest), so two editions that list each other do not
make each other stale in turn.
"""

from __future__ import annotations

import hashlib
import json

from xjtrade.project import Project
from xjtrade.report import wording

# the columns of the list on the front page and in tables/editions.csv
LISTED = ("name", "title", "changes", "as_of", "build_date", "link")


# the parameters an edition's "what changes" column names, in this order, with reader words
CHANGED = {"entity": "entity", "flow": "flow", "partner": "partner", "currency": "currency",
           "start_year": "from", "end_year": "to", "as_of": "data as of", "horizon": "years ahead"}


def _defaults() -> dict:
    from xjtrade.report.params import RunParams
    return {k: RunParams.model_fields[k].default for k in CHANGED}


def _value_words(key: str, v) -> str:
    if isinstance(v, list):
        return wording.join_words(v)
    if key == "currency":
        return wording.CURRENCY_WORDS.get(str(v), str(v))
    if key == "flow":
        return wording.FLOW_WORDS.get(str(v), str(v))
    if key == "end_year" and v is None:
        return "the latest year"
    if key == "as_of" and v is None:
        return "all data"
    return str(v)


def changes_words(par: dict) -> str:
    """What an edition changes against the default parameters, in words: 'entity Horgos port; from
    2017' ('' for the default choice)."""
    base = _defaults()
    return "; ".join(f"{CHANGED[k]} {_value_words(k, par[k])}" for k in CHANGED
                     if k in par and par[k] != base[k])


def _estimable(man: dict) -> bool:
    """Whether a sweep comparison has anything to compare: edition.json's `estimable` (scenarios with an
    estimate), when the sweep recorded it."""
    n = man.get("estimable")
    return not isinstance(n, int) or n > 0


def editions(project: Project, name: str) -> list[dict]:
    """Scenario editions built beside this one (reports/<other>/manifest.json), with what they change,
    and the sweep comparisons that compare something (one where no scenario could be estimated is not
    listed: its own page says why)."""
    out: list[dict] = []
    if not project.reports.is_dir():
        return out
    for m in sorted(project.reports.glob("*/manifest.json")):
        other = m.parent.name
        if other == name or other.startswith(".") or other == "runs":
            continue
        try:
            man = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        par = man.get("parameters") or {}
        out.append({"name": other, "title": par.get("title") or other,
                    "changes": changes_words(par) or "nothing (the default series)",
                    "as_of": par.get("as_of"), "build_date": man.get("build_date"),
                    "parameters": par, "link": f"../../{other}/site/index.html"})
    for m in sorted((project.reports / "sweeps").glob("*/edition.json")):
        try:   # comparison editions of `xjtrade sweep` (reports/sweeps/<grid>/)
            man = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not _estimable(man):
            continue
        kind = "models evaluated" if man.get("kind") == "evaluation" else "scenarios compared"
        out.append({"name": f"sweeps/{m.parent.name}", "title": str(man.get("title") or m.parent.name),
                    "changes": f"{kind}: {man.get('scenarios', '?')} varying "
                               f"{wording.join_words(man.get('varying') or []) or 'nothing'}",
                    "as_of": None, "build_date": man.get("build_date"), "parameters": {},
                    "link": f"../../sweeps/{m.parent.name}/index.html"})
    return out


def editions_key(project: Project, name: str) -> str:
    """A digest of what the front page of report `name` lists as other editions."""
    listed = [{k: e.get(k) for k in LISTED} for e in editions(project, name)]
    return hashlib.sha256(json.dumps(listed, sort_keys=True, default=str).encode("utf-8")).hexdigest()
