"""Numbered figures and tables, and ``@fig-``/``@tbl-`` cross-references (Quarto book conventions).

* Figures and tables with a ``fig-``/``tbl-`` label are numbered per chapter: "Figure 2.1",
  "Table 3.2"; in an unnumbered chapter simply "Figure 1".  Captions read "Figure 2.1: <caption>".
* ``@fig-x`` / ``@tbl-x`` become links "Figure 2.1" (to ``page.html#fig-x``) in HTML and the plain
  text "Figure 2.1" in the PDF; ``[-@fig-x]`` gives only the number.  Unresolved references render
  as "?@fig-x" (like Quarto) and are reported as warnings.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Mapping

from .base import attr, elements, relurl, str_, walk, words
from .book import Chapter

FLOAT_NAMES = {"fig": "Figure", "tbl": "Table"}


@dataclass(frozen=True)
class Xref:
    kind: str  # "fig" | "tbl"
    number: str  # "2.1" or "1"
    page: str
    source: str

    @property
    def text(self) -> str:
        return f"{FLOAT_NAMES[self.kind]} {self.number}"


def float_id(el: dict) -> tuple[str, str] | None:
    """(kind, id) of a labelled figure or table element, else None."""
    t = el.get("t")
    if t not in ("Figure", "Table", "Div"):
        return None
    ident, classes = el["c"][0][0], el["c"][0][1]
    if t == "Figure":
        return ("fig", ident) if ident.startswith("fig-") else None
    if t == "Div" and "table-float" not in classes:
        return None
    return ("tbl", ident) if ident.startswith("tbl-") else None


def _floats_in_order(blocks: list) -> list[tuple[str, str]]:
    """(kind, id) of the labelled floats, in document order."""
    return [fid for el in elements(blocks) if (fid := float_id(el))]


def collect_xrefs(chapters: list[Chapter]) -> tuple[dict[str, Xref], list[str]]:
    """Number labelled figures and tables per chapter (pure): ``{"fig-x": Xref(...)}``."""
    xrefs: dict[str, Xref] = {}
    warnings: list[str] = []
    for ch in chapters:
        counters = {"fig": 0, "tbl": 0}
        for kind, ident in _floats_in_order(ch.blocks):
            counters[kind] += 1
            number = f"{ch.number}.{counters[kind]}" if ch.number else str(counters[kind])
            if ident in xrefs:
                warnings.append(f"{ch.source}: duplicate label '{ident}' (first defined in {xrefs[ident].source})")
                continue
            xrefs[ident] = Xref(kind, number, ch.page, ch.source)
    return xrefs, warnings


def _prefix_caption(caption: list, prefix: str) -> list:
    short, blocks = caption
    blocks = copy.deepcopy(blocks)
    if blocks and blocks[0]["t"] in ("Plain", "Para"):
        blocks[0] = {"t": blocks[0]["t"], "c": words(prefix + ":") + [{"t": "Space"}] + blocks[0]["c"]}
    else:
        blocks = [{"t": "Plain", "c": words(prefix)}] + blocks
    return [short, blocks]


def number_floats(blocks: list, xrefs: Mapping[str, Xref]) -> list:
    """Prefix captions of labelled floats with "Figure 2.1: " / "Table 2.1: "."""

    def fix(el: dict) -> Any:
        fid = float_id(el)
        if not fid or fid[1] not in xrefs:
            return None
        xref = xrefs[fid[1]]
        if el["t"] == "Figure":
            a, caption, body = el["c"]
            alt_caption = [i for b in caption[1] for i in b["c"]]

            def alt(img: dict) -> Any:  # images without alt text get the caption
                if img["t"] == "Image" and not img["c"][1] and alt_caption:
                    return {"t": "Image", "c": [img["c"][0], alt_caption, img["c"][2]]}
                return None

            return {"t": "Figure", "c": [a, _prefix_caption(caption, xref.text), walk(body, alt)]}
        if el["t"] == "Table":
            c = list(el["c"])
            c[1] = _prefix_caption(c[1], xref.text)
            return {"t": "Table", "c": c}
        # Div table float: caption paragraph (last block, if any) moved on top with the number.
        a, body = el["c"]
        body = list(body)
        caption = body.pop()["c"] if body and body[-1]["t"] == "Para" else []
        head = _prefix_caption([None, [{"t": "Plain", "c": caption}] if caption else []], xref.text)[1]
        cap_div = {"t": "Div", "c": [attr(classes=["table-caption"]), [{"t": "Para", "c": head[0]["c"]}]]}
        return {"t": "Div", "c": [a, [cap_div] + body]}

    return walk(blocks, fix)


def resolve_xrefs(blocks: list, xrefs: Mapping[str, Xref], page: str, fmt: str,
                  source: str = "") -> tuple[list, list[str]]:
    """Replace ``@fig-x`` citations by "Figure 2.1" (a link in HTML, text in the PDF).  Unknown
    ``fig-``/``tbl-``/``sec-`` labels give "?@fig-x" and a warning; other citations (no
    bibliography support) are kept as their literal text."""
    warnings: list[str] = []

    def fix(el: dict) -> Any:
        if el["t"] != "Cite":
            return None
        citations, literal = el["c"]
        out: list = []
        for i, cit in enumerate(citations):
            cid = cit["citationId"]
            if i:
                out += [str_(";"), {"t": "Space"}]
            if cit.get("citationPrefix"):
                out += cit["citationPrefix"] + [{"t": "Space"}]
            if cid in xrefs:
                xref = xrefs[cid]
                suppress = cit.get("citationMode", {}).get("t") == "SuppressAuthor"
                text = words(xref.number if suppress else xref.text)
                if fmt == "html":
                    href = ("" if xref.page == page else relurl(page, xref.page)) + "#" + cid
                    out.append({"t": "Link", "c": [attr(classes=["quarto-xref"]), text, [href, ""]]})
                else:
                    out += text
            elif cid.split("-", 1)[0] in ("fig", "tbl", "sec") and "-" in cid:
                warnings.append(f"{source or page}: unresolved cross-reference @{cid}")
                out.append({"t": "Strong", "c": [str_(f"?@{cid}")]})
            else:
                warnings.append(f"{source or page}: citation @{cid} left as text (no bibliography support)")
                return literal
            if cit.get("citationSuffix"):
                out += cit["citationSuffix"]
        return out

    return walk(blocks, fix), warnings
