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

Every scenario is checked by the run parameter schema (`xjtrade.report.params.load_params`);
a bad cell raises :class:`GridError` naming the grid, the scenario and the parameter.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from xjtrade.report.params import ParameterError, RunParams, load_params

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


KINDS = ("scenarios", "evaluation")


class GridError(ValueError):
    """A grid file that cannot be expanded: the message names the file, scenario and parameter."""


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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _values(path: Path, key: str, spec, data) -> list:
    if key == "as_of" and isinstance(spec, dict):
        unknown = set(spec) - {"releases_of", "since"}
        if unknown or "releases_of" not in spec:
            raise GridError(f"{path}: vary.as_of: expected a list of dates or "
                            "{releases_of: {entity: ..., flow: ..., partner: ...}, since: YYYY-MM-DD}")
        if data is None:
            raise GridError(f"{path}: vary.as_of: releases_of needs the data")
        series = spec["releases_of"] or {}
        bad = set(series) - {"entity", "flow", "partner"}
        if bad:
            raise GridError(f"{path}: vary.as_of.releases_of: unknown key(s) {sorted(bad)} "
                            "(entity, flow, partner)")
        # the release dates the evaluation uses (the same function, the same rule)
        from xjtrade.data.vintages import release_dates
        dates = release_dates(data.figures, **series, **({"since": str(spec["since"])} if spec.get("since") else {}))
        if not dates:
            raise GridError(f"{path}: vary.as_of: no release of {series} since {spec.get('since')}")
        return dates
    if not isinstance(spec, list) or not spec:
        raise GridError(f"{path}: vary.{key}: expected a non-empty list of values, got {spec!r}")
    return [v.isoformat() if isinstance(v, dt.date) else v for v in spec]


def load_grid(path: Path, data=None) -> Grid:
    """Read and expand a grid file; `data` (a `Dataset`: `.figures`, `.raw.sources`; the latest
    vintage) is needed for `as_of: {releases_of: ...}` and checks that every entity has figures."""
    path = Path(path)
    if not path.is_file():
        raise GridError(f"{path}: grid file not found")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise GridError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(spec, dict):
        raise GridError(f"{path}: expected a mapping with base and vary")
    unknown = set(spec) - {"name", "title", "kind", "base", "vary"}
    if unknown:
        raise GridError(f"{path}: unknown key(s) {sorted(unknown)}; expected name, title, kind, base, vary")
    kind = str(spec.get("kind") or "scenarios")
    if kind not in KINDS:
        raise GridError(f"{path}: kind {kind!r}: expected one of {', '.join(KINDS)}")
    name = str(spec.get("name") or path.stem)
    if not _NAME.match(name):
        raise GridError(f"{path}: name {name!r} must be lower-case letters, digits, - or _ (at most 41)")
    base = spec.get("base") or {}
    vary = spec.get("vary") or {}
    if not isinstance(base, dict) or not isinstance(vary, dict):
        raise GridError(f"{path}: base and vary must be mappings of parameter names")
    for key in list(base) + list(vary):
        if key not in RunParams.model_fields:
            raise GridError(f"{path}: {key!r} is not a run parameter (known: {', '.join(RunParams.model_fields)})")
    for key in ("name", "title"):
        if key in vary:
            raise GridError(f"{path}: vary.{key}: scenario names and titles are set by the grid")
    keys = list(vary)
    entities: set = set()
    if data is not None:
        from xjtrade.data.selector import main_rows
        entities = set(data.figures.loc[main_rows(data.figures), "entity"])
    lists = [_values(path, k, vary[k], data) for k in keys]
    scenarios = []
    seen = {}
    for i, combo in enumerate(itertools.product(*lists) if keys else [()], start=1):
        values = {**base, **dict(zip(keys, combo))}
        label = ", ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in zip(keys, combo))
        sname = f"{i:04d}-{_slug(' '.join(str(v) for v in combo if not isinstance(v, list)))}".strip("-")[:41]
        sname = sname.rstrip("-_")
        values["name"] = sname
        values.setdefault("title", f"{spec.get('title') or name}: {label}" if label else name)
        values["title"] = re.sub(r"[^A-Za-z0-9 ,.:()&'/_-]", " ", str(values["title"]))[:80].strip()
        try:
            params = load_params(None, values)
        except ParameterError as exc:
            detail = str(exc).split("\n", 1)[1] if "\n" in str(exc) else str(exc)
            raise GridError(f"{path}: scenario {sname} ({label or 'base'}): invalid parameters\n{detail}") from None
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
    return Grid(name=name, title=str(spec.get("title") or name), path=path, scenarios=scenarios, varying=keys,
                kind=kind)
