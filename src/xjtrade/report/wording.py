"""Words and numbers as the report prints them: one place for sentences used on several pages,
number formats, lists in prose, reader names of models and columns, and the glossary.

Nothing here prints a Python literal or an identifier: lists become "2019, 2020 and 2021",
model names become their reader labels ("mean growth", "ETS with damped trend"), column
names become words.
"""

from __future__ import annotations

import math
import re
from typing import Iterable

from xjtrade.textsafe import md_escape

from xjtrade.stats.registry import model_label

# --- markdown escaping (local until the shared escaping module lands) -------------------------



def md_text(text) -> str:
    """Data-derived text (titles, publishers, notes) made safe for markdown (see textsafe.md_escape);
    a missing value gives an empty string."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return md_escape(text)



# --- numbers -----------------------------------------------------------------------------------

PROSE_LENGTH = 30   # a column with a cell longer than this, with a space in it, holds prose


def is_prose(texts: Iterable[str]) -> bool:
    """Whether a table column (the visible texts of its cells) holds prose, such as notes or reasons,
    rather than ids, numbers or short labels: prose may wrap and take a wider column."""
    return any(len(t) > PROSE_LENGTH and " " in t for t in texts)


def capitalised(text: str) -> str:
    """`text` with its first letter in capitals (the rest as it is), to start a sentence."""
    return text[:1].upper() + text[1:]


def is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def num(v, digits: int = 1) -> str:
    """12,345.6; a dash for a missing value."""
    return "–" if is_missing(v) else f"{v:,.{digits}f}"


def pct(v, digits: int = 1, sign: bool = True) -> str:
    if is_missing(v):
        return "n/a"
    return f"{v:+.{digits}f}%" if sign else f"{v:.{digits}f}%"


def pp(v, digits: int = 1) -> str:
    """Percentage points, signed."""
    return "n/a" if is_missing(v) else f"{v:+.{digits}f} pp"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 derived value', '3 derived values'."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


def join_words(items: Iterable, last: str = "and") -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    words = [str(i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def years_text(years: Iterable[int]) -> str:
    """[2011, 2012, 2013, 2015] -> '2011-2013 and 2015' (runs of consecutive years joined)."""
    ys = sorted({int(y) for y in years})
    runs: list[list[int]] = []
    for y in ys:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    parts: list[str] = []
    for r in runs:
        parts += [f"{r[0]}-{r[-1]}"] if len(r) > 2 else [str(y) for y in r]
    return join_words(parts)


def model_name(name: str) -> str:
    """The reader's name of a model in the registry."""
    return model_label(str(name))


def models_text(names: Iterable[str]) -> str:
    return join_words(model_name(n) for n in names)


FLOW_WORDS = {"total": "total trade", "exports": "exports", "imports": "imports"}


def subject(entity: str, flow: str, partner: str) -> str:
    """What a series is, in words: 'Xinjiang total trade', 'Horgos port exports with Kazakhstan'."""
    return f"{entity} {FLOW_WORDS[flow]}" + ("" if partner == "World" else f" with {partner}")

# Column names of machine tables -> words for the reader
COLUMN_WORDS = {
    "cagr_pct": "compound growth, % a year", "start": "from", "end": "to", "start_value": "value at start",
    "end_value": "value at end", "n_forecasts": "forecasts scored", "MASE": "MASE", "MAPE": "MAPE, %",
    "coverage_80": "in 80% interval", "coverage_95": "in 95% interval", "evaluable": "scored",
    "reason": "why not scored", "model": "model", "n_origins": "forecast origins", "years": "years",
}


QUALIFIER_WORDS = {"about": "about", "over": "over", "nearly": "nearly", "under": "under", "exact": ""}


def qualifier_word(q) -> str:
    """The word a release printed before a figure ("about 20 bn"), "" for an exact figure: carried
    wherever the figure is shown."""
    return QUALIFIER_WORDS.get(str(q), "") if isinstance(q, str) else ""


def qualified(v, q=None, digits: int = 1) -> str:
    """A number with the word printed before it: 'about 20.0'; '20.0' for an exact figure."""
    w = qualifier_word(q)
    return f"{w} {num(v, digits)}" if w else num(v, digits)


