"""The publication step: a run folder -> the published report under reports/<name>/.

`publish` stages the Quarto book from the run (`staging.py`: the executed notebooks and the pages
written from the run's results by `pages.py`), renders it (Quarto when installed, the portable
pandoc + typst renderer otherwise: `render/`), finishes the site (`site.py`: stylesheet, tables'
CSV files, the data package, the figures table, the interactive chart) and swaps the new report in
for the previous one only when everything succeeded.  The publish step formats the run's typed
results (`results.py`); it computes nothing (tests/test_layout.py keeps it from importing the
analysis).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from xjtrade.project import Project, staged_dir
from xjtrade.report.editions import editions
from xjtrade.report.site import finish_site
from xjtrade.report.staging import run_results, stage_project


def planned_engine(engine: str) -> str:
    from xjtrade.report.render import find_quarto
    if engine == "auto":
        return "quarto" if find_quarto() else "portable"
    return engine


def publish(project: Project, run_dir: Path, manifest: dict, engine: str = "auto", log=print) -> Path:
    """Render the run into reports/<name>/ (site/, the PDF, manifest.json, notebooks/), atomically:
    the previous report is replaced only when the whole render succeeded."""
    from xjtrade.report.render import render_project
    name = Path(run_dir).name
    final = project.reports / name
    manifest = {**manifest, "render_engine": planned_engine(engine)}
    project.reports.mkdir(parents=True, exist_ok=True)
    # the owner's pid in the name: a later build removes it only once this process is gone
    src = Path(tempfile.mkdtemp(prefix=f".src-{name}-p{os.getpid()}-", dir=project.reports))
    try:
        stage_project(project, run_dir, src, manifest)
        with staged_dir(final, "xjtrade render") as out:
            result = render_project(src, out, engine=engine, metadata={"run": name}, log=log)
            finish_site(out / "site", Path(run_dir), run_results(run_dir, manifest), manifest,
                        editions(project, name))
            (out / "manifest.json").write_text(json.dumps({**manifest, "render_engine": result.engine},
                                                          indent=1, sort_keys=True) + "\n", encoding="utf-8")
            shutil.copytree(Path(run_dir) / "notebooks", out / "notebooks", dirs_exist_ok=True)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    log(f"published {final} ({len(result.pages)} pages, PDF {result.pdf.name if result.pdf else 'none'})")
    return final
