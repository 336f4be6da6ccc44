"""A build killed with SIGKILL leaves no process behind, and the next command cleans up after it.

A fresh copy of the project is built in a subprocess; once the notebooks' kernels are running the
build is killed with `kill -9`.  Every process it started (pool workers, kernels, the resource tracker)
is found by the copy's unique path in its environment (XJTRADE_ROOT) or working directory: none may be
alive 10 s later.  The staging folders it left are then removed by the next command that takes the
build lock, while a folder owned by a live process is kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EPOCH, copy_project, run_cli

pytestmark = pytest.mark.slow


def processes_of(marker: str) -> dict[int, str]:
    """{pid: command line} of live processes whose environment or working directory mentions `marker`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().split(") ", 1)[1].startswith("Z"):
                continue  # a zombie waiting to be reaped is not running
            env = (entry / "environ").read_bytes()
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                cwd = ""
            if marker.encode() in env or marker in cwd:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
    return found


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_kill_9_during_the_notebooks_leaves_no_process(tmp_path, warm_cache):
    root = copy_project(tmp_path / "project", warm=warm_cache)
    marker = str(root)
    env = {**os.environ, "XJTRADE_ROOT": marker, "SOURCE_DATE_EPOCH": EPOCH}
    build = subprocess.Popen([sys.executable, "-m", "xjtrade.cli", "build", "--jobs", "2"], cwd=root, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        kernels = wait_for(lambda: {p: c for p, c in processes_of(marker).items() if "ipykernel" in c},
                           240, "the notebook kernels to start")
        assert len(processes_of(marker)) >= 4, processes_of(marker)  # build, tracker, 2 workers, kernel(s)
        assert kernels
    finally:
        build.send_signal(signal.SIGKILL)
        build.wait(30)
    deadline = time.monotonic() + 10
    while processes_of(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    survivors = processes_of(marker)
    for pid in survivors:  # do not leave them running whatever the verdict
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert survivors == {}, f"processes left running 10 s after kill -9: {survivors}"

    # the killed build left its staging folder; the next command (holding the lock) removes it, and a
    # publication source folder of a dead pid, but not one owned by a live process (this one)
    leftovers = sorted(p.name for p in (root / "reports" / "runs").glob(".default.tmp-*"))
    assert leftovers, "expected the killed run's staging folder"
    dead = subprocess.Popen(["true"])
    dead.wait()
    from xjtrade.project import write_marker
    for pid, tag in ((dead.pid, "x1"), (os.getpid(), "x2")):   # as publish makes them: marked, pid in the name
        (root / "reports" / f".src-default-p{pid}-{tag}").mkdir()
        write_marker(root / "reports" / f".src-default-p{pid}-{tag}", "render-source")
    proc = run_cli(root, "render")  # fails (nothing was ever run) after cleaning up
    assert proc.returncode == 1 and "no executed run" in proc.stderr, proc.stderr
    assert not list((root / "reports" / "runs").glob(".default.*")), "staging folder not cleaned"
    assert not (root / "reports" / f".src-default-p{dead.pid}-x1").exists()
    assert (root / "reports" / f".src-default-p{os.getpid()}-x2").exists(), "a live owner's folder was removed"
    assert "removed" in proc.stderr and leftovers[0] in proc.stderr, proc.stderr
