"""Showing and saving what the notebooks compute: markdown tables and prose, figures, the tables'
CSV files and the results sections.

`save_results` checks a section against the results contract (`report/results.py`) and writes it
with the counts behind the chapter's charts and tables (`Context.scopes`); `save_frame` writes a
table the pages show whole (the figures table) as Parquet beside the results.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd

from xjtrade.report import wording
from xjtrade.report.results import section_json
from xjtrade.textsafe import md_escape, write_csv


FIGURE_ID = re.compile(r"^(R\d{4}|D[A-Z]{2}-[0-9a-f]{8})$")
FIGURE_ID_IN_TEXT = re.compile(r"\b(R\d{4}|D[A-Z]{2}-[0-9a-f]{8})\b")


def link_ids(text: str, prefix: str = "../") -> str:
    """Every figure id in a (markdown) text as a link to its row in the published figures table."""
    return FIGURE_ID_IN_TEXT.sub(lambda m: f"[{m.group(1)}]({prefix}figures.html#{m.group(1)})", text)


_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _visible(md: str) -> str:
    """The text a reader sees of a markdown cell: links as their text, escapes dropped."""
    return re.sub(r"\\(.)", r"\1", _LINK.sub(r"\1", md))


def text_of(v) -> str:
    return "–" if v is None else str(v)


def markdown_table(df: pd.DataFrame, floatfmt: str = ",.2f", max_text: int = 160, link_prefix: str | None = None
                   ) -> str:
    """A pipe table; missing values shown as a dash, long texts cut (the full text is in the table's
    CSV), data-derived texts escaped (`md_escape`: they show as text, never markup), figure ids linked to the figures table (`link_prefix`: path of
    the site root from the page), and the separator line's dashes capped so that pandoc gives a
    long text column at most a few times the width of the others."""
    shown = df.copy()
    shown.columns = [wording.column_words(str(c)) for c in shown.columns]
    for col in shown.columns:
        if not pd.api.types.is_numeric_dtype(shown[col]):
            def cell(v):
                if not isinstance(v, str):
                    return v
                v = v if len(v) <= max_text else v[: max_text - 1] + "…"
                if link_prefix is not None and all(FIGURE_ID.match(p.strip()) for p in re.split(r"[,+]", v)
                                                   if p.strip()):
                    return link_ids(v, link_prefix)
                text = md_escape(v)
                return link_ids(text, link_prefix) if link_prefix is not None else text
            shown[col] = shown[col].map(cell)
        if col == "model":
            shown[col] = shown[col].map(lambda v: wording.model_name(v) if isinstance(v, str) else v)
        elif pd.api.types.is_bool_dtype(shown[col]):
            shown[col] = shown[col].map({True: "yes", False: "no"})
    digits = re.search(r"\.(\d+)[fe%]", floatfmt)
    if digits:   # a value that shows as zero shows as 0.00, not -0.00 (a tiny negative rounded)
        for col in shown.columns:
            if pd.api.types.is_float_dtype(shown[col]):
                shown[col] = shown[col].mask(shown[col].round(int(digits.group(1))) == 0, 0.0)
    shown = shown.astype(object).where(shown.notna(), None)
    text = shown.to_markdown(index=False, floatfmt=floatfmt, missingval="–")
    lines = text.split("\n")
    cells = lines[1].strip("|").split("|")
    # widths from what the reader sees: a linked id "[R0012](../figures.html#R0012)" counts as 5
    texts = [[_visible(text_of(v)) for v in shown[c]] for c in shown.columns]
    visible = [max([len(_visible(str(c)))] + [len(t) for t in col]) for c, col in zip(shown.columns, texts)]
    # prose (notes, reasons) may take twice the width of a column of ids or numbers
    prose = [wording.is_prose(col) for col in texts]
    capped = []
    for rule, width, long in zip(cells, visible, prose):
        left, right = rule.strip().startswith(":"), rule.strip().endswith(":")
        n = max(3, min(width, 48 if long else 24))
        capped.append((":" if left else "-") + "-" * (n - 2) + (":" if right else "-"))
    lines[1] = "|" + "|".join(capped) + "|"
    return "\n".join(lines)


def _r(x, n=4):
    if x is None:
        return None
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(x) else round(float(x), n)
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def show_markdown(text: str):
    """Display prose; any Python literal or model identifier that slipped into it is put into words.
    Empty text displays nothing (a section with nothing to say shows nothing: the book drops its heading)."""
    from IPython.display import Markdown, display
    if not str(text or "").strip():
        return
    display(Markdown(wording.prose(text)))


_SAVED: dict[int, tuple[pd.DataFrame, str]] = {}
_SAVED_NAMES: set[str] = set()   # the tables this kernel wrote (a link to one not written would be dead)


TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FULL_TABLE = "Full table as CSV"
CHART_DATA = "Chart data as CSV"


class TableNameError(ValueError):
    """A table saved under a name that is not a plain file name, or that another notebook of the same
    run already saved a table under (the two would overwrite each other's CSV file)."""


def csv_link(name: str, prefix: str = "../", text: str = FULL_TABLE) -> str:
    """The download link shown under a table (or chart) on the site (hidden in the PDF)."""
    if not TABLE_NAME.match(name):
        raise TableNameError(f"table name {name!r}: use lower-case letters, digits and underscores")
    return (f"::: {{.content-visible when-format=\"html\"}}\n[{md_escape(text)}]({prefix}tables/{name}.csv)"
            f"{{.csv-link}}\n:::")


def show_table(df: pd.DataFrame, source: str | None = None, floatfmt: str = ",.2f", name: str | None = None,
               max_text: int = 160, also: list[tuple[str, str]] | None = None):
    """Show a table with its source note and, on the site, a link to the full table as CSV (`name`, or
    the name the same table was saved under with `save_table`), then a link to each table of `also`
    ([(name, link text)]: tables saved beside it that the page does not show, such as the monthly paths
    behind an annual outlook)."""
    if name is None and id(df) in _SAVED and _SAVED[id(df)][0] is df:
        name = _SAVED[id(df)][1]
    text = markdown_table(df, floatfmt, max_text=max_text, link_prefix="../") if len(df) else "_No rows._"
    if source:
        text += f"\n\n[{link_ids(md_escape(source))}]{{.small}}"  # plain text from the data, small print
    if name and len(df):
        text += "\n\n" + csv_link(name)
    for other, words in also or []:
        if other in _SAVED_NAMES:
            text += "\n\n" + csv_link(other, text=words)
    show_markdown(text)


def show_figure(ctx, fig, name: str, data: str | list[str] | None = None, *, alt: str,
                label: str | None = None):
    """Display a figure as SVG and save it (SVG + PNG) into the run folder; on the site, a link to the
    data it is drawn from under it (`data`: the name(s) of tables saved with `save_table`).

    `alt` is the chart's text alternative: its message and numbers, generated from the data it draws
    (`report/alt_text.py`), never its caption.  It becomes the SVG's ``<desc>`` and is kept in the
    chapter's results under the cell's label (`label`, default ``fig-<name>``), from which staging
    writes the cell's ``fig-alt``: the image's alt text on the site and in the PDF, under both engines."""
    import matplotlib.pyplot as plt
    from IPython.display import SVG, display
    from xjtrade.report import figures as xf
    from xjtrade.report.results import ChartText
    text = " ".join(str(alt or "").split())
    if not text:
        raise ValueError(f"figure {name!r}: no alt text (say what the chart shows, with its numbers)")
    label = label or f"fig-{name}"
    if not label.startswith("fig-"):
        raise ValueError(f"figure {name!r}: label {label!r} is not a figure label (fig-...)")
    xf.save(fig, ctx.out_dir / "figures" if ctx.out_dir else None, name, desc=text)
    display(SVG(xf.svg_bytes(fig, text)))
    plt.close(fig)
    ctx.charts[label] = ChartText(file=f"figures/{name}.svg", alt=text)
    names = [data] if isinstance(data, str) else list(data or [])
    if names and ctx.out_dir is not None:   # nothing saved, nothing to link
        show_markdown("\n\n".join(csv_link(n, text=CHART_DATA if len(names) == 1 else
                                             f"{CHART_DATA} ({n.replace('_', ' ')})")
                                    for n in names))


def claim_table(folder, name: str, owner: str | None) -> None:
    """Record that the notebook `owner` writes tables/<name>.csv of the run (`folder` is the run's
    results folder), or raise :class:`TableNameError` if another notebook of the run already did.

    The claim is one file per name, created whole or not at all (a hard link of a written file), so
    two notebooks running side by side cannot both take a name.  The same notebook saving the name
    again (a re-run) is fine."""
    import os
    import tempfile
    from pathlib import Path
    owners = Path(folder) / "table_owners"
    owners.mkdir(parents=True, exist_ok=True)
    me = owner or "(unnamed notebook)"
    path = owners / f"{name}.txt"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=owners)
    tmp = Path(tmp_name)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(me + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        held = path.read_text(encoding="utf-8").strip()
        if held != me:
            raise TableNameError(
                f"table name {name!r} is already used by the {held} notebook of this run (tables/{name}.csv); "
                f"the {me} notebook must save its table under another name, or one CSV file would overwrite "
                f"the other and a download link would give the wrong table") from None
    finally:
        tmp.unlink(missing_ok=True)


def save_table(ctx, df: pd.DataFrame, name: str) -> None:
    """Write tables/<name>.csv of the run (the file the site links as the table's download).  Names
    are file names (lower-case letters, digits, underscores) unique across the run's notebooks: a name
    another notebook already saved raises :class:`TableNameError`."""
    if not TABLE_NAME.match(str(name)):
        raise TableNameError(f"table name {name!r}: use lower-case letters, digits and underscores "
                             f"(it becomes the file name tables/<name>.csv)")
    if ctx.out_dir is None:
        return
    claim_table(ctx.out_dir / "results", name, getattr(ctx, "chapter", None))
    folder = ctx.out_dir / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(df, folder / f"{name}.csv", float_format="%.6g")
    _SAVED[id(df)] = (df, name)
    _SAVED_NAMES.add(name)


def save_results(ctx, section: str, results: dict) -> str:
    """Validate a section against the results contract (`report/results.py`), with the counts behind
    the chapter's charts and tables (`ctx.scopes`) and the alt text of its charts (`ctx.charts`),
    write results/<section>.json (if saving) and return the JSON text."""
    values = {**results, "scopes": {**{k: v.model_dump() for k, v in ctx.scopes.items()},
                                    **results.get("scopes", {})},
              "charts": {**{k: v.model_dump() for k, v in getattr(ctx, "charts", {}).items()},
                         **results.get("charts", {})}}
    for key in ("scopes", "charts"):
        if not values[key]:
            values.pop(key)
    text = section_json(section, json.loads(json.dumps(values, default=_r)))
    if ctx.out_dir is not None:
        folder = ctx.out_dir / "results"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{section}.json").write_text(text + "\n", encoding="utf-8")
    return text


def save_frame(ctx, df: pd.DataFrame, name: str) -> None:
    """Write a table a page shows whole (not a chapter's table) to results/<name>.parquet."""
    if ctx.out_dir is None:
        return
    folder = ctx.out_dir / "results"
    folder.mkdir(parents=True, exist_ok=True)
    df.to_parquet(folder / f"{name}.parquet", index=False)
