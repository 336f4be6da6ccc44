"""One-off import of the team's shared table of reported figures into data/raw.

This script was run once, when the project was founded, to turn the shared
research table (``../shared/data/xinjiang_trade_reports.csv``) and the figures of
the five seed articles into the project's own cited raw tables:

    data/raw/reports.csv   one row per reported figure
    data/raw/sources.csv   one row per source page or seed article

The project never runs it again and never reads ``../shared`` at run time: the
files it wrote are the project's raw data, edited by hand since (each edit is a
git commit).  It is kept so that anyone can see how the raw tables were made.

Usage (from the repository root):  python tools/import_shared_table.py ../shared
"""

from __future__ import annotations

import csv
import re
import sys
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlparse

ENTITY_RENAME = {
    "Xinjiang comprehensive bonded zones (Kashgar Horgos Alashankou Urumqi)": "Xinjiang comprehensive bonded zones (four)",
    "Xinjiang comprehensive bonded zones (Alashankou Kashgar Urumqi)": "Xinjiang comprehensive bonded zones (three)",
    "Xinjiang comprehensive bonded zones": "Xinjiang comprehensive bonded zones (all)",
    "Southern Xinjiang ports (Khunjerab Torugart Irkeshtam Karasu)": "Southern Xinjiang ports",
    "Horgos Tengyi International Logistics Co (Horgos highway port)": "Horgos Tengyi International Logistics",
}

# Figures carried by a segment of trade (not the whole of it), read from the note.
SEGMENTS = [
    ("private-enterprise", "private enterprises"),
    ("private enterprises", "private enterprises"),
    ("small-scale border trade", "border small-scale trade"),
    ("border small trade", "border small-scale trade"),
    ("border trade", "border trade"),
    ("general trade", "general trade"),
    ("bonded logistics", "bonded logistics"),
    ("processing trade", "processing trade"),
    ("cross-border e-commerce", "cross-border e-commerce"),
]

# Product groups, by CSV line number (header is line 1), decided by reading each note.
PRODUCTS = {
    46: "textiles and clothing", 47: "textiles and clothing", 49: "textiles and clothing",
    51: "textiles and clothing", 73: "agricultural products", 253: "fertilizer",
    292: "new three (electric vehicles, lithium batteries, solar cells)",
    326: "electric passenger cars",
    331: "labour-intensive and mechanical-electrical products",
    278: "commercial vehicles", 355: "commercial vehicles", 356: "commercial vehicles",
    330: "cars", 63: "cross-border e-commerce items", 122: "cross-border e-commerce parcels",
}

# Qualifiers read from the notes (value reported as a bound or a rounding), by CSV line.
QUALIFIER_PATTERNS = [
    (r"\b(?:over|more than|exceed\w*|topped|surpass\w*|above)\b", "over"),
    (r"\b(?:nearly|almost)\b", "nearly"),
    (r"\b(?:about|around|approximately|some)\b", "about"),
]


# Corrections to the automatic reading of qualifiers, by CSV line, after reading each note.
QUALIFIER_OVERRIDES = {56: "exact", 63: "about", 159: "about", 235: "about", 243: "over"}

