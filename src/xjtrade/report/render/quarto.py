"""Finding and running the Quarto CLI, and deciding which engine writes the PDF.

Quarto before 1.9.18 cannot render a *book* to typst: it prints ``WARN: The typst format is not
supported by book projects``, writes no PDF and still exits 0.  So the version decides: with
Quarto >= :data:`BOOK_TYPST_MIN` the PDF comes from ``quarto render --to typst``; with an older (or
unreadable) version the HTML comes from Quarto and the PDF from the portable typst path.

Each render gets the project's additions as a Quarto profile (``_quarto-xjtrade-<fmt>.yml``, written
into the project for the render and removed after it): for the site, the PDF in the sidebar, a
few CSS rules and the front page's title once (``templates/quarto-front-title.lua``); for the PDF,
the pandoc filters both engines share (``templates/pdf.lua``, ``pdf-text.lua``), the project's fonts
(system fonts ignored: ``TYPST_IGNORE_SYSTEM_FONTS``), typst rules (``templates/quarto-pdf.typ``)
and the page footer the portable template prints too (how to cite, licence: :func:`page_footer_typst`).  Quarto's stderr is read for warnings and errors
(:func:`messages`): warnings are returned, errors counted and grouped in the :class:`RenderError`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Mapping

from .base import RenderError, meta_arg, typst_string

BOOK_TYPST_MIN = (1, 9, 18)


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


def find_quarto_with_reason(environ: Mapping[str, str] | None = None) -> tuple[Path | None, str]:
    env = os.environ if environ is None else environ
    explicit = env.get("QUARTO_PATH")
    if explicit and Path(explicit).is_file():
        return Path(explicit), "QUARTO_PATH"
    found = shutil.which("quarto", path=env.get("PATH", ""))
    if found:
        return Path(found), "PATH"
    bundled = _quarto_cli_binary()
    if bundled is not None:
        return bundled, "quarto_cli package"
    return None, "quarto not found"


def find_quarto(environ: Mapping[str, str] | None = None) -> Path | None:
    """Locate the Quarto CLI: ``QUARTO_PATH`` (a file), ``quarto`` on ``PATH``, the ``quarto_cli`` package."""
    return find_quarto_with_reason(environ)[0]


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``quarto --version`` output -> (major, minor, patch): "1.7.34" -> (1, 7, 34); "v1.5.0-dev" ->
    (1, 5, 0); "99.9.9" (a development build) -> (99, 9, 9); "1.6" -> (1, 6, 0); no version -> None."""
    match = re.search(r"(?<![\d.])v?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def quarto_version(quarto: str | os.PathLike) -> tuple[tuple[int, int, int] | None, str]:
    """``(parsed version, raw text)`` of ``quarto --version``."""
    try:
        proc = subprocess.run([str(quarto), "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"cannot run '{quarto} --version': {exc}") from exc
    raw = (proc.stdout or "").strip() or (proc.stderr or "").strip()
    return (parse_version(raw) if proc.returncode == 0 else None), raw


def book_typst_supported(version: tuple[int, int, int] | None) -> bool:
    """Can this Quarto render a book to typst (and so write the PDF)?"""
    return version is not None and version >= BOOK_TYPST_MIN


def version_text(version: tuple[int, int, int] | None) -> str:
    return ".".join(map(str, version)) if version else "unknown version"


def quarto_command(quarto: str | os.PathLike, project_dir: str | os.PathLike, output_dir: str | os.PathLike,
                   fmt: str, metadata: Mapping[str, Any] | None = None) -> list[str]:
    """The ``quarto render`` command line (pure; metadata keys sorted for reproducibility)."""
    cmd = [str(quarto), "render", str(project_dir), "--to", fmt, "--output-dir", str(output_dir)]
    meta = metadata or {}
    for key in sorted(meta):
        cmd += ["-M", f"{key}:{meta_arg(meta[key])}"]
    return cmd


# --------------------------------------------------------------------------------------------------
# Messages: Quarto's stderr (its own WARN/ERROR lines, typst's "warning:"/"error:" blocks)
# --------------------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_WARNING = re.compile(r"^\s*(?:WARN(?:ING)?\b[:\s]*|warning:\s*)(.+)$")
_ERROR = re.compile(r"^\s*(?:ERROR\b[:\s]*|error:\s*)(.+)$")
_WHERE = re.compile(r"^\s*┌─\s*(\S+)")
_LABEL = re.compile(r"`?<[^>\s]+>`?|`[^`]+`")


def messages(stderr: str) -> tuple[list[str], list[str]]:
    """``(warnings, errors)``: the message lines of Quarto's stderr, in order, ANSI colours removed."""
    warnings, errors = [], []
    last: list[str] | None = None
    for line in _ANSI.sub("", stderr or "").splitlines():
        if (m := _WARNING.match(line)):
            warnings.append(m.group(1).strip())
            last = warnings
        elif (m := _ERROR.match(line)):
            errors.append(m.group(1).strip())
            last = errors
        elif last and (m := _WHERE.match(line)) and " (at " not in last[-1]:
            last[-1] += f" (at {m.group(1).strip()})"  # typst's location line under its message
        elif line.strip() and not line.strip().startswith(("│", "|", "=", "^")):
            last = None
    return warnings, errors


def shorten(lines: list[str], limit: int = 8) -> str:
    """Repeated messages grouped ("label `<R0339>` does not exist ... (752 times, e.g. ...)"), at
    most ``limit`` groups shown."""
    groups: dict[str, list[str]] = {}
    for line in lines:
        groups.setdefault(_LABEL.sub("<…>", line.split(" (at ", 1)[0]), []).append(line)
    out = []
    for pattern, members in list(groups.items())[:limit]:
        out.append(members[0] if len(members) == 1 else
                   f"{pattern} ({len(members)} times, e.g. {members[0]})")
    if len(groups) > limit:
        out.append(f"... and {len(groups) - limit} other kinds of message")
    return "\n".join(f"  - {line}" for line in out)


def validation_detail(stderr: str, limit: int = 12) -> str:
    """The lines Quarto prints under "validation failed" (the file, the line and column, what the
    field must be), up to its stack trace: the message says nothing without them."""
    lines = _ANSI.sub("", stderr or "").splitlines()
    start = next((i for i, line in enumerate(lines) if "validation failed" in line), None)
    if start is None:
        return ""
    detail = []
    for line in lines[start + 1:]:
        if line.strip().startswith("Stack trace:"):
            break
        if line.strip():
            detail.append(f"    {line.rstrip()}")
    return "\n".join(detail[:limit])


def run_quarto(cmd: list[str], what: str, env: Mapping[str, str] | None = None) -> str:
    """Run a ``quarto render`` command; its stderr is returned.  A failure is a :class:`RenderError`
    with the errors counted and grouped (not thousands of lines of log)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env=dict(env) if env is not None else None)
    if proc.returncode != 0:
        _, errors = messages(proc.stderr)
        tail = "\n".join(_ANSI.sub("", proc.stderr or "").strip().splitlines()[-15:])
        summary = (f"{len(errors)} error(s):\n{shorten(errors)}" if errors else f"its last messages:\n{tail}")
        if (detail := validation_detail(proc.stderr)):
            summary += f"\n{detail}"
        raise RenderError(f"quarto failed rendering {what} (exit {proc.returncode}): {' '.join(cmd)}\n{summary}")
    return proc.stderr or ""


# --------------------------------------------------------------------------------------------------
# The project's additions to a Quarto render: a profile (`_quarto-xjtrade-<fmt>.yml`) merged over
# `_quarto.yml`, and a folder `_xjtrade/` (fonts), both written into the project for the render and
# removed after it.
# --------------------------------------------------------------------------------------------------

PROFILE = "xjtrade"
WORK_DIR = "_xjtrade"  # Quarto ignores files and folders starting with "_"
QUARTO_PDF_TYPST = Path(__file__).resolve().parent / "templates" / "quarto-pdf.typ"
# characters of table text a line of Quarto's book holds (its text block is about 0.9 times the
# portable template's, table text at the same 8.5pt: see templates/quarto-pdf.typ)
QUARTO_TABLE_LINE_CHARS = 90


QUARTO_FRONT_TITLE = QUARTO_PDF_TYPST.with_name("quarto-front-title.lua")


def html_profile(pdf_name: str) -> dict:
    """The site: the PDF linked from the sidebar; the project's additions to Quarto's theme; the
    front page's title once (``templates/quarto-front-title.lua``)."""
    css = QUARTO_PDF_TYPST.with_name("quarto-site.css").read_text(encoding="utf-8")
    return {"book": {"sidebar": {"tools": [{"icon": "file-pdf", "href": pdf_name, "text": "PDF"}]}},
            "format": {"html": {"include-in-header": [{"text": f"<style>\n{css}</style>\n"}],
                                "filters": [str(QUARTO_FRONT_TITLE)]}}}


def page_footer_typst(footer: str) -> str:
    """The typst page rule that prints ``footer`` (plain text: how to cite the edition, its licence) at
    the foot of every page from the book's first chapter on, as the portable PDF does: not on the cover
    or the contents.  The text is a typst string literal, never markup.  Orange-book (Quarto's book
    format) sets the page header, with the page number, and leaves the footer free; its header has no
    number on a chapter's first page nor anywhere before chapter 1 (the front page): there the
    footer prints it, at its right as in the portable PDF."""
    if not footer.strip():
        return ""
    return ("// how to cite the edition and its licence on every body page (xjtrade.report.bulletin.pdf_footer)\n"
            "#set page(footer: context {\n"
            "  let chapters = query(heading.where(level: 1, outlined: true))\n"
            "  if chapters.len() > 0 and here().page() >= chapters.first().location().page() {\n"
            "    let opens = query(heading.where(level: 1)).any(h => h.location().page() == here().page())\n"
            "    let number = if opens or counter(heading).at(here()).first() == 0 {\n"
            "      text(size: 9pt, fill: black, counter(page).display(\"1\"))\n"
            "    }\n"
            "    set text(size: 7pt, fill: luma(110), hyphenate: false)\n"
            "    set par(justify: false, first-line-indent: 0em, leading: 0.45em)\n"
            "    grid(columns: (1fr, auto), column-gutter: 1.5em, align: (left + top, right + top),\n"
            f"      {typst_string(footer)}, number)\n"
            "  }\n"
            "})\n")


def typst_profile(config, fonts_dir: str, text_file: Path, footer: str = "") -> dict:
    """The PDF: the filters both engines share, the project's fonts, the typst rules that make
    Quarto's book break long tables and number like the portable PDF, and the page footer."""
    from . import fonts
    from .typst import PDF_FILTER, TEXT_FILTER, filter_meta

    opts = config.format("typst")
    header = f"#set text(font: {fonts.typst_font_list(fonts.text_fonts(opts.mainfont))})\n" \
             f"#show raw: set text(font: {fonts.typst_font_list(fonts.MONO_FONTS)})\n" \
             + page_footer_typst(footer)
    return {
        "format": {"typst": {
            "filters": [{"path": str(PDF_FILTER), "at": "pre-quarto"}, {"path": str(TEXT_FILTER), "at": "pre-render"}],
            "font-paths": [fonts_dir],
            "include-in-header": [{"text": header}],
            "include-before-body": [{"text": QUARTO_PDF_TYPST.read_text(encoding="utf-8")}],
        }},
        **filter_meta(config, text_file, QUARTO_TABLE_LINE_CHARS),
    }


def render_with_profile(quarto: Path, project_dir: Path, out_dir: Path, fmt: str, metadata: Mapping[str, Any] | None,
                        profile: Mapping[str, Any], env: Mapping[str, str] | None = None) -> str:
    """``quarto render --to fmt`` with ``profile`` merged over ``_quarto.yml`` (a profile file in the
    project, named in ``QUARTO_PROFILE``, removed afterwards)."""
    import yaml

    name = f"{PROFILE}-{fmt}"
    path = project_dir / f"_quarto-{name}.yml"
    if path.exists():
        raise RenderError(f"{path} exists: the project must not use the profile name '{name}'")
    env = dict(os.environ if env is None else env)
    env["QUARTO_PROFILE"] = ",".join(p for p in (env.get("QUARTO_PROFILE", ""), name) if p)
    path.write_text("# written by xjtrade for one render; removed after it\n"
                    + yaml.safe_dump(dict(profile), sort_keys=False, allow_unicode=True), encoding="utf-8")
    try:
        return run_quarto(quarto_command(quarto, project_dir, out_dir, fmt, metadata), f"the {fmt} output", env)
    finally:
        path.unlink(missing_ok=True)


def quarto_html(quarto: Path, project_dir: Path, site: Path, metadata: Mapping[str, Any] | None,
                pdf_name: str) -> list[str]:
    """The site; returns Quarto's warnings."""
    if site.exists():
        shutil.rmtree(site)
    stderr = render_with_profile(quarto, project_dir, site, "html", metadata, html_profile(pdf_name))
    return messages(stderr)[0]


def quarto_pdf(quarto: Path, project_dir: Path, output_dir: Path, pdf: Path, config,
               metadata: Mapping[str, Any] | None, footer: str = "") -> list[str]:
    """``quarto render --to typst`` into a scratch folder; the PDF is moved to ``pdf``; ``footer``:
    the text at the foot of every body page (:func:`page_footer_typst`).  No PDF is an error, whatever
    Quarto's exit status, and so are an unknown font and a character without a glyph, the footer's
    included (:func:`.fonts.check_pdf`).  Returns Quarto's (and typst's) warnings."""
    from . import fonts
    from .config import creation_timestamp

    scratch = output_dir / ".quarto-pdf"
    if scratch.exists():
        shutil.rmtree(scratch)
    work = project_dir / WORK_DIR
    if work.exists():  # not ours to remove afterwards
        raise RenderError(f"{work} exists: the project must not use the folder name '{WORK_DIR}'")
    try:
        fonts.font_folder(work / "fonts")
        text_file = (work / "text.txt").resolve()
        env = fonts.environ_without_system_fonts()
        stamp = creation_timestamp(config.date, env)  # the PDF's date: the book's, not the clock's
        if stamp is not None:
            env["SOURCE_DATE_EPOCH"] = str(stamp)
        stderr = render_with_profile(quarto, project_dir, scratch, "typst", metadata,
                                     typst_profile(config, f"{WORK_DIR}/fonts", text_file, footer), env)
        warnings = messages(stderr)[0]
        pdfs = sorted(scratch.rglob("*.pdf"))
        if not pdfs:
            raise RenderError(f"quarto wrote no PDF for the book (quarto render --to typst); its messages:\n"
                              f"{stderr.strip() or '(none)'}")
        shutil.move(str(pdfs[0]), pdf)
        if footer and text_file.is_file():  # its characters need glyphs too
            with text_file.open("a", encoding="utf-8") as out:
                out.write("\n" + footer + "\n")
        fonts.check_pdf(pdf, text_file, warnings, "quarto")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return warnings
