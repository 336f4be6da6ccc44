"""The HTML site of the portable engine: one page per chapter with the chapter sidebar,
previous/next links, an "On this page" table of contents (``format: html: toc``), downloadable
notebooks, and a link to the PDF."""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any, Mapping

from .base import attr, meta, relurl, run_pandoc, str_
from .book import Chapter
from .config import BookConfig
from .crossref import Xref
from .links import chapter_blocks, copy_images, raw_html_sources

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
HTML_TEMPLATE = TEMPLATE_DIR / "site.html"
CSS_FILE = TEMPLATE_DIR / "site.css"


def number_sections(blocks: list, chapter_number: str | None) -> list:
    """Prefix section headings of numbered chapters with "2.1", "2.1.1" (like Quarto books)."""
    if not chapter_number:
        return blocks
    counters = [0] * 7
    out = []
    for block in blocks:  # headings are top-level blocks; a single pass keeps document order
        if block.get("t") == "Header" and block["c"][0] >= 2 and not {"unnumbered", "-"} & set(block["c"][1][1]):
            level, a, inlines = block["c"]
            counters[level] += 1
            counters[level + 1:] = [0] * (6 - level)
            label = ".".join([chapter_number] + [str(counters[k]) for k in range(2, level + 1)])
            span = {"t": "Span", "c": [attr(classes=["header-section-number"]), [str_(label)]]}
            block = {"t": "Header", "c": [level, a, [span, {"t": "Space"}] + inlines]}
        out.append(block)
    return out


def wrap_tables(blocks: list) -> list:
    """Each top-level table in a ``.table-wrap`` div (a wide table scrolls in its own box), its column
    widths left to the browser (pandoc's come from the pipe-table dashes, not the content)."""
    out = []
    for b in blocks:
        if b.get("t") == "Table":
            c = list(b["c"])
            c[2] = [[align, {"t": "ColWidthDefault"}] for align, _width in c[2]]
            b = {"t": "Div", "c": [attr(classes=["table-wrap"]), [{"t": "Table", "c": c}]]}
        out.append(b)
    return out


def _nav_label(ch: Chapter) -> str:
    return f"{ch.number} {ch.title_text}" if ch.number else ch.title_text


def page_meta(config: BookConfig, chapters: list[Chapter], i: int, pdf_name: str | None,
              extra: Mapping[str, Any] | None = None) -> dict:
    """Template variables of page ``i`` (sidebar, prev/next, links), as Pandoc metadata."""
    ch = chapters[i]
    nav = []
    for j, other in enumerate(chapters):
        item: dict[str, Any] = {"href": relurl(ch.page, other.page), "title": other.title_text, "current": i == j}
        if other.number:
            item["number"] = other.number
        nav.append(item)
    values: dict[str, Any] = {str(k): v for k, v in (extra or {}).items()
                              if str(k) not in ("title", "subtitle", "author", "date")}
    values.update({
        "lang": config.lang,
        "pagetitle": config.title if i == 0 else f"{_nav_label(ch)} – {config.title}",
        "book-title": config.title,
        "home-href": relurl(ch.page, chapters[0].page),
        "css-href": relurl(ch.page, "site.css"),
        "chapter-title": {"t": "MetaInlines", "c": ch.title},
        "nav": nav,
        "is-index": i == 0,
    })
    if ch.title_id:
        values["chapter-id"] = ch.title_id
    if ch.number:
        values["chapter-number"] = ch.number
    if i == 0:
        values.update({k: v for k, v in (("book-subtitle", config.subtitle), ("book-date", config.date)) if v})
        if config.authors:
            values["book-author"] = list(config.authors)
    if config.authors:
        values["footer-author"] = ", ".join(config.authors)
    if config.date:
        values["footer-date"] = config.date
    if i > 0:
        values["prev"] = {"href": relurl(ch.page, chapters[i - 1].page), "title": _nav_label(chapters[i - 1])}
    if i + 1 < len(chapters):
        values["next"] = {"href": relurl(ch.page, chapters[i + 1].page), "title": _nav_label(chapters[i + 1])}
    if pdf_name:
        values["pdf-href"] = relurl(ch.page, pdf_name)
    if ch.kind == "ipynb":
        values["notebook-href"] = posixpath.basename(ch.source)
    mainfont = config.format("html").mainfont
    if mainfont:
        values["mainfont"] = mainfont.replace('"', "").replace("<", "").replace(";", "")
    return {k: meta(v) for k, v in values.items()}


def render_site(project_dir: Path, site: Path, config: BookConfig, chapters: list[Chapter],
                xrefs: Mapping[str, Xref], pdf_name: str, metadata: Mapping[str, Any] | None,
                pandoc: str, warnings: list[str]) -> set[str]:
    """Write every page, the notebook figures, the images, the notebooks and the stylesheet into
    ``site``.  Returns the site paths of the notebook figures."""
    generated = set()
    for ch in chapters:
        for asset in ch.assets:
            (site / asset.path).parent.mkdir(parents=True, exist_ok=True)
            (site / asset.path).write_bytes(asset.data)
            generated.add(asset.path)
    opts = config.format("html")
    toc = ["--toc", f"--toc-depth={opts.toc_depth}"] if opts.toc else []
    pages = {ch.source: ch.page for ch in chapters}
    used_images: list[tuple[str, str]] = []
    for i, ch in enumerate(chapters):
        blocks, used, warn = chapter_blocks(ch, xrefs, pages, "html")
        warnings += warn
        used_images += [(ch.source, p) for p in used]
        # a file the page's raw HTML names (not those the site adds later, e.g. the chart's script)
        used_images += [(ch.source, p) for p in raw_html_sources(blocks, ch.source)
                        if p not in generated and (project_dir / p).is_file()]
        blocks = wrap_tables(number_sections(blocks, ch.number))
        doc = {"pandoc-api-version": ch.api_version, "meta": page_meta(config, chapters, i, pdf_name, metadata),
               "blocks": blocks}
        html = run_pandoc(pandoc, ["-f", "json", "-t", "html5", "--standalone", "--template", str(HTML_TEMPLATE),
                                   "--wrap", "none", *toc], json.dumps(doc, ensure_ascii=False), ch.source, warnings)
        (site / ch.page).parent.mkdir(parents=True, exist_ok=True)
        (site / ch.page).write_text(html, encoding="utf-8")
        if ch.kind == "ipynb":
            (site / ch.source).write_bytes((project_dir / ch.source).read_bytes())
    copy_images(project_dir, site, used_images, generated, warnings)
    (site / "site.css").write_bytes(CSS_FILE.read_bytes())
    return generated
