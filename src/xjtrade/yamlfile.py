"""YAML as the project reads it: parameter files, `-p` values and grid files, with limits.

`load_yaml` parses with PyYAML's safe loader, but first composes the document and checks it:
* at most `MAX_BYTES` of text (checked before parsing; `read_yaml` reads no more than that);
* at most `MAX_NODES` values once every alias is expanded, and at most `MAX_ALIASES` alias uses:
  an alias bomb (`&a [1,1]`, `&b [*a,*a]`, ... nine levels deep) is refused at once, before anything
  is built (PyYAML composes aliases as shared nodes, so counting costs one visit per node);
* no recursive alias, and no key twice in one mapping (YAML keeps the last one silently);
* a date-like scalar that is no real date (`2022-02-30`) stays a string, so that the schema that
  reads it reports it by name instead of the YAML library raising.
Errors are `YamlError` (a ValueError) naming the file and line.  `lines` gives the line of every
key and list item by path (("vary", "as_of", 0) -> 7), for messages about values.

Kept free of heavy imports (PyYAML only).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml

MAX_BYTES = 1 << 20          # 1 MiB: a grid or parameter file is a few hundred bytes
MAX_NODES = 100_000          # values after expanding aliases
MAX_ALIASES = 1_000          # alias uses (`*name`)


class YamlError(ValueError):
    """A YAML text that is not read: the message names the file (and line) and why."""


if TYPE_CHECKING:
    # mypy cannot take a base class from getattr; both loaders share SafeLoader's constructor API.
    from yaml import SafeLoader as _BaseLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_BaseLoader):
    """Safe YAML (libyaml's parser when PyYAML has it: fast, and with its own nesting limit; the pure
    Python one is quadratic in the nesting depth); a date-like scalar that is no real date stays a string."""


def _timestamp(loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _line(node) -> int:
    return node.start_mark.line + 1


def _check(root, where: str, max_nodes: int, max_aliases: int) -> None:
    """Count the expanded size of the node graph (shared nodes are aliases), refuse recursion, too many
    values or aliases, and duplicate keys."""
    size: dict[int, int] = {}
    refs = 0
    distinct = 0
    stack: set[int] = set()

    def visit(node) -> int:
        nonlocal refs, distinct
        refs += 1
        key = id(node)
        if key in stack:
            raise YamlError(f"{where}: a recursive alias at line {_line(node)} (a value that contains itself)")
        if key in size:
            if refs - distinct > max_aliases:
                raise YamlError(f"{where}: more than {max_aliases:,} alias uses (*name); refusing to read it")
            return size[key]
        distinct += 1
        stack.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += visit(item)
                if total > max_nodes:
                    break
        elif isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    ident = (k.tag, k.value)
                    if ident in seen:
                        raise YamlError(f"{where}: duplicate key {k.value!r} at line {_line(k)} (first at line "
                                        f"{seen[ident]}); each key may appear once")
                    seen[ident] = _line(k)
                total += visit(k) + visit(v)
                if total > max_nodes:
                    break
        stack.discard(key)
        size[key] = total
        if total > max_nodes:
            raise YamlError(f"{where}: more than {max_nodes:,} values once its aliases are expanded "
                            "(an alias bomb?); refusing to read it")
        return total

    visit(root)


def _paths(node, path: tuple, out: dict, budget: list) -> None:
    """{path: line} of every mapping key and sequence item (the first `budget` of them)."""
    if budget[0] <= 0:
        return
    budget[0] -= 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                out[path + (k.value,)] = _line(k)
                _paths(v, path + (k.value,), out, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = _line(item)
            _paths(item, path + (i,), out, budget)


def load_yaml(text: str, where: str = "YAML", max_nodes: int = MAX_NODES, max_aliases: int = MAX_ALIASES,
              lines: dict | None = None):
    """The value of one YAML document (None for an empty one), checked as the module says.  With
    `lines` (a dict), also fills it with the line of each key and list item by path."""
    if len(text) > MAX_BYTES:
        raise YamlError(f"{where}: {len(text):,} characters; at most {MAX_BYTES:,} are read")
    loader = Loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            what = getattr(exc, "problem", None) or "syntax error"
            raise YamlError(f"{where}: not valid YAML{at} ({str(what)[:200]})") from None
        except RecursionError:
            raise YamlError(f"{where}: nested too deeply; refusing to read it") from None
        if root is None:
            return None
        try:
            _check(root, where, max_nodes, max_aliases)
            if lines is not None:
                _paths(root, (), lines, [max_nodes])
        except RecursionError:
            raise YamlError(f"{where}: nested too deeply; refusing to read it") from None
        try:
            return loader.construct_document(root)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            raise YamlError(f"{where}: not valid YAML{at} ({str(getattr(exc, 'problem', None) or exc)[:200]})") from None
        except (ValueError, TypeError, RecursionError) as exc:
            raise YamlError(f"{where}: cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None
    finally:
        loader.dispose()


def read_yaml(path: Path, what: str = "file", lines: dict | None = None, **limits):
    """`load_yaml` of a UTF-8 file, of which no more than MAX_BYTES are read."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise YamlError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise YamlError(f"{path}: the {what} is larger than {MAX_BYTES:,} bytes; refusing to read it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlError(f"{path}: not UTF-8 text at line {line} (byte 0x{data[exc.start]:02x}); "
                        "save the file as UTF-8") from None
    return load_yaml(text, str(path), lines=lines, **limits)
