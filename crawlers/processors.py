"""Pure normalisers for what product pages state: prices, currencies, GTINs, availability, text and URLs.

Every function takes the raw shape a page uses and returns the format fixed in :mod:`crawlers.items`,
or ``None`` (or the input unchanged, where documented) for a shape it does not know.  None of them
raises on hostile input: a counterfeiter's page is never a reason to stop a batch.
"""

from __future__ import annotations

import functools
import html
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import tldextract
from price_parser import Price
from w3lib.html import remove_tags, remove_tags_with_content, replace_entities
from w3lib.url import canonicalize_url

from core.currencies import PAGE_CURRENCIES
from core.text import strip_invisible

MAX_TEXT_CHARS = 5000
"""Default bound on a plain-text field (description), in characters."""
MAX_SHORT_CHARS = 300
"""Bound on short text fields (title, seller, brand, sku...), in characters."""
MAX_URL_CHARS = 2048
"""URLs longer than this are dropped."""
MAX_PRICE = Decimal("1e12")
"""Prices at or above this are treated as noise (ids and phone numbers parsed as prices)."""

# --------------------------------------------------------------------------------------------- text

_WS = re.compile(r"\s+")


def clean_text(value: object, *, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """Plain text from a string that may hold HTML: scripts and styles dropped, tags removed, entities
    decoded, control and zero-width characters removed, whitespace collapsed, cut to ``max_chars``.

    Returns None for a non-string or for text that is empty after cleaning.
    """
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value[: max_chars * 20]
    if "<" in text:
        text = remove_tags(remove_tags_with_content(text, which_ones=("script", "style", "noscript")))
    if "&" in text:
        text = replace_entities(text)
        text = html.unescape(text)
    text = strip_invisible(text)
    text = _WS.sub(" ", text).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text or None


def clean_short(value: object) -> str | None:
    """:func:`clean_text` bounded to :data:`MAX_SHORT_CHARS` (titles, names, identifiers)."""
    return clean_text(value, max_chars=MAX_SHORT_CHARS)


# "Sold by X" needs no separator; a bare noun label needs one, so that a seller called "Seller 2" stays whole.
_SELLER_LABEL = re.compile(
    r"^\s*(?:(?:(?:ships from and )?sold (?:and shipped )?by|verkauft von|vendu par|venduto da|vendido por|"
    r"verkocht door)\s*[:：\-–]?\s*|(?:seller|verkäufer|vendeur|venditore|vendedor|verkoper|sprzedawca|продавец)"
    r"\s*[:：\-–]\s*)",
    re.IGNORECASE,
)


def clean_seller(value: object) -> str | None:
    """A seller name without a leading "Sold by" / "Seller:" style label, bounded like
    :func:`clean_short`; None when nothing is left."""
    text = clean_short(value)
    if text is None:
        return None
    return clean_short(_SELLER_LABEL.sub("", text).rstrip(" ."))


# -------------------------------------------------------------------------------------------- price

_STRUCTURED_NUMBER = re.compile(r"^\s*[+]?(\d+)(?:\.(\d+))?(?:[eE][+-]?\d{1,3})?\s*$")
_NEGATIVE_AMOUNT = re.compile(r"^\s*(?:[^\d\s]{1,4}\s*)?[-−–]\s*\d")
_DASH_CENTS = re.compile(r"[.,]\s*[-–—]{1,2}\s*$")  # "12,-" / "12.–"
_EXPONENT_FORM = re.compile(r"^\s*[+-]?[\d.]*\d[eE]\s*[+-]?\d")
"""A number in exponent form (``1e999999``): never a price text; price-parser would read it as 1."""


def parse_price(value: object, *, structured: bool = False) -> Decimal | None:
    """A price in major units from ``"1.234,56 €"``, ``"$1,234.56"``, ``"1 234,56 zł"``, ``"₹2,433"``,
    ``"EUR 12"``, ``"12,-"``, a number, or a structured value (``structured=True``: schema.org numbers,
    where ``"2.433"`` means two point four three three, not two thousand).

    Returns None for no number, a negative number, or a number at or above :data:`MAX_PRICE`.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return None
        return _bounded(amount)
    if not isinstance(value, str):
        return None
    text = value.strip()[:200]
    if not text:
        return None
    if structured:
        match = _STRUCTURED_NUMBER.match(text)
        if match:
            return _bounded(Decimal(text.strip().lstrip("+")))
    if _NEGATIVE_AMOUNT.match(text) or _EXPONENT_FORM.match(text):
        return None
    text = _DASH_CENTS.sub("", text)
    try:
        amount = Price.fromstring(text).amount
    except (InvalidOperation, ValueError, ArithmeticError):
        return None
    return _bounded(amount)


def _bounded(amount: Decimal | None) -> Decimal | None:
    if amount is None or not amount.is_finite() or amount < 0 or amount >= MAX_PRICE:
        return None
    return amount


# ----------------------------------------------------------------------------------------- currency

ISO_CURRENCIES = PAGE_CURRENCIES
"""ISO 4217 codes a page may price in (see :mod:`core.currencies`)."""

# A symbol that means one currency wherever it appears.
_UNAMBIGUOUS_SYMBOLS = {
    "€": "EUR", "£": "GBP", "₹": "INR", "₽": "RUB", "₴": "UAH", "₩": "KRW", "₺": "TRY", "₪": "ILS",
    "฿": "THB", "₫": "VND", "₱": "PHP", "₸": "KZT", "₼": "AZN", "₾": "GEL", "₦": "NGN", "₲": "PYG",
    "r$": "BRL", "us$": "USD", "usd$": "USD", "ca$": "CAD", "c$": "CAD", "cad$": "CAD", "a$": "AUD",
    "au$": "AUD", "nz$": "NZD", "hk$": "HKD", "s$": "SGD", "mx$": "MXN", "nt$": "TWD", "zł": "PLN",
    "zl": "PLN", "kč": "CZK", "ft": "HUF", "lei": "RON", "kn": "HRK", "тг": "KZT", "руб": "RUB",
    "₽.": "RUB", "грн": "UAH", "лв": "BGN", "ر.س": "SAR", "﷼": "SAR", "د.إ": "AED", "rm": "MYR",
    "rp": "IDR", "s/": "PEN", "s/.": "PEN", "tl": "TRY", "chf": "CHF", "fr.": "CHF", "sfr": "CHF",
    "din": "RSD", "дин": "RSD", "ден": "MKD", "сом": "KGS", "br": "BYN",
    # East Asian forms: Korean won, Chinese renminbi, Taiwan and Hong Kong dollars written out.
    "원": "KRW", "rmb": "CNY", "人民币": "CNY", "人民幣": "CNY", "新台幣": "TWD", "新臺幣": "TWD", "台幣": "TWD",
    "臺幣": "TWD", "港幣": "HKD", "港币": "HKD", "港元": "HKD",
}
# Symbols shared by several currencies: the country decides, else the first listed.
_AMBIGUOUS_SYMBOLS: dict[str, tuple[str, dict[str, str]]] = {
    "$": ("USD", {"CA": "CAD", "AU": "AUD", "NZ": "NZD", "MX": "MXN", "CL": "CLP", "AR": "ARS",
                  "CO": "COP", "SG": "SGD", "HK": "HKD", "TW": "TWD", "UY": "UYU", "BR": "BRL",
                  "JM": "JMD", "TT": "TTD", "BS": "BSD", "FJ": "FJD", "LR": "LRD", "NA": "NAD"}),
    "kr": ("SEK", {"SE": "SEK", "NO": "NOK", "DK": "DKK", "IS": "ISK", "FO": "DKK", "GL": "DKK"}),
    "kr.": ("DKK", {"SE": "SEK", "NO": "NOK", "DK": "DKK", "IS": "ISK"}),
    "¥": ("JPY", {"CN": "CNY", "JP": "JPY"}),
    "￥": ("JPY", {"CN": "CNY", "JP": "JPY"}),
    "元": ("CNY", {"CN": "CNY", "TW": "TWD", "HK": "HKD"}),
    "円": ("JPY", {}),
    "р.": ("RUB", {"BY": "BYN", "RU": "RUB"}),
    "р": ("RUB", {"BY": "BYN", "RU": "RUB"}),
    "rs": ("INR", {"PK": "PKR", "LK": "LKR", "NP": "NPR", "IN": "INR"}),
    "rs.": ("INR", {"PK": "PKR", "LK": "LKR", "NP": "NPR", "IN": "INR"}),
    "r": ("ZAR", {"ZA": "ZAR"}),
    "£e": ("EGP", {}),
    "dh": ("MAD", {"AE": "AED", "MA": "MAD"}),
}
# Country -> the currency it uses (for pages that print only a number, and for "$"-less hints).
COUNTRY_CURRENCY = {
    "US": "USD", "GB": "GBP", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "IN": "INR", "JP": "JPY", "CN": "CNY",
    "BR": "BRL", "MX": "MXN", "CL": "CLP", "AR": "ARS", "CO": "COP", "PE": "PEN", "RU": "RUB", "UA": "UAH",
    "BY": "BYN", "KZ": "KZT", "PL": "PLN", "CZ": "CZK", "HU": "HUF", "RO": "RON", "BG": "BGN", "HR": "EUR",
    "RS": "RSD", "SE": "SEK", "NO": "NOK", "DK": "DKK", "IS": "ISK", "CH": "CHF", "TR": "TRY", "IL": "ILS",
    "SA": "SAR", "AE": "AED", "EG": "EGP", "ZA": "ZAR", "KR": "KRW", "TW": "TWD", "HK": "HKD", "SG": "SGD",
    "MY": "MYR", "ID": "IDR", "TH": "THB", "VN": "VND", "PH": "PHP", "PK": "PKR",
    **{c: "EUR" for c in ["AT", "BE", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PT", "SI", "SK"]},
}
_TLD_COUNTRY = {"uk": "GB", "eu": "", "com": "US", "us": "US"}
_LOCALE_LABEL = re.compile(r"^[a-z]{2}[-_]([a-z]{2})$")
_CURRENCY_TOKEN = re.compile(r"[A-Za-z]{3}")


def country_from_url(url: str) -> str | None:
    """An ISO 3166 country code guessed from a URL: its country-code TLD (``.co.uk`` -> ``GB``,
    ``.com.au`` -> ``AU``), else a locale subdomain (``ar-sa.example.com`` -> ``SA``), else ``US`` for
    ``.com``/``.us``; None when nothing says.
    """
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    if not host:
        return None
    labels = host.split(".")
    for label in labels[:-1]:
        match = _LOCALE_LABEL.match(label)
        if match:
            return match.group(1).upper().replace("UK", "GB")
    tld = labels[-1]
    if tld in _TLD_COUNTRY:
        return _TLD_COUNTRY[tld] or None
    if len(tld) == 2 and tld.isalpha():
        return tld.upper()
    return None


def normalize_currency(value: object, *, country: str | None = None) -> str | None:
    """An ISO 4217 code from a code (``"eur"``), a symbol (``"€"``, ``"R$"``, ``"zł"``) or a price string
    holding one (``"EUR 12"``, ``"12,00 kr"``).  ``country`` (ISO 3166, e.g. from
    :func:`country_from_url`) decides shared symbols: ``"$"`` is CAD in ``CA``, ``"kr"`` NOK in ``NO``.
    Returns None for a shape it does not know.
    """
    if not isinstance(value, str):
        return None
    text = _WS.sub(" ", value.strip())[:60]
    if not text:
        return None
    country = (country or "").upper() or None
    upper = text.upper()
    if upper in ISO_CURRENCIES:
        return upper
    symbol = text.lower().strip(" .:")
    found = _symbol_currency(symbol, country) or _symbol_currency(text.lower().strip(), country)
    if found:
        return found
    # A price string: look for a code, then for the symbol price-parser finds.
    for token in _CURRENCY_TOKEN.findall(text):
        if token.upper() in ISO_CURRENCIES and (token.isupper() or len(text) <= 4):
            return token.upper()
    try:
        parsed = Price.fromstring(text).currency
    except (InvalidOperation, ValueError, ArithmeticError):
        parsed = None
    if parsed and parsed.strip() and parsed.strip().lower() != symbol:
        return normalize_currency(parsed, country=country)
    for sym in _SYMBOLS_IN_TEXT:
        if sym in text:
            return _symbol_currency(sym, country)
    return None


def _symbol_not_word(symbol: str) -> bool:
    """A currency sign (``€``, ``$``) or an East Asian currency word (``元``, ``원``): safe to look for inside
    a price string, unlike abbreviations in alphabets with words (``kr``, ``дин`` in ``один``)."""
    return all(not ch.isalpha() or ord(ch) >= 0x2E80 for ch in symbol) and any(not ch.isascii() or ch == "$"
                                                                               for ch in symbol)


#: Symbols found inside a price string ("最低價$99元", "30,000원~"), longest first.
_SYMBOLS_IN_TEXT = sorted((sym for sym in [*_UNAMBIGUOUS_SYMBOLS, *_AMBIGUOUS_SYMBOLS] if _symbol_not_word(sym)),
                          key=len, reverse=True)


def _symbol_currency(symbol: str, country: str | None) -> str | None:
    if symbol in _UNAMBIGUOUS_SYMBOLS:
        return _UNAMBIGUOUS_SYMBOLS[symbol]
    if symbol in _AMBIGUOUS_SYMBOLS:
        default, by_country = _AMBIGUOUS_SYMBOLS[symbol]
        if country and country in by_country:
            return by_country[country]
        return default
    return None


# --------------------------------------------------------------------------------------------- gtin


def clean_gtin(value: object) -> str | None:
    """GTIN-8/12/13/14 digits with a valid check digit, from a string or an int (spaces, dashes and a
    ``gtin:``/``ean:`` style prefix tolerated); None otherwise.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip()
    if ":" in text:
        text = text.rsplit(":", 1)[1]
    digits = re.sub(r"[\s\-.]", "", text)
    if not digits.isdigit() or not digits.isascii() or len(digits) not in (8, 12, 13, 14):
        return None
    return digits if gtin_check_digit_ok(digits) else None


def gtin_check_digit_ok(digits: str) -> bool:
    """True when the last digit of a GTIN is the GS1 mod-10 check digit of the others."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


# ------------------------------------------------------------------------------------- availability

AVAILABILITY_NAMES = (
    "BackOrder", "Discontinued", "InStock", "InStoreOnly", "LimitedAvailability", "MadeToOrder",
    "OnlineOnly", "OutOfStock", "PreOrder", "PreSale", "Reserved", "SoldOut",
)
_AVAILABILITY_BY_KEY = {name.lower(): name for name in AVAILABILITY_NAMES}
_AVAILABILITY_SYNONYMS = {
    "available": "InStock", "instock": "InStock", "in_stock": "InStock", "yes": "InStock", "true": "InStock",
    "oos": "OutOfStock", "outofstock": "OutOfStock", "unavailable": "OutOfStock", "no": "OutOfStock",
    "false": "OutOfStock", "preorder": "PreOrder", "pending": "PreOrder", "availablefororder": "PreOrder",
    "backorder": "BackOrder", "discontinued": "Discontinued", "soldout": "SoldOut",
}


def normalize_availability(value: object) -> str | None:
    """A schema.org ItemAvailability name (``"InStock"``) from a URL (``https://schema.org/InStock``),
    a bare name in any case, or a common phrase (``"in stock"``, ``"out_of_stock"``, ``"preorder"``).
    """
    if isinstance(value, bool):
        return "InStock" if value else "OutOfStock"
    if not isinstance(value, str):
        return None
    text = value.strip()[:200]
    if "/" in text:
        text = text.rstrip("/").rsplit("/", 1)[-1]
    key = re.sub(r"[\s_\-]", "", text).lower()
    if key in _AVAILABILITY_BY_KEY:
        return _AVAILABILITY_BY_KEY[key]
    return _AVAILABILITY_SYNONYMS.get(key)


# --------------------------------------------------------------------------------------------- urls

TRACKING_PARAMS = frozenset(
    ["gclid", "gclsrc", "dclid", "fbclid", "msclkid", "yclid", "twclid", "ttclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ref", "ref_", "tag", "srsltid", "_pos", "_sid", "_ss", "_psq", "_v", "spm", "scm", "pd_rd_i", "pd_rd_r", "pd_rd_w", "pd_rd_wg", "pf_rd_p", "pf_rd_r", "psc", "qid", "sr", "crid", "sprefix", "affiliate", "a_aid", "a_bid", "aff_id", "affid", "trk", "trkid", "si"]
)
"""Query parameters that identify a visit or a referrer, never the product (removed, with ``utm_*``)."""


def absolute_url(value: object, *, base: str) -> str | None:
    """``value`` resolved against ``base``; None unless the result is http(s), or if it is too long."""
    if not isinstance(value, str):
        return None
    text = strip_invisible(value, control="").strip()
    if not text or len(text) > MAX_URL_CHARS or text.startswith(("data:", "javascript:", "#")):
        return None
    try:
        joined = urljoin(base, text)
        parts = urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return joined.replace(" ", "%20")


def strip_tracking(url: str) -> str:
    """``url`` without tracking parameters (``utm_*`` and :data:`TRACKING_PARAMS`) and without its
    fragment, remaining query parameters sorted.  A URL that does not parse is returned unchanged.
    """
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url
    kept = [(k, v) for k, v in pairs if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS]
    stripped = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(kept), ""))
    try:
        return canonicalize_url(stripped, keep_fragments=False)
    except (ValueError, UnicodeError):
        return stripped


@functools.cache
def _suffix_extractor() -> tldextract.TLDExtract:
    # The public suffix list snapshot shipped with tldextract: no network, no disk cache.  Immutable
    # data, so one instance per process is fine (Scrapy's cookie middleware does the same).
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=False)


def registrable_domain(url: str) -> str | None:
    """The registrable domain of a URL (``www.amazon.co.uk`` -> ``amazon.co.uk``); the host itself for an
    IP address or a single-label host; None when the URL has no host.
    """
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if not host:
        return None
    parts = _suffix_extractor()(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return host


def same_site(url_a: str, url_b: str) -> bool:
    """True when both URLs have the same registrable domain."""
    domain = registrable_domain(url_a)
    return domain is not None and domain == registrable_domain(url_b)


def canonical_url(url: str, *, declared: list[str | None] | tuple[str | None, ...] = ()) -> str:
    """The canonical form of a fetched ``url``: the first of ``declared`` (rel=canonical, og:url, as the
    page states them, possibly relative) that is on the same registrable domain, else ``url``; then
    tracking parameters and fragment stripped and the query sorted (:func:`strip_tracking`).
    """
    chosen = url
    for candidate in declared:
        resolved = absolute_url(candidate, base=url) if candidate else None
        if resolved and same_site(resolved, url):
            chosen = resolved
            break
    return strip_tracking(chosen)
