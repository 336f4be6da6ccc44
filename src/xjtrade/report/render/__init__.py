"""Render a staged Quarto book project into an HTML site and a PDF.

Two engines produce the same output layout::

    <output_dir>/site/index.html            first page of the book
    <output_dir>/site/<chapter>.html        one page per chapter, mirroring the source path
                                            (``notebooks/01-data.ipynb`` -> ``notebooks/01-data.html``)
    <output_dir>/site/site.css              shared stylesheet (portable engine)
    <output_dir>/site/figures/...           notebook figures (``<notebook-stem>-<n>.svg|png``)
    <output_dir>/site/notebooks/*.ipynb     downloadable notebooks (same relative path as the source)
    <output_dir>/site/<slug>.pdf            copy of the PDF, linked from every page
    <output_dir>/<slug>.pdf                 the whole book as one PDF (``slug`` = slugified book title)

* ``quarto``: the Quarto CLI (``quarto render --to html`` and ``--to typst``), when it is installed.
* ``portable``: pandoc (from ``pypandoc_binary``) + typst (the ``typst`` Python package).  It reads the
  same ``_quarto.yml`` and implements the subset of Quarto the report uses: book chapters and parts,
  notebook cell options (``#| label``, ``fig-cap``, ``tbl-cap``, ``output``, ``include``), hidden
  ``parameters`` cells, numbered figures and tables, ``@fig-``/``@tbl-`` cross-references, callouts and
  ``.content-visible when-format=...`` blocks.

Conventions of the portable engine (chosen to follow Quarto books):

* Chapter numbers: the book's first page (``index.qmd``), part pages and chapters whose title heading is
  marked ``{.unnumbered}`` are unnumbered; the other chapters are numbered 1, 2, ... in the order of
  ``_quarto.yml``; ``book.appendices`` are numbered A, B, ...  Website projects are not numbered.
* Figures and tables are numbered per chapter: "Figure 2.1", "Table 3.2"; in an unnumbered chapter
  simply "Figure 1".  Captions read "Figure 2.1: <caption>".  Only floats with a ``fig-``/``tbl-`` label
  are numbered (and counted in :class:`RenderResult`).
* ``@fig-x`` / ``@tbl-x`` become links "Figure 2.1" (to ``page.html#fig-x``) in HTML and the plain text
  "Figure 2.1" in the PDF; ``[-@fig-x]`` gives only the number.  Unresolved references render as
  "?@fig-x" (like Quarto) and are reported in :attr:`RenderResult.warnings`.
* Determinism: no timestamps are written.  The PDF creation date is taken from ``SOURCE_DATE_EPOCH`` if
  set, else from the book's ``date`` when it is an ISO date; otherwise the PDF carries no date
  (``set document(date: none)``).  The timestamp is passed with ``typst.compile(..., timestamp=...)``,
  which typst-py documents as "equivalent to SOURCE_DATE_EPOCH" (typst only uses it while
  ``document.date`` is ``auto``).
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import importlib.metadata
import importlib.util
import json
import os
import posixpath
import re
import shutil
import subprocess
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

__all__ = [
    "RenderError",
    "RenderResult",
    "BookConfig",
    "ChapterEntry",
    "find_quarto",
    "quarto_command",
    "render_project",
    "parse_config",
    "load_config",
    "parse_cell_options",
    "notebook_to_markdown",
    "slugify",
]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
HTML_TEMPLATE = TEMPLATE_DIR / "site.html"
CSS_FILE = TEMPLATE_DIR / "site.css"
TYPST_TEMPLATE = TEMPLATE_DIR / "report.typ"

CHAPTER_SUFFIXES = (".qmd", ".ipynb", ".md", ".markdown")
ENGINES = ("auto", "quarto", "portable")
HIDDEN_CELL_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell"}
HIDDEN_OUTPUT_TAGS = {"remove-output", "remove_output"}
XREF_PREFIXES = ("fig", "tbl", "sec", "eq", "lst", "thm", "lem", "cor", "prp", "cnj", "def", "exm", "exr")
FLOAT_NAMES = {"fig": "Figure", "tbl": "Table"}
CALLOUT_TITLES = {
    "note": "Note",
    "tip": "Tip",
    "warning": "Warning",
    "important": "Important",
    "caution": "Caution",
}
# Output MIME types in order of preference (Quarto's order for HTML; the PDF falls back to text/plain
# for text/html, see _output_markdown).
MIME_PRIORITY = (
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "text/markdown",
    "text/html",
    "text/plain",
)
IMAGE_EXT = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}
FORMAT_ALIASES = {
    "html": {"html", "html5", "html4", "html:js"},
    "pdf": {"pdf", "typst", "latex", "beamer"},
}


class RenderError(Exception):
    """The project cannot be rendered; the message names the file/key and the problem."""


@dataclass
class RenderResult:
    engine: str
    html_dir: Path
    index_html: Path
    pdf: Path | None
    pages: list[str]
    figures: int
    tables: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Small pure helpers
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


def _is_external(url: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url)) or url.startswith("//")


def _join_source(text: Any) -> str:
    if isinstance(text, list):
        return "".join(str(t) for t in text)
    return "" if text is None else str(text)


def _fence(text: str, char: str = "`") -> str:
    """A code fence longer than any run of ``char`` inside ``text``."""
    runs = [len(m.group(0)) for m in re.finditer(re.escape(char) + "+", text)]
    return char * max(3, max(runs, default=0) + 1)


def _typst_string(text: str) -> str:
    """A typst string literal."""
    clean = " ".join(str(text).split())
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------------------------------
# Quarto discovery and command line
# --------------------------------------------------------------------------------------------------


def _quarto_cli_binary() -> Path | None:
    """The binary bundled with the ``quarto_cli`` Python package, if installed (not imported)."""
    try:
        spec = importlib.util.find_spec("quarto_cli")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        for name in ("quarto", "quarto.exe", "quarto.cmd"):
            candidate = Path(location) / "bin" / name
            if candidate.is_file():
                return candidate
    return None


def _find_quarto_with_reason(environ: Mapping[str, str] | None = None) -> tuple[Path | None, str]:
    env = os.environ if environ is None else environ
    explicit = env.get("QUARTO_PATH")
    if explicit:
        path = Path(explicit)
        if path.is_file():
            return path, "QUARTO_PATH"
    found = shutil.which("quarto", path=env.get("PATH", ""))
    if found:
        return Path(found), "PATH"
    bundled = _quarto_cli_binary()
    if bundled is not None:
        return bundled, "quarto_cli package"
    return None, "quarto not found"


def find_quarto(environ: Mapping[str, str] | None = None) -> Path | None:
    """Locate the Quarto CLI: ``QUARTO_PATH`` (a file), ``quarto`` on ``PATH``, the ``quarto_cli`` package."""
    return _find_quarto_with_reason(environ)[0]


def _meta_arg(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)


def quarto_command(
    quarto: str | os.PathLike,
    project_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    fmt: str,
    metadata: Mapping[str, Any] | None = None,
) -> list[str]:
    """The ``quarto render`` command line (pure; metadata keys sorted for reproducibility)."""
    cmd = [str(quarto), "render", str(project_dir), "--to", fmt, "--output-dir", str(output_dir)]
    for key in sorted(metadata or {}):
        cmd += ["-M", f"{key}:{_meta_arg(metadata[key])}"]
    return cmd


# --------------------------------------------------------------------------------------------------
# _quarto.yml
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChapterEntry:
    path: str  # posix path relative to the project directory
    part: str | None = None  # label of the part the chapter belongs to (or the part page's path)
    appendix: bool = False
    part_page: bool = False  # the file given as ``part:`` (a page introducing the part)


@dataclass
class BookConfig:
    title: str
    subtitle: str | None
    authors: list[str]
    date: str | None
    chapters: list[ChapterEntry]
    project_type: str = "book"  # "book" or "website"
    formats: list[str] = field(default_factory=list)
    lang: str = "en"
    number_sections: bool = True
    warnings: list[str] = field(default_factory=list)


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def _check_path(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RenderError(f"_quarto.yml: key '{key}' must be a file name, got {_type_name(value)}")
    path = posixpath.normpath(value.strip().replace("\\", "/"))
    if path.startswith("/") or path == ".." or path.startswith("../"):
        raise RenderError(f"_quarto.yml: key '{key}' must be a path inside the project, got '{value}'")
    if not path.lower().endswith(CHAPTER_SUFFIXES):
        raise RenderError(
            f"_quarto.yml: key '{key}': unsupported chapter type '{value}' "
            f"(expected {', '.join(CHAPTER_SUFFIXES)})"
        )
    return path


def _book_entries(items: Any, key: str, appendix: bool = False) -> list[ChapterEntry]:
    if not isinstance(items, list):
        raise RenderError(f"_quarto.yml: key '{key}' must be a list of chapter files, got {_type_name(items)}")
    entries: list[ChapterEntry] = []
    for i, item in enumerate(items):
        item_key = f"{key}[{i}]"
        if isinstance(item, str):
            entries.append(ChapterEntry(_check_path(item, item_key), appendix=appendix))
        elif isinstance(item, dict) and "part" in item:
            part = item["part"]
            if not isinstance(part, str) or not part.strip():
                raise RenderError(f"_quarto.yml: key '{item_key}.part' must be a string")
            label = part.strip()
            if label.lower().endswith(CHAPTER_SUFFIXES):
                label = _check_path(label, f"{item_key}.part")
                entries.append(ChapterEntry(label, part=label, appendix=appendix, part_page=True))
            for sub in _book_entries(item.get("chapters", []), f"{item_key}.chapters", appendix):
                entries.append(ChapterEntry(sub.path, part=label, appendix=appendix))
        elif isinstance(item, dict) and ("href" in item or "file" in item):
            target = item.get("href", item.get("file"))
            entries.append(ChapterEntry(_check_path(target, f"{item_key}.href"), appendix=appendix))
        else:
            raise RenderError(
                f"_quarto.yml: key '{item_key}' must be a file name or a {{part, chapters}} mapping, "
                f"got {_type_name(item)}"
            )
    return entries


def _website_entries(items: Any, key: str, section: str | None, warnings: list[str]) -> list[ChapterEntry]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise RenderError(f"_quarto.yml: key '{key}' must be a list, got {_type_name(items)}")
    entries: list[ChapterEntry] = []
    for i, item in enumerate(items):
        item_key = f"{key}[{i}]"
        if isinstance(item, str):
            if item == "auto" or _is_external(item):
                warnings.append(f"_quarto.yml: '{item_key}' ({item}) is not supported by the portable renderer; skipped")
                continue
            entries.append(ChapterEntry(_check_path(item, item_key), part=section))
        elif isinstance(item, dict):
            if "section" in item or "contents" in item:
                label = item.get("section")
                label = label if isinstance(label, str) else section
                if isinstance(item.get("href"), str) and not _is_external(item["href"]):
                    entries.append(ChapterEntry(_check_path(item["href"], f"{item_key}.href"), part=label))
                entries += _website_entries(item.get("contents"), f"{item_key}.contents", label, warnings)
            elif "menu" in item:
                entries += _website_entries(item["menu"], f"{item_key}.menu", section, warnings)
            elif isinstance(item.get("href", item.get("file")), str):
                target = item.get("href", item.get("file"))
                if _is_external(target):
                    continue
                entries.append(ChapterEntry(_check_path(target, f"{item_key}.href"), part=section))
            else:
                raise RenderError(f"_quarto.yml: key '{item_key}' must have an 'href' or 'section'")
        else:
            raise RenderError(f"_quarto.yml: key '{item_key}' must be a file name or a mapping, got {_type_name(item)}")
    return entries


def _authors(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    names = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, dict):  # Quarto's {name: {given, family}}
                name = " ".join(str(name[k]) for k in ("given", "family") if name.get(k))
            item = name
        if not isinstance(item, (str, int, float)) or str(item).strip() == "":
            raise RenderError(f"_quarto.yml: key '{key}' must be a name or a list of names")
        names.append(str(item).strip())
    return names


def _scalar(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float)):
        return str(value)
    raise RenderError(f"_quarto.yml: key '{key}' must be a string, got {_type_name(value)}")


def _dedupe(entries: list[ChapterEntry], warnings: list[str]) -> list[ChapterEntry]:
    seen: set[str] = set()
    out = []
    for entry in entries:
        if entry.path in seen:
            warnings.append(f"_quarto.yml: '{entry.path}' is listed more than once; rendered once")
            continue
        seen.add(entry.path)
        out.append(entry)
    return out


def _section_config(kind: str, section: dict, data: dict, chapters: list[ChapterEntry], formats, lang,
                    number_sections: bool, warnings: list[str]) -> BookConfig:
    """The BookConfig of a `book:` or `website:` section (title, subtitle, authors, date may also sit at
    the top level of _quarto.yml)."""
    title = _scalar(section.get("title", data.get("title")), f"{kind}.title")
    if not title:
        if kind == "book":
            warnings.append("_quarto.yml: key 'book.title' is missing; using 'Untitled'")
        title = "Untitled"
    return BookConfig(
        title=title,
        subtitle=_scalar(section.get("subtitle"), f"{kind}.subtitle"),
        authors=_authors(section.get("author", data.get("author")), f"{kind}.author"),
        date=_scalar(section.get("date", data.get("date")), f"{kind}.date"),
        chapters=_dedupe(chapters, warnings),
        project_type=kind,
        formats=formats,
        lang=lang,
        number_sections=number_sections,
        warnings=warnings,
    )


def parse_config(data: Any) -> BookConfig:
    """Interpret a parsed ``_quarto.yml`` (pure).  Raises :class:`RenderError` naming the bad key."""
    if not isinstance(data, dict):
        raise RenderError(f"_quarto.yml: the top level must be a mapping, got {_type_name(data)}")
    warnings: list[str] = []
    project = data.get("project", {}) or {}
    if not isinstance(project, dict):
        raise RenderError("_quarto.yml: key 'project' must be a mapping")
    ptype = project.get("type")
    formats_raw = data.get("format") or {}
    if isinstance(formats_raw, str):
        formats = [formats_raw]
    elif isinstance(formats_raw, dict):
        formats = [str(k) for k in formats_raw]
    else:
        raise RenderError("_quarto.yml: key 'format' must be a mapping or a format name")
    number_sections = data.get("number-sections", True) is not False
    for fmt_opts in (formats_raw.values() if isinstance(formats_raw, dict) else []):
        if isinstance(fmt_opts, dict) and fmt_opts.get("number-sections") is False:
            number_sections = False
    lang = str(data.get("lang") or "en")

    if "book" in data or ptype == "book":
        book = data.get("book")
        if not isinstance(book, dict):
            raise RenderError(f"_quarto.yml: key 'book' must be a mapping, got {_type_name(book)}")
        if "chapters" not in book:
            raise RenderError("_quarto.yml: key 'book.chapters' is missing")
        chapters = _book_entries(book["chapters"], "book.chapters")
        if "appendices" in book:
            chapters += _book_entries(book["appendices"], "book.appendices", appendix=True)
        if not chapters:
            raise RenderError("_quarto.yml: key 'book.chapters' is empty")
        return _section_config("book", book, data, chapters, formats, lang, number_sections, warnings)

    if "website" in data or ptype == "website":
        site = data.get("website")
        if not isinstance(site, dict):
            raise RenderError(f"_quarto.yml: key 'website' must be a mapping, got {_type_name(site)}")
        entries: list[ChapterEntry] = []
        sidebars = site.get("sidebar")
        if isinstance(sidebars, dict):
            sidebars = [sidebars]
        if sidebars is not None and not isinstance(sidebars, list):
            raise RenderError("_quarto.yml: key 'website.sidebar' must be a mapping or a list")
        for i, sidebar in enumerate(sidebars or []):
            if not isinstance(sidebar, dict):
                raise RenderError(f"_quarto.yml: key 'website.sidebar[{i}]' must be a mapping")
            entries += _website_entries(sidebar.get("contents"), "website.sidebar.contents", None, warnings)
        navbar = site.get("navbar")
        if navbar is not None:
            if not isinstance(navbar, dict):
                raise RenderError("_quarto.yml: key 'website.navbar' must be a mapping")
            for side in ("left", "right"):
                entries += _website_entries(navbar.get(side), f"website.navbar.{side}", None, warnings)
        if not entries:
            raise RenderError("_quarto.yml: key 'website.sidebar.contents' (or 'website.navbar') lists no pages")
        return _section_config("website", site, data, entries, formats, lang, False, warnings)

    raise RenderError("_quarto.yml: key 'book' (with 'chapters') or 'website' is missing")


def load_config(project_dir: str | os.PathLike) -> BookConfig:
    """Read and validate ``_quarto.yml``; every listed chapter must exist."""
    project_dir = Path(project_dir)
    path = project_dir / "_quarto.yml"
    if not path.is_file():
        raise RenderError(f"_quarto.yml not found in {project_dir}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RenderError(f"_quarto.yml: invalid YAML: {exc}") from exc
    config = parse_config(data)
    if config.project_type == "website" and not any(c.path == "index.qmd" for c in config.chapters):
        if (project_dir / "index.qmd").is_file():
            config.chapters.insert(0, ChapterEntry("index.qmd"))
    for entry in config.chapters:
        if not (project_dir / entry.path).is_file():
            raise RenderError(
                f"chapter '{entry.path}' is listed in _quarto.yml but the file does not exist "
                f"in {project_dir}"
            )
    return config


# --------------------------------------------------------------------------------------------------
# Notebooks -> Pandoc Markdown
# --------------------------------------------------------------------------------------------------


_OPTION_LINE = re.compile(r"^\s*#\|\s?(.*)$")


def parse_cell_options(source: str | list[str]) -> tuple[dict, str, str | None]:
    """Split Quarto ``#|`` cell options off a code cell: ``(options, remaining code, error)``."""
    lines = _join_source(source).splitlines()
    option_lines: list[str] = []
    while lines and _OPTION_LINE.match(lines[0]):
        option_lines.append(_OPTION_LINE.match(lines.pop(0)).group(1))
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


