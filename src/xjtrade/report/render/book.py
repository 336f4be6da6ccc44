"""Chapters of the book: reading a ``.qmd``/``.ipynb`` chapter into a Pandoc tree, its title, the
Quarto float divs, and the chapter numbers.

Chapter numbers follow Quarto books: every chapter is numbered 1, 2, ... in the order of
``_quarto.yml``, except one whose title heading is marked ``{.unnumbered}`` (``# Summary
{.unnumbered}``, as the staged front page is) or whose front matter says ``unnumbered: true``.
"""

from __future__ import annotations

import copy
import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import RenderError, page_name, run_pandoc, stringify, walk, words
from .notebook import Asset, notebook_to_markdown


@dataclass
class Chapter:
    source: str
    page: str
    kind: str  # "qmd" | "ipynb"
    title: list  # pandoc inlines
    title_text: str
    title_id: str
    unnumbered: bool
    blocks: list
    number: str | None = None  # "1", "2", ... or None
    assets: list[Asset] = field(default_factory=list)
    api_version: list = field(default_factory=list)  # pandoc-api-version of the parsed document


def extract_title(doc: dict, fallback: str) -> tuple[list, str, bool, list]:
    """Chapter title from front matter ``title`` or the first level-1 heading (removed from the body).
    Returns ``(title inlines, title id, unnumbered, remaining blocks)``."""
    meta = doc.get("meta") or {}
    blocks = list(doc.get("blocks") or [])
    title_id = ""
    title: list | None = None
    mt = meta.get("title")
    if mt is not None:
        if mt["t"] == "MetaInlines":
            title = mt["c"]
        elif mt["t"] == "MetaString":
            title = words(mt["c"])
    unnumbered = meta.get("unnumbered", {}).get("c") is True
    first = next((i for i, b in enumerate(blocks) if b["t"] == "Header"), None)
    if first is not None and blocks[first]["c"][0] == 1:
        _level, (ident, classes, _kv), inlines = blocks[first]["c"]
        if title is None or stringify(inlines) == stringify(title):  # a repeated title is dropped
            title = title or inlines
            title_id = ident
            unnumbered = unnumbered or "unnumbered" in classes or "-" in classes
            del blocks[first]
    return title or words(fallback), title_id, unnumbered, blocks


def demote_headings(blocks: list) -> list:
    """Chapter bodies use level 2+ for sections; shift all headings if a level-1 heading remains."""
    if not any(b["t"] == "Header" and b["c"][0] == 1 for b in blocks):
        return blocks
    return walk(blocks, lambda el: {"t": "Header", "c": [min(el["c"][0] + 1, 6), el["c"][1], el["c"][2]]}
                if el["t"] == "Header" else None)


def _only_images(block: dict) -> bool:
    if block.get("t") not in ("Para", "Plain"):
        return False
    inlines = [i for i in block["c"] if i.get("t") not in ("Space", "SoftBreak", "LineBreak")]
    return bool(inlines) and all(i.get("t") == "Image" for i in inlines)


def _flatten_plain_divs(blocks: list) -> list:
    """Unwrap divs without id, classes or attributes (e.g. pandoc's wrapper of converted HTML)."""
    out: list = []
    for block in blocks:
        if block.get("t") == "Div" and block["c"][0] == ["", [], []]:
            out += _flatten_plain_divs(block["c"][1])
        else:
            out.append(block)
    return out


def div_to_float(div: dict) -> Any:
    """Quarto float divs: ``::: {#fig-x}`` (content + caption paragraph) -> Figure; ``::: {#tbl-x}``
    around one table -> that Table with id and caption; otherwise a ``.table-float`` div."""
    (ident, classes, kv), blocks = div["c"]
    if not (ident.startswith("fig-") or ident.startswith("tbl-")):
        return None
    caption: list = []
    body = list(blocks)
    if len(body) > 1 and body[-1].get("t") == "Para" and not _only_images(body[-1]):
        caption = body.pop()["c"]
    cap_blocks = [{"t": "Plain", "c": caption}] if caption else []
    if ident.startswith("fig-"):
        content = [{"t": "Plain", "c": b["c"]} if _only_images(b) else b for b in body]
        return {"t": "Figure", "c": [[ident, classes, kv], [None, cap_blocks], content]}
    body = _flatten_plain_divs(body)
    tables = [i for i, b in enumerate(body) if b.get("t") == "Table"]
    if len(tables) == 1:
        table = copy.deepcopy(body[tables[0]])
        table["c"][0] = [ident, table["c"][0][1] + classes, table["c"][0][2] + kv]
        if caption:
            table["c"][1] = [None, cap_blocks]
        body[tables[0]] = table
        return body
    classes = classes if "table-float" in classes else classes + ["table-float"]
    return {"t": "Div", "c": [[ident, classes, kv], body + ([{"t": "Para", "c": caption}] if caption else [])]}


