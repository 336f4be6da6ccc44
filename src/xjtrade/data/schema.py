"""The one schema of the processed tables (figures, quality, sources, exchange_rates).

Each table is declared once here, column by column: type, description, unit, whether it may be
empty, the values it may take.  From this declaration

* :func:`pandera_schema` checks every table the data step writes (`data/processed.py`) before it
  is written, so a table that breaks its declaration never reaches the run;
* :func:`frictionless_schema` is the table's schema in the published data package
  (`report/downloads.py`, written and validated with frictionless);
* :func:`readme_section` is the processed tables' section of `data/README.md`
  (`python tools/make_readme.py` rewrites it; a test checks that it agrees).

Kept free of heavy imports: pandera and frictionless are imported where they are used.
"""

from __future__ import annotations

from dataclasses import dataclass

from xjtrade.data.qualifiers import QUALIFIERS

TYPES = ("string", "integer", "number", "boolean")


@dataclass(frozen=True)
class Column:
    name: str
    type: str                          # one of TYPES
    description: str
    unit: str | None = None
    required: bool = True              # False: the cell may be empty (missing)
    enum: tuple | None = None          # the only values allowed
    unique: bool = False

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"{self.name}: unknown type {self.type!r}")


@dataclass(frozen=True)
class Table:
    name: str                          # file stem under data/processed/
    title: str
    description: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


PERIOD_KINDS = ("year", "half", "quarter", "ytd", "month", "other", "undated")

FIGURES = Table("figures", "Every figure, reported and derived, with its lineage and selection",
                "One row per figure: the raw columns plus the lineage, the conversions and the selection.", (
    Column("figure_id", "string", "Id of the figure: R#### for a reported figure (row of data/raw/reports.csv), "
                                  "D<method>-<hash> for a derived one", unique=True),
    Column("origin", "string", "reported (printed in a source) or derived (computed from other figures)",
           enum=("reported", "derived")),
    Column("method", "string", "How a derived figure was computed (prior year from yoy, ytd difference, total "
                               "from parts, part from total, partner share, national rate from gap, ...); "
                               "'reported' otherwise"),
    Column("steps", "integer", "Derivation steps from the reported figures (0 for reported)"),
    Column("inputs", "string", "Figure ids the figure was computed from, separated by ';'", required=False),
    Column("source_ids", "string", "Sources behind the figure (see sources), separated by ';'"),
    Column("published", "string", "Publication date of the (latest) source, YYYY-MM-DD", required=False),
    Column("entity", "string", "Region, port or zone the figure describes"),
    Column("flow", "string", "total, exports or imports (n/a for counts that are not flows)",
           enum=("total", "exports", "imports", "n/a")),
    Column("partner", "string", "Trade partner (World for all partners)"),
    Column("product", "string", "Product group (all for every product)"),
    Column("segment", "string", "Segment of trade, such as a kind of enterprise (all for every segment)"),
    Column("indicator", "string", "What is measured (trade value, share of world total, ...)"),
    Column("measure", "string", "money for values in a currency, else the unit of the indicator"),
    Column("period_start", "string", "First month covered, YYYY-MM", required=False),
    Column("period_end", "string", "Last month covered, YYYY-MM", required=False),
    Column("period_kind", "string", "year, half, quarter, ytd (year to date), month, other or undated",
           enum=PERIOD_KINDS),
    Column("period_label", "string", "The period in words (Jan-Nov 2022)"),
    Column("year", "integer", "Year of the last month covered (0 when undated)"),
    Column("months", "integer", "Number of months covered", unit="months"),
    Column("value", "number", "Value as printed, in `unit`", required=False),
    Column("unit", "string", "Unit of `value` as printed"),
    Column("qualifier", "string", "The word printed before `value`: exact, about, nearly, over or under; for a "
                                  "derived figure, carried from its inputs (a value implied by a rate printed "
                                  "as 'more than' is under the one computed)", enum=QUALIFIERS),
    Column("yoy_pct", "number", "Growth on the same period a year earlier, as reported", unit="percent",
           required=False),
    Column("yoy_qualifier", "string", "The word printed before `yoy_pct`: exact, about (a rate printed as "
                                      "'doubled' is about 100), nearly, over or under; for a derived rate, "
                                      "carried from its inputs. Missing when there is no rate",
           required=False, enum=QUALIFIERS),
    Column("currency", "string", "Currency of `value` (CNY or USD), empty for figures that are not money",
           required=False, enum=("CNY", "USD")),
    Column("value_cny_bn", "number", "Value in billion yuan (converted at the annual average rate if printed in "
                                     "dollars)", unit="billion CNY", required=False),
    Column("value_usd_bn", "number", "Value in billion US dollars (converted at the annual average rate if "
                                     "printed in yuan)", unit="billion USD", required=False),
    Column("check", "string", "Curators' check of the row against its source (verified, seed, unchecked, doubt, "
                              "implausible, mismatch)"),
    Column("usable", "boolean", "False for rows set aside as mismatched or implausible (never selected)"),
    Column("description", "string", "Curators' note on the figure", required=False),
    Column("source_rank", "integer", "0 primary source with an address, 1 mirror/repost/translation, "
                                     "2 no address (seed article)", enum=(0, 1, 2)),
    Column("selected", "boolean", "True for the one figure the selection rule uses for its quantity"),
))