# Figures that the shared table carries only inside its notes, or that the seed articles hold
# and the table did not: recorded as rows of their own (CSV line of the row whose source they share).
EXTRA_ROWS = [
    # growth gaps to the national rate ("N points above the national growth rate")
    dict(line=184, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to national rate",
         period_start="2022-01", period_end="2022-03", period_kind="quarter", value="24.2", unit="percentage points",
         description="Q1 2022: regional trade growth put 24.2 points above China's national rate"),
    dict(line=201, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to national rate",
         period_start="2022-01", period_end="2022-06", period_kind="half", value="29.7", unit="percentage points",
         description="H1 2022: regional trade growth put 29.7 points above the national rate"),
    dict(line=213, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to national rate",
         period_start="2022-01", period_end="2022-07", period_kind="ytd", value="27.7", unit="percentage points",
         description="Jan-Jul 2022: regional trade growth put 27.7 points above the national rate"),
    dict(line=226, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to national rate",
         period_start="2022-01", period_end="2022-11", period_kind="ytd", value="51.2", unit="percentage points",
         description="Jan-Nov 2022: regional trade growth put 51.2 points above the national rate"),
    dict(line=259, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to national rate",
         period_start="2023-01", period_end="2023-03", period_kind="quarter", value="75.5", unit="percentage points",
         description="Q1 2023: regional trade growth put 75.5 points above the national rate"),
    dict(line=338, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to national rate",
         period_start="2023-01", period_end="2023-12", period_kind="year", value="45.7", unit="percentage points",
         description="2023: customs say the region's trade growth beat the national rate by 45.7 points"),
    dict(line=338, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to western-region rate",
         period_start="2023-01", period_end="2023-12", period_kind="year", value="47", unit="percentage points",
         description="2023: the region's trade growth beat that of China's western region as a whole by 47 points"),
    dict(line=340, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to national rate",
         period_start="2023-01", period_end="2023-12", period_kind="year", value="45.7", unit="percentage points",
         description="2023: growth 45.7 points above the national rate (Workers Daily reprint)"),
    dict(line=340, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to western-region rate",
         period_start="2023-01", period_end="2023-12", period_kind="year", value="47", unit="percentage points",
         description="2023: growth 47 points above the western region's rate (Workers Daily reprint)"),
    dict(line=353, entity="Xinjiang", flow="total", partner="World", indicator="growth gap to national rate",
         period_start="2023-01", period_end="2023-12", period_kind="year", value="45.7", unit="percentage points",
         description="2023: growth 45.7 points above the national rate (China Daily via gov.cn)"),
    dict(line=11, entity="China", flow="total", partner="World", indicator="trade value",
         period_start="2012-01", period_end="2012-06", period_kind="half", value="", unit="billion USD", yoy_pct="8",
         description="H1 2012: China's national trade growth quoted as 8% for comparison (growth only)"),
    # seed figures the shared table did not carry as rows
    dict(line=338, entity="Xinjiang", flow="total", partner="World", indicator="rank among provinces by trade growth",
         period_start="2023-01", period_end="2023-12", period_kind="year", value="2", unit="rank",
         description="2023: the region's trade growth ranked second among China's provinces"),
    dict(line=339, entity="Xinjiang", flow="total", partner="World", indicator="consecutive months of double-digit growth",
         period_start="2023-12", period_end="2023-12", period_kind="month", value="26", unit="count",
         description="December 2023 extended to 26 months the run of monthly trade growth of 10% or more"),
    dict(line=338, entity="Xinjiang", flow="n/a", partner="World", indicator="foreign-affairs activities attended by Urumqi Customs",
         period_start="2023-01", period_end="2023-12", period_kind="year", value="34", unit="count",
         description="2023: Urumqi Customs sent staff to 34 important foreign-affairs events at regional or national level"),
    dict(line=338, entity="Xinjiang", flow="n/a", partner="World", indicator="talks held with foreign counterparts by Urumqi Customs",
         period_start="2023-01", period_end="2023-12", period_kind="year", value="61", unit="count",
         description="2023: Urumqi Customs organised 61 meetings or talks at various levels with foreign counterparts"),
    dict(line=338, entity="Xinjiang", flow="n/a", partner="World", indicator="food-safety regulations and standards collected",
         period_start="2023-01", period_end="2023-12", period_kind="year", value="93", unit="count",
         description="2023: Urumqi Customs gathered 93 foreign food-safety technical regulations and standards"),
    dict(line=302, entity="Xinjiang", flow="n/a", partner="World", indicator="countries whose envoys visited the region",
         period_start="2023-08", period_end="2023-08", period_kind="other", value="20", unit="count", qualifier="over",
         description="Mid-2023 visit: diplomatic envoys from more than 20 countries toured the region for five days"),
    dict(line=302, entity="Xinjiang", flow="n/a", partner="World", indicator="length of the envoys' visit",
         period_start="2023-08", period_end="2023-08", period_kind="other", value="5", unit="days",
         description="Mid-2023 visit: the envoys' tour lasted five days"),
    dict(line=369, entity="Kashgar comprehensive bonded zone", flow="n/a", partner="World",
         indicator="countries with capitals or major cities within a 1.5-hour flight", period_start="2022-07",
         period_end="2022-07", period_kind="other", value="8", unit="count",
         description="The zone's 1.5-hour air circle reaches capitals or major cities of eight countries, Pakistan and Tajikistan among them"),
]