def qualified_pct(v, q=None, digits: int = 1) -> str:
    """A growth rate with the word printed before it: 'about +100.0%' (a rate printed as "doubled");
    '+19.9%' for an exact one."""
    w = qualifier_word(q)
    return f"{w} {pct(v, digits)}" if w else pct(v, digits)


CURRENCY_WORDS = {"CNY": "yuan", "USD": "US dollars"}


def printed_in_note(printed_in, currency: str) -> str:
    """'converted from US dollars' for a figure printed in another currency than the series' one
    (converted at the annual average rate), else ''."""
    if not isinstance(printed_in, str) or not printed_in or printed_in == currency:
        return ""
    return f"converted from {CURRENCY_WORDS.get(printed_in, printed_in)}"


def converted_note(years: Iterable[int], currency: str) -> str:
    """'Values of 2011, 2012 and 2014-2018 were printed in US dollars and are converted at each year's
    average rate.' ('' without such years): a chart's or table's note where it shows converted values."""
    ys = sorted({int(y) for y in years})
    if not ys:
        return ""
    other = "yuan" if currency == "USD" else "US dollars"
    return (f"Values of {years_text(ys)} were printed in {other} and are converted at each year's average "
            f"rate.")


MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")


def months_words(m: int | None) -> str:
    """The months of a year-to-date figure ending in month `m`: 'January-November', 'January'."""
    if not m:
        return ""
    return MONTH_NAMES[0] if m == 1 else f"{MONTH_NAMES[0]}-{MONTH_NAMES[int(m) - 1]}"


def later_years_note(series, unit: str, outlook_year: int | None = None) -> str:
    """The years after the latest calendar-year figure of `series` (an AnnualSeries) that have only
    part-year figures, with the latest one's estimate: so that the level stated from the last full-year
    figure and the outlook, which starts from the latest figure, speak of the same years ("" if none)."""
    last = series.level.last_year if series.level else None
    later = [pt for pt in series.points if pt.origin == "estimated" and (last is None or pt.year > last)]
    if not later:
        return ""
    pt = later[-1]
    years = years_text(p.year for p in later)
    src = f" from its {months_words(pt.months_known)} figure" if pt.months_known else ""
    if pt.year == outlook_year:   # one number per question: the outlook's nowcast of that year
        known = f" ({months_words(pt.months_known)})" if pt.months_known else ""
        if len(later) == 1:
            return f"{pt.year} has only part-year figures{known}; its nowcast is in the outlook below."
        return (f"Later years have only part-year figures ({years}); the nowcast of {pt.year} from its published "
                f"months{known} is in the outlook below.")
    head = (f"Later years have only part-year figures ({years}); the latest, {pt.year}," if len(later) > 1
            else f"{pt.year} has only part-year figures and")
    return (f"{head} is estimated at {num(pt.value)} {unit}{src} (80% interval {num(pt.lo80)} to "
            f"{num(pt.hi80)}).")


def column_words(name: str) -> str:
    return COLUMN_WORDS.get(name, name.replace("_", " "))


# --- glossary ----------------------------------------------------------------------------------

GLOSSARY = {
    "MASE": "Mean absolute scaled error, as this report computes it: the average absolute error of a "
            "forecast on the log scale, divided by the average absolute change from one year to the next "
            "of the annual totals known when the forecast was made. A score of one means an error as large "
            "as a typical year's change; the naive forecast (last value carried forward) scores about one "
            "a year ahead in a typical year and more at longer horizons or in years of large change, so "
            "compare models with each other at the same horizon rather than with one.",
    "nowcast": "An estimate of the current, still incomplete year from the months already published.",
    "pp": "Percentage points: the difference between two percentages (growth of twelve percent against "
          "ten percent is two percentage points, or pp, higher).",
    "year-to-date": "Customs publish cumulative figures from January to the latest month; single months "
                    "are differences of two such releases. January and February come as one release.",
    "derived value": "A figure computed by the project from reported ones (for example last year's value "
                     "implied by a reported growth rate); each names the figures it comes from.",
    "estimate": "A value not published anywhere: a model's forecast or a nowcast.",
}


