"""Applying a validated registry to the database: :func:`import_registry`.

Each brand of the file is synced (what the file says is what the database holds for it afterwards;
brands absent from the file are left alone), the new official photos are signed in the same transaction
(so matching can use them once it commits), and every brand whose matches can change is queued for a
re-match of the stored listings.  Every difference is reported as a typed
:class:`~services.registry.changes.Change`; importing the same file again reports none.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.registry.changes import Change, ChangeKind, altered
from services.registry.load import Registry
from services.registry.specification import BrandSpec, OwnerSpec, ProductSpec, RegistryInvalid
from services.rematch import queue_after_import
from services.signatures import SigningConfig, sign_in_session
from storage.imagestore import ImageStore, save_image_row
from storage.models import AuthorizedSeller, Brand, Mark, Owner, Product, ReferenceImage

PREFETCH_CHUNK = 500
"""Names per ``IN (...)`` query when the importer loads the existing rows of a file's brands."""
#: Brand columns the file sets as they are, with the kind of change each one is.
_BRAND_FIELDS = {"category": ChangeKind.CATEGORY, "keywords": ChangeKind.KEYWORDS, "digest_to": ChangeKind.DIGEST,
                 "thresholds": ChangeKind.THRESHOLDS, "trademarks": ChangeKind.TRADEMARKS,
                 "rights_holder": ChangeKind.RIGHTS_HOLDER, "official_domains": ChangeKind.DOMAINS}


@dataclass
class ImportReport:
    """What an import did: every change applied, and how many brands the file holds."""

    changes: list[Change] = field(default_factory=list)
    brands: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def lines(self) -> list[str]:
        """The changes as sentences (``brand Fullips: product FLP-001 added``)."""
        return [str(change) for change in self.changes]


def import_registry(session: Session, registry: Registry, store: ImageStore, *,
                    signing: SigningConfig | None = None) -> ImportReport:
    """Make the database hold what ``registry`` says for each of its brands; report every change.

    The existing owners and brands (with marks, sellers, products and images) of the file are loaded in
    a few queries up front and everything is written in one flush at the end, so the time grows with the
    file, not with one round trip per brand. Images without a signature are signed here (``signing``:
    how; default: the store's limits, OCR on, one process per core), so matching works right after;
    brands whose changes can change their matches get a re-match job (:mod:`services.rematch`)."""
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
    queue_after_import(session, report.changes)
    return report


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


def _import_owner_prefs(owner: Owner, spec: OwnerSpec, report: ImportReport) -> None:
    """Set an owner's digest preferences; owners the file's ``owners:`` does not list keep theirs."""
    prefs = spec.digest
    wanted = {"digest_frequency": (prefs.frequency, "daily"), "digest_min_score": (prefs.min_score, None),
              "digest_classes": (list(prefs.classes), []), "digest_enabled": (prefs.enabled, True)}
    for attr, (value, default) in wanted.items():
        old = getattr(owner, attr)
        old = default if old is None else old  # a new owner has no value before its INSERT
        if old != value:
            setattr(owner, attr, value)
            report.changes.append(Change(None, attr, ChangeKind.DIGEST, f"{old!r} -> {value!r}", owner=spec.name))
        elif getattr(owner, attr) is None:
            setattr(owner, attr, value)


