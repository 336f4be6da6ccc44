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
import shutil
from pathlib import Path

import yaml

from xjtrade.project import Project, scratch_dir, staged_dir
from xjtrade.report.bulletin import pdf_footer
from xjtrade.report.editions import editions
from xjtrade.report.site import finish_site
from xjtrade.report.staging import run_results, stage_project


def publish(project: Project, run_dir: Path, manifest: dict, engine: str = "auto", log=print) -> Path:
    """Render the run into reports/<name>/ (site/, the PDF, manifest.json, notebooks/), atomically:
    the previous report is replaced only when the whole render succeeded."""
    from xjtrade.report.render import PAGE_FOOTER, plan_engines, render_project
    name = Path(run_dir).name
    final = project.reports / name
    plan = plan_engines(engine)  # engine and version of the site and of the PDF, for the about page
    manifest = {**manifest, "render_engine": plan.site["engine"], "render": plan.as_dict()}
    project.reports.mkdir(parents=True, exist_ok=True)
    # marked, with the owner's pid in the name: a later build removes it only once this process is gone
    src = scratch_dir(project.reports, name)
    try:
        stage_project(project, run_dir, src, manifest)
        results = run_results(run_dir, manifest)
        config = yaml.safe_load((src / "_quarto.yml").read_text(encoding="utf-8"))
        with staged_dir(final, "report") as out:
            # the PDF's page footer, whichever engine writes the PDF: how to cite the edition, its licence
            metadata = {"run": name, PAGE_FOOTER: pdf_footer(results, manifest, config)}
            result = render_project(src, out, metadata=metadata, log=log, plan=plan)
            finish_site(out / "site", Path(run_dir), results, manifest, editions(project, name), config)
            (out / "manifest.json").write_text(json.dumps({**manifest, "render_engine": result.engine,
                                                           "render": result.engines},
                                                          indent=1, sort_keys=True) + "\n", encoding="utf-8")
            shutil.copytree(Path(run_dir) / "notebooks", out / "notebooks", dirs_exist_ok=True)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    log(f"published {final} ({len(result.pages)} pages, PDF {result.pdf.name if result.pdf else 'none'})")
    return final
