"""The reader notes of a statistical bulletin (as ONS bulletins and Our World in Data pages give them).

* "Things you need to know": a short box on the front page (so in the site and the PDF): not
  official statistics, ports and zones are not parts of the region, figures converted from the
  other currency, rounded ("about") figures, how sources were chosen, revisions, and the dates of
  the latest and the next release.  Its fixed sentences state no result; every number in it is a
  field of the run's results (`things_to_know`).
* The about page's sections: how to cite this edition (its title, name and data date), the
  licence, the contact, the changes between editions (from the forecast ledger's published
  outlooks) and the revisions (`about_sections`).
* The footer of every site page, both engines (`footer_html`, added by `site.finish_site`):
  licence, citation and contact.

The contact is a setting of the project, in `_quarto.yml` under ``xjtrade: contact:`` (name, and an
e-mail or a web address): `contact` reads it and names the key of a bad value.  The licence is the
one the data package declares (:data:`xjtrade.report.downloads.LICENSE`); the code's is the
package's (pyproject.toml).  Formatting only: nothing here computes a result.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass
from typing import Any

from xjtrade.report import ledger, wording
from xjtrade.report.downloads import LICENSE
from xjtrade.report.render.base import RenderError
from xjtrade.report.results import Results
from xjtrade.report.templating import markdown

SETTINGS_KEY = "xjtrade"          # the top-level key of _quarto.yml that holds the reader settings
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
WEB = re.compile(r"https?://[^\s<>\"']+")


class SettingsError(RenderError):
    """A bad reader setting in _quarto.yml (the message names the key): the render stops, as for any
    other bad key of _quarto.yml, and the previous report stays."""


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None = None
    url: str | None = None


def contact(config: dict | None) -> Contact | None:
    """The contact of `_quarto.yml` (``xjtrade: contact: {name, email, url}``), None when unset."""
    block = (config or {}).get(SETTINGS_KEY) or {}
    if not isinstance(block, dict):
        raise SettingsError(f"_quarto.yml: key '{SETTINGS_KEY}' must be a mapping")
    c = block.get("contact")
    if c is None:
        return None
    if isinstance(c, str):
        c = {"name": c}
    if not isinstance(c, dict) or not str(c.get("name") or "").strip():
        raise SettingsError(f"_quarto.yml: key '{SETTINGS_KEY}.contact' needs a 'name' (and an 'email' or a 'url')")
    unknown = set(c) - {"name", "email", "url"}
    if unknown:
        raise SettingsError(f"_quarto.yml: key '{SETTINGS_KEY}.contact.{sorted(unknown)[0]}' is not a contact field "
                            "(name, email, url)")
    email = str(c.get("email") or "").strip() or None
    url = str(c.get("url") or "").strip() or None
    if email and not EMAIL.fullmatch(email):
        raise SettingsError(f"_quarto.yml: key '{SETTINGS_KEY}.contact.email' is not an e-mail address: {email!r}")
    if url and not WEB.fullmatch(url):
        raise SettingsError(f"_quarto.yml: key '{SETTINGS_KEY}.contact.url' must be an http(s) address: {url!r}")
    return Contact(name=" ".join(str(c["name"]).split()), email=email, url=url)


def code_licence() -> str:
    """The code's licence as the installed package declares it (pyproject.toml's `license`)."""
    import importlib.metadata
    try:
        meta = importlib.metadata.metadata("xjtrade")
    except importlib.metadata.PackageNotFoundError:   # pragma: no cover (always installed)
        return "MIT"
    return str(meta["License-Expression"] or meta["License"] or "MIT")   # a missing field reads as None


def data_date(results: Results, manifest: dict) -> str | None:
    """The date of the data: the edition's `as_of`, else the latest source's publication date."""
    p = results.parameters
    return p.as_of.isoformat() if p.as_of else (manifest.get("data_latest_source") or None)


def authors(config: dict | None) -> str:
    a = ((config or {}).get("book") or {}).get("author") or "Xinjiang Trade Monitor contributors"
    return ", ".join(str(x.get("name", x) if isinstance(x, dict) else x) for x in (a if isinstance(a, list) else [a]))


def citation(results: Results, manifest: dict, config: dict | None = None) -> str:
    """How to cite this edition (plain text): authors (year built). Title, edition name, data date,
    build date, and the site's address when `book.site-url` is set."""
    p = results.parameters
    build = manifest.get("build_date") or ""
    year = build[:4] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", build) else "n.d."
    when = data_date(results, manifest)
    url = ((config or {}).get("book") or {}).get("site-url")
    return (f"{authors(config)} ({year}). {p.title}, edition “{p.name}”, data as of {when or 'n/a'}"
            + (f", built {build}" if build else "") + "." + (f" {url}" if url else ""))


def licence_text() -> str:
    return (f"Text, charts and data: {LICENSE['title']} ({LICENSE['name']}); the figures are quoted from the "
            f"cited public sources, which keep their own rights. Code: {code_licence()}.")


def pdf_footer(results: Results, manifest: dict, config: dict | None = None) -> str:
    """The PDF's page footer (plain text): how to cite the edition, and its licence."""
    return f"Cite as: {citation(results, manifest, config)} Licence: {LICENSE['name']}."


# ------------------------------------------------------------------------------ the site footer

