"""Render a staged Quarto book project into an HTML site and a PDF.

Output layout, whichever engine::

    <output_dir>/site/index.html            first page of the book
    <output_dir>/site/<chapter>.html        one page per chapter, mirroring the source path
                                            (``notebooks/01-data.ipynb`` -> ``notebooks/01-data.html``)
    <output_dir>/site/<slug>.pdf            copy of the PDF, linked from every page
    <output_dir>/site/site.css              the stylesheet of pages added to the site after rendering
                                            (the figures table): the portable site's own, written by both
    <output_dir>/<slug>.pdf                 the whole book as one PDF (``slug`` = slugified book title)

Engines (:func:`plan_engines` decides, before rendering, with their versions: the About page, the
manifest and the render key record them):

* ``quarto``: the Quarto CLI makes the HTML (``quarto render --to html``, the PDF linked from the
  sidebar).  Quarto >= 1.9.18 also makes the PDF (``--to typst``); an older Quarto cannot render a
  book to typst, so the PDF then comes from the portable typst path and the log says so
  (:mod:`.quarto`).  No PDF is an error.
* ``portable``: pandoc (``pypandoc_binary``) + typst (the ``typst`` package), reading the same
  ``_quarto.yml`` (:mod:`.config`): chapters (:mod:`.book`, notebooks via :mod:`.notebook`),
  numbered figures/tables and cross-references (:mod:`.crossref`), the site (:mod:`.html`, with the
  notebooks to download) and the PDF (:mod:`.typst`).

Both engines' PDFs go through the same pandoc filters (``templates/pdf.lua``: links to pages only
the site has, anchors, table columns; ``templates/pdf-text.lua``: the text, for the glyph check)
and use only the project's fonts (:mod:`.fonts`).  Render warnings are logged and counted.

This package imports neither ``xjtrade.data`` nor ``xjtrade.stats`` nor pandas.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from . import quarto
from .base import PAGE_FOOTER, RenderError, page_name, pandoc_binary, pandoc_version, relurl, slugify, stringify
from .book import Chapter, assign_numbers, read_chapter
from .config import (BookConfig, apply_metadata, creation_timestamp, edition_site_url, load_config, parse_config,
                     resolve_date)
from .crossref import collect_xrefs, number_floats, resolve_xrefs
from .html import CSS_FILE, render_site
from .notebook import notebook_to_markdown, parse_cell_options
from .quarto import find_quarto, parse_version, quarto_command
from .typst import render_pdf

__all__ = [
    "PAGE_FOOTER", "RenderError", "RenderResult", "BookConfig", "Chapter", "render_project", "find_quarto", "quarto_command",
    "parse_version", "parse_config", "load_config", "parse_cell_options", "notebook_to_markdown", "slugify",
    "page_name", "relurl", "stringify", "collect_xrefs", "number_floats", "resolve_xrefs", "creation_timestamp",
    "resolve_date", "EnginePlan", "plan_engines", "engine_key", "warnings_summary", "describe_engine", "edition_site_url",
]

ENGINES = ("auto", "quarto", "portable")


@dataclass(frozen=True)
class EnginePlan:
    """Which engine makes the site and which the PDF, with their versions (decided before rendering:
    the About page and the render key record it)."""

    site: dict  # {"engine": "quarto" | "portable", "version": ...}
    pdf: dict  # the same, and "reason" when the PDF does not come from the site's engine
    quarto: Path | None = None
    how: str = ""  # how quarto was found (or why the portable engine)

    def as_dict(self) -> dict:
        return {"site": dict(self.site), "pdf": dict(self.pdf)}


def portable_version() -> str:
    import importlib.metadata

    try:
        typst_version = importlib.metadata.version("typst")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        typst_version = "?"
    return f"pandoc {pandoc_version(pandoc_binary())} + typst {typst_version}"


def plan_engines(engine: str = "auto", environ: Mapping[str, str] | None = None) -> EnginePlan:
    """The engines a render with ``engine`` ("auto", "quarto" or "portable") will use."""
    if engine not in ENGINES:
        raise RenderError(f"unknown render engine '{engine}' (expected one of {', '.join(ENGINES)})")
    quarto_bin, how = (None, "portable engine requested")
    if engine in ("auto", "quarto"):
        quarto_bin, how = quarto.find_quarto_with_reason(environ)
        if quarto_bin is None and engine == "quarto":
            raise RenderError("render engine 'quarto' requested but quarto was not found (QUARTO_PATH, PATH, quarto_cli)")
    if quarto_bin is None:
        portable = {"engine": "portable", "version": portable_version()}
        return EnginePlan(site=portable, pdf=dict(portable), how=how)
    version, raw_version = quarto.quarto_version(quarto_bin)
    site = {"engine": "quarto", "version": quarto.version_text(version) if version else raw_version or "unknown"}
    if quarto.book_typst_supported(version):
        return EnginePlan(site=site, pdf=dict(site), quarto=quarto_bin, how=how)
    reason = (f"quarto {quarto.version_text(version)} cannot render a book to typst (needs "
              f">= {quarto.version_text(quarto.BOOK_TYPST_MIN)})" if version else
              f"the quarto version could not be read from {raw_version!r}")
    return EnginePlan(site=site, pdf={"engine": "portable", "version": portable_version(), "reason": reason},
                      quarto=quarto_bin, how=how)


def describe_engine(part: Mapping[str, Any]) -> str:
    """One engine of :meth:`EnginePlan.as_dict` in words: "quarto 1.10.18", "portable renderer (pandoc
    3.9 + typst 0.15.2): quarto 1.9.17 cannot render a book to typst (needs >= 1.9.18)"."""
    if not part:
        return "n/a"
    name = "quarto " + str(part.get("version", "")) if part.get("engine") == "quarto" else \
        f"portable renderer ({part.get('version', '?')})"
    return name + (f": {part['reason']}" if part.get("reason") else "")