def _conditional(fmt: str, body: str) -> str:
    return f'::::: {{.content-visible when-format="{fmt}"}}\n{body}\n:::::'


def _code_block(text: str, classes: str = ".cell-output") -> str:
    fence = _fence(text)
    return f"{fence} {{{classes}}}\n{text.rstrip()}\n{fence}"


def _caption_text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return " ".join(str(value or "").split())


def _paragraph(text: str) -> str:
    """Markdown for a one-line paragraph that must not turn into a heading, list, quote or table."""
    if re.match(r"^(?:[#>|*+:-]|\d+[.)])", text):
        match = re.match(r"^(\d+)([.)])", text)
        return f"{match.group(1)}\\{match.group(2)}{text[match.end():]}" if match else "\\" + text
    return text


def _output_bundle(output: dict) -> dict[str, str]:
    data = output.get("data") or {}
    return {mime: _join_source(content) if not isinstance(content, (dict,)) else content
            for mime, content in data.items()}


def _float_block(parts: list[str], caption, label: str, prefix: str) -> str:
    """Outputs of one cell, wrapped as a figure or table div (id when the label has `prefix`,
    caption when given) in Quarto's way, or left as they are."""
    body = "\n\n".join(parts)
    if not (caption or label.startswith(prefix)):
        return body
    ident = f"#{label} " if label.startswith(prefix) else ""
    cap = f"\n\n{_paragraph(caption)}" if caption else ""
    return f"::::::: {{{ident}.cell-output-display}}\n{body}{cap}\n:::::::"


