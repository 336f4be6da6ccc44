"""The data as known at each release date: vintages of a series' evidence for the pseudo-real-time
evaluation.

For every release date, the raw figures published by then are cleaned again (the same cleaning as
the data step, with that date as the cut-off) and reduced to the evidence of one series (annual and
year-to-date totals with their figure ids).  Vintages are cached as JSON under a key hashing the raw
rows used, the date and the series.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from xjtrade.data.clean import clean
from xjtrade.data.estimates import Evidence, evidence
from xjtrade.data.selector import series


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
    return {"annual": [[y, v] for y, v in sorted(ev.annual.items())],
            "ytd": [[y, m, v] for (y, m), v in sorted(ev.ytd.items())],
            "annual_ids": [[y, i] for y, i in sorted(ev.annual_ids.items())],
            "ytd_ids": [[y, m, i] for (y, m), i in sorted(ev.ytd_ids.items())],
            "published": ev.published}


def _evidence_from_json(d: dict):
    return Evidence(annual={int(y): float(v) for y, v in d["annual"]},
                    annual_ids={int(y): i for y, i in d["annual_ids"]},
                    ytd={(int(y), int(m)): float(v) for y, m, v in d["ytd"]},
                    ytd_ids={(int(y), int(m)): i for y, m, i in d["ytd_ids"]},
                    published=d["published"])


def _digest(sub, raw) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(sub.reports.astype(str), index=False).values.tobytes()
                          + pd.util.hash_pandas_object(raw.rates.astype(str), index=False).values.tobytes()
                          ).hexdigest()[:16]


def vintages_key(raw, dates, entity="Xinjiang", flow="total", partner="World", currency="CNY") -> str:
    """One hash of everything :func:`vintage_evidence` reads for these dates and this series (the raw
    rows of the series' entity and partner, the exchange rates, the dates): equal keys, equal vintages."""
    digest = _digest(_main_subset(raw, entity, partner), raw)
    return hashlib.sha256(json.dumps([digest, list(dates), entity, flow, partner, currency]).encode()).hexdigest()[:32]


def vintage_evidence(raw, dates, entity="Xinjiang", flow="total", partner="World", currency="CNY",
                     cache_dir: Path | None = None) -> dict:
    """{as_of: Evidence} for each date, each from the figures published by then only.

    `raw` is a :class:`xjtrade.data.raw.RawData`.  With `cache_dir`, each vintage is stored as
    JSON under a key hashing the raw rows used, the date and the series, so unchanged vintages
    are read back instead of cleaned again."""
    sub = _main_subset(raw, entity, partner)
    digest = _digest(sub, raw)
    out, todo, paths = {}, [], {}
    for d in dates:
        if cache_dir is not None:
            key = hashlib.sha256(f"{digest}|{d}|{entity}|{flow}|{partner}|{currency}".encode()).hexdigest()[:20]
            paths[d] = Path(cache_dir) / f"vintage-{key}.json"
            if paths[d].exists():
                out[d] = _evidence_from_json(json.loads(paths[d].read_text()))
                continue
        todo.append(d)
    # one process: a pool inside a notebook kernel is fragile, and the cache makes this a one-off cost
    done = [_one_vintage((sub, d, entity, flow, partner, currency)) for d in todo]
    for d, ev in zip(todo, done):
        out[d] = ev
        if d in paths:
            paths[d].parent.mkdir(parents=True, exist_ok=True)
            tmp = paths[d].with_suffix(".tmp")
            tmp.write_text(json.dumps(_evidence_to_json(ev)))
            tmp.replace(paths[d])
    return out


def _one_vintage(args):
    sub, d, entity, flow, partner, currency = args
    return evidence(clean(sub, as_of=d).figures, entity, flow, partner, currency)