def engine_key(engine: str = "auto") -> str:
    """What the engines are, for a cache key: a new Quarto (or pandoc, typst) is a reason to render
    again."""
    import json

    plan = plan_engines(engine)
    return json.dumps({**plan.as_dict(), "quarto": str(plan.quarto or "")}, sort_keys=True)


@dataclass
class RenderResult:
    engine: str  # the engine of the HTML site: "quarto" or "portable"
    html_dir: Path
    index_html: Path
    pdf: Path
    pages: list[str]
    figures: int
    tables: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    pdf_engine: str = ""  # "quarto" or "portable"
    engines: dict = field(default_factory=dict)  # EnginePlan.as_dict(): engine and version of site and PDF


@dataclass
class _Book:
    """The portable engine's reading of the project: config (with metadata and date), chapters, xrefs."""

    config: BookConfig
    chapters: list[Chapter]
    xrefs: dict
    pandoc: str
    warnings: list[str]

    @property
    def pdf_name(self) -> str:
        return f"{slugify(self.config.title)}.pdf"


def _read_book(project_dir: Path, config: BookConfig, metadata: Mapping[str, Any] | None) -> _Book:
    pandoc = pandoc_binary()
    warnings = list(config.warnings)
    config = apply_metadata(config, metadata)
    date, date_warning = resolve_date(config.date)
    if date != config.date:
        config = copy.copy(config)
        config.date = date
    if date_warning:
        warnings.append(date_warning)
    def read(path: str) -> tuple[Chapter, list[str]]:   # one pandoc process per chapter, two at a time
        own: list[str] = []
        return read_chapter(project_dir, path, pandoc, own), own

    with ThreadPoolExecutor(max_workers=2) as pool:
        read_all = list(pool.map(read, config.chapters))
    chapters = [ch for ch, _ in read_all]
    warnings += [w for _, own in read_all for w in own]   # in the chapters' order, as before
    assign_numbers(chapters)
    xrefs, xref_warnings = collect_xrefs(chapters)
    return _Book(config, chapters, xrefs, pandoc, warnings + xref_warnings)


def _write_assets(book: _Book, root: Path) -> None:
    """The notebooks' figures (and the front page's chart, which the site's raw HTML names) into ``root``."""
    for ch in book.chapters:
        for asset in ch.assets:
            if not (root / asset.path).exists():
                (root / asset.path).parent.mkdir(parents=True, exist_ok=True)
                (root / asset.path).write_bytes(asset.data)


def _portable_pdf(project_dir: Path, book: _Book, root: Path, pdf: Path, metadata: Mapping[str, Any] | None) -> None:
    """The PDF from the portable typst path; ``root`` holds the notebook figures."""
    _write_assets(book, root)
    render_pdf(project_dir, root, pdf, book.config, book.chapters, book.xrefs, metadata,
               creation_timestamp(book.config.date), book.pandoc, book.warnings)


def _render_portable(project_dir: Path, output_dir: Path, config: BookConfig,
                     metadata: Mapping[str, Any] | None, plan: EnginePlan) -> RenderResult:
    t0 = time.perf_counter()
    book = _read_book(project_dir, config, metadata)
    site = output_dir / "site"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    pdf = output_dir / book.pdf_name
    # The site and the PDF are independent (the PDF reads its figures from its own folder): typst compiles on one
    # core while pandoc and the site's pages use the other.  Each keeps its own warnings, joined in a fixed order.
    site_warnings: list[str] = []
    pdf_book = copy.copy(book)
    pdf_book.warnings = []
    root = Path(tempfile.mkdtemp(prefix=".typst-root-", dir=output_dir))
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            pdf_job = pool.submit(_portable_pdf, project_dir, pdf_book, root, pdf, metadata)
            render_site(project_dir, site, book.config, book.chapters, book.xrefs, book.pdf_name, metadata,
                        book.pandoc, site_warnings)
            pdf_job.result()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    book.warnings += site_warnings + pdf_book.warnings
    shutil.copyfile(pdf, site / book.pdf_name)
    return RenderResult(
        engine="portable", html_dir=site, index_html=site / book.chapters[0].page, pdf=pdf,
        pages=[ch.page for ch in book.chapters],
        figures=sum(1 for x in book.xrefs.values() if x.kind == "fig"),
        tables=sum(1 for x in book.xrefs.values() if x.kind == "tbl"),
        seconds=time.perf_counter() - t0, warnings=list(dict.fromkeys(book.warnings)), pdf_engine="portable",
        engines=plan.as_dict())


