"""The data as known at each release date: vintages of a series' evidence for the pseudo-real-time
evaluation.

For every release date, the raw figures published by then are cleaned again (the same cleaning as
the data step, with that date as the cut-off) and reduced to the evidence of one series (annual and
year-to-date totals with their figure ids).  Vintages are cached as JSON in the cache store
(:mod:`xjtrade.cache`) under a key of the raw rows used, the date, the series and the code that
cleans them (:data:`VINTAGE`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd

from xjtrade.cache import Store
from xjtrade.data.clean import clean
from xjtrade.data.currency import CURRENCIES
from xjtrade.data.estimates import Evidence, evidence
from xjtrade.data.selector import series
from xjtrade.keys import Step, keyer_for


def _main_subset(raw, entity: str, partner: str):
    """The raw rows that can feed the main series of `entity` (all flows, so that totals can be
    derived from exports and imports); cleaning fewer rows makes a vintage cheap."""
    from dataclasses import replace

    r = raw.reports
    keep = ((r["entity"] == entity) & (r["partner"] == partner) & (r["product"] == "all")
            & (r["segment"] == "all") & (r["indicator"] == "trade value"))
    return replace(raw, reports=r[keep].reset_index(drop=True))


def release_dates(figures: pd.DataFrame, entity="Xinjiang", flow="total", partner="World",
                  since: str = "2019-01-01", until: str | None = None) -> list[str]:
    """Publication dates of the series' year-to-date and calendar-year figures since `since`."""
    dates = set()
    for kind in ("year", "ytd"):
        s = series(figures, entity=entity, flow=flow, partner=partner, kind=kind)
        s = s[s["value"].notna() & (s["origin"] == "reported")]
        dates |= {str(d) for d in s["published"] if str(d) and str(d) >= since and (until is None or str(d) <= until)}
    # the published column also holds derived figures' dates; reported ones suffice
    return sorted(dates)


def _evidence_to_json(ev) -> dict:
    """Every field of an Evidence as JSON (tuples as lists; the tests compare a round trip)."""
    return {"annual": [[y, v] for y, v in sorted(ev.annual.items())],
            "ytd": [[y, m, v] for (y, m), v in sorted(ev.ytd.items())],
            "annual_ids": [[y, i] for y, i in sorted(ev.annual_ids.items())],
            "annual_origin": [[y, o] for y, o in sorted(ev.annual_origin.items())],
            "ytd_ids": [[y, m, i] for (y, m), i in sorted(ev.ytd_ids.items())],
            "year_ids": [[y, list(i)] for y, i in sorted(ev.year_ids.items())],
            "published": ev.published}


def _evidence_from_json(d: dict):
    return Evidence(annual={int(y): float(v) for y, v in d["annual"]},
                    annual_ids={int(y): i for y, i in d["annual_ids"]},
                    annual_origin={int(y): o for y, o in d["annual_origin"]},
                    ytd={(int(y), int(m)): float(v) for y, m, v in d["ytd"]},
                    ytd_ids={(int(y), int(m)): i for y, m, i in d["ytd_ids"]},
                    year_ids={int(y): i for y, i in d["year_ids"]}, published=d["published"])


def _digest(sub, raw) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(sub.reports.astype(str), index=False).values.tobytes()
                          + pd.util.hash_pandas_object(raw.rates.astype(str), index=False).values.tobytes()
                          ).hexdigest()[:16]


# The vintage step: cleaning the raw rows as known on a date and reducing them to a series' evidence.
VINTAGE = Step("vintage", modules=("xjtrade.data.vintages",))


def vintages_key(raw, dates, entity="Xinjiang", flow="total", partner="World", currency="CNY",
                 cache_root: Path | None = None, keyer=None) -> str:
    """One key of everything :func:`vintage_evidence` reads for these dates and this series (the raw
    rows of the series' entity and partner, the exchange rates, the dates) and of the code that
    cleans them (:data:`VINTAGE`, :mod:`xjtrade.keys`): equal keys, equal vintages."""
    digest = _digest(_main_subset(raw, entity, partner), raw)
    return (keyer or keyer_for(cache_root)).key(VINTAGE, rows=digest, dates=list(dates),
                                     series=[entity, flow, partner, currency])[:40]


def vintage_evidence(raw, dates, entity="Xinjiang", flow="total", partner="World", currency="CNY",
                     cache_dir: Path | None = None) -> dict:
    """{as_of: Evidence} for each date, each from the figures published by then only.

    `raw` is a :class:`xjtrade.data.raw.RawData`.  With `cache_dir` (a folder of the cache store,
    normally ``.xjtrade-cache/vintages``), each vintage is stored under a key of the raw rows used,
    the date, the series and the cleaning code, so unchanged vintages are read back (checked)
    instead of cleaned again; one cleaning stores the vintage of every flow and currency of the
    entity and partner."""
    sub = _main_subset(raw, entity, partner)
    digest = _digest(sub, raw)
    store = Store(Path(cache_dir).parent) if cache_dir is not None else None
    kind = Path(cache_dir).name if cache_dir is not None else ""
    keyer = keyer_for(Path(cache_dir).parent if cache_dir is not None else None)

    def key(d, fl=flow, cur=currency) -> str:
        return keyer.key(VINTAGE, rows=digest, date=d, series=[entity, fl, partner, cur])[:40]

    rejected: set[str] = set()   # entries that failed their check: recomputed, not read again

    def cached(d):
        if store is None or d in rejected:
            return None
        there = store.exists(kind, key(d))
        found = store.get_json(kind, key(d)) if there else None
        if there and found is None:
            rejected.add(d)
        return _evidence_from_json(found) if found is not None else None

    out = {d: cached(d) for d in dates}
    todo = [d for d in dates if out[d] is None]
    # processes computing the same series at once (a sweep's workers) take the dates in different
    # orders and look at the cache again before each one, so they share the work instead of repeating it
    for d in sorted(todo, key=lambda d: hashlib.sha256(f"{os.getpid()}|{d}".encode()).hexdigest()):
        hit = cached(d) if store is not None and not store.refreshing(kind) else None
        if hit is not None:
            out[d] = hit
            continue
        figures = clean(sub, as_of=d).figures
        out[d] = evidence(figures, entity, flow, partner, currency)
        if store is None:
            continue
        # one cleaning serves every flow and currency of the entity and partner: all are stored
        for fl, cur in dict.fromkeys([(flow, currency)] + [(fl, cur) for fl in ("total", "exports", "imports")
                                                           for cur in CURRENCIES]):
            ev = out[d] if (fl, cur) == (flow, currency) else evidence(figures, entity, fl, partner, cur)
            store.put_json(kind, key(d, fl, cur), _evidence_to_json(ev))
    return {d: out[d] for d in dates}
