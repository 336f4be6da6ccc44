"""Two builds in one checkout: one at a time, through .xjtrade-cache/build.lock.

While a cold build runs, a second `build --no-wait` stops at once naming the first one's pid, and a
second plain `build` waits (saying so), then finds nothing to do.  Both plain builds succeed and
nothing is lost: the report is complete and no staging folder is left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import EPOCH, copy_project, run_cli

pytestmark = pytest.mark.slow


def test_second_build_waits_or_reports_the_lock(tmp_path, warm_cache):
    root = copy_project(tmp_path / "project", warm=warm_cache)
    env = {**os.environ, "XJTRADE_ROOT": str(root), "SOURCE_DATE_EPOCH": EPOCH}

    def start(*args):
        return subprocess.Popen([sys.executable, "-m", "xjtrade.cli", *args], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = start("build", "--jobs", "2")
    owner = root / ".xjtrade-cache" / "build.owner"
    deadline = time.monotonic() + 60
    while not owner.exists() and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.1)
    assert owner.exists(), "the first build never took the lock"
    assert json.loads(owner.read_text())["pid"] == first.pid

    refused = run_cli(root, "build", "--no-wait", timeout=60)
    assert refused.returncode == 1
    assert f"another build (pid {first.pid}) is running" in refused.stderr, refused.stderr

    second = start("build")
    out1, err1 = first.communicate(timeout=900)
    out2, err2 = second.communicate(timeout=900)
    assert first.returncode == 0, out1 + err1
    assert second.returncode == 0, out2 + err2
    assert out1.startswith("built 'default'"), out1
    assert f"waiting for another build (pid {first.pid})" in err2, err2
    assert out2.startswith("nothing to do"), out2 + err2
    report = root / "reports" / "default"
    assert (report / "site" / "index.html").is_file() and list(report.glob("*.pdf"))
    assert json.loads((report / "manifest.json").read_text())["parameters"]["name"] == "default"
    assert not [p for p in root.rglob(".*") if p.is_dir() and (".tmp-" in p.name or ".old-" in p.name
                                                                or p.name.startswith(".src-"))]
    assert not owner.exists()
