"""The cache store: every cached artefact of the project, put and got by kind and key, verified.

Entries live in ``<cache>/<kind>/<key>.xjc`` (the cache is the project's ``.xjtrade-cache``).  An entry
is one file: a header line (JSON: the kind, the key, the payload's size and sha256) and the payload
(JSON text, Parquet bytes...).  :meth:`Store.put` writes it to a temporary file beside it and renames
it into place, so an entry is whole or absent.  :meth:`Store.get` reads it (never through a symbolic
link: the file is opened with ``O_NOFOLLOW`` and the kind's folder must resolve inside the cache) and
checks the payload against the header; an entry that fails (edited by hand, truncated, a link, a
header for another key) is a miss: it is logged, named, and the caller recomputes and replaces it.

Kinds: ``evaluation`` (pseudo-real-time evaluation frames), ``vintages`` (the evidence as known on
a date), ``sweep`` (a sweep scenario's rows), ``records`` (the build's step records), ``keys`` (the
memo of :mod:`xjtrade.keys`).

Events.  What happens in other processes (a notebook's kernel, a sweep's workers) is appended to
``<cache>/events.log``, one JSON line each: entries stored (``put``), entries that failed their check
(``rejected``), entries not written because their folder is a link out of the cache (``refused``) and
entries not read because of ``--force`` (``refreshed``).  The build reads the lines
its run added (:func:`events_since`) to say what was recomputed and to show the rejections.

Refresh.  With ``XJTRADE_CACHE_REFRESH`` set (``1`` or ``all``, or a comma-separated list of kinds),
a store reads no entry of those kinds: everything is recomputed and stored again.  ``xjtrade build
--force`` sets it for the notebooks it runs.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Callable

MAGIC = "xjtrade-cache"
VERSION = 1
SUFFIX = ".xjc"
REFRESH_ENV = "XJTRADE_CACHE_REFRESH"
EVENTS = "events.log"
EVENTS_MAX = 1 << 20
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", re.ASCII)
_FLAGS = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class CacheError(OSError):
    """The cache cannot be used as asked (a folder that leads outside it)."""

    def __str__(self) -> str:
        return self.args[0] if self.args else "cache error"


def refresh_kinds(environ=None) -> set[str] | None:
    """The kinds `XJTRADE_CACHE_REFRESH` asks to recompute: None (none), {"*"} (all) or a set."""
    value = (os.environ if environ is None else environ).get(REFRESH_ENV, "").strip()
    if not value or value == "0":
        return None
    if value in ("1", "all", "*"):
        return {"*"}
    return {v.strip() for v in value.split(",") if v.strip()}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Store:
    """The cache at `root`.  `log` (optional) gets one line per rejected entry, in this process."""

    def __init__(self, root: Path, log: Callable[[str], None] | None = None, refresh: set[str] | None = None):
        self.root = Path(root)
        self.log = log
        self.refresh = refresh_kinds() if refresh is None else refresh

    # -- paths
    def _check(self, kind: str, key: str) -> None:
        for what, value in (("kind", kind), ("key", key)):
            if not _NAME.fullmatch(value) or ".." in value:
                raise ValueError(f"cache {what} {value!r}: letters, digits, '_', '-' and '.' only")

    def folder(self, kind: str, create: bool = False) -> Path:
        """The kind's folder; CacheError if it (or the cache) leads out of the cache through a link."""
        folder = self.root / kind
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        if folder.exists() or folder.is_symlink():
            real, inside = folder.resolve(), self.root.resolve() / kind
            if real != inside:
                raise CacheError(f"cache folder {folder} is a link to {real}, outside the cache {self.root}: "
                                 "not used (remove the link)")
        return folder

    def path(self, kind: str, key: str) -> Path:
        self._check(kind, key)
        return self.root / kind / f"{key}{SUFFIX}"

    def refreshing(self, kind: str) -> bool:
        return self.refresh is not None and bool(self.refresh) and ("*" in self.refresh or kind in self.refresh)

    # -- reading
    def get(self, kind: str, key: str) -> bytes | None:
        """The payload stored under (kind, key), or None: absent, refreshed, or failing its check
        (logged as rejected)."""
        path = self.path(kind, key)
        if self.refreshing(kind):
            if path.exists():
                self._event("refreshed", kind, key)
            return None
        try:
            self.folder(kind)
        except CacheError as exc:
            self._reject(kind, key, path, str(exc))
            return None
        try:
            fd = os.open(path, os.O_RDONLY | _FLAGS)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self._reject(kind, key, path, "it is a symbolic link")
            else:
                self._reject(kind, key, path, f"it cannot be read ({exc.strerror or exc})")
            return None
        with os.fdopen(fd, "rb") as fh:
            data = fh.read()
        payload, problem = _unpack(data, kind, key)
        if problem:
            self._reject(kind, key, path, problem)
            return None
        return payload

    def get_json(self, kind: str, key: str):
        data = self.get(kind, key)
        if data is None:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:   # a checked payload that is not JSON: written by a bug
            self._reject(kind, key, self.path(kind, key), f"its payload is not JSON ({exc})")
            return None

    def get_frame(self, kind: str, key: str):
        """A pandas DataFrame stored with :meth:`put_frame`, or None."""
        data = self.get(kind, key)
        if data is None:
            return None
        import io

        import pandas as pd
        return pd.read_parquet(io.BytesIO(data))

    def exists(self, kind: str, key: str) -> bool:
        """An entry is there (not checked; :meth:`get` checks)."""
        return not self.refreshing(kind) and self.path(kind, key).is_file()

    # -- writing
    def put(self, kind: str, key: str, payload: bytes) -> Path | None:
        """Store `payload` under (kind, key), atomically (temporary file + rename in the kind's folder);
        None, logged, when the kind's folder leads out of the cache (nothing is written then)."""
        path = self.path(kind, key)
        try:
            folder = self.folder(kind, create=True)
        except CacheError as exc:
            line = f"cache: {kind} entry {path.name} not stored ({exc})"
            if self.log is not None:
                self.log(line)
            self._event("refused", kind, key, line)
            return None
        header = json.dumps({"format": MAGIC, "version": VERSION, "kind": kind, "key": key,
                             "size": len(payload), "sha256": _sha(payload)}, sort_keys=True)
        tmp = folder / f".{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _FLAGS, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(header.encode("utf-8") + b"\n" + payload)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._event("put", kind, key)
        return path

    def put_json(self, kind: str, key: str, obj) -> Path | None:
        return self.put(kind, key, json.dumps(obj, sort_keys=True, default=str).encode("utf-8"))

    def put_frame(self, kind: str, key: str, frame):
        """Store a DataFrame as Parquet; returns the frame as read back (a stored and a fresh frame give
        the same values downstream)."""
        import io

        import pandas as pd
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        self.put(kind, key, buf.getvalue())
        return pd.read_parquet(io.BytesIO(buf.getvalue()))

    def delete(self, kind: str, key: str) -> None:
        self.path(kind, key).unlink(missing_ok=True)

    # -- events
    def _reject(self, kind: str, key: str, path: Path, why: str) -> None:
        line = (f"cache: {kind} entry {path.name} failed its check ({why}): ignored; "
                "it is recomputed and replaced")
        if self.log is not None:
            self.log(line)
        self._event("rejected", kind, key, line)

    def _event(self, event: str, kind: str, key: str, message: str = "") -> None:
        record = {"t": round(time.time(), 3), "pid": os.getpid(), "event": event, "kind": kind, "key": key}
        if message:
            record["message"] = message
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            path = self.root / EVENTS
            try:
                if path.stat().st_size > EVENTS_MAX and not path.is_symlink():
                    os.replace(path, self.root / (EVENTS + ".old"))
            except FileNotFoundError:
                pass
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _FLAGS, 0o644)
            try:
                os.write(fd, (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))
            finally:
                os.close(fd)
        except OSError:
            pass   # events are a report, not a condition of caching


