"""What a scan visits: shops crawled from start URLs and marketplace profiles searched for the brands.

Targets come from a scan file and from command-line style options; :func:`plan_scan` is the one
planner (the ``lookalike scan`` command validates with it before Prefect starts, the nightly flow's
``plan-scan`` task plans with it): it reads the targets, gives each profile its search queries planned
from the registry and the profile's record (:func:`services.queryplan.plan_for_source`, at most the
profile's ``query_budget``, else the setting's, the scan file's own queries included; :func:`plan_targets`),
adds the look-alike domains an operator approved as shops
(:func:`services.discovery.decisions.approved_start_urls`), checks every crawl as the crawler
will run it (:func:`crawlers.run.crawl_request`: URLs, profiles, base URLs) and skips profiles with
nothing to search for.

The scan file (``scan.yaml``), every key optional::

    shops:                       # crawled whole from their start URLs (generic product spider)
      - https://shop.example/
      - start_urls: [https://other.example/c/lips, https://other.example/c/eyes]
    profiles:                    # marketplace profiles, searched for every brand's marks and products
      - ebay
      - name: demo
        base_url: http://127.0.0.1:8080
        queries: [lip plumper]   # always sent, after the queries planned from the registry
    sources:                     # named sources: their state (quota, resume point, errors) is kept
      - name: ebay-us            # unique; `lookalike sources` lists it with its state
        kind: api                # shop | profile | api | browser
        connector: ebay          # api: ebay | etsy | aliexpress (credentials: docs/sources.md)
        site: EBAY_US            # eBay's marketplace id
        daily_budget: 2000       # API calls a UTC day (default: the connector's published quota)
        per_second: 2            # default: the connector's
        details: true            # also read each result's detail answer (eBay: one call a result)
      - {name: demo-js, kind: browser, profile: jsdemo, base_url: http://127.0.0.1:8080}
      - {name: my-shop, kind: shop, start_urls: [https://shop.example/]}

``shops`` and ``profiles`` are sources without a name (no stored state); a ``profile`` source's profile
must render HTML, a ``browser`` source's must say ``render: browser``.  An ``api`` source's queries are
planned like a profile's (:func:`services.queryplan.plan_for_source`, keyed by the source's name, the
marketplace its listings are stored under), within the ``query_budget`` setting.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from core.errors import LookalikeError
from core.settings import Settings
from core.yamlfile import YAMLProblem, load_yaml
from crawlers.connectors import CONNECTOR_NAMES
from crawlers.profiles import load_profile
from crawlers.run import CrawlRequest, api_overrides, crawl_request, validate_start_url
from services import queryplan
from services.discovery.decisions import approved_start_urls
from services.queryplan import disguised_spellings  # noqa: F401 - re-exported (the scan's API)
from storage.db import Database

MAX_SCAN_FILE_BYTES = 1024 * 1024


class ScanFileError(LookalikeError, ValueError):
    """The scan file is missing or does not validate."""


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """One crawl of the scan: a shop from ``start_urls``, or a marketplace ``profile`` searched for
    ``queries`` (empty: the registry's marks and products, filled in by :func:`plan_targets`)."""

    start_urls: tuple[str, ...] = ()
    profile: str | None = None
    base_url: str | None = None
    queries: tuple[str, ...] = ()
    #: The scan file's source (``sources:``): its name and kind, and for ``api`` its connector and quota.
    source: str | None = None
    kind: str | None = None
    connector: str | None = None
    site: str | None = None
    daily_budget: int | None = None
    per_second: float | None = None
    details: bool = True

    @property
    def searches(self) -> bool:
        """True for targets searched with queries (profiles and API connectors)."""
        return bool(self.profile or self.connector)

    @property
    def plan_key(self) -> str | None:
        """The source its queries are planned and recorded for (the marketplace its listings are stored
        under): an API source's name, a profile's name; None for shops."""
        if self.connector:
            return self.source or self.connector
        return self.profile

    @property
    def key(self) -> str:
        """The site this target crawls: the API source's name, the profile name, or the host (and port) of
        the first start URL.

        Crawls with the same key run one after the other (a concurrency limit per marketplace)."""
        if self.connector:
            return f"api:{self.source or self.connector}"
        if self.profile:
            return self.profile
        return urlsplit(self.start_urls[0]).netloc.lower() if self.start_urls else "?"

    @property
    def label(self) -> str:
        if self.source:
            return f"source {self.source} ({self.kind})"
        if self.profile:
            return f"profile {self.profile}" + (f" at {self.base_url}" if self.base_url else "")
        more = f" (+{len(self.start_urls) - 1} more)" if len(self.start_urls) > 1 else ""
        return f"{self.start_urls[0]}{more}"

    def crawl_request(self, *, scan_id: str | None = None,
                      scrapy_overrides: dict[str, Any] | None = None) -> CrawlRequest:
        """The crawler's request for this target (its ``target_key`` marks the target's ``crawl_runs``)."""
        return CrawlRequest(start_urls=self.start_urls, profile=self.profile, queries=self.queries,
                            base_url=self.base_url, scan_id=scan_id, scrapy_overrides=scrapy_overrides,
                            connector=self.connector, source=self.source, site=self.site,
                            daily_budget=self.daily_budget, per_second=self.per_second, details=self.details)

    def as_dict(self) -> dict[str, Any]:
        return {"start_urls": list(self.start_urls), "profile": self.profile, "base_url": self.base_url,
                "queries": list(self.queries), "source": self.source, "kind": self.kind,
                "connector": self.connector, "site": self.site, "daily_budget": self.daily_budget,
                "per_second": self.per_second, "details": self.details}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanTarget:
        return cls(start_urls=tuple(data.get("start_urls") or ()), profile=data.get("profile"),
                   base_url=data.get("base_url"), queries=tuple(data.get("queries") or ()),
                   source=data.get("source"), kind=data.get("kind"), connector=data.get("connector"),
                   site=data.get("site"), daily_budget=data.get("daily_budget"), per_second=data.get("per_second"),
                   details=data.get("details", True) is not False)

    def with_queries(self, queries: Sequence[str]) -> ScanTarget:
        return dataclasses.replace(self, queries=tuple(queries))


def _http_url(value: str) -> str:
    """``value`` when it is a fetchable start URL (:func:`crawlers.run.validate_start_url`), else ValueError."""
    try:
        return validate_start_url(value)
    except LookalikeError as exc:
        raise ValueError(str(exc)) from None


class _ShopEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start_urls: list[str] = Field(min_length=1)

    @field_validator("start_urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        return [_http_url(v) for v in value]


class _ProfileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    base_url: str | None = None
    queries: list[str] = Field(default_factory=list)

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        return _http_url(value) if value else None


_HttpUrl = Annotated[str, AfterValidator(_http_url)]

SOURCE_KINDS = ("shop", "profile", "api", "browser")
_SOURCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$"


class _SourceEntry(BaseModel):
    """One ``sources:`` entry; which keys a kind needs is checked in :meth:`_kind_keys`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=_SOURCE_NAME)
    kind: Literal["shop", "profile", "api", "browser"]
    start_urls: list[_HttpUrl] = Field(default_factory=list, max_length=1000)
    profile: str | None = Field(default=None, min_length=1, max_length=200)
    connector: str | None = None
    site: str | None = None
    base_url: _HttpUrl | None = None
    queries: list[str] = Field(default_factory=list, max_length=500)
    daily_budget: int | None = Field(default=None, ge=0, le=10_000_000)
    per_second: float | None = Field(default=None, gt=0, le=100)
    details: bool | None = None

    @field_validator("site")
    @classmethod
    def _site(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z][A-Z0-9_]{1,39}", value):
            raise ValueError(f"site must be a marketplace id such as EBAY_US, not {value[:40]!r}")
        return value

    @model_validator(mode="after")
    def _kind_keys(self) -> _SourceEntry:
        wanted = {"shop": {"start_urls"}, "profile": {"profile"}, "browser": {"profile"}, "api": {"connector"}}
        api_only = {"connector", "site", "daily_budget", "per_second", "details"}
        extra = {"shop": {"profile", "base_url", "queries"} | api_only,
                 "profile": {"start_urls"} | api_only,
                 "browser": {"start_urls"} | api_only,
                 "api": {"start_urls", "profile"}}
        given = {k for k, v in self.__dict__.items() if v not in (None, [])}
        article = "an" if self.kind == "api" else "a"
        if missing := sorted(wanted[self.kind] - given):
            raise ValueError(f"{article} {self.kind} source needs {', '.join(missing)}")
        if unwanted := sorted(extra[self.kind] & given):
            raise ValueError(f"{article} {self.kind} source takes no {', '.join(unwanted)}")
        if self.connector is not None and self.connector not in CONNECTOR_NAMES:
            raise ValueError(f"unknown connector {self.connector[:40]!r} (known: {', '.join(CONNECTOR_NAMES)})")
        return self


class _ScanFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    shops: list[_HttpUrl | _ShopEntry] = Field(default_factory=list)
    profiles: list[str | _ProfileEntry] = Field(default_factory=list)
    sources: list[_SourceEntry] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _unique_names(self) -> _ScanFile:
        names = [s.name for s in self.sources]
        if repeated := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"source names must be unique: {', '.join(repeated)}")
        return self


_ENTRY_SHAPES = {
    "shops": "must be a URL or a mapping {start_urls: [URL, ...]}",
    "profiles": "must be a profile name or a mapping {name: ..., base_url: ..., queries: [...]}",
}


def _problems(exc: ValidationError, raw: dict[str, Any]) -> list[str]:
    """One readable line per problem.  A shop or profile entry is a string or a mapping (a union):
    only the complaints of the alternative the entry was written as are shown."""
    problems: list[str] = []
    for error in exc.errors():
        loc = list(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if len(loc) >= 3 and loc[0] in _ENTRY_SHAPES and isinstance(loc[1], int) and isinstance(loc[2], str):
            entry = (raw.get(loc[0]) or [None] * (loc[1] + 1))[loc[1]]
            mapping_branch = loc[2].startswith("_")
            if not isinstance(entry, str | dict):
                message = _ENTRY_SHAPES[loc[0]]
            elif isinstance(entry, dict) != mapping_branch:
                continue  # the other alternative's complaint
            loc = loc[:2] + loc[3:]
        problems.append(f"{'.'.join(str(p) for p in loc) or '(file)'}: {message}")
    return list(dict.fromkeys(problems))


def parse_targets(text: str, *, source: str = "<scan file>") -> list[ScanTarget]:
    """The targets of a scan file's text (format in the module docstring); one-line ``ScanFileError``."""
    if len(text) > MAX_SCAN_FILE_BYTES:
        raise ScanFileError(f"{source}: larger than {MAX_SCAN_FILE_BYTES} bytes")
    try:
        raw = load_yaml(text, max_bytes=MAX_SCAN_FILE_BYTES) or {}
    except YAMLProblem as exc:
        raise ScanFileError(f"{source}: not valid YAML: {exc.where}: {exc.problem}") from None
    if not isinstance(raw, dict):
        raise ScanFileError(f"{source}: a scan file is a mapping with 'shops', 'profiles' and/or 'sources'")
    try:
        spec = _ScanFile.model_validate(raw)
    except ValidationError as exc:
        raise ScanFileError(f"{source}: {'; '.join(_problems(exc, raw))}") from None
    targets = [ScanTarget(start_urls=(s,)) if isinstance(s, str) else ScanTarget(start_urls=tuple(s.start_urls))
               for s in spec.shops]
    for p in spec.profiles:
        if isinstance(p, str):
            targets.append(ScanTarget(profile=p))
        else:
            targets.append(ScanTarget(profile=p.name, base_url=p.base_url, queries=tuple(p.queries)))
    for entry in spec.sources:
        targets.append(ScanTarget(start_urls=tuple(entry.start_urls), profile=entry.profile, base_url=entry.base_url,
                                  queries=tuple(entry.queries), source=entry.name, kind=entry.kind,
                                  connector=entry.connector, site=entry.site, daily_budget=entry.daily_budget,
                                  per_second=entry.per_second, details=entry.details is not False))
    return targets


def default_targets_file(settings: Settings) -> Path:
    """The scan file used when a scan is given no targets: ``settings.scan_file`` or ``<data_dir>/scan.yaml``."""
    return settings.scan_file or settings.data_dir / "scan.yaml"


def load_targets(path: Path | str) -> list[ScanTarget]:
    """The targets of the scan file at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise ScanFileError(f"{path}: no such scan file")
    return parse_targets(path.read_text(encoding="utf-8"), source=str(path))


def targets_from_options(
    *, start_urls: Iterable[str] = (), profiles: Iterable[str] = (), base_url: str | None = None
) -> list[ScanTarget]:
    """Targets from command-line style options: shops grouped by site (one crawl per site), then profiles."""
    by_site: dict[str, list[str]] = {}
    for url in start_urls:
        try:
            url = _http_url(url)
        except ValueError as exc:
            raise ScanFileError(str(exc)) from None
        by_site.setdefault(urlsplit(url).netloc.lower(), []).append(url)
    targets = [ScanTarget(start_urls=tuple(urls)) for urls in by_site.values()]
    targets += [ScanTarget(profile=name, base_url=base_url) for name in profiles]
    return targets


def plan_targets(targets: Sequence[ScanTarget], *, queries: Sequence[str] = (),
                 planned_for: Mapping[str, Sequence[str]] | None = None) -> list[ScanTarget]:
    """Fill each profile target's queries with its planned ones (``planned_for[profile]``, else
    ``queries``), keep its own extra ones after them; drop repeated targets."""
    planned: list[ScanTarget] = []
    seen: set[tuple] = set()
    for target in targets:
        if target.searches:
            mine = list((planned_for or {}).get(target.plan_key or "", queries))
            extra = [q for q in target.queries if q not in mine]
            target = target.with_queries(tuple(mine) + tuple(extra))
        identity = (target.start_urls, target.profile, target.base_url, target.source)
        if identity not in seen:
            seen.add(identity)
            planned.append(target)
    return planned


def _query_budget(settings: Settings, profile: str) -> int:
    """The profile's own ``query_budget``, else the setting (a profile that does not load is reported,
    in one line, when its crawl is checked)."""
    try:
        own = load_profile(profile, extra_dir=settings.profiles_dir).query_budget
    except LookalikeError:
        own = None
    return own or settings.query_budget


def group_by_site(targets: Sequence[ScanTarget]) -> dict[str, list[ScanTarget]]:
    """Targets by :attr:`ScanTarget.key`, in order: one site's crawls run one after the other."""
    groups: dict[str, list[ScanTarget]] = {}
    for target in targets:
        groups.setdefault(target.key, []).append(target)
    return groups


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """What a scan will crawl: ``targets`` in order, ``skipped`` (one sentence each), the scan file read
    (``source``, None when none) and the most planned queries one profile searches for (besides its own)."""

    targets: list[ScanTarget]
    skipped: list[str]
    source: Path | None
    queries: int