def _sign_reference_images(session: Session, registry: Registry, store: ImageStore,
                           signing: SigningConfig | None) -> None:
    """Sign the file's images in the import's transaction, so matching can use them once it commits; an
    image that cannot be decoded is a problem of the file (``RegistryInvalid``: nothing is stored)."""
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
    name, changes = spec.name, report.changes
    if brand is None:
        brand = Brand(name=name, owner=owner, keywords=[], digest_to=[], thresholds={}, trademarks=[],
                      rights_holder={}, official_domains=[])
        session.add(brand)
        changes.append(Change(name, "", ChangeKind.CREATED, "created"))
    if brand.owner is not owner:
        old = brand.owner.name if brand.owner else None
        changes.append(Change(name, "owner", ChangeKind.OWNER, f"{old!r} -> {owner.name!r}"))
        brand.owner = owner
    wanted = {"category": spec.category, "keywords": list(spec.keywords), "digest_to": list(spec.digest_to),
              "thresholds": dict(spec.thresholds), "trademarks": [t.model_dump() for t in spec.trademarks],
              "rights_holder": spec.rights_holder.model_dump() if spec.rights_holder else {},
              "official_domains": list(spec.domains)}
    for attr, value in wanted.items():
        _set(brand, attr, value, lambda words, a=attr: Change(name, a, _BRAND_FIELDS[a], words), changes)

    wanted_marks = list(dict.fromkeys([name, *spec.aliases]))
    _sync_names(session, brand.marks, wanted_marks,
                lambda t: brand.marks.append(Mark(text=t, kind="name" if t == name else "alias")),
                "mark", ChangeKind.MARK, name, changes)
    for mark in brand.marks:
        kind = "name" if mark.text == name else "alias"
        if mark.kind != kind:
            mark.kind = kind
    _sync_names(session, brand.authorized_sellers, list(dict.fromkeys(spec.authorized_sellers)),
                lambda n: brand.authorized_sellers.append(AuthorizedSeller(name=n)),
                "authorized seller", ChangeKind.AUTHORIZED_SELLER, name, changes)

    by_sku = {p.sku: p for p in brand.products}
    for pspec in spec.products:
        product = by_sku.pop(pspec.sku, None)
        subject = f"product {pspec.sku}"
        if product is None:
            product = Product(sku=pspec.sku, name=pspec.name, msrp=pspec.msrp, currency=pspec.currency)
            brand.products.append(product)
            changes.append(Change(name, subject, ChangeKind.PRODUCT, "added"))
        else:
            _set(product, "name", pspec.name,
                 lambda words, s=subject: Change(name, f"{s}: name", ChangeKind.PRODUCT, words), changes)
            if product.msrp != pspec.msrp:
                changes.append(Change(name, f"{subject}: msrp", ChangeKind.PRODUCT, f"{product.msrp} -> {pspec.msrp}"))
                product.msrp = pspec.msrp
            _set(product, "currency", pspec.currency,
                 lambda words, s=subject: Change(name, f"{s}: currency", ChangeKind.PRODUCT, words), changes)
        _sync_images(session, product, pspec, registry, store, name, subject, changes)
    for sku, product in by_sku.items():
        brand.products.remove(product)
        session.delete(product)
        changes.append(Change(name, f"product {sku}", ChangeKind.PRODUCT, "removed"))


def _set(obj: Any, attr: str, value: Any, change: Callable[[str], Change], changes: list[Change]) -> None:
    """Set ``obj.attr`` to ``value``; when that changes it, record ``change(words)``."""
    old = getattr(obj, attr)
    if old != value:
        setattr(obj, attr, value)
        changes.append(change(altered(old, value)))


def _sync_names(  # noqa: PLR0913 - the rows, the names wanted and how to report them
    session: Session, existing: list[Any], wanted: list[str], make: Callable[[str], Any], what: str,
    kind: ChangeKind, brand: str, changes: list[Change],
) -> None:
    have = {row.text if hasattr(row, "text") else row.name: row for row in existing}
    for name in wanted:
        if name not in have:
            make(name)
            changes.append(Change(brand, f"{what} {name!r}", kind, "added"))
    for name, row in have.items():
        if name not in wanted:
            session.delete(row)
            existing.remove(row)
            changes.append(Change(brand, f"{what} {name!r}", kind, "removed"))


def _sync_images(  # noqa: PLR0913 - one product's rows and where to report
    session: Session, product: Product, spec: ProductSpec, registry: Registry, store: ImageStore, brand: str,
    subject: str, changes: list[Change],
) -> None:
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
            changes.append(Change(brand, f"{subject}: image {ref!r}", ChangeKind.IMAGE, "added"))
        elif (row.position, row.source) != (position, ref):
            row.position, row.source = position, ref
            changes.append(Change(brand, f"{subject}: image {ref!r}", ChangeKind.IMAGE, f"moved to position {position}"))
    for row in have.values():
        product.images.remove(row)
        session.delete(row)
        changes.append(Change(brand, f"{subject}: image {row.source!r}", ChangeKind.IMAGE, "removed"))
