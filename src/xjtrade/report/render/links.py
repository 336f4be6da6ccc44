"""Links and images of a chapter, per output format, and the transforms both formats share.

Links to chapter sources (``methods.qmd#x``) become relative links to their HTML page in the site
and links to the chapter's anchor in the PDF.  Image paths become relative URLs in HTML and
root-absolute ``/path`` in typst (the typst root holds the site's images).
"""

from __future__ import annotations

import copy
import posixpath
import re
import shutil
from pathlib import Path
from typing import Any, Iterable, Mapping

from .base import RenderError, elements, is_external, relurl, str_, walk
from .book import Chapter, select_format
from .crossref import FLOAT_NAMES, Xref, number_floats, resolve_xrefs


def _site_path(target: str, chapter_dir: str) -> str | None:
    """Site path of a local reference (``/x`` = project root), None if external or outside."""
    if not target or is_external(target) or target.startswith("#"):
        return None
    path = posixpath.normpath(target[1:] if target.startswith("/") else posixpath.join(chapter_dir, target))
    return None if path == ".." or path.startswith("../") else path


def rewrite_links(blocks: list, source: str, page: str, pages: Mapping[str, str], fmt: str,
                  anchors: Mapping[str, str] | None = None) -> list:
    """HTML: links to chapter sources -> their page (relative).  PDF: internal links -> chapter
    anchors (``anchors``: page -> anchor prefix); links to pages only the site has become
    root-relative (``/figures.html#R0339``), for ``pdf.lua`` to make absolute or plain text."""
    chapter_dir = posixpath.dirname(source)

    def pdf_anchor(dest: str, frag: str) -> str:
        if anchors is None:
            raise ValueError("rewriting links for the PDF needs the chapter anchors (anchors=None)")
        if not frag:
            return "#" + anchors[dest]
        if frag.split("-", 1)[0] in FLOAT_NAMES:  # figure/table labels are global
            return "#" + frag
        return "#" + anchors[dest] + "--" + frag

    def fix(el: dict) -> Any:
        if el["t"] != "Link":
            return None
        a, inlines, (url, title) = el["c"]
        if fmt != "html" and url.startswith("#") and anchors is not None:
            return {"t": "Link", "c": [a, inlines, [pdf_anchor(page, url[1:]), title]]}
        target, _, frag = url.partition("#")
        site_path = _site_path(target, chapter_dir)
        if site_path is None:
            if fmt != "html" and target and not is_external(target):  # above the site root: another edition
                path = posixpath.normpath(posixpath.join(chapter_dir, target))
                return {"t": "Link", "c": [a, inlines, ["/" + path + (f"#{frag}" if frag else ""), title]]}
            return None
        dest = pages.get(site_path) or (site_path if site_path in pages.values() else None)
        if fmt == "html":
            if dest is None:
                return None
            return {"t": "Link", "c": [a, inlines, [relurl(page, dest) + (f"#{frag}" if frag else ""), title]]}
        if dest is not None and anchors is not None:
            return {"t": "Link", "c": [a, inlines, [pdf_anchor(dest, frag), title]]}
        # a page only the site has: root-relative here, made absolute or plain text by pdf.lua
        return {"t": "Link", "c": [a, inlines, ["/" + site_path + (f"#{frag}" if frag else ""), title]]}

    return walk(blocks, fix)


def rewrite_images(blocks: list, source: str, page: str, fmt: str) -> tuple[list, list[str], list[str]]:
    """Image sources -> relative URLs (HTML) or root-absolute ``/path`` (typst).
    Returns ``(blocks, site paths used, warnings)``."""
    chapter_dir = posixpath.dirname(source)
    used: list[str] = []
    warnings: list[str] = []

    def fix(el: dict) -> Any:
        if el["t"] != "Image":
            return None
        a, alt, (src, title) = el["c"]
        if src.startswith("data:"):
            return None
        if is_external(src):
            warnings.append(f"{source}: remote image {src} (not available offline)")
            return None if fmt == "html" else {"t": "Span", "c": [a, alt or [str_(src)]]}
        path = _site_path(src, chapter_dir)
        if path is None:
            warnings.append(f"{source}: image {src} is outside the project; dropped")
            return {"t": "Span", "c": [a, alt]}
        used.append(path)
        return {"t": "Image", "c": [a, alt, [relurl(page, path) if fmt == "html" else "/" + path, title]]}

    return walk(blocks, fix), used, warnings


RAW_SRC = re.compile(r'\bsrc="([^"]+)"')


def raw_html_sources(blocks: list, source: str) -> list[str]:
    """The site paths that raw HTML blocks name in ``src`` attributes (pure): the front page's chart block
    names its static fallback image, which no Image element carries on the site."""
    chapter_dir = posixpath.dirname(source)
    srcs = [src for el in elements(blocks) if el["t"] in ("RawBlock", "RawInline") and el["c"][0] == "html"
            for src in RAW_SRC.findall(el["c"][1]) if not (src.startswith("data:") or is_external(src))]
    return [path for path in (_site_path(src, chapter_dir) for src in srcs) if path is not None]


def chapter_blocks(ch: Chapter, xrefs: Mapping[str, Xref], pages: Mapping[str, str], fmt: str,
                   anchors: Mapping[str, str] | None = None) -> tuple[list, list[str], list[str]]:
    """The transforms both formats share (pure): ``(blocks, images used, warnings)``."""
    blocks = select_format(copy.deepcopy(ch.blocks), fmt)
    blocks = number_floats(blocks, xrefs)
    blocks, warnings = resolve_xrefs(blocks, xrefs, ch.page, fmt, ch.source)
    blocks = rewrite_links(blocks, ch.source, ch.page, pages, fmt, anchors)
    blocks, images, img_warnings = rewrite_images(blocks, ch.source, ch.page, fmt)
    return blocks, images, warnings + img_warnings


def copy_images(project_dir: Path, root: Path, used: Iterable[tuple[str, str]], generated: set[str],
                warnings: list[str]) -> None:
    """Copy the project images the chapters use into ``root`` (notebook figures are already there)."""
    for source, path in used:
        if path in generated:
            if (project_dir / path).is_file():
                warnings.append(f"{source}: image '{path}' is shadowed by a notebook figure of the same name")
            continue
        src = project_dir / path
        if not src.is_file():
            raise RenderError(f"{source}: image '{path}' not found in the project")
        dest = root / path
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