QUALITY = Table("quality", "Data-quality issues found by reconciliation",
                "Each disagreement between figures of one quantity, derived values that do not match reported "
                "ones, parts that do not add up, falling year-to-date figures, and rows marked doubtful or "
                "implausible.", (
    Column("issue_id", "string", "Id of the issue", unique=True),
    Column("kind", "string", "What kind of disagreement"),
    Column("severity", "string", "conflict, warning or note", enum=("conflict", "warning", "note")),
    Column("entity", "string", "Region, port or zone"),
    Column("flow", "string", "total, exports or imports", required=False),
    Column("partner", "string", "Trade partner", required=False),
    Column("product", "string", "Product group", required=False),
    Column("segment", "string", "Segment of trade", required=False),
    Column("indicator", "string", "What is measured", required=False),
    Column("period_label", "string", "The period in words", required=False),
    Column("selected_id", "string", "The figure used (or the row the issue is about)"),
    Column("selected_value", "number", "Its value", required=False),
    Column("other_id", "string", "The figure compared with it", required=False),
    Column("other_value", "number", "Its value", required=False),
    Column("unit", "string", "Unit of the two values", required=False),
    Column("difference_pct", "number", "Difference of the other figure from the used one", unit="percent",
           required=False),
    Column("source_ids", "string", "Sources of the figures compared, separated by ';'", required=False),
    Column("note", "string", "Explanation", required=False),
))

SOURCES = Table("sources", "Sources of the reported figures",
                "The raw sources table, with the number of reported figures taken from each source.", (
    Column("source_id", "string", "Id of the source", unique=True),
    Column("title", "string", "Headline; in square brackets when described by the curators"),
    Column("publisher", "string", "Publisher (mirrors and reposts say so)"),
    Column("published", "string", "Publication date, YYYY-MM-DD (empty if unknown)", required=False),
    Column("url", "string", "Web address, or seed:<file> for an article without one"),
    Column("language", "string", "Language code of the page (ISO 639-1)"),
    Column("date_inferred", "string", "yes when the date was inferred rather than printed", required=False),
    Column("figures", "integer", "Reported figures taken from the source"),
))

EXCHANGE_RATES = Table("exchange_rates", "Annual average exchange rates",
                       "The yuan per US dollar used to express every money figure in both currencies.", (
    Column("year", "integer", "Calendar year", unique=True),
    Column("cny_per_usd", "number", "Annual average yuan per US dollar", unit="CNY per USD"),
    Column("source_id", "string", "Source of the rate (see sources)"),
    Column("note", "string", "Which values were confirmed against a stored page", required=False),
))

TABLES: dict[str, Table] = {t.name: t for t in (FIGURES, QUALITY, SOURCES, EXCHANGE_RATES)}


# --- the checks, the data package's schema, the README --------------------------------------------

