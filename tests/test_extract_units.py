"""Unit tests of the extractor's modules, with expectations computed by hand: numerals, periods,
units, qualifiers, growth signs, sentences, the record check, the candidate file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from xjtrade.data.extract import numbers as num
from xjtrade.data.extract.candidates import propose_source, publisher_of, to_csv, rows, unneutralise, CANDIDATE_COLUMNS
from xjtrade.data.extract.check import check
from xjtrade.data.extract.periods import PeriodUnresolved, find_periods, resolve
from xjtrade.data.extract.release import Candidate, extract_release, merge
from xjtrade.data.extract.sentences import clause_bounds, split_sentences
from xjtrade.data.extract.text import chinese_script, detect_language, meta_date, read_page, to_simplified
from xjtrade.data.raw import REPORT_COLUMNS

PUB = dt.date(2024, 12, 20)


def rows_of(text: str, published=PUB, language=None):
    page = read_page(text.encode("utf-8"), "release.txt")
    return [(c.entity, c.flow, c.partner, c.segment, c.indicator, c.period_start, c.period_end, c.value, c.unit,
             c.qualifier, c.yoy_pct) for c in extract_release(page, published, language)]


# ---------------------------------------------------------------- numerals

@pytest.mark.parametrize("text, lang, value", [
    ("4031", "en", "4031"), ("4,031", "en", "4031"), ("403.1", "en", "403.1"), ("4,031.50", "en", "4031.50"),
    ("63,69", "de", "63.69"), ("4.031,5", "de", "4031.5"), ("1 234,5", "ru", "1234.5"), ("7.000", "de", "7000"),
])
def test_arabic_numerals_by_language(text, lang, value):
    assert num.parse_arabic(text, lang) == Decimal(value)


@pytest.mark.parametrize("text, value", [("四千", 4000), ("十一", 11), ("二十六", 26), ("一千二百三十四", 1234),
                                         ("二十六点五", Decimal("26.5"))])
def test_chinese_numerals(text, value):
    assert num.parse_chinese(text) == Decimal(value)


@pytest.mark.parametrize("text, value, scale", [("二十亿三千万", "20.3", "1e8"), ("一点零四亿", "1.04", "1e8"),
                                                ("八十八亿", "88", "1e8"), ("四千", "4000", "1")])
def test_chinese_numerals_keep_their_largest_scale(text, value, scale):
    v, s = num.chinese_scale(text)
    assert (v, s) == (Decimal(value), Decimal(scale))


def test_fullwidth_digits_become_ascii_without_changing_length():
    text = "进出口４０３１亿元，增长２６％"
    out = num.ascii_digits(text)
    assert out == "进出口4031亿元，增长26%" and len(out) == len(text)


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999999"), places=3, allow_nan=False))
def test_formatting_round_trips(value):
    text = num.format_decimal(value)
    assert "E" not in text and "e" not in text
    assert Decimal(text) == value
    assert num.parse_arabic(text, "en") == Decimal(text)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_english_and_german_grouping_read_the_same_number(whole, cents):
    en = f"{whole:,}.{cents:02d}"
    de = en.replace(",", " ").replace(".", ",").replace(" ", ".")
    assert num.parse_arabic(en, "en") == num.parse_arabic(de, "de") == Decimal(f"{whole}.{cents:02d}")


# ---------------------------------------------------------------- periods

@pytest.mark.parametrize("text, lang, start, end, kind", [
    ("前11个月，新疆外贸", "zh", "2024-01", "2024-11", "ytd"),
    ("2023年1-11月，新疆", "zh", "2023-01", "2023-11", "ytd"),
    ("1至7月，新疆", "zh", "2024-01", "2024-07", "ytd"),
    ("前三季度，新疆", "zh", "2024-01", "2024-09", "ytd"),
    ("一季度，新疆", "zh", "2024-01", "2024-03", "quarter"),
    ("上半年，新疆", "zh", "2024-01", "2024-06", "half"),
    ("11月当月，新疆", "zh", "2024-11", "2024-11", "month"),
    ("2023年，新疆外贸", "zh", "2023-01", "2023-12", "year"),
    ("截至十月底，新疆", "zh", "2024-01", "2024-10", "ytd"),
    ("in the first 11 months of 2024, reaching", "en", "2024-01", "2024-11", "ytd"),
    ("from January to September this year", "en", "2024-01", "2024-09", "ytd"),
    ("in the Jan-Nov period", "en", "2024-01", "2024-11", "ytd"),
    ("in November alone", "en", "2024-11", "2024-11", "month"),
    ("in the first quarter of 2024", "en", "2024-01", "2024-03", "quarter"),
    ("in the first half of 2024", "en", "2024-01", "2024-06", "half"),
    ("in the first three quarters", "en", "2024-01", "2024-09", "ytd"),
    ("in 2023, up", "en", "2023-01", "2023-12", "year"),
    ("in den ersten elf Monaten dieses Jahres", "de", "2024-01", "2024-11", "ytd"),
    ("im Zeitraum von Januar bis Juli", "de", "2024-01", "2024-07", "ytd"),
    ("за первые 11 месяцев 2024 года", "ru", "2024-01", "2024-11", "ytd"),
    ("в январе-марте", "ru", "2024-01", "2024-03", "quarter"),
    ("nos primeiros sete meses de 2024", "pt", "2024-01", "2024-07", "ytd"),
    ("During the 14th Five-Year Plan period", "en", "2021-01", "2025-12", "other"),
])
def test_period_phrases(text, lang, start, end, kind):
    phrases = [p for p in find_periods(text, lang) if not p.comparison]
    assert phrases, text
    r = resolve(phrases[0], PUB)
    assert (r.period_start, r.period_end, r.period_kind) == (start, end, kind)


def test_a_year_not_printed_is_the_latest_whose_months_had_ended():
    (p,) = find_periods("前11个月，新疆", "zh")
    assert resolve(p, dt.date(2025, 1, 10)).period_end == "2024-11"   # Jan-Nov 2025 had not ended
    assert resolve(p, dt.date(2025, 12, 20)).period_end == "2025-11"
    (q,) = find_periods("今年前11个月", "zh")
    assert q.relative == 0 and resolve(q, dt.date(2025, 12, 20)).period_start == "2025-01"


def test_dates_and_comparisons_are_not_periods():
    assert find_periods("1月23日，自治区召开发布会", "zh") == []
    assert find_periods("URUMQI, Dec. 20 (Xinhua) -- The", "en") == []
    assert all(p.comparison for p in find_periods("up 21.9 percent from the same period of 2019", "en"))
    assert all(p.comparison for p in find_periods("较上年同期增长45.9%", "zh"))


def test_vague_and_future_periods_are_refused_with_a_reason():
    (p,) = find_periods("so far this year", "en")
    with pytest.raises(PeriodUnresolved, match="does not say up to which month"):
        resolve(p, PUB)
    (q,) = find_periods("in the first half of 2025", "en")
    with pytest.raises(PeriodUnresolved, match="after the publication date"):
        resolve(q, PUB)


# ---------------------------------------------------------------- sentences and text

def test_sentences_split_at_full_stops_but_not_in_abbreviations_or_numbers():
    text = "Exports hit 303.73 billion yuan, up 44.8 percent. Imports rose. U.S. dollars count. 新疆外贸增长。其中出口增长"
    got = [s.text for s in split_sentences(text)]
    assert got == ["Exports hit 303.73 billion yuan, up 44.8 percent.", "Imports rose.", "U.S. dollars count.",
                   "新疆外贸增长。", "其中出口增长"]


def test_clauses_never_cut_a_number():
    s = "reached 4,031 billion yuan, up 26 percent"
    assert [s[a:b] for a, b in clause_bounds(s)] == ["reached 4,031 billion yuan,", " up 26 percent"]


def test_language_and_script():
    assert detect_language("新疆外贸进出口总值4031亿元，同比增长26%") == "zh"
    assert detect_language("Der gesamte Import- und Exportwert der Region stieg um 29 Prozent") == "de"
    assert detect_language("внешнеторговый оборот Синьцзяна вырос на 14,1 проц.") == "ru"
    assert detect_language("The region's trade rose 26 percent in the first 11 months") == "en"
    assert chinese_script("新疆外貿進出口總值3627.9億元，同比增長28%，增速保持全國第1位") == "traditional"
    assert chinese_script("新疆外贸进出口总值3627.9亿元，同比增长28%，增速保持全国第1位") == "simplified"
    assert to_simplified("進出口總值3627.9億元") == "进出口总值3627.9亿元"


def test_meta_date_is_read_from_the_markup_only():
    html = ('<html><head><meta property="article:published_time" content="2025-07-26T10:42:00+08:00"></head>'
            '<body><p>Published 2019-01-01 in the text.</p></body></html>')
    assert meta_date(html, __import__("lxml.html").html.fromstring(html)) == "2025-07-26"
    bare = "<html><head><title>x</title></head><body><p>On 2019-01-01 trade rose.</p></body></html>"
    assert meta_date(bare, __import__("lxml.html").html.fromstring(bare)) == ""


# ---------------------------------------------------------------- units, qualifiers, growth

def test_yuan_and_dollars_beside_it_give_two_rows_each_with_its_unit():
    got = rows_of("The foreign trade of Xinjiang rose by 26 percent year on year in the first 11 months of 2024, "
                  "reaching 403.1 billion yuan (about 56.1 billion U.S. dollars).")
    assert got == [
        ("Xinjiang", "total", "World", "all", "trade value", "2024-01", "2024-11", "403.1", "billion yuan", "exact", "26"),
        ("Xinjiang", "total", "World", "all", "trade value", "2024-01", "2024-11", "56.1", "billion USD", "about", "26"),
    ]


@pytest.mark.parametrize("text, value, unit, qualifier", [
    ("前11个月，新疆外贸进出口总值超过4031亿元。", "4031", "100 million yuan", "over"),
    ("前11个月，新疆外贸进出口总值逾4031亿元。", "4031", "100 million yuan", "over"),
    ("前11个月，新疆外贸进出口总值近4031亿元。", "4031", "100 million yuan", "nearly"),
    ("前11个月，新疆外贸进出口总值约4031亿元。", "4031", "100 million yuan", "about"),
    ("前11个月，新疆外贸进出口总值1.2万亿元。", "1.2", "trillion yuan", "exact"),
    ("前11个月，新疆外贸进出口总值5.6万元。", "5.6", "10k yuan", "exact"),
    ("前11个月，新疆外贸进出口总值四千亿元。", "4000", "100 million yuan", "exact"),
    ("In the first 11 months, Xinjiang's trade exceeded 400 billion yuan.", "400", "billion yuan", "over"),
    ("In the first 11 months, Xinjiang's trade reached nearly 400 billion yuan.", "400", "billion yuan", "nearly"),
    ("In the first 11 months, Xinjiang's trade was around 400 billion yuan.", "400", "billion yuan", "about"),
    ("In the first 11 months, Xinjiang's trade was RMB357.33 billion.", "357.33", "billion yuan", "exact"),
    ("In the first 11 months, Xinjiang's trade was $74.7 billion.", "74.7", "billion USD", "exact"),
])
def test_units_and_qualifiers(text, value, unit, qualifier):
    (row,) = rows_of(text)
    assert row[7:10] == (value, unit, qualifier)


@pytest.mark.parametrize("text, yoy", [
    ("前11个月，新疆外贸进出口总值4031亿元，同比增长26%。", "26"),
    ("前11个月，新疆外贸进出口总值4031亿元，同比下降3.5%。", "-3.5"),
    ("前11个月，新疆外贸进出口总值4031亿元，增长1.2倍。", "120"),
    ("In the first 11 months, Xinjiang's trade reached 403.1 billion yuan, up 26 percent year on year.", "26"),
    ("In the first 11 months, Xinjiang's trade reached 403.1 billion yuan, a decrease of 3.5 percent.", "-3.5"),
    ("In the first 11 months, Xinjiang's trade fell 3.5 percent to 403.1 billion yuan.", "-3.5"),
    ("In den ersten elf Monaten 2024 stieg der Außenhandel Xinjiangs um 26 Prozent auf 403,1 Milliarden Yuan.", "26"),
])
def test_growth_and_its_sign(text, yoy):
    (row,) = [r for r in rows_of(text) if r[7]]
    assert row[10] == yoy


def test_growth_against_another_year_is_not_a_yoy_rate():
    (row,) = rows_of("In May 2021, Xinjiang's trade was 12.54 billion yuan, up 21.9 percent over 2019.",
                     dt.date(2021, 6, 29))
    assert row[7] == "12.54" and row[10] == ""


def test_share_only_partner_gives_a_share_row_and_growth_only_row():
    got = rows_of("In the first 11 months of 2024, Xinjiang's trade with the five Central Asian countries grew by "
                  "6.9 percent year on year, accounting for 67.9 percent of the region's total foreign trade.")
    assert ("Xinjiang", "total", "Central Asia", "all", "trade value", "2024-01", "2024-11", "", "billion yuan",
            "exact", "6.9") in got
    assert ("Xinjiang", "total", "Central Asia", "all", "share of world total", "2024-01", "2024-11", "67.9",
            "percent", "exact", "") in got


def test_gap_to_the_national_rate():
    got = rows_of("前11月，新疆外贸进出口总值2194亿元，同比增长59.8%，高于全国增速51.2个百分点。", dt.date(2022, 12, 16))
    assert ("Xinjiang", "total", "World", "all", "growth gap to national rate", "2022-01", "2022-11", "51.2",
            "percentage points", "exact", "") in got


def test_respectively_pairs_partners_and_rates_in_order():
    got = rows_of("In the first 11 months of 2023, trade with Kazakhstan, Kyrgyzstan and Tajikistan increased by "
                  "70.8 percent, 32.1 percent and 97.3 percent, respectively.", dt.date(2023, 12, 18))
    assert [(r[2], r[10]) for r in got] == [("Kazakhstan", "70.8"), ("Kyrgyzstan", "32.1"), ("Tajikistan", "97.3")]


def test_two_periods_in_one_release():
    got = rows_of("前11月，新疆外贸进出口总值2194亿元，同比增长59.8%。11月当月，新疆外贸进出口值245.1亿元，同比增长56.1%。",
                  dt.date(2022, 12, 16))
    assert [(r[5], r[6], r[7], r[10]) for r in got] == [("2022-01", "2022-11", "2194", "59.8"),
                                                       ("2022-11", "2022-11", "245.1", "56.1")]


def test_rounded_threshold_beside_the_exact_figure_is_dropped():
    got = rows_of("In the first half of 2024, Xinjiang's foreign trade surpassed the 200 billion yuan mark, a growth "
                  "of 48.4 percent. From January to June, its imports and exports reached 220.63 billion yuan.",
                  dt.date(2024, 7, 19))
    assert [(r[7], r[9], r[10]) for r in got] == [("220.63", "exact", "48.4")]


def test_unknown_unit_and_unknown_period_are_low_confidence_with_a_reason():
    page = read_page("In the first 11 months, Xinjiang's trade with Kazakhstan reached 12.5 billion tenge.".encode(),
                     "x.txt")
    (c,) = extract_release(page, PUB)
    assert c.confidence == "low" and "unit not recognised" in c.remark and c.unit == ""
    page = read_page("Xinjiang's foreign trade reached 403.1 billion yuan so far this year.".encode(), "x.txt")
    (c,) = extract_release(page, PUB)
    assert c.confidence == "low" and "does not say up to which month" in c.remark and c.period_start == ""


def test_traditional_characters_are_read_and_quoted_as_printed():
    text = "據烏魯木齊海關統計，今年前10個月，新疆外貿進出口總值3627.9億元，同比增長28%。"
    page = read_page(text.encode("utf-8"), "x.txt")
    (c,) = extract_release(page, dt.date(2024, 11, 20))
    assert (c.value, c.unit, c.yoy_pct, c.period_end) == ("3627.9", "100 million yuan", "28", "2024-10")
    assert c.evidence == text


def test_figures_that_are_not_trade_are_left_out():
    assert rows_of("Xinjiang's GDP topped 2 trillion yuan last year, up 6.1 percent.", dt.date(2025, 1, 19)) == []
    assert rows_of("前11个月，新疆有进出口实绩的企业达4252家，同比增加24.9%。") == []


def test_merge_keeps_one_row_per_quantity():
    a = Candidate("Xinjiang", "total", "ASEAN", "all", "all", "trade value", "2025-01", "2025-12", "year", "", "billion yuan",
                  "exact", "98.3", "e1")
    b = Candidate("Xinjiang", "total", "ASEAN", "all", "all", "trade value", "2025-01", "2025-12", "year", "67.4",
                  "billion yuan", "exact", "", "e2")
    (m,) = merge([a, b])
    assert (m.value, m.yoy_pct) == ("67.4", "98.3") and "e1" in m.evidence and "e2" in m.evidence


# ---------------------------------------------------------------- the record check

def _record(*rows):
    cols = REPORT_COLUMNS
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


def _cand(value="320.53", unit="billion yuan", yoy="47.4", start="2023-01", end="2023-11"):
    return Candidate("Xinjiang", "total", "World", "all", "all", "trade value", start, end, "ytd", value, unit, "exact",
                     yoy, "evidence")


def test_check_names_duplicates_and_conflicts():
    rec = _record(("R0336", "Xinjiang", "total", "World", "all", "all", "trade value", "2023-01", "2023-11", "ytd",
                   "320.53", "billion yuan", "exact", "47.4", "", "people-2023-12-18", "d", "verified"))
    same_source, other_source, conflict = _cand(), _cand(value="3205.3", unit="100 million yuan"), _cand(value="330.1")
    check([same_source], rec, "people-2023-12-18")
    check([other_source], rec, "xinhua-2023-12-18")
    check([conflict], rec, "xinhua-2023-12-18")
    assert same_source.same_source and "duplicate of R0336 (same source)" in same_source.remark
    assert not other_source.same_source and "same figure as R0336" in other_source.remark
    assert other_source.confidence == "high"
    assert conflict.confidence == "low" and "conflicts with R0336" in conflict.remark


def test_check_growth_against_the_previous_year_within_rounding():
    rec = _record(("R0100", "Xinjiang", "total", "World", "all", "all", "trade value", "2022-01", "2022-11", "ytd",
                   "2194", "100 million yuan", "exact", "", "", "s", "d", "verified"))
    # 2194 -> 3205.3: +46.1 % (the printed 47.4 % is outside the rounding of both values)
    off = _cand(value="3205.3", unit="100 million yuan", yoy="47.4")
    ok = _cand(value="3205.3", unit="100 million yuan", yoy="46.1")
    check([off], rec, "x")
    check([ok], rec, "x")
    assert off.confidence == "medium" and "implies 46.1%" in off.remark
    assert ok.confidence == "high" and "agrees with R0100" in ok.remark


def test_check_year_to_date_must_grow():
    rec = _record(("R0200", "Xinjiang", "total", "World", "all", "all", "trade value", "2023-01", "2023-10", "ytd",
                   "330", "billion yuan", "exact", "", "", "s", "d", "verified"))
    c = _cand(value="320.53", yoy="")
    check([c], rec, "x")
    assert c.confidence == "low" and "year-to-date falls: R0200" in c.remark


# ---------------------------------------------------------------- the candidate file

def test_source_ids_in_the_projects_style():
    empty = pd.DataFrame(columns=["source_id", "url"])
    assert publisher_of("https://english.news.cn/20260128/x/c.html") == ("Xinhua", "xinhua")
    s = propose_source("https://english.news.cn/20260128/x/c.html", "2026-01-28", "T", "en", "", empty)
    assert s.source_id == "xinhua-2026-01-28" and s.new
    taken = pd.DataFrame({"source_id": ["xinhua-2026-01-28"], "url": ["https://other"]})
    assert propose_source("https://english.news.cn/y", "2026-01-28", "T", "en", "", taken).source_id == \
        "xinhua-2026-01-28-b"


def test_candidate_csv_neutralises_text_cells():
    c = _cand()
    c.evidence = "=HYPERLINK(\"http://x\")"
    s = propose_source("https://english.news.cn/y", "2026-01-28", "@title", "en", "", None)
    text = to_csv(rows([c], s))
    header, line = text.splitlines()[:2]
    assert header.split(",") == CANDIDATE_COLUMNS
    assert "'=HYPERLINK" in line and "'@title" in line
    assert unneutralise("'=x") == "=x" and unneutralise("'plain") == "'plain"
