"""Writing outputs so that a failure never leaves them half-written.

A step writes into a fresh staging folder next to its destination; only when the
step has finished is the staging folder swapped in for the old one.  If the step
fails (an exception, Ctrl-C, a full disk), the staging folder is removed and the
previous outputs stay exactly as they were.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _siblings(final: Path, tag: str) -> list[Path]:
    return sorted(final.parent.glob(f".{final.name}.{tag}-*"))


def recover(final: Path) -> None:
    """Undo an interrupted swap: if `final` is missing but a moved-aside copy exists, restore it."""
    olds = _siblings(final, "old")
    if not final.exists() and olds:
        os.replace(olds[-1], final)
        olds = olds[:-1]
    for stale in olds + _siblings(final, "tmp"):
        shutil.rmtree(stale, ignore_errors=True)


def swap_in(staging: Path, final: Path) -> None:
    """Replace `final` by `staging` (two renames on one filesystem; `recover` mends a crash between)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
    moved = False
    if final.exists():
        os.replace(final, old)
        moved = True
    try:
        os.replace(staging, final)
    except BaseException:
        # the second rename failed (permissions, a signal...): put the previous outputs back
        if moved and not final.exists():
            os.replace(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield an empty staging folder; swap it in for `final` only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover(final)
    staging = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        swap_in(staging, final)
    except BaseException:  # the block or the swap failed: drop the staging folder, keep `final`
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
