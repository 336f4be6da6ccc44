"""The PDF of the portable engine: the whole book through pandoc's typst writer and our template
(``templates/report.typ``), compiled by typst (the ``typst`` Python package).

* ``format: typst:`` options: ``toc``, ``toc-depth``, ``papersize`` (Quarto's default "us-letter"),
  ``mainfont`` (first in the font list).
* Tables: column widths from the content (pandoc's widths from the pipe-table dashes are dropped),
  table floats may break across pages with the header row repeated, headers are never hyphenated.
* Chinese, Japanese and Korean text: Noto Sans CJK, from the ``noto-cjk-sans-otc`` package, is given
  to typst with ``font_paths`` and embedded (without it such text prints as empty boxes; a warning
  says so).
* Determinism: the PDF creation date is ``SOURCE_DATE_EPOCH`` or the book's ISO ``date``, passed as
  typst's ``timestamp``; otherwise the PDF carries no date.
"""

from __future__ import annotations

import importlib.util
import json
import posixpath
import re
from pathlib import Path
from typing import Any, Mapping

from .base import RenderError, elements, meta, raw, run_pandoc, slugify, stringify, typst_string, walk
from .book import Chapter
from .config import BookConfig
from .crossref import Xref
from .links import chapter_blocks, copy_images

TYPST_TEMPLATE = Path(__file__).resolve().parent / "templates" / "report.typ"
BASE_FONTS = ("Libertinus Serif", "DejaVu Serif")
CJK_FONT = "Noto Sans CJK SC"
CJK_PACKAGE, CJK_FILE = "noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc"
DEFAULT_PAPER = "us-letter"  # Quarto's typst default


def cjk_font_dir() -> Path | None:
    """The folder holding Noto Sans CJK (package ``noto-cjk-sans-otc``; found, not imported)."""
    spec = importlib.util.find_spec(CJK_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / CJK_FILE).is_file():
            return Path(location)
    return None


TABLE_LINE_CHARS = 100  # characters of table text (8.5pt) a line of the text block holds, conservatively
CELL_INSET_CHARS = 2.5  # the cell padding, in characters
WANT_MAX_CHARS = 40  # a long cell is worth wrapping beyond this


def _rows(table_c: list) -> tuple[list, list]:
    """(header rows, body rows) of a Pandoc Table's content, each row a list of cells."""
    head = [row[1] for row in table_c[3][1]]
    body = [row[1] for b in table_c[4] for row in b[2] + b[3]] + [row[1] for row in table_c[5][1]]
    return head, body


def table_columns(table_c: list, line_chars: float = TABLE_LINE_CHARS) -> str | None:
    """Typst ``columns:`` from the content, like a browser's table layout: None (every column
    ``auto``, natural widths) when the table fits on a line; otherwise shares ``Nfr`` that give each
    column at least its longest unbreakable word (lines break at spaces and after ``-`` or ``/``
    unless a number follows) and share the rest in proportion to how much more its longest cell wants."""
    head, body = _rows(table_c)
    mins, wants = [], []
    for j in range(len(table_c[2])):
        cells = [stringify(row[j][4]) for row in body if j < len(row)]
        headers = [stringify(row[j][4]) for row in head if j < len(row)]
        tokens = [t for text in cells + headers for t in re.split(r"\s+|(?<=[-/])(?![\d.])", text) if t]
        low = max((len(t) for t in tokens), default=1) * 1.15 + 1  # digits and bold headers run wide
        mins.append(low)
        wants.append(max(low, min(max((len(t) for t in cells), default=0), WANT_MAX_CHARS)))
    room = line_chars - CELL_INSET_CHARS * len(mins)
    if sum(wants) <= room:
        return None
    if sum(mins) >= room:
        widths = mins
    else:
        share = (room - sum(mins)) / (sum(wants) - sum(mins))
        widths = [low + (want - low) * share for low, want in zip(mins, wants)]
    return "(" + ", ".join(f"{w:.1f}fr" for w in widths) + ",)"


def size_tables(blocks: list) -> list:
    """Column widths from the content instead of pandoc's (from the pipe-table dashes): typst then
    keeps short columns on one line and wraps long cells in the columns that share the rest."""

    def fix(el: dict) -> Any:
        if el["t"] != "Table":
            return None
        c = list(el["c"])
        c[2] = [[align, {"t": "ColWidthDefault"}] for align, _width in c[2]]
        columns = table_columns(c)
        if columns:
            a = c[0]
            c[0] = [a[0], a[1], [kv for kv in a[2] if kv[0] != "typst:columns"] + [["typst:columns", columns]]]
        return {"t": "Table", "c": c}

    return walk(blocks, fix)


