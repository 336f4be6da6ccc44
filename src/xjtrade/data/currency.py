"""The currencies of the analysis: one entry each, with its processed column and its wording."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Currency:
    code: str
    column: str      # column of the processed figures table holding values in this currency
    unit: str        # unit of those values, as written for readers
    short: str       # compact unit for tables and axes


CURRENCIES: dict[str, Currency] = {c.code: c for c in (
    Currency("CNY", "value_cny_bn", "billion yuan", "bn yuan"),
    Currency("USD", "value_usd_bn", "billion US dollars", "bn USD"),
)}


def currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except KeyError:
        raise ValueError(f"unknown currency {code!r}; choose from {', '.join(CURRENCIES)}") from None
