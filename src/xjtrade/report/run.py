"""The run step: one validated parameter set -> reports/runs/<name>/.

Executes the numbered notebooks in notebooks/ with papermill, each in its own
process and kernel (independent notebooks run side by side), inside a staging
folder; the run folder is replaced only when every notebook succeeded.  A failing
cell stops the run with the notebook, the cell and the error, and the executed
notebook is kept in reports/runs/<name>.failed/ for inspection.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Mapping

import yaml

from xjtrade.errors import RunError  # noqa: F401  (raised here; defined where the CLI can catch it cheaply)
from xjtrade.project import (inside, notebooks_in, open_nofollow, owned, read_marker,  # noqa: F401
                             staged_dir, write_marker)  # (notebooks_in: re-exported)
from xjtrade.data.processed import build_dataset, load_processed
from xjtrade.report.context import check_against_data
from xjtrade.report.params import RunParams
from xjtrade.report.results import SECTIONS, load_results
from xjtrade.project import Project



@dataclass
class RunResult:
    folder: Path
    notebooks: list[Path]
    seconds: dict[str, float]
    results: dict
    timings: dict = field(default_factory=dict)  # {notebook: {start, end (epoch seconds), seconds}}


def _die_with_parent(parent_pid: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux prctl PR_SET_PDEATHSIG), so
    a `kill -9` of the build does not leave notebook workers and kernels running.  Best effort elsewhere."""
    import ctypes
    import os
    import signal
    import sys
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent_pid is not None and os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _worker_init(parent_pid: int) -> None:
    _die_with_parent(parent_pid)


def _kernel_manager_class():
    """jupyter_client's kernel manager, whose kernels die with the worker that started them."""
    import os

    from jupyter_client.manager import AsyncKernelManager

    class DieWithParentKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            parent = os.getpid()
            kw["preexec_fn"] = lambda: _die_with_parent(parent)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return DieWithParentKernelManager