def glossary_markdown(terms: Iterable[str] | None = None) -> str:
    terms = list(terms) if terms is not None else list(GLOSSARY)
    return "\n\n".join(f"**{t}**\n:   {GLOSSARY[t]}" for t in terms)


# --- sentences used on several pages ----------------------------------------------------------

def currency_note(currency: str, converted_years: Iterable[int] = ()) -> str:
    """What the growth table's currencies mean (`converted_years`: the years whose figure was printed in
    the other currency and converted at that year's average rate)."""
    own, other = CURRENCY_WORDS.get(currency, currency), "yuan" if currency == "USD" else "US dollars"
    years = sorted({int(y) for y in converted_years})
    text = f"Values are in {own}"
    if currency == "CNY":
        text += ", the currency in which customs publish"
    if not years:
        return (text + "; growth rates computed here can differ slightly from the reported ones, which customs "
                "compute on unrounded and revised figures of the year before.")
    return (text + f". Growth computed in {own} from values printed in {other} ({years_text(years)}) includes "
            f"the change of the exchange rate between the two years. A reported growth rate is in the currency "
            f"its figure was printed in, so it is compared with growth computed from both years' values in that "
            f"currency ('growth in the printed currency'). What differences remain come from rounding in print, "
            f"from customs' revised figures of the year before, and where the year before was printed in the "
            f"other currency, from its conversion.")


def figure_link(figure_id: str, page_prefix: str = "") -> str:
    """A figure id as a link to its row in the figures table."""
    return f"[{figure_id}]({page_prefix}figures.html#{figure_id})"


def level_title(level, subject: str, unit: str) -> str:
    """A message, not a description: where the series stands and how it got there (`level`: the
    series' :class:`~xjtrade.report.results.LevelFacts`, None without a calendar-year figure)."""
    if level is None:
        return f"No calendar-year figures of {subject}"
    text = (f"{capitalised(subject)} reached {qualified(level.last_value, level.last_qualifier)} {unit} in "
            f"{level.last_year}")
    if level.ratio is not None and level.last_year > level.first_year:
        if level.ratio >= 1.5:
            text += f", {level.ratio:.1f} times its {level.first_year} level"
        else:
            text += f", {pct(level.change_pct)} on {level.first_year}"
    return text


def counts_sentence(c) -> str:
    """'Xinjiang: 288 reported figures from 86 sources, 418 derived figures; 2 conflicts between
    sources, 15 warnings and 2 notes in the data-quality table.' (`c`: a ScopeCounts)."""
    return (f"{capitalised(c.scope)}: {count(c.reported, 'reported figure')} from "
            f"{count(c.sources_used, 'source')}, {count(c.derived, 'derived figure')}; "
            f"{count(c.conflicts, 'conflict')} between sources, {count(c.warnings, 'warning')} "
            f"and {count(c.notes, 'note')} in the data-quality table.")


_ITEM = r"(?:'[^'\]\[]*'|\"[^\"\]\[]*\"|-?\d[\d.]*)"
_LIST_LITERAL = re.compile(r"\[(" + _ITEM + r"(?:,\s*" + _ITEM + r")*)\](?!\()")
_BOOL = re.compile(r"\b(True|False)\b")


def _list_words(match: re.Match) -> str:
    items = [i.strip().strip("'\"") for i in re.findall(_ITEM, match.group(1))]
    if all(re.fullmatch(r"(19|20)\d\d", i) for i in items):
        return years_text(int(i) for i in items)
    return join_words(model_name(i) for i in items)


def _model_names() -> dict[str, str]:
    from xjtrade.stats.registry import MODELS
    return {name: spec.label for name, spec in MODELS.items() if "_" in name}


def prose(text: str) -> str:
    """Text for readers: Python list literals become words ("[2019, 2020, 2021]" -> "2019-2021",
    "['arima']" -> "ARIMA"), registry names with underscores become the models' labels,
    True/False become yes/no.  Markdown links ([x](y)) are left alone."""
    text = _LIST_LITERAL.sub(_list_words, str(text))
    for name, label in _model_names().items():
        text = re.sub(rf"(?<![\w/#.-]){re.escape(name)}(?![\w/.-])", label, text)
    return _BOOL.sub(lambda m: "yes" if m.group(1) == "True" else "no", text)
