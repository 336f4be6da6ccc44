"""Cache keys from declared inputs: the one recipe for every cached step.

A step (the data step, each notebook, the render step, a data vintage, an evaluation frame, a sweep
scenario) declares what it reads in a :class:`Step`: its in-package entry modules, the package's
non-Python files it uses, and the distributions it uses without importing them (binaries, fonts,
the Parquet engine).  Where it is keyed, the caller adds its parameters, the project files it reads
and the keys of the steps it reads from.  Its key (:meth:`Keyer.key`) hashes:

* the source of every in-package module the entry modules import, transitively, found by a static
  walk of the import statements (:func:`imports_of`; imports inside functions count, so lazy imports
  are followed).  An entry ``module:function`` follows the module's top-level imports and those of
  that function and of the module's functions and classes it names, not the rest of the module
  (a sweep task does not depend on how the sweep writes its page);
* the declared package files, by content;
* the versions of the third-party distributions those modules import and of everything those
  require, read from the installed metadata without importing anything, and the Python version;
* the parameters, files and upstream keys the caller passes.

Nothing heavy is imported here: keying an unchanged build costs a few file reads.  What is costly
to derive (a module's imports, a notebook's code and imports, a big file's hash, the map from
import names to distributions) is remembered in a memo stored in the cache (kind ``keys``), keyed
by content: a source's imports by its sha256, a big file's hash by its (size, mtime, ctime, inode)
with the content hash as the truth when any of them differ (and a file changed in the last two
seconds is not remembered, so two edits within one clock tick cannot hide), and the distribution map
by the list of installed distributions.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, cast

if TYPE_CHECKING:
    import email.message

PKG = Path(__file__).resolve().parent
ROOT_MODULE = "xjtrade"
BIG = 256 * 1024           # files at least this big are re-hashed only when their stat changes
RACY_NS = 2_000_000_000    # a file changed this recently is never remembered by its stat
MEMO_VERSION = 3


@dataclass(frozen=True)
class Step:
    """What a cached step reads, besides the parameters, files and upstream keys given when keyed."""

    name: str
    modules: tuple[str, ...] = ()    # entry modules: "xjtrade.report.publish" or "xjtrade.sweep.runner:compute_scenario"
    files: tuple[str, ...] = ()      # package files (paths or glob patterns relative to the package)
    packages: tuple[str, ...] = ()   # distributions used without an import statement


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(obj) -> str:
    """The sha256 of a JSON-able object (sorted keys; tuples as lists)."""
    return sha256_bytes(json.dumps(obj, sort_keys=True, default=str, separators=(",", ":")).encode("utf-8"))


def normalise_dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- the import walk

def module_name(path: Path, package: Path = PKG) -> tuple[str, bool]:
    """(dotted name, is a package) of a file of the package: report/render/__init__.py ->
    ("xjtrade.report.render", True)."""
    parts = list(Path(path).resolve().relative_to(Path(package).resolve()).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join([ROOT_MODULE, *parts]), is_package


def _import_names(nodes: Iterable[ast.AST], module: str, is_package: bool) -> set[str]:
    here = module.split(".") if is_package else module.split(".")[:-1]
    out: set[str] = set()
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Import):
                out |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                out.add(mod)
                out |= {f"{mod}.{a.name}" for a in node.names if a.name != "*"}
    return out


def imports_in(source: str | bytes, module: str, is_package: bool = False,
               functions: tuple[str, ...] = ()) -> set[str]:
    """Absolute names imported by a module's source (relative imports resolved; `from a import b`
    gives both "a" and "a.b").  With `functions`, only the module's top-level statements and those
    functions, with the module's functions and classes they (or the top level) name, transitively."""
    tree = ast.parse(source)
    if not functions:
        return _import_names([tree], module, is_package)
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    top = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    missing = [f for f in functions if f not in defs]
    if missing:
        raise ValueError(f"{module} has no function or class {', '.join(missing)}")
    todo = list(functions) + [n.id for t in top for n in ast.walk(t) if isinstance(n, ast.Name)]
    used: set[str] = set()
    while todo:
        name = todo.pop()
        if name in used or name not in defs:
            continue
        used.add(name)
        todo += [n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name)]
    return _import_names(top + [defs[n] for n in sorted(used)], module, is_package)


def imports_of(path: Path, package: Path = PKG) -> set[str]:
    """Absolute module names imported by a file of the package (what tests/test_layout.py checks)."""
    name, is_package = module_name(path, package)
    return imports_in(Path(path).read_bytes(), name, is_package)


