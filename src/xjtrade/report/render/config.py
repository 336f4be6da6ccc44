"""Reading ``_quarto.yml``: a Quarto *book* project, its chapters and the ``format:`` options.

Only what the report uses is accepted: ``project.type: book``; ``book.title``, ``subtitle``, ``author``,
``date``, ``site-url`` (the published site's address: the PDF links to the site's own pages there)
and ``chapters`` (a flat list of ``.qmd``/``.md``/``.ipynb`` files); and, per format
(``html``, ``typst``), the options in :data:`HONOURED` -- the portable renderer applies those, so
it cannot silently differ from Quarto on them.  Options in :data:`ENGINE_SPECIFIC` only concern
Quarto's own output (or hidden code) and are ignored; any other option, and the Quarto features the
book does not use (parts, appendices, website projects), give a warning or a :class:`RenderError`
naming the key.
"""

from __future__ import annotations

import copy
import datetime as _dt
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .base import RenderError, meta_arg

CHAPTER_SUFFIXES = (".qmd", ".ipynb", ".md")
FORMATS = ("html", "typst")
HONOURED = ("toc", "toc-depth", "mainfont", "papersize")
# Harmless for the portable engine: Quarto's look (theme), and code display (code is never shown).
ENGINE_SPECIFIC = ("theme", "code-fold", "echo", "code-tools")
DEFAULT_TOC_DEPTH = 3  # Quarto's default for html and typst


@dataclass(frozen=True)
class FormatOptions:
    """The ``format: <name>:`` options both engines honour."""

    toc: bool = False
    toc_depth: int = DEFAULT_TOC_DEPTH
    mainfont: str | None = None
    papersize: str | None = None


@dataclass
class BookConfig:
    title: str
    subtitle: str | None
    authors: list[str]
    date: str | None
    chapters: list[str]  # posix paths relative to the project directory, in reading order
    formats: dict[str, FormatOptions] = field(default_factory=dict)
    lang: str = "en"
    warnings: list[str] = field(default_factory=list)
    site_url: str | None = None  # book.site-url: an absolute http(s) address

    def format(self, name: str) -> FormatOptions:
        return self.formats.get(name, FormatOptions())


def _type_name(value: Any) -> str:
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _chapter_path(value: Any, key: str) -> str:
    if isinstance(value, dict) and "part" in value:
        raise RenderError(f"_quarto.yml: key '{key}': book parts are not supported; list the chapter files")
    if not isinstance(value, str) or not value.strip():
        raise RenderError(f"_quarto.yml: key '{key}' must be a file name, got {_type_name(value)}")
    path = posixpath.normpath(value.strip().replace("\\", "/"))
    if path.startswith("/") or path == ".." or path.startswith("../"):
        raise RenderError(f"_quarto.yml: key '{key}' must be a path inside the project, got '{value}'")
    if not path.lower().endswith(CHAPTER_SUFFIXES):
        raise RenderError(f"_quarto.yml: key '{key}': unsupported chapter type '{value}' "
                          f"(expected {', '.join(CHAPTER_SUFFIXES)})")
    return path