def notebook_to_markdown(
    nb: Mapping[str, Any],
    stem: str,
    source: str = "",
    html_table_to_markdown: Callable[[str], str] | None = None,
) -> ConvertedNotebook:
    """Turn an executed notebook (as a dict) into Pandoc Markdown plus image assets (pure).

    Code is never shown; papermill ``parameters``/``injected-parameters`` cells are dropped; stream
    and error outputs are dropped; ``#| output: false`` / ``#| include: false`` hide outputs.  Image
    outputs become files ``figures/<stem>-<n>.<ext>`` referenced as ``/figures/...`` (site root).
    A cell with ``fig-cap`` (or a ``fig-`` label) becomes a figure div ``::: {#fig-label}`` with the
    caption as last paragraph (Quarto's div syntax); ``tbl-cap`` wraps the output in ``::: {#tbl-label}``.
    ``text/html`` outputs are raw HTML in the site; the PDF gets ``html_table_to_markdown(html)`` (a
    real table, e.g. via pandoc) when the HTML holds a table and a converter is given, else the
    ``text/plain`` representation (what Jupyter/Quarto use for non-HTML formats).
    """
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
        ctype = cell.get("cell_type")
        if ctype == "markdown":
            text = _join_source(cell.get("source")).strip()
            if text:
                chunks.append(text)
            continue
        if ctype == "raw":
            mime = (cell.get("metadata") or {}).get("raw_mimetype") or (cell.get("metadata") or {}).get("format")
            text = _join_source(cell.get("source"))
            if mime in ("text/markdown", "markdown"):
                chunks.append(text.strip())
            elif mime in ("text/html", "html"):
                chunks.append(_conditional("html", f"{_fence(text)}{{=html}}\n{text}\n{_fence(text)}"))
            continue
        if ctype != "code":
            continue
        options, _code, error = parse_cell_options(cell.get("source"))
        if error:
            warnings.append(f"{name}: cell {index}: {error}")
        if options.get("include") is False or options.get("output") is False or tags & HIDDEN_OUTPUT_TAGS:
            continue
        label = str(options.get("label") or "").strip()
        fig_cap = _caption_text(options.get("fig-cap"))
        tbl_cap = _caption_text(options.get("tbl-cap"))
        fig_alt = _caption_text(options.get("fig-alt"))
        asis = options.get("output") == "asis"
        images: list[str] = []
        others: list[str] = []
        for output in cell.get("outputs") or []:
            otype = output.get("output_type")
            if otype == "stream":
                continue
            if otype == "error":
                warnings.append(f"{name}: cell {index} has an error output ({output.get('ename', 'error')}); dropped")
                continue
            if otype not in ("display_data", "execute_result"):
                continue
            bundle = _output_bundle(output)
            mime = next((m for m in MIME_PRIORITY if m in bundle), None)
            if mime is None:
                continue
            if mime in IMAGE_EXT:
                n_image += 1
                path = f"figures/{stem}-{n_image}.{IMAGE_EXT[mime]}"
                content = bundle[mime]
                data = content.encode("utf-8") if mime == "image/svg+xml" else base64.b64decode(content)
                assets.append(Asset(path, data))
                alt = f'{{fig-alt="{fig_alt}"}}' if fig_alt and '"' not in fig_alt else ""
                images.append(f"![](/{path}){alt}")
            elif mime == "text/markdown":
                others.append(bundle[mime].strip())
            elif mime == "text/html":
                html = bundle[mime].strip()
                parts = [_conditional("html", f"{_fence(html)}{{=html}}\n{html}\n{_fence(html)}")]
                pdf_alt = None
                if html_table_to_markdown is not None and "<table" in html.lower():
                    try:
                        pdf_alt = html_table_to_markdown(re.sub(r"(?is)<style.*?</style>", "", html)).strip() or None
                    except RenderError as exc:
                        warnings.append(f"{name}: cell {index}: HTML table not converted for the PDF: {exc}")
                if pdf_alt is None and "text/plain" in bundle:
                    pdf_alt = _code_block(bundle["text/plain"])
                if pdf_alt:
                    parts.append(_conditional("pdf", pdf_alt))
                others.append("\n\n".join(parts))
            elif mime == "text/plain":
                text = bundle[mime]
                others.append(text.strip() if asis else _code_block(text))
        if images:
            chunks.append(_float_block(images, fig_cap, label, "fig-"))
        if others:
            chunks.append(_float_block(others, tbl_cap, label, "tbl-"))
    return ConvertedNotebook("\n\n".join(chunks) + "\n", assets, warnings)


# --------------------------------------------------------------------------------------------------
# Pandoc AST (JSON) helpers -- pure
# --------------------------------------------------------------------------------------------------


