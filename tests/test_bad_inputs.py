"""Bad inputs and failures: a clear error, and earlier outputs left byte for byte as they were.

One project copy is built once (module-scoped); every case works in its own copy of that built
project, breaks one thing, runs `xjtrade build` and checks
  - the command fails with a message naming the file / line / parameter / notebook / cell at fault,
  - the published report (reports/default/), the run folder and data/processed are unchanged,
  - no staging folder (.*.tmp-*, .*.old-*, .src-*) is left behind.
Cases that need a fault injected in-process (unwritable folder as root, renderer error) run the
CLI with click's CliRunner and monkeypatch; the SIGTERM case runs the CLI in a subprocess.
"""

from __future__ import annotations

import csv
import io
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from conftest import EPOCH, copy_project, tree
from conftest import run_cli as xjtrade

pytestmark = pytest.mark.slow

MARK = Path(tempfile.gettempdir()) / f"xjtrade-pwned-{os.getpid()}"  # only safe characters in this path


def snapshot(root: Path) -> dict:
    """Every output and every step record and cached frame (the kernels' logs under .xjtrade-cache/logs
    are diagnostics of the latest attempt, the cache's event log a diary, and the key memo and the
    validated parameters bookkeeping: they are left out)."""
    cache = {k: v for k, v in tree(root / ".xjtrade-cache").items()
             if not k.startswith(("logs/", "events.log", "keys/", "params/"))}
    return {"report": tree(root / "reports" / "default"), "run": tree(root / "reports" / "runs" / "default"),
            "data": tree(root / "data" / "processed"), "cache": cache}


def leftovers(root: Path) -> list[str]:
    found = [*root.rglob(".*.tmp-*"), *root.rglob(".*.old-*"), *(root / "reports").glob(".src-*")]
    return sorted(str(p.relative_to(root)) for p in found)


def assert_untouched(root: Path, before: dict) -> None:
    after = snapshot(root)
    for part in ("report", "run", "data", "cache"):
        changed = sorted(k for k in before[part].keys() | after[part].keys()
                         if before[part].get(k) != after[part].get(k))
        assert not changed, f"{part} changed: {changed[:10]}"
    assert not leftovers(root), leftovers(root)


