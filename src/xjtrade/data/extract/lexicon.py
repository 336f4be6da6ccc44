"""The words of the releases, one registry per list: month names and number words by language,
the entities, partners, trade segments, flows, units and the words around a figure.

Chinese patterns are written in simplified characters: text in traditional characters is
converted (OpenCC t2s) before it is matched.  English patterns are matched case-insensitively.
A new partner, port or language is one entry here; `rules.py` builds its patterns from these
tables and holds no words of its own.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en", "de", "ru", "fr", "es", "pt", "it")

# ---------------------------------------------------------------- months and number words

MONTHS: dict[str, list[str]] = {
    # regex alternatives for each calendar month, January first
    "en": [r"jan(?:uary|\.)?", r"feb(?:ruary|\.)?", r"mar(?:ch|\.)?", r"apr(?:il|\.)?", r"may",
           r"june?\.?", r"july?\.?", r"aug(?:ust|\.)?", r"sep(?:tember|t?\.)?", r"oct(?:ober|\.)?",
           r"nov(?:ember|\.)?", r"dec(?:ember|\.)?"],
    "de": ["januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "dezember"],
    "ru": ["январ[ьяеюё]", "феврал[ьяеюё]", "март[ае]?", "апрел[ьяеюё]", "ма[йяе]", "июн[ьяеюё]",
           "июл[ьяеюё]", "август[ае]?", "сентябр[ьяеюё]", "октябр[ьяеюё]", "ноябр[ьяеюё]", "декабр[ьяеюё]"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"],
    "pt": ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro",
           "novembro", "dezembro"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
           "ottobre", "novembre", "dicembre"],
}

NUMBER_WORDS: dict[str, dict[str, int]] = {
    "en": {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "eleven": 11, "twelve": 12},
    "de": {"ein": 1, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8,
           "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12},
    "ru": {"два": 2, "двух": 2, "три": 3, "трех": 3, "трёх": 3, "четыре": 4, "четырех": 4, "пять": 5, "пяти": 5,
           "шесть": 6, "шести": 6, "семь": 7, "семи": 7, "восемь": 8, "восьми": 8, "девять": 9, "девяти": 9,
           "десять": 10, "десяти": 10, "одиннадцать": 11, "одиннадцати": 11},
    "fr": {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
           "onze": 11},
    "es": {"dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
           "diez": 10, "once": 11},
    "pt": {"dois": 2, "três": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8, "nove": 9,
           "dez": 10, "onze": 11},
    "it": {"due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7, "otto": 8, "nove": 9,
           "dieci": 10, "undici": 11},
}

# ---------------------------------------------------------------- period phrases (besides months)

# "this year" / "last year" words: (regex, years back from the publication year)
RELATIVE_YEARS: dict[str, list[tuple[str, int]]] = {
    "zh": [("今年", 0), ("本年", 0), ("去年", -1), ("上年", -1)],
    "en": [(r"this year", 0), (r"the current year", 0), (r"last year", -1), (r"the previous year", -1)],
    "de": [(r"dieses jahres", 0), (r"des laufenden jahres", 0), (r"in diesem jahr", 0),
           (r"des vergangenen jahres", -1), (r"im vergangenen jahr", -1), (r"im letzten jahr", -1)],
    "ru": [(r"этого года", 0), (r"текущего года", 0), (r"в этом году", 0), (r"нынешнего года", 0),
           (r"прошлого года", -1), (r"в прошлом году", -1)],
    "fr": [(r"de cette année", 0), (r"de l'année en cours", 0), (r"l'an dernier", -1), (r"l'année dernière", -1)],
    "es": [(r"de este año", 0), (r"del año en curso", 0), (r"el año pasado", -1)],
    "pt": [(r"deste ano", 0), (r"do ano corrente", 0), (r"no ano passado", -1)],
    "it": [(r"di quest'anno", 0), (r"dell'anno in corso", 0), (r"l'anno scorso", -1)],
}

# Spans of several years that have a name: (regex, first year, last year)
NAMED_SPANS: list[tuple[str, int, int]] = [
    ("十三五", 2016, 2020), ("十四五", 2021, 2025), ("十五五", 2026, 2030),
    (r"13th five-year plan", 2016, 2020), (r"14th five-year plan", 2021, 2025), (r"15th five-year plan", 2026, 2030),
]

# Phrases that name a period the extractor cannot pin down: a figure governed by one of them gets
# a low-confidence candidate with this reason instead of a period borrowed from elsewhere.
VAGUE_PERIODS: list[tuple[str, str]] = [
    ("今年以来", "'since the start of this year' does not say up to which month"),
    ("年初以来", "'since the start of the year' does not say up to which month"),
    ("近年来", "'in recent years' is not a period"),
    ("累计", "a cumulative figure whose span is not stated"),
    (r"so far this year", "'so far this year' does not say up to which month"),
    (r"since the beginning of (?:this|the) year", "'since the beginning of the year' does not say up to which month"),
    (r"since the start of (?:this|the) year", "'since the start of the year' does not say up to which month"),
    (r"in recent years", "'in recent years' is not a period"),
    (r"over the past (?:\w+ )?years", "'over the past years' is not a period"),
    (r"seit jahresbeginn", "'seit Jahresbeginn' does not say up to which month"),
    (r"с начала (?:этого |текущего )?года", "'с начала года' does not say up to which month"),
]

# ---------------------------------------------------------------- entities, partners, segments

# (regex, entity name in data/raw); longer and more specific patterns first
ENTITIES: list[tuple[str, str]] = [
    (r"喀什综合保税区|喀什综保区", "Kashgar comprehensive bonded zone"),
    (r"(?:4|四)个综合保税区|(?:4|四)个综保区|综合保税区|综保区", "Xinjiang comprehensive bonded zones (four)"),
    (r"自由贸易试验区|自贸试验区|自贸区", "China (Xinjiang) Pilot Free Trade Zone"),
    (r"霍尔果斯铁路口岸", "Horgos railway port"),
    (r"霍尔果斯公路口岸", "Horgos highway port"),
    (r"霍尔果斯口岸", "Horgos port"),
    (r"阿拉山口口岸", "Alashankou port"),
    (r"伊尔克什坦口岸", "Irkeshtam port"),
    (r"吐尔尕特口岸", "Torugart port"),
    (r"红其拉甫口岸", "Khunjerab port"),
    (r"巴克图口岸", "Bakhty port"),
    (r"南疆(?:各)?口岸|新疆南部(?:地区)?口岸|新疆南部的[^，,。]{0,30}口岸", "Southern Xinjiang ports"),
    (r"新疆(?:各)?口岸|全疆口岸", "Xinjiang ports"),
    # transport modes in a list of cargo by mode ('以管道、铁路、公路运输方式'): pipelines have no port entity
    (r"铁路(?=[^，,。]{0,12}运输方式)", "Xinjiang railway ports"),
    (r"公路(?=[^，,。]{0,12}运输方式)", "Xinjiang highway ports"),
    (r"管道(?=[^，,。]{0,12}运输方式)", ""),
    (r"新疆|全区|全疆|我区|自治区", "Xinjiang"),
    (r"(?<!居)全国(?![第首前各])|我国", "China"),
    (r"kashgar comprehensive bonded zone", "Kashgar comprehensive bonded zone"),
    (r"eisenbahn(?:grenzübergang|hafen) (?:von )?(?:horgos|khorgos)", "Horgos railway port"),
    (r"(?:hafen|grenzhafen|landhafen|bahnhof|grenzübergang) (?:von )?(?:horgos|khorgos)|"
     r"(?:horgos|khorgos)-(?:hafen|bahnhof|grenzübergang)", "Horgos port"),
    (r"(?:hafen|grenzhafen|landhafen|bahnhof|eisenbahnhafen|grenzübergang) (?:von )?alashankou|alataw-pass|"
     r"alashankou-(?:hafen|bahnhof|grenzübergang)", "Alashankou port"),
    (r"porto ferroviario di (?:horgos|khorgos)", "Horgos railway port"),
    (r"porto (?:terrestre )?di (?:horgos|khorgos)", "Horgos port"),
    (r"(?:four |4 )?(?:integrated|comprehensive) bonded (?:zones|areas)|(?:four |4 )bonded zones",
     "Xinjiang comprehensive bonded zones (four)"),
    (r"pilot free trade zones?|free trade zones?|\bftzs?\b", "China (Xinjiang) Pilot Free Trade Zone"),
    (r"(?:alashankou|alataw pass|alataw) and (?:horgos|khorgos) (?:railway )?ports|"
     r"(?:horgos|khorgos) and (?:alashankou|alataw pass|alataw) (?:railway )?ports",
     "Alataw Pass and Horgos railway ports"),
    (r"(?:the )?(?:horgos|khorgos) port and (?:the )?(?:alataw pass|alashankou port)|"
     r"(?:the )?(?:alataw pass|alashankou port) and (?:the )?(?:horgos|khorgos) port|"
     r"(?:horgos|khorgos) and (?:alashankou|alataw)(?: pass)?|(?:alashankou|alataw)(?: pass)? and (?:horgos|khorgos)",
     "Alataw Pass and Horgos railway ports"),
    (r"(?:horgos|khorgos|khorgas) railway port|railway port of (?:horgos|khorgos|khorgas)", "Horgos railway port"),
    (r"(?:horgos|khorgos|khorgas) highway port", "Horgos highway port"),
    (r"(?:horgos|khorgos|khorgas) (?:land )?port", "Horgos port"),
    (r"(?:alashankou|alataw pass|alataw) (?:railway )?port|alataw pass", "Alashankou port"),
    (r"irkeshtam port", "Irkeshtam port"),
    (r"torugart port", "Torugart port"),
    (r"khunjerab port|khunjerab pass", "Khunjerab port"),
    (r"xinjiang(?:'s)? ports", "Xinjiang ports"),
    (r"xinjiang|the region\b|the autonomous region", "Xinjiang"),
    (r"china's (?:total )?foreign trade|the country's foreign trade|nationwide|national total", "China"),
    (r"zona-piloto de livre comércio|zona piloto de libre comercio|zone pilote de libre-échange|"
     r"zona pilota di libero scambio|pilot-freihandelszone|freihandelszone|пилотн\w+ зон\w+ свободной торговли",
     "China (Xinjiang) Pilot Free Trade Zone"),
    (r"gebiet[s]? xinjiang|xinjiangs?", "Xinjiang"),
    (r"синьцзян\w*", "Xinjiang"),
]

# (regex, partner name in data/raw)
PARTNERS: list[tuple[str, str]] = [
    (r"中亚五国|中亚国家|中亚", "Central Asia"),
    (r"哈萨克斯坦", "Kazakhstan"), (r"吉尔吉斯斯坦", "Kyrgyzstan"), (r"塔吉克斯坦", "Tajikistan"),
    (r"乌兹别克斯坦", "Uzbekistan"), (r"土库曼斯坦", "Turkmenistan"), (r"俄罗斯", "Russia"),
    (r"蒙古国|蒙古", "Mongolia"), (r"巴基斯坦", "Pakistan"), (r"美国", "United States"),
    (r"欧盟", "EU"), (r"东盟", "ASEAN"),
    (r"共建[“\"「]?一带一路[”\"」]?国家|[“\"「]?一带一路[”\"」]?沿线国家|[“\"「]?一带一路[”\"」]?国家", "Belt and Road"),
    (r"区域全面经济伙伴关系协定\s*[（(]?RCEP[)）]?\s*(?:成员)?国家|RCEP\s*(?:成员)?国家|RCEP", "RCEP"),
    (r"上合组织(?:成员国)?", "SCO members"),
    (r"(?:five )?central asian (?:countries|states|nations|markets)|central asia", "Central Asia"),
    (r"kazakhstan", "Kazakhstan"), (r"kyrgyzstan", "Kyrgyzstan"), (r"tajikistan", "Tajikistan"),
    (r"uzbekistan", "Uzbekistan"), (r"turkmenistan", "Turkmenistan"), (r"russia", "Russia"),
    (r"mongolia", "Mongolia"), (r"pakistan", "Pakistan"), (r"the united states|the u\.s\.", "United States"),
    (r"the european union|\bthe eu\b", "EU"), (r"asean", "ASEAN"),
    (r"(?:countries|partners|partner countries|nations|economies) (?:participating in|along|involved in|"
     r"under|of) the (?:belt and road|bri)\b(?: initiative)?|belt and road (?:countries|partners|partner countries)|"
     r"\bbri (?:countries|partners|partner countries)", "Belt and Road"),
    (r"(?:the )?(?:bri|belt and road)(?: initiative)? (?:participating |partner )?(?:countries|economies|nations)|"
     r"(?:participating|partner) countries (?:of|in) the (?:bri|belt and road)(?: initiative)?", "Belt and Road"),
    (r"\brcep\b(?: (?:member )?(?:countries|members|economies))?", "RCEP"),
    (r"\bafrica(?:n countries)?\b", "Africa"),
    (r"kasachstan", "Kazakhstan"), (r"kirgisistan", "Kyrgyzstan"), (r"tadschikistan", "Tajikistan"),
    (r"zentralasiatischen ländern|zentralasien", "Central Asia"),
    (r"(?:ländern|teilnehmerländern|länder) (?:entlang|der) (?:den routen der |der )?[\"„]?gürtel und straße",
     "Belt and Road"),
    (r"paesi partner della (?:bri|belt and road)|paesi (?:della|lungo la) (?:bri|belt and road|nuova via della seta)|"
     r"países (?:de la|da|participantes (?:de la|da)) (?:franja y la ruta|iniciativa do cinturão e rota|bri)",
     "Belt and Road"),
    (r"(?:cinque )?paesi dell[’']asia centrale|asia centrale|(?:cinco )?países (?:de|da) ásia central|asia central",
     "Central Asia"),
    (r"kazakistan", "Kazakhstan"), (r"cazaquistão|kazajistán", "Kazakhstan"),
    (r"казахстан\w*", "Kazakhstan"), (r"кыргызстан\w*|киргизи\w*", "Kyrgyzstan"), (r"таджикистан\w*", "Tajikistan"),
    (r"центральн\w+ ази\w+", "Central Asia"),
    (r"(?:государствами|странами|стран) вдоль (?:маршрутов )?[«\"]?пояса и пути", "Belt and Road"),
]

# (regex, segment name in data/raw)
SEGMENTS: list[tuple[str, str]] = [
    (r"民营企业|民营", "private enterprises"),
    (r"国有企业", "state-owned enterprises"),
    (r"外商投资企业|外资企业", "foreign-invested enterprises"),
    (r"一般贸易", "general trade"),
    (r"边境小额贸易", "border small-scale trade"),
    (r"边境贸易|边贸", "border trade"),
    (r"保税物流", "bonded logistics"),
    (r"加工贸易", "processing trade"),
    (r"跨境电商|跨境电子商务", "cross-border e-commerce"),
    (r"对外承包(?:工程)?", "overseas contracted projects"),
    (r"private (?:enterprises|companies|firms|sector)", "private enterprises"),
    (r"state-owned enterprises?", "state-owned enterprises"),
    (r"foreign-invested enterprises|foreign-funded enterprises", "foreign-invested enterprises"),
    (r"general trade", "general trade"),
    (r"border small-scale trade|small-scale border trade|cross-border small-volume trade", "border small-scale trade"),
    (r"border trade", "border trade"),
    (r"bonded logistics", "bonded logistics"),
    (r"processing trade", "processing trade"),
    (r"cross-border e-commerce", "cross-border e-commerce"),
    (r"privatunternehmen", "private enterprises"),
    (r"allgemeine[nr]? handel", "general trade"),
    (r"边民互市(?:贸易)?|border residents' (?:mutual )?trade|mutuo scambio dei residenti sul confine", "border residents' trade"),
    (r"e-commerce transfrontaliero|comércio eletrônico transfronteiriço|comercio electrónico transfronterizo|"
     r"grenzüberschreitende[nr]? e-commerce", "cross-border e-commerce"),
]

# Segments that imply a flow (对外承包出口: exports of overseas contracted projects)
SEGMENT_FLOWS = {"overseas contracted projects": "exports", "cross-border e-commerce exports": "exports"}

# Words marking a figure about goods of one kind (never a total): such figures are not extracted.
PRODUCT_WORDS = [
    r"产品", r"商品", r"机电", r"农产品", r"新三样", r"汽车", r"电池", r"番茄", r"棉花", r"服装", r"矿砂", r"原油",
    r"天然气", r"煤炭", r"粮食", r"钢材", r"铜", r"货物贸易",
    r"\bproducts?\b", r"\bcommodit(?:y|ies)", r"\bvehicles?", r"\bcars?\b", r"\bbatter(?:y|ies)", r"\bsolar",
    r"\btextiles?", r"\bgarments?", r"\bmachinery", r"\bcrude oil", r"\bnatural gas", r"\bores?\b",
    r"\bagricultural", r"\bprodukte", r"\belektro", r"продукци", r"товаров", r"\bprodott[io]\b", r"\bagricol\w+",
    r"\bprodutos\b", r"\bproductos\b", r"\bproduits\b",
]

# ---------------------------------------------------------------- flows

# (regex, flow); the patterns for total trade come first so that 进出口 is never read as 出口
FLOWS: list[tuple[str, str]] = [
    (r"进出口|外贸|对外贸易|贸易额|贸易总额|贸易规模|贸易", "total"),
    (r"出口", "exports"),
    (r"进口", "imports"),
    (r"imports? and exports?|exports? and imports?|foreign trade|total trade|trade (?:value|volume)|"
     r"\btrade\b|\btraded?\b|turnover", "total"),
    (r"\bexport(?:s|ed)?\b|\bshipments\b|\boutbound\b", "exports"),
    (r"\bimport(?:s|ed)?\b|\binbound\b", "imports"),
    (r"imported and exported|exported and imported", "total"),
    (r"importe? und exporte?|exporte? und importe?|ein- und ausfuhr\w*|import- und export\w*|außenhandel\w*|"
     r"handel\w*", "total"),
    (r"импорт\w* и экспорт\w*|экспорт\w* и импорт\w*", "total"),
    (r"importaç(?:ão|ões) e exportaç(?:ão|ões)|exportaç(?:ão|ões) e importaç(?:ão|ões)|importaciones y exportaciones|"
     r"exportaciones e importaciones|importations et (?:des )?exportations|importazioni (?:ed|e) esportazioni",
     "total"),
    (r"export\w*|ausfuhr\w*", "exports"),
    (r"import\w*|einfuhr\w*", "imports"),
    (r"внешнеторгов\w+|товарооборот\w*|торгов\w*|внешн\w+ торговл\w+", "total"),
    (r"экспорт\w*", "exports"),
    (r"импорт\w*", "imports"),
    (r"commerce extérieur|échanges commerciaux|comercio exterior|intercambio comercial|comércio exterior|"
     r"commercio estero|interscambio|import-export", "total"),
    (r"exportations?|exportaciones|exportações|esportazioni", "exports"),
    (r"importations?|importaciones|importações|importazioni", "imports"),
]

# Words that make a clause about trade at all (a money figure in a sentence without any of these,
# or of the flows above, is not extracted: GDP, investment, retail sales, signed deals)
NOT_TRADE = [
    r"生产总值|GDP|投资|消费品|零售|签约|合同|项目|招商|收入|利润|财政|融资",
    r"\bgdp\b|investment|retail|signed|contracts?\b|deals?\b|projects?\b|revenue|profits?|fiscal|target|"
    r"industr(?:y|ies|ial)|value-added|fixed assets|budget|incomes?\b",
    r"bip\b|investition", r"ввп|инвестиц",
]

# ---------------------------------------------------------------- units

CURRENCIES: list[tuple[str, str]] = [
    # (regex after the number and scale, currency code); yuan first
    (r"元(?:人民币)?|人民币", "CNY"),
    (r"美元", "USD"),
    (r"(?:chinese )?yuan(?:es|s)?(?:\s+rmb)?\b|rmb\b|cny\b|renminbi\b|юан\w*", "CNY"),
    (r"(?:u\.s\.|us|american) dollars?|us-dollar|usd|dollars?|долл\.? сша|доллар\w* сша|долл\.|"
     r"dólares(?: estadounidenses| americanos)?|dollari(?: usa| statunitensi)?|dollars? américains", "USD"),
]

# currency symbols written before the number
CURRENCY_PREFIXES: list[tuple[str, str]] = [
    (r"us\$|u\.s\.\$|\$", "USD"), (r"rmb\s?|cny\s?|¥|￥", "CNY"),
]

# scale words after the number: (regex, power of ten)
SCALES: dict[str, list[tuple[str, int]]] = {
    "zh": [("万亿", 12), ("亿", 8), ("万", 4)],
    "en": [(r"trillion|trln|trn", 12), (r"billion|bln|bn", 9), (r"million|mln|mn", 6), (r"thousand", 3)],
    "de": [(r"billionen", 12), (r"milliarden|mrd\.?", 9), (r"millionen|mio\.?", 6)],
    "ru": [(r"трлн\.?|триллион\w*", 12), (r"млрд\.?|миллиард\w*", 9), (r"млн\.?|миллион\w*", 6)],
    "fr": [(r"billions", 12), (r"milliards?", 9), (r"millions?", 6)],
    "es": [(r"billones", 12), (r"mil millones", 9), (r"millones", 6)],
    "pt": [(r"trilhões", 12), (r"bilhões|mil milhões", 9), (r"milhões", 6)],
    "it": [(r"mila miliardi", 12), (r"miliardi", 9), (r"milioni", 6)],
}

# (power of ten, currency) -> unit of data/raw
MONEY_UNITS: dict[tuple[int, str], str] = {
    (12, "CNY"): "trillion yuan", (9, "CNY"): "billion yuan", (8, "CNY"): "100 million yuan",
    (6, "CNY"): "million yuan", (4, "CNY"): "10k yuan", (0, "CNY"): "yuan",
    (12, "USD"): "trillion USD", (9, "USD"): "billion USD", (8, "USD"): "100 million USD",
    (6, "USD"): "million USD", (0, "USD"): "USD",
}

# Counted things: (regex after the number, indicator, unit). Trains are China-Europe freight trains.
COUNTS: list[tuple[str, str]] = [
    (r"列(?:次)?", "China-Europe freight trains"),
    (r"china-europe\s*(?:\(|/|and\s+china-)\s*central\s+asia\)?\s+(?:railway express |freight )?"
     r"(?:trains?|train trips)\b", "China-Europe/Central Asia freight trains"),
    (r"china-(?:central\s+)?asia\s+(?:railway express |freight )?(?:trains?|train trips)\b",
     "China-Central Asia freight trains"),
    (r"(?:china-europe\s+|such\s+)?(?:railway express |freight )?(?:trains?|train trips)\b", "China-Europe freight trains"),
    (r"(?:china-europa-)?(?:express)?güterzüge|(?:china-europa-)?expresszüge", "China-Europe freight trains"),
    (r"(?:грузов\w+ )?поезд\w*", "China-Europe freight trains"),
]
TRAIN_WORDS = r"中欧|班列|china-europe|railway express|freight trains?|güterz|поезд"
# which trains a generic count ("7762列", "4,000 trains") counts, from the words of its sentence
TRAIN_KINDS: list[tuple[str, str]] = [
    (r"中欧[（(]中亚[)）]班列|中欧、中亚班列|中欧班列和中亚班列|china-europe\s*(?:\(|/)\s*(?:china-)?central asia|"
     r"china-europe and china-(?:central )?asia|china-europe/central asia|cina-europa\s*\(asia centrale\)|"
     r"china-europa\s*\(zentralasien\)", "China-Europe/Central Asia freight trains"),
    (r"中亚班列|china-(?:central )?asia (?:railway express|freight train)", "China-Central Asia freight trains"),
    (r"中欧班列|china-europe|europa|европ|europe", "China-Europe freight trains"),
]

# weights: (regex after the number and scale, factor to ten-thousand tons as a power of ten)
WEIGHTS: list[tuple[str, int]] = [
    ("万吨", 0), ("吨", -4),
    (r"million (?:metric )?(?:tons|tonnes)|mln (?:tons|tonnes)|mt\b", 2),
    (r"(?:metric )?(?:tons|tonnes)\b", -4),
    (r"millionen tonnen", 2), (r"tonnen", -4), (r"млн\.? тонн", 2), (r"тонн\w*", -4),
]

# Things counted that are not trade figures: a number followed by one of these is not extracted.
OTHER_COUNTS = r"家|个|辆|种|项|批|票|架次|人次|条|国家|countries|enterprises|companies|firms|vehicles|items|kinds"

# ---------------------------------------------------------------- the words around a figure

QUALIFIERS: list[tuple[str, str]] = [
    (r"超过|超出|逾|突破|超|高于|多于|以上", "over"),
    (r"(?:la )?soglia de[il]|the (?:threshold|mark) of|die marke von|отметк\w+ в", "over"),
    (r"将近|接近|近", "nearly"),
    (r"约为|约|大约|左右", "about"),
    (r"不足|不到|低于", "under"),
    (r"more than|over|exceed(?:ed|ing|s)?|passed|surpass(?:ed|es|ing)?|top(?:ped|s)?|above|in excess of|"
     r"crossed|broke through", "over"),
    (r"nearly|almost|close to|approaching", "nearly"),
    (r"about|around|approximately|roughly|some|an estimated", "about"),
    (r"less than|under|below", "under"),
    (r"mehr als|über", "over"), (r"fast|knapp|beinahe", "nearly"), (r"etwa|rund|ungefähr|circa|ca\.", "about"),
    (r"более|свыше|больше", "over"), (r"почти|около|порядка", "about"),
    (r"plus de|más de|mais de|oltre", "over"), (r"près de|casi|quase|quasi", "nearly"),
    (r"environ|alrededor de|cerca de|aproximadamente|circa", "about"),
]

# Growth printed in words, without a number: (regex, the multiple of the base it states).  "Doubled"
# is +100 % with the qualifier "about" (a release rounds to it), unless a qualifier stands before it
# ("nearly doubled": nearly; "more than doubled": over) or 多 after it (翻了一番多: over).  Not
# "double-digit" (a range of rates) nor "double" alone.
DOUBLING: list[tuple[str, int]] = [
    (r"翻了?两番", 4),
    (r"翻了?一番|翻番|(?:增长|增加)了?一倍", 2),
    (r"\bdoubl(?:ed|ing|es)\b", 2),
    (r"verdoppel\w*", 2), (r"удвои\w*|вдвое", 2), (r"raddoppi\w*", 2), (r"(?:a|ont) doublé", 2),
    (r"(?:se )?duplic(?:ó|aron|ou|aram)", 2),
]

# Growth: words before or after a percentage that make it a year-on-year change
GROWTH_UP = [
    r"同比增长|同比增加|同比上升|较上年同期增长|比上年同期增长|比上年增长|较上年增长|增长|增加|上升|增",
    r"year[- ]on[- ]year|yoy|\bup\b|increas(?:e|ed|ing)|grow(?:th|s|n|ing)?|grew|r[io]se|rising|surg(?:e|ed|ing)|"
    r"jump(?:ed|ing)?|climb(?:ed|ing)?|expand(?:ed|ing)?|gain(?:ed)?|soar(?:ed|ing)?|hik(?:e|ed)|spik(?:e|ed)|"
    r"boost(?:ed)?|higher",
    r"anstieg|wachstum|gestiegen|stieg|wuchs|zuwachs|plus|mehr als im|zunahm|zugenommen|gewachsen",
    r"рост\w*|увелич\w+|выр[ао]с\w*|больше",
    r"hausse|augment\w+|crec\w+|aument\w+|cresc\w+|increment\w+|progress\w+",
]
GROWTH_DOWN = [
    r"同比下降|同比减少|下降|减少|下滑|回落|降",
    r"\bdown\b|decreas(?:e|ed|ing)|declin(?:e|ed|ing)|dropp?(?:ed|ing)?|fell|fall(?:ing)?|shr[au]nk|"
    r"contract(?:ed|ion)|lower",
    r"rückgang|gesunken|sank|verringert|weniger",
    r"сниз\w+|сокра\w+|снижени\w+|упал\w*|меньше",
    r"baisse|diminu\w+|descenso|disminu\w+|queda|calo|diminuzione",
]
# A percentage that is a share of the entity's total (a partner's share of its trade)
SHARE_WORDS = [
    r"占比|占",
    r"accounting for|accounted for|accounts for|account for|making up|made up|makes up|representing|"
    r"represented|share of|constitut(?:ing|ed)",
    r"ausmacht|entspricht|anteil",
    r"составив|составляет|составил\w*|доля",
]
# The share's whole must be the entity's trade with the world (else the share is not extracted)
SHARE_OF_TOTAL = [
    r"外贸(?:进出口)?总值|外贸总额|进出口总值|外贸|总值",
    r"(?:the )?(?:region's|xinjiang's|its|the) (?:total )?(?:foreign )?trade|(?:the )?(?:region's|its|xinjiang's) total|"
    r"(?:the )?total (?:foreign )?trade|total value of xinjiang's foreign trade|the total",
    r"gesamten (?:außen)?handel|gesamthandel", r"общего объема внешней торговли|внешнеторгового оборота",
]
# The growth gap: "高于全国增速 51.2 个百分点", "outpaced the national average by 20 percentage points"
GAP_NATIONAL = [
    r"(?:增速)?(?:高于|高出|快于)全国(?:总体|平均)?(?:水平|增速)?|比全国(?:总体|平均)?(?:水平|增速)?高出?",
    r"(?:higher than|above|outpac(?:ed|ing)|faster than|exceed(?:ed|ing)) the national (?:average|rate|level|growth)(?: rate)?",
    r"выше общенационального\w*|выше среднего по стране",
    r"prozentpunkte (?:über|höher als) (?:dem )?(?:landesdurchschnitt|nationalen)",
]
PERCENTAGE_POINTS = r"个百分点|percentage points?|pct points?|prozentpunkte|п\.\s?п\.|процентных пункт\w*|points? de pourcentage|puntos porcentuales|pontos percentuais|punti percentuali"
PERCENT = r"%|％|percent\b|per cent\b|pct\b|prozent\b|процент\w*|проц\.|pour cent\b|por ciento\b|por cento\b|per cento\b"

# "respectively": lists of subjects, values and rates paired in order
RESPECTIVELY = r"分别|respectively|beziehungsweise|bzw\.|соответственно|respectivement|respectivamente|rispettivamente"

# A growth compared with something other than the same months of the previous year: not a yoy rate
NOT_YOY = [
    r"[“\"]?十三五[”\"]?",
    r"since \d{4}\b|"
    r"from the previous (?:five|5) years|month[- ]on[- ]month|quarter[- ]on[- ]quarter|"
    r"(?:from|over|compared with) the previous (?:month|quarter)",
    r"环比|自\d{4}年以来|\d{4}年以来|年均|贡献|拉动",
    r"annual(?:ly)?\b|average annual|a year on average|on average|contribut\w+|between \d|durchschnittlich|в среднем",
]
# Statements about each of several months or years ("over 50 billion a month for four months")
SERIES_STATEMENTS = [
    r"连续\s*\d+\s*个?(?:月|年)|连续[一二三四五六七八九十]+个?(?:月|年)|月均|每月|台阶|千亿级|跨越|大关",
    r"\bdaily\b|a day\b|per day|single-day|每天|日均|单日|"
    r"consecutive (?:months|years)|(?:for|in) (?:\w+|\d+) straight (?:months|years)|monthly average|a month\b|"
    r"per month|each month|monthly foreign trade",
]
# Words that open a sentence continuing the previous one's subject ("of which", "among them")
CONTINUATION = r"^(?:其中|其中[，,]|of (?:this|which|the total)|among them|in particular)"
# 'trade with these countries': the partner of the sentence before
DEMONSTRATIVE_PARTNER = r"(?:with|to|from) (?:these|those) (?:countries|markets|economies|partners|nations)"
# 'The figure registered a 9-percent growth': a rate of the figure the sentence before gave
SAME_FIGURE = r"^(?:the|this) (?:figure|number|total)\b|^该数字|^这一数字"
# A sentence opening with a pronoun speaks of the subject (partner, segment) the sentence before named
PRONOUN_START = r"^(?:their|its|they|these|this|it|它们|其)\b"