def _str(text: str) -> dict:
    return {"t": "Str", "c": text}


def _words(text: str) -> list[dict]:
    out: list[dict] = []
    for i, word in enumerate(text.split()):
        if i:
            out.append({"t": "Space"})
        out.append(_str(word))
    return out


def _attr(ident: str = "", classes: Iterable[str] = (), kv: Iterable[tuple[str, str]] = ()) -> list:
    return [ident, list(classes), [list(p) for p in kv]]


def _raw(fmt: str, text: str) -> dict:
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
                parts.append(q)
                visit(node["c"][1])
                parts.append(q)
            elif t in ("Link", "Image"):
                visit(node["c"][1])
            elif t in ("Span", "Div"):
                visit(node["c"][1])
            elif t == "Cite":
                visit(node["c"][1])
            elif t in ("RawInline", "RawBlock", "Note"):
                pass
            elif "c" in node:
                visit(node["c"])

    visit(value)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _meta(value: Any) -> dict:
    """Python value -> Pandoc MetaValue (strings stay literal text, escaped by the writer)."""
    if isinstance(value, bool):
        return {"t": "MetaBool", "c": value}
    if isinstance(value, dict):
        if value.get("t", "").startswith("Meta"):
            return value
        return {"t": "MetaMap", "c": {str(k): _meta(v) for k, v in value.items() if v is not None}}
    if isinstance(value, (list, tuple)):
        return {"t": "MetaList", "c": [_meta(v) for v in value]}
    return {"t": "MetaString", "c": _meta_arg(value)}


def _caption_blocks(inlines: list) -> list:
    return [{"t": "Plain", "c": inlines}] if inlines else []


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


def _div_to_float(div: dict) -> Any:
    """Quarto float divs: ``::: {#fig-x}`` (content + caption paragraph) -> Figure; ``::: {#tbl-x}``
    around one table -> that Table with id and caption.  Other divs: unchanged."""
    (ident, classes, kv), blocks = div["c"]
    if not (ident.startswith("fig-") or ident.startswith("tbl-")):
        return None
    caption: list = []
    body = list(blocks)
    if len(body) > 1 and body[-1].get("t") == "Para" and not _only_images(body[-1]):
        caption = body.pop()["c"]
    if ident.startswith("fig-"):
        content = []
        for block in body:
            if _only_images(block):
                block = {"t": "Plain", "c": block["c"]}
            content.append(block)
        return {"t": "Figure", "c": [[ident, classes, kv], [None, _caption_blocks(caption)], content]}
    body = _flatten_plain_divs(body)
    tables = [i for i, b in enumerate(body) if b.get("t") == "Table"]
    if len(tables) == 1:
        table = copy.deepcopy(body[tables[0]])
        table["c"][0] = [ident, table["c"][0][1] + classes, table["c"][0][2] + kv]
        if caption:
            table["c"][1] = [None, _caption_blocks(caption)]
        body[tables[0]] = table
        return body
    return {"t": "Div", "c": [[ident, classes + ["table-float"], kv], body + ([{"t": "Para", "c": caption}] if caption else [])]}


def _fig_alt(img: dict) -> Any:
    """``{fig-alt="..."}`` on an image (Quarto) -> the image's alt text."""
    attr, alt, target = img["c"]
    kv = dict(attr[2])
    if "fig-alt" not in kv:
        return None
    rest = [[k, v] for k, v in attr[2] if k != "fig-alt"]
    return {"t": "Image", "c": [[attr[0], attr[1], rest], _words(kv["fig-alt"]), target]}


def normalize_floats(blocks: list) -> list:
    """Quarto float divs -> Figure/Table elements; ``fig-alt`` attributes -> alt text."""

    def fix(el: dict) -> Any:
        if el["t"] == "Div":
            return _div_to_float(el)
        if el["t"] == "Image":
            return _fig_alt(el)
        return None

    return walk(blocks, fix)


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
    part: str | None = None
    appendix: bool = False
    part_page: bool = False
    number: str | None = None  # "1", "A" or None
    ordinal: int = 0  # position among numbered chapters of the same sequence (1-based)
    assets: list[Asset] = field(default_factory=list)
    api_version: list = field(default_factory=list)  # pandoc-api-version of the parsed document


def extract_title(doc: dict, fallback: str) -> tuple[list, str, bool, list]:
    """Chapter title from front matter ``title`` or the first level-1 heading (removed from the body).
    Returns ``(title inlines, title id, unnumbered, remaining blocks)``."""
    meta = doc.get("meta") or {}
    blocks = list(doc.get("blocks") or [])
    unnumbered = False
    title_id = ""
    title: list | None = None
    mt = meta.get("title")
    if mt is not None:
        if mt["t"] == "MetaInlines":
            title = mt["c"]
        elif mt["t"] == "MetaString":
            title = _words(mt["c"])
        elif mt["t"] == "MetaBlocks":
            title = [i for b in mt["c"] if b["t"] in ("Para", "Plain") for i in b["c"]]
    for flag in ("unnumbered",):
        if meta.get(flag, {}).get("c") is True:
            unnumbered = True
    if meta.get("number-sections", {}).get("c") is False:
        unnumbered = True
    first_header = next((i for i, b in enumerate(blocks) if b["t"] == "Header"), None)
    if first_header is not None and blocks[first_header]["c"][0] == 1:
        level, (ident, classes, _kv), inlines = blocks[first_header]["c"]
        if title is None:
            title = inlines
            title_id = ident
            unnumbered = unnumbered or "unnumbered" in classes or "-" in classes
            del blocks[first_header]
        elif stringify(inlines) == stringify(title):
            # Front matter title repeated as heading: drop the duplicate, keep its flags.
            title_id = ident
            unnumbered = unnumbered or "unnumbered" in classes or "-" in classes
            del blocks[first_header]
    if not title:
        title = _words(fallback)
    return title, title_id, unnumbered, blocks


def demote_headings(blocks: list) -> list:
    """Chapter bodies use level 2+ for sections; shift all headings if a level-1 heading remains."""
    if not any(b["t"] == "Header" and b["c"][0] == 1 for b in blocks):
        return blocks

    def shift(el: dict) -> Any:
        if el["t"] == "Header":
            return {"t": "Header", "c": [min(el["c"][0] + 1, 6), el["c"][1], el["c"][2]]}
        return None

    return walk(blocks, shift)


def prepare_chapter(doc: dict, source: str, fallback_title: str) -> Chapter:
    """Format-independent chapter preparation (pure)."""
    title, title_id, unnumbered, blocks = extract_title(doc, fallback_title)
    blocks = normalize_floats(demote_headings(blocks))
    kind = "ipynb" if source.endswith(".ipynb") else "qmd"
    return Chapter(
        source=source,
        page=page_name(source),
        kind=kind,
        title=title,
        title_text=stringify(title),
        title_id=title_id,
        unnumbered=unnumbered,
        blocks=blocks,
    )


def assign_numbers(chapters: list[Chapter], project_type: str = "book", number_sections: bool = True) -> None:
    """Quarto book convention: the first page (index) and unnumbered/part pages get no number; the
    others 1, 2, ...; appendices A, B, ...  Websites are unnumbered."""
    main = appendix = 0
    for i, ch in enumerate(chapters):
        ch.number = None
        ch.ordinal = 0
        index_page = i == 0 and posixpath.basename(posixpath.splitext(ch.source)[0]) == "index"
        if project_type != "book" or not number_sections or index_page or ch.unnumbered or ch.part_page:
            continue
        if ch.appendix:
            appendix += 1
            ch.ordinal = appendix
            ch.number = _appendix_letter(appendix)
        else:
            main += 1
            ch.ordinal = main
            ch.number = str(main)


def _appendix_letter(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("A") + r) + letters
    return letters


@dataclass(frozen=True)
class Xref:
    kind: str  # "fig" | "tbl"
    number: str  # "2.1" or "1"
    page: str
    source: str

    @property
    def text(self) -> str:
        return f"{FLOAT_NAMES[self.kind]} {self.number}"