def typed(table: Table, df):
    """`df` with the declared columns only, in order, in the types of the published data package
    (text as strings, integers as nullable integers; empty text stays empty text)."""
    import pandas as pd
    out = pd.DataFrame(index=df.index)
    for c in table.columns:
        col = df[c.name]
        if c.type == "string":
            out[c.name] = col.astype("string")
        elif c.type == "boolean":
            out[c.name] = col.astype("boolean")
        elif c.type == "integer":
            out[c.name] = pd.to_numeric(col).astype("Int64")
        else:
            out[c.name] = pd.to_numeric(col).astype("float64")
    return out.reset_index(drop=True)


DTYPES = {"string": str, "integer": "int64", "number": "float64", "boolean": bool}


def pandera_schema(table: Table):
    """The pandera schema of a table as the data step writes it: the declared columns, in order, of
    the declared types; a required column has no missing value and no empty text (an empty CSV cell
    is a missing value in the data package); declared values only; ids unique."""
    import pandera.pandas as pa
    cols = {}
    for c in table.columns:
        checks = [pa.Check.isin(list(c.enum))] if c.enum else []
        if c.required and c.type == "string":
            checks.append(pa.Check.str_length(min_value=1))
        cols[c.name] = pa.Column(DTYPES[c.type], checks=checks, nullable=not c.required, unique=c.unique)
    return pa.DataFrameSchema(cols, strict=True, ordered=True, name=table.name)


def check(table: Table, df) -> None:
    """Raise SchemaError listing what breaks the declaration (every failure, not only the first)."""
    import pandera.errors as pe
    try:
        pandera_schema(table).validate(df, lazy=True)
    except pe.SchemaErrors as exc:
        cases = exc.failure_cases
        lines = [f"  - column {r.column}: {r.check} (value {r.failure_case!r})"
                 for r in cases.head(20).itertuples(index=False)]
        raise SchemaError(f"processed table {table.name!r} does not match its declared schema "
                          f"(xjtrade.data.schema):\n" + "\n".join(lines)) from None


class SchemaError(ValueError):
    """A processed table does not match its declaration."""


def frictionless_schema(table: Table) -> dict:
    """The table schema of the data package (Frictionless Table Schema descriptor)."""
    fields = []
    for c in table.columns:
        f: dict = {"name": c.name, "type": c.type, "description": c.description}
        if c.unit:
            f["unit"] = c.unit
        constraints: dict = {}
        if c.required:
            constraints["required"] = True
        if c.unique:
            constraints["unique"] = True
        if c.enum:
            constraints["enum"] = list(c.enum)
        if constraints:
            f["constraints"] = constraints
        fields.append(f)
    unique = [c.name for c in table.columns if c.unique]
    out = {"fields": fields, "missingValues": [""]}
    if len(unique) == 1:
        out["primaryKey"] = unique
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;")


def readme_section() -> str:
    """The processed tables' section of data/README.md: one table of columns per processed table."""
    lines = []
    for t in TABLES.values():
        lines += [f"### processed/{t.name}.csv / .parquet: {t.title.lower()}", "", t.description, "",
                  "| column | type | meaning |", "|---|---|---|"]
        for c in t.columns:
            extra = []
            if c.unit:
                extra.append(f"unit: {c.unit}")
            if c.enum:
                extra.append("one of " + ", ".join(f"`{v}`" for v in c.enum))
            if not c.required:
                extra.append("may be empty")
            if c.unique:
                extra.append("unique")
            meaning = _cell(c.description) + (f" ({'; '.join(extra)})" if extra else "")
            lines.append(f"| `{c.name}` | {c.type} | {meaning} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


README_BEGIN = "<!-- processed tables: generated from src/xjtrade/data/schema.py by tools/make_readme.py -->"
README_END = "<!-- end of the generated section -->"


def readme_with_section(text: str) -> str:
    """data/README.md with its generated section replaced by :func:`readme_section`."""
    start, end = text.index(README_BEGIN), text.index(README_END)
    return text[:start + len(README_BEGIN)] + "\n\n" + readme_section() + "\n" + text[end:]
