"""The client side of a sweep on dask.distributed: connect, submit, collect as tasks finish.

* :func:`connect` gives a ``Client``: to the scheduler at ``tcp://HOST:PORT`` when given, else to a
  ``LocalCluster`` sized to the machine (worker processes with one thread each, one per core).
* :func:`run_tasks` runs any picklable function over a list of picklable items and yields
  ``(item, Outcome)`` as each task finishes, in completion order: results are never all held at
  once, a failing task does not stop the others, and its error comes with the remote traceback.
  The evaluation grid of the forecasts (vintages x models x horizons, :mod:`xjtrade.sweep.evaluation`) runs on it.

A scheduler address is checked before anything is sent: the address itself (`check_address`: tcp://
or tls://, a host, a port), then, for tcp://, what the server says first (`probe`): a dask scheduler
sends its handshake at once, a small framed msgpack message; a silent server, an HTTP server or one
sending anything else is refused within `CONNECT_TIMEOUT` with one line (dask itself would wait for
ever, or read the first bytes of an HTTP reply as a frame length and try to allocate petabytes).  The
client is then made under the same deadline, and at least one worker must join within
`WORKERS_TIMEOUT`.  While tasks run, `completed` gives up when none has finished for `TASK_TIMEOUT`
seconds (unresponsive workers); every task runs through `checked_call`, so a result that cannot be
sent back is the task's error instead of a client waiting for it.

Trust: a scheduler address is as trusted as a shell.  dask's protocol pickles functions and results,
so whoever runs the scheduler or a worker can run code in this process (dask's trust model); the checks
above only turn mistakes (a wrong address, a server that is not dask) into clear errors.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import struct
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlsplit

from xjtrade.textsafe import printable, shorten

CONNECT_TIMEOUT = 20.0     # s: reach the scheduler and complete dask's handshake
HANDSHAKE_TIMEOUT = 10.0   # s: a scheduler sends its handshake as soon as it accepts a connection
WORKERS_TIMEOUT = 25.0     # s: at least one worker must be connected to the scheduler
TASK_TIMEOUT = 1800.0      # s without any task finishing: the workers are taken as unresponsive
MAX_HANDSHAKE = 1 << 20    # bytes: a dask handshake is about 60


class SchedulerError(ConnectionError):
    """A scheduler address that is malformed, unreachable or not a dask scheduler (one line)."""


class TaskTimeout(TimeoutError):
    """No task finished within the idle timeout; `pending` holds the futures still waited for."""

    def __init__(self, pending, seconds: float | None):
        super().__init__(f"no task finished within {seconds:g} s: the workers did not answer (unresponsive, "
                         "or tasks slower than --task-timeout)")
        self.pending = pending


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


_HOSTNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}"
                       r"[A-Za-z0-9_])?)*\.?", re.ASCII)
USAGE = "expected tcp://HOST:PORT (or tls://HOST:PORT), e.g. tcp://10.0.0.5:8786"


def check_address(address: str) -> str:
    """The scheduler address in the form dask takes (`tcp://host:port`); SchedulerError saying what is
    wrong with a malformed one.  `host:port` means tcp://."""
    shown = f"--scheduler {shorten(printable(repr(address)), 80)}"
    if not isinstance(address, str) or not address:
        raise SchedulerError(f"{shown}: empty; {USAGE}")
    if len(address) > 300 or not (address.isascii() and address.isprintable()) or any(c.isspace() for c in address):
        raise SchedulerError(f"{shown}: has spaces, control or non-ASCII characters; {USAGE}")
    url = address if "://" in address else "tcp://" + address
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SchedulerError(f"{shown}: not an address ({exc}); {USAGE}") from None
    if parts.scheme not in ("tcp", "tls"):
        raise SchedulerError(f"{shown}: scheme {parts.scheme!r} is not supported; {USAGE}")
    if parts.username is not None or parts.password is not None or parts.path not in ("", "/") or parts.query \
            or parts.fragment or "#" in url or "?" in url:
        raise SchedulerError(f"{shown}: only SCHEME://HOST:PORT, nothing before the host or after the port; {USAGE}")
    host = parts.hostname
    if not host:
        raise SchedulerError(f"{shown}: no host; {USAGE}")
    if port is None or not parts.netloc.rsplit(":", 1)[-1].isdigit():
        raise SchedulerError(f"{shown}: no port; {USAGE}")
    if not 0 < port < 65536:
        raise SchedulerError(f"{shown}: port {port} is not in 1-65535; {USAGE}")
    if parts.netloc.startswith("["):
        try:
            ip = ipaddress.IPv6Address(host)
        except ValueError:
            raise SchedulerError(f"{shown}: {host!r} is not an IPv6 address; {USAGE}") from None
        return f"{parts.scheme}://[{ip.compressed}]:{port}"
    if not _HOSTNAME.fullmatch(host) or len(host) > 253:
        raise SchedulerError(f"{shown}: {host!r} is not a host name or IP address; {USAGE}")
    return f"{parts.scheme}://{host}:{port}"