def _float_id(el: dict) -> tuple[str, str] | None:
    t = el.get("t")
    if t == "Figure":
        ident = el["c"][0][0]
        return ("fig", ident) if ident.startswith("fig-") else None
    if t == "Table":
        ident = el["c"][0][0]
        return ("tbl", ident) if ident.startswith("tbl-") else None
    if t == "Div":
        ident = el["c"][0][0]
        return ("tbl", ident) if ident.startswith("tbl-") and "table-float" in el["c"][0][1] else None
    return None


def _floats_in_order(blocks: list) -> list[tuple[str, str]]:
    """(kind, id) of labelled floats in document order (pre-order)."""
    found: list[tuple[str, str]] = []

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            if "t" in node:
                fid = _float_id(node)
                if fid:
                    found.append(fid)
            for v in node.values():
                if isinstance(v, (list, dict)):
                    visit(v)

    visit(blocks)
    return found


def collect_xrefs(chapters: list[Chapter]) -> tuple[dict[str, Xref], list[str]]:
    """Number labelled figures and tables per chapter (pure): ``{"fig-x": Xref(...)}``."""
    xrefs: dict[str, Xref] = {}
    warnings: list[str] = []
    for ch in chapters:
        counters = {"fig": 0, "tbl": 0}
        for kind, ident in _floats_in_order(ch.blocks):
            counters[kind] += 1
            n = counters[kind]
            number = f"{ch.number}.{n}" if ch.number else str(n)
            if ident in xrefs:
                warnings.append(f"{ch.source}: duplicate label '{ident}' (first defined in {xrefs[ident].source})")
                continue
            xrefs[ident] = Xref(kind, number, ch.page, ch.source)
    return xrefs, warnings


def _prefix_caption(caption: list, prefix: str) -> list:
    short, blocks = caption
    blocks = copy.deepcopy(blocks)
    if blocks and blocks[0]["t"] in ("Plain", "Para"):
        blocks[0] = {"t": blocks[0]["t"], "c": _words(prefix + ":") + [{"t": "Space"}] + blocks[0]["c"]}
    else:
        blocks = [{"t": "Plain", "c": _words(prefix)}] + blocks
    return [short, blocks]


def number_floats(blocks: list, xrefs: Mapping[str, Xref]) -> list:
    """Prefix captions of labelled floats with "Figure 2.1: " / "Table 2.1: "."""

    def fix(el: dict) -> Any:
        fid = _float_id(el)
        if not fid or fid[1] not in xrefs:
            return None
        xref = xrefs[fid[1]]
        if el["t"] == "Figure":
            attr, caption, body = el["c"]
            alt_caption = caption[1]

            def alt(img: dict) -> Any:
                if img["t"] == "Image" and not img["c"][1] and alt_caption:
                    return {"t": "Image", "c": [img["c"][0], [i for b in alt_caption for i in b["c"]], img["c"][2]]}
                return None

            return {"t": "Figure", "c": [attr, _prefix_caption(caption, xref.text), walk(body, alt)]}
        if el["t"] == "Table":
            c = list(el["c"])
            c[1] = _prefix_caption(c[1], xref.text)
            return {"t": "Table", "c": c}
        # Div table float: caption paragraph (last block, if any) moved on top with the number.
        attr, body = el["c"]
        body = list(body)
        caption = body.pop()["c"] if body and body[-1]["t"] == "Para" else []
        head = _prefix_caption([None, _caption_blocks(caption)], xref.text)[1]
        cap_div = {"t": "Div", "c": [_attr(classes=["table-caption"]), [{"t": "Para", "c": head[0]["c"]}]]}
        return {"t": "Div", "c": [attr, [cap_div] + body]}

    return walk(blocks, fix)


def resolve_xrefs(blocks: list, xrefs: Mapping[str, Xref], page: str, fmt: str, source: str = "") -> tuple[list, list[str]]:
    """Replace ``@fig-x`` citations by "Figure 2.1" (a link in HTML, text in the PDF).  Unknown
    cross-reference labels give "?@fig-x" and a warning; other citations (no bibliography support)
    are kept as their literal text."""
    warnings: list[str] = []

    def fix(el: dict) -> Any:
        if el["t"] != "Cite":
            return None
        citations, literal = el["c"]
        out: list = []
        for i, cit in enumerate(citations):
            cid = cit["citationId"]
            prefix = cid.split("-", 1)[0] if "-" in cid else ""
            if i:
                out += [_str(";"), {"t": "Space"}]
            if cit.get("citationPrefix"):
                out += cit["citationPrefix"] + [{"t": "Space"}]
            if cid in xrefs:
                xref = xrefs[cid]
                suppress = cit.get("citationMode", {}).get("t") == "SuppressAuthor"
                words = _words(xref.number if suppress else xref.text)
                if fmt == "html":
                    href = ("" if xref.page == page else relurl(page, xref.page)) + "#" + cid
                    out.append({"t": "Link", "c": [_attr(classes=["quarto-xref"]), words, [href, ""]]})
                else:
                    out += words
            elif prefix in XREF_PREFIXES:
                warnings.append(f"{source or page}: unresolved cross-reference @{cid}")
                out.append({"t": "Strong", "c": [_str(f"?@{cid}")]})
            else:
                warnings.append(f"{source or page}: citation @{cid} left as text (no bibliography support)")
                return literal
            if cit.get("citationSuffix"):
                out += cit["citationSuffix"]
        return out

    return walk(blocks, fix), warnings


def _resolve_site_path(target: str, chapter_dir: str) -> str | None:
    """Site path of a local reference (``/x`` = project root), None if external or outside."""
    if not target or _is_external(target) or target.startswith("#"):
        return None
    path = target[1:] if target.startswith("/") else posixpath.join(chapter_dir, target)
    path = posixpath.normpath(path)
    if path.startswith("../") or path == "..":
        return None
    return path


def rewrite_links(blocks: list, source: str, page: str, pages: Mapping[str, str], fmt: str,
                  anchors: Mapping[str, str] | None = None) -> list:
    """Links to chapter sources (``methods.qmd#x``) -> their HTML page (relative) in HTML; in the PDF
    internal links point to the chapter anchors (``anchors``: page -> anchor prefix)."""
    chapter_dir = posixpath.dirname(source)

    def pdf_anchor(dest: str, frag: str) -> str:
        if not frag:
            return "#" + anchors[dest]
        if frag.split("-", 1)[0] in FLOAT_NAMES:  # figure/table labels are global
            return "#" + frag
        return "#" + anchors[dest] + "--" + frag

    def fix(el: dict) -> Any:
        if el["t"] != "Link":
            return None
        attr, inlines, (url, title) = el["c"]
        if fmt != "html" and url.startswith("#") and anchors is not None:
            return {"t": "Link", "c": [attr, inlines, [pdf_anchor(page, url[1:]), title]]}
        target, _, frag = url.partition("#")
        site_path = _resolve_site_path(target, chapter_dir)
        if site_path is None:
            return None
        if site_path in pages:
            dest = pages[site_path]
        elif site_path.endswith(".html") and site_path in pages.values():
            dest = site_path
        else:
            dest = None
        if fmt == "html":
            if dest is not None:
                new = relurl(page, dest) + (f"#{frag}" if frag else "")
                return {"t": "Link", "c": [attr, inlines, [new, title]]}
            return None
        if dest is not None and anchors is not None:
            return {"t": "Link", "c": [attr, inlines, [pdf_anchor(dest, frag), title]]}
        return {"t": "Span", "c": [attr, inlines]}  # local file links mean nothing in a PDF

    return walk(blocks, fix)


def rewrite_images(blocks: list, source: str, page: str, fmt: str) -> tuple[list, list[str], list[str]]:
    """Image sources -> relative URLs (HTML) or root-absolute ``/path`` (typst, root = site dir).
    Returns ``(blocks, site paths used, warnings)``."""
    chapter_dir = posixpath.dirname(source)
    used: list[str] = []
    warnings: list[str] = []

    def fix(el: dict) -> Any:
        if el["t"] != "Image":
            return None
        attr, alt, (src, title) = el["c"]
        if src.startswith("data:"):
            return None
        if _is_external(src):
            warnings.append(f"{source}: remote image {src} (not available offline)")
            if fmt == "html":
                return None
            return {"t": "Span", "c": [attr, alt or [_str(src)]]}
        path = _resolve_site_path(src, chapter_dir)
        if path is None:
            warnings.append(f"{source}: image {src} is outside the project; dropped")
            return {"t": "Span", "c": [attr, alt]}
        used.append(path)
        new = relurl(page, path) if fmt == "html" else "/" + path
        return {"t": "Image", "c": [attr, alt, [new, title]]}

    return walk(blocks, fix), used, warnings


