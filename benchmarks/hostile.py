"""Hostile inputs to `xjtrade sweep` and parameter files (issue 22, item 5), each run as a user would:
a fresh `xjtrade` process on a temporary copy of the project, its wall time and peak memory printed.

  million         a grid of 10^6 scenarios (three lists of 100)
  bomb-base       a YAML alias bomb (9 levels of 9) in a grid's base
  bomb-title      the same bomb as a grid's title
  bomb-params     the same bomb in a parameter file (`xjtrade build --params`)
  scheduler-*     `xjtrade sweep --scheduler ADDRESS` for malformed addresses and for local servers that
                  are not dask schedulers: silent, garbage-sending, HTTP, closing, plausible frame

Targets (issue 22): the grid and bomb cases fail within 5 s using under 300 MB; every --scheduler case
ends within 30 s with a one-line error.  Run from the project root:  .venv/bin/python benchmarks/hostile.py
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

MEASURE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
           "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
           "print(p.returncode, round(time.perf_counter() - t, 2), "
           "round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)); "
           "sys.stdout.write(p.stderr)")


def bomb() -> str:
    lines = [f"  a0: &a0 [{', '.join(['lol'] * 9)}]"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def run(root: Path, *args: str) -> tuple[int, float, float, list[str]]:
    env = {**os.environ, "XJTRADE_ROOT": str(root)}
    proc = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "xjtrade.cli", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=600)
    first, _, err = proc.stdout.partition("\n")
    rc, seconds, mb = first.split()
    return int(rc), float(seconds), float(mb), [x for x in err.splitlines() if x.startswith("Error")]


@contextlib.contextmanager
def server(kind: str):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def handle(conn):
        with conn:
            try:
                if kind == "garbage":
                    conn.sendall(os.urandom(72))
                elif kind == "framed":
                    conn.sendall((40).to_bytes(8, "little") + os.urandom(40))
                elif kind == "close":
                    return
                elif kind == "http":
                    conn.settimeout(60)
                    if conn.recv(65536):
                        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                stop.wait(60)
            except OSError:
                pass

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        srv.close()


def main() -> None:
    from xjtrade.project import copy_project
    with tempfile.TemporaryDirectory(prefix="xjtrade-hostile-") as tmp:
        root = copy_project(ROOT, Path(tmp) / "project")
        vals = ", ".join(f"e{i}" for i in range(100))
        (root / "million.yaml").write_text(f"name: million\nvary:\n  entity: [{vals}]\n  partner: [{vals}]\n"
                                           f"  flow: [{vals}]\n")
        (root / "bomb-base.yaml").write_text("name: b1\nx:\n" + bomb() + "base:\n  title: *a8\nvary: {flow: [total]}\n")
        (root / "bomb-title.yaml").write_text("name: b2\nx:\n" + bomb() + "title: *a8\n")
        (root / "bomb-params.yaml").write_text("x:\n" + bomb() + "title: *a8\n")
        (root / "two.yaml").write_text("name: two\nbase: {models: [naive]}\nvary: {entity: [Horgos port]}\n")
        cases = [("million", ("sweep", "million.yaml")), ("bomb-base", ("sweep", "bomb-base.yaml")),
                 ("bomb-title", ("sweep", "bomb-title.yaml")), ("bomb-params", ("build", "--params", "bomb-params.yaml"))]
        for address in ("tcp://", "tcp://:8786", "tcp://host", "tcp://host:99999", "tcp://host:abc",
                        "http://host:8786", "tcp://[::1:8786", "tcp://host:8786/x"):
            cases.append((f"scheduler {address!r}", ("sweep", "two.yaml", "--scheduler", address)))
        print(f"{'case':34} {'exit':>4} {'seconds':>8} {'MB':>7}  error")
        for name, args in cases:
            rc, seconds, mb, errors = run(root, *args)
            print(f"{name:34} {rc:>4} {seconds:>8.2f} {mb:>7.1f}  {' | '.join(errors)[:150]}")
        for kind in ("silent", "http", "garbage", "framed", "close"):
            with server(kind) as address:
                rc, seconds, mb, errors = run(root, "sweep", "two.yaml", "--scheduler", address)
            print(f"{'scheduler ' + kind:34} {rc:>4} {seconds:>8.2f} {mb:>7.1f}  {' | '.join(errors)[:150]}")


if __name__ == "__main__":
    main()
