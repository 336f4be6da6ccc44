"""What a build was made from: input hashes, versions, commit and a reproducible build time."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from importlib import metadata
from pathlib import Path

from xjtrade.project import sha256_file, sha256_text, sha256_tree  # noqa: F401  (re-exported)

PACKAGES = ("xjtrade", "pandas", "numpy", "statsmodels", "scipy", "matplotlib", "seaborn", "papermill",
            "nbclient", "ipykernel", "pandera", "pydantic", "pyarrow", "pypandoc_binary", "typst")


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def versions_hash() -> str:
    return sha256_text(json.dumps(versions(), sort_keys=True))


def package_code_hash() -> str:
    return sha256_tree(Path(__file__).resolve().parent)


def git_commit(root: Path) -> str:
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("+local-changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


def build_time(root: Path) -> str:
    """SOURCE_DATE_EPOCH if set, else the time of the last commit: the same inputs, the same time."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        try:
            epoch = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%ct"], capture_output=True,
                                   text=True, timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            epoch = ""
    if not epoch:
        return "unknown"
    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_date(built: str) -> str | None:
    """The date part of a :func:`build_time` (None when unknown)."""
    return built[:10] if built != "unknown" else None


TODAY_VARIABLE = "XJTRADE_TODAY"


def today(default: str | None = None) -> dt.date:
    """"Today" for date checks (the release calendar's stale warning): ``XJTRADE_TODAY`` if set
    (YYYY-MM-DD), else `default` (a date string, such as a build date) if given, else the clock."""
    value = os.environ.get(TODAY_VARIABLE) or default
    if value:
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ValueError(f"{TODAY_VARIABLE}={value!r} is not a date (YYYY-MM-DD)") from None
    return dt.date.today()


def make_manifest(root: Path, params: dict, inputs: dict[str, str], data_summary: dict | None = None) -> dict:
    built = build_time(root)
    return {
        "parameters": params,
        "as_of": params.get("as_of"),
        "inputs": inputs,
        "versions": versions(),
        "git_commit": git_commit(root),
        "build_time": built,
        "build_date": build_date(built),
        "data_latest_source": (data_summary or {}).get("last_published"),
    }
