"""The brand registry: a YAML file a brand owner writes by hand, validated whole, imported in one transaction.

Format (JSON Schema in ``data/registry.schema.json``; paths are relative to the YAML file, images may
also be http(s) URLs)::

    brands:
      - name: Fullips
        owner: Et Al Beauty
        digest_to: [owner@example.com]
        category: cosmetics              # optional
        keywords: [lip, plumper]         # optional: trade words, needed when the mark is an ordinary word
        aliases: [Full Lips]
        authorized_sellers: [Et Al Beauty Official Store]
        thresholds: {}                   # optional: per-brand overrides of matching.config.MatchConfig
        products:
          - name: Fullips Lip Plumper
            sku: FLP-001
            msrp: 24.00
            currency: USD
            images: [refs/fullips/flp-001-a.jpg]
    owners:                              # optional: digest preferences (docs/digests.md)
      - name: Et Al Beauty
        digest: {frequency: weekly, min_score: 0.6, classes: [counterfeit, lookalike], enabled: true}

Validation reports every problem with its place (``brands[2].products[0].msrp: must be a positive
number``) before anything is stored.  Import is a sync of each brand in the file: what the file says
is what the database holds for that brand afterwards (products, marks, sellers and images not in the
file are removed); brands absent from the file are left alone.  Re-importing the same file changes nothing.
"""

from __future__ import annotations

import contextlib
import gc
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.currencies import is_currency_code
from core.errors import LookalikeError
from core.yamlfile import YAMLProblem, load_yaml
from services.quicklist import digest_summary  # shared with the fast `brands list`
from storage.imagestore import ImageRejected, ImageStore, StoredImage, save_image_row
from storage.models import AuthorizedSeller, Brand, Mark, Owner, Product, ReferenceImage

if TYPE_CHECKING:
    from services.signatures import SigningConfig

MAX_REGISTRY_BYTES = 5 * 1024 * 1024
MAX_MSRP = Decimal("1e12")
IMAGE_FETCH_SECONDS = 60.0
"""Default seconds one URL image may take in total (connect, redirects, body)."""
IMPORT_FETCH_BUDGET = 600.0
"""Default seconds all URL images of one registry file may take together."""
"""MSRPs at or above this (in major units) are refused."""
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProductSpec(_Strict):
    """One product of a brand."""

    name: Text = Field(description="Product name as the brand sells it.")
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        description="The brand's stock-keeping unit; unique within the brand."
    )
    msrp: Decimal | None = Field(default=None, description="Suggested retail price, a positive number.")
    currency: str | None = Field(default=None, description="ISO 4217 code of the MSRP, e.g. USD.")
    images: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]] = Field(
        default_factory=list,
        description="Official photos: paths relative to the registry file, or http(s) URLs.",
    )

    @field_validator("msrp", mode="before")
    @classmethod
    def _msrp_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal | None):
            raise ValueError("must be a positive number")
        if isinstance(value, float):
            value = repr(value)
        try:
            number = Decimal(str(value)) if value is not None else None
        except ArithmeticError:
            raise ValueError("must be a positive number") from None
        if number is not None and (not number.is_finite() or number <= 0 or number >= MAX_MSRP):
            raise ValueError("must be a positive number below 10^12")
        return number

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if not is_currency_code(code):
            raise ValueError(f"unknown currency {value!r}: use an ISO 4217 code such as USD, EUR or GBP")
        return code


def check_emails(values: list[str]) -> list[str]:
    """``values`` unchanged when each is an email address; ``ValueError`` naming the ones that are not."""
    bad = [v for v in values if not isinstance(v, str) or not EMAIL.match(v)]
    if bad:
        raise ValueError(f"not an email address: {', '.join(map(repr, bad))}")
    return values


