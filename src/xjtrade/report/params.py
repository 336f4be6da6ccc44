"""The one declared schema of run parameters.

Parameters come from a YAML file (`params/default.yaml` or a scenario) and `-p key=value`
overrides.  They are checked here, before any notebook runs: an unknown name, a wrong
type or an impossible value stops the run with a message naming the parameter.
Values reach the notebooks only as validated literals (papermill writes them into an
injected cell as Python literals); nothing a user types is ever executed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from xjtrade.data.currency import CURRENCIES
from xjtrade.errors import ParameterError  # noqa: F401  (defined where the CLI can catch it cheaply)
from xjtrade.stats.registry import YEARS_AHEAD_MODELS as MODELS
from xjtrade.project import REPORT_AREAS
from xjtrade.textsafe import shorten
from xjtrade.yamlfile import YamlError, load_yaml, read_yaml

# matched whole (fullmatch: `$` would accept a trailing newline) and ASCII-only
_SAFE_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ,.:()&'/_-]*", re.ASCII)
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,40}", re.ASCII)
# names that would put the report over another output folder under reports/ (runs, sweeps: project.REPORT_AREAS)
RESERVED_NAMES = tuple(REPORT_AREAS)
MAX_TEXT = 80


def _safe_text(value: str, what: str) -> str:
    if len(value) > MAX_TEXT:
        raise ValueError(f"{what} is {len(value)} characters long; at most {MAX_TEXT} are allowed")
    if not _SAFE_TEXT.fullmatch(value):
        raise ValueError(f"{what} {shorten(repr(value))} has characters that are not allowed "
                         "(letters, digits, spaces and , . : ( ) & ' / _ - only, starting with a letter or digit)")
    return value


class RunParams(BaseModel):
    """Parameters of one run of the analysis notebooks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("default", description="Run name: the folder under reports/ (lower case, digits, - _)")
    title: str = Field("Xinjiang Trade Monitor", description="Report title")
    entity: str = Field("Xinjiang", description="Entity analysed: Xinjiang, a port or a zone")
    flow: Literal["total", "exports", "imports"] = Field("total", description="Trade flow")
    partner: str = Field("World", description="Partner: World, Belt and Road, Central Asia, a country")
    currency: str = Field("CNY", description="Currency of the analysis (billions): CNY or USD")
    start_year: int = Field(2011, ge=2000, le=2100, description="First year of the analysis window")
    end_year: int | None = Field(None, ge=2000, le=2100, description="Last year of the analysis window "
                                 "(None: the latest year in the data)")
    as_of: dt.date | None = Field(None, description="Use only figures published on or before this date")
    horizon: int = Field(1, ge=1, le=5, description="Outlook: calendar years after the current one")
    models: tuple[str, ...] = Field(MODELS, description="Models compared for the years ahead (None: every one "
                                                         "in the registry)")
    break_year: int = Field(2022, ge=2000, le=2100, description="First year of the tested trend break")
    min_origins: int = Field(8, ge=1, le=100, description="Scored forecasts needed before the evaluation "
                                                           "chooses a model (else the robust default)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.fullmatch(v):
            raise ValueError(f"{shorten(repr(v))} must be 1-41 characters: lower-case letters, digits, - or _ "
                             "(no separators, spaces or control characters)")
        if v in RESERVED_NAMES:
            raise ValueError(f"{v!r} is reserved: reports/{v}/ holds {REPORT_AREAS[v]}; choose another name")
        return v

    @field_validator("title", "entity", "partner")
    @classmethod
    def _text(cls, v: str, info) -> str:
        return _safe_text(v, info.field_name)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if v not in CURRENCIES:
            raise ValueError(f"unknown currency {v!r}; choose from {', '.join(CURRENCIES)}")
        return v

    @field_validator("models", mode="before")
    @classmethod
    def _all_models(cls, v):
        return MODELS if v is None else v

    @field_validator("models")
    @classmethod
    def _models(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [m for m in v if m not in MODELS]
        if unknown:
            raise ValueError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
        if not v:
            raise ValueError("at least one model is needed")
        return tuple(dict.fromkeys(v))

    @model_validator(mode="after")
    def _window(self) -> "RunParams":
        if self.end_year is not None and self.end_year <= self.start_year:
            raise ValueError(f"end_year ({self.end_year}) must be after start_year ({self.start_year})")
        if not self.start_year < self.break_year <= self.window_end():
            raise ValueError(f"break_year ({self.break_year}) must fall inside the window "
                             f"{self.start_year + 1}-{self.end_year or 'the latest year'}")
        return self

    def window_end(self) -> int:
        """The last year of the window: end_year, or (None) any year the data reach."""
        return self.end_year if self.end_year is not None else 2100

    def notebook_parameters(self) -> dict:
        """Plain literals for papermill (str, int, list, None)."""
        out = self.model_dump()
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        out["models"] = list(self.models)
        return out


# Parameters the notebooks take besides the run parameters: (annotation, default literal, comment)
NOTEBOOK_EXTRAS: dict[str, tuple[str, str, str]] = {
    "data_dir": ("str", '"../data/processed"', "processed data (a run passes its own vintage)"),
    "out_dir": ("Optional[str]", "None", "where figures, tables and results are saved (None: nowhere)"),
    "cache_dir": ("Optional[str]", '"../.xjtrade-cache"', "the project's cache (the evaluation's vintages; None: none)"),
}


def parameters_cell(schema: type[RunParams] | None = None) -> str:
    """The source of every notebook's `parameters` cell, generated from the schema: the run
    parameters with their defaults and descriptions, then the notebook-only extras."""
    schema = schema or RunParams
    defaults = schema().notebook_parameters()
    rows = []
    for name, field in schema.model_fields.items():
        value = defaults[name]
        annotation = {bool: "bool", int: "int", str: "str", list: "list"}.get(type(value), "Optional[str]")
        if name == "as_of":
            annotation = "Optional[str]"
        if name == "models":   # the registry's list, not a copy of it: a new model needs no new cell
            annotation, value = "Optional[list]", None
        rows.append((f"{name}: {annotation} = {value!r}".replace("'", '"'), field.description))
    rows += [(f"{name}: {ann} = {default}", comment) for name, (ann, default, comment) in NOTEBOOK_EXTRAS.items()]
    width = 38
    lines = ["# Parameters, generated from the schema (xjtrade.report.params.RunParams):",
             "# `python tools/make_notebooks.py --parameters` rewrites this cell; `xjtrade run` injects",
             "# a validated set after it.",
             "from typing import Optional"]
    lines += [f"{code.ljust(width)} # {comment}" for code, comment in rows]
    return "\n".join(lines)


def _coerce_override(raw: str):
    """`-p key=value`: the value is read as YAML (numbers, lists, null) with the project's limits
    (xjtrade.yamlfile: no alias bomb, no duplicate key), never evaluated as code; text that is not
    such YAML stays the text."""
    try:
        return load_yaml(raw, "-p value")
    except YamlError:
        return raw


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParameterError(f"-p {shorten(repr(pair))}: expected key=value")
        key, value = pair.split("=", 1)
        out[key.strip()] = _coerce_override(value.strip())
    return out


def load_params(path: Path | None = None, overrides: dict | None = None) -> RunParams:
    """Read a parameter file, apply overrides and validate; raise ParameterError naming the culprit."""
    values: dict = {}
    where = "parameters"
    lines_of: dict[str, int] = {}
    if path is not None:
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise ParameterError(f"{path}: parameter file not found")
        lines: dict = {}
        try:   # at most 1 MiB, no alias bomb, no duplicate key (xjtrade.yamlfile)
            loaded = read_yaml(path, "parameter file", lines=lines)
        except YamlError as exc:
            raise ParameterError(str(exc)) from None
        lines_of = {str(k[0]): line for k, line in lines.items() if len(k) == 1}
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
            raise ParameterError(f"{path}: expected a mapping of parameter names to values")
        values.update(loaded)
    if overrides:
        values.update(overrides)
        for k in overrides:
            lines_of.pop(k, None)
        shown = (f"{shorten(k if str(k).isprintable() else repr(k), 40)}="
                 f"{shorten(v if str(v).isprintable() else repr(v), 40)}" for k, v in overrides.items())
        where += " with -p " + ", ".join(shown)
    if path is not None and "name" not in values:
        values["name"] = path.stem
    try:
        return RunParams(**values)
    except ValidationError as exc:
        problems: list[str] = []
        for err in exc.errors():
            loc = shorten(".".join(str(x) for x in err["loc"]), 40) or "parameters"
            msg = shorten(err["msg"].removeprefix("Value error, "), 300)
            if err["type"] == "extra_forbidden":
                msg = f"unknown parameter (known: {', '.join(RunParams.model_fields)})"
            top = str(err["loc"][0]) if err["loc"] else ""
            at = f" (line {lines_of[top]})" if top in lines_of else ""
            problems.append(f"  - {loc}{at}: {msg} (got {shorten(repr(err.get('input')))})")
        raise ParameterError(f"{where}: invalid parameters\n" + "\n".join(problems),
                             tuple(dict.fromkeys(str(e["loc"][0]) for e in exc.errors() if e["loc"]))) from None