# pandoc writes `columns: N,` for default widths and then our `typst:columns` attribute: keep ours.
_DUPLICATE_COLUMNS = re.compile(r"columns: \d+,\n(\s*align: [^\n]*\n)(\s*)columns: ")


def pdf_ids(blocks: list, anchor: str, unnumbered: bool) -> list:
    """Heading ids unique across the book (``<chapter-anchor>--<id>``); in unnumbered chapters every
    heading is unnumbered (typst would print "0.1")."""

    def fix(el: dict) -> Any:
        if el["t"] != "Header":
            return None
        level, (ident, classes, kv), inlines = el["c"]
        if unnumbered and "unnumbered" not in classes:
            classes = classes + ["unnumbered"]
        return {"t": "Header", "c": [level, [f"{anchor}--{ident}" if ident else "", classes, kv], inlines]}

    return walk(blocks, fix)


def _all_ids(blocks: list) -> set[str]:
    """The ids a link can point to: headers, floats, divs, spans, code blocks, links and images."""
    ids: set[str] = set()
    for node in elements(blocks):
        c = node.get("c")
        if node["t"] == "Header":
            ids.add(c[1][0])
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
        blocks += pdf_ids(size_tables(body), anchors[ch.page], ch.number is None)
        images += used
        warnings += warn
    blocks, dangling = drop_dangling_links(blocks)
    return blocks, images, warnings + dangling


def _raw_meta(typst: str) -> dict:
    return {"t": "MetaInlines", "c": [{"t": "RawInline", "c": ["typst", typst]}]}


def pdf_meta(config: BookConfig, extra: Mapping[str, Any] | None, dated: bool, cjk: bool) -> dict:
    """Template variables of the PDF: title block, ``format: typst`` options, fonts."""
    values: dict[str, Any] = {str(k): v for k, v in (extra or {}).items()
                              if str(k) not in ("title", "subtitle", "author", "date")}
    values["title"] = config.title
    values.update({k: v for k, v in (("subtitle", config.subtitle), ("date", config.date)) if v})
    if config.authors:
        values["author"] = list(config.authors)
    values["lang"] = config.lang
    if not dated:
        values["document-date-none"] = True
    opts = config.format("typst")
    paper = opts.papersize or DEFAULT_PAPER
    if not re.fullmatch(r"[a-z0-9-]+", paper):
        raise RenderError(f"_quarto.yml: key 'format.typst.papersize': '{paper}' is not a typst paper name "
                          "(e.g. a4, us-letter)")
    fonts = ([opts.mainfont] if opts.mainfont else []) + list(BASE_FONTS) + ([CJK_FONT] if cjk else [])
    out = {k: meta(v) for k, v in values.items()}
    out["xj-paper"] = _raw_meta(typst_string(paper))
    out["xj-fonts"] = _raw_meta("(" + ", ".join(typst_string(f) for f in fonts) + ",)")
    if opts.toc:
        out["xj-toc-depth"] = _raw_meta(str(opts.toc_depth))
    return out


def compile_typst(source: str, pdf: Path, root: Path, timestamp: int | None, font_dirs: list[Path],
                  warnings: list[str]) -> None:
    try:
        import typst
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise RenderError("typst is not available: install the 'typst' Python package") from exc
    kwargs: dict[str, Any] = {"root": str(root), "font_paths": [str(d) for d in font_dirs]}
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
    font_dir = cjk_font_dir()
    if font_dir is None:
        warnings.append(f"no CJK font ({CJK_PACKAGE} is not installed): Chinese text prints as empty boxes")
    doc = {"pandoc-api-version": chapters[0].api_version,
           "meta": pdf_meta(config, metadata, timestamp is not None, font_dir is not None), "blocks": blocks}
    source = run_pandoc(pandoc, ["-f", "json", "-t", "typst", "--standalone", "--template", str(TYPST_TEMPLATE),
                                 "--wrap", "none"], json.dumps(doc, ensure_ascii=False), "book (typst)", warnings)
    source = _DUPLICATE_COLUMNS.sub(r"\1\2columns: ", source)
    stale = pdf.with_suffix(".typ")  # left by an earlier failed typst run
    if stale.exists():
        stale.unlink()
    compile_typst(source, pdf, root, timestamp, [font_dir] if font_dir else [], warnings)