def publisher_and_language(url: str) -> tuple[str, str]:
    if url.startswith("seed:"):
        return "seed article (publisher not named in the text)", "en"
    host = urlparse(url).netloc.lower().rstrip(".")
    lang = "en"
    for prefix, code in [("french.", "fr"), ("fr.", "fr"), ("arabic.", "ar"), ("german.", "de"),
                         ("italian.", "it"), ("spanish.", "es"), ("russian.", "ru"),
                         ("portuguese.", "pt"), ("hausa.", "ha")]:
        if host.startswith(prefix):
            lang = code
    lang = {
        "www.ansa.it": "it", "www.agenzianova.com": "it", "elivebrescia.tv": "it",
        "www.elivebrescia.tv": "it", "criturk.com": "tr", "rossaprimavera.ru": "ru",
        "index1520.com": "ru", "twittersmash.com": "de", "m.92880.cn": "zh",
        "news.sohu.com": "zh", "news.wenweipo.com": "zh", "49.213.3.36": "zh",
        "www.soulun.net": "zh", "www.yjtextile.com": "zh", "yjtextile.com": "zh",
        "m.chinaxiaokang.com": "zh", "szb.cjxww.cn:92": "zh", "m.chinaxinjiang.cn": "zh",
        "houyingdance.com": "zh", "naghshcarpet.com": "zh", "idtheftpreventiononline.com": "zh",
        "m.timmybuy.com": "ja", "sl.china.com.cn": "zh", "cnnewsagency.com": "zh",
        "www.breakinglatest.news": "en", "vshangxuetang.com": "en",
    }.get(host, lang)
    publishers = [
        ("people.cn", "People's Daily Online"), ("peopledaily.com.cn", "People's Daily Online"),
        ("ecns.cn", "China News Service (ecns.cn)"), ("chinaxinjiang.cn", "China Xinjiang (chinaxinjiang.cn)"),
        ("globaltimes.cn", "Global Times"), ("news.cn", "Xinhua"), ("xinhuanet.com", "Xinhua"),
        ("chinadaily.com.cn", "China Daily"), ("chinaservicesinfo.com", "China Daily (chinaservicesinfo.com)"),
        ("gov.cn", "State Council of the PRC (gov.cn)"), ("yidaiyilu.gov.cn", "Belt and Road Portal"),
        ("china.org.cn", "China.org.cn"), ("chinagate.cn", "China Development Gateway"),
        ("chinatoday.com.cn", "China Today"), ("cri.cn", "China Radio International"),
        ("inform.kz", "Kazinform"), ("shine.cn", "Shanghai Daily (shine.cn)"),
        ("urdupoint.com", "UrduPoint"), ("nation.com.pk", "The Nation (Pakistan)"),
        ("agenzianova.com", "Agenzia Nova"), ("ansa.it", "ANSA"), ("astanatimes.com", "The Astana Times"),
        ("newscentralasia.net", "News Central Asia"), ("timesca.com", "The Times of Central Asia"),
        ("wenweipo.com", "Wen Wei Po"), ("sohu.com", "Sohu News"), ("nampa.org", "NAMPA (Xinhua feed)"),
        ("docslib.org", "docslib.org (HKTDC research paper)"), ("imsilkroad.com", "Silk Road Information Service"),
        ("brnn.com", "Belt and Road News Network"), ("ts.cn", "Tianshan Net"),
        ("maritime-network.com", "Maritime Network"), ("hellenicshippingnews.com", "Hellenic Shipping News"),
        ("chinaxiaokang.com", "China Xiaokang Net"), ("cjxww.cn", "Changjiang Times (digital edition)"),
        ("thechinatimes.com", "The China Times"), ("tellerreport.com", "Teller Report"),
        ("49.213.3.36", "China Review News (CRNTT)"), ("92880.cn", "China News Service (mirror)"),
        ("soulun.net", "journal abstract (soulun.net)"), ("yjtextile.com", "Yongjia Textile (textile trade site)"),
    ]
    pub = next((name for key, name in publishers if key in host), f"{host} (mirror or repost site)")
    return pub, lang


def source_id(url: str, published: str, seen: dict[str, str]) -> str:
    if url in seen:
        return seen[url]
    if url.startswith("seed:"):
        sid = "seed-" + url.split(":", 1)[1][:3]
    else:
        host = urlparse(url).netloc.lower().rstrip(".").split(":")[0]
        parts = [p for p in host.split(".") if p not in {"www", "m", "en", "eng", "english", "news", "com", "cn", "org", "net", "gov", "co", "tv", "ru", "it", "kz", "pk"}]
        slug = (parts[-1] if parts else {"english.www.gov.cn": "govcn"}.get(host, host)).replace("_", "-")[:18]
        if re.fullmatch(r"[\d.]+", host):
            slug = "crntt"
        sid = f"{slug}-{published or 'undated'}"
    base, n = sid, 2
    while sid in seen.values():
        sid = f"{base}-{n}"
        n += 1
    seen[url] = sid
    return sid


