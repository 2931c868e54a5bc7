"""Contact details in listing text: phone numbers, e-mail addresses, chat handles and off-platform domains.

:func:`find_contacts` reads a title, a description or the words OCR read in a photo and returns each contact
in one normal form, so that ``+44 20 7946 0958``, ``020 7946 0958`` (on a British page) and
``0044 (0)20-7946-0958`` are one phone, ``Sales [at] Marlow-Finch [dot] com`` is ``sales@marlow-finch.com``,
and ``wa.me/442079460958`` is that phone again.

- Phones: ``phonenumbers.PhoneNumberMatcher`` in the listing's region when it is known, else in each of
  ``NetworkConfig.phone_regions``; a number is kept only when ``phonenumbers`` finds it valid; the normal form
  is E.164.
- E-mail addresses, also written with ``[at]``/``(at)``/`` at `` and ``[dot]``/``(dot)``.
- Handles: WhatsApp (a phone), WeChat, Telegram (``t.me/name``, ``@name`` after the word Telegram), Line
  (``line.me/ti/p/~name``, ``Line ID: name``); the normal form is ``<app>:<lower-case id>``.
- Domains: the registrable domain of every URL or bare ``name.tld`` in the text (the public suffix list
  shipped with tldextract: no network), minus the domains in ``ignore_domains`` (the marketplace's own).

Input is hostile: text is cut to :data:`MAX_TEXT` characters and at most :data:`MAX_CONTACTS` contacts are
returned per text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import phonenumbers
import tldextract

from matching.networks.config import NetworkConfig
from matching.normalize import nfkc, strip_invisible

__all__ = ["MAX_CONTACTS", "MAX_TEXT", "Contact", "find_contacts", "normal_phone", "region_of_currency",
           "registrable_domain"]

#: Characters of one text read (a description longer than this is cut).
MAX_TEXT = 20_000
#: Contacts kept from one text.
MAX_CONTACTS = 40


@dataclass(frozen=True, slots=True, order=True)
class Contact:
    """One contact: ``kind`` is ``phone``, ``email``, ``handle`` or ``domain``; ``value`` its normal form
    (E.164, lower-case address, ``app:id``, registrable domain); ``shown`` as the text wrote it (for people)."""

    kind: str
    value: str
    shown: str = ""


_EMAIL_RE = re.compile(r"(?<![\w.+-])([\w.+-]{1,64})@([\w-]{1,63}(?:\.[\w-]{1,63}){1,4})(?![\w-])", re.ASCII)
_AT_RE = re.compile(r"\s*(?:\[at\]|\(at\)|\{at\}|\sat\s)\s*", re.IGNORECASE)
_DOT_RE = re.compile(r"\s*(?:\[dot\]|\(dot\)|\{dot\}|\sdot\s)\s*", re.IGNORECASE)
_URL_RE = re.compile(r"(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,5}[a-z]{2,24})(?:[/:?#][^\s<>\"']*)?",
                     re.IGNORECASE)
_WA_RE = re.compile(r"(?:wa\.me/|api\.whatsapp\.com/send\?phone=)\+?(\d{6,16})", re.IGNORECASE)
_TG_LINK_RE = re.compile(r"(?:t\.me|telegram\.me)/([a-z][\w]{3,31})", re.IGNORECASE)
_LINE_LINK_RE = re.compile(r"line\.me/(?:ti/p/|R/ti/p/)?~?@?([\w.-]{3,32})", re.IGNORECASE)
_NAMED_HANDLE_RE = re.compile(
    r"\b(wechat|weixin|wx|微信|telegram|tg|line|kakao(?:talk)?)\s*(?:id)?\s*[:：=]?\s*@?([a-z][\w.-]{3,31})",
    re.IGNORECASE)
_APP_NAMES = {"wechat": "wechat", "weixin": "wechat", "wx": "wechat", "微信": "wechat", "telegram": "telegram",
              "tg": "telegram", "line": "line", "kakao": "kakao", "kakaotalk": "kakao"}
# Words that follow "line" or "tg" in ordinary text and are no handle.
_NOT_HANDLES = frozenset(["item", "items", "product", "products", "of", "with", "and", "the", "for", "from", "up", "break", "breaks", "drawing", "id", "only"])
# Last-label words that are file names, not domains (image.jpg, page.html).
_NOT_TLDS = frozenset(["jpg", "jpeg", "png", "gif", "webp", "svg", "html", "htm", "php", "asp", "aspx", "js", "css", "json", "xml", "txt", "pdf", "zip"])


#: Currencies of one country: a number written without its country code on a page priced in one is read
#: there first (EUR and other shared currencies tell no country).
_CURRENCY_REGIONS = {"USD": "US", "GBP": "GB", "CAD": "CA", "AUD": "AU", "JPY": "JP", "CNY": "CN", "INR": "IN",
                     "BRL": "BR", "MXN": "MX", "PLN": "PL", "SEK": "SE", "CHF": "CH", "KRW": "KR", "TRY": "TR"}


def region_of_currency(currency: str | None) -> str | None:
    """The country a price's currency tells (``GBP`` -> ``GB``), None for a shared or unknown currency."""
    return _CURRENCY_REGIONS.get((currency or "").upper())