@pytest.fixture(scope="module")
def template(tmp_path_factory, warm_cache) -> Path:
    root = copy_project(tmp_path_factory.mktemp("bad-inputs") / "project", warm=warm_cache)
    proc = xjtrade(root, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (root / "reports" / "default" / "manifest.json").is_file()
    return root


@pytest.fixture
def project(template, tmp_path, monkeypatch) -> Path:
    """A private copy of the built project (XJTRADE_ROOT points at it, for in-process runs)."""
    root = tmp_path / "project"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.setenv("XJTRADE_ROOT", str(root))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    return root


# --- breaking things ---------------------------------------------------------------------------

def set_cell(path: Path, line: int, column: str, value: str) -> None:
    """Rewrite one field of one line of a CSV file, leaving every other line as it is."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    row = next(csv.reader([lines[line - 1]]))
    row[header.index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    lines[line - 1] = buf.getvalue()
    path.write_text("".join(lines), encoding="utf-8")


def non_numeric_value(root):
    set_cell(root / "data/raw/reports.csv", 3, "value", "abc")


def non_numeric_rate(root):
    set_cell(root / "data/raw/exchange_rates.csv", 2, "cny_per_usd", "eight")


def empty_reports(root):
    (root / "data/raw/reports.csv").write_text("", encoding="utf-8")


def empty_rates(root):
    (root / "data/raw/exchange_rates.csv").write_text("", encoding="utf-8")


def no_notebooks(root):
    for nb in (root / "notebooks").glob("*.ipynb"):
        nb.unlink()


def no_notebook_folder(root):
    shutil.rmtree(root / "notebooks")


def raising_notebook(root):
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("raise ValueError('boom')"),
                             new_code_cell("print('never reached')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "99-raise.ipynb")


def nothing(root):
    pass


R = "data/raw/reports.csv"
CLI_CASES = [
    # id, break, extra arguments, fragments the error must contain
    ("non-numeric-value", non_numeric_value, [], [f"{R}, line 3, column value", "'abc'", "not a number"]),
    ("non-numeric-rate", non_numeric_rate, [],
     ["data/raw/exchange_rates.csv, line 2, column cny_per_usd", "'eight'"]),
    ("empty-reports", empty_reports, [], [f"{R}: file is empty"]),
    ("empty-rates", empty_rates, [], ["data/raw/exchange_rates.csv: file is empty"]),
    ("unknown-parameter", nothing, ["-p", "horizn=3"], ["horizn: unknown parameter", "-p horizn=3"]),
    ("mistyped-parameter", nothing, ["-p", "horizon=abc"], ["horizon: Input should be a valid integer", "'abc'"]),
    ("impossible-horizon", nothing, ["-p", "horizon=0"], ["horizon: Input should be greater than or equal to 1"]),
    ("impossible-entity", nothing, ["-p", "entity=Atlantis"], ["entity: no trade figures for 'Atlantis'"]),
    ("code-in-entity", nothing, ["-p", f"entity=__import__('os').system('touch {MARK}')"],
     ["entity", "characters that are not allowed"]),
    ("code-in-entity-brief", nothing, ["-p", "entity=__import__('os').system('touch /tmp/pwned')"],
     ["entity", "characters that are not allowed"]),
    ("code-in-entity-plain", nothing, ["-p", f"entity=os.system('touch {MARK}')"],
     ["entity: no trade figures for \"os.system('touch"]),
    ("yaml-tag-in-entity", nothing, ["-p", f"entity=!!python/object/apply:os.system ['touch {MARK}']"],
     ["entity", "characters that are not allowed"]),
    ("path-outside-project", nothing, ["-p", "name=../../etc"], ["name: '../../etc' must be"]),
    ("no-notebooks", no_notebooks, [], ["no notebooks (NN-name.ipynb) found in", "notebooks"]),
    ("no-notebook-folder", no_notebook_folder, [], ["notebook folder", "notebooks does not exist"]),
    ("raising-notebook", raising_notebook, [],
     ["notebook 99-raise.ipynb, cell", "raise ValueError('boom')", "ValueError: boom", "99-raise.ipynb"]),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_bad_input_fails_clearly_and_changes_nothing(project, case):
    name, breaker, args, expected = case
    pwned_before = Path("/tmp/pwned").exists()
    breaker(project)
    listing = sorted(p.name for p in project.parent.iterdir())
    before = snapshot(project)
    proc = xjtrade(project, "build", *args)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    error = proc.stderr[proc.stderr.index("Error:"):] if "Error:" in proc.stderr else ""
    assert error, proc.stderr
    for fragment in expected:
        assert fragment in error, f"{fragment!r} not in:\n{error}"
    assert_untouched(project, before)
    assert not MARK.exists()
    if not pwned_before:
        assert not Path("/tmp/pwned").exists()
    assert sorted(p.name for p in project.parent.iterdir()) == listing  # nothing created beside the project
    if name == "raising-notebook":
        kept = project / "reports" / "runs" / "default.failed" / "99-raise.ipynb"
        assert kept.is_file(), "the executed failed notebook should be kept"
        outputs = [o for c in nbformat.read(kept, as_version=4).cells if c.cell_type == "code"
                   for o in c.get("outputs", [])]
        assert any(o.get("ename") == "ValueError" and o.get("evalue") == "boom" for o in outputs)
        assert str(project / "reports" / "runs" / "default.failed") in error
    else:
        assert not (project / "reports" / "runs" / "default.failed").exists()


# --- unwritable output folder ------------------------------------------------------------------

@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores file permissions; test_unwritable_reports_simulated covers it")
def test_unwritable_reports_folder(project):
    before = snapshot(project)
    folders = [project / "reports", project / "reports" / "runs"]
    modes = {f: f.stat().st_mode for f in folders}
    for f in folders:
        f.chmod(0o555)
    try:
        proc = xjtrade(project, "build", "-p", "horizon=3")
    finally:
        for f, mode in modes.items():
            f.chmod(mode)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Permission denied" in proc.stderr and str(project / "reports") in proc.stderr, proc.stderr
    assert_untouched(project, before)


def _touch_render_input(root: Path) -> None:
    """A change that only the render step reads (so the in-process build renders and nothing else)."""
    with (root / "methods.qmd").open("a", encoding="utf-8") as fh:
        fh.write("\nOne more sentence.\n")


def _cli_build(*args: str):
    from xjtrade.cli import main
    return CliRunner().invoke(main, ["build", *args])


def _is_under(path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("fault", ["every-rename", "swap-in-only", "copytree"])
def test_unwritable_reports_simulated(project, monkeypatch, fault):
    """Root is not stopped by chmod: simulate the permission error where the report is written."""
    reports = project / "reports"
    real_replace, real_copytree = os.replace, shutil.copytree

    def replace(src, dst, *a, **kw):
        if _is_under(dst, reports) and Path(dst).parent.resolve() == reports.resolve():
            if fault == "every-rename" or Path(src).name.startswith(".default.tmp-"):
                raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst, *a, **kw)

    def copytree(src, dst, *a, **kw):
        if _is_under(dst, reports):
            raise PermissionError(13, "Permission denied", str(dst))
        return real_copytree(src, dst, *a, **kw)

    _touch_render_input(project)
    before = snapshot(project)
    if fault == "copytree":
        monkeypatch.setattr(shutil, "copytree", copytree)
    else:
        monkeypatch.setattr(os, "replace", replace)
    result = _cli_build()
    monkeypatch.undo()
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    assert "build failed in the render step: [Errno 13] Permission denied" in result.output, result.output
    assert str(reports) in result.output
    assert "The outputs of that step are unchanged; earlier outputs are unchanged." in result.output
    assert_untouched(project, before)


# --- renderer error ----------------------------------------------------------------------------

def test_renderer_error_keeps_the_previous_report(project, monkeypatch):
    from xjtrade.report import render

    def broken(*args, **kwargs):
        raise render.RenderError("typst: simulated failure in chapter 03-forecast")

    _touch_render_input(project)
    before = snapshot(project)
    monkeypatch.setattr(render, "render_project", broken)
    result = _cli_build()
    assert result.exit_code == 1, result.output
    assert "render failed; the previous report is unchanged" in result.output
    assert "simulated failure in chapter 03-forecast" in result.output
    assert_untouched(project, before)  # includes the cache: the render step is still due
    monkeypatch.undo()
    again = xjtrade(project, "build")
    assert again.returncode == 0 and again.stdout.startswith("built 'default'") and "ran render" in again.stdout


# --- SIGTERM halfway ---------------------------------------------------------------------------

def _processes_in(root: Path) -> list[tuple[int, str]]:
    """Processes whose working folder is inside `root` (build, workers, kernels: they run in the project)."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd.startswith(str(root)):
            out.append((int(pid), cmd[:120]))
    return out


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs Linux /proc to find the kernels")
def test_sigterm_halfway_leaves_the_report_and_no_processes(project):
    before = snapshot(project)
    env = {**os.environ, "XJTRADE_ROOT": str(project), "SOURCE_DATE_EPOCH": EPOCH}
    proc = subprocess.Popen([sys.executable, "-m", "xjtrade.cli", "build", "--force"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    err: list[str] = []

    def pump():
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "build ended before the run step:\n" + "".join(err)
            err.append(line)
            if "running" in line:
                break
        # wait until the kernels are up, so that stopping them is part of the test
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("ipykernel" in cmd for _, cmd in _processes_in(project)):
            time.sleep(0.2)
        assert proc.poll() is None, "build finished before it could be interrupted"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    try:
        while (line := lines.get(timeout=10)) is not None:
            err.append(line)
    except queue.Empty:  # a surviving child still holds the pipe: reported below
        err.append("[stderr still open 10 s after the build exited]\n")
    stderr = "".join(err)
    deadline = time.monotonic() + 20
    while _processes_in(project) and time.monotonic() < deadline:
        time.sleep(0.25)
    survivors = _processes_in(project)
    for pid, _ in survivors:  # children of the build started here: do not leave them behind
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not survivors, "workers or kernels left running:\n" + "\n".join(f"{p} {c}" for p, c in survivors)
    assert proc.returncode != 0
    assert "Aborted" in stderr, stderr
    assert "Traceback" not in stderr, stderr
    assert_untouched(project, before)
    # the interrupted build left everything valid: the next one has nothing to do
    again = xjtrade(project, "build")
    assert again.returncode == 0 and again.stdout.startswith("nothing to do"), again.stdout + again.stderr
