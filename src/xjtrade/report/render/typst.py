"""The PDF of the portable engine: the whole book through pandoc's typst writer, the PDF filters
(``templates/pdf.lua``, ``templates/pdf-text.lua``, shared with the Quarto engine) and our template
(``templates/report.typ``), compiled by typst (the ``typst`` Python package).

* ``format: typst:`` options: ``toc``, ``toc-depth``, ``papersize`` (Quarto's default "us-letter"),
  ``mainfont`` (first in the font list).
* Links to pages only the site has (the figures table, other editions, downloads) become absolute
  links to ``book: site-url`` or plain text; anchors carry their labels; table columns are sized
  from the content (``pdf.lua``).  Table floats may break across pages with the header row
  repeated; headers are never hyphenated (the template).
* Fonts: only those the project ships (:mod:`.fonts`: Noto Sans CJK for Chinese, Japanese and
  Korean text, DejaVu), system fonts ignored; an unknown font or a character without a glyph is an
  error.
* Determinism: the PDF creation date is ``SOURCE_DATE_EPOCH`` or the book's ISO ``date``, passed as
  typst's ``timestamp``; otherwise the PDF carries no date.
"""

from __future__ import annotations

import json
import posixpath
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

from . import fonts
from .base import PAGE_FOOTER, RenderError, elements, meta, raw, run_pandoc, slugify, stringify, typst_string, walk
from .book import Chapter
from .config import BookConfig
from .crossref import Xref
from .links import chapter_blocks, copy_images

TEMPLATES = Path(__file__).resolve().parent / "templates"
TYPST_TEMPLATE = TEMPLATES / "report.typ"
PDF_FILTER = TEMPLATES / "pdf.lua"
TEXT_FILTER = TEMPLATES / "pdf-text.lua"
DEFAULT_PAPER = "us-letter"  # Quarto's typst default


def book_pages(config: BookConfig) -> list[str]:
    """The chapters' source paths and their HTML pages (links to them stay inside the book)."""
    from .base import page_name
    return [p for c in config.chapters for p in (c, page_name(c))]


def filter_meta(config: BookConfig, text_file: Path | None = None, line_chars: int | None = None) -> dict[str, Any]:
    """The metadata the PDF filters read (both engines)."""
    out: dict[str, Any] = {"xj-book-pages": book_pages(config)}
    if config.site_url:
        out["xj-site-url"] = config.site_url
    if text_file is not None:
        out["xj-text-file"] = str(text_file)
    if line_chars is not None:
        out["xj-table-line-chars"] = str(line_chars)
    return out


def pdf_ids(blocks: list, anchor: str, unnumbered: bool) -> list:
    """Ids unique across the book (``<chapter-anchor>--<id>``: headings, spans and divs; figure and
    table labels are global already); in unnumbered chapters every heading is unnumbered (typst
    would print "0.1")."""

    def prefixed(ident: str) -> str:
        return f"{anchor}--{ident}" if ident and ident.split("-", 1)[0] not in ("fig", "tbl") else ident

    def fix(el: dict) -> Any:
        if el["t"] == "Header":
            level, (ident, classes, kv), inlines = el["c"]
            if unnumbered and "unnumbered" not in classes:
                classes = classes + ["unnumbered"]
            return {"t": "Header", "c": [level, [prefixed(ident), classes, kv], inlines]}
        if el["t"] in ("Span", "Div") and el["c"][0][0]:
            (ident, classes, kv), content = el["c"]
            return {"t": el["t"], "c": [[prefixed(ident), classes, kv], content]}
        return None

    return walk(blocks, fix)


def _all_ids(blocks: list) -> set[str]:
    """The ids a link can point to: headers, floats, divs, spans, code blocks, links and images."""
    ids: set[str] = set()
    for node in elements(blocks):
        c = node.get("c")
        if node["t"] == "Header":
            ids.add(node["c"][1][0])      # a Header always has its content: [level, attr, inlines]
        elif node["t"] in ("Figure", "Table", "Div", "Span", "CodeBlock", "Link", "Image"):
            if isinstance(c, list) and c and isinstance(c[0], list) and c[0] and isinstance(c[0][0], str):
                ids.add(c[0][0])
    ids.discard("")
    return ids


def drop_dangling_links(blocks: list, source: str = "book") -> tuple[list, list[str]]:
    """Internal links whose target label does not exist would fail typst; make them text."""
    ids = _all_ids(blocks)
    warnings: list[str] = []

    def fix(el: dict) -> Any:
        if el["t"] == "Link" and el["c"][2][0].startswith("#") and el["c"][2][0][1:] not in ids:
            warnings.append(f"{source}: PDF link to missing anchor {el['c'][2][0]} rendered as text")
            return {"t": "Span", "c": [el["c"][0], el["c"][1]]}
        return None

    return walk(blocks, fix), warnings


def figure_image_alts(blocks: list) -> list:
    """A figure's image with alt text as typst's ``image(path, alt: "...")``: pandoc's typst writer drops
    the alt, typst keeps it in the PDF (the tagged figure's alternative text).  Sized images are left
    to pandoc."""

    def image(el: dict) -> Any:
        if el["t"] != "Image":
            return None
        attr, alt, (src, _title) = el["c"]
        text = stringify(alt)
        if not text or attr[2]:
            return None
        return {"t": "RawInline", "c": ["typst", f"#image({typst_string(src)}, alt: {typst_string(text)})"]}

    def fix(el: dict) -> Any:
        if el["t"] != "Figure":
            return None
        attr, caption, body = el["c"]
        return {"t": "Figure", "c": [attr, caption, walk(body, image)]}

    return walk(blocks, fix)