def notebook_code(nb: dict) -> tuple[str, list[str]]:
    """(hash of what a notebook runs and declares, the modules its code cells import).  Outputs and
    execution counts are left out: executing the notebook replaces them."""
    cells = []
    imports: set[str] = set()
    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", [])) if isinstance(cell.get("source"), list) else str(cell.get("source", ""))
        cells.append([cell.get("cell_type"), source, cell.get("metadata", {})])
        if cell.get("cell_type") == "code":
            code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
            try:
                imports |= {n for n in imports_in(code, "__notebook__") if n}
            except SyntaxError:
                pass   # such a cell fails when run; the notebook's hash still covers it
    meta = {k: v for k, v in nb.get("metadata", {}).items() if k != "papermill"}
    return digest([cells, meta, nb.get("nbformat"), nb.get("nbformat_minor")]), sorted(imports)


# ---------------------------------------------------------------- installed distributions

_ENV: dict = {}   # fingerprint -> environment map (shared by every Keyer of this process)
_IMPORTS: dict = {}   # "sha256:module[:functions]" -> its imports (the same)
_NOTEBOOKS: dict = {}   # a notebook's sha256 -> what Keyer.notebook gives (the same)


def environment_fingerprint() -> str:
    """The installed distributions, as the names of their metadata folders (which carry the version)."""
    names = set()
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as it:
                names |= {e.name for e in it if e.name.endswith((".dist-info", ".egg-info"))}
        except OSError:
            continue
    return digest(sorted(names))