def _render_quarto(project_dir: Path, output_dir: Path, config: BookConfig, metadata: Mapping[str, Any] | None,
                   log: Callable[[str], Any], plan: EnginePlan) -> RenderResult:
    import re

    t0 = time.perf_counter()
    quarto_bin = plan.quarto
    if quarto_bin is None:
        raise RenderError("the render plan chose quarto but names no quarto binary")
    log(f"render engine: quarto {plan.site['version']} ({quarto_bin}; found via {plan.how})")
    site = output_dir / "site"
    warnings = list(config.warnings)
    book_config = apply_metadata(config, metadata)
    pdf = output_dir / f"{slugify(book_config.title)}.pdf"
    # the page footer is the PDF's (a typst rule of our own), not metadata for Quarto's templates
    footer = str((metadata or {}).get(PAGE_FOOTER) or "")
    quarto_meta = {k: v for k, v in (metadata or {}).items() if k != PAGE_FOOTER}
    warnings += [f"quarto (html): {w}" for w in quarto.quarto_html(quarto_bin, project_dir, site, quarto_meta, pdf.name)]
    if plan.pdf["engine"] == "quarto":
        warnings += [f"quarto (typst): {w}" for w in quarto.quarto_pdf(quarto_bin, project_dir, output_dir, pdf,
                                                                        book_config, quarto_meta, footer)]
    else:
        log(f"{plan.pdf['reason']}: the HTML comes from quarto, the PDF from the portable typst renderer "
            f"({plan.pdf['version']})")
        book = _read_book(project_dir, config, metadata)
        pdf = output_dir / book.pdf_name
        root = Path(tempfile.mkdtemp(prefix=".typst-root-", dir=output_dir))
        try:
            _portable_pdf(project_dir, book, root, pdf, metadata)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        warnings += book.warnings
    if not pdf.is_file():
        raise RenderError(f"no PDF was written ({pdf})")
    shutil.copyfile(pdf, site / pdf.name)
    if not (site / "site.css").exists():  # the stylesheet of the site's extra pages (figures table ...)
        shutil.copyfile(CSS_FILE, site / "site.css")
    pages = [page_name(c) for c in config.chapters]
    missing = [p for p in pages if not (site / p).is_file()]
    if missing:
        raise RenderError(f"quarto wrote no HTML page for {', '.join(missing)} in {site}")
    html = " ".join((site / p).read_text(encoding="utf-8", errors="replace") for p in pages)
    return RenderResult(
        engine="quarto", html_dir=site, index_html=site / pages[0], pdf=pdf, pages=pages,
        figures=len(set(re.findall(r'id="(fig-[^"]+?)(?<!-caption-[0-9a-f-]{36})"', html))),
        tables=len(set(re.findall(r'id="(tbl-[^"]+?)(?<!-caption-[0-9a-f-]{36})"', html))),
        seconds=time.perf_counter() - t0, warnings=list(dict.fromkeys(warnings)), pdf_engine=plan.pdf["engine"],
        engines=plan.as_dict())


def warnings_summary(warnings: list[str], limit: int = 10) -> str:
    """"render: 0 warnings", or the count and the first ``limit`` (each cut to one line)."""
    if not warnings:
        return "render: 0 warnings"
    shown = [w.splitlines()[0][:240] for w in warnings[:limit]]
    more = f"\n  ... and {len(warnings) - limit} more" if len(warnings) > limit else ""
    return f"render: {len(warnings)} warning{'s' if len(warnings) > 1 else ''}:\n" + \
        "\n".join(f"  - {w}" for w in shown) + more


def render_project(project_dir: str | os.PathLike, output_dir: str | os.PathLike, engine: str = "auto",
                   metadata: dict | None = None, log: Callable[[str], Any] = print,
                   plan: EnginePlan | None = None) -> RenderResult:
    """Render the Quarto book in ``project_dir`` to ``output_dir/site/`` and ``output_dir/<slug>.pdf``.

    ``engine``: "auto" (quarto if found, else portable), "quarto" or "portable" (or a ``plan`` made
    by :func:`plan_engines`).  The warnings are logged, counted, and returned in the result.
    """
    plan = plan or plan_engines(engine)
    project_dir = Path(project_dir).resolve()
    output_dir = Path(output_dir).resolve()
    config = load_config(project_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if plan.site["engine"] == "quarto":
        result = _render_quarto(project_dir, output_dir, config, metadata, log, plan)
    else:
        log(f"render engine: portable ({plan.site['version']}; {plan.how})")
        result = _render_portable(project_dir, output_dir, config, metadata, plan)
    log(warnings_summary(result.warnings))
    return result