def _unpack(data: bytes, kind: str, key: str) -> tuple[bytes, str | None]:
    """(payload, None) if `data` is a whole entry for (kind, key); else (b"", what is wrong)."""
    head, sep, payload = data.partition(b"\n")
    try:
        meta = json.loads(head.decode("utf-8")) if sep else None
    except (UnicodeDecodeError, ValueError):
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != MAGIC:
        return b"", "no valid header"
    if meta.get("version") != VERSION:
        return b"", f"format version {meta.get('version')!r}, not {VERSION}"
    if meta.get("kind") != kind or meta.get("key") != key:
        return b"", f"its header is for {meta.get('kind')} {meta.get('key')}"
    actual = _sha(payload)
    if meta.get("sha256") != actual or meta.get("size") != len(payload):
        size = f", {len(payload)} bytes where {meta.get('size')} were" if meta.get("size") != len(payload) else ""
        return b"", f"content sha256 {actual[:12]}... where {str(meta.get('sha256'))[:12]}... was stored{size}"
    return payload, None


def events_since(root: Path, offset: int) -> tuple[list[dict], int]:
    """The events appended to the cache's log since `offset` (a size from :func:`events_offset`), and
    the new offset.  A log rotated meanwhile is read from its start."""
    path = Path(root) / EVENTS
    try:
        fd = os.open(path, os.O_RDONLY | _FLAGS)
    except OSError:
        return [], 0
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(offset if offset <= size else 0)
        data = fh.read()
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out, (offset if offset <= size else 0) + len(data)


def events_offset(root: Path) -> int:
    try:
        return os.lstat(Path(root) / EVENTS).st_size
    except OSError:
        return 0


def relay(root: Path, offset: int, log: Callable[[str], None], skip_pid: int | None = None,
          skip_kinds: tuple[str, ...] = ("records", "keys", "params")) -> tuple[dict[str, int], list[str], int]:
    """Show what other processes did with the cache since `offset`: each rejected (or refused) entry's
    line goes to `log`; returns ({kind: entries stored}, [those lines], the new offset)."""
    events, new_offset = events_since(root, offset)
    counts: dict[str, int] = {}
    lines: list[str] = []
    for e in events:
        if (skip_pid is not None and e.get("pid") == skip_pid) or e.get("kind") in skip_kinds:
            continue
        if e.get("event") == "put":
            counts[e["kind"]] = counts.get(e["kind"], 0) + 1
        elif e.get("event") in ("rejected", "refused"):
            line = e.get("message") or f"cache: {e.get('kind')} entry {e.get('key')} {e.get('event')}"
            log(line)
            lines.append(line)
    return counts, lines, new_offset
