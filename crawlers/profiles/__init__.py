"""Marketplace profiles: how to search a marketplace, as data (YAML), so a user adds one without code.

A profile file ``<name>.yaml``::

    name: demo                        # stable name; listings are stored under this marketplace
    kind: marketplace                 # marketplace | shop | shopify | woocommerce
    base_url: https://market.example  # may be null and given at run time (--base-url)
    search:
      url: /search?q={query}          # relative to base_url; {query} is URL-encoded; {page} optional
      result_links: {css: "a.result::attr(href)"}      # or {xpath: "..."}; element results use @href
      next_page: {css: "a[rel~=next]::attr(href)"}    # optional
      max_pages_per_query: 3
      max_results_per_query: 60
    requests_per_minute: 60           # spacing of requests to the site (0: no limit)
    concurrency: 2                    # requests in flight to the site at once
    query_budget: 100                 # queries a scan sends (optional; default: the query_budget setting)
    parser: structured                # or selectors per field for the selector parser, e.g.
                                      #   parser: {title: "css:h1::text", price_text: "css:.price::text",
                                      #            fallback: true}   # fields it misses: structured data
    render: html                      # or browser: pages are rendered by Chromium (crawlers.browser)
    browser:                          # only with render: browser, every key optional
      wait_for: {css: "a.result-link, h1"}  # rendered when this appears (default: the network idle)
      wait_seconds: 10                # longest wait for it; the page is read as it is then
      load: []                        # heavy resources to load: image, font, media (default none)

Built-in profiles live beside this module; ``Settings.profiles_dir`` adds (and may override) more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote_plus, urljoin, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import LookalikeError
from core.yamlfile import YAMLProblem, load_yaml

BUILTIN_DIR = Path(__file__).resolve().parent
MAX_PROFILE_BYTES = 256 * 1024


class ProfileError(LookalikeError, ValueError):
    """A profile is missing or does not validate."""


class SelectorSpec(BaseModel):
    """One CSS or XPath selector (exactly one of the two)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    css: str | None = None
    xpath: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SelectorSpec:
        if (self.css is None) == (self.xpath is None):
            raise ValueError("give exactly one of css or xpath")
        return self

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"css": value} if isinstance(value, str) else value


class SearchSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = Field(description="Search URL template, absolute or relative to base_url; {query}, {page}.")
    result_links: SelectorSpec
    next_page: SelectorSpec | None = None
    max_pages_per_query: int = Field(default=3, ge=1, le=100)
    max_results_per_query: int = Field(default=60, ge=1, le=10_000)

    @field_validator("url")
    @classmethod
    def _has_query(cls, value: str) -> str:
        if "{query}" not in value:
            raise ValueError("the search url must contain {query}")
        return value


class BrowserSpec(BaseModel):
    """How a ``render: browser`` profile's pages are rendered (see :mod:`crawlers.browser`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    wait_for: SelectorSpec | None = Field(
        default=None, description="A selector that appears once the page has rendered (a CSS selector without "
        "::text/::attr, or an XPath); default: wait until the network is idle.")
    wait_seconds: float = Field(default=10.0, gt=0, le=60, description="Longest wait for wait_for, in seconds.")
    load: tuple[Literal["image", "font", "media"], ...] = Field(
        default=(), description="Heavy resource types the pages load (default: none of image, font, media).")

    @field_validator("wait_for")
    @classmethod
    def _element_selector(cls, value: SelectorSpec | None) -> SelectorSpec | None:
        if value is not None and value.css is not None and "::" in value.css:
            raise ValueError("wait_for selects elements: no ::text or ::attr() pseudo-elements")
        return value


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")
    kind: Literal["marketplace", "shop", "shopify", "woocommerce"] = "marketplace"
    description: str = ""
    base_url: str | None = None
    search: SearchSpec | None = None
    requests_per_minute: float = Field(default=60, ge=0)
    concurrency: int = Field(default=2, ge=1, le=32)
    query_budget: int | None = Field(
        default=None, ge=1, le=500,
        description="Search queries a scan sends to this marketplace (default: the query_budget setting).")
    parser: str | dict[str, Any] = "structured"
    render: Literal["html", "browser"] = Field(
        default="html", description="html: pages as served; browser: rendered by Chromium (JavaScript sites).")
    browser: BrowserSpec = Field(default_factory=BrowserSpec)
    source: str | None = Field(default=None, exclude=True, description="The file the profile came from.")

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("base_url must be an http(s) URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _search_needed(self) -> Profile:
        if self.kind == "marketplace" and self.search is None:
            raise ValueError("a marketplace profile needs a search section")
        if self.render != "browser" and self.browser != BrowserSpec():
            raise ValueError("the browser section needs render: browser")
        if isinstance(self.parser, str) and self.parser != "structured":
            raise ValueError("parser must be 'structured' or a mapping of selectors")
        if isinstance(self.parser, dict):
            from crawlers.spiders.parsing import listing_parser

            listing_parser(self.parser)  # raises ValueError naming the bad field or selector
        return self

    @property
    def download_delay(self) -> float:
        """Seconds between two requests to the site (from ``requests_per_minute``)."""
        return 60.0 / self.requests_per_minute if self.requests_per_minute else 0.0

    def search_url(self, query: str, *, page: int = 1) -> str:
        """The search URL for ``query`` (URL-encoded) and ``page``; needs a base_url."""
        if self.search is None:
            raise ProfileError(f"profile {self.name!r} has no search section")
        if not self.base_url:
            raise ProfileError(f"profile {self.name!r} has no base_url: give one (--base-url)")
        template = self.search.url.replace("{query}", quote_plus(query[:200])).replace("{page}", str(page))
        return urljoin(self.base_url + "/", template)


def profile_paths(*, extra_dir: Path | None = None) -> dict[str, Path]:
    """Profile name -> file: the built-in ones, then ``extra_dir``'s (which override)."""
    paths = {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.yaml"))}
    if extra_dir is not None and extra_dir.is_dir():
        paths.update({p.stem: p for p in sorted(extra_dir.glob("*.yaml"))})
    return paths


def parse_profile(text: str, *, source: str = "<string>") -> Profile:
    """Validate profile YAML; every problem becomes one ``ProfileError`` line."""
    if len(text) > MAX_PROFILE_BYTES:
        raise ProfileError(f"{source}: larger than {MAX_PROFILE_BYTES} bytes")
    try:
        data = load_yaml(text, max_bytes=MAX_PROFILE_BYTES)
    except YAMLProblem as exc:
        raise ProfileError(f"{source}: not valid YAML: {exc.where}: {exc.problem}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a mapping (name:, search:, ...)")
    try:
        return Profile(**data, source=source)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'profile'}: {e['msg']}" for e in exc.errors())
        raise ProfileError(f"{source}: {problems}") from None


def load_profile(name_or_path: str, *, extra_dir: Path | None = None, base_url: str | None = None) -> Profile:
    """The profile called ``name_or_path`` (or the YAML file at that path), with ``base_url`` if given."""
    path = Path(name_or_path)
    if not (name_or_path.endswith((".yaml", ".yml")) and path.is_file()):
        paths = profile_paths(extra_dir=extra_dir)
        if name_or_path not in paths:
            known = ", ".join(sorted(paths)) or "none"
            raise ProfileError(f"no profile named {name_or_path!r} (known: {known})")
        path = paths[name_or_path]
    profile = parse_profile(path.read_text(encoding="utf-8"), source=str(path))
    if base_url:
        profile = Profile(**{**profile.model_dump(), "base_url": base_url, "source": profile.source})
    return profile
