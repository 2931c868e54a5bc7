"""What every API connector shares: the call it asks for, the page of results it reads, and the
checks that turn a stranger's JSON into typed values.  Pure: no Scrapy, no storage, no network.

A connector module (``ebay``, ``etsy``, ``aliexpress``) is a handful of pure functions over these types:

- ``first_call(query, *, config)`` -> :class:`ApiCall`: the first search request for a query;
- ``read_search(data, *, call, config)`` -> :class:`SearchPage`: listings of one answer, detail calls
  to make for them, and the next search call (``None``: the query is done);
- ``read_detail(data, *, listing)`` -> ``Listing`` (only connectors with ``DETAILS = True``);
- ``authorize(call, *, credentials, token, now)`` -> :class:`ApiCall`: the call with its credentials,
  applied by the downloader middleware :mod:`crawlers.middlewares.apiauth` just before it is sent (so
  no request the spider holds, logs or stores carries a secret).

and constants: ``NAME``, ``DOC_URLS`` (the public documentation followed), ``DEFAULT_BASE_URL``,
``CREDENTIALS`` (names read by :meth:`core.settings.Settings.api_credential`), ``FIELD_MAP`` (the one
table of API field -> ``Listing`` field, also printed in ``docs/sources.md``), ``MAX_PAGE_SIZE``,
``DEFAULT_DAILY_CALLS`` and ``DEFAULT_PER_SECOND`` (the vendor's published quota).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from core.currencies import PAGE_CURRENCIES
from crawlers.items import MAX_IMAGE_URLS, Listing
from crawlers.processors import absolute_url, clean_short, clean_text

#: Characters kept of a description read from an API answer.
MAX_DESCRIPTION_CHARS = 20_000
#: Results read from one answer at most, whatever it claims (a page is at most 200 by every API here).
MAX_RESULTS_PER_ANSWER = 500
#: Prices at or above this are not prices (a hostile answer's 1e30).
MAX_PRICE = Decimal(10) ** 9


class AnswerError(ValueError):
    """An API answer that is not in the documented shape (the one-line reason is the message)."""


class CredentialsRefused(AnswerError):
    """The API refused the key or token (an answer, not a network failure): the source's run ends."""


class CredentialsMissing(ValueError):
    """A connector was asked to run without its credentials (names them, never their values)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """A connector's secrets by name.  ``repr`` and ``str`` never show the values."""

    values: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.values[name]

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(sorted(self.values))}: hidden)"

    __str__ = __repr__

    def secrets(self) -> list[str]:
        """Every value, for the log filter that masks them (:mod:`crawlers.middlewares.apiauth`)."""
        return [v for v in self.values.values() if v]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorConfig:
    """How one source uses its connector: ``base_url`` (the vendor's, its sandbox's or a local test
    server's), ``site`` (eBay's marketplace id, e.g. ``EBAY_US``), ``page_size`` (capped at the API's
    maximum), ``max_results_per_query`` and ``details`` (fetch each listing's detail answer)."""

    base_url: str
    site: str | None = None
    page_size: int = 50
    max_results_per_query: int = 200
    details: bool = True
    currency: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiCall:
    """One request a connector asks for.  ``form`` is a POST form body; ``kind`` is ``search``,
    ``detail`` or ``token``; ``query`` and ``offset`` say which search it continues."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] = ()
    kind: str = "search"
    query: str | None = None
    offset: int = 0

    def with_headers(self, *pairs: tuple[str, str]) -> ApiCall:
        return replace(self, headers=self.headers + tuple(pairs))


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchPage:
    """What one search answer holds: ``listings`` read from it, ``details`` (calls that complete some of
    them: each call's ``query`` field lists the external ids it covers, comma-separated), the ``next``
    search call (None: the query is done), the ``total`` the API reports, ``skipped`` entries not in the
    documented shape, and ``notes``: what the connector corrected (``next_rebuilt``, ``next_refused``...)."""

    listings: list[Listing]
    details: list[ApiCall] = field(default_factory=list)
    next: ApiCall | None = None
    total: int | None = None
    skipped: int = 0
    notes: tuple[str, ...] = ()


# ------------------------------------------------------------------------------- reading JSON safely
def mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AnswerError(f"{what} is not a JSON object")
    return value


def child(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...`` through JSON objects; None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def items(value: Any) -> list[Any]:
    """A JSON array bounded to :data:`MAX_RESULTS_PER_ANSWER`; anything else is an empty list."""
    return list(value[:MAX_RESULTS_PER_ANSWER]) if isinstance(value, list) else []


def text(value: Any) -> str | None:
    """A short string field (title, name, id): plain text, bounded; numbers become their digits."""
    return clean_short(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|div|br|li|ul|ol|tr|td|th|h[1-6]|section|article|table)\b[^>]{0,200}>", re.I)


def long_text(value: Any) -> str | None:
    """A description (may be HTML): plain text, block elements apart by a space, bounded."""
    if not isinstance(value, str):
        return None
    return clean_text(_BLOCK_TAG.sub(" ", value[: MAX_DESCRIPTION_CHARS * 20]), max_chars=MAX_DESCRIPTION_CHARS)


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    return None


def decimal(value: Any) -> Decimal | None:
    """A price as a Decimal from a decimal string or a number; None for anything else or a negative."""
    if isinstance(value, bool) or not isinstance(value, str | int | float) or len(str(value)) > 40:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and 0 <= number < MAX_PRICE else None


def currency(value: Any) -> str | None:
    code = value.strip().upper() if isinstance(value, str) else ""
    return code if code in PAGE_CURRENCIES else None


def image_list(values: list[Any]) -> list[str]:
    """Absolute http(s) image URLs, first occurrence kept, at most ``MAX_IMAGE_URLS``."""
    urls: list[str] = []
    for value in values:
        url = web_url(value)
        if url and url not in urls:
            urls.append(url)
        if len(urls) >= MAX_IMAGE_URLS:
            break
    return urls


def web_url(value: Any) -> str | None:
    """An absolute http(s) URL from a string field; None for anything else (a relative or javascript: URL)."""
    return absolute_url(value, base="") if isinstance(value, str) else None
