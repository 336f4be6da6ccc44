"""Two clean builds give the same bytes.

Two fresh copies of the project are built side by side (`xjtrade build`, same SOURCE_DATE_EPOCH,
each process with its own random hash seed) and compared: the processed data (CSV and Parquet),
the run's tables, results.json and figures (SVG and PNG), the published pages and manifest, and
the PDF (its bytes, and the text of every page); then every file of the two builds, executed notebooks
included (they are normalised after execution: no papermill times or durations, no random cell ids).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_project

pytestmark = pytest.mark.slow

EPOCH = "1700000000"


def _digests(folder: Path, patterns: tuple[str, ...]) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for pat in patterns for p in sorted(folder.glob(pat)) if p.is_file()}


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> tuple[Path, Path]:
    roots = [copy_project(tmp_path_factory.mktemp(f"twin{i}") / "project") for i in (1, 2)]
    procs = []
    for root in roots:
        env = {**os.environ, "XJTRADE_ROOT": str(root), "SOURCE_DATE_EPOCH": EPOCH}
        env.pop("PYTHONHASHSEED", None)  # a different hash seed in each build: set order must not matter
        procs.append(subprocess.Popen([sys.executable, "-m", "xjtrade.cli", "build", "--jobs", "2"], cwd=root,
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for root, proc in zip(roots, procs):
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"build in {root} failed\n{out}\n{err}"
    return roots[0], roots[1]


CASES = {
    "processed CSV": ("data/processed", ("*.csv", "*.json")),
    "processed Parquet": ("data/processed", ("*.parquet",)),
    "run tables": ("reports/runs/default", ("tables/*.csv",)),
    "results.json": ("reports/runs/default", ("results.json", "results/*.json", "params.yaml")),
    "figures SVG": ("reports/runs/default", ("figures/*.svg",)),
    "figures PNG": ("reports/runs/default", ("figures/*.png",)),
    "site pages": ("reports/default", ("site/*.html", "site/notebooks/*.html", "site/figures/*", "manifest.json")),
    "PDF bytes": ("reports/default", ("*.pdf",)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_bytes(twins, case):
    sub, patterns = CASES[case]
    a, b = (_digests(root / sub, patterns) for root in twins)
    assert a, f"no files matched {patterns} under {sub}"
    assert sorted(a) == sorted(b)
    differ = sorted(name for name in a if a[name] != b[name])
    assert not differ, f"{case}: different bytes in {differ}"


def test_every_output_file_is_the_same(twins):
    """All files under data/processed and reports/ (runs, site, PDF, notebooks, manifest), byte for byte."""
    from conftest import tree
    a, b = (tree(root / "data" / "processed") | {f"reports/{k}": v for k, v in tree(root / "reports").items()}
            for root in twins)
    assert len(a) > 80, f"only {len(a)} files built"
    assert sorted(a) == sorted(b), f"different file sets: {sorted(set(a) ^ set(b))}"
    differ = sorted(name for name in a if a[name] != b[name])
    assert not differ, f"{len(differ)} of {len(a)} files differ: {differ}"


def test_executed_notebooks_carry_no_times_or_random_ids(twins):
    import nbformat
    for nb_path in sorted((twins[0] / "reports" / "runs" / "default" / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        pm = nb.metadata["papermill"]
        assert not {"start_time", "end_time", "duration"} & set(pm), nb_path.name
        assert pm["input_path"] == f"notebooks/{nb_path.name}"
        assert [c.get("id") for c in nb.cells] == [f"cell-{i}" for i in range(len(nb.cells))]
        assert not [c for c in nb.cells if "execution" in c.metadata or "papermill" in c.metadata]


def test_same_pdf_text(twins):
    from pypdf import PdfReader
    pdfs = [sorted((root / "reports" / "default").glob("*.pdf")) for root in twins]
    assert len(pdfs[0]) == 1 and [p.name for p in pdfs[0]] == [p.name for p in pdfs[1]]
    pages = [[page.extract_text() for page in PdfReader(p[0]).pages] for p in pdfs]
    assert len(pages[0]) == len(pages[1]) > 5
    differ = [i + 1 for i, (x, y) in enumerate(zip(*pages)) if x != y]
    assert not differ, f"PDF text differs on pages {differ}"
