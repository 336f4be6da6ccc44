"""The fonts of the PDF, the same for both engines, and the checks that no text went without a glyph.

The PDF uses only fonts the project ships, never the machine's: Noto Sans CJK (package
``noto-cjk-sans-otc``, Simplified Chinese first) and the DejaVu fonts matplotlib ships (Arabic,
extra Cyrillic and Latin letters, symbols), beside the fonts typst embeds (Libertinus Serif, DejaVu
Sans Mono).  Both are put in one folder of links (:func:`font_folder`) given to typst
(``font_paths`` / ``--font-path``; Quarto's ``font-paths``) with system fonts ignored, so the
PDF is the same with or without fonts installed on the machine.

A character no font has would print as an empty box (or not at all): :func:`missing_glyphs`
compares the characters of the book's text (written by the ``pdf-text.lua`` filter) with those
the PDF holds; :func:`font_problems` turns typst's "unknown font family" warnings into errors.
"""

from __future__ import annotations

import importlib.util
import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable

from .base import RenderError

CJK_FONT = "Noto Sans CJK SC"
CJK_PACKAGE, CJK_FILE = "noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc"
# matplotlib's DejaVu files (not its whole font folder: it holds "Last Resort", a font that draws a
# placeholder for every character, which would hide a missing glyph)
DEJAVU_FILES = ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
                "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf")
# The main text: the book's mainfont (if any) first, then these; the code font list is MONO_FONTS.
TEXT_FONTS = ("Libertinus Serif", "DejaVu Serif", "DejaVu Sans", CJK_FONT)
MONO_FONTS = ("DejaVu Sans Mono", CJK_FONT)


def _package_dir(package: str, *files: str) -> Path | None:
    """The folder of an installed package holding ``files`` (found, not imported)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if all((Path(location) / f).is_file() for f in files):
            return Path(location)
    return None


def font_files() -> list[Path]:
    """The font files the PDF may use; a missing package is a :class:`RenderError`."""
    cjk = _package_dir(CJK_PACKAGE, CJK_FILE)
    if cjk is None:
        raise RenderError(f"the CJK font is missing: install the package '{CJK_PACKAGE.replace('_', '-')}' "
                          "(Noto Sans CJK, for Chinese text in the PDF)")
    mpl = _package_dir("matplotlib")
    dejavu = mpl / "mpl-data" / "fonts" / "ttf" if mpl else None
    if dejavu is None or not all((dejavu / f).is_file() for f in DEJAVU_FILES):
        raise RenderError("the DejaVu fonts shipped with matplotlib were not found (matplotlib/mpl-data/fonts/ttf)")
    return [cjk / CJK_FILE] + [dejavu / f for f in DEJAVU_FILES]


def font_folder(folder: Path) -> Path:
    """A folder of links to :func:`font_files` (typst takes folders, not files)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in font_files():
        link = folder / path.name
        if link.is_symlink() or link.exists():
            link.unlink()
        try:
            link.symlink_to(path)
        except OSError:  # no symlinks (some Windows setups): a copy
            link.write_bytes(path.read_bytes())
    return folder


def text_fonts(mainfont: str | None = None) -> list[str]:
    return ([mainfont] if mainfont else []) + [f for f in TEXT_FONTS if f != mainfont]


def typst_font_list(fonts: Iterable[str]) -> str:
    """A typst array of font names: ("A", "B",)."""
    return "(" + ", ".join('"' + f.replace("\\", "\\\\").replace('"', '\\"') + '"' for f in fonts) + ",)"


UNKNOWN_FONT = re.compile(r"unknown font family: (.+)", re.I)


def font_problems(warnings: Iterable[str]) -> list[str]:
    """The font families typst did not find, from its warnings."""
    return sorted({m.group(1).strip() for w in warnings if (m := UNKNOWN_FONT.search(w))})


def _drawn(char: str) -> bool:
    """A character that must print as a glyph: not a space, control, format character, surrogate or
    combining mark (a private-use or unassigned code point must, and cannot)."""
    category = unicodedata.category(char)
    return category[0] not in "ZM" and category not in ("Cc", "Cf", "Cs")


_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")


def _utf16(hexdigits: bytes) -> str:
    return bytes.fromhex(hexdigits.decode("ascii")).decode("utf-16-be", "replace")


def cmap_chars(cmap: bytes) -> set[str]:
    """The characters a font's ToUnicode CMap maps its glyphs to (typst writes one per embedded font,
    for the glyphs it used; a missing glyph, drawn as the font's empty box, has no entry)."""
    chars: set[str] = set()
    for block in _BFCHAR.findall(cmap):
        codes = _HEX.findall(block)
        for dst in codes[1::2]:
            chars.update(_utf16(dst))
    for block in _BFRANGE.findall(cmap):
        for line in block.splitlines():
            codes = _HEX.findall(line)
            if len(codes) == 3 and "[" not in line.decode("latin-1"):
                lo, hi, dst = (int(c, 16) for c in codes)
                chars.update(chr(dst + i) for i in range(hi - lo + 1) if dst + i < 0x110000)
    return chars


