"""A release's text -> candidate rows: sentences, figures, periods, defaults and the merge of
figures a release states twice.

Defaults, in order: the entity is the one named before the figure in its sentence, else (in a
sentence opening with 其中 / "of which") the previous figure's, else the release's own (the first
entity it names, normally Xinjiang); the partner is `World`, the segment `all`, the flow `total`.
The period is the phrase nearest the figure in its clause, else the nearest before it in its
sentence, else the nearest after it, else the previous figure's period (同期, "during the
period"), else the title's.  A figure with none of these is kept with low confidence and the
reason, never given a guessed period.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from xjtrade.data.extract import lexicon as lx
from xjtrade.data.extract.numbers import ascii_digits, format_decimal
from xjtrade.data.extract.periods import PeriodPhrase, PeriodUnresolved, Resolved, find_periods, resolve
from xjtrade.data.extract.rules import TRAINS_UNNAMED, Figure, Lexer, figures_in, train_indicator
from xjtrade.data.extract.sentences import Sentence, clause_bounds, split_sentences
from xjtrade.data.extract.text import Page, to_simplified

REGION = "Xinjiang"


@dataclass
class Candidate:
    entity: str
    flow: str
    partner: str
    product: str
    segment: str
    indicator: str
    period_start: str
    period_end: str
    period_kind: str
    value: str
    unit: str
    qualifier: str
    yoy_pct: str
    evidence: str
    yoy_qualifier: str = ""     # the word before the growth rate, as in data/raw ("" = exact or no rate)
    description: str = ""
    facts: list[str] = field(default_factory=list)
    low: list[str] = field(default_factory=list)
    medium: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    group: int = 0              # figures printed together (a value and its bracketed conversion)
    existing: str = ""          # id of the record row it duplicates (set by the record check)
    same_source: bool = False   # ... from the same source (refused by `data add`)

    @property
    def key(self) -> tuple:
        return (self.entity, self.flow, self.partner, self.product, self.segment, self.indicator,
                self.period_start, self.period_end)

    @property
    def confidence(self) -> str:
        return "low" if self.low else "medium" if self.medium else "high"

    @property
    def remark(self) -> str:
        seen: list[str] = []
        for text in self.low + self.medium + self.notes:
            if text not in seen:
                seen.append(text)
        return "; ".join(seen)


def normalised(text: str, language: str) -> str:
    """The text the rules read: simplified characters (Chinese), ASCII digits; same length."""
    out = ascii_digits(to_simplified(text) if language == "zh" else text)
    return out if len(out) == len(text) else ascii_digits(text)


def _is_title_line(sentence: Sentence, page: Page, index: int) -> bool:
    if index != 0:
        return False
    first = sentence.text.strip()
    if page.title and first == page.title.strip():
        return True
    return not page.html and len(first) <= 120 and not re.search(r"[。.!?！？]$", first)


def default_unit(figs: list[Figure], language: str) -> str:
    for f in figs:
        if f.kind == "money" and f.conversion_of is None:
            return f.unit
    return "100 million yuan" if language == "zh" else "billion yuan"


@dataclass
class _State:
    entity: str = REGION
    last: Candidate | None = None
    last_fig: Figure | None = None
    period: Resolved | None = None
    year: int | None = None
    words: dict | None = None
    at_date: Resolved | None = None     # a date named in a sentence without figures ('Il 18 febbraio ...')


def extract_release(page: Page, published: dt.date, language: str | None = None) -> list[Candidate]:
    """Every figure of a release as a candidate row (before the record check)."""
    lang = language or page.language or "en"
    lexer = Lexer(lang)
    sentences = split_sentences(page.text)
    normals = [normalised(s.text, lang) for s in sentences]
    parsed = [figures_in(n, lang, lexer) for n in normals]
    all_figs = [f for figs, _ in parsed for f in figs]
    unit0 = default_unit(all_figs, lang)
    state = _State()
    title_period = None
    title_norm = normalised(page.title, lang) if page.title else ""
    if title_norm:
        ps = [p for p in find_periods(title_norm, lang) if not p.comparison and not p.vague]
        if ps:
            try:
                title_period = resolve(ps[0], published)
            except PeriodUnresolved:
                title_period = None
        t_tokens = lexer.tokens(title_norm)
        ent = next((t.value for t in t_tokens if t.kind == "entity" and isinstance(t.value, str) and t.value), None)
        if ent:
            state.entity = ent
    else:
        for (_, tokens) in parsed[:3]:
            ent = next((t.value for t in tokens if t.kind == "entity" and isinstance(t.value, str) and t.value),
                       None)
            if ent:
                state.entity = ent
                break
    out: list[Candidate] = []
    for i, (sent, norm, (figs, tokens)) in enumerate(zip(sentences, normals, parsed)):
        if _is_title_line(sent, page, i):
            continue
        phrases = find_periods(norm, lang)
        clauses = clause_bounds(norm)
        continuation = bool(re.match(lx.CONTINUATION, norm.strip(), re.IGNORECASE))
        pronoun = bool(re.match(lx.PRONOUN_START, norm.strip(), re.IGNORECASE)) or \
            bool(re.search(lx.DEMONSTRATIVE_PARTNER, norm, re.IGNORECASE))
        if pronoun and state.words is not None:
            for f in figs:
                first_subject = [t for t in tokens if t.kind in ("partner", "segment") and t.start < f.pos]
                if not first_subject:
                    f.partner = f.partner or state.words.get("partner")
                    f.segment = f.segment or state.words.get("segment")
        # a sentence about trade: a flow word, or at least no word of other matters (GDP, investment)
        has_trade = any(t.kind == "flow" for t in tokens) or not any(t.kind == "nottrade" for t in tokens)
        made: list[tuple[Figure, Candidate]] = []
        if re.match(lx.SAME_FIGURE, norm.strip(), re.IGNORECASE) and state.last is not None and \
                state.last.yoy_pct == "":
            # 'The figure registered a 9-percent year-on-year growth': the rate of the figure before
            rates = [f for f in figs if f.kind == "growth" and f.entity is None and f.partner is None]
            if len(rates) == 1 and len(figs) == 1 and rates[0].yoy is not None:
                state.last.yoy_pct = format_decimal(rates[0].yoy)
                state.last.yoy_qualifier = rates[0].yoy_qualifier if rates[0].yoy_qualifier != "exact" else ""
                state.last.evidence += f" … {sent.text}"
                figs = []
        for fig in sorted(figs, key=lambda f: (f.pos, f.conversion_of is not None)):
            cand = _candidate(fig, sent, norm, tokens, phrases, clauses, state, continuation, has_trade, unit0,
                              published, title_period, lang)
            if cand is not None:
                made.append((fig, cand))
        for fig, cand in made:
            out.append(cand)
        if not made:
            state.at_date = date_period(norm, published, lang) or state.at_date
            # a sentence that only names the period ('in den ersten zwei Monaten ... '): it governs the next
            definite = [p for p in phrases if not p.comparison and not p.vague and p.years is None
                        and not _bare_relative(p)]
            if definite and any(t.kind in ("flow", "entity") for t in tokens):
                try:
                    r = resolve(definite[-1], published, state.year)
                    if r.period_kind != "month" or state.period is None:
                        state.period = r
                    if definite[-1].year is not None or definite[-1].relative is not None:
                        state.year = r.year
                except PeriodUnresolved:
                    pass
        if made:
            state.last_fig, state.last = made[-1]
        words = {}
        for t in tokens:
            if t.kind in ("partner", "segment") and t.value:
                words[t.kind] = t.value
        state.words = words
    doc_trains = train_indicator(normalised(page.title + "\n" + page.text, lang), "China-Europe freight trains")
    for c in out:
        if c.indicator == TRAINS_UNNAMED:
            c.indicator = doc_trains
    return drop_redundant_shares(merge(out))


def drop_redundant_shares(cands: list[Candidate]) -> list[Candidate]:
    """A partner's share is kept only when the release gives no value for that partner and period
    (with the value, the share is derived from the figures themselves)."""
    valued = {(c.entity, c.flow, c.partner, c.segment, c.period_start, c.period_end)
              for c in cands if c.indicator == "trade value" and c.value}
    return [c for c in cands if not (c.indicator == "share of world total" and
                                     (c.entity, c.flow, c.partner, c.segment, c.period_start, c.period_end) in valued)]


def _bare_relative(p: PeriodPhrase) -> bool:
    """'last year' / '去年' alone (no months): the period of a figure only inside its own clause."""
    return p.relative is not None and p.year is None and p.first == 1 and p.last == 12 and \
        bool(re.fullmatch(r"(?:last|this|the previous|the current)\s+year|去年|上年|今年|本年|"
                          r"im vergangenen jahr|im letzten jahr|в прошлом году", p.text.strip(), re.IGNORECASE))


def _nearest_period(fig: Figure, phrases: list[PeriodPhrase], clauses) -> PeriodPhrase | None:
    pos = fig.pos
    clause = next(((a, b) for a, b in clauses if a <= pos < b), None)
    usable = [p for p in phrases if not p.comparison and
              (not _bare_relative(p) or (clause and clause[0] <= p.start < clause[1]))]
    if not usable:
        return None
    if clause:
        inside = [p for p in usable if clause[0] <= p.start < clause[1]]
        if any(not p.vague for p in usable):
            # '十四五期间累计', '截至十月底，新疆累计…': the definite phrase, not the vague '累计'
            inside = [p for p in inside if not p.vague]
            usable = [p for p in usable if not p.vague]
        if inside:
            return min(inside, key=lambda p: (abs(p.start - pos), p.start > pos))
    before = [p for p in usable if p.end <= pos]
    if before:
        return before[-1]
    after = [p for p in usable if p.start >= pos]
    return after[0] if after else None


def _candidate(fig: Figure, sent: Sentence, norm: str, tokens, phrases, clauses, state: _State,
               continuation: bool, has_trade: bool, unit0: str, published: dt.date, title_period,
               lang: str) -> Candidate | None:
    if fig.kind == "other" or fig.product or fig.__dict__.get("_blocked"):
        return None
    if fig.entity == "":
        return None
    trade_like = "trains" in fig.indicator or fig.indicator == "cargo weight"
    if not trade_like and not has_trade and fig.partner is None and fig.segment is None:
        return None
    clause = next(((a, b) for a, b in clauses if a <= fig.pos < b), (0, len(norm)))
    if any(t.kind == "nottrade" and clause[0] <= t.start < clause[1] for t in tokens) and \
            not any(t.kind == "flow" and clause[0] <= t.start < clause[1] for t in tokens):
        return None
    if fig.kind == "count" and "trains" not in fig.indicator:
        return None
    low, medium, notes, facts = list(fig.low), list(fig.medium), list(fig.notes), list(fig.facts)
    # subject defaults
    entity, partner, segment, flow = fig.entity, fig.partner, fig.segment, fig.flow
    if continuation and state.last is not None:
        entity = entity or state.last.entity
        partner = partner or (state.last.partner if state.last.partner != "World" else None)
        segment = segment or (state.last.segment if state.last.segment != "all" else None)
    flow = lx.SEGMENT_FLOWS.get(segment or "", flow)
    entity = entity or state.entity
    if fig.kind in ("count", "weight") and entity == REGION:
        # trains and cargo are counted at ports: a port the sentence names is the subject
        ports = [t.value for t in tokens if t.kind == "entity" and t.value and t.value != REGION
                 and re.search(r"port", t.value)]
        if ports:
            entity = ports[0]
    partner = partner or "World"
    segment = segment or "all"
    flow = flow or ("total" if fig.kind not in ("count", "weight") else "total")
    if fig.kind == "share":
        whole = fig.__dict__.get("_whole", "")
        if partner == "World" or segment != "all" or entity != REGION or whole in ("partner", "national"):
            return None
        if whole == "":
            medium.append("the share's whole is not named; read as the region's total trade")
        if fig.qualifier != "exact":
            return None     # 'more than 80 percent': a bound on a share would derive a total as if exact
    if fig.kind == "gap":
        if partner != "World":
            return None
        segment = "all"         # a gap compares the entity's whole trade with the nation's
    # period
    phrase = _nearest_period(fig, phrases, clauses)
    back = fig.__dict__.get("_years_back")
    if back:
        y = published.year - back
        phrase = PeriodPhrase(fig.pos, fig.pos, f"{back} years back", year=y)
    resolved: Resolved | None = None
    countlike = fig.kind in ("count", "weight") or fig.indicator == "cargo weight" or "trains" in fig.indicator
    at_date = (date_period(norm, published, lang) or state.at_date) if countlike else None
    own_clause = norm[clause[0]:clause[1]]
    if countlike and date_period(own_clause, published, lang) is not None:
        phrase = None           # the count's own clause dates it ('since the beginning of the year')
    if at_date is not None and phrase is not None and not phrase.vague and not _bare_relative(phrase):
        try:
            resolve(phrase, published, state.year)
        except PeriodUnresolved:
            phrase = None       # 'in 2025' in December 2025: the count runs to the date it gives
    if at_date is not None and (phrase is None or phrase.vague or _bare_relative(phrase) and phrase.relative == 0):
        resolved = at_date
        facts.append("a count to a date: the months up to that date")
        phrase = None
    elif phrase is not None:
        try:
            ctx = None
            if phrase.year is None and phrase.relative is None and phrase.years is None:
                same = [p for p in phrases if not p.comparison and p.year is not None]
                ctx = same[0].year if same else state.year
            resolved = resolve(phrase, published, ctx)
            if resolved.inferred and phrase.relative is None:
                medium.append(resolved.inferred)     # no year printed, not even 'this year'
            elif resolved.inferred:
                facts.append(resolved.inferred)
            if (phrase.year is not None or phrase.relative is not None) and not _bare_relative(phrase):
                state.year = resolved.year
        except PeriodUnresolved as exc:
            low.append(f"period not read: {exc}")
    elif resolved is not None:
        pass
    elif state.period is not None:
        resolved = state.period
        facts.append("period from the previous figure")
    elif title_period is not None:
        resolved = title_period
        medium.append("period from the title")
    else:
        low.append("no period printed for this figure")
    if resolved is not None and resolved.period_start[:4] == resolved.period_end[:4] and (
            resolved.period_kind != "month" or state.period is None or state.period.period_kind == "month"):
        # a single month said in passing ("11月当月") does not govern the sentences after it
        state.period = resolved
    base = fig.__dict__.get("_base_year")
    if base and resolved is not None:
        shift = (base - resolved.year) * 12
        from xjtrade.data import periods as pbase
        a, b = pbase.parse_month(resolved.period_start) + shift, pbase.parse_month(resolved.period_end) + shift
        resolved = Resolved(pbase.format_month(a), pbase.format_month(b), pbase.natural_kind(a, b))
        facts.append("the base of a comparison")
    yoy_base = fig.__dict__.get("_yoy_base")
    drop_yoy = bool(yoy_base and resolved is not None and yoy_base != resolved.year - 1)
    if drop_yoy:
        notes.append(f"growth against {yoy_base}, not year on year: left out")
    # value and unit
    value = format_decimal(fig.value) if fig.value is not None else ""
    unit = fig.unit
    indicator = fig.indicator
    if fig.kind == "growth":
        unit = "count" if indicator == "China-Europe freight trains" else unit0
        facts.append("growth only")
    if fig.kind == "unknown":
        low.append(f"unit not recognised in {_number_text(fig) or 'the figure'}; fill in the unit")
        unit = ""
    yoy = format_decimal(fig.yoy) if fig.yoy is not None and not drop_yoy else ""
    if fig.kind == "growth" and yoy == "":
        return None
    if fig.conversion_of is not None:
        facts.append("conversion printed beside the figure; growth as printed for the figure")
    if indicator == "China-Europe freight trains" and entity == REGION:
        indicator = "China-Europe freight trains in/out"     # the region's count, as the record names it
    product = "all"
    src = fig.__dict__.get("_converts")
    group = id(src) if src is not None else id(fig)
    cand = Candidate(group=group, entity=entity, flow=flow, partner=partner, product=product, segment=segment,
                     indicator=indicator,
                     period_start=resolved.period_start if resolved else "",
                     period_end=resolved.period_end if resolved else "",
                     period_kind=resolved.period_kind if resolved else "",
                     value=value, unit=unit, qualifier=fig.qualifier, yoy_pct=yoy,
                     yoy_qualifier=fig.yoy_qualifier if yoy and fig.yoy_qualifier != "exact" else "",
                     evidence=sent.text,
                     facts=facts, low=low, medium=medium, notes=notes)
    return cand


_WEEKDAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|" \
            r"samstag|sonntag"


def date_period(norm: str, published: dt.date, lang: str) -> Resolved | None:
    """A count to a date ('as of Monday', 'by Dec. 24 this year', 'so far this year', '截至5月26日'):
    January to the month of that date (a date on the 1st closes the month before); a weekday or
    'so far' is a day of the publication week, so the publication month."""
    from xjtrade.data import periods as pbase
    from xjtrade.data.extract.periods import _month_regex, _which_month
    month = None
    m = re.search(r"截至\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", norm)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        month = month - 1 if day == 1 else month
    if month is None and lang != "zh":
        m = re.search(rf"(?:as of|by|on|through|until|up to|bis zum|bis)\s+{_month_regex('en')}\.?\s+(\d{{1,2}})\b",
                      norm, re.IGNORECASE)
        if m:
            month, day = _which_month(m.group(1), "en"), int(m.group(2))
            month = month - 1 if day == 1 else month
        elif re.search(rf"(?:as of|by|on|until|am|bis)\s+(?:{_WEEKDAYS})|so far this year|this year so far|"
                       r"so far in \d{4}|since the (?:beginning|start) of (?:the|this) year|bisher|в этом году",
                       norm, re.IGNORECASE):
            month = published.month
    if month is None and lang in ("de", "it", "fr", "es", "pt", "ru"):
        m = re.search(rf"(?:^|\s)(\d{{1,2}})\.?\s+(?:de\s+)?{_month_regex(lang)}", norm, re.IGNORECASE)
        if m:
            month, day = _which_month(m.group(2), lang), int(m.group(1))
            month = month - 1 if day == 1 else month
    if month is None or month < 1:
        return None
    start, end = published.year * 12, published.year * 12 + month - 1
    if end > published.year * 12 + published.month - 1:
        return None
    return Resolved(pbase.format_month(start), pbase.format_month(end), pbase.natural_kind(start, end),
                    "the months up to the date of the count")


def _number_text(fig: Figure) -> str:
    t = fig.__dict__.get("_token")
    return repr(t.text.strip()) if t is not None else ""


_QUAL_ORDER = {"exact": 0, "about": 1, "nearly": 2, "over": 3, "under": 3}


def merge(cands: list[Candidate]) -> list[Candidate]:
    """Figures a release states twice become one row: a growth-only figure joins the value of the
    same quantity; a rounded bound ("exceeded 400 billion") beside the exact figure is dropped when
    it agrees with it and kept, with low confidence, when it does not; a repeat is dropped."""
    out: list[Candidate] = []
    for c in cands:
        same = [o for o in out if o.key == c.key and _unit_family(o) == _unit_family(c)]
        target = next((o for o in same if o.unit == c.unit), None) if same else None
        if target is None and c.value == "" and same:
            target = same[0]
        if target is None:
            out.append(c)
            continue
        if c.value == "" or target.value == "":
            keep, other = (target, c) if target.value != "" else (c, target)
            if keep.yoy_pct == "" and other.yoy_pct != "":
                keep.yoy_pct, keep.yoy_qualifier = other.yoy_pct, other.yoy_qualifier
                if other.evidence not in keep.evidence:
                    keep.evidence = f"{keep.evidence} … {other.evidence}"
                for sibling in out:     # the bracketed conversion of the value takes the growth too
                    if sibling.group == keep.group and sibling is not keep and sibling.yoy_pct == "":
                        sibling.yoy_pct, sibling.yoy_qualifier = other.yoy_pct, other.yoy_qualifier
            elif other.yoy_pct not in ("", keep.yoy_pct):
                keep.low.append(f"the release also gives {other.yoy_pct}% for this quantity")
            if keep is c:
                out[out.index(target)] = c
            continue
        if target.value == c.value and target.qualifier == c.qualifier and target.unit == c.unit:
            if target.yoy_pct == "":
                target.yoy_pct, target.yoy_qualifier = c.yoy_pct, c.yoy_qualifier
            continue
        exact, bound = (target, c) if _QUAL_ORDER[target.qualifier] <= _QUAL_ORDER[c.qualifier] else (c, target)
        if exact.qualifier == "exact" and bound.qualifier != "exact" and _agrees(exact, bound):
            if bound is target:
                out[out.index(target)] = exact
            if exact.yoy_pct == "" and bound.yoy_pct != "":
                exact.yoy_pct, exact.yoy_qualifier = bound.yoy_pct, bound.yoy_qualifier
                for sibling in out:
                    if sibling.group == exact.group and sibling is not exact and sibling.yoy_pct == "":
                        sibling.yoy_pct, sibling.yoy_qualifier = bound.yoy_pct, bound.yoy_qualifier
            continue
        c.low.append(f"the release gives {target.value} {target.unit} ({target.qualifier}) for the same quantity "
                     "elsewhere")
        out.append(c)
    # a bracketed conversion takes the growth its figure got from another sentence
    for c in out:
        if c.yoy_pct == "":
            rated = next((o for o in out if o.group == c.group and o is not c and o.yoy_pct), None)
            if rated is not None:
                c.yoy_pct, c.yoy_qualifier = rated.yoy_pct, rated.yoy_qualifier
    return out


def _unit_family(c: Candidate) -> str:
    if "yuan" in c.unit:
        return "CNY"
    if "USD" in c.unit:
        return "USD"
    return c.unit


def _agrees(exact: Candidate, bound: Candidate) -> bool:
    """Whether an exact value satisfies a printed bound on the same quantity (same currency)."""
    from xjtrade.data.raw import CURRENCY_UNITS
    try:
        a, b = Decimal(exact.value), Decimal(bound.value)
    except ArithmeticError:
        return False
    fa = CURRENCY_UNITS.get(exact.unit, (None, 1.0))[1]
    fb = CURRENCY_UNITS.get(bound.unit, (None, 1.0))[1]
    a, b = a * Decimal(str(fa)), b * Decimal(str(fb))
    if bound.qualifier == "over":
        return a >= b
    if bound.qualifier == "under":
        return a <= b
    if bound.qualifier == "nearly":
        return b * Decimal("0.9") <= a <= b * Decimal("1.005")
    return abs(a - b) <= abs(b) * Decimal("0.03")
