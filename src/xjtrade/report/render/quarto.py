"""Finding and running the Quarto CLI, and deciding which engine writes the PDF.

Quarto before 1.9.18 cannot render a *book* to typst: it prints ``WARN: The typst format is not
supported by book projects``, writes no PDF and still exits 0.  So the version decides: with
Quarto >= :data:`BOOK_TYPST_MIN` the PDF comes from ``quarto render --to typst``; with an older (or
unreadable) version the HTML comes from Quarto and the PDF from the portable typst path.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Mapping

from .base import RenderError, meta_arg

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
    for key in sorted(metadata or {}):
        cmd += ["-M", f"{key}:{meta_arg(metadata[key])}"]
    return cmd


def run_quarto(cmd: list[str], what: str) -> str:
    """Run a ``quarto render`` command; its stderr (warnings) is returned."""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RenderError(f"quarto failed rendering {what} (exit {proc.returncode}): {' '.join(cmd)}\n"
                          f"{proc.stderr.strip()}")
    return proc.stderr or ""


def quarto_html(quarto: Path, project_dir: Path, site: Path, metadata: Mapping[str, Any] | None) -> str:
    if site.exists():
        shutil.rmtree(site)
    return run_quarto(quarto_command(quarto, project_dir, site, "html", metadata), "html")


def quarto_pdf(quarto: Path, project_dir: Path, output_dir: Path, pdf: Path,
               metadata: Mapping[str, Any] | None) -> None:
    """``quarto render --to typst`` into a scratch folder; the PDF is moved to ``pdf``.  No PDF is an
    error, whatever Quarto's exit status."""
    scratch = output_dir / ".quarto-pdf"
    if scratch.exists():
        shutil.rmtree(scratch)
    try:
        stderr = run_quarto(quarto_command(quarto, project_dir, scratch, "typst", metadata), "the PDF (typst)")
        pdfs = sorted(scratch.rglob("*.pdf"))
        if not pdfs:
            raise RenderError(f"quarto wrote no PDF for the book (quarto render --to typst); its messages:\n"
                              f"{stderr.strip() or '(none)'}")
        shutil.move(str(pdfs[0]), pdf)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