def _clean(text: str) -> str:
    return nfkc(strip_invisible(text[:MAX_TEXT]))


@cache
def _extractor() -> tldextract.TLDExtract:
    # The public suffix list snapshot shipped with tldextract: no network, no disk cache.
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=False)


def registrable_domain(host: str) -> str | None:
    """``shop.marlow-finch.co.uk`` -> ``marlow-finch.co.uk``; None when the host has no known public suffix."""
    parts = _extractor()(host.strip().strip(".").lower())
    if not parts.domain or not parts.suffix:
        return None
    return f"{parts.domain}.{parts.suffix}"


def normal_phone(text: str, *, regions: Iterable[str] = ("US",), min_digits: int = 8) -> str | None:
    """The E.164 form of one phone number written in ``text`` (tried in each region), or None."""
    for region in regions:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) and len(str(number.national_number)) >= min_digits:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _phones(text: str, regions: list[str], min_digits: int) -> list[Contact]:
    found: dict[tuple[int, int], Contact] = {}
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID,
                                                     max_tries=200):
            span = (match.start, match.end)
            if any(a < span[1] and span[0] < b for a, b in found):
                continue  # read in an earlier (more likely) region already
            if len(str(match.number.national_number)) < min_digits:
                continue
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found[span] = Contact("phone", e164, match.raw_string)
    return list(found.values())


def find_contacts(text: str | None, *, region: str | None = None, ignore_domains: Iterable[str] = (),
                  config: NetworkConfig | None = None) -> list[Contact]:
    """Every contact in ``text``, each once, sorted; ``region`` (ISO 3166 alpha-2) is how a number without its
    country code is read first; ``ignore_domains`` are left out (the marketplace's own)."""
    if not text:
        return []
    config = config or NetworkConfig()
    clean = _clean(text)
    # A page whose region is known reads national numbers there only: a number invalid there is not read
    # as another country's (07700 900123 is no British number, and would be a German one).
    regions = [region.upper()] if region else list(config.phone_regions)
    out: set[Contact] = set()
    for match in _WA_RE.finditer(clean):
        phone = normal_phone("+" + match.group(1), min_digits=config.min_phone_digits)
        if phone:
            out.add(Contact("phone", phone, match.group(0)))
    out.update(_phones(clean, regions, config.min_phone_digits))
    deobfuscated = _DOT_RE.sub(".", _AT_RE.sub("@", clean))
    emails = set()
    for match in _EMAIL_RE.finditer(deobfuscated):
        address = f"{match.group(1)}@{match.group(2)}".lower().strip(".")
        emails.add(match.group(2).lower())
        out.add(Contact("email", address, match.group(0)))
    for match in _TG_LINK_RE.finditer(clean):
        out.add(Contact("handle", f"telegram:{match.group(1).lower()}", match.group(0)))
    for match in _LINE_LINK_RE.finditer(clean):
        out.add(Contact("handle", f"line:{match.group(1).lower()}", match.group(0)))
    for match in _NAMED_HANDLE_RE.finditer(clean):
        app = _APP_NAMES[match.group(1).lower()]
        handle = match.group(2).lower().rstrip(".-")
        if handle in _NOT_HANDLES or handle.isdigit() or len(handle) < 4:
            continue
        out.add(Contact("handle", f"{app}:{handle}", match.group(0)))
    ignored = {d.lower() for d in ignore_domains} | {"wa.me", "t.me", "line.me", "telegram.me", "whatsapp.com"}
    for match in _URL_RE.finditer(deobfuscated):
        host = match.group(1).lower()
        if host.rsplit(".", 1)[-1] in _NOT_TLDS:
            continue
        start = match.start()
        if start and deobfuscated[start - 1] == "@":
            continue  # the domain of an e-mail address: the address is the contact
        domain = registrable_domain(host)
        if domain and domain not in ignored and domain not in emails:
            out.add(Contact("domain", domain, match.group(0)[:200]))
    unique: dict[tuple[str, str], Contact] = {}
    for contact in sorted(out):
        unique.setdefault((contact.kind, contact.value), contact)
    return list(unique.values())[:MAX_CONTACTS]
