"""Executed notebooks (.ipynb) -> Pandoc Markdown, the way Quarto renders them with ``echo: false``.

Code is never shown; papermill ``parameters``/``injected-parameters`` cells are dropped; stream and
error outputs are dropped; ``#| output: false`` / ``#| include: false`` hide a cell's outputs.
Image outputs become files ``figures/<stem>-<n>.<ext>`` referenced as ``/figures/...`` (site root).
A cell with ``fig-cap`` (or a ``fig-`` label) becomes a figure div ``::: {#fig-label}`` with the
caption as last paragraph (Quarto's div syntax); ``tbl-cap`` wraps the output in ``::: {#tbl-label}``.
``text/html`` outputs are raw HTML in the site (a ``.only-html`` div); the PDF gets a ``.only-pdf``
div with ``html_table_to_markdown(html)`` (a real table) or the ``text/plain`` representation.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import yaml

from .base import RenderError, fence, join_source

HIDDEN_CELL_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell"}
HIDDEN_OUTPUT_TAGS = {"remove-output", "remove_output"}
# Output MIME types in order of preference (Quarto's order for HTML).
MIME_PRIORITY = ("image/svg+xml", "image/png", "image/jpeg", "image/gif", "text/markdown", "text/html", "text/plain")
IMAGE_EXT = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}
_OPTION_LINE = re.compile(r"^\s*#\|\s?(.*)$")


def parse_cell_options(source: str | list[str] | None) -> tuple[dict, str, str | None]:
    """Split Quarto ``#|`` cell options off a code cell: ``(options, remaining code, error)``."""
    lines = join_source(source).splitlines()
    option_lines: list[str] = []
    while lines and (option := _OPTION_LINE.match(lines[0])):
        option_lines.append(option.group(1))
        lines.pop(0)
    if not option_lines:
        return {}, "\n".join(lines), None
    try:
        options = yaml.safe_load("\n".join(option_lines)) or {}
    except yaml.YAMLError as exc:
        return {}, "\n".join(lines), f"invalid cell options: {exc}"
    if not isinstance(options, dict):
        return {}, "\n".join(lines), "cell options are not a mapping"
    return options, "\n".join(lines), None


@dataclass
class Asset:
    path: str  # site-relative posix path, e.g. "figures/01-data-1.svg"
    data: bytes


@dataclass
class ConvertedNotebook:
    markdown: str
    assets: list[Asset]
    warnings: list[str]


def only(fmt: str, body: str) -> str:
    """A div shown only in the ``html`` or the ``pdf`` output."""
    return f"::::: {{.only-{fmt}}}\n{body}\n:::::"


def _code_block(text: str) -> str:
    f = fence(text)
    return f"{f} {{.cell-output}}\n{text.rstrip()}\n{f}"


def _caption_text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return " ".join(str(value or "").split())


def attribute_value(text: str) -> str:
    """Text inside a pandoc attribute value in double quotes: backslashes and double quotes escaped
    (pandoc reads ``\\"`` as a quote), so a ``fig-alt`` with quotes is kept, not dropped."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _paragraph(text: str) -> str:
    """Markdown for a one-line paragraph that must not turn into a heading, list, quote or table."""
    if re.match(r"^(?:[#>|*+:-]|\d+[.)])", text):
        match = re.match(r"^(\d+)([.)])", text)
        return f"{match.group(1)}\\{match.group(2)}{text[match.end():]}" if match else "\\" + text
    return text


def _float_block(parts: list[str], caption: str, label: str, prefix: str) -> str:
    """Outputs of one cell, wrapped as a figure or table div (id when the label has `prefix`,
    caption when given) in Quarto's way, or left as they are."""
    body = "\n\n".join(parts)
    if not (caption or label.startswith(prefix)):
        return body
    ident = f"#{label} " if label.startswith(prefix) else ""
    cap = f"\n\n{_paragraph(caption)}" if caption else ""
    return f"::::::: {{{ident}.cell-output-display}}\n{body}{cap}\n:::::::"


def _html_output(html: str, bundle: dict, to_markdown, name: str, index: int, warnings: list[str]) -> str:
    parts = [only("html", f"{fence(html)}{{=html}}\n{html}\n{fence(html)}")]
    pdf_alt = None
    if to_markdown is not None and "<table" in html.lower():
        try:
            pdf_alt = to_markdown(re.sub(r"(?is)<style.*?</style>", "", html)).strip() or None
        except RenderError as exc:
            warnings.append(f"{name}: cell {index}: HTML table not converted for the PDF: {exc}")
    if pdf_alt is None and "text/plain" in bundle:
        pdf_alt = _code_block(bundle["text/plain"])
    if pdf_alt:
        parts.append(only("pdf", pdf_alt))
    return "\n\n".join(parts)


def notebook_to_markdown(nb: Mapping[str, Any], stem: str, source: str = "",
                         html_table_to_markdown: Callable[[str], str] | None = None) -> ConvertedNotebook:
    """Turn an executed notebook (as a dict) into Pandoc Markdown plus image assets (pure)."""
    name = source or f"{stem}.ipynb"
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise RenderError(f"{name}: not a Jupyter notebook (no 'cells' list)")
    chunks: list[str] = []
    assets: list[Asset] = []
    warnings: list[str] = []
    n_image = 0
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            continue
        tags = set((cell.get("metadata") or {}).get("tags") or [])
        if tags & HIDDEN_CELL_TAGS:
            continue
        if cell.get("cell_type") == "markdown":
            text = join_source(cell.get("source")).strip()
            if text:
                chunks.append(text)
            continue
        if cell.get("cell_type") != "code":
            continue
        options, _code, error = parse_cell_options(cell.get("source"))
        if error:
            warnings.append(f"{name}: cell {index}: {error}")
        if options.get("include") is False or options.get("output") is False or tags & HIDDEN_OUTPUT_TAGS:
            continue
        label = str(options.get("label") or "").strip()
        fig_alt = _caption_text(options.get("fig-alt"))
        images: list[str] = []
        others: list[str] = []
        for output in cell.get("outputs") or []:
            otype = output.get("output_type")
            if otype == "error":
                warnings.append(f"{name}: cell {index} has an error output ({output.get('ename', 'error')}); dropped")
            if otype not in ("display_data", "execute_result"):
                continue
            bundle = {mime: join_source(content) for mime, content in (output.get("data") or {}).items()}
            mime = next((m for m in MIME_PRIORITY if m in bundle), None)
            if mime in IMAGE_EXT:
                n_image += 1
                path = f"figures/{stem}-{n_image}.{IMAGE_EXT[mime]}"
                content = bundle[mime]
                data = content.encode("utf-8") if mime == "image/svg+xml" else base64.b64decode(content)
                assets.append(Asset(path, data))
                alt = f'{{fig-alt="{attribute_value(fig_alt)}"}}' if fig_alt else ""
                images.append(f"![](/{path}){alt}")
            elif mime == "text/markdown":
                others.append(bundle[mime].strip())
            elif mime == "text/html":
                others.append(_html_output(bundle[mime].strip(), bundle, html_table_to_markdown, name, index,
                                           warnings))
            elif mime == "text/plain":
                text = bundle[mime]
                others.append(text.strip() if options.get("output") == "asis" else _code_block(text))
        if images:
            chunks.append(_float_block(images, _caption_text(options.get("fig-cap")), label, "fig-"))
        if others:
            chunks.append(_float_block(others, _caption_text(options.get("tbl-cap")), label, "tbl-"))
    return ConvertedNotebook("\n\n".join(chunks) + "\n", assets, warnings)