def footer_html(results: Results, manifest: dict, config: dict | None = None) -> str:
    """The reader notes of every site page: licence, how to cite, contact (escaped HTML)."""
    e = _html.escape
    who = contact(config)
    parts = [f'<p class="reader-cite"><strong>How to cite:</strong> {e(citation(results, manifest, config))}</p>',
             '<p class="reader-licence"><strong>Licence:</strong> ' + e(licence_text()).replace(
                 e(LICENSE["title"]), f'<a href="{e(LICENSE["path"])}" rel="license">{e(LICENSE["title"])}</a>', 1)
             + '</p>']
    if who is not None:
        link = (f' <a href="mailto:{e(who.email)}">{e(who.email)}</a>' if who.email else "") + (
            f' <a href="{e(who.url)}">{e(who.url)}</a>' if who.url else "")
        parts.append(f'<p class="reader-contact"><strong>Contact:</strong> {e(who.name)}{link}</p>')
    return '<div class="reader-notes" id="reader-notes">\n' + "\n".join(parts) + "\n</div>"


def add_footer(page_html: str, notes: str) -> str:
    """`notes` in a page: inside the portable site's footer, else in a footer of its own at the end of
    the body (Quarto's pages, the figures table)."""
    if 'id="reader-notes"' in page_html:
        return page_html
    m = re.search(r'<footer class="site-footer">', page_html)
    if m:
        end = page_html.index("</footer>", m.end())
        return page_html[:end] + notes + "\n" + page_html[end:]
    block = f'<footer class="reader-footer">\n{notes}\n</footer>\n'
    i = page_html.rfind("</body>")
    return page_html + block if i < 0 else page_html[:i] + block + page_html[i:]


# ------------------------------------------------------------------------------ pages

def _unit(results: Results) -> str:
    from xjtrade.data.currency import CURRENCIES
    s = results.growth.series if results.growth else None
    return s.unit if s else CURRENCIES[results.parameters.currency].unit


OTHER_CURRENCY = {"CNY": ("US dollars", "yuan"), "USD": ("yuan", "US dollars")}


def things_to_know(results: Results) -> str:
    """The front page's box (markdown)."""
    d = results.data
    f = results.forecast
    p = results.parameters
    other, this = OTHER_CURRENCY.get(p.currency, ("another currency", p.currency))
    return markdown("things_to_know.md.j2", p=p, unit=_unit(results), other=other, this=this,
                    cited=d.sources_cited if d else None, rev=d.revisions if d else None,
                    cal=f.calendar if f else None,
                    no_date=f.no_release_date if f else None,
                    converted=results.growth.converted_years if results.growth else [])


def changelog(results: Results) -> list[dict[str, Any]]:
    """The editions of this series the forecast ledger records, oldest first: when written, the data
    date, the kind (published or recovered), the code version, the outlooks and the change of each
    outlook from the edition before (the same target year)."""
    rows = list(results.forecast.ledger) if results.forecast else []
    groups: list[dict[str, Any]] = []
    for r in rows:
        key = (r.written, r.vintage, r.code_version, r.kind)
        if not groups or groups[-1]["key"] != key:
            groups.append({"key": key, "written": r.written, "vintage": r.vintage, "code": r.code_version[:7],
                           "kind": r.kind, "targets": []})
        groups[-1]["targets"].append(r)
    previous: dict[int, Any] = {}
    vintage = None
    for g in groups:
        g["outlooks"] = "; ".join(f"{t.target_year}: {wording.num(t.point)} ({ledger.method_label(t.method)})"
                                  for t in g["targets"])
        changes = [f"{t.target_year}: {wording.num(previous[t.target_year].point)} to {wording.num(t.point)}"
                   for t in g["targets"] if t.target_year in previous]
        words = []
        if vintage is not None and g["vintage"] != vintage:
            words.append(f"data to {g['vintage']} (was {vintage})")
        elif vintage is not None:
            words.append("same data, new code")
        words.append("outlook " + "; ".join(changes) if changes else
                     ("first edition recorded" if vintage is None else "new target years"))
        g["changes"] = ", ".join(words)
        previous.update({t.target_year: t for t in g["targets"]})
        vintage = g["vintage"]
    return groups


def about_sections(results: Results | None, manifest: dict, config: dict | None = None) -> str:
    """The about page's reader sections (markdown): how to cite, licence, contact, changes between
    editions, revisions."""
    if results is None:
        return ""
    d = results.data
    return markdown("bulletin_about.md.j2", cite=citation(results, manifest, config), licence=licence_text(),
                    licence_url=LICENSE["path"], who=contact(config), editions=changelog(results),
                    rev=d.revisions if d else None, unit=_unit(results), subject=_subject(results))


def _subject(results: Results) -> str:
    p = results.parameters
    return wording.subject(p.entity, p.flow, p.partner)


REVISION_COLUMNS = {"period": "period", "first_value": "first printed", "first_id": "first figure",
                    "first_published": "first published", "later_value": "implied later",
                    "later_id": "later figure", "later_published": "later published", "change_pct": "change %"}
CHANGE_COLUMNS = {"written": "written", "vintage": "data to", "kind": "kind", "code": "code",
                  "outlooks": "outlooks", "changes": "changes"}


def revisions_frame(results: Results):
    """The about page's revisions table as the CSV beside it (tables/revisions.csv): the results' rows,
    every column the page shows."""
    import pandas as pd
    d = results.data
    rows = [r.model_dump() for r in d.revisions.rows] if d is not None and d.revisions is not None else []
    return pd.DataFrame(rows, columns=list(REVISION_COLUMNS)).rename(columns=REVISION_COLUMNS)


def changes_frame(results: Results):
    """The about page's table of changes between editions (tables/edition_changes.csv)."""
    import pandas as pd
    rows = [{k: g[k] for k in CHANGE_COLUMNS} for g in changelog(results)]
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS)).rename(columns=CHANGE_COLUMNS)