def apply_conditionals(blocks: list, fmt: str) -> list:
    """Quarto's ``.content-visible`` / ``.content-hidden`` with ``when-format`` / ``unless-format``."""
    names = FORMAT_ALIASES.get(fmt, {fmt})

    def fix(el: dict) -> Any:
        if el["t"] not in ("Div", "Span"):
            return None
        ident, classes, kv = el["c"][0]
        if "content-visible" not in classes and "content-hidden" not in classes:
            return None
        attrs = dict(kv)
        visible = "content-visible" in classes
        if "when-format" in attrs:
            match = attrs["when-format"] in names
        elif "unless-format" in attrs:
            match = attrs["unless-format"] not in names
        else:
            match = True
        show = match if visible else not match
        return list(el["c"][1]) if show else []

    return walk(blocks, fix)


def render_callouts(blocks: list, fmt: str) -> list:
    """``::: {.callout-note}`` -> titled box (HTML divs, or a typst ``#callout`` call)."""

    def fix(el: dict) -> Any:
        if el["t"] != "Div":
            return None
        ident, classes, kv = el["c"][0]
        kind = next((c[len("callout-"):] for c in classes if c.startswith("callout-")), None)
        if kind is None or kind in ("title", "body"):
            return None
        body = list(el["c"][1])
        attrs = dict(kv)
        title: list = _words(attrs["title"]) if attrs.get("title") else []
        if not title and body and body[0]["t"] == "Header":
            title = body.pop(0)["c"][2]
        if not title:
            title = _words(CALLOUT_TITLES.get(kind, kind.capitalize()))
        if fmt == "html":
            head = {"t": "Div", "c": [_attr(classes=["callout-title"]), [{"t": "Plain", "c": title}]]}
            main = {"t": "Div", "c": [_attr(classes=["callout-body"]), body]}
            new_classes = ["callout"] + [c for c in classes if c != "callout"]
            return {"t": "Div", "c": [[ident, new_classes, kv], [head, main]]}
        opener = f"#callout(kind: {_typst_string(kind)}, title: {_typst_string(stringify(title))})["
        return [_raw("typst", opener)] + body + [_raw("typst", "]")]

    return walk(blocks, fix)


def number_sections(blocks: list, chapter_number: str | None) -> list:
    """HTML: prefix section headings of numbered chapters with "2.1", "2.1.1" (like Quarto books)."""
    if not chapter_number:
        return blocks
    counters = [0] * 7

    def fix(el: dict) -> Any:
        if el["t"] != "Header":
            return None
        level, attr, inlines = el["c"]
        if "unnumbered" in attr[1] or "-" in attr[1] or level < 2:
            return None
        counters[level] += 1
        for deeper in range(level + 1, 7):
            counters[deeper] = 0
        label = ".".join([chapter_number] + [str(counters[k]) for k in range(2, level + 1)])
        span = {"t": "Span", "c": [_attr(classes=["header-section-number"]), [_str(label)]]}
        return {"t": "Header", "c": [level, attr, [span, {"t": "Space"}] + inlines]}

    # Headings are top-level blocks in practice; a pre-order pass keeps document order.
    return [fix(b) or b if b.get("t") == "Header" else b for b in blocks]


def pdf_ids(blocks: list, anchor: str, unnumbered: bool) -> list:
    """PDF: make heading ids unique across the book (``<chapter-anchor>--<id>``); in unnumbered
    chapters mark every heading unnumbered (typst would print "0.1")."""

    def fix(el: dict) -> Any:
        if el["t"] != "Header":
            return None
        level, (ident, classes, kv), inlines = el["c"]
        new_id = f"{anchor}--{ident}" if ident else ""
        if unnumbered and "unnumbered" not in classes:
            classes = classes + ["unnumbered"]
        return {"t": "Header", "c": [level, [new_id, classes, kv], inlines]}

    return walk(blocks, fix)


def _all_ids(blocks: list) -> set[str]:
    ids: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            t = node.get("t")
            c = node.get("c")
            if t in ("Header",):
                ids.add(c[1][0])
            elif t in ("Figure", "Table", "Div", "Span", "CodeBlock", "Link", "Image"):
                if isinstance(c, list) and c and isinstance(c[0], list) and c[0] and isinstance(c[0][0], str):
                    ids.add(c[0][0])
            for v in node.values():
                if isinstance(v, (list, dict)):
                    visit(v)

    visit(blocks)
    ids.discard("")
    return ids


def drop_dangling_links(blocks: list, source: str = "book") -> tuple[list, list[str]]:
    """PDF: internal links whose target label does not exist would fail typst; make them text."""
    ids = _all_ids(blocks)
    warnings: list[str] = []

    def fix(el: dict) -> Any:
        if el["t"] == "Link" and el["c"][2][0].startswith("#") and el["c"][2][0][1:] not in ids:
            warnings.append(f"{source}: PDF link to missing anchor {el['c'][2][0]} rendered as text")
            return {"t": "Span", "c": [el["c"][0], el["c"][1]]}
        return None

    return walk(blocks, fix), warnings


def chapter_blocks(ch: Chapter, xrefs: Mapping[str, Xref], pages: Mapping[str, str], fmt: str,
                   anchors: Mapping[str, str] | None = None) -> tuple[list, list[str], list[str]]:
    """All format-specific transforms of one chapter (pure): ``(blocks, images used, warnings)``."""
    blocks = apply_conditionals(copy.deepcopy(ch.blocks), fmt)
    # A table float whose format-specific content is now a single table becomes that table.
    blocks = walk(blocks, lambda el: _div_to_float(el) if el["t"] == "Div" and "table-float" in el["c"][0][1] else None)
    blocks = number_floats(blocks, xrefs)
    blocks, warnings = resolve_xrefs(blocks, xrefs, ch.page, fmt, ch.source)
    blocks = rewrite_links(blocks, ch.source, ch.page, pages, fmt, anchors)
    blocks, images, img_warnings = rewrite_images(blocks, ch.source, ch.page, fmt)
    blocks = render_callouts(blocks, fmt)
    if fmt == "html":
        blocks = number_sections(blocks, ch.number)
    else:
        blocks = pdf_ids(blocks, anchors[ch.page] if anchors else slugify(ch.source), ch.number is None)
    return blocks, images, warnings + img_warnings


# --------------------------------------------------------------------------------------------------
# Page metadata (pure)
# --------------------------------------------------------------------------------------------------


def _part_labels(chapters: list[Chapter]) -> dict[str, str]:
    """Part key (label or part-page path) -> display label."""
    labels: dict[str, str] = {}
    for ch in chapters:
        if ch.part and ch.part not in labels:
            labels[ch.part] = ch.title_text if ch.part_page and ch.part == ch.source else ch.part
    return labels


def _nav_label(ch: Chapter) -> str:
    return f"{ch.number} {ch.title_text}" if ch.number else ch.title_text