class TrademarkSpec(_Strict):
    """One trademark registration, as a takedown notice cites it."""

    office: Text = Field(description="The registering office, e.g. USPTO, EUIPO, UKIPO, WIPO.")
    number: Text = Field(description="The registration number as the office writes it.")
    classes: list[int] = Field(default_factory=list, description="Nice classes covered (1 to 45).")
    jurisdiction: Text = Field(description="Where it is in force, e.g. US, EU, GB, or WIPO designations.")
    owner_of_record: Text | None = Field(default=None, description="The registrant; unset: the brand's owner.")

    @field_validator("classes")
    @classmethod
    def _nice(cls, value: list[int]) -> list[int]:
        bad = [c for c in value if not 1 <= c <= 45]
        if bad:
            raise ValueError(f"Nice classes run from 1 to 45, not {', '.join(map(str, bad))}")
        return value


class RightsHolderSpec(_Strict):
    """Who files the notices: the rights holder or its agent."""

    name: Text = Field(description="Name of the rights holder or agent.")
    email: str = Field(description="Contact email for the platforms.")
    address: Text | None = Field(default=None, description="Postal address.")
    phone: Text | None = Field(default=None, description="Telephone number.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_emails([value])[0]


class BrandSpec(_Strict):
    """One brand and everything Lookalike needs to protect it."""

    name: Text = Field(description="The brand name (its main mark).")
    owner: Text = Field(description="The company that owns the brand.")
    digest_to: list[str] = Field(default_factory=list, description="Email addresses that receive the digest.")
    category: Text | None = Field(default=None, description="What the brand sells, e.g. cosmetics.")
    keywords: list[Text] = Field(
        default_factory=list, description="Words of the brand's trade; needed when the mark is an ordinary word."
    )
    aliases: list[Text] = Field(default_factory=list, description="Other spellings and marks of the brand.")
    authorized_sellers: list[Text] = Field(default_factory=list, description="Sellers allowed to sell it.")
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Per-brand overrides of matching thresholds (MatchConfig field names)."
    )
    products: list[ProductSpec] = Field(default_factory=list, description="The brand's products.")
    trademarks: list[TrademarkSpec] = Field(
        default_factory=list, description="Trademark registrations cited in takedown notices."
    )
    rights_holder: RightsHolderSpec | None = Field(default=None, description="Who files takedown notices.")

    @field_validator("digest_to")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        return check_emails(value)


#: Match classes an owner may ask its digest for (``digest.classes``).
DIGEST_CLASSES = ("counterfeit", "lookalike", "other_goods", "accessory", "resale")


class DigestPrefs(_Strict):
    """How an owner wants its digest (docs/digests.md)."""

    frequency: Literal["daily", "weekly"] = Field(default="daily", description="daily or weekly.")
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Lowest score (0..1) reported as a new item; unset: every suspect."
    )
    classes: list[Literal["counterfeit", "lookalike", "other_goods", "accessory", "resale"]] = Field(
        default_factory=list, description="Classes reported as new items; empty: every suspect class."
    )
    enabled: bool = Field(default=True, description="false: send this owner no digest.")


class OwnerSpec(_Strict):
    """Preferences of one owner named by the brands."""

    name: Text = Field(description="The owner, as the brands' 'owner' names it.")
    digest: DigestPrefs = Field(default_factory=DigestPrefs, description="Digest preferences.")


class RegistryFile(_Strict):
    """The whole registry file."""

    brands: list[BrandSpec] = Field(min_length=1, description="The brands to protect.")
    owners: list[OwnerSpec] = Field(
        default_factory=list, description="Optional: digest preferences of owners named by the brands."
    )


@dataclass(frozen=True)
class Registry:
    """A validated registry with its images loaded, checked (header, limits) and ready to store."""

    path: Path
    brands: list[BrandSpec]
    owners: list[OwnerSpec] = field(default_factory=list)
    #: image reference as written in the file (path or URL) -> (stored image, its bytes); signed on import
    images: dict[str, tuple[StoredImage, bytes]] = field(default_factory=dict)

    def image(self, ref: str) -> StoredImage:
        return self.images[ref][0]


