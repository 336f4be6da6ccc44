"""Period phrases -> (period_start, period_end, period_kind).

'前11个月', '1-11月', 'first 11 months', 'January-November', 'Jan-Nov', 'in den ersten elf Monaten',
'в январе-ноябре': January to November; '前三季度' / 'first three quarters': January to September;
'一季度' / 'Q1' / 'first quarter'; '上半年' / 'first half'; '11月' / 'in November': one month;
'2023年' / 'in 2023' / 'last year': a calendar year; '十四五' / '14th Five-Year Plan': 2021-2025.

A phrase carries its year when it prints one; '今年' / 'this year' and '去年' / 'last year' take
the year from the publication date.  A phrase without a year takes the year of the last phrase
before it that had one, else the latest year in which its months had ended before publication.
The kind is the one `xjtrade.data.periods.natural_kind` gives the months (Jan-Jun is a half,
Jan-Mar a quarter, Jan-Nov a ytd), as data/raw requires.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

from xjtrade.data import periods as base
from xjtrade.data.extract import lexicon as lx
from xjtrade.data.extract.numbers import parse_any

_ZH_MONTH = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"
_YEAR = r"((?:19|20)\d{2})"

# A pattern's reader: (its groups, the language) -> what the phrase says (year, first and last month as
# numbers or month names, quarter, relative year), as printed.
Spec = dict[str, str | None]
Reader = Callable[[list[str | None], str], Spec]


@dataclass(frozen=True)
class PeriodPhrase:
    """A period as printed: months `first`..`last` of a year that may still be unknown."""

    start: int                       # character span in the text
    end: int
    text: str
    first: int = 1                   # calendar months 1-12
    last: int = 12
    year: int | None = None          # printed year
    relative: int | None = None      # 0: this year, -1: last year (from the publication date)
    years: tuple[int, int] | None = None   # a span of whole years (named five-year plans)
    vague: str | None = None         # a period that cannot be pinned down, and why
    comparison: bool = False         # the base of a comparison ("比上年同期"), not a period of a figure


@dataclass(frozen=True)
class Resolved:
    period_start: str
    period_end: str
    period_kind: str
    inferred: str = ""               # how the year was found when the phrase did not print it

    @property
    def year(self) -> int:
        return int(self.period_end[:4])


class PeriodUnresolved(ValueError):
    """A phrase whose months or year cannot be pinned down (the reason is the message)."""


def _month_number(text: str, language: str) -> int:
    words = lx.NUMBER_WORDS.get(language, {})
    key = text.lower()
    if key in words:
        return words[key]
    return int(parse_any(text, language))


def _month_alternatives(language: str) -> list[str]:
    return lx.MONTHS.get(language, lx.MONTHS["en"])


def _month_regex(language: str) -> str:
    return "(" + "|".join(f"(?:{m})" for m in _month_alternatives(language)) + ")"


def _which_month(text: str, language: str) -> int:
    for i, alt in enumerate(_month_alternatives(language)):
        if re.fullmatch(alt, text.lower().rstrip(".") if language == "en" else text.lower()) or \
                re.fullmatch(alt, text.lower()):
            return i + 1
    raise ValueError(f"{text!r} is not a month name")


def _number_word(language: str) -> str:
    words = sorted(lx.NUMBER_WORDS.get(language, {}), key=len, reverse=True)
    return "(" + "|".join([r"\d{1,2}"] + [re.escape(w) for w in words]) + ")"


def _zh_patterns() -> list[tuple[str, Reader]]:
    y = f"(?:{_YEAR}\\s*年\\s*(?:度)?)?"
    m = _ZH_MONTH
    return [
        # 2023年1-11月 / 1至11月 / 一至十一月
        (f"{y}{m}\\s*(?:月份?)?\\s*[-—–~～至到]\\s*{m}\\s*月份?",
         lambda g, lang: dict(year=g[0], first=g[1], last=g[2])),
        # 前11个月 / 前11月 / 2024年前7个月 / 头两个月
        (f"{y}(?:前|头)\\s*{m}\\s*个?月", lambda g, lang: dict(year=g[0], first="1", last=g[1])),
        (f"{y}(?:前|头)两\\s*个?月", lambda g, lang: dict(year=g[0], first="1", last="2")),
        (f"{y}前(?:三|3)季度", lambda g, lang: dict(year=g[0], first="1", last="9")),
        (f"{y}前(?:两|二|2)季度", lambda g, lang: dict(year=g[0], first="1", last="6")),
        (f"{y}(?:第)?([一二三四1-4])季度", lambda g, lang: dict(year=g[0], quarter=g[1])),
        (f"{y}上半年", lambda g, lang: dict(year=g[0], first="1", last="6")),
        (f"{y}下半年", lambda g, lang: dict(year=g[0], first="7", last="12")),
        # 截至10月底 / 截至10月末: January to October
        (f"截至{y}{m}\\s*月(?:底|末)", lambda g, lang: dict(year=g[0], first="1", last=g[1])),
        # 11月 / 2023年12月 / 11月当月 (not 1月23日, a day)
        (f"{y}{m}\\s*月份?(?:当月|单月)?(?!\\s*\\d{{1,2}}\\s*[日号])(?![-—–~～至到])",
         lambda g, lang: dict(year=g[0], first=g[1], last=g[1])),
        (f"{_YEAR}\\s*年(?:全年|度)?(?![\\d前上下第一二三四1-4])", lambda g, lang: dict(year=g[0])),
        ("全年", lambda g, lang: dict()),
    ]


def _en_patterns(language: str) -> list[tuple[str, Reader]]:
    mo = _month_regex(language)
    n = _number_word(language)
    of_year = rf"(?:\s+(?:of|in)\s+{_YEAR}|\s+of\s+(?:the|this|last)\s+year|\s+this\s+year|\s+last\s+year)?"
    to = r"\s*(?:-|–|—|to|through|till|until|and)\s*"
    return [
        (rf"(?:from\s+)?{mo}\.?{to}{mo}\.?(?:\s+(?:period\s+)?(?:of\s+)?{_YEAR})?(?!\s+\d{{1,2}}\b)",
         lambda g, lang: dict(first_name=g[0], last_name=g[1], year=g[2])),
        (rf"first\s+{n}\s+months{of_year}", lambda g, lang: dict(first="1", last=g[0], year=g[1])),
        (rf"first\s+(?:three|3)\s+quarters{of_year}", lambda g, lang: dict(first="1", last="9", year=g[0])),
        (rf"first\s+(?:two|2)\s+quarters{of_year}", lambda g, lang: dict(first="1", last="6", year=g[0])),
        (rf"(?:first|1st)\s+quarter{of_year}|\bq1(?:\s+(?:of\s+)?{_YEAR})?",
         lambda g, lang: dict(quarter="1", year=g[0] or g[1])),
        (rf"(?:second|2nd)\s+quarter{of_year}|\bq2(?:\s+(?:of\s+)?{_YEAR})?",
         lambda g, lang: dict(quarter="2", year=g[0] or g[1])),
        (rf"(?:third|3rd)\s+quarter{of_year}|\bq3(?:\s+(?:of\s+)?{_YEAR})?",
         lambda g, lang: dict(quarter="3", year=g[0] or g[1])),
        (rf"(?:fourth|4th)\s+quarter{of_year}|\bq4(?:\s+(?:of\s+)?{_YEAR})?",
         lambda g, lang: dict(quarter="4", year=g[0] or g[1])),
        (rf"(?:first\s+half|\bh1\b){of_year}", lambda g, lang: dict(first="1", last="6", year=g[0])),
        (rf"(?:second\s+half|\bh2\b){of_year}", lambda g, lang: dict(first="7", last="12", year=g[0])),
        # in November (2023) / November alone; not a date ("Dec. 20")
        (rf"(?:in|during|for|of)\s+{mo}(?:\.?\s+(?:of\s+)?{_YEAR})?(?![a-z]*\.?\s*\d)(?:\s+alone)?",
         lambda g, lang: dict(first_name=g[0], last_name=g[0], year=g[1])),
        (rf"{mo}\s+alone", lambda g, lang: dict(first_name=g[0], last_name=g[0])),
        (rf"(?:whole|full|entire)\s+year(?:\s+(?:of\s+)?{_YEAR})?", lambda g, lang: dict(year=g[0])),
        (rf"(?:in|for|during|throughout|of|over)\s+(?:the\s+(?:whole\s+|full\s+)?year\s+)?{_YEAR}(?![-–]\d)",
         lambda g, lang: dict(year=g[0])),
        (rf"(?:^|(?<=\s)){_YEAR}(?:'s)?\s+(?=(?:total|foreign|trade|imports|exports))", lambda g, lang: dict(year=g[0])),
        (r"last\s+year|the\s+previous\s+year", lambda g, lang: dict(relative="-1")),
    ]


# German and Russian print the same eight phrases (a range of months, the first N months, the first
# three quarters, the first quarter, the first half, one month, a year, last year): their words.
_INFLECTED = {
    "de": dict(range=r"(?:von\s+|zwischen\s+|im\s+zeitraum\s+(?:von\s+)?)?", to=r"(?:bis|-|–|und)",
               year_word="", first=r"ersten", months=r"monate?n?", three_quarters=r"ersten\s+drei\s+quartale?n?",
               quarter=r"ersten\s+quartal", half=r"ersten\s+halbjahr", month=r"(?:im\s+)?(?:monat\s+)?",
               year=r"(?:im\s+jahr(?:e)?|jahr)", year_after="",
               last_year=r"im\s+vergangenen\s+jahr|im\s+letzten\s+jahr",
               of_year=rf"(?:\s+(?:des\s+jahres\s+)?{_YEAR}|\s+(?:dieses|des\s+laufenden)\s+jahres|\s+des\s+jahres)?"),
    "ru": dict(range=r"(?:в\s+)?", to=r"[-–—]",
               year_word=r"\s+года", first=r"(?:за\s+)?первые", months=r"месяц\w*",
               three_quarters=r"(?:за\s+)?(?:первые\s+)?три\s+квартала",
               quarter=r"перв\w+\s+квартал\w*", half=r"перв\w+\s+полугоди\w*", month=r"в\s+",
               year=r"(?:в|по итогам|за)", year_after=r"\s+год\w*",
               last_year=r"в\s+прошлом\s+году",
               of_year=rf"(?:\s+{_YEAR}\s+года|\s+(?:этого|текущего|нынешнего)\s+года)?"),
}


def _inflected_patterns(language: str) -> list[tuple[str, Reader]]:
    mo = _month_regex(language)
    n = _number_word(language)
    w = _INFLECTED[language]
    of_year = w["of_year"]
    printed_year = rf"(?:\s+{_YEAR}{w['year_word']})?"
    return [
        (rf"{w['range']}{mo}\s*{w['to']}\s*{mo}{printed_year}",
         lambda g, lang: dict(first_name=g[0], last_name=g[1], year=g[2])),
        (rf"{w['first']}\s+{n}\s+{w['months']}{of_year}", lambda g, lang: dict(first="1", last=g[0], year=g[1])),
        (rf"{w['three_quarters']}{of_year}", lambda g, lang: dict(first="1", last="9", year=g[0])),
        (rf"{w['quarter']}{of_year}", lambda g, lang: dict(quarter="1", year=g[0])),
        (rf"{w['half']}{of_year}", lambda g, lang: dict(first="1", last="6", year=g[0])),
        (rf"{w['month']}{mo}{printed_year}(?!\s*\d)", lambda g, lang: dict(first_name=g[0], last_name=g[0], year=g[1])),
        (rf"{w['year']}\s+{_YEAR}{w['year_after']}", lambda g, lang: dict(year=g[0])),
        (w["last_year"], lambda g, lang: dict(relative="-1")),
    ]


def _romance_patterns(language: str) -> list[tuple[str, Reader]]:
    mo = _month_regex(language)
    n = _number_word(language)
    words = {
        "fr": dict(first=r"(?:premiers|première)", months=r"mois", quarter=r"premier\s+trimestre",
                   half=r"premier\s+semestre", range=r"(?:de\s+|entre\s+)?", to=r"(?:à|et|-)", yr=r"en"),
        "es": dict(first=r"primeros", months=r"meses", quarter=r"primer\s+trimestre", half=r"primer\s+semestre",
                   range=r"(?:de\s+|entre\s+)?", to=r"(?:a|y|-)", yr=r"en"),
        "pt": dict(first=r"primeiros", months=r"meses", quarter=r"primeiro\s+trimestre",
                   half=r"primeiro\s+semestre", range=r"(?:de\s+|entre\s+)?", to=r"(?:a|e|-)", yr=r"em"),
        "it": dict(first=r"primi", months=r"mesi", quarter=r"primo\s+trimestre", half=r"primo\s+semestre",
                   range=r"(?:da\s+|tra\s+)?", to=r"(?:a|e|-)", yr=r"nel"),
    }[language]
    of_year = rf"(?:\s+(?:de|do|del|di|dell'anno)?\s*{_YEAR})?"
    return [
        (rf"{words['range']}{mo}\s*{words['to']}\s*{mo}{of_year}",
         lambda g, lang: dict(first_name=g[0], last_name=g[1], year=g[2])),
        (rf"{n}\s+{words['first']}\s+{words['months']}{of_year}|{words['first']}\s+{n}\s+{words['months']}{of_year}",
         lambda g, lang: dict(first="1", last=g[0] or g[2], year=g[1] or g[3])),
        (rf"{words['quarter']}{of_year}", lambda g, lang: dict(quarter="1", year=g[0])),
        (rf"{words['half']}{of_year}", lambda g, lang: dict(first="1", last="6", year=g[0])),
        (rf"\b{words['yr']}\s+{_YEAR}\b", lambda g, lang: dict(year=g[0])),
    ]


def _patterns(language: str) -> list[tuple[re.Pattern[str], Reader]]:
    if language == "zh":
        raw = _zh_patterns()
    elif language in _INFLECTED:
        raw = _inflected_patterns(language)
    elif language in ("fr", "es", "pt", "it"):
        raw = _romance_patterns(language)
    else:
        raw = _en_patterns("en")
    return [(re.compile(p, re.IGNORECASE), fn) for p, fn in raw]


_CACHE: dict[str, list[tuple[re.Pattern[str], Reader]]] = {}


def _compiled(language: str) -> list[tuple[re.Pattern[str], Reader]]:
    if language not in _CACHE:
        _CACHE[language] = _patterns(language)
    return _CACHE[language]


def _comparison_spans(text: str, language: str) -> list[tuple[int, int]]:
    """Spans naming the base of a comparison (比上年同期, 较2019年同期, 'compared with 2019',
    'the same period last year'): periods inside them are not periods of a figure."""
    pats = [r"(?:比|较|与)(?:\d{4}年|上年|去年|上年度)?(?:同期|同月)?",
            r"(?:上年|去年)同期", r"同比",
            r"(?:from|than|over|on|compared with|compared to|against)\s+(?:the\s+same\s+(?:period|month)\s+"
            r"(?:of|in)\s+)?(?:\d{4}|last\s+year|the\s+previous\s+year|a\s+year\s+(?:earlier|ago))",
            r"(?:the\s+)?same\s+(?:period|month)\s+(?:of\s+|in\s+)?(?:last\s+year|\d{4}|the\s+previous\s+year)",
            r"year[- ]on[- ]year", r"from\s+a\s+year\s+(?:earlier|ago)",
            r"gegenüber\s+dem\s+vorjahr\w*|im\s+vergleich\s+zum\s+vorjahr\w*|als\s+im\s+vorjahr\w*|vorjahreszeitraum",
            r"по\s+сравнению\s+с\s+(?:тем\s+же\s+периодом\s+)?(?:прошлого|предыдущего)\s+года",
            r"(?:que|par rapport à|en comparación con|em relação a|rispetto a)\s+(?:la\s+même\s+période\s+de\s+|"
            r"el\s+mismo\s+período\s+de\s+|o\s+mesmo\s+período\s+de\s+|lo\s+stesso\s+periodo\s+del?\s+)?"
            r"(?:l'année\s+dernière|l'an\s+dernier|\d{4}|el\s+año\s+pasado|o\s+ano\s+passado|l'anno\s+scorso)"]
    out = []
    for p in pats:
        for m in re.finditer(p, text, re.IGNORECASE):
            out.append(m.span())
    return out


def find_periods(text: str, language: str) -> list[PeriodPhrase]:
    """Every period phrase in `text` (normalised: simplified characters, ASCII digits), left to right,
    without overlaps (the longest phrase wins)."""
    found: list[tuple[int, int, re.Match[str], Reader]] = []
    for rx, fn in _compiled(language):
        for m in rx.finditer(text):
            if m.end() > m.start():
                found.append((m.start(), m.end(), m, fn))
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    taken: list[PeriodPhrase] = []
    last_end = -1
    comparisons = _comparison_spans(text, language)
    for start, end, m, fn in found:
        if start < last_end:
            continue
        groups: list[str | None] = list(m.groups())
        try:
            spec = fn(groups, language)
            phrase = _phrase(start, end, m.group(0), spec, language)
        except ValueError:
            continue
        if any(cs <= start and end <= ce + 2 for cs, ce in comparisons) or \
                any(cs <= start < ce for cs, ce in comparisons) or \
                re.search(r"(?:比|较|与|than|compared\s+(?:with|to)|over|from)\s*(?:the\s+)?$", text[:start], re.IGNORECASE):
            phrase = PeriodPhrase(**{**phrase.__dict__, "comparison": True})
        taken.append(phrase)
        last_end = end
    for rx_text, first, last in lx.NAMED_SPANS:
        for m in re.finditer(rx_text, text, re.IGNORECASE):
            if not any(p.start <= m.start() < p.end for p in taken):
                taken.append(PeriodPhrase(m.start(), m.end(), m.group(0), years=(first, last)))
    for rx_text, reason in lx.VAGUE_PERIODS:
        for m in re.finditer(rx_text, text, re.IGNORECASE):
            if not any(p.start <= m.start() < p.end for p in taken):
                taken.append(PeriodPhrase(m.start(), m.end(), m.group(0), vague=reason))
    for rx_text, back in lx.RELATIVE_YEARS.get(language, []):
        for m in re.finditer(rx_text, text, re.IGNORECASE):
            inside = [p for p in taken if p.start <= m.start() < p.end or m.start() <= p.start < m.end()
                      or ((0 <= m.start() - p.end <= 6 or 0 <= p.start - m.end() <= 2) and p.year is None and p.relative is None
                          and p.years is None and p.vague is None)]
            if inside:
                # 'first 11 months of this year', '今年前11个月': the relative year belongs to the phrase
                for p in inside:
                    if p.year is None and p.relative is None:
                        taken[taken.index(p)] = PeriodPhrase(**{**p.__dict__, "relative": back,
                                                                "start": min(p.start, m.start()),
                                                                "end": max(p.end, m.end())})
                continue
            comparison = any(cs <= m.start() < ce for cs, ce in comparisons)
            if back == 0 and not comparison:
                continue    # 'this year' alone says which year, not which months
            taken.append(PeriodPhrase(m.start(), m.end(), m.group(0), relative=back, comparison=comparison))
    return sorted(taken, key=lambda p: p.start)


def _printed(spec: Spec, key: str) -> str:
    """A part the phrase's pattern always matches when it names it (a ValueError otherwise: no phrase)."""
    value = spec[key]
    if value is None:
        raise ValueError(f"the phrase has no {key}")
    return value


