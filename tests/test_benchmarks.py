"""The build benchmark's floor does the same work from the same inputs: it reads its own copy of the
raw data and caches the evaluation in its own folder, never the project's (the floor used to fall
back through find_project() to the project's warm evaluation cache: 0.69 s for a 30 s evaluation)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

AUDIT = r"""
import json, os, sys
from pathlib import Path
opened = set()

def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.add(os.path.abspath(os.fsdecode(args[0])))

sys.addaudithook(hook)
import xjtrade.project

def refuse(*a, **k):
    raise AssertionError("the floor looked for the project (find_project)")

xjtrade.project.find_project = refuse
sys.path.insert(0, sys.argv[3])
import build as bench
parts = bench.floor(Path(sys.argv[1]))
Path(sys.argv[2]).write_text(json.dumps({"opened": sorted(opened), "parts": parts}))
"""


def test_the_floor_reads_only_its_own_copy(tmp_path, warm_cache):
    """Run the floor on a copy whose cache holds the default evaluation (so that it is fast here),
    auditing every file the interpreter opens and refusing find_project(): nothing of the project
    outside its source code is opened, and the evaluation comes from the copy's cache."""
    work = tmp_path / "floor"
    shutil.copytree(ROOT / "data" / "raw", work / "raw")
    for name in ("evaluation", "vintages"):
        shutil.copytree(warm_cache / name, work / "cache" / name)
    out = tmp_path / "audit.json"
    proc = subprocess.run([sys.executable, "-c", AUDIT, str(work), str(out), str(ROOT / "benchmarks")],
                          capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    audit = json.loads(out.read_text())
    allowed = [ROOT / "src", ROOT / ".venv", ROOT / "benchmarks"]
    outside = [p for p in audit["opened"]
               if Path(p).is_relative_to(ROOT) and not any(Path(p).is_relative_to(a) for a in allowed)]
    assert outside == [], outside
    opened_cache = [p for p in audit["opened"] if Path(p).is_relative_to(work / "cache")]
    assert any("/evaluation/" in p for p in opened_cache), audit["opened"]      # read from its own cache
    assert any(Path(p).is_relative_to(work / "raw") for p in audit["opened"])
    assert (work / "run" / "tables" / "model_comparison.csv").is_file()
    assert audit["parts"]["outlook"] < 60      # the warm frame was read, not recomputed