class RegistryInvalid(LookalikeError):
    """The registry has problems; ``problems`` lists each with its place."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s), nothing imported:\n{lines}")


def json_schema() -> dict[str, Any]:
    """The registry format as JSON Schema (published as ``data/registry.schema.json``)."""
    schema = RegistryFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Lookalike brand registry"
    return schema


# --- validation ---------------------------------------------------------------------------------------


def _place(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "unknown key",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
    "string_too_long": "is too long",
}


def _pydantic_problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        msg = _MESSAGES.get(err["type"]) or str(err["msg"]).removeprefix("Value error, ")
        problems.append(f"{_place(err['loc'])}: {msg}"[:500])
    return problems


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """(index, mapping) for the mappings of a list; nothing for any other shape (the schema reports it)."""
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def _text_key(value: Any) -> str | None:
    return value.strip().casefold() if isinstance(value, str) and value.strip() else None


def _semantic_problems(raw: dict[str, Any]) -> list[str]:
    """Duplicate brands and SKUs, MSRPs without currency, bad thresholds: read from the raw file, so that
    they are reported in the same run as schema problems (every value's type is checked first)."""
    problems = []
    seen_brands: dict[str, int] = {}
    for b, brand in _items(raw.get("brands")):
        key = _text_key(brand.get("name"))
        if key is not None:
            if key in seen_brands:
                problems.append(f"brands[{b}].name: duplicate brand {brand['name'].strip()[:200]!r} "
                                f"(also brands[{seen_brands[key]}])")
            seen_brands.setdefault(key, b)
        skus: dict[str, int] = {}
        for p, product in _items(brand.get("products")):
            where = f"brands[{b}].products[{p}]"
            sku = _text_key(product.get("sku"))
            if sku is not None:
                if sku in skus:
                    problems.append(f"{where}.sku: duplicate sku {product['sku'].strip()[:100]!r} "
                                    f"(also products[{skus[sku]}])")
                skus.setdefault(sku, p)
            if product.get("msrp") is not None and product.get("currency") is None:
                problems.append(f"{where}.currency: is required when msrp is given")
        thresholds = brand.get("thresholds")
        if isinstance(thresholds, dict) and thresholds and all(isinstance(k, str) for k in thresholds):
            problems.extend(f"brands[{b}].thresholds.{k[:100]}: {m}" for k, m in _threshold_problems(thresholds))
    problems.extend(_owner_problems(raw))
    return problems


def _owner_problems(raw: dict[str, Any]) -> list[str]:
    """``owners:`` entries must name an owner of a brand in the file, each once."""
    named = {_text_key(brand.get("owner")) for _b, brand in _items(raw.get("brands"))}
    problems, seen = [], set()
    for o, owner in _items(raw.get("owners")):
        key = _text_key(owner.get("name"))
        if key is None:
            continue
        if key in seen:
            problems.append(f"owners[{o}].name: duplicate owner {owner['name'].strip()[:200]!r}")
        seen.add(key)
        if key not in named:
            problems.append(f"owners[{o}].name: no brand in this file has owner {owner['name'].strip()[:200]!r}")
    return problems


def _threshold_problems(thresholds: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        from matching.config import MatchConfig
    except ImportError:  # matching not installed in this build: nothing to check against
        return []
    problems = []
    for key, value in thresholds.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue  # the schema reports "must be a number"
        try:
            MatchConfig().with_overrides({key: value})
        except (ValueError, TypeError) as exc:
            problems.append((key, str(exc)[:300] or "not a matching threshold"))
    return problems


def _image_refs(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """(place, reference) of every image named in the file whose value is text, in file order."""
    refs = []
    for b, brand in _items(raw.get("brands")):
        for p, product in _items(brand.get("products")):
            images = product.get("images")
            for i, ref in enumerate(images if isinstance(images, list) else []):
                if isinstance(ref, str) and ref.strip():
                    refs.append((f"brands[{b}].products[{p}].images[{i}]", ref.strip()))
    return refs


ImageFetcher = Callable[..., tuple[bytes, str | None]]
"""``fetch(url, deadline=monotonic_seconds_or_None) -> (body, content type)``; raises ``LookalikeError``."""
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _read_local_image(ref: str, base: Path, store: ImageStore, *, allow_outside: bool) -> bytes:
    """The bytes of a local image path; confined to ``base`` unless ``allow_outside``.

    The "outside" refusal is decided from the path text alone (after resolving ``..`` and symlinks of the
    folders that exist), before the file is looked at, so it never tells whether a file exists there."""
    root = base.resolve()
    candidate = Path(ref)
    if not allow_outside:
        if candidate.is_absolute() or ".." in candidate.parts:
            raise LookalikeError("is outside the registry folder (allow_outside_images allows it)")
        try:
            resolved = (root / candidate).resolve()
        except (OSError, RuntimeError):
            raise LookalikeError("is outside the registry folder (allow_outside_images allows it)") from None
        if not resolved.is_relative_to(root):
            raise LookalikeError("is outside the registry folder (allow_outside_images allows it)")
    else:
        resolved = (root / candidate).resolve()
    if not resolved.is_file():
        raise LookalikeError("file not found in the registry folder" if not allow_outside else "file not found")
    if resolved.stat().st_size > store.max_bytes:
        raise LookalikeError(f"larger than {store.max_bytes} bytes")
    return resolved.read_bytes()


def _load_images(  # noqa: PLR0913 - the limits are keywords
    refs: list[tuple[str, str]], base: Path, store: ImageStore, fetch: ImageFetcher | None, *,
    allow_outside: bool = False, fetch_budget: float | None = None,
) -> tuple[dict[str, tuple[StoredImage, bytes]], list[str]]:
    images: dict[str, tuple[StoredImage, bytes]] = {}
    failed: set[str] = set()
    problems: list[str] = []
    deadline = time.monotonic() + fetch_budget if fetch_budget is not None else None
    for where, ref in refs:
        if ref in images or ref in failed:
            continue
        shown = repr(ref[:200])
        try:
            if _URL.match(ref):
                if not ref.lower().startswith(("http://", "https://")):
                    raise LookalikeError("only http(s) URLs or file paths are allowed")
                if fetch is None:
                    raise LookalikeError("URL images need network access, which is off here")
                if deadline is not None and time.monotonic() >= deadline:
                    raise LookalikeError(f"not fetched: the import's download budget of {fetch_budget:g} s is spent")
                data, content_type = fetch(ref, deadline=deadline)
            else:
                data, content_type = _read_local_image(ref, base, store, allow_outside=allow_outside), None
            stored = store.check(data, content_type=content_type)
        except ImageRejected as exc:
            problems.append(f"{where}: {shown} is not a usable image: {exc}")
            failed.add(ref)
            continue
        except LookalikeError as exc:
            problems.append(f"{where}: {shown}: {str(exc)[:300]}")
            failed.add(ref)
            continue
        images[ref] = (stored, data)
    return images, problems


def read_registry_file(path: Path) -> Any:
    """The parsed YAML of a registry file; ``RegistryInvalid`` with one line when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise LookalikeError(f"{path}: no such file")
    if path.stat().st_size > MAX_REGISTRY_BYTES:
        raise RegistryInvalid(path, [f"(file): larger than {MAX_REGISTRY_BYTES} bytes"])
    try:
        return load_yaml(path.read_bytes(), max_bytes=MAX_REGISTRY_BYTES)
    except YAMLProblem as exc:
        problem = exc.problem if exc.problem.startswith(("not UTF-8", "larger")) else f"bad YAML: {exc.problem}"
        raise RegistryInvalid(path, [f"{exc.where}: {problem}"]) from None


def load_registry(  # noqa: PLR0913 - the limits are keywords
    path: Path, *, store: ImageStore, fetch: ImageFetcher | None = None, allow_outside_images: bool = False,
    fetch_budget: float | None = None,
) -> Registry:
    """Read, validate and hash a registry file; raise ``RegistryInvalid`` listing every problem at once.

    Schema problems, duplicate brands and SKUs and image problems are all reported in one run.  Local
    image paths must stay inside the registry's folder unless ``allow_outside_images``; URL images are
    fetched with ``fetch`` within ``fetch_budget`` seconds for the whole file (None: no overall budget).
    """
    path = Path(path)
    raw = read_registry_file(path)
    if not isinstance(raw, dict):
        raise RegistryInvalid(path, ["(file): must be a mapping with a 'brands' list"])
    spec: RegistryFile | None = None
    try:
        spec = RegistryFile.model_validate(raw)
        problems: list[str] = []
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
    problems += _semantic_problems(raw)
    images, image_problems = _load_images(_image_refs(raw), path.parent, store, fetch,
                                          allow_outside=allow_outside_images, fetch_budget=fetch_budget)
    problems += image_problems
    if problems or spec is None:
        raise RegistryInvalid(path, list(dict.fromkeys(problems)))
    return Registry(path=path, brands=spec.brands, owners=spec.owners, images=images)


# --- import -------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    changes: list[str] = field(default_factory=list)
    brands: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _sync_names(
    session: Session, existing: list[Any], wanted: list[str], make: Callable[[str], Any], what: str,
    brand: str, report: ImportReport,
) -> None:
    have = {row.text if hasattr(row, "text") else row.name: row for row in existing}
    for name in wanted:
        if name not in have:
            make(name)
            report.changes.append(f"brand {brand}: {what} {name!r} added")
    for name, row in have.items():
        if name not in wanted:
            session.delete(row)
            existing.remove(row)
            report.changes.append(f"brand {brand}: {what} {name!r} removed")


def _set(obj: Any, attr: str, value: Any, label: str, report: ImportReport) -> None:
    old = getattr(obj, attr)
    if old != value:
        setattr(obj, attr, value)
        report.changes.append(f"{label}: {attr} {old!r} -> {value!r}" if old not in (None, [], {}) else
                              f"{label}: {attr} set to {value!r}")


PREFETCH_CHUNK = 500
"""Names per ``IN (...)`` query when the importer loads the existing rows of a file's brands."""


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), PREFETCH_CHUNK):
        yield values[start:start + PREFETCH_CHUNK]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: building tens of thousands of ORM rows otherwise spends
    most of its time in full collections over the growing heap (the rows are freed normally later)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def import_registry(session: Session, registry: Registry, store: ImageStore, *,
                    signing: SigningConfig | None = None) -> ImportReport:
    """Make the database hold what ``registry`` says for each of its brands; report every change.

    The existing owners and brands (with marks, sellers, products and images) of the file are loaded in
    a few queries up front and everything is written in one flush at the end, so the time grows with the
    file, not with one round trip per brand. Images without a signature are signed here (``signing``:
    how; default: the store's limits, OCR on, one process per core), so matching works right after."""
    report = ImportReport(brands=len(registry.brands))
    owner_names = sorted({spec.owner for spec in registry.brands})
    brand_names = [spec.name for spec in registry.brands]
    with session.no_autoflush, _collector_paused():
        owners: dict[str, Owner] = {}
        for chunk in _chunks(owner_names):
            owners.update((o.name, o) for o in session.scalars(select(Owner).where(Owner.name.in_(chunk))))
        brands: dict[str, Brand] = {}
        for chunk in _chunks(brand_names):
            brands.update((b.name, b) for b in session.scalars(
                select(Brand).where(Brand.name.in_(chunk)).options(
                    selectinload(Brand.owner), selectinload(Brand.marks), selectinload(Brand.authorized_sellers),
                    selectinload(Brand.products).selectinload(Product.images),
                )
            ))
        for spec in registry.brands:
            owner = owners.get(spec.owner)
            if owner is None:
                owner = owners[spec.owner] = Owner(name=spec.owner)
                session.add(owner)
            _import_brand(session, spec, brands.get(spec.name), owner, registry, store, report)
        session.flush()
        for owner_spec in registry.owners:
            _import_owner_prefs(owners[owner_spec.name], owner_spec, report)
    _sign_reference_images(session, registry, store, signing)
    # A new brand, or new names or photos, is matched against the listings already stored (issue 9.7).
    from services.rematch import queue_after_import  # deferred: start-up time (loads the matching engine)

    queue_after_import(session, report.changes, brand_names)
    return report


def _import_owner_prefs(owner: Owner, spec: OwnerSpec, report: ImportReport) -> None:
    """Set an owner's digest preferences; owners the file's ``owners:`` does not list keep theirs."""
    label, prefs = f"owner {spec.name}", spec.digest
    wanted = {"digest_frequency": (prefs.frequency, "daily"), "digest_min_score": (prefs.min_score, None),
              "digest_classes": (list(prefs.classes), []), "digest_enabled": (prefs.enabled, True)}
    for attr, (value, default) in wanted.items():
        old = getattr(owner, attr)
        old = default if old is None else old  # a new owner has no value before its INSERT
        if old != value:
            setattr(owner, attr, value)
            report.changes.append(f"{label}: {attr} {old!r} -> {value!r}")
        elif getattr(owner, attr) is None:
            setattr(owner, attr, value)


def _sign_reference_images(session: Session, registry: Registry, store: ImageStore,
                           signing: SigningConfig | None) -> None:
    """Sign the file's images in the import's transaction, so matching can use them once it commits; an
    image that cannot be decoded is a problem of the file (``RegistryInvalid``: nothing is stored)."""
    from services.signatures import SigningConfig, sign_in_session  # deferred: start-up time (OpenCV, numpy)

    blobs = {stored.sha256: data for stored, data in registry.images.values()}
    config = signing or SigningConfig(max_pixels=store.max_pixels, max_bytes=store.max_bytes)
    failed = sign_in_session(session, blobs, config)
    if failed:
        refs = {stored.sha256: ref for ref, (stored, _data) in registry.images.items()}
        raise RegistryInvalid(registry.path, [f"image {refs[sha]!r} is not a usable image: {error}"
                                              for sha, error in sorted(failed.items(), key=lambda f: refs[f[0]])])


def _import_brand(  # noqa: PLR0913 - one brand's rows and the shared report
    session: Session, spec: BrandSpec, brand: Brand | None, owner: Owner, registry: Registry,
    store: ImageStore, report: ImportReport,
) -> None:
    label = f"brand {spec.name}"
    if brand is None:
        brand = Brand(name=spec.name, owner=owner, keywords=[], digest_to=[], thresholds={}, trademarks=[],
                      rights_holder={})
        session.add(brand)
        report.changes.append(f"{label}: created")
    if brand.owner is not owner:
        report.changes.append(f"{label}: owner {brand.owner.name if brand.owner else None!r} -> {owner.name!r}")
        brand.owner = owner
    _set(brand, "category", spec.category, label, report)
    _set(brand, "keywords", list(spec.keywords), label, report)
    _set(brand, "digest_to", list(spec.digest_to), label, report)
    _set(brand, "thresholds", dict(spec.thresholds), label, report)
    _set(brand, "trademarks", [t.model_dump() for t in spec.trademarks], label, report)
    _set(brand, "rights_holder", spec.rights_holder.model_dump() if spec.rights_holder else {}, label, report)

    wanted_marks = list(dict.fromkeys([spec.name, *spec.aliases]))
    _sync_names(session, brand.marks, wanted_marks,
                lambda t: brand.marks.append(Mark(text=t, kind="name" if t == spec.name else "alias")),
                "mark", spec.name, report)
    for mark in brand.marks:
        kind = "name" if mark.text == spec.name else "alias"
        if mark.kind != kind:
            mark.kind = kind
    _sync_names(session, brand.authorized_sellers, list(dict.fromkeys(spec.authorized_sellers)),
                lambda n: brand.authorized_sellers.append(AuthorizedSeller(name=n)),
                "authorized seller", spec.name, report)

    by_sku = {p.sku: p for p in brand.products}
    for pspec in spec.products:
        product = by_sku.pop(pspec.sku, None)
        plabel = f"{label}: product {pspec.sku}"
        if product is None:
            product = Product(sku=pspec.sku, name=pspec.name, msrp=pspec.msrp, currency=pspec.currency)
            brand.products.append(product)
            report.changes.append(f"{plabel}: added")
        else:
            _set(product, "name", pspec.name, plabel, report)
            if product.msrp != pspec.msrp:
                report.changes.append(f"{plabel}: msrp {product.msrp} -> {pspec.msrp}")
                product.msrp = pspec.msrp
            _set(product, "currency", pspec.currency, plabel, report)
        _sync_images(session, product, pspec, registry, store, plabel, report)
    for sku, product in by_sku.items():
        brand.products.remove(product)
        session.delete(product)
        report.changes.append(f"{label}: product {sku} removed")


def _sync_images(session: Session, product: Product, spec: ProductSpec, registry: Registry,
                 store: ImageStore, label: str, report: ImportReport) -> None:
    wanted: dict[str, tuple[int, str]] = {}
    for position, ref in enumerate(spec.images):
        stored, data = registry.images[ref]
        wanted.setdefault(stored.sha256, (position, ref))
    have = {img.sha256: img for img in product.images}
    for sha, (position, ref) in wanted.items():
        stored, data = registry.images[ref]
        store.write(stored, data)
        save_image_row(session, stored)
        row = have.pop(sha, None)
        if row is None:
            product.images.append(ReferenceImage(sha256=sha, source=ref, position=position))
            report.changes.append(f"{label}: image {ref!r} added")
        elif (row.position, row.source) != (position, ref):
            row.position, row.source = position, ref
            report.changes.append(f"{label}: image {ref!r} moved to position {position}")
    for row in have.values():
        product.images.remove(row)
        session.delete(row)
        report.changes.append(f"{label}: image {row.source!r} removed")


def _digest_summary(owner: Owner) -> str:
    """``daily``, ``weekly, min 0.6, counterfeit+lookalike`` or ``off``: an owner's digest preferences."""
    return digest_summary(owner.digest_enabled, owner.digest_frequency, owner.digest_min_score,
                          owner.digest_classes)


def _by_id(row: Any) -> int:
    return row.id


def list_brands(session: Session) -> list[dict[str, Any]]:
    """A summary row per registered brand, for ``lookalike brands list`` (aliases and sellers in the order
    they were added; :func:`services.quicklist.brand_rows` gives the same rows without the ORM)."""
    brands = session.scalars(
        select(Brand).order_by(Brand.name).options(
            selectinload(Brand.owner), selectinload(Brand.marks), selectinload(Brand.authorized_sellers),
            selectinload(Brand.products).selectinload(Product.images),
        )
    ).all()
    return [
        {
            "brand": b.name,
            "owner": b.owner.name,
            "digest_to": list(b.digest_to or []),
            "digest": _digest_summary(b.owner),
            "category": b.category,
            "aliases": [m.text for m in sorted(b.marks, key=_by_id) if m.kind == "alias"],
            "products": len(b.products),
            "images": sum(len(p.images) for p in b.products),
            "authorized_sellers": [s.name for s in sorted(b.authorized_sellers, key=_by_id)],
        }
        for b in brands
    ]
