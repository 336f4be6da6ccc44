"""Staging the Quarto book of one run: the project both render engines read.

`stage_project` assembles, in a folder, the repository's `_quarto.yml` (with the edition's title,
data date and build date), the run's executed notebooks (as the book shows them: `stage_notebook`),
its figures, and the pages written from its results (`pages.py`): the front page, the methods
chapter, the sources chapter and the about page.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Mapping

import pandas as pd
import yaml

from xjtrade.report.render import edition_site_url
from xjtrade.project import Project
from xjtrade.report import pages
from xjtrade.report.editions import editions
from xjtrade.report.first_screen import attribute
from xjtrade.report.results import Results, load_results


def run_results(run_dir: Path, manifest: dict) -> Results:
    """The run's results, with the requested parameters (title, name...) winning over those the
    notebooks were run with (a retitled edition is rendered again, not run again)."""
    results = load_results((Path(run_dir) / "results.json").read_text(encoding="utf-8"))
    return results.with_parameters(manifest.get("parameters", {}))


# Said on the front page only when the engine that makes the site links each notebook from its chapter
# (the portable renderer does; Quarto's HTML book does not).
NOTEBOOK_DOWNLOADS = "The executed notebooks can be downloaded from their chapters."
KEY_RESULTS_TAGS = {"key-results", "results"}


def front_page(text: str, downloads: bool = False) -> str:
    """The summary page with its title as an unnumbered heading (``# Title {.unnumbered}``) instead of
    front matter, so Quarto, like the portable renderer, does not count it as chapter 1."""
    if text.startswith("---\n"):
        end = text.index("\n---\n", 3)
        front = yaml.safe_load(text[4:end]) or {}
        body = text[end + 5:].lstrip("\n")
        title = " ".join(str(front.get("title", "")).split())
        text = (f"# {title} {{.unnumbered}}\n\n" if title else "") + body
    return text.rstrip("\n") + (f"\n\n{NOTEBOOK_DOWNLOADS}\n" if downloads else "\n")


def _is_key_results(cell: dict) -> bool:
    source = "".join(cell.get("source") or [])
    tags = set((cell.get("metadata") or {}).get("tags") or [])
    return cell.get("cell_type") == "code" and ("save_results" in source or bool(tags & KEY_RESULTS_TAGS))


def _visible(cell: dict) -> bool:
    """Does the cell show anything in the book (text, or an output not hidden by ``#| output: false``)?"""
    source = "".join(cell.get("source") or [])
    tags = set((cell.get("metadata") or {}).get("tags") or [])
    if cell.get("cell_type") == "markdown":
        return bool(source.strip())
    if cell.get("cell_type") != "code" or tags & {"parameters", "injected-parameters", "remove-cell"}:
        return False
    options = "\n".join(line for line in source.splitlines() if line.startswith("#|"))
    if re.search(r"^#\|\s*(output|include):\s*false\s*$", options, re.M):
        return False
    return bool(cell.get("outputs"))


def _heading_level(cell: dict) -> int | None:
    """Level of a markdown cell that is a heading and nothing else."""
    source = "".join(cell.get("source") or []).strip()
    m = re.fullmatch(r"(#{1,6})\s+[^\n]+", source)
    return len(m.group(1)) if m and cell.get("cell_type") == "markdown" else None


_FIG_LABEL = re.compile(r"^#\|\s*label:\s*[\"']?(fig-[\w-]+)", re.M)
_FIG_ALT = re.compile(r"^#\|\s*fig-alt\s*:")


def with_fig_alt(source: str, alt: str) -> str:
    """A figure cell's source with ``#| fig-alt: "<alt>"`` right after its label (any typed fig-alt
    replaced): the text both engines give the image as its alt.  The text is made safe for an
    attribute value in double quotes (no double quote, backslash or brace) and written as a YAML
    double-quoted string."""
    out, done = [], False
    for line in source.splitlines(keepends=True):
        if _FIG_ALT.match(line):
            continue
        out.append(line if line.endswith("\n") else line + "\n")
        if not done and _FIG_LABEL.match(line):
            out.append(f"#| fig-alt: {json.dumps(attribute(' '.join(alt.split())), ensure_ascii=False)}\n")
            done = True
    text = "".join(out)
    return text if source.endswith("\n") else text.rstrip("\n")


def stage_notebook(nb: dict, alts: Mapping[str, str] | None = None) -> dict:
    """A notebook as the book shows it, identical for identical inputs under both engines:

    * papermill's metadata (notebook and cells), the cells' ``execution`` timestamps and empty ``tags``
      removed (Quarto 1.10 writes a cell div's ``data-tags`` and ``data-execution_count`` in either order);
    * "Key results" cells (``save_results`` in the source, or tagged) get ``#| output: false`` and lose
      their outputs (the JSON they print is for nbval and results.json, not the page);
    * a heading cell whose section then shows nothing is dropped (no empty "Key results" heading);
    * the "Chart data as CSV" link a figure cell prints under its chart moves to a markdown cell of its own
      right after it: a second output of a labelled figure cell is a sub-figure to Quarto ("(a)", "(b)");
    * a figure cell whose label has a text in `alts` (the run's results: ``Results.chart_alts``) gets it
      as its ``fig-alt`` option (:func:`with_fig_alt`)."""
    nb = json.loads(json.dumps(nb))
    nb.get("metadata", {}).pop("papermill", None)
    for cell in nb.get("cells", []):
        meta = cell.get("metadata") or {}
        meta.pop("papermill", None)
        meta.pop("execution", None)
        if meta.get("tags") == []:   # Quarto writes a cell's data-* attributes in no fixed order: keep one
            meta.pop("tags")
        if _is_key_results(cell):
            source = "".join(cell.get("source") or [])
            if not re.search(r"^#\|\s*output:\s*false\s*$", source, re.M):
                source = "#| output: false\n" + source
            cell["source"] = source.splitlines(keepends=True)
            cell["outputs"] = []
        label = _FIG_LABEL.search("".join(cell.get("source") or [])) if cell.get("cell_type") == "code" else None
        if label and alts and label.group(1) in alts:
            cell["source"] = with_fig_alt("".join(cell["source"]), alts[label.group(1)]).splitlines(keepends=True)
    cells = nb.get("cells", [])
    keep = []
    for i, cell in enumerate(cells):
        level = _heading_level(cell)
        if level is not None and level > 1:
            section = []
            for later in cells[i + 1:]:
                other = _heading_level(later)
                if other is not None and other <= level:
                    break
                section.append(later)
            if not any(_visible(c) for c in section):
                continue
        keep.append(cell)
    nb["cells"] = _figure_links_apart(keep)
    return nb


def _text_output(out: dict) -> str:
    md = (out.get("data") or {}).get("text/markdown")
    return "".join(md) if isinstance(md, list) else (md or "")


def _figure_links_apart(cells: list[dict]) -> list[dict]:
    out = []
    for cell in cells:
        out.append(cell)
        source = "".join(cell.get("source") or []) if isinstance(cell.get("source"), list) else str(cell.get("source", ""))
        if cell.get("cell_type") != "code" or not re.search(r"^#\|\s*label:\s*fig-", source, re.M):
            continue
        links = [o for o in cell.get("outputs", []) if "{.csv-link}" in _text_output(o)]
        if links:
            cell["outputs"] = [o for o in cell["outputs"] if o not in links]
            out.append({"cell_type": "markdown", "id": f"{cell.get('id', 'cell')}-data", "metadata": {},
                        "source": ("\n\n".join(_text_output(o).strip("\n") for o in links) + "\n")
                        .splitlines(keepends=True)})
    return out


def book_config(project: Project, results: Results, manifest: dict) -> dict:
    """_quarto.yml with the edition's title, data date and build date."""
    p = results.parameters
    config = yaml.safe_load((project.root / "_quarto.yml").read_text(encoding="utf-8"))
    config.setdefault("book", {})["title"] = p.title
    cut = p.as_of.isoformat() if p.as_of else manifest.get("data_latest_source")
    if cut:
        config["book"]["subtitle"] = f"{config['book'].get('subtitle', '')} (data as of {cut})".strip()
    if manifest.get("build_date"):
        config["book"]["date"] = manifest["build_date"]
    else:  # no build date known (a build without a clock): no date, never a null Quarto refuses
        config["book"].pop("date", None)
    if config["book"].get("site-url"):  # the PDF's links to the site: this edition's own address
        config["book"]["site-url"] = edition_site_url(config["book"]["site-url"], p.name)
    return config


def stage_project(project: Project, run_dir: Path, stage: Path, manifest: dict) -> Path:
    """Assemble the Quarto project for one run into `stage` (the same for both render engines but
    for the front page's note on notebook downloads, which only the portable site provides)."""
    run_dir = Path(run_dir)
    results = run_results(run_dir, manifest)
    p = results.parameters
    stage.mkdir(parents=True, exist_ok=True)
    config = book_config(project, results, manifest)
    (stage / "_quarto.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (stage / "notebooks").mkdir(exist_ok=True)
    for path in sorted((run_dir / "notebooks").glob("*.ipynb")):
        nb = stage_notebook(json.loads(path.read_text(encoding="utf-8")), results.chart_alts())
        (stage / "notebooks" / path.name).write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)
                                                     + "\n", encoding="utf-8")
    if (run_dir / "figures").exists():
        shutil.copytree(run_dir / "figures", stage / "figures")
    downloads = manifest.get("render_engine") == "portable"
    (stage / "index.qmd").write_text(front_page(pages.summary_page(results, editions(project, run_dir.name), manifest),
                                                downloads), encoding="utf-8")
    methods = (project.root / "methods.qmd").read_text(encoding="utf-8")
    (stage / "methods.qmd").write_text(pages.methods_page(methods, results), encoding="utf-8")
    sources = pd.read_parquet(run_dir / "data" / "sources.parquet")
    used = set(results.data.sources_used) if results.data else None
    whole = results.data.counts.get("dataset") if results.data else None
    (stage / "sources.qmd").write_text(pages.sources_page(sources, p.as_of.isoformat() if p.as_of else None, used,
                                                          whole), encoding="utf-8")
    (stage / "about.qmd").write_text(pages.about_page(manifest, results, config), encoding="utf-8")
    return stage