def pdf_fonts(pdf: Path):
    """Every font dictionary of the PDF, pages and forms (charts drawn as vectors) alike, once each."""
    from pypdf import PdfReader

    seen: set[int] = set()

    def visit(resources):
        resources = resources.get_object() if resources is not None else None
        if not resources or id(resources) in seen:
            return
        seen.add(id(resources))
        for font in (resources.get("/Font") or {}).values():
            yield font.get_object()
        for xobject in (resources.get("/XObject") or {}).values():
            yield from visit(xobject.get_object().get("/Resources"))

    for page in PdfReader(str(pdf)).pages:
        yield from visit(page.get("/Resources"))


def pdf_chars(pdf: Path) -> set[str]:
    """Every character the PDF's fonts draw (from their ToUnicode maps), pages and forms alike."""
    chars: set[str] = set()
    for font in pdf_fonts(pdf):
        if "/ToUnicode" in font:
            chars.update(cmap_chars(font["/ToUnicode"].get_object().get_data()))
    return chars


# The fonts compiled into typst itself (the same on every machine): PostScript name prefixes.
TYPST_EMBEDDED = ("LibertinusSerif-", "NewCM", "DejaVuSansMono")
_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")


def shipped_postscript_names(files: Iterable[Path] | None = None) -> set[str]:
    """The PostScript names of the font files the project ships (every face of a collection)."""
    from fontTools.ttLib import TTCollection, TTFont

    names: set[str] = set()
    for path in font_files() if files is None else files:
        faces = TTCollection(str(path), lazy=True).fonts if path.suffix.lower() in (".ttc", ".otc") \
            else [TTFont(str(path), lazy=True)]
        for face in faces:
            name = face["name"].getDebugName(6)
            if name:
                names.add(name)
    return names


def pdf_font_names(pdf: Path) -> set[str]:
    """The fonts a PDF embeds: their base names without the subset tag and CID encoding suffix."""
    names = {str(font.get("/BaseFont", "")).lstrip("/") for font in pdf_fonts(pdf)}
    return {re.sub(r"-Identity-[HV]$", "", _SUBSET_TAG.sub("", n)) for n in names} - {""}


def foreign_fonts(pdf: Path, shipped: set[str] | None = None) -> list[str]:
    """The fonts in a PDF that are neither shipped by the project nor compiled into typst: the
    machine's own fonts, which a typst that ignores ``TYPST_IGNORE_SYSTEM_FONTS`` picks up."""
    allowed = shipped_postscript_names() if shipped is None else shipped
    return sorted(n for n in pdf_font_names(pdf) if n not in allowed and not n.startswith(TYPST_EMBEDDED))


def missing_glyphs(text_chars: str, pdf: Path) -> list[str]:
    """The characters of the book's text that no font of the PDF draws (no font had a glyph: typst
    printed an empty box or nothing).  ``text_chars``: the characters of the text."""
    wanted = {c for c in text_chars if _drawn(c) and ord(c) > 0x7F}
    if not wanted:
        return []
    return sorted(wanted - pdf_chars(pdf))


def describe(chars: Iterable[str]) -> str:
    return ", ".join(f"'{c}' (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')})" for c in chars)


def check_pdf(pdf: Path, text_file: Path, warnings: list[str], engine: str) -> None:
    """Raise a :class:`RenderError` for an unknown font family or a character without a glyph."""
    unknown = font_problems(warnings)
    if unknown:
        raise RenderError(f"{engine}: the PDF names fonts typst does not have: {', '.join(unknown)} "
                          "(only the fonts the project ships are used)")
    if not text_file.is_file():
        raise RenderError(f"{engine}: the text of the book was not recorded ({text_file}): the pdf-text filter "
                          "did not run")
    foreign = foreign_fonts(pdf)
    if foreign:
        raise RenderError(f"{engine}: the PDF embeds fonts the project does not ship: {', '.join(foreign)}; the "
                          "typst it ran read this machine's fonts (it must honour TYPST_IGNORE_SYSTEM_FONTS), so "
                          "the PDF would differ from machine to machine")
    missing = missing_glyphs(text_file.read_text(encoding="utf-8"), pdf)
    if missing:
        shown = describe(missing[:12]) + (f" and {len(missing) - 12} more" if len(missing) > 12 else "")
        raise RenderError(f"{engine}: no font has a glyph for {len(missing)} character(s) of the text: {shown}; "
                          "they would print as empty boxes")


def environ_without_system_fonts(env: os._Environ | dict | None = None) -> dict[str, str]:
    """The environment for a typst run by Quarto: system fonts ignored (typst's own variable)."""
    out = dict(os.environ if env is None else env)
    out["TYPST_IGNORE_SYSTEM_FONTS"] = "true"
    out.pop("TYPST_FONT_PATHS", None)
    return out