def normalize_floats(blocks: list) -> list:
    """Quarto float divs -> Figure/Table elements; ``fig-alt`` attributes -> alt text."""

    def fix(el: dict) -> Any:
        if el["t"] == "Div":
            return div_to_float(el)
        if el["t"] == "Image" and any(k == "fig-alt" for k, _ in el["c"][0][2]):
            a, _alt, target = el["c"]
            alt = dict(a[2])["fig-alt"]
            return {"t": "Image", "c": [[a[0], a[1], [[k, v] for k, v in a[2] if k != "fig-alt"]], words(alt), target]}
        return None

    return walk(blocks, fix)


def select_format(blocks: list, fmt: str) -> list:
    """Keep ``.only-<fmt>`` divs and Quarto's ``.content-visible when-format=...`` (or
    ``.content-hidden``) divs meant for this format (unwrapped), drop the others; a table float whose
    content is now a single table becomes that table."""

    def fix(el: dict) -> Any:
        if el["t"] != "Div":
            return None
        classes = el["c"][0][1]
        if "table-float" in classes:
            return div_to_float(el)
        when = dict(el["c"][0][2]).get("when-format")
        if when and ("content-visible" in classes or "content-hidden" in classes):
            # Quarto's conditional content: when-format "html" is the site, "pdf" / "typst" the PDF
            matches = when == fmt or (fmt == "pdf" and when == "typst")
            show = matches if "content-visible" in classes else not matches
            return list(el["c"][1]) if show else []
        wanted = [c for c in classes if c.startswith("only-")]
        if not wanted:
            return None
        return list(el["c"][1]) if f"only-{fmt}" in wanted else []

    return walk(blocks, fix)


def prepare_chapter(doc: dict, source: str, fallback_title: str) -> Chapter:
    """Format-independent chapter preparation (pure)."""
    title, title_id, unnumbered, blocks = extract_title(doc, fallback_title)
    return Chapter(source=source, page=page_name(source), kind="ipynb" if source.endswith(".ipynb") else "qmd",
                   title=title, title_text=stringify(title), title_id=title_id, unnumbered=unnumbered,
                   blocks=normalize_floats(demote_headings(blocks)))


def assign_numbers(chapters: list[Chapter]) -> None:
    """Chapters 1, 2, ... in order, skipping unnumbered ones (as Quarto numbers a book)."""
    n = 0
    for ch in chapters:
        ch.number = None
        if not ch.unnumbered:
            n += 1
            ch.number = str(n)


def read_chapter(project_dir: Path, path: str, pandoc: str, warnings: list[str]) -> Chapter:
    """Read one chapter file (``.qmd``/``.md`` or an executed ``.ipynb``) through pandoc."""
    stem = posixpath.basename(posixpath.splitext(path)[0])
    assets: list[Asset] = []
    if path.endswith(".ipynb"):
        try:
            nb = json.loads((project_dir / path).read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise RenderError(f"{path}: cannot read notebook: {exc}") from exc
        if not isinstance(nb, dict):
            raise RenderError(f"{path}: not a Jupyter notebook")

        def html_table(html: str) -> str:
            args = ["-f", "html", "-t", "markdown-raw_html-native_divs-native_spans", "--wrap", "none"]
            return run_pandoc(pandoc, args, html, f"{path} (HTML table output)", warnings)

        converted = notebook_to_markdown(nb, stem, path, html_table)
        markdown, assets = converted.markdown, converted.assets
        warnings += converted.warnings
    else:
        markdown = (project_dir / path).read_text(encoding="utf-8")
    if "{{<" in markdown:
        warnings.append(f"{path}: Quarto shortcodes ({{{{< ... >}}}}) are not supported by the portable renderer")
    doc = json.loads(run_pandoc(pandoc, ["-f", "markdown-raw_html-raw_tex", "-t", "json"], markdown, path, warnings))
    ch = prepare_chapter(doc, path, stem.replace("-", " ").replace("_", " ").strip() or stem)
    ch.assets, ch.api_version = assets, doc["pandoc-api-version"]
    return ch
