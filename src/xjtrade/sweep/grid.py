"""Grid files: parameter lists expanded into scenarios, every one validated before anything runs.

A grid file (YAML)::

    name: ports                    # folder under reports/sweeps/ (default: the file's stem)
    kind: scenarios                # or `evaluation`: the models' pseudo-real-time evaluation of
                                   # each scenario's series, one task per vintage
    title: Ports compared          # title of the comparison edition
    base:                          # parameters shared by every scenario (RunParams fields)
      start_year: 2015
      models: [naive, drift, mean_growth, loglinear]
    vary:                          # lists; the scenarios are their product, in this order
      entity: [Horgos port, Alashankou port]
      flow: [exports, imports]
      models: [[naive, drift], [naive, drift, arima]]     # a list of model sets
      as_of: [2019-12-31, 2020-12-31]                     # or, from the sources' release dates:
      # as_of: {releases_of: {entity: Xinjiang, flow: total, partner: World}, since: 2019-01-01}

Reading is in two steps.  `read_grid` reads the file (YAML with the project's limits: at most 1 MiB,
no alias bomb, no duplicate key; see :mod:`xjtrade.yamlfile`), checks its shape and every value's
type, and counts the scenarios as the product of the lists' lengths *before* anything is expanded:
a grid of more than `MAX_SCENARIOS` (1,000) scenarios is refused at once, unless the caller raises
the limit (`xjtrade sweep --max-scenarios N`).  `expand` then makes the scenarios (release dates
need the data), each checked by the run parameter schema (`xjtrade.report.params.load_params`).
Every error is a :class:`GridError` naming the grid file, the line, and the scenario and parameter.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from xjtrade.report.params import ParameterError, RunParams, load_params
from xjtrade.textsafe import hidden_character, printable, shorten
from xjtrade.yamlfile import YamlError, read_yaml

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


KINDS = ("scenarios", "evaluation")
MAX_SCENARIOS = 1_000      # a scenario costs seconds to minutes: more is a mistake unless asked for
MAX_TITLE = 200
_SCALARS = (str, int, float, bool, dt.date, type(None))


class GridError(ValueError):
    """A grid file that cannot be expanded: the message names the file, line, scenario and parameter."""

    def __str__(self) -> str:   # data from the file shown escaped, never obeyed by a terminal
        return "\n".join(printable(line) for line in super().__str__().split("\n"))


@dataclass(frozen=True)
class Scenario:
    params: RunParams
    label: str          # the varying values, e.g. "entity=Horgos port, flow=exports"


@dataclass
class Grid:
    name: str
    title: str
    path: Path
    scenarios: list[Scenario]
    varying: list[str]
    kind: str = "scenarios"    # "scenarios" (outlooks compared) or "evaluation" (models evaluated)


@dataclass
class GridSpec:
    """A grid file read and checked, not yet expanded (see `read_grid`)."""
    path: Path
    name: str
    title: str
    kind: str
    base: dict
    vary: dict
    lines: dict = field(default_factory=dict)   # (key, ...) -> line in the file

    def at(self, *path) -> str:
        """`, line N` of a key or list item (the nearest enclosing one known)."""
        while path:
            if path in self.lines:
                return f", line {self.lines[path]}"
            path = path[:-1]
        return ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _shown(value) -> str:
    return shorten(repr(value), 60)


def _text(path: Path, spec: dict, key: str, lines: dict, default: str) -> str:
    value = spec.get(key)
    if value is None or value == "":
        return default
    where = f"{path}, line {lines[(key,)]}" if (key,) in lines else str(path)
    if isinstance(value, (dict, list)) or not isinstance(value, _SCALARS):
        raise GridError(f"{where}: {key}: expected a text, got {_shown(value)}")
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    if key == "title":
        if len(text) > MAX_TITLE:
            raise GridError(f"{where}: title is {len(text):,} characters long; at most {MAX_TITLE} are allowed")
        found = hidden_character(text)
        if found:
            raise GridError(f"{where}: title contains {found[1]} at character {found[0]}")
    return text


def _releases_spec(spec: GridSpec, value) -> dict:
    """`as_of: {releases_of: {entity, flow, partner}, since}` checked: texts and a date."""
    where = f"{spec.path}{spec.at('vary', 'as_of')}: vary.as_of"
    usage = ("expected a list of dates or {releases_of: {entity: ..., flow: ..., partner: ...}, "
             "since: YYYY-MM-DD}")
    if set(value) - {"releases_of", "since"} or "releases_of" not in value:
        raise GridError(f"{where}: {usage}")
    series = value["releases_of"] or {}
    if not isinstance(series, dict):
        raise GridError(f"{where}.releases_of: expected a mapping of entity, flow, partner; got {_shown(series)}")
    bad = set(series) - {"entity", "flow", "partner"}
    if bad:
        raise GridError(f"{where}.releases_of: unknown key(s) {sorted(map(str, bad))} (entity, flow, partner)")
    for k, v in series.items():
        if not isinstance(v, str) or not v.strip():
            raise GridError(f"{where}.releases_of.{k}: expected a text, got {_shown(v)}")
    since = value.get("since")
    if since is not None:
        if isinstance(since, dt.date) and not isinstance(since, dt.datetime):
            since = since.isoformat()
        elif not (isinstance(since, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", since, re.ASCII)
                  and _is_date(since)):
            raise GridError(f"{where}.since: {_shown(since)} is not a date YYYY-MM-DD")
    return {"series": dict(series), "since": since}


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_values(spec: GridSpec, key: str, values) -> list:
    """A vary list: non-empty, each item a plain value or (for a list parameter) a list of them."""
    where = f"{spec.path}{spec.at('vary', key)}: vary.{key}"
    if not isinstance(values, list) or not values:
        raise GridError(f"{where}: expected a non-empty list of values, got {_shown(values)}")
    out = []
    for i, v in enumerate(values):
        item = f"{spec.path}{spec.at('vary', key, i)}: vary.{key} item {i + 1}"
        if isinstance(v, list):
            if not all(isinstance(x, _SCALARS) and not isinstance(x, (list, dict)) for x in v):
                raise GridError(f"{item}: a list may hold only plain values, got {_shown(v)}")
        elif isinstance(v, dict) or not isinstance(v, _SCALARS):
            raise GridError(f"{item}: expected a value, got {_shown(v)}")
        if isinstance(v, float) and not math.isfinite(v):
            raise GridError(f"{item}: {_shown(v)} is not a number a parameter can take")
        out.append(v.isoformat() if isinstance(v, dt.date) else v)
    return out


def read_grid(path: Path, max_scenarios: int = MAX_SCENARIOS) -> GridSpec:
    """Read and check a grid file without expanding it (see the module docstring); the number of
    scenarios its lists give is checked against `max_scenarios` here, before any is made."""
    path = Path(path)
    if not path.is_file():
        raise GridError(f"{path}: grid file not found")
    lines: dict = {}
    try:
        spec = read_yaml(path, "grid file", lines=lines)
    except YamlError as exc:
        raise GridError(str(exc)) from None
    spec = {} if spec is None else spec
    if not isinstance(spec, dict):
        raise GridError(f"{path}: expected a mapping with base and vary")
    unknown = [k for k in spec if k not in ("name", "title", "kind", "base", "vary")]
    if unknown:
        raise GridError(f"{path}: unknown key(s) {shorten(sorted(map(str, unknown)), 120)}; expected name, title, "
                        "kind, base, vary")
    kind = _text(path, spec, "kind", lines, "scenarios")
    if kind not in KINDS:
        raise GridError(f"{path}{', line ' + str(lines[('kind',)]) if ('kind',) in lines else ''}: kind "
                        f"{_shown(kind)}: expected one of {', '.join(KINDS)}")
    name = _text(path, spec, "name", lines, path.stem)
    if not _NAME.match(name):
        raise GridError(f"{path}: name {_shown(name)} must be lower-case letters, digits, - or _ (at most 41)")
    title = _text(path, spec, "title", lines, name)
    base = spec.get("base") or {}
    vary = spec.get("vary") or {}
    if not isinstance(base, dict) or not isinstance(vary, dict):
        raise GridError(f"{path}: base and vary must be mappings of parameter names")
    g = GridSpec(path=path, name=name, title=title, kind=kind, base=base, vary=vary, lines=lines)
    for part, mapping in (("base", base), ("vary", vary)):
        for key in mapping:
            if not isinstance(key, str) or key not in RunParams.model_fields:
                raise GridError(f"{path}{g.at(part, key) if isinstance(key, str) else ''}: {_shown(key)} is not a run "
                                f"parameter (known: {', '.join(RunParams.model_fields)})")
    for key in ("name", "title"):
        if key in vary:
            raise GridError(f"{path}{g.at('vary', key)}: vary.{key}: scenario names and titles are set by the grid")
    counts = []
    for key, values in vary.items():
        if key == "as_of" and isinstance(values, dict):
            g.vary[key] = _releases_spec(g, values)
        else:
            g.vary[key] = _check_values(g, key, values)
            counts.append((key, len(g.vary[key])))
    _cap(g, counts, max_scenarios)
    return g


def _cap(spec: GridSpec, counts: list[tuple[str, int]], max_scenarios: int) -> None:
    total = math.prod(n for _, n in counts)
    if total > max_scenarios:
        product = " x ".join(f"{n:,} {k}" for k, n in counts)
        raise GridError(f"{spec.path}: {total:,} scenarios ({product}), more than the limit of {max_scenarios:,}; "
                        "split the grid, or raise the limit with --max-scenarios if you mean it")


def expand(spec: GridSpec, data=None, max_scenarios: int = MAX_SCENARIOS) -> Grid:
    """The scenarios of a grid read by `read_grid`; `data` (a `Dataset`: `.figures`, `.raw.sources`; the
    latest vintage) is needed for `as_of: {releases_of: ...}` and checks that every entity has figures."""
    path, keys = spec.path, list(spec.vary)
    entities: set = set()
    if data is not None:
        from xjtrade.data.selector import main_rows
        entities = set(data.figures.loc[main_rows(data.figures), "entity"])
    lists = []
    for k in keys:
        v = spec.vary[k]
        if isinstance(v, dict):   # as_of from the release dates
            if data is None:
                raise GridError(f"{path}{spec.at('vary', k)}: vary.as_of: releases_of needs the data")
            from xjtrade.data.vintages import release_dates   # the evaluation's release dates: one rule
            v = release_dates(data.figures, **v["series"], **({"since": v["since"]} if v["since"] else {}))
            if not v:
                raise GridError(f"{path}{spec.at('vary', k)}: vary.as_of: no release of "
                                f"{_shown(spec.vary[k]['series'])} since {spec.vary[k]['since']}")
        lists.append(v)
    _cap(spec, list(zip(keys, map(len, lists))), max_scenarios)
    scenarios = []
    seen: dict[str, str] = {}   # parameters as JSON -> the first scenario with them
    for i, idx in enumerate(itertools.product(*[range(len(v)) for v in lists]) if keys else [()], start=1):
        combo = [lists[j][n] for j, n in enumerate(idx)]
        values = {**spec.base, **dict(zip(keys, combo))}
        label = ", ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in zip(keys, combo))
        sname = f"{i:04d}-{_slug(' '.join(str(v) for v in combo if not isinstance(v, list)))}".strip("-")[:41]
        sname = sname.rstrip("-_")
        values["name"] = sname
        values.setdefault("title", f"{spec.title}: {label}" if label else spec.name)
        values["title"] = re.sub(r"[^A-Za-z0-9 ,.:()&'/_-]", " ", str(values["title"]))[:80].strip() or spec.name
        try:
            params = load_params(None, values)
        except ParameterError as exc:
            detail = str(exc).split("\n", 1)[1] if "\n" in str(exc) else str(exc)
            where = [f"line {spec.lines[('vary', f, idx[keys.index(f)])]} (vary.{f})"
                     for f in exc.fields if f in keys and ("vary", f, idx[keys.index(f)]) in spec.lines]
            where += [f"line {spec.lines[('base', f)]} (base.{f})" for f in exc.fields
                      if f not in keys and ("base", f) in spec.lines]
            raise GridError(f"{path}: scenario {sname} ({label or 'base'}): invalid parameters"
                            + (f" at {', '.join(where)}" if where else "") + f"\n{detail}") from None
        if data is not None and params.entity not in entities:
            # an entity with no figures at all is a typo; a flow or partner without figures in some
            # vintage is an answer ("not estimable"), given by the scenario itself
            raise GridError(f"{path}: scenario {sname} ({label or 'base'}): entity: no trade figures for "
                            f"{params.entity!r}; entities with data: {', '.join(sorted(entities))}")
        ident = params.model_dump_json(exclude={"name", "title"})
        if ident in seen:
            raise GridError(f"{path}: scenario {sname} ({label}) repeats scenario {seen[ident]}")
        seen[ident] = sname
        scenarios.append(Scenario(params=params, label=label))
    return Grid(name=spec.name, title=spec.title, path=path, scenarios=scenarios, varying=keys, kind=spec.kind)


def load_grid(path: Path, data=None, max_scenarios: int = MAX_SCENARIOS) -> Grid:
    """Read, check and expand a grid file (`read_grid`, then `expand`)."""
    return expand(read_grid(path, max_scenarios), data, max_scenarios)