def execute_one(src: str, dst: str, parameters: dict, cwd: str, log_dir: str | None = None) -> dict:
    """Run one notebook (in a worker process). Returns timing, or the failure described."""
    import os

    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    # the kernel's own chatter (transport warnings, shutdown notices) goes to a log file outside the
    # outputs (it varies from run to run), not the console
    logs = Path(log_dir) if log_dir else Path(cwd) / "logs"
    logs.mkdir(parents=True, exist_ok=True)   # checked by the caller: no symbolic link out of the project
    log_fd = open_nofollow(logs / f"{Path(src).stem}.log")
    os.dup2(log_fd, 2)
    # one BLAS / OpenMP thread per kernel (inherited from this worker's environment): the notebooks
    # already run side by side, and OpenBLAS threads oversubscribing the cores made the ARIMA
    # backtests about 4x slower; a fixed thread count also keeps floating-point results reproducible
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    t0, start = time.perf_counter(), time.time()
    try:
        pm.execute_notebook(src, dst, parameters=parameters, cwd=cwd, kernel_name="python3",
                            progress_bar=False, log_output=False, report_mode=False,
                            kernel_manager_class=_kernel_manager_class())
    except PapermillExecutionError as exc:
        first = next((ln.strip() for ln in str(exc.source or "").splitlines() if ln.strip()), "")
        return {"ok": False, "notebook": Path(src).name, "cell": exc.exec_count, "cell_index": exc.cell_index,
                "cell_source": first[:80], "error": f"{exc.ename}: {exc.evalue}",
                "seconds": time.perf_counter() - t0}
    except Exception as exc:  # kernel died, notebook unreadable, ...
        return {"ok": False, "notebook": Path(src).name, "cell": None, "cell_index": None,
                "error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - t0}
    normalise(Path(dst))
    return {"ok": True, "notebook": Path(src).name, "seconds": time.perf_counter() - t0,
            "start": start, "end": time.time()}


VOLATILE_PAPERMILL = ("start_time", "end_time", "duration", "exception")


def normalise(path: Path) -> None:
    """Make an executed notebook a function of its inputs only: papermill's times and durations and
    nbclient's `execution` timestamps removed, cell ids derived from the cell index (papermill gives the
    injected cell a random one), and the machine's absolute paths replaced by names relative to the run
    (a published notebook reveals nothing of the machine or the staging folder it ran in)."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in VOLATILE_PAPERMILL:
        meta.pop(key, None)
    for key in ("input_path", "output_path"):
        if meta.get(key):
            meta[key] = f"notebooks/{Path(meta[key]).name}"
    if "cwd" in meta:
        meta["cwd"] = "."
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if "id" in cell or nb.nbformat_minor >= 5:
            cell["id"] = f"cell-{i}"
    nbformat.write(nb, path)



def expected_seconds(notebook: Path, recorded: Mapping[str, float] | None = None) -> float:
    """How long the notebook is expected to take, to start the slowest first: its time in the last run of
    these parameters (`recorded`, from the run step's record), else the cost the notebook declares in its
    metadata (``xjtrade.expected_seconds``: the executed notebooks keep no durations, so that their bytes
    depend on their inputs only), else 0."""
    name = Path(notebook).name
    if recorded and name in recorded:
        return float(recorded[name])
    try:
        meta = json.loads(Path(notebook).read_text(encoding="utf-8")).get("metadata", {})
        return float(meta.get("xjtrade", {}).get("expected_seconds") or 0.0)
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.0


def _stop_workers(pool: ProcessPoolExecutor, timeout: float = 15.0) -> None:
    """Interrupted (Ctrl-C, SIGTERM): stop the workers now instead of waiting for their notebooks.
    SIGTERM lets a worker's nbclient shut its kernel down; a worker still alive after `timeout` is killed."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(5)


def _prepare_data(project: Project, params: RunParams, target: Path, log) -> None:
    if params.as_of is not None:
        log(f"building the data as known on {params.as_of}")
        build_dataset(project.raw, target, as_of=params.as_of.isoformat())
        return
    if not (project.processed / "figures.parquet").exists():
        log("no processed data yet: building it")
        build_dataset(project.raw, project.processed)
    shutil.copytree(project.processed, target)


def _failed_folder(folder: Path) -> bool:
    """Make `folder` (reports/runs/<name>.failed) ready to keep a failed run's notebooks: a fresh marked
    folder, or the one an earlier failure left.  False if something else is there (a folder or a link
    the project did not make), which is then left alone."""
    if not owned(folder, "failed-run", legacy=False):
        return False
    folder.mkdir(parents=True, exist_ok=True)
    write_marker(folder, "failed-run")
    return True


def merge_results(folder: Path, params: RunParams) -> str:
    """results.json of a run: its parameters, the notebooks' sections and the data summary, checked
    against the contract (`report/results.py`)."""
    raw: dict = {"parameters": params.notebook_parameters()}
    for section in SECTIONS:
        path = folder / "results" / f"{section}.json"
        if path.exists():
            raw[section] = json.loads(path.read_text(encoding="utf-8"))
    summary = folder / "data" / "summary.json"
    if summary.exists():
        raw["dataset"] = json.loads(summary.read_text(encoding="utf-8"))
    return load_results(json.dumps(raw)).to_json()


def run_notebooks(project: Project, params: RunParams, log=print, jobs: int = 2,
                  notebooks: list[Path] | None = None, only: list[Path] | None = None,
                  base: Path | None = None, log_dir: Path | None = None,
                  recorded: Mapping[str, float] | None = None) -> RunResult:
    """Execute the notebooks for `params` into reports/runs/<name>/ (atomically).

    `only` + `base`: re-execute just these notebooks, starting from a copy of the previous run
    folder `base` (whose other notebooks and outputs are still valid).  `recorded`: each notebook's
    seconds in the last run, to start the slowest first (see `expected_seconds`).
    """
    all_notebooks = notebooks or notebooks_in(project.notebooks)
    sources = only or all_notebooks
    final = project.runs / params.name
    failed_dir = project.runs / f"{params.name}.failed"
    if log_dir is not None:   # a symbolic link in the cache never makes the logs land outside the project
        inside(log_dir, project.root)
    with staged_dir(final, "run") as stage:
        if base is not None:
            shutil.copytree(base, stage, dirs_exist_ok=True)
        else:
            _prepare_data(project, params, stage / "data", log)
        figs, _, _ = load_processed(stage / "data")
        check_against_data(params, figs)
        (stage / "notebooks").mkdir(exist_ok=True)
        (stage / "params.yaml").write_text(yaml.safe_dump(params.notebook_parameters(), sort_keys=True),
                                           encoding="utf-8")
        # paths relative to the run folder the notebooks run in (the same for every checkout: an executed
        # notebook carries no machine path, and two builds of one checkout give the same bytes)
        nb_params = {**params.notebook_parameters(), "data_dir": "data", "out_dir": ".",
                     "cache_dir": os.path.relpath(project.cache, stage)}
        outputs = {src.name: stage / "notebooks" / src.name for src in sources}
        seconds: dict[str, float] = {}
        failures = []
        log(f"running {len(sources)} notebooks ({min(jobs, len(sources))} at a time)")
        timings: dict[str, dict] = {}
        with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(sources))), mp_context=get_context("spawn"),
                                 initializer=_worker_init, initargs=(os.getpid(),)) as pool:
            try:
                # longest first, so that the slowest notebook does not start last (notebooks are independent)
                futures = {pool.submit(execute_one, str(src), str(outputs[src.name]), nb_params, str(stage),
                                       str(log_dir) if log_dir else None): src
                           for src in sorted(sources, key=lambda nb: -expected_seconds(nb, recorded))}
                for fut in as_completed(futures):
                    r = fut.result()
                    seconds[r["notebook"]] = round(r["seconds"], 2)
                    if r["ok"]:
                        timings[r["notebook"]] = {k: r[k] for k in ("start", "end", "seconds")}
                        log(f"{r['notebook']} done in {r['seconds']:.1f} s")
                    else:
                        log(f"{r['notebook']} FAILED")
                        failures.append(r)
            except BaseException:
                _stop_workers(pool)
                raise
        if failures:
            keep = _failed_folder(failed_dir)
            lines = []
            for r in sorted(failures, key=lambda r: r["notebook"]):
                kept = outputs[r["notebook"]]
                if kept.exists() and keep:
                    shutil.copy2(kept, failed_dir / r["notebook"])
                where = "start"
                if r["cell_index"] is not None:
                    where = f"cell {r['cell']} (index {r['cell_index']})"
                    if r.get("cell_source"):
                        where += f", which starts `{r['cell_source']}`"
                lines.append(f"notebook {r['notebook']}, {where}: {r['error']}")
            where = (f"executed notebook(s) kept in {failed_dir}" if keep else
                     f"executed notebook(s) not kept: {failed_dir} exists and was not made by xjtrade run")
            raise RunError("run failed; the previous run folder is unchanged\n  "
                           + "\n  ".join(lines) + f"\n  {where}", failed_dir if keep else None)
        results = merge_results(stage, params)
        (stage / "results.json").write_text(results, encoding="utf-8")
    if (read_marker(failed_dir) or {}).get("kind") == "failed-run" and not failed_dir.is_symlink():
        shutil.rmtree(failed_dir, ignore_errors=True)   # a failed run's notebooks, made by xjtrade run: no longer current
    return RunResult(folder=final, notebooks=[final / "notebooks" / s.name for s in all_notebooks],
                     seconds=seconds, results=json.loads(results), timings=timings)
