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

Validation reports every problem with its place (``brands[2].products[0].msrp: must be a positive
number``) before anything is stored.  Import is a sync of each brand in the file: what the file says
is what the database holds for that brand afterwards (products, marks, sellers and images not in the
file are removed); brands absent from the file are left alone.  Re-importing the same file changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lookalike.currencies import is_currency_code
from lookalike.errors import LookalikeError
from lookalike.imagestore import ImageRejected, ImageStore, StoredImage, save_image_row
from storage.models import AuthorizedSeller, Brand, Mark, Owner, Product, ReferenceImage

MAX_REGISTRY_BYTES = 5 * 1024 * 1024
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
        if number is not None and (not number.is_finite() or number <= 0):
            raise ValueError("must be a positive number")
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

    @field_validator("digest_to")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not isinstance(v, str) or not EMAIL.match(v)]
        if bad:
            raise ValueError(f"not an email address: {', '.join(map(repr, bad))}")
        return value


class RegistryFile(_Strict):
    """The whole registry file."""

    brands: list[BrandSpec] = Field(min_length=1, description="The brands to protect.")


@dataclass(frozen=True)
class Registry:
    """A validated registry with its images loaded, hashed and ready to store."""

    path: Path
    brands: list[BrandSpec]
    #: image reference as written in the file (path or URL) -> stored image (hashes computed)
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


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that reports duplicate mapping keys instead of silently keeping the last."""


def _mapping_without_duplicates(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


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
        problems.append(f"{_place(err['loc'])}: {msg}")
    return problems


def _semantic_problems(spec: RegistryFile) -> list[str]:
    problems = []
    seen_brands: dict[str, int] = {}
    for b, brand in enumerate(spec.brands):
        key = brand.name.casefold()
        if key in seen_brands:
            problems.append(f"brands[{b}].name: duplicate brand {brand.name!r} (also brands[{seen_brands[key]}])")
        seen_brands.setdefault(key, b)
        skus: dict[str, int] = {}
        for p, product in enumerate(brand.products):
            where = f"brands[{b}].products[{p}]"
            if product.sku.casefold() in skus:
                problems.append(f"{where}.sku: duplicate sku {product.sku!r} (also products[{skus[product.sku.casefold()]}])")
            skus.setdefault(product.sku.casefold(), p)
            if product.msrp is not None and product.currency is None:
                problems.append(f"{where}.currency: is required when msrp is given")
        if brand.thresholds:
            problems.extend(f"brands[{b}].thresholds.{k}: {m}" for k, m in _threshold_problems(brand.thresholds))
    return problems


def _threshold_problems(thresholds: dict[str, float]) -> list[tuple[str, str]]:
    try:
        from matching.config import MatchConfig
    except ImportError:  # matching not installed in this build: nothing to check against
        return []
    problems = []
    for key in thresholds:
        try:
            MatchConfig().with_overrides({key: thresholds[key]})
        except (ValueError, TypeError) as exc:
            problems.append((key, str(exc) or "not a matching threshold"))
    return problems


ImageFetcher = Callable[[str], tuple[bytes, str | None]]


def _load_images(
    spec: RegistryFile, base: Path, store: ImageStore, fetch: ImageFetcher | None
) -> tuple[dict[str, tuple[StoredImage, bytes]], list[str]]:
    images: dict[str, tuple[StoredImage, bytes]] = {}
    problems: list[str] = []
    for b, brand in enumerate(spec.brands):
        for p, product in enumerate(brand.products):
            for i, ref in enumerate(product.images):
                where = f"brands[{b}].products[{p}].images[{i}]"
                if ref in images:
                    continue
                try:
                    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", ref):
                        if not ref.lower().startswith(("http://", "https://")):
                            raise LookalikeError("only http(s) URLs or file paths are allowed")
                        if fetch is None:
                            raise LookalikeError("URL images need network access, which is off here")
                        data, content_type = fetch(ref)
                    else:
                        path = (base / ref).resolve()
                        if not path.is_file():
                            raise LookalikeError(f"file not found: {path}")
                        if path.stat().st_size > store.max_bytes:
                            raise LookalikeError(f"larger than {store.max_bytes} bytes")
                        data, content_type = path.read_bytes(), None
                    stored = store.hash_only(data, content_type=content_type)
                except ImageRejected as exc:
                    problems.append(f"{where}: {ref!r} is not a usable image: {exc}")
                    continue
                except LookalikeError as exc:
                    problems.append(f"{where}: {ref!r}: {exc}")
                    continue
                images[ref] = (stored, data)
    return images, problems


def load_registry(path: Path, *, store: ImageStore, fetch: ImageFetcher | None = None) -> Registry:
    """Read, validate and hash a registry file; raise ``RegistryInvalid`` listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise LookalikeError(f"{path}: no such file")
    if path.stat().st_size > MAX_REGISTRY_BYTES:
        raise RegistryInvalid(path, [f"(file): larger than {MAX_REGISTRY_BYTES} bytes"])
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - safe loader subclass
    except UnicodeDecodeError:
        raise RegistryInvalid(path, ["(file): not UTF-8 text"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise RegistryInvalid(path, [f"{where}: bad YAML: {problem}"]) from None
    if not isinstance(raw, dict):
        raise RegistryInvalid(path, ["(file): must be a mapping with a 'brands' list"])
    try:
        spec = RegistryFile.model_validate(raw)
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
        # Still check the images of what parsed, so that one run shows every mistake.
        partial = _partial_spec(raw)
        if partial is not None:
            problems += _load_images(partial, path.parent, store, fetch)[1]
        raise RegistryInvalid(path, problems) from None
    problems = _semantic_problems(spec)
    images, image_problems = _load_images(spec, path.parent, store, fetch)
    problems += image_problems
    if problems:
        raise RegistryInvalid(path, problems)
    return Registry(path=path, brands=spec.brands, images=images)


def _partial_spec(raw: dict[str, Any]) -> RegistryFile | None:
    """The products whose images can be checked although other parts of the file are invalid."""
    brands = []
    for brand in raw.get("brands") or []:
        products = []
        for product in (brand or {}).get("products") or [] if isinstance(brand, dict) else []:
            images = product.get("images") if isinstance(product, dict) else None
            if isinstance(images, list) and all(isinstance(i, str) for i in images):
                products.append(ProductSpec.model_construct(images=images))
            else:
                products.append(ProductSpec.model_construct(images=[]))
        brands.append(BrandSpec.model_construct(products=products))
    return RegistryFile.model_construct(brands=brands) if brands else None


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


def import_registry(session: Session, registry: Registry, store: ImageStore) -> ImportReport:
    """Make the database hold what ``registry`` says for each of its brands; report every change."""
    report = ImportReport(brands=len(registry.brands))
    for spec in registry.brands:
        _import_brand(session, spec, registry, store, report)
    session.flush()
    return report


def _import_brand(session: Session, spec: BrandSpec, registry: Registry, store: ImageStore,
                  report: ImportReport) -> None:
    owner = session.scalar(select(Owner).where(Owner.name == spec.owner))
    if owner is None:
        owner = Owner(name=spec.owner)
        session.add(owner)
    brand = session.scalar(
        select(Brand).where(Brand.name == spec.name).options(
            selectinload(Brand.marks), selectinload(Brand.authorized_sellers),
            selectinload(Brand.products).selectinload(Product.images),
        )
    )
    label = f"brand {spec.name}"
    if brand is None:
        brand = Brand(name=spec.name, owner=owner, keywords=[], digest_to=[], thresholds={})
        session.add(brand)
        report.changes.append(f"{label}: created")
    if brand.owner is not owner:
        report.changes.append(f"{label}: owner {brand.owner.name if brand.owner else None!r} -> {owner.name!r}")
        brand.owner = owner
    _set(brand, "category", spec.category, label, report)
    _set(brand, "keywords", list(spec.keywords), label, report)
    _set(brand, "digest_to", list(spec.digest_to), label, report)
    _set(brand, "thresholds", dict(spec.thresholds), label, report)

    wanted_marks = list(dict.fromkeys([spec.name, *spec.aliases]))
    _sync_names(session, brand.marks, wanted_marks,
                lambda t: brand.marks.append(Mark(text=t, kind="name" if t == spec.name else "alias")),
                "mark", spec.name, report)
    for mark in brand.marks:
        mark.kind = "name" if mark.text == spec.name else "alias"
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
    session.flush()


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


def list_brands(session: Session) -> list[dict[str, Any]]:
    """A summary row per registered brand, for ``lookalike brands list``."""
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
            "category": b.category,
            "aliases": [m.text for m in b.marks if m.kind == "alias"],
            "products": len(b.products),
            "images": sum(len(p.images) for p in b.products),
            "authorized_sellers": [s.name for s in b.authorized_sellers],
        }
        for b in brands
    ]
