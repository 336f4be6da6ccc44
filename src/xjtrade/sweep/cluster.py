"""The client side of a sweep on dask.distributed: connect, submit, collect as tasks finish.

* :func:`connect` gives a ``Client``: to the scheduler at ``tcp://HOST:PORT`` when given, else to a
  ``LocalCluster`` sized to the machine (worker processes with one thread each, one per core).
* :func:`run_tasks` runs any picklable function over a list of picklable items and yields
  ``(item, Outcome)`` as each task finishes, in completion order: results are never all held at
  once, a failing task does not stop the others, and its error comes with the remote traceback.
  The evaluation grid of the forecasts (vintages x models x horizons, :mod:`xjtrade.sweep.evaluation`) runs on it.
"""

from __future__ import annotations

import os
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator


@dataclass
class Outcome:
    ok: bool
    value: Any = None
    error: str = ""          # "ExceptionType: message"
    traceback: str = ""


# Settings of the local cluster's workers, for long CPU-bound tasks (benchmarks/sweep.py measures them):
# * no MALLOC_TRIM_THRESHOLD_ (dask sets 65536 by default): setting it at all turns off glibc's dynamic
#   mmap threshold, so every array over 128 KiB is a fresh mmap; a scenario then took 7x the page
#   faults and about 20 % more time than in a plain process.  The BLAS thread limits are kept.
# * no statistical profiler sampling the task's stack every 10 ms, and the event loop's lag check
#   once a second instead of every 20 ms: both take the GIL from the computing thread.
# Workers started by hand (`dask worker`, for --scheduler) are given the same settings through the
# DASK_* environment variables of `worker_environment()` (printed in the README).
WORKER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,   # None: not set (dask's rule)
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
}

ENVIRON = "distributed.nanny.pre-spawn-environ"   # its keys are names of environment variables


def worker_environment() -> dict[str, str]:
    """WORKER_CONFIG as the DASK_* environment variables of a `dask worker` started by hand.  Dask
    lower-cases the names of such variables, so the nanny's environment goes as one dict literal."""
    def name(key: str) -> str:
        return "DASK_" + key.upper().replace(".", "__").replace("-", "_")
    env = {name(k): str(v) for k, v in WORKER_CONFIG.items() if not k.startswith(ENVIRON + ".")}
    environ = {k[len(ENVIRON) + 1:]: v for k, v in WORKER_CONFIG.items() if k.startswith(ENVIRON + ".")}
    if environ:
        env[name(ENVIRON)] = repr(environ)
    return env


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def connect(scheduler: str | None = None, n_workers: int | None = None, log=None) -> Iterator[Any]:
    """A dask.distributed ``Client``, closed (with its ``LocalCluster``, if one was started) on exit."""
    from dask.distributed import Client, LocalCluster
    say = log or (lambda msg: None)
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot reach the dask scheduler at {scheduler}: {exc}") from None
        say(f"connected to {scheduler} ({len(client.scheduler_info()['workers'])} workers)")
        try:
            yield client
        finally:
            client.close()
        return
    import dask
    n = n_workers or default_workers()
    # dashboard and HTTP server on any free port: several sweeps may run side by side
    with dask.config.set(WORKER_CONFIG):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=40)
    client = Client(cluster)
    say(f"started a local cluster: {n} worker processes, 1 thread each")
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _describe(future) -> Outcome:
    exc = future.exception()
    tb = future.traceback()
    text = "".join(traceback.format_exception(type(exc), exc, tb)) if tb is not None else repr(exc)
    return Outcome(False, error=f"{type(exc).__name__}: {exc}", traceback=text)


def submit_all(client, fn: Callable, items: list, *args, key_prefix: str = "task", **kwargs):
    """Futures of ``fn(item, *args, **kwargs)``, keyed so that the dashboard names them."""
    import dask
    futures = {}
    for i, item in enumerate(items):
        fut = client.submit(fn, item, *args, key=f"{key_prefix}-{i}-{dask.base.tokenize(item)}",
                            pure=False, **kwargs)
        futures[fut] = item
    return futures


def collect(futures: dict) -> Iterator[tuple[Any, Outcome]]:
    """``(item, Outcome)`` in completion order; each future is released once read."""
    from dask.distributed import as_completed
    for fut in as_completed(list(futures)):
        item = futures.pop(fut)
        out = Outcome(True, value=fut.result()) if fut.status == "finished" else _describe(fut)
        fut.release()
        yield item, out


def run_tasks(fn: Callable, items: Iterable, scheduler: str | None = None, client=None,
              n_workers: int | None = None, **kwargs) -> Iterator[tuple[Any, Outcome]]:
    """Run ``fn(item, **kwargs)`` for every item on a dask cluster; yield ``(item, Outcome)`` as
    each finishes. Uses `client` if given, else connects (`scheduler`, or a local cluster)."""
    items = list(items)
    if client is not None:
        yield from collect(submit_all(client, fn, items, **kwargs))
        return
    with connect(scheduler, n_workers) as c:
        yield from collect(submit_all(c, fn, items, **kwargs))