def classify(line: int, row: dict) -> dict:
    note = row["note"]
    low = note.lower()
    unit = row["unit"]
    indicator, unit_out = "trade value", unit
    m = re.match(r"count \((.+)\)", unit)
    if m:
        indicator, unit_out = m.group(1), "count"
    elif unit == "10k tons":
        indicator = "cargo weight"
    elif unit.startswith("days"):
        indicator, unit_out = "customs declaration time", "days"
    if line == 357:
        indicator = "signed agreement value"
    segment = "all"
    if row["flow"] == "other" and indicator == "trade value":
        for key, seg in SEGMENTS:
            if key in low and line not in (12,) or (line == 12 and key == "border trade"):
                segment = seg
                break
    product = PRODUCTS.get(line, "all")
    if product.startswith("cross-border e-commerce"):
        segment = "cross-border e-commerce"
    flow = row["flow"]
    if flow == "other":
        flow = "total" if indicator in ("trade value", "cargo weight") or "trains" in indicator else "n/a"
    qualifier = "exact"
    if row["value"]:
        v = row["value"]
        for pattern, q in QUALIFIER_PATTERNS:
            # the qualifier must govern the figure itself, not a USD conversion in brackets
            if re.search(pattern + r"\s+(?:\d[\d,.]*\s*(?:bn|billion|million|thousand)?\s*)?" + re.escape(v.split(".")[0]), low) or \
               re.search(r"reported as (?:exceeding|more than|over)", low) and q == "over" or \
               re.search(r"'(?:more than|over) [\d.]+ bn yuan'", low) and q == "over":
                qualifier = q
                break
    qualifier = QUALIFIER_OVERRIDES.get(line, qualifier)
    kind = row["period_kind"] or "undated"
    return dict(flow=flow, product=product, segment=segment, indicator=indicator,
                unit=unit_out, qualifier=qualifier, period_kind=kind)


def main(shared: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    rows = list(csv.DictReader((shared / "data" / "xinjiang_trade_reports.csv").open(encoding="utf-8")))
    seen: dict[str, str] = OrderedDict()
    out = []
    for i, row in enumerate(rows):
        line = i + 2
        c = classify(line, row)
        sid = source_id(row["source_url"], row["published"], seen)
        out.append({
            "row_id": f"R{len(out) + 1:04d}",
            "entity": ENTITY_RENAME.get(row["entity"], row["entity"]),
            "flow": c["flow"], "partner": row["partner"], "product": c["product"],
            "segment": c["segment"], "indicator": c["indicator"],
            "period_start": row["period_start"], "period_end": row["period_end"],
            "period_kind": c["period_kind"], "value": row["value"], "unit": c["unit"],
            "qualifier": c["qualifier"], "yoy_pct": row["yoy_pct"], "source_id": sid,
            "description": row["note"],
            "check": "doubt" if "DOUBT" in row["note"] else ("seed" if row["source_url"].startswith("seed:") else "unchecked"),
        })
    for extra in EXTRA_ROWS:
        base = rows[extra["line"] - 2]
        sid = seen[base["source_url"]]
        rec = {k: "" for k in out[0]}
        rec.update({"row_id": f"R{len(out) + 1:04d}", "product": "all", "segment": "all", "qualifier": "exact",
                    "yoy_pct": "", "source_id": sid, "check": "seed" if sid.startswith("seed") else "unchecked"})
        rec.update({k: v for k, v in extra.items() if k != "line"})
        out.append(rec)
    with (root / "data" / "raw" / "reports.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    srcs = []
    for url, sid in seen.items():
        pub_dates = sorted({r["published"] for r in rows if r["source_url"] == url})
        publisher, lang = publisher_and_language(url)
        srcs.append({"source_id": sid, "title": "", "publisher": publisher,
                     "published": pub_dates[0] if pub_dates else "", "url": url, "language": lang,
                     "date_inferred": "yes" if any("inferred" in r["note"] and r["source_url"] == url for r in rows) else "no"})
    with (root / "data" / "raw" / "sources.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(srcs[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(srcs)
    print(f"{len(out)} rows, {len(srcs)} sources")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared"))