def _recv(sock: socket.socket, n: int, deadline: float, address: str) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        sock.settimeout(left)
        chunk = sock.recv(min(n - len(buf), 1 << 16))
        if not chunk:
            raise SchedulerError(f"{address} closed the connection without a dask handshake: it is not a dask "
                                 "scheduler (or it refused this client)")
        buf += chunk
    return bytes(buf)


def probe(address: str, timeout: float = CONNECT_TIMEOUT, handshake: float = HANDSHAKE_TIMEOUT) -> None:
    """Check that a tcp:// address answers like a dask scheduler: connect within `timeout` seconds,
    then read, within `handshake` seconds more, the handshake a scheduler sends at once (a length, then
    msgpack frames) with a bound on its size.  SchedulerError (one line) for anything else; tls:// is
    left to the client's timeout."""
    parts = urlsplit(address)
    if parts.scheme != "tcp":
        return
    try:
        sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    except socket.timeout:
        raise SchedulerError(f"cannot reach the dask scheduler at {address}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise SchedulerError(f"cannot reach the dask scheduler at {address}: {exc.strerror or exc}") from None
    deadline = time.monotonic() + handshake
    timeout = handshake
    with sock:
        try:
            header = _recv(sock, 8, deadline, address)
            (size,) = struct.unpack("<Q", header)
            if not 8 <= size <= MAX_HANDSHAKE:
                raise SchedulerError(f"{address} is not a dask scheduler: it answered "
                                     f"{shorten(printable(repr(header)), 60)}, not a dask handshake")
            body = _recv(sock, size, deadline, address)
        except socket.timeout:
            raise SchedulerError(f"{address} accepted the connection but sent no dask handshake within {timeout:g} s: "
                                 "it is not a dask scheduler, or it is stuck") from None
        except OSError as exc:
            if isinstance(exc, SchedulerError):
                raise
            raise SchedulerError(f"lost the connection to {address} during the handshake: {exc.strerror or exc}") from None
    try:
        from distributed.protocol.core import loads
        from distributed.protocol.utils import unpack_frames
        frames, _ = unpack_frames(memoryview(body), partial=True)
        message = loads(frames, deserialize=False)
    except Exception:  # noqa: BLE001 - anything that is not dask's framing
        message = None
    if not isinstance(message, dict) or "pickle-protocol" not in message:
        raise SchedulerError(f"{address} is not a dask scheduler: its first message is not a dask handshake")


def _client_within(address: str, timeout: float):
    """`Client(address)` made in a helper thread, given up after `timeout` seconds (dask waits for the
    handshake without a deadline)."""
    from dask.distributed import Client
    box: dict = {}

    def make():
        try:
            box["client"] = Client(address, timeout=f"{timeout}s")
        except BaseException as exc:  # noqa: BLE001 - reported below as one line
            box["error"] = exc

    thread = threading.Thread(target=make, name="xjtrade-connect", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if thread.is_alive():
        raise SchedulerError(f"no complete dask handshake with {address} within {timeout:g} s")
    if "error" in box:
        exc = box["error"]
        raise SchedulerError(f"cannot connect to the dask scheduler at {address}: "
                             f"{type(exc).__name__}: {shorten(printable(exc), 200)}") from None
    return box["client"]


@contextmanager
def connect(scheduler: str | None = None, n_workers: int | None = None, log=None,
            timeout: float = CONNECT_TIMEOUT, workers_timeout: float = WORKERS_TIMEOUT) -> Iterator[Any]:
    """A dask.distributed ``Client``, closed (with its ``LocalCluster``, if one was started) on exit.
    A scheduler address is checked, probed and connected to within `timeout` seconds, and must have a
    worker within `workers_timeout` seconds (SchedulerError, one line, otherwise)."""
    from dask.distributed import Client, LocalCluster
    say = log or (lambda msg: None)
    if scheduler:
        address = check_address(scheduler)
        probe(address, timeout)
        client = _client_within(address, timeout)
        try:
            try:
                client.wait_for_workers(1, timeout=workers_timeout)
            except (TimeoutError, OSError):
                raise SchedulerError(f"the dask scheduler at {address} has no workers (none joined within "
                                     f"{workers_timeout:g} s): start some with `dask worker {address}`") from None
            say(f"connected to {address} ({len(client.scheduler_info()['workers'])} workers)")
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


def checked_call(fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)`` on a worker, its result checked to travel back to the client: one that
    cannot be pickled is this task's TypeError, instead of a client waiting for it."""
    import pickle
    value = fn(*args, **kwargs)
    try:
        try:
            pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - what plain pickle cannot do, dask does with cloudpickle
            import cloudpickle
            cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - any pickling failure
        raise TypeError(f"the result of {getattr(fn, '__name__', 'the task')} cannot be sent back to the client "
                        f"({type(exc).__name__}: {shorten(exc, 200)})") from None
    return value


def submit_all(client, fn: Callable, items: list, *args, key_prefix: str = "task", **kwargs):
    """Futures of ``fn(item, *args, **kwargs)`` (through `checked_call`), keyed so that the dashboard
    names them."""
    import dask
    futures = {}
    for i, item in enumerate(items):
        fut = client.submit(checked_call, fn, item, *args, key=f"{key_prefix}-{i}-{dask.base.tokenize(item)}",
                            pure=False, **kwargs)
        futures[fut] = item
    return futures


def completed(futures, idle_timeout: float | None = TASK_TIMEOUT) -> Iterator:
    """The futures as they finish; TaskTimeout when none has finished for `idle_timeout` seconds."""
    from dask.distributed import wait
    pending = set(futures)
    while pending:
        try:
            done, pending = wait(pending, timeout=idle_timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            raise TaskTimeout(pending, idle_timeout) from None
        yield from sorted(done, key=lambda f: str(f.key))


def outcome(fut) -> Outcome:
    """What a finished future gave: its value, or its error (raised on the worker or while reading the
    result here) with the traceback."""
    if fut.status != "finished":
        return _describe(fut)
    try:
        return Outcome(True, value=fut.result())
    except Exception as exc:  # noqa: BLE001 - a result that cannot be read back
        return Outcome(False, error=f"{type(exc).__name__}: {shorten(exc, 300)}",
                       traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


def collect(futures: dict, idle_timeout: float | None = TASK_TIMEOUT) -> Iterator[tuple[Any, Outcome]]:
    """``(item, Outcome)`` in completion order; each future is released once read.  When no task has
    finished for `idle_timeout` seconds, the rest are cancelled and reported as failed."""
    try:
        for fut in completed(list(futures), idle_timeout):
            item = futures.pop(fut)
            out = outcome(fut)
            fut.release()
            yield item, out
    except TaskTimeout as exc:
        for fut in list(futures):
            fut.cancel()
            yield futures.pop(fut), Outcome(False, error=f"TimeoutError: {exc}")


def run_tasks(fn: Callable, items: Iterable, scheduler: str | None = None, client=None,
              n_workers: int | None = None, idle_timeout: float | None = TASK_TIMEOUT,
              **kwargs) -> Iterator[tuple[Any, Outcome]]:
    """Run ``fn(item, **kwargs)`` for every item on a dask cluster; yield ``(item, Outcome)`` as
    each finishes. Uses `client` if given, else connects (`scheduler`, or a local cluster)."""
    items = list(items)
    if client is not None:
        yield from collect(submit_all(client, fn, items, **kwargs), idle_timeout)
        return
    with connect(scheduler, n_workers) as c:
        yield from collect(submit_all(c, fn, items, **kwargs), idle_timeout)