def book_blocks(chapters: list[Chapter], xrefs: Mapping[str, Xref]) -> tuple[list, list[str], list[str]]:
    """The whole book as one block list for the PDF (pure): ``(blocks, images used, warnings)``."""
    anchors = {ch.page: "ch-" + slugify(posixpath.splitext(ch.source)[0], "chapter") for ch in chapters}
    pages = {ch.source: ch.page for ch in chapters}
    blocks: list = []
    images: list[str] = []
    warnings: list[str] = []
    for ch in chapters:
        if ch.number:
            blocks.append(raw("typst", f"#counter(heading).update({int(ch.number) - 1})"))
        blocks.append({"t": "Header", "c": [1, [anchors[ch.page], [] if ch.number else ["unnumbered"], []], ch.title]})
        body, used, warn = chapter_blocks(ch, xrefs, pages, "pdf", anchors)
        blocks += pdf_ids(figure_image_alts(body), anchors[ch.page], ch.number is None)
        images += used
        warnings += warn
    blocks, dangling = drop_dangling_links(blocks)
    return blocks, images, warnings + dangling


def _raw_meta(typst: str) -> dict:
    return {"t": "MetaInlines", "c": [{"t": "RawInline", "c": ["typst", typst]}]}


def pdf_meta(config: BookConfig, extra: Mapping[str, Any] | None, dated: bool, text_file: Path) -> dict:
    """Template variables of the PDF: title block, ``format: typst`` options, fonts, and the
    metadata of the PDF filters."""
    values: dict[str, Any] = {str(k): v for k, v in (extra or {}).items()
                              if str(k) not in ("title", "subtitle", "author", "date")}
    values["title"] = config.title
    values.update({k: v for k, v in (("subtitle", config.subtitle), ("date", config.date)) if v})
    if config.authors:
        values["author"] = list(config.authors)
    values["lang"] = config.lang
    if not dated:
        values["document-date-none"] = True
    values.update(filter_meta(config, text_file))
    opts = config.format("typst")
    paper = opts.papersize or DEFAULT_PAPER
    if not re.fullmatch(r"[a-z0-9-]+", paper):
        raise RenderError(f"_quarto.yml: key 'format.typst.papersize': '{paper}' is not a typst paper name "
                          "(e.g. a4, us-letter)")
    out = {k: meta(v) for k, v in values.items()}
    out["xj-paper"] = _raw_meta(typst_string(paper))
    out["xj-fonts"] = _raw_meta(fonts.typst_font_list(fonts.text_fonts(opts.mainfont)))
    out["xj-mono-fonts"] = _raw_meta(fonts.typst_font_list(fonts.MONO_FONTS))
    if opts.toc:
        out["xj-toc-depth"] = _raw_meta(str(opts.toc_depth))
    return out


def compile_typst(source: str, pdf: Path, root: Path, timestamp: int | None, font_dir: Path,
                  warnings: list[str]) -> None:
    """typst with the project's fonts only (system fonts ignored)."""
    try:
        import typst
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise RenderError("typst is not available: install the 'typst' Python package") from exc
    kwargs: dict[str, Any] = {"root": str(root), "font_paths": [str(font_dir)], "ignore_system_fonts": True}
    if timestamp is not None:
        kwargs["timestamp"] = timestamp
    try:
        _, typst_warnings = typst.compile_with_warnings(source.encode("utf-8"), output=str(pdf), **kwargs)
    except Exception as exc:  # typst.TypstError carries message/diagnostic/hints
        debug = pdf.with_suffix(".typ")
        debug.write_text(source, encoding="utf-8")
        details = getattr(exc, "diagnostic", "") or ""
        hints = "\n".join(getattr(exc, "hints", []) or [])
        raise RenderError(f"typst failed to compile the PDF: {exc}\n{details}\n{hints}\n"
                          f"(typst source kept at {debug})".strip()) from exc
    warnings += [f"typst: {getattr(w, 'message', w)}" for w in typst_warnings]


def render_pdf(project_dir: Path, root: Path, pdf: Path, config: BookConfig, chapters: list[Chapter],
               xrefs: Mapping[str, Xref], metadata: Mapping[str, Any] | None, timestamp: int | None,
               pandoc: str, warnings: list[str]) -> None:
    """Write the book's PDF to ``pdf``.  ``root`` is typst's root: it must hold the notebook figures;
    the project images the PDF uses are copied into it."""
    blocks, used, warn = book_blocks(chapters, xrefs)
    warnings += warn
    generated = {a.path for ch in chapters for a in ch.assets}
    copy_images(project_dir, root, [("book", p) for p in used], generated, warnings)
    stale = pdf.with_suffix(".typ")  # left by an earlier failed typst run
    if stale.exists():
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix="xjtrade-pdf-") as scratch:
        text_file = Path(scratch) / "text.txt"
        doc = {"pandoc-api-version": chapters[0].api_version,
               "meta": pdf_meta(config, metadata, timestamp is not None, text_file), "blocks": blocks}
        source = run_pandoc(pandoc, ["-f", "json", "-t", "typst", "--standalone", "--template", str(TYPST_TEMPLATE),
                                     "--lua-filter", str(PDF_FILTER), "--lua-filter", str(TEXT_FILTER),
                                     "--wrap", "none"], json.dumps(doc, ensure_ascii=False), "book (typst)", warnings)
        typst_warnings: list[str] = []
        compile_typst(source, pdf, root, timestamp, fonts.font_folder(Path(scratch) / "fonts"), typst_warnings)
        warnings += typst_warnings
        footer = str((metadata or {}).get(PAGE_FOOTER) or "")
        if footer and text_file.is_file():  # the page footer's characters need glyphs too
            with text_file.open("a", encoding="utf-8") as out:
                out.write("\n" + footer + "\n")
        fonts.check_pdf(pdf, text_file, typst_warnings, "portable renderer")
