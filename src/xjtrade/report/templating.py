"""Jinja2 environments for the published pages (templates in `report/templates/`).

Two environments, both escaping every value a template prints unless it is marked as already safe:

* :data:`HTML` (`*.html.j2`, `*.js.j2`): Jinja2's autoescaping, so titles, publishers, notes and
  URLs from the data are text in the page, never markup;
* :data:`MARKDOWN` (`*.md.j2`, `*.qmd.j2`): pages that pandoc or Quarto turn into HTML and typst.
  Every printed string passes through :func:`xjtrade.textsafe.md_escape` (markdown, raw HTML and
  raw typst are all inert then), numbers print as they are, and only :class:`Md` strings (what the
  filters below build: formatted numbers, links to checked addresses, tables built from escaped
  cells) go through unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from xjtrade.report import wording
from xjtrade.textsafe import md_escape, url_problem

TEMPLATES = Path(__file__).resolve().parent / "templates"


class Md(str):
    """Markdown that is safe as it is (built here from escaped or formatted parts)."""


def md_finalize(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Md):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    return md_escape(value)


def _anchor(source_id: str) -> str:
    """The id of a source on the sources page: its id with anything but letters, digits, . _ -
    replaced (ids are validated so, but the anchor must never end the attribute it sits in)."""
    import re
    return "src-" + re.sub(r"[^A-Za-z0-9._-]", "-", str(source_id))


def md_link(label, target: str) -> Md:
    """[label](target) with the label escaped; `target` is a path the report built (never data)."""
    return Md(f"[{md_escape(label)}]({target})")


def web_link(url: str) -> Md:
    """<url> for a plain http(s) address (checked again here), else the address as text."""
    return Md(f"<{url}>") if url_problem(url) is None else Md(md_escape(url))


def _date(value) -> object:
    """A date as YYYY-MM-DD (unescaped: digits and hyphens only); anything else escaped; None as n/a."""
    import datetime as dt
    import re
    if value is None or value == "":
        return "n/a"
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return Md(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else text


def _md_filters() -> dict:
    return {
        "num": lambda v, digits=1: Md(wording.num(v, digits)),
        "pct": lambda v, digits=1, sign=True: Md(wording.pct(v, digits, sign)),
        "pct_of": lambda v, digits=1: Md(wording.pct(None if v is None else 100 * v, digits, sign=False)),
        "count": lambda n, singular, plural=None: Md(wording.count(n, md_escape(singular),
                                                                    plural and md_escape(plural))),
        "cap": lambda text: wording.capitalised(str(text)),
        "years": lambda years: Md(wording.years_text(years)),
        "words": lambda items: wording.join_words(items),
        "anchor": lambda sid: Md(_anchor(sid)),
        "source_link": lambda sid, label=None: md_link(label or sid, f"sources.qmd#{_anchor(sid)}"),
        "figure_link": lambda fid: Md(wording.figure_link(md_escape(fid))),
        "web_link": web_link,
        "yaml_str": lambda text: Md(json.dumps(md_escape(text), ensure_ascii=False)),
        "date": _date,
        "md": Md,  # for text a template or function here built (never for data)
    }


# comments are {## ... ##}: pandoc's attributes ({#fig-x}) must stay text
MARKDOWN = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False, finalize=md_finalize,
                       comment_start_string="{##", comment_end_string="##}", undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
MARKDOWN.filters.update(_md_filters())

HTML = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html.j2", "html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
HTML.filters.update({"num": wording.num, "anchor": _anchor,
                     "js": lambda v: json.dumps(v, separators=(",", ":"), sort_keys=True)})


def markdown(template: str, **values) -> str:
    return MARKDOWN.get_template(template).render(**values)


def html(template: str, **values) -> str:
    return HTML.get_template(template).render(**values)