def _requirement_names(requires: list[str] | None) -> list[str]:
    """The distributions a distribution requires here: extras left out, markers evaluated for this
    interpreter and platform (with `packaging` when it is installed; else every requirement counts)."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # pragma: no cover
        Requirement = None  # type: ignore[misc,assignment]  # no `packaging`: every requirement counts
    out = []
    for req in requires or []:
        if re.search(r"\bextra\s*==", req):
            continue
        if Requirement is not None:
            try:
                parsed = Requirement(req)
            except InvalidRequirement:
                continue
            if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
                continue
            out.append(normalise_dist(parsed.name))
            continue
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
        if m:
            out.append(normalise_dist(m.group(1)))
    return sorted(set(out))


def environment_map() -> dict:
    """{"top": {import name: [distributions]}, "dists": {distribution: [version, [requirements]]}}."""
    from importlib import metadata
    dists = {}
    for d in metadata.distributions():
        # The metadata object is an email.message.Message subclass at run time; typeshed's PackageMetadata
        # protocol lacks its .get (a missing Name gives None, skipped below).
        name = cast("email.message.Message", d.metadata).get("Name")
        if name and normalise_dist(name) not in dists:
            dists[normalise_dist(name)] = [d.version, _requirement_names(d.requires)]
    top = {k: sorted({normalise_dist(v) for v in vs}) for k, vs in metadata.packages_distributions().items()}
    return {"top": top, "dists": dists}


# ---------------------------------------------------------------- the keyer

class Keyer:
    """Computes step keys for the package at `package`; `store` (a :class:`xjtrade.cache.Store`)
    keeps the memo between processes (without it the memo lives as long as this object)."""

    def __init__(self, package: Path = PKG, store=None):
        self.package = Path(package).resolve()
        self.store = store
        memo = store.get_json("keys", "memo") if store is not None else None
        if not isinstance(memo, dict) or memo.get("version") != MEMO_VERSION:
            memo = {"version": MEMO_VERSION, "stat": {}, "imports": {}, "notebooks": {}, "env": {}}
        self.memo = memo
        self._dirty = False
        self._used: dict[str, set] = {"stat": set(), "imports": set(), "notebooks": set()}
        self._hash: dict[str, tuple[list[int], str]] = {}
        self._code: dict[Step, dict] = {}
        self._paths: dict[str, Path | None] = {}
        self._graph: dict[tuple, tuple] = {}
        self._env: dict | None = None

    # -- files
    def file(self, path: Path) -> str:
        """sha256 of a file's content.  A file hashed before by this keyer is not read again while its
        stat is unchanged and it had not changed in the two seconds before (a step's new outputs are
        hashed again); big files are also remembered across processes in the memo, by the same rule."""
        path = Path(path)
        ap = str(path.absolute())
        st = os.stat(path)
        sig = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        seen = self._hash.get(ap)
        if seen is not None and seen[0] == sig:
            return seen[1]
        settled = time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > RACY_NS
        if st.st_size < BIG:
            h = sha256_bytes(path.read_bytes())
        else:
            remembered = self.memo["stat"].get(ap)
            if remembered and remembered[:4] == sig:
                h = remembered[4]
            else:
                h = _hash_file(path)
                if settled and _stat_sig(path) == sig:
                    self.memo["stat"][ap] = sig + [h]
                    self._dirty = True
            self._used["stat"].add(ap)
        if settled and _stat_sig(path) == sig:
            self._hash[ap] = (sig, h)
        return h

    def tree(self, folder: Path, pattern: str = "*") -> str:
        """One hash of every file under `folder` matching `pattern` (relative names and contents)."""
        return digest(self.tree_files(folder, pattern))

    def tree_files(self, folder: Path, pattern: str = "*") -> dict[str, str]:
        folder = Path(folder)
        out = {}
        for path in sorted(folder.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                out[path.relative_to(folder).as_posix()] = self.file(path)
        return out

    # -- modules
    def module_path(self, name: str) -> Path | None:
        """The file of an in-package module, or None (a name that is an attribute, not a module)."""
        if name in self._paths:
            return self._paths[name]
        parts = name.split(".")
        found = None
        if parts[0] == ROOT_MODULE:
            base = os.path.join(str(self.package), *parts[1:])
            for candidate in ([base + ".py"] if len(parts) > 1 else []) + [os.path.join(base, "__init__.py")]:
                if os.path.isfile(candidate):
                    found = Path(candidate)
                    break
        self._paths[name] = found
        return found

    def _imports(self, path: Path, functions: tuple[str, ...] = ()) -> list[str]:
        name, is_package = module_name(path, self.package)
        # a module's imports depend on its source and, for relative imports, on its name
        memo_key = f"{self.file(path)}:{name}{'/' if is_package else ''}" + (":" + ",".join(functions) if functions else "")
        found = self.memo["imports"].get(memo_key)
        if found is None:
            if memo_key not in _IMPORTS:
                _IMPORTS[memo_key] = sorted(imports_in(path.read_bytes(), name, is_package, functions))
            found = _IMPORTS[memo_key]
            self.memo["imports"][memo_key] = found
            self._dirty = True
        self._used["imports"].add(memo_key)
        return found

    def _edges(self, name: str, functions: tuple[str, ...] = ()) -> tuple[Path | None, tuple[str, ...]]:
        """(file, what it leads to) of a module: its parent packages and what it imports."""
        memo = (name, functions)
        if memo not in self._graph:
            path = self.module_path(name)
            if path is None:
                if functions:
                    raise ValueError(f"declared entry module {name} not found in {self.package}")
                self._graph[memo] = (None, ())
            else:
                parts = name.split(".")
                parents = tuple(".".join(parts[:i]) for i in range(1, len(parts)))
                self._graph[memo] = (path, parents + tuple(self._imports(path, functions)))
        return self._graph[memo]

    def closure(self, entries: Iterable[str]) -> tuple[dict[str, Path], set[str]]:
        """({in-package module: file}, {top-level names of other imported modules}) reached from `entries`."""
        modules: dict[str, Path] = {}
        external: set[str] = set()
        todo: list[str] = []
        for entry in entries:
            mod, _, funcs = entry.partition(":")
            if mod.partition(".")[0] != ROOT_MODULE:    # a third-party or standard module
                todo.append(mod)
                continue
            path, edges = self._edges(mod, tuple(f for f in funcs.split(",") if f))
            if path is None and not funcs and self.module_path(mod.rpartition(".")[0]) is not None:
                continue    # `from xjtrade.x import name` in a notebook: a name of a module that is followed
            if path is None:
                raise ValueError(f"declared entry module {mod} not found in {self.package}")
            todo += edges
            if funcs:    # only part of the module is followed; its source is hashed all the same
                modules[mod] = path
            else:
                todo.append(mod)
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            top = name.partition(".")[0]
            if top != ROOT_MODULE:
                if top and top != "__future__" and top not in sys.stdlib_module_names:
                    external.add(top)
                continue
            path, edges = self._edges(name)
            if path is not None:
                modules[name] = path
                todo += [e for e in edges if e not in seen]
        return dict(sorted(modules.items())), external

    # -- distributions
    def environment(self) -> dict:
        if self._env is None:
            fp = environment_fingerprint()
            env = self.memo.get("env") or {}
            if env.get("fingerprint") != fp:
                if fp not in _ENV:
                    _ENV[fp] = environment_map()
                env = {"fingerprint": fp, **_ENV[fp]}
                self.memo["env"] = env
                self._dirty = True
            self._env = env
        return self._env

    def versions(self, imported: Iterable[str], packages: Iterable[str] = ()) -> dict[str, str]:
        """{distribution: version} of the distributions providing the `imported` top-level names and
        the declared `packages`, and of everything they require, transitively (xjtrade itself aside:
        its code is hashed); a name that no installed distribution provides counts as "not installed"."""
        env = self.environment()
        out: dict[str, str] = {}
        todo = [normalise_dist(p) for p in packages]
        for name in imported:
            dists = env["top"].get(name)
            if dists:
                todo += dists
            else:
                out[f"import {name}"] = "not installed"
        seen: set[str] = set()
        while todo:
            d = todo.pop()
            if d in seen or d == ROOT_MODULE:
                continue
            seen.add(d)
            info = env["dists"].get(d)
            if info is None:
                out[d] = "not installed"
                continue
            out[d] = info[0]
            todo += info[1]
        return dict(sorted(out.items()))

    # -- steps
    def code(self, step: Step) -> dict:
        """Everything of the installation a step's key covers: module sources, package files,
        distribution versions, Python."""
        if step not in self._code:
            modules, external = self.closure(step.modules)
            files = {}
            for pattern in step.files:
                matched = sorted(p for p in self.package.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)
                if not matched and not any(ch in pattern for ch in "*?["):
                    raise FileNotFoundError(f"step {step.name}: declared file {pattern} not found in {self.package}")
                files.update({p.relative_to(self.package).as_posix(): self.file(p) for p in matched})
            self._code[step] = {
                "modules": {m: self.file(p) for m, p in modules.items()},
                "files": files,
                "versions": self.versions(sorted(external), step.packages),
                "python": f"{sys.implementation.name} {sys.version.split()[0]}",
            }
        return self._code[step]

    def code_key(self, step: Step) -> str:
        return digest(self.code(step))

    def key(self, step: Step, **inputs) -> str:
        """The key of one run of `step` on these inputs (parameters, file hashes, upstream keys)."""
        return digest([step.name, self.code_key(step), inputs])

    def notebook(self, path: Path) -> dict:
        """{"code": hash of the cells and metadata (outputs aside), "imports": [...], "parameters":
        the run parameters its metadata declares (None: every one)}."""
        h = self.file(path)
        found = self.memo["notebooks"].get(h)
        if found is None:
            if h not in _NOTEBOOKS:
                nb = json.loads(Path(path).read_bytes())
                code, imports = notebook_code(nb)
                declared = nb.get("metadata", {}).get("xjtrade", {}).get("parameters")
                _NOTEBOOKS[h] = {"code": code, "imports": imports, "parameters": declared}
            found = _NOTEBOOKS[h]
            self.memo["notebooks"][h] = found
            self._dirty = True
        self._used["notebooks"].add(h)
        return found

    def save(self) -> None:
        """Store the memo (what this process used, plus the most recent of the rest, bounded)."""
        if self.store is None or not self._dirty:
            return
        memo = {"version": MEMO_VERSION, "env": self.memo.get("env", {})}
        for part in ("stat", "imports", "notebooks"):
            entries = self.memo[part]
            kept = {k: v for k, v in entries.items() if k in self._used[part]}
            for k in list(entries)[::-1]:
                if len(kept) >= 400:
                    break
                kept.setdefault(k, entries[k])
            memo[part] = kept
        try:
            self.store.put_json("keys", "memo", memo)
        except OSError:
            pass   # a memo that cannot be saved only costs time next run
        self._dirty = False


def _stat_sig(path: Path) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_KEYERS: dict[str, Keyer] = {}


def keyer_for(cache_root: Path | None = None) -> Keyer:
    """This process's keyer of the installed package, with the memo of the cache at `cache_root` (if
    given): what a notebook's kernel or a sweep's worker uses to key the frames it caches."""
    from xjtrade.cache import Store
    name = str(Path(cache_root).resolve()) if cache_root is not None else ""
    if name not in _KEYERS:
        _KEYERS[name] = Keyer(store=Store(Path(cache_root)) if cache_root is not None else None)
    return _KEYERS[name]
