"""Numerals as releases print them: 4031, 4,031, 403.1, 63,69 (German), 四千, 二十亿三千万, 1.2万亿.

Values are kept as `Decimal` so that the digits of a figure survive every scaling exactly (403.1
billion stays 403.1, 39.338 million tons becomes 3933.8 ten-thousand tons, never 3933.7999…).
Chinese numerals are read with `cn2an`; Arabic numerals with the grouping and decimal marks of the
release's language (English and Chinese write 4,031.5; German, Russian, French, Spanish,
Portuguese and Italian write 4.031,5 or 4 031,5).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Digits written with a decimal comma (and a point or space between thousands)
DECIMAL_COMMA_LANGUAGES = frozenset({"de", "ru", "fr", "es", "pt", "it", "tr"})

CHINESE_DIGITS = "零〇一二两三四五六七八九"
CHINESE_NUMERAL_CHARS = CHINESE_DIGITS + "十百千万亿点"

# A numeral in Chinese characters (at least one digit character; 十 alone is ten)
CHINESE_NUMERAL = f"[{CHINESE_DIGITS}十][{CHINESE_NUMERAL_CHARS}]*"

_FULLWIDTH: dict[int, int | str] = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９"}
_FULLWIDTH.update({ord("％"): "%", ord("．"): ".", ord("\u00a0"): " ", ord("\u202f"): " ", ord("\u2009"): " "})


def ascii_digits(text: str) -> str:
    """Fullwidth digits, percent sign and point as ASCII; no-break and thin spaces as spaces (the
    Chinese comma and full stop are kept: they separate clauses)."""
    return text.translate(_FULLWIDTH)


def arabic_pattern(language: str) -> str:
    """A regex (no groups) for one Arabic numeral as printed in `language`."""
    if language in DECIMAL_COMMA_LANGUAGES:
        return r"(?<![\d.,])\d{1,3}(?:(?:\.|\s)\d{3})+(?:,\d+)?(?![\d])|(?<![\d.,])\d+(?:,\d+)?(?![\d])"
    return r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d])|(?<![\d.,])\d+(?:\.\d+)?(?![\d])"


def parse_arabic(text: str, language: str = "en") -> Decimal:
    """'4,031.5' -> 4031.5 (English, Chinese); '4.031,5' / '4 031,5' / '63,69' -> German style."""
    s = text.strip()
    if language in DECIMAL_COMMA_LANGUAGES:
        s = re.sub(r"[.\s]", "", s).replace(",", ".")
    else:
        s = s.replace(",", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None


def parse_chinese(text: str) -> Decimal:
    """'四千' -> 4000, '二十亿三千万' -> 2030000000, '十一' -> 11, '二十六点五' -> 26.5 (cn2an)."""
    import cn2an
    try:
        value = cn2an.cn2an(text, "normal")
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{text!r} is not a Chinese numeral ({exc})") from None
    return Decimal(str(value))


def parse_any(text: str, language: str = "en") -> Decimal:
    """An Arabic or a Chinese numeral (a mixed one such as '1.2万' is read by `scaled`)."""
    if re.search(f"[{CHINESE_NUMERAL_CHARS}]", text) and not re.search(r"\d", text):
        return parse_chinese(text)
    return parse_arabic(text, language)


# Scale characters inside Chinese amounts, largest first
CHINESE_SCALES = (("万亿", Decimal("1e12")), ("亿", Decimal("1e8")), ("万", Decimal("1e4")))


def chinese_scale(text: str) -> tuple[Decimal, Decimal]:
    """A Chinese numeral with scale characters -> (value in units of its largest scale, that scale):
    '二十亿三千万' -> (20.3, 1e8); '四千' -> (4000, 1)."""
    for char, scale in CHINESE_SCALES:
        # '一点零四亿', '八十八亿': a numeral followed by one scale character
        if text.endswith(char) and not any(c in text[: -len(char)] for c, _ in CHINESE_SCALES):
            return parse_chinese(text[: -len(char)]), scale
    total = parse_chinese(text)
    for char, scale in CHINESE_SCALES:
        if char in text:
            return normalise(total / scale), scale
    return total, Decimal(1)


def normalise(value: Decimal) -> Decimal:
    """Drop trailing zeros without an exponent: 4031.0 -> 4031, 1.20 -> 1.2, 4E+3 -> 4000."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def format_decimal(value: Decimal) -> str:
    """A figure as the raw tables write it: plain digits, a point, no exponent, no trailing zeros."""
    text = format(normalise(value), "f")
    return "0" if text in ("-0", "") else text


def decimals(value: Decimal) -> int:
    """Digits after the decimal mark as printed (before `normalise`): Decimal('403.10') -> 2."""
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