def _authors(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    names = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            item = item.get("name")
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


def _format_options(name: str, opts: Any, warnings: list[str]) -> FormatOptions:
    key = f"format.{name}"
    if opts is None or opts == "default":
        return FormatOptions()
    if not isinstance(opts, dict):
        raise RenderError(f"_quarto.yml: key '{key}' must be a mapping, got {_type_name(opts)}")
    for option in opts:
        if option not in HONOURED and option not in ENGINE_SPECIFIC:
            warnings.append(f"_quarto.yml: option '{key}.{option}' is not applied by the portable renderer")
    toc = opts.get("toc", False)
    if not isinstance(toc, bool):
        raise RenderError(f"_quarto.yml: key '{key}.toc' must be true or false, got {toc!r}")
    depth = opts.get("toc-depth", DEFAULT_TOC_DEPTH)
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 6:
        raise RenderError(f"_quarto.yml: key '{key}.toc-depth' must be a whole number from 1 to 6, got {depth!r}")
    return FormatOptions(toc=toc, toc_depth=depth, mainfont=_scalar(opts.get("mainfont"), f"{key}.mainfont"),
                         papersize=_scalar(opts.get("papersize"), f"{key}.papersize"))


def parse_config(data: Any) -> BookConfig:
    """Interpret a parsed ``_quarto.yml`` (pure).  Raises :class:`RenderError` naming the bad key."""
    if not isinstance(data, dict):
        raise RenderError(f"_quarto.yml: the top level must be a mapping, got {_type_name(data)}")
    warnings: list[str] = []
    project = data.get("project") or {}
    if not isinstance(project, dict):
        raise RenderError("_quarto.yml: key 'project' must be a mapping")
    if project.get("type", "book") != "book":
        raise RenderError(f"_quarto.yml: key 'project.type' is '{project.get('type')}'; only 'book' is supported")
    book = data.get("book")
    if not isinstance(book, dict):
        raise RenderError(f"_quarto.yml: key 'book' must be a mapping, got {_type_name(book)}")
    if "chapters" not in book:
        raise RenderError("_quarto.yml: key 'book.chapters' is missing")
    if "appendices" in book:
        raise RenderError("_quarto.yml: key 'book.appendices' is not supported; list them in 'book.chapters'")
    items = book["chapters"]
    if not isinstance(items, list):
        raise RenderError(f"_quarto.yml: key 'book.chapters' must be a list of chapter files, got {_type_name(items)}")
    if not items:
        raise RenderError("_quarto.yml: key 'book.chapters' is empty")
    chapters: list[str] = []
    for i, item in enumerate(items):
        path = _chapter_path(item, f"book.chapters[{i}]")
        if path in chapters:
            warnings.append(f"_quarto.yml: '{path}' is listed more than once; rendered once")
        else:
            chapters.append(path)
    formats_raw = data.get("format") or {}
    if isinstance(formats_raw, str):
        formats_raw = {formats_raw: None}
    if not isinstance(formats_raw, dict):
        raise RenderError("_quarto.yml: key 'format' must be a mapping or a format name")
    formats = {}
    for name, opts in formats_raw.items():
        if name not in FORMATS:
            warnings.append(f"_quarto.yml: format '{name}' is not produced (the outputs are html and typst)")
            continue
        formats[name] = _format_options(name, opts, warnings)
    site_url = _scalar(book.get("site-url"), "book.site-url")
    if site_url is not None:
        site_url = site_url.strip()
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", site_url):
            raise RenderError(f"_quarto.yml: key 'book.site-url' must be an absolute http(s) address without query "
                              f"or fragment, got '{site_url}'")
    title = _scalar(book.get("title", data.get("title")), "book.title")
    if not title:
        warnings.append("_quarto.yml: key 'book.title' is missing; using 'Untitled'")
    return BookConfig(
        title=title or "Untitled",
        subtitle=_scalar(book.get("subtitle"), "book.subtitle"),
        authors=_authors(book.get("author", data.get("author")), "book.author"),
        date=_scalar(book.get("date", data.get("date")), "book.date"),
        chapters=chapters,
        formats=formats,
        lang=str(data.get("lang") or "en"),
        warnings=warnings,
        site_url=site_url or None,
    )


def edition_site_url(site_url: str | None, edition: str, default: str = "default") -> str | None:
    """The site address of ``edition``: ``book.site-url`` names the default edition's site
    (``reports/default/site/``), and the other editions are published beside it as in ``reports/``
    ("https://h.org/r/default/site" -> "https://h.org/r/horgos-port/site/")."""
    if not site_url or edition == default:
        return site_url
    base = site_url.rstrip("/")
    head, _, _site = base.rpartition("/")  # .../default/site -> .../default
    head, _, _default = head.rpartition("/")
    if "://" not in head or head.endswith(":/"):
        raise RenderError(f"_quarto.yml: key 'book.site-url' ('{site_url}') must end with the default edition's "
                          f"folder and site (e.g. https://example.org/reports/{default}/site/) to address other editions")
    return f"{head}/{edition}/site/"


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
    for chapter in config.chapters:
        if not (project_dir / chapter).is_file():
            raise RenderError(f"chapter '{chapter}' is listed in _quarto.yml but the file does not exist "
                              f"in {project_dir}")
    return config


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
        new.date = meta_arg(metadata["date"])
    return new


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
    return None, (f"book date '{date}' depends on the clock; omitted (pass metadata={{'date': ...}} "
                  "or set SOURCE_DATE_EPOCH)")


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