def page_meta(config: BookConfig, chapters: list[Chapter], i: int, pdf_name: str | None,
              extra: Mapping[str, Any] | None = None) -> dict:
    """Template variables of page ``i`` (sidebar, prev/next, links), as Pandoc metadata."""
    ch = chapters[i]
    parts = _part_labels(chapters)
    nav = []
    prev_part = None
    appendix_seen = False
    for j, other in enumerate(chapters):
        item: dict[str, Any] = {
            "href": relurl(ch.page, other.page),
            "title": other.title_text,
            "current": i == j,
        }
        if other.number:
            item["number"] = other.number
        if other.appendix and not appendix_seen:
            item["part"] = "Appendices"
            appendix_seen = True
        elif other.part_page:
            item["part-page"] = True  # the part's own page is the part heading
        elif other.part and other.part != prev_part:
            item["part"] = parts[other.part]
        prev_part = other.part
        nav.append(item)
    meta: dict[str, Any] = {str(k): v for k, v in (extra or {}).items()
                            if str(k) not in ("title", "subtitle", "author", "date")}
    meta.update({
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
        meta["chapter-id"] = ch.title_id
    if ch.number:
        meta["chapter-number"] = ch.number
    if i == 0:
        if config.subtitle:
            meta["book-subtitle"] = config.subtitle
        if config.authors:
            meta["book-author"] = list(config.authors)
        if config.date:
            meta["book-date"] = config.date
    if config.authors:
        meta["footer-author"] = ", ".join(config.authors)
    if config.date:
        meta["footer-date"] = config.date
    if i > 0:
        meta["prev"] = {"href": relurl(ch.page, chapters[i - 1].page), "title": _nav_label(chapters[i - 1])}
    if i + 1 < len(chapters):
        meta["next"] = {"href": relurl(ch.page, chapters[i + 1].page), "title": _nav_label(chapters[i + 1])}
    if pdf_name:
        meta["pdf-href"] = relurl(ch.page, pdf_name)
    if ch.kind == "ipynb":
        meta["notebook-href"] = posixpath.basename(ch.source)
    return {k: _meta(v) for k, v in meta.items()}


def book_typst_blocks(chapters: list[Chapter], xrefs: Mapping[str, Xref], pages: Mapping[str, str]
                      ) -> tuple[list, list[str], list[str]]:
    """The whole book as one block list for the PDF (pure)."""
    anchors = {ch.page: "ch-" + slugify(posixpath.splitext(ch.source)[0], "chapter") for ch in chapters}
    parts = _part_labels(chapters)
    blocks: list = []
    images: list[str] = []
    warnings: list[str] = []
    prev_part = None
    appendix_started = False
    for ch in chapters:
        if ch.appendix and not appendix_started:
            appendix_started = True
            blocks.append(_raw("typst", '#part-page("Appendices")\n#set heading(numbering: "A.1")'))
        elif ch.part and ch.part != prev_part and not ch.appendix and not ch.part_page:
            blocks.append(_raw("typst", f"#part-page({_typst_string(parts[ch.part])})"))
        prev_part = ch.part
        if ch.number:
            blocks.append(_raw("typst", f"#counter(heading).update({ch.ordinal - 1})"))
        classes = [] if ch.number else ["unnumbered"]
        blocks.append({"t": "Header", "c": [1, [anchors[ch.page], classes, []], ch.title]})
        body, used, warn = chapter_blocks(ch, xrefs, pages, "pdf", anchors)
        blocks += body
        images += used
        warnings += warn
    blocks, dangling = drop_dangling_links(blocks)
    return blocks, images, warnings + dangling


def pdf_meta(config: BookConfig, extra: Mapping[str, Any] | None, dated: bool) -> dict:
    meta: dict[str, Any] = {str(k): v for k, v in (extra or {}).items()
                            if str(k) not in ("title", "subtitle", "author", "date")}
    meta["title"] = config.title
    if config.subtitle:
        meta["subtitle"] = config.subtitle
    if config.authors:
        meta["author"] = list(config.authors)
    if config.date:
        meta["date"] = config.date
    meta["lang"] = config.lang
    if not dated:
        meta["document-date-none"] = True
    return {k: _meta(v) for k, v in meta.items()}


def creation_timestamp(date: str | None, environ: Mapping[str, str] | None = None) -> int | None:
    """UNIX time for the PDF creation date: ``SOURCE_DATE_EPOCH`` or the book's ISO ``date``."""
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return int(epoch)
    if date:
        try:
            day = _dt.date.fromisoformat(str(date)[:10])
        except ValueError:
            return None
        return int(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.timezone.utc).timestamp())
    return None


DYNAMIC_DATES = ("last-modified", "today", "now")


def resolve_date(date: str | None, environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """Quarto's dynamic dates (``last-modified``, ``today``, ``now``) would make outputs depend on
    the clock: use ``SOURCE_DATE_EPOCH`` (as an ISO date) when set, else drop the date with a
    warning.  Returns ``(date, warning)``."""
    if date is None or str(date).strip().lower() not in DYNAMIC_DATES:
        return date, None
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc).date().isoformat(), None
    return None, (
        f"book date '{date}' depends on the clock; omitted (pass metadata={{'date': ...}} "
        "or set SOURCE_DATE_EPOCH)"
    )


def apply_metadata(config: BookConfig, metadata: Mapping[str, Any] | None) -> BookConfig:
    """``metadata`` overrides title/subtitle/author/date (other keys go to the templates)."""
    if not metadata:
        return config
    new = copy.copy(config)
    if metadata.get("title"):
        new.title = str(metadata["title"])
    if metadata.get("subtitle"):
        new.subtitle = str(metadata["subtitle"])
    if metadata.get("author"):
        new.authors = _authors(metadata["author"], "metadata.author")
    if metadata.get("date"):
        new.date = _meta_arg(metadata["date"])
    return new


# --------------------------------------------------------------------------------------------------
# Edges: pandoc, typst, files
# --------------------------------------------------------------------------------------------------


def _pandoc_binary() -> str:
    try:
        import pypandoc
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise RenderError("pandoc is not available: install pypandoc_binary") from exc
    try:
        return pypandoc.get_pandoc_path()
    except OSError as exc:  # pragma: no cover
        raise RenderError(f"pandoc is not available: {exc}") from exc


def _pandoc_version(pandoc: str) -> str:
    out = subprocess.run([pandoc, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"pandoc(?:\.exe)?\s+([\d.]+)", out)
    return match.group(1) if match else "?"


def _typst_version() -> str:
    try:
        return importlib.metadata.version("typst")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "?"


def _run_pandoc(pandoc: str, args: list[str], data: str, what: str, warnings: list[str]) -> str:
    proc = subprocess.run([pandoc, *args], input=data.encode("utf-8"), capture_output=True, check=False)
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise RenderError(f"pandoc failed on {what} (exit {proc.returncode}):\n{stderr}")
    for line in stderr.splitlines():
        if line.strip():
            warnings.append(f"{what}: pandoc: {line.strip()}")
    return proc.stdout.decode("utf-8")


def _read_chapter(project_dir: Path, entry: ChapterEntry, pandoc: str, warnings: list[str]) -> Chapter:
    path = project_dir / entry.path
    stem = posixpath.basename(posixpath.splitext(entry.path)[0])
    assets: list[Asset] = []
    if entry.path.endswith(".ipynb"):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise RenderError(f"{entry.path}: cannot read notebook: {exc}") from exc
        if not isinstance(nb, dict):
            raise RenderError(f"{entry.path}: not a Jupyter notebook")
        def html_table(html: str) -> str:
            args = ["-f", "html", "-t", "markdown-raw_html-native_divs-native_spans", "--wrap", "none"]
            return _run_pandoc(pandoc, args, html, f"{entry.path} (HTML table output)", warnings)

        converted = notebook_to_markdown(nb, stem, entry.path, html_table)
        markdown, assets = converted.markdown, converted.assets
        warnings += converted.warnings
    else:
        markdown = path.read_text(encoding="utf-8")
    if "{{<" in markdown:
        warnings.append(f"{entry.path}: Quarto shortcodes ({{{{< ... >}}}}) are not supported by the portable renderer")
    doc = json.loads(_run_pandoc(pandoc, ["-f", "markdown-raw_html-raw_tex", "-t", "json"], markdown, entry.path, warnings))
    ch = prepare_chapter(doc, entry.path, stem.replace("-", " ").replace("_", " ").strip() or stem)
    ch.part, ch.appendix, ch.part_page, ch.assets = entry.part, entry.appendix, entry.part_page, assets
    ch.api_version = doc["pandoc-api-version"]
    return ch


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def _copy_images(project_dir: Path, site: Path, used: Iterable[tuple[str, str]], generated: set[str],
                 warnings: list[str]) -> None:
    for source, path in used:
        if path in generated:
            if (project_dir / path).is_file():
                warnings.append(f"{source}: image '{path}' is shadowed by a notebook figure of the same name")
            continue
        src = project_dir / path
        if not src.is_file():
            raise RenderError(f"{source}: image '{path}' not found in the project")
        dest = site / path
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)


def _compile_typst(source: str, pdf: Path, root: Path, timestamp: int | None, warnings: list[str]) -> None:
    try:
        import typst
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise RenderError("typst is not available: install the 'typst' Python package") from exc
    kwargs: dict[str, Any] = {"root": str(root)}
    if timestamp is not None:
        kwargs["timestamp"] = timestamp
    try:
        _, typst_warnings = typst.compile_with_warnings(source.encode("utf-8"), output=str(pdf), **kwargs)
    except Exception as exc:  # typst.TypstError carries message/diagnostic/hints
        debug = pdf.with_suffix(".typ")
        _write(debug, source)
        details = getattr(exc, "diagnostic", "") or ""
        hints = "\n".join(getattr(exc, "hints", []) or [])
        raise RenderError(
            f"typst failed to compile the PDF: {exc}\n{details}\n{hints}\n(typst source kept at {debug})".strip()
        ) from exc
    for w in typst_warnings:
        warnings.append(f"typst: {getattr(w, 'message', w)}")


def _render_portable(project_dir: Path, output_dir: Path, config: BookConfig,
                     metadata: Mapping[str, Any] | None) -> RenderResult:
    t0 = time.perf_counter()
    pandoc = _pandoc_binary()
    warnings = list(config.warnings)
    config = apply_metadata(config, metadata)
    date, date_warning = resolve_date(config.date)
    if date != config.date:
        config = copy.copy(config)
        config.date = date
    if date_warning:
        warnings.append(date_warning)
    site = output_dir / "site"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    slug = slugify(config.title)
    pdf_name = f"{slug}.pdf"
    stale_debug = output_dir / f"{slug}.typ"  # left by an earlier failed typst run
    if stale_debug.exists():
        stale_debug.unlink()

    chapters = [_read_chapter(project_dir, entry, pandoc, warnings) for entry in config.chapters]
    assign_numbers(chapters, config.project_type, config.number_sections)
    xrefs, xref_warnings = collect_xrefs(chapters)
    warnings += xref_warnings
    pages = {ch.source: ch.page for ch in chapters}
    api = chapters[0].api_version

    generated = set()
    for ch in chapters:
        for asset in ch.assets:
            _write(site / asset.path, asset.data)
            generated.add(asset.path)

    used_images: list[tuple[str, str]] = []
    for i, ch in enumerate(chapters):
        blocks, used, warn = chapter_blocks(ch, xrefs, pages, "html")
        warnings += warn
        used_images += [(ch.source, p) for p in used]
        doc = {"pandoc-api-version": api, "meta": page_meta(config, chapters, i, pdf_name, metadata), "blocks": blocks}
        html = _run_pandoc(
            pandoc,
            ["-f", "json", "-t", "html5", "--standalone", "--template", str(HTML_TEMPLATE), "--wrap", "none"],
            json.dumps(doc, ensure_ascii=False),
            ch.source,
            warnings,
        )
        _write(site / ch.page, html)
        if ch.kind == "ipynb":
            _write(site / ch.source, (project_dir / ch.source).read_bytes())
    _copy_images(project_dir, site, used_images, generated, warnings)
    shutil.copyfile(CSS_FILE, site / "site.css")

    # PDF: the whole book through pandoc's typst writer and our template, compiled by typst.
    blocks, used, warn = book_typst_blocks(chapters, xrefs, pages)
    warnings += warn
    _copy_images(project_dir, site, [("book", p) for p in used], generated, warnings)
    timestamp = creation_timestamp(config.date)
    doc = {"pandoc-api-version": api, "meta": pdf_meta(config, metadata, timestamp is not None), "blocks": blocks}
    typst_source = _run_pandoc(
        pandoc,
        ["-f", "json", "-t", "typst", "--standalone", "--template", str(TYPST_TEMPLATE), "--wrap", "none"],
        json.dumps(doc, ensure_ascii=False),
        "book (typst)",
        warnings,
    )
    pdf = output_dir / pdf_name
    _compile_typst(typst_source, pdf, site, timestamp, warnings)
    shutil.copyfile(pdf, site / pdf_name)

    warnings = list(dict.fromkeys(warnings))  # HTML and PDF passes report the same problems
    figures = sum(1 for x in xrefs.values() if x.kind == "fig")
    tables = sum(1 for x in xrefs.values() if x.kind == "tbl")
    return RenderResult(
        engine="portable",
        html_dir=site,
        index_html=site / chapters[0].page,
        pdf=pdf,
        pages=[ch.page for ch in chapters],
        figures=figures,
        tables=tables,
        seconds=time.perf_counter() - t0,
        warnings=warnings,
    )


def _quarto_pdf_format(formats: list[str]) -> str:
    if "typst" in formats:
        return "typst"
    if "pdf" in formats:
        return "pdf"
    return "typst"


def _run_quarto(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RenderError(f"quarto failed rendering {what} (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr.strip()}")


def _render_quarto(quarto: Path, project_dir: Path, output_dir: Path, config: BookConfig,
                   metadata: Mapping[str, Any] | None) -> RenderResult:
    t0 = time.perf_counter()
    cfg = apply_metadata(config, metadata)
    site = output_dir / "site"
    if site.exists():
        shutil.rmtree(site)
    _run_quarto(quarto_command(quarto, project_dir, site, "html", metadata), "html")
    pdf_tmp = output_dir / ".quarto-pdf"
    if pdf_tmp.exists():
        shutil.rmtree(pdf_tmp)
    _run_quarto(quarto_command(quarto, project_dir, pdf_tmp, _quarto_pdf_format(config.formats), metadata), "pdf")
    pdfs = sorted(pdf_tmp.rglob("*.pdf"))
    pdf = None
    if pdfs:
        pdf = output_dir / f"{slugify(cfg.title)}.pdf"
        shutil.move(str(pdfs[0]), pdf)
        shutil.copyfile(pdf, site / pdf.name)
    shutil.rmtree(pdf_tmp, ignore_errors=True)
    pages = [page_name(c.path) for c in config.chapters]
    html = " ".join((site / p).read_text(encoding="utf-8", errors="replace") for p in pages if (site / p).is_file())
    return RenderResult(
        engine="quarto",
        html_dir=site,
        index_html=site / pages[0],
        pdf=pdf,
        pages=pages,
        figures=len(set(re.findall(r'id="(fig-[^"]+)"', html))),
        tables=len(set(re.findall(r'id="(tbl-[^"]+)"', html))),
        seconds=time.perf_counter() - t0,
        warnings=list(config.warnings) + ([] if pdf else ["quarto produced no PDF"]),
    )


def render_project(
    project_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    engine: str = "auto",
    metadata: dict | None = None,
    log: Callable[[str], Any] = print,
) -> RenderResult:
    """Render the Quarto project in ``project_dir`` to ``output_dir/site/`` and ``output_dir/<slug>.pdf``.

    ``engine``: "auto" (quarto if found, else portable), "quarto" or "portable".
    """
    if engine not in ENGINES:
        raise RenderError(f"unknown render engine '{engine}' (expected one of {', '.join(ENGINES)})")
    project_dir = Path(project_dir).resolve()
    output_dir = Path(output_dir).resolve()
    config = load_config(project_dir)
    quarto, how = (None, "portable engine requested")
    if engine in ("auto", "quarto"):
        quarto, how = _find_quarto_with_reason()
        if quarto is None and engine == "quarto":
            raise RenderError("render engine 'quarto' requested but quarto was not found (QUARTO_PATH, PATH, quarto_cli)")
    output_dir.mkdir(parents=True, exist_ok=True)
    if quarto is not None:
        log(f"render engine: quarto ({quarto}; found via {how})")
        return _render_quarto(quarto, project_dir, output_dir, config, metadata)
    log(f"render engine: portable (pandoc {_pandoc_version(_pandoc_binary())} + typst {_typst_version()}; {how})")
    return _render_portable(project_dir, output_dir, config, metadata)
