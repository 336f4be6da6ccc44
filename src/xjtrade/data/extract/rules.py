"""The patterns: a sentence -> figures (value, unit, qualifier, growth, share, gap) with their
subject (entity, flow, partner, segment) and the period phrase that governs them.

A sentence is first cut into tokens: numbers with their unit (amounts, percentages, percentage
points, "N-fold"), then the words of `lexicon.py` (entities, partners, segments, flows, products,
qualifiers, growth, share and gap markers, "respectively").  Figures are then assembled:

* an amount takes the qualifier printed just before it ("超过", "about") and, when it is a
  bracketed conversion right after another amount ("(about 56.1 billion U.S. dollars)"), the
  subject and period of that amount;
* a percentage is a growth rate when a growth word stands next to it in its clause (the sign from
  "下降" / "down"), a share when a share word does ("占", "accounting for"), and a gap to the
  national rate when it is in percentage points after "高于全国" / "outpaced the national average";
* a growth rate belongs to the nearest amount before it in the same part of the sentence with no
  other subject between them, else to the nearest amount after it, else it is a growth-only figure;
* "分别" / "respectively" pairs a list of subjects with a list of values or rates in order;
* the subject of a figure is the nearest entity, partner, segment and flow word before it within
  its part of the sentence (parts are cut at semicolons and "while"), words inside a share's or a
  gap's own phrase not counting ("占新疆外贸总值的55%" names the whole, not the subject).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Required, TypedDict

from xjtrade.data.extract import lexicon as lx
from xjtrade.data.extract.numbers import (CHINESE_NUMERAL, arabic_pattern, chinese_scale,
                                          normalise, parse_any)
from xjtrade.data.extract.sentences import clause_bounds, semicolon_bounds

FLAGS = re.IGNORECASE


class Number(TypedDict, total=False):
    """What a number token printed: its numeral and, for an amount, the words around it (the groups
    of `Lexer.amount`, None where absent)."""

    num: Required[str]
    pre: str | None       # a currency before the number ("US$")
    scale: str | None     # 亿, billion
    more: str | None      # 多 / 余 after it
    cur: str | None       # a currency after it
    weight: str | None
    count: str | None
    other: str | None
    tenths: bool          # 三成: tenths, not percent
    zh: bool              # 增长1.2倍: the growth in multiples, not the multiple
    words: bool           # 翻番, "doubled": a multiple printed as a word (num is the multiple)


@dataclass(frozen=True)
class Token:
    kind: str          # amount, pct, pp, times, entity, partner, segment, flow, product, qualifier, up, down,
                       # share, whole, gap, resp, notyoy, series, nottrade, blocked
    start: int
    end: int
    text: str
    value: str | None = None       # words: the name they stand for ("" for a blocked subject)
    number: Number | None = None   # numbers (amount, pct, pp, times): what they printed

    @property
    def parts(self) -> Number:
        """The printed parts of a number token."""
        if self.number is None:
            raise TypeError(f"a {self.kind} token is not a number: {self.text!r}")
        return self.number


@dataclass
class Figure:
    """One extracted figure before its period and record checks."""

    kind: str                          # money, count, weight, unknown, growth, share, gap
    pos: int                           # where its number starts in the sentence
    value: Decimal | None = None
    unit: str = ""
    qualifier: str = "exact"
    yoy: Decimal | None = None
    yoy_qualifier: str = "exact"       # the word printed before the rate ("doubled": about)
    indicator: str = "trade value"
    entity: str | None = None
    partner: str | None = None
    segment: str | None = None
    flow: str | None = None
    product: bool = False
    conversion_of: int | None = None   # index of the amount this one converts (bracketed dollars)
    notes: list[str] = field(default_factory=list)     # remarks (doubts)
    facts: list[str] = field(default_factory=list)     # how it was read (description)
    low: list[str] = field(default_factory=list)       # reasons for low confidence
    medium: list[str] = field(default_factory=list)    # reasons for medium confidence
    period_pos: int | None = None      # position of the governing period phrase when paired by list


# ---------------------------------------------------------------- tokens

def _alt(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


def _scale_regex(language: str) -> list[tuple[str, int]]:
    if language == "zh":
        return lx.SCALES["zh"]
    return lx.SCALES.get(language, []) + (lx.SCALES["en"] if language != "en" else [])


class Lexer:
    """Compiled patterns for one language."""

    def __init__(self, language: str):
        self.language = language
        num = arabic_pattern(language)
        if language == "zh":
            num = f"(?:{num}|{CHINESE_NUMERAL})"
        self.num = num
        scales = _scale_regex(language)
        self.scales = [(re.compile(p, FLAGS), power) for p, power in scales]
        scale_alt = _alt([p for p, _ in scales])
        cur_alt = _alt([p for p, _ in lx.CURRENCIES])
        pre_alt = _alt([p for p, _ in lx.CURRENCY_PREFIXES])
        count_alt = _alt([p for p, _ in lx.COUNTS])
        weight_alt = _alt([p for p, _ in lx.WEIGHTS])
        sp = r"\s*" if language == "zh" else r"\s?"
        self.amount = re.compile(
            rf"(?P<pre>{pre_alt})?\s?(?P<num>{num})(?:{sp}(?P<scale>{scale_alt}))?(?P<more>多|余)?"
            rf"(?:\s*(?:of\s+|de\s+|di\s+)?(?P<cur>{cur_alt})|{sp}(?P<weight>{weight_alt})|"
            rf"(?:st|nd|rd|th)?\s*(?P<count>{count_alt})"
            rf"|\s*(?P<other>{lx.OTHER_COUNTS}))?", FLAGS)
        words = sorted(lx.NUMBER_WORDS.get(language, {}), key=len, reverse=True) if language != "zh" else []
        pct_num = f"(?:{num}|" + "|".join(rf"\b{re.escape(w)}\b" for w in words) + ")" if words else num
        self.pct = re.compile(rf"(?P<num>{pct_num})\s*-?\s*(?P<unit>{lx.PERCENTAGE_POINTS}|{lx.PERCENT})", FLAGS)
        self.pct_zh = re.compile(r"百分之(?P<num>[零〇一二两三四五六七八九十百点]+)")
        self.tenths = re.compile(r"(?P<num>[一二三四五六七八九]|\d)成")
        self.doubling = [(re.compile(p, FLAGS), n) for p, n in lx.DOUBLING]
        self.times = re.compile(
            rf"(?:(?:增长|增加|扩大)\s*(?P<zh>{num})\s*倍)|(?P<en>{num})\s*-?\s*(?:fold|-fache|fache)\b|"
            rf"в\s+(?P<ru>{num})\s+раза?|(?P<en2>{num})\s+times\b", FLAGS)
        self.words: list[tuple[str, re.Pattern[str], str | None]] = []
        for kind, table in (("entity", lx.ENTITIES), ("partner", lx.PARTNERS), ("segment", lx.SEGMENTS),
                            ("flow", lx.FLOWS), ("qualifier", lx.QUALIFIERS)):
            for p, name in table:
                self.words.append((kind, re.compile(p, FLAGS), name))
        self.words += [("entity", re.compile(p, FLAGS), "") for p in BLOCKED_SUBJECTS]
        for kind, pats in (("product", lx.PRODUCT_WORDS), ("up", lx.GROWTH_UP), ("down", lx.GROWTH_DOWN),
                           ("share", lx.SHARE_WORDS), ("whole", lx.SHARE_OF_TOTAL), ("gap", lx.GAP_NATIONAL),
                           ("notyoy", lx.NOT_YOY), ("series", lx.SERIES_STATEMENTS), ("nottrade", lx.NOT_TRADE)):
            self.words.append((kind, re.compile(_alt(pats), FLAGS), None))
        self.words.append(("resp", re.compile(lx.RESPECTIVELY, FLAGS), None))
        self.words.append(("trains", re.compile(lx.TRAIN_WORDS, FLAGS), None))

    def tokens(self, s: str) -> list[Token]:
        numbers = self._numbers(s)
        masked = list(s)
        for t in numbers:
            for i in range(t.start, t.end):
                masked[i] = "#"
        m_text = "".join(masked)
        words: list[Token] = []
        for kind, rx, name in self.words:
            for m in rx.finditer(m_text):
                if m.end() > m.start():
                    words.append(Token(kind, m.start(), m.end(), m.group(0), name))
        # one subject word per place: the longest match of each kind wins
        words = _no_overlaps(words, by_kind=True)
        shares = [w for w in words if w.kind == "share"]
        words = [w for w in words if not (w.kind in ("up", "down") and
                                          any(x.start <= w.start and w.end <= x.end for x in shares))]
        words = _drop_appositions(words, m_text)
        trains = [m.span() for p, _ in lx.TRAIN_KINDS for m in re.finditer(p, m_text, FLAGS)]
        words = [w for w in words if not (w.kind == "partner" and any(a <= w.start < b for a, b in trains))]
        return sorted(numbers + words, key=lambda t: (t.start, t.end))

    def _numbers(self, s: str) -> list[Token]:
        found: list[Token] = []
        for m in self.pct.finditer(s):
            unit = m.group("unit")
            kind = "pp" if re.fullmatch(lx.PERCENTAGE_POINTS, unit, FLAGS) else "pct"
            found.append(Token(kind, m.start(), m.end(), m.group(0), number={"num": m.group("num")}))
        for m in self.pct_zh.finditer(s):
            found.append(Token("pct", m.start(), m.end(), m.group(0), number={"num": m.group("num")}))
        if self.language == "zh":
            for m in self.tenths.finditer(s):
                found.append(Token("pct", m.start(), m.end(), m.group(0),
                                   number={"num": m.group("num"), "tenths": True}))
        for rx, multiple in self.doubling:     # before the numbered multiples: 增长一倍 is read as a word
            for m in rx.finditer(s):
                more = "多" if s[m.end():m.end() + 1] == "多" else None
                found.append(Token("times", m.start(), m.end() + (1 if more else 0), m.group(0) + (more or ""),
                                   number={"num": str(multiple), "zh": False, "words": True, "more": more}))
        for m in self.times.finditer(s):
            key = next(k for k in ("zh", "en", "ru", "en2") if m.group(k))
            found.append(Token("times", m.start(), m.end(), m.group(0),
                               number={"num": m.group(key), "zh": key == "zh"}))
        for m in self.amount.finditer(s):
            if not m.group("num"):
                continue
            found.append(Token("amount", m.start(), m.end(), m.group(0), number=_amount_number(m)))
        found = _no_overlaps(found, by_kind=False, prefer=("pct", "pp", "times"))
        trains = re.search(r"\bnumber of\b[^.;]*?\btrains?\b|(?:gesamt)?zahl der güterzug\w*|numero di treni", s, FLAGS)
        if trains:
            for i, t in enumerate(found):
                if t.kind != "amount":
                    continue
                g = t.parts
                if t.start > trains.end() and not any(g.get(k) for k in
                        ("scale", "cur", "pre", "weight", "count", "other")) and \
                        re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d{3,}", g["num"]) and not re.fullmatch(r"(?:19|20)\d{2}", g["num"]):
                    found[i] = Token("amount", t.start, t.end, t.text, number={**g, "count": "trains"})
        return [t for t in found if not _is_date_or_year(t, s)]


def _amount_number(m: re.Match[str]) -> Number:
    """The parts of an amount matched by `Lexer.amount`."""
    return {"pre": m.group("pre"), "num": m.group("num"), "scale": m.group("scale"), "more": m.group("more"),
            "cur": m.group("cur"), "weight": m.group("weight"), "count": m.group("count"), "other": m.group("other")}


def _drop_appositions(words: list[Token], s: str) -> list[Token]:
    """Partners listed in apposition to a group ('the five Central Asian nations -- Kazakhstan,
    Kyrgyzstan, ... --', '中亚五国（哈萨克斯坦、…）') explain the group; they are not subjects."""
    out = []
    opened_at = None
    for t in words:
        if t.kind == "partner" and opened_at is not None and t.start >= opened_at:
            gap_close = re.search(r"--|—|[)）]", s[opened_at:t.start])
            if not gap_close:
                continue
            opened_at = None
        if t.kind == "partner":
            after = s[t.end:t.end + 5]
            m = re.match(r"\s*(?:--|—|[(（:：])\s*", after)
            if m:
                opened_at = t.end + m.end()
        out.append(t)
    return out


BLOCKED_SUBJECTS = [
    # parts of the region and bodies whose figures are not the region's (not extracted)
    r"南疆|北疆|地州市?|[0-9一二三四五六七八九十]+个地州|伊犁(?:哈萨克自治)?州|喀什地区|乌鲁木齐市|阿克苏地区?|昌吉州|博州|巴州|"
    r"哈密市?|吐鲁番市?|克拉玛依市?|塔城地区?|阿勒泰地区?|和田地区?|兵团|经济开发区",
    r"southern xinjiang|northern xinjiang|prefectures?|\bcity\b|\bcities\b|economic development zone|"
    r"\bili\b|\baksu\b|changji|corps",
]


def _no_overlaps(tokens: list[Token], by_kind: bool, prefer: tuple[str, ...] = ()) -> list[Token]:
    """Drop tokens overlapping a longer one (of the same kind when `by_kind`); kinds in `prefer`
    win over others at equal places."""
    ranked = sorted(tokens, key=lambda t: (-(t.end - t.start), t.kind not in prefer, t.start))
    kept: list[Token] = []
    for t in ranked:
        clash = [k for k in kept if k.start < t.end and t.start < k.end and (not by_kind or k.kind == t.kind)]
        if not clash:
            kept.append(t)
    return sorted(kept, key=lambda t: t.start)


def _is_date_or_year(t: Token, s: str) -> bool:
    """A bare year ('2023', '2023年'), a day ('23日', 'Dec. 20') or an ordinal is no figure."""
    if t.kind != "amount":
        return False
    g = t.parts
    if g.get("scale") or g.get("cur") or g.get("pre") or g.get("weight") or g.get("count") or g.get("other"):
        return False
    return True


# ---------------------------------------------------------------- numbers -> values

def amount_value(t: Token, language: str, lexer: Lexer) -> tuple[str, Decimal, str, str, list[str]]:
    """(kind, value, unit, indicator, facts) of an amount token: kind is money, count, weight,
    unknown (a scale without a currency: the unit is not known) or other (a count of other things)."""
    g = t.parts
    num = g["num"]
    facts: list[str] = []
    if re.search(r"[一二三四五六七八九十百千万亿零〇两]", num) and not re.search(r"\d", num):
        value, scale = chinese_scale(num)
        power = {Decimal("1e12"): 12, Decimal("1e8"): 8, Decimal("1e4"): 4}.get(scale, 0)
    else:
        value = parse_any(num, language)
        power = 0
    scale_text = g.get("scale") or ""
    if scale_text:
        for rx, p in lexer.scales:
            if rx.fullmatch(scale_text):
                power += p
                break
    if g.get("other"):
        return "other", value, "", "", facts
    if count := g.get("count"):
        indicator = next((ind for p, ind in lx.COUNTS if re.fullmatch(p, count, FLAGS)), "China-Europe freight trains")
        if indicator == "China-Europe freight trains" and not re.search(r"china-europe", count, FLAGS):
            indicator = "trains"   # generic: named from the sentence (train_indicator)
        return "count", normalise(value * (Decimal(10) ** power)) if power else value, "count", indicator, facts
    if weight := g.get("weight"):
        shift = next((f for p, f in lx.WEIGHTS if re.fullmatch(p, weight, FLAGS)), 0)
        # 万吨 is the unit of data/raw; 3933.8 万吨 = 39.338 million tons = 39,338,000 tons
        if power + shift == 0:
            return "weight", value, "10k tons", "cargo weight", facts
        facts.append(f"converted from {t.text.strip()} to ten-thousand tons")
        return "weight", normalise(value * (Decimal(10) ** (power + shift))), "10k tons", "cargo weight", facts
    currency = None
    if cur := g.get("cur"):
        currency = next((c for p, c in lx.CURRENCIES if re.fullmatch(p, cur.strip(), FLAGS)), None)
    if pre := g.get("pre"):
        currency = next((c for p, c in lx.CURRENCY_PREFIXES if re.fullmatch(p, pre.strip(), FLAGS)), currency)
    if currency is None:
        return "unknown", value, "", "trade value", facts
    unit = lx.MONEY_UNITS.get((power, currency))
    if unit is None and currency == "USD" and power == 4:      # 万美元: ten thousand dollars -> millions
        value, unit = normalise(value / 100), "million USD"
        facts.append(f"converted from {t.text.strip()} to million USD")
    if unit is None:
        return "unknown", value, "", "trade value", facts
    return "money", value, unit, "trade value", facts


def pct_value(t: Token, language: str) -> Decimal:
    g = t.parts
    word = lx.NUMBER_WORDS.get(language, {}).get(g["num"].lower())
    v = Decimal(word) if word is not None else parse_any(g["num"], language)
    if g.get("tenths"):
        v = v * 10
    return v


def times_value(t: Token, language: str) -> Decimal:
    """Growth in percent of an 'N-fold' statement: 增长1.2倍 is +120 %; '11.6-fold', 'в 11,6 раза'
    and 'um das 3,26-Fache' are N times the base, +(N-1)*100 %."""
    g = t.parts
    v = parse_any(g["num"], language)
    return normalise(v * 100) if g["zh"] else normalise((v - 1) * 100)


# ---------------------------------------------------------------- sentence -> figures

@dataclass
class Subject:
    entity: str | None = None
    partner: str | None = None
    segment: str | None = None
    flow: str | None = None
    product: bool = False
    blocked: str = ""


def _excluded_spans(tokens: list[Token], s: str) -> list[tuple[int, int]]:
    """Phrases whose words never name a figure's subject: a share's whole ('占新疆外贸总值的55%',
    'accounting for 55 percent of the region's total') and a gap's benchmark ('高于全国增速')."""
    spans = []
    pcts = [t for t in tokens if t.kind in ("pct", "pp")]
    for t in tokens:
        if t.kind in ("share", "gap"):
            nxt = next((p for p in pcts if p.start >= t.end), None)
            end = nxt.end if nxt is not None and nxt.start - t.end <= 40 else t.end
            # English and German name the whole after the number: 'of the region's total ...'
            tail = re.match(r"[^,，;；.。]*", s[end:])
            if tail and re.match(r"\s*(?:of|des|от|de|du|del|da|dos)\b", tail.group(0), FLAGS):
                end += tail.end()
            spans.append((t.start, end))
    for m in re.finditer(r"(?:比|较|与)[^，,；;。]{0,20}同期|than (?:the )?(?:national|country)[^,;.]*", s, FLAGS):
        spans.append(m.span())
    return spans


def _inside(t: Token, spans) -> bool:
    return any(a <= t.start and t.end <= b for a, b in spans)


def subject_before(tokens: list[Token], pos: int, lo: int, excluded) -> Subject:
    """The nearest entity, partner, segment, flow and product words before `pos` from `lo` on."""
    sub = Subject()
    for t in sorted((t for t in tokens if lo <= t.start < pos and not _inside(t, excluded)),
                    key=lambda t: -t.start):
        if t.kind == "entity" and sub.entity is None:
            sub.entity = t.value
            if t.value == "":
                sub.blocked = t.text
        elif t.kind == "partner" and sub.partner is None:
            sub.partner = t.value
        elif t.kind == "segment" and sub.segment is None:
            sub.segment = t.value
        elif t.kind == "flow" and sub.flow is None:
            sub.flow = t.value
            generic = t.value == "total" and re.fullmatch(r"贸易额|贸易值|trade value", t.text, FLAGS)
            if generic:
                # '进口货物九万多吨，贸易额一点零四亿元': a specific flow before the generic word governs
                specific = [x for x in tokens if x.kind == "flow" and x.value != "total" and lo <= x.start < t.start
                            and not _inside(x, excluded)]
                if specific:
                    sub.flow = specific[-1].value
        elif t.kind == "product":
            sub.product = True
    return sub


def _growth_sign(tokens: list[Token], pct: Token, clause: tuple[int, int]) -> int | None:
    """+1 / -1 when a growth word stands next to `pct` in its clause (before it, or right after it:
    'a 29.5 percent increase', '29 Prozent mehr'), None when none does."""
    a, b = clause
    before = [t for t in tokens if t.kind in ("up", "down") and a <= t.start and t.end <= pct.start]
    after = [t for t in tokens if t.kind in ("up", "down") and pct.end <= t.start < min(b, pct.end + 30)]
    share_before = [t for t in tokens if t.kind == "share" and a <= t.start and t.end <= pct.start]
    if share_before and (not before or share_before[-1].start > before[-1].start):
        return None
    pick = before[-1] if before else (after[0] if after else None)
    if pick is None:
        return None
    return -1 if pick.kind == "down" else 1


def _clause_of(pos: int, clauses) -> tuple[int, int]:
    return next(((a, b) for a, b in clauses if a <= pos < b), (0, 0))


BASE_YEAR = re.compile(r"(?:同比|比|较|与)\s*((?:19|20)\d{2})\s*年(?:同期)?的?|"
                       r"(?:than|from|over|on|compared\s+(?:with|to)|against)\s+(?:the\s+same\s+(?:period|month)\s+"
                       r"(?:of|in)\s+)?((?:19|20)\d{2})\b(?!\s*(?:to|-))", FLAGS)


def base_year(text: str) -> int | None:
    """The year a growth rate is measured against when the text names one ('比2019年同期增长',
    'up 6.3 percent compared to 2024')."""
    m = BASE_YEAR.search(text)
    return int(m.group(1) or m.group(2)) if m else None


def figures_in(s: str, language: str, lexer: Lexer) -> tuple[list[Figure], list[Token]]:
    """All figures of one normalised sentence, with their subjects (where the sentence names them)."""
    tokens = lexer.tokens(s)
    clauses = clause_bounds(s)
    parts = semicolon_bounds(s)
    excluded = _excluded_spans(tokens, s)
    figs: list[Figure] = []
    amounts: list[Figure] = []
    amount_tokens: list[Token] = []
    series = [t for t in tokens if t.kind == "series"]
    for t in tokens:
        if t.kind != "amount":
            continue
        try:
            kind, value, unit, indicator, facts = amount_value(t, language, lexer)
        except ValueError:
            continue
        fig = Figure(kind=kind, pos=t.start, value=value, unit=unit, indicator=indicator, facts=facts)
        fig.__dict__["_token"] = t
        m = re.search(r"(?:同比|比|较)\s*((?:19|20)\d{2})\s*年的?\s*$", s[max(0, t.start - 12):t.start])
        if m:
            fig.__dict__["_base_year"] = int(m.group(1))     # the base of a comparison, printed beside it
        q = _qualifier(tokens, t, s)
        if q:
            fig.qualifier = q
        elif t.parts.get("more"):
            fig.qualifier = "over"      # 一百零八万多吨, 八十六亿多美元
        clause = _clause_of(t.start, clauses)
        if any(clause[0] <= x.start < clause[1] for x in series):
            fig.kind = "other"     # "over 50 billion a month for four months": not one period's figure
        prev = amounts[-1] if amounts else None
        if prev is not None and re.fullmatch(r"\s*[（(/]\s*(?:(?:about|around|approximately|约合?|约|合|约为|"
                                             r"etwa|rund|около|environ|alrededor de|cerca de|circa|или)\s*)?",
                                             s[amount_tokens[-1].end:t.start], FLAGS):
            fig.conversion_of = len(amounts) - 1
        amounts.append(fig)
        amount_tokens.append(t)
    # percentages
    rates: list[tuple[Token, str, Decimal]] = []   # (token, kind, value)
    for t in tokens:
        clause = _clause_of(t.start, clauses)
        try:
            _ = pct_value(t, language) if t.kind in ("pct", "pp") else None
        except ValueError:
            continue
        if t.kind == "times":
            rates.append((t, "growth", times_value(t, language)))
        elif t.kind == "pp":
            gaps = [g for g in tokens if g.kind == "gap" and clause[0] <= g.start < clause[1]]
            if gaps:
                rates.append((t, "gap", pct_value(t, language)))
        elif t.kind == "pct":
            v = pct_value(t, language)
            share = [x for x in tokens if x.kind == "share" and clause[0] <= x.start and x.end <= t.start]
            whole_after = re.match(r"\s*(?:of|des|от|de|du|del|da|dos)\s+(?:the\s+|des\s+)?", s[t.end:], FLAGS) and \
                re.match(r"\s*(?:of|des|от|de|du|del|da|dos)\s+" + "(?:" + _alt(lx.SHARE_OF_TOTAL) + ")", s[t.end:], FLAGS)
            sign = _growth_sign(tokens, t, clause)
            up_before = [x for x in tokens if x.kind in ("up", "down") and clause[0] <= x.start and x.end <= t.start]
            if share and (not up_before or share[-1].start > up_before[-1].start):
                rates.append((t, "share", v))
            elif whole_after and sign is None:
                rates.append((t, "share", v))
            elif sign is None and re.search(r"(?:^|[\s(（])[+＋]$", s[max(0, t.start - 2):t.start]):
                rates.append((t, "growth", v))          # '(+98.5%)'
            elif sign is not None:
                notyoy = [x for x in tokens if x.kind == "notyoy" and clause[0] <= x.start < clause[1]]
                if notyoy:
                    continue
                rates.append((t, "growth", v * sign))
    # "respectively": lists paired in order
    paired = _respectively(tokens, s, parts, amounts, amount_tokens, rates, excluded, language)
    # growth rates -> amounts
    growth_of: dict[int, tuple[Token, Decimal]] = {}
    for t, kind, v in rates:
        if kind != "growth" or id(t) in paired:
            continue
        part = _clause_of(t.start, parts)
        idx = _attach(t, part, amounts, amount_tokens, tokens, growth_of, excluded)
        clause = _clause_of(t.start, clauses)
        by = base_year(s[clause[0]:clause[1]])
        if idx is not None:
            growth_of[idx] = (t, v)
            amounts[idx].yoy = v
            if by:
                amounts[idx].__dict__["_yoy_base"] = by
            if t.kind == "times":
                amounts[idx].facts.append(f"growth printed as {t.text.strip()}")
                amounts[idx].medium.append(f"growth printed as {t.text.strip()}")
            if t.kind == "pct" and t.parts.get("tenths"):
                amounts[idx].medium.append(f"growth printed as {t.text.strip()}")
            qual = _qualifier(tokens, t, s)
            if qual:
                amounts[idx].facts.append(f"growth printed as {qual} {t.text.strip()}")
                amounts[idx].medium.append(f"growth is a bound ({qual} {t.text.strip()})")
            amounts[idx].yoy_qualifier = _rate_qualifier(t, qual)
        else:
            fig = Figure(kind="growth", pos=t.start, yoy=v)
            if by:
                fig.__dict__["_yoy_base"] = by
            if t.kind == "times":
                fig.medium.append(f"growth printed as {t.text.strip()}")
            qual = _qualifier(tokens, t, s)
            if qual:
                fig.facts.append(f"growth printed as {qual} {t.text.strip()}")
                fig.medium.append(f"growth is a bound ({qual} {t.text.strip()})")
            fig.yoy_qualifier = _rate_qualifier(t, qual)
            figs.append(fig)
    for t, kind, v in rates:
        if id(t) in paired:
            continue
        if kind == "share":
            fig = Figure(kind="share", pos=t.start, value=v, unit="percent", indicator="share of world total")
            q = _qualifier(tokens, t, s)
            if q:
                fig.qualifier = q
            fig.__dict__["_whole"] = _share_whole(tokens, t, s)
            figs.append(fig)
        elif kind == "gap":
            fig = Figure(kind="gap", pos=t.start, value=v, unit="percentage points",
                         indicator="growth gap to national rate")
            q = _qualifier(tokens, t, s)
            if q:
                fig.qualifier = q
            figs.append(fig)
    figs += [f for f in paired.values() if isinstance(f, Figure)]
    figs += amounts
    # subjects
    for f in figs:
        part = _clause_of(f.pos, parts)
        if f.conversion_of is not None:
            continue
        sub = subject_before(tokens, f.pos, part[0], excluded)
        listed = f.__dict__.get("_listed")
        if listed:
            setattr(sub, listed[0], listed[1])
        if sub.partner is None and sub.segment is None and sub.entity is None and part[0] > 0:
            # a part without a subject of its own continues the one before ('民营企业达4252家；进出口值…')
            earlier = subject_before(tokens, part[0], 0, excluded)
            sub.partner, sub.segment = earlier.partner, earlier.segment
            sub.entity = earlier.entity if earlier.entity else None
        if sub.entity is None and f.kind in ("count", "weight"):
            # '4,691 trains passed through the Alashankou and Khorgos ports': the place after the count
            after = [t for t in tokens if t.kind == "entity" and f.pos < t.start < part[1] and t.value
                     and not _inside(t, excluded)]
            if after:
                sub.entity = after[0].value
        f.entity = f.entity or sub.entity
        f.partner = f.partner or sub.partner
        f.segment = f.segment or sub.segment
        f.flow = f.flow or sub.flow
        f.product = f.product or sub.product
        if sub.blocked and f.entity == "":
            f.__dict__["_blocked"] = sub.blocked
    for f in amounts:
        if f.conversion_of is not None:
            src = amounts[f.conversion_of]
            for attr in ("entity", "partner", "segment", "flow", "product"):
                setattr(f, attr, getattr(src, attr))
            f.pos = src.pos
            f.yoy = src.yoy
            f.yoy_qualifier = src.yoy_qualifier
            f.__dict__["_converts"] = src
    for f in amounts:
        if f.indicator == "trains":
            f.indicator = train_indicator(s)
    trains = any(t.kind == "trains" for t in tokens)
    for f in figs:
        if f.kind == "growth" and trains and not any(t.kind == "flow" and t.start < f.pos for t in tokens):
            f.indicator = train_indicator(s)
    return figs, tokens


TRAINS_UNNAMED = "trains (kind not named in the sentence)"


def train_indicator(s: str, default: str = TRAINS_UNNAMED) -> str:
    """Which trains a text counts (China-Europe, China-Central Asia, or both), `default` when it
    does not say (the release's first named kind is used then, else China-Europe)."""
    return next((ind for p, ind in lx.TRAIN_KINDS if re.search(p, s, FLAGS)), default)


def _qualifier(tokens: list[Token], t: Token, s: str) -> str | None:
    """The qualifier printed just before a number (at most a few characters between), or 以上 / 左右
    right after it."""
    before = [q for q in tokens if q.kind == "qualifier" and q.end <= t.start and t.start - q.end <= 12
              and not re.search(r"[，,；;。]", s[q.end:t.start])]
    if before:
        q = before[-1]
        gap = s[q.end:t.start]
        if re.fullmatch(r"\s*(?:(?:the|a|an|record|historic|达|到|至|为|了|值|额|总值|of|to|by|reach(?:ed|ing)?|"
                        r"von|um|на|de|à|a)\s*)*", gap, FLAGS):
            return q.value
    after = [q for q in tokens if q.kind == "qualifier" and 0 <= q.start - t.end <= 1 and q.text in ("以上", "左右")]
    if after:
        return after[0].value
    return None


def _rate_qualifier(t: Token, printed: str | None) -> str:
    """The qualifier of a growth rate: the word printed before it ("more than 42 percent": over;
    "nearly doubled": nearly), else over for 翻了一番多, about for a multiple printed as a word
    ("doubled", 翻番: about 100 %), else exact."""
    if printed:
        return printed
    if t.kind == "times" and t.parts.get("words"):
        return "over" if t.parts.get("more") else "about"
    return "exact"


def _attach(t: Token, part, amounts, amount_tokens, tokens, taken, excluded) -> int | None:
    """The amount a growth rate belongs to (see the module doc), or None."""
    subjects = ("entity", "partner", "segment", "flow")
    lo, hi = part

    def blocked(a: int, b: int, kind: str = "") -> bool:
        kinds = {"count": ("partner", "segment", "flow"), "weight": ("partner", "segment", "flow"),
                 "other": ("partner", "segment", "entity")}.get(kind, subjects)
        return any(x.kind in kinds and a <= x.start and x.end <= b and not _inside(x, excluded) for x in tokens)

    def other_rate_between(a: int, b: int) -> bool:
        return any(x.kind in ("pct", "times") and a <= x.start and x.end <= b and x is not t for x in tokens
                   if not _inside(x, excluded))

    for i in range(len(amounts) - 1, -1, -1):
        at = amount_tokens[i]
        if at.end <= t.start and at.start >= lo and amounts[i].conversion_of is None and i not in taken \
                and "_base_year" not in amounts[i].__dict__ \
                and amounts[i].kind in ("money", "count", "weight", "unknown", "other") \
                and not blocked(at.end, t.start, amounts[i].kind) and not other_rate_between(at.end, t.start):
            return i
    for i, at in enumerate(amount_tokens):
        if at.start >= t.end and at.end <= hi and amounts[i].conversion_of is None and i not in taken \
                and "_base_year" not in amounts[i].__dict__ \
                and amounts[i].kind in ("money", "count", "weight", "unknown", "other") \
                and not blocked(t.end, at.start, amounts[i].kind) and not other_rate_between(t.end, at.start):
            return i
    return None


def _share_whole(tokens: list[Token], t: Token, s: str) -> str:
    """What a share is a share of: 'total' (the entity's trade with the world), 'partner' (a
    partner's trade: not a share of the world total), or '' when the sentence does not say."""
    share_tok = [x for x in tokens if x.kind == "share" and x.end <= t.start and t.start - x.end <= 40]
    lo = share_tok[-1].end if share_tok else t.start
    tail = re.split(r"[,，;；.。]", s[t.end:], maxsplit=1)[0]   # up to the end of the clause
    if re.search(r"[\u4e00-\u9fff]", s[lo:t.start]):
        window = s[lo:t.start]      # 占 … 的 55%: the whole is named between
    else:                           # accounting for 55 percent of …: the whole is named after
        window = tail if re.match(r"\s*(?:of|des|от|de|du|del|da|dos)\b", tail, FLAGS) else ""
    if re.search(_alt([p for p, _ in lx.PARTNERS]), window, FLAGS):
        return "partner"
    if re.search(r"全国|national|china's", window, FLAGS):
        return "national"
    if re.search(_alt(lx.SHARE_OF_TOTAL), window, FLAGS):
        return "total"
    return ""


def _respectively(tokens, s, parts, amounts, amount_tokens, rates, excluded, language) -> dict:
    """Pair 'A、B、C … 分别增长 x%、y%、z%' (and the English 'x, y and z percent, respectively'):
    the subjects listed before, in order, with the rates or values listed after.  Returns
    {id(token): Figure or True} for every rate or amount consumed."""
    out: dict = {}
    for resp in [t for t in tokens if t.kind == "resp"]:
        part = _clause_of(resp.start, parts)
        if re.match(r"分别", resp.text):
            # '保税物流、加工贸易、对外承包出口…分别达104.7亿元、14.6亿元、8.3亿元，增长153.2%、41.9%、157.3%'
            run = _amount_list(s, amounts, amount_tokens, resp.end, part[1])
            if len(run) >= 2:
                subs = _subject_list(tokens, s, part[0], resp.start, excluded)
                if subs is not None and len(subs[1]) == len(run):
                    for i, name in zip(run, subs[1]):
                        amounts[i].__dict__["_listed"] = (subs[0], name)
                after = _list_after(s, tokens, rates, amount_tokens[run[-1]].end, part[1], language)
                if len(after) == len(run) and all(what == "growth" for _, what, _ in after):
                    for (tok, _, v), i in zip(after, run):
                        amounts[i].yoy = v
                        amounts[i].facts.append("growth paired by '分别'")
                        out[id(tok)] = True
                continue
        # the list after 分别 (Chinese) or before 'respectively' (other languages)
        if re.match(r"分别", resp.text):
            lst_lo, lst_hi = resp.end, part[1]
        else:
            lst_lo, lst_hi = part[0], resp.start
        lst = [x for x in _list_after(s, tokens, rates, lst_lo, lst_hi, language) if id(x[0]) not in out]
        if len(lst) < 2:
            continue
        if re.match(r"分别", resp.text) and any(resp.end <= at.start < lst[0][0].start for at in amount_tokens):
            continue    # '分别为A、B、C，分别增长x、y、z': the second 分别 pairs the rates with the values
        first_pos = lst[0][0].start
        listed = [i for i, at in enumerate(amount_tokens) if part[0] <= at.start < first_pos
                  and amounts[i].conversion_of is None and amounts[i].yoy is None]
        if len(listed) >= len(lst) and all(amounts[i].kind != "other" for i in listed[-len(lst):]) and \
                all(what == "growth" for _, what, _ in lst):
            for (tok, _, v), i in zip(lst, listed[-len(lst):]):
                amounts[i].yoy = v
                amounts[i].facts.append("growth paired by 'respectively'")
                out[id(tok)] = True
            # the amounts themselves may be a list of subjects' values: name them in order
            subs = _subject_list(tokens, s, part[0], amount_tokens[listed[-len(lst)]].start, excluded)
            if subs is not None and len(subs[1]) == len(lst):
                for i, name in zip(listed[-len(lst):], subs[1]):
                    amounts[i].__dict__["_listed"] = (subs[0], name)
            continue
        subs = _subject_list(tokens, s, part[0], first_pos if not re.match(r"分别", resp.text) else resp.start,
                             excluded)
        years = re.search(r"(?:over|in|during) the (?:past|last) (two|three|four|\d) years", s[part[0]:part[1]], FLAGS)
        n_years = (lx.NUMBER_WORDS["en"].get(years.group(1).lower()) or int(years.group(1))) if years else 0
        if (subs is None or len(subs[1]) != len(lst)) and n_years == len(lst) and \
                all(what == "growth" for _, what, _ in lst):
            for i, (tok, _, v) in enumerate(lst):
                fig = Figure(kind="growth", pos=tok.start, yoy=v)
                fig.__dict__["_years_back"] = n_years - i     # the first rate is the earliest year
                fig.facts.append("paired with the years by 'respectively'")
                out[id(tok)] = fig
            continue
        if subs is None or len(subs[1]) != len(lst):
            # the subjects cannot be paired: the rates are left alone rather than guessed
            for tok, _, _ in lst:
                out[id(tok)] = True
            continue
        kind, names = subs
        for (tok, what, v), name in zip(lst, names):
            if what == "growth":
                fig = Figure(kind="growth", pos=tok.start, yoy=v)
            elif what == "share":
                fig = Figure(kind="share", pos=tok.start, value=v, unit="percent", indicator="share of world total")
                fig.__dict__["_whole"] = "total"
            else:
                continue
            setattr(fig, kind, name)
            fig.facts.append("paired by 'respectively'")
            out[id(tok)] = fig
    return out


def _amount_list(s, amounts, amount_tokens, lo, hi) -> list[int]:
    """Indexes of the amounts listed in order from `lo` ('104.7亿元、14.6亿元、8.3亿元')."""
    run: list[int] = []
    for i, at in enumerate(amount_tokens):
        if not (lo <= at.start and at.end <= hi) or amounts[i].conversion_of is not None:
            continue
        if run and not re.fullmatch(r"\s*(?:、|,|，|和|及|and)\s*", s[amount_tokens[run[-1]].end:at.start], FLAGS):
            break
        if not run and not re.fullmatch(r"\s*(?:为|达|达到|是|were|was|of)?\s*", s[lo:at.start], FLAGS):
            break
        run.append(i)
    return run


def _list_after(s, tokens, rates, lo, hi, language):
    """Rates listed in order in [lo, hi) ('增长26.8%、46.8%、15.5%', 'by 70.8 percent, 32.1 percent and
    97.3 percent'): the first is a classified growth or share, the others the percentages that follow
    it joined by list separators (their own clauses need no growth word)."""
    classified = {id(t): (kind, v) for t, kind, v in rates if kind in ("growth", "share")}
    pcts = [t for t in tokens if t.kind in ("pct", "times") and lo <= t.start and t.end <= hi]
    first = next((i for i, t in enumerate(pcts) if id(t) in classified), None)
    if first is None:
        return []
    kind0, v0 = classified[id(pcts[first])]
    sign = -1 if v0 < 0 else 1
    run = [(pcts[first], kind0, v0)]
    for prev, cur in zip(pcts[first:], pcts[first + 1:]):
        gap = s[prev.end:cur.start]
        if not re.fullmatch(r"\s*(?:、|,|，|;|；)?\s*(?:and|und|и|et|y|e|和|以及)?\s*", gap, FLAGS):
            break
        if id(cur) in classified:
            kind, v = classified[id(cur)]
        else:
            try:
                v = (times_value(cur, language) if cur.kind == "times" else pct_value(cur, language)) * \
                    (sign if kind0 == "growth" else 1)
            except ValueError:
                break
        run.append((cur, kind0, v))
    return run


def _subject_list(tokens, s, lo, hi, excluded):
    """The last list of subjects of one kind before `hi` ('哈萨克斯坦、吉尔吉斯斯坦、塔吉克斯坦',
    'Kazakhstan, Kyrgyzstan and Tajikistan', '民营、国有、外资企业'): (kind, names) or None.
    Partners are tried first, then segments, then entities (ports)."""
    for kind in ("partner", "segment", "entity"):
        cands = [t for t in tokens if t.kind == kind and lo <= t.start < hi and not _inside(t, excluded)
                 and (t.value or kind == "entity")]      # a blank entity (pipelines, a prefecture) keeps its place
        if len(cands) < 2:
            continue
        run = [cands[-1]]
        for t in reversed(cands[:-1]):
            gap = s[t.end:run[0].start]
            if re.fullmatch(r"\s*(?:、|,|，|and|und|и|et|y|e|和|与|及)\s*(?:the\s+)?", gap, FLAGS):
                run.insert(0, t)
            else:
                break
        if len(run) >= 2:
            return kind, [t.value for t in run]
    # 民营、国有、外资企业: segment words written as one list
    m = re.search(r"(民营|国有|外资)(?:、(民营|国有|外资))+企业", s[lo:hi])
    if m:
        names = {"民营": "private enterprises", "国有": "state-owned enterprises", "外资": "foreign-invested enterprises"}
        return "segment", [names[x] for x in re.findall(r"民营|国有|外资", m.group(0))]
    return None
