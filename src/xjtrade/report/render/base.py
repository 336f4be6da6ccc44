"""Shared pieces of the renderer: the error type, path helpers, the Pandoc JSON tree and pandoc itself."""

from __future__ import annotations

import datetime as _dt
import json
import posixpath
import re
import subprocess
import unicodedata
from typing import Any, Callable, Iterable, Iterator


class RenderError(Exception):
    """The project cannot be rendered; the message names the file/key and the problem."""


# --------------------------------------------------------------------------------------------------
# Paths and strings
# --------------------------------------------------------------------------------------------------


def slugify(text: str, default: str = "book") -> str:
    """ASCII slug: "Xinjiang Trade Monitor" -> "xinjiang-trade-monitor"."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or default


def page_name(source: str) -> str:
    """HTML page for a chapter source path (Quarto keeps the directory structure)."""
    return posixpath.splitext(source)[0] + ".html"


def relurl(from_page: str, target: str) -> str:
    """Relative URL from the page ``from_page`` to the site path ``target`` (both site-relative)."""
    base = posixpath.dirname(from_page) or "."
    return posixpath.relpath(target, base)


def is_external(url: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url)) or url.startswith("//")


def join_source(text: Any) -> str:
    if isinstance(text, list):
        return "".join(str(t) for t in text)
    return "" if text is None else str(text)


def fence(text: str, char: str = "`") -> str:
    """A code fence longer than any run of ``char`` inside ``text``."""
    runs = [len(m.group(0)) for m in re.finditer(re.escape(char) + "+", text)]
    return char * max(3, max(runs, default=0) + 1)


# The metadata key of the PDF's page footer (plain text: how to cite the edition, its licence), given by
# the publish step.  The portable engine's template prints it on every body page; for Quarto's PDF it
# becomes a typst page rule (quarto.page_footer_typst) and is not passed to the Quarto CLI.
PAGE_FOOTER = "xj-page-footer"


def typst_string(text: str) -> str:
    """A typst string literal."""
    clean = " ".join(str(text).split())
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def meta_arg(value: Any) -> str:
    """A metadata value as text (command lines, Pandoc MetaString)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------------------------------
# Pandoc JSON tree (pure)
# --------------------------------------------------------------------------------------------------


def str_(text: str) -> dict:
    return {"t": "Str", "c": text}


def words(text: str) -> list[dict]:
    out: list[dict] = []
    for i, word in enumerate(text.split()):
        if i:
            out.append({"t": "Space"})
        out.append(str_(word))
    return out


def attr(ident: str = "", classes: Iterable[str] = (), kv: Iterable[tuple[str, str]] = ()) -> list:
    return [ident, list(classes), [list(p) for p in kv]]


def raw(fmt: str, text: str) -> dict:
    return {"t": "RawBlock", "c": [fmt, text]}


def walk(value: Any, fn: Callable[[dict], Any]) -> Any:
    """Bottom-up transform of a Pandoc JSON tree.  ``fn(element)`` returns None (keep), an element,
    or a list of elements (spliced into the parent list)."""
    if isinstance(value, list):
        out = []
        for item in value:
            item = walk(item, fn)
            if isinstance(item, dict) and "t" in item:
                result = fn(item)
                if result is None:
                    out.append(item)
                elif isinstance(result, list):
                    out.extend(result)
                else:
                    out.append(result)
            else:
                out.append(item)
        return out
    if isinstance(value, dict):
        return {k: walk(v, fn) for k, v in value.items()}
    return value


def elements(value: Any) -> Iterator[dict]:
    """Every element (a dict with a "t") of a Pandoc JSON tree, in document order (pre-order)."""
    if isinstance(value, list):
        for item in value:
            yield from elements(item)
    elif isinstance(value, dict):
        if "t" in value:
            yield value
        for v in value.values():
            if isinstance(v, (list, dict)):
                yield from elements(v)


def stringify(value: Any) -> str:
    """Plain text of a Pandoc JSON fragment."""
    parts: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            t = node.get("t")
            if t in ("Str", "MetaString"):
                parts.append(node["c"])
            elif t in ("Space", "SoftBreak", "LineBreak"):
                parts.append(" ")
            elif t in ("Code", "Math"):
                parts.append(node["c"][1])
            elif t == "Quoted":
                q = '"' if node["c"][0]["t"] == "DoubleQuote" else "'"
                parts.extend([q, stringify(node["c"][1]), q])
            elif t in ("Link", "Image", "Span", "Div", "Cite"):
                visit(node["c"][1])
            elif t in ("RawInline", "RawBlock", "Note"):
                pass
            elif "c" in node:
                visit(node["c"])

    visit(value)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def meta(value: Any) -> dict:
    """Python value -> Pandoc MetaValue (strings stay literal text, escaped by the writer)."""
    if isinstance(value, bool):
        return {"t": "MetaBool", "c": value}
    if isinstance(value, dict):
        if value.get("t", "").startswith("Meta"):
            return value
        return {"t": "MetaMap", "c": {str(k): meta(v) for k, v in value.items() if v is not None}}
    if isinstance(value, (list, tuple)):
        return {"t": "MetaList", "c": [meta(v) for v in value]}
    return {"t": "MetaString", "c": meta_arg(value)}


# --------------------------------------------------------------------------------------------------
# pandoc (from pypandoc_binary)
# --------------------------------------------------------------------------------------------------


def pandoc_binary() -> str:
    try:
        import pypandoc
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise RenderError("pandoc is not available: install pypandoc_binary") from exc
    try:
        return pypandoc.get_pandoc_path()
    except OSError as exc:  # pragma: no cover
        raise RenderError(f"pandoc is not available: {exc}") from exc


def pandoc_version(pandoc: str) -> str:
    out = subprocess.run([pandoc, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"pandoc(?:\.exe)?\s+([\d.]+)", out)
    return match.group(1) if match else "?"


def run_pandoc(pandoc: str, args: list[str], data: str, what: str, warnings: list[str]) -> str:
    proc = subprocess.run([pandoc, *args], input=data.encode("utf-8"), capture_output=True, check=False)
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise RenderError(f"pandoc failed on {what} (exit {proc.returncode}):\n{stderr}")
    for line in stderr.splitlines():
        if line.strip():
            warnings.append(f"{what}: pandoc: {line.strip()}")
    return proc.stdout.decode("utf-8")