def plan_scan(
    settings: Settings,
    database: Database,
    *,
    targets_file: Path | str | None = None,
    start_urls: Iterable[str] = (),
    profiles: Iterable[str] = (),
    base_url: str | None = None,
) -> ScanPlan:
    """The crawls of one scan, every one checked before anything runs.

    Targets are the options' (``start_urls``, ``profiles``) after the scan file's; without a file and
    options, ``settings``' default scan file is read when it exists.  ``base_url`` is given to profiles
    that have none.  Raises ``LookalikeError`` (one line) for a bad scan file, URL or profile.
    """
    targets = targets_from_options(start_urls=start_urls, profiles=profiles, base_url=base_url)
    source = Path(targets_file) if targets_file else None
    if source is None and not targets and default_targets_file(settings).is_file():
        source = default_targets_file(settings)
    if source is not None:
        targets = load_targets(source) + targets
    planned_for: dict[str, list[str]] = {}
    with database.session() as session:
        for target in targets:
            key = target.plan_key
            if key and key not in planned_for:
                extras = [t.queries for t in targets if t.plan_key == key]
                extra = list(dict.fromkeys(q for group in extras for q in group))
                own = settings.query_budget if target.connector else _query_budget(settings, target.profile or "")
                ranked = queryplan.plan_for_source(session, key, budget=max(own - len(extra), 0))
                planned_for[key] = [r.candidate.text for r in ranked]
        approved = approved_start_urls(session)
    planned: list[ScanTarget] = []
    skipped: list[str] = []
    # Look-alike domains an operator approved (docs/discovery.md) are crawled as shops from the next night.
    known = {url for target in targets for url in target.start_urls}
    for url in approved:
        if url in known:
            continue
        try:
            validate_start_url(url)
        except LookalikeError as exc:
            skipped.append(f"approved domain {url} skipped: {str(exc)[:200]}")
            continue
        targets.append(ScanTarget(start_urls=(url,)))
    for target in plan_targets(targets, planned_for=planned_for):
        if target.profile and not target.base_url and base_url:
            target = dataclasses.replace(target, base_url=base_url)
        # Checked exactly as the crawler will run it; a search with no query is checked with a stand-in.
        stand_in = target.with_queries(("?",)) if target.searches and not target.queries else target
        request = stand_in.crawl_request()
        crawl_request(request, profiles_dir=settings.profiles_dir)
        if target.kind in ("profile", "browser"):
            render = load_profile(target.profile or "", extra_dir=settings.profiles_dir).render
            if (render == "browser") != (target.kind == "browser"):
                raise ScanFileError(f"{target.label}: profile {target.profile!r} renders {render!r}; "
                                    f"use kind: {'browser' if render == 'browser' else 'profile'}")
        if target.searches and not target.queries:
            skipped.append(f"{target.label} skipped: nothing to search for (no brands registered)")
            continue
        if target.connector:
            try:
                api_overrides(settings, request)
            except LookalikeError as exc:  # missing credentials: this source waits, the others run
                skipped.append(f"{target.label} skipped: {exc}")
                continue
        planned.append(target)
    return ScanPlan(targets=planned, skipped=skipped, source=source,
                    queries=max((len(q) for q in planned_for.values()), default=0))