def _phrase(start: int, end: int, text: str, spec: Spec, language: str) -> PeriodPhrase:
    year_text, relative_text = spec.get("year"), spec.get("relative")
    year = int(year_text) if year_text else None
    relative = int(relative_text) if relative_text else None
    if "quarter" in spec:
        q = int(parse_any(_printed(spec, "quarter"), language))
        first, last = 3 * q - 2, 3 * q
    elif "first_name" in spec:
        first, last = _which_month(_printed(spec, "first_name"), language), _which_month(_printed(spec, "last_name"), language)
    elif "first" in spec:
        first, last = _month_number(_printed(spec, "first"), language), _month_number(_printed(spec, "last"), language)
    else:
        first, last = 1, 12
    if not (1 <= first <= last <= 12):
        raise ValueError(f"months {first}-{last}")
    return PeriodPhrase(start, end, text, first=first, last=last, year=year, relative=relative)


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def resolve(phrase: PeriodPhrase, published: dt.date, context_year: int | None = None) -> Resolved:
    """The months of a phrase, its year from the phrase, the publication date or the context."""
    if phrase.vague:
        raise PeriodUnresolved(phrase.vague)
    if phrase.years:
        a, b = phrase.years
        return Resolved(f"{a:04d}-01", f"{b:04d}-12", "other")
    inferred = ""
    pub_month = _month_index(published.year, published.month)
    if phrase.year is not None:
        year = phrase.year
    elif phrase.relative is not None:
        year = published.year + phrase.relative
        inferred = "year from the publication date ('this year')" if phrase.relative == 0 else \
            "year from the publication date ('last year')"
    elif context_year is not None:
        year = context_year
        inferred = "year from an earlier phrase of the release"
    else:
        year = published.year
        if _month_index(year, phrase.last) >= pub_month:
            year -= 1
        inferred = "year from the publication date (the latest year whose months had ended)"
    start, end = _month_index(year, phrase.first), _month_index(year, phrase.last)
    if end >= pub_month:
        raise PeriodUnresolved(f"{phrase.text!r} read as {base.Period(start, end).label()} ends after the "
                               f"publication date {published.isoformat()}")
    return Resolved(base.format_month(start), base.format_month(end), base.natural_kind(start, end), inferred)
