"""One brand edited outside a registry file: the review app's brand form, and YAML export.

The brand form and the YAML import share every rule: a form is turned into the brand's registry entry
(the same mapping a YAML file holds for one brand), checked by
:func:`~services.registry.specification.check_brand` (errors come back keyed by field path, e.g.
``products[1].msrp``, so the form shows each beside its field), and stored by
:func:`~services.registry.sync.import_registry`, which reports typed changes and queues the re-match.

Uploaded photos are hostile: at most :data:`MAX_UPLOADS` per save, each within the store's byte and pixel
limits, its type sniffed from its bytes (JPEG, PNG or WebP only; a decompression bomb is refused before
it is decoded), then decoded, turned upright and re-encoded without any metadata. The stored copy is the
re-encoded one, referenced as ``images/<hash>.<ext>``: exactly the path that :func:`export_brand` writes
the file to, so a brand exported as YAML and imported back changes nothing.

Every save is audited (:class:`~storage.models.RegistryAudit`: who, when, the entry before and after).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, ImageOps, UnidentifiedImageError
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.errors import LookalikeError
from services.registry.changes import Change
from services.registry.load import Registry
from services.registry.specification import DigestPrefs, OwnerSpec, check_brand, field_path, schema_problems
from services.registry.sync import import_registry
from services.signatures import SigningConfig
from storage.imagestore import ImageRejected, ImageStore, StoredImage
from storage.models import Brand, Owner, Product, ReferenceImage, RegistryAudit, RematchJob, User, utcnow
from storage.models import Image as ImageRow

#: Photos one save may upload.
MAX_UPLOADS = 20
#: What an upload may be, by its first bytes (never by its name or declared type).
UPLOAD_TYPES = {"jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",), "webp": (b"RIFF",)}
#: Where uploaded and exported photos live, relative to the brand's YAML file.
IMAGE_FOLDER = "images"


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file: the form field it came in (``products[0].upload``) and its bytes."""

    field: str
    filename: str
    data: bytes


@dataclass
class SaveResult:
    """A save: the errors by field path (nothing stored when there is any), else the changes made."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    brand_id: int | None = None
    rematch_job_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


# ------------------------------------------------------------------------------------------ entry


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def brand_entry(brand: Brand) -> dict[str, Any]:
    """The brand as its registry YAML entry (keys in the file's order; empty optional keys left out)."""
    entry: dict[str, Any] = {"name": brand.name, "owner": brand.owner.name}
    if brand.category:
        entry["category"] = brand.category
    aliases = [m.text for m in brand.marks if m.kind != "name"]
    for key, value in (("keywords", list(brand.keywords or [])), ("aliases", aliases),
                       ("authorized_sellers", [s.name for s in brand.authorized_sellers]),
                       ("digest_to", list(brand.digest_to or [])), ("thresholds", dict(brand.thresholds or {})),
                       ("domains", list(brand.official_domains or []))):
        if value:
            entry[key] = value
    products = []
    for product in sorted(brand.products, key=lambda p: p.id or 0):
        item: dict[str, Any] = {"name": product.name, "sku": product.sku}
        if product.msrp is not None:
            item["msrp"] = _money(product.msrp)
        if product.currency:
            item["currency"] = product.currency
        images = [img.source for img in sorted(product.images, key=lambda i: i.position)]
        if images:
            item["images"] = images
        products.append(item)
    if products:
        entry["products"] = products
    if brand.trademarks:
        entry["trademarks"] = [dict(t) for t in brand.trademarks]
    if brand.rights_holder:
        entry["rights_holder"] = {k: v for k, v in dict(brand.rights_holder).items() if v is not None}
    return entry


def owner_prefs(owner: Owner) -> dict[str, Any]:
    return {"frequency": owner.digest_frequency or "daily", "min_score": owner.digest_min_score,
            "classes": list(owner.digest_classes or []), "enabled": owner.digest_enabled is not False}


def load_brand(session: Session, brand_id: int) -> Brand | None:
    return session.scalars(select(Brand).where(Brand.id == brand_id).options(
        selectinload(Brand.owner), selectinload(Brand.marks), selectinload(Brand.authorized_sellers),
        selectinload(Brand.products).selectinload(Product.images))).one_or_none()


# ------------------------------------------------------------------------------------------ uploads


def sniff(data: bytes) -> str | None:
    for kind, magics in UPLOAD_TYPES.items():
        if any(data.startswith(m) for m in magics) and (kind != "webp" or data[8:12] == b"WEBP"):
            return kind
    return None


def clean_upload(data: bytes, store: ImageStore) -> tuple[str, StoredImage, bytes]:
    """Check, decode and re-encode one uploaded photo; returns (its reference, the stored image, bytes).

    Raises :class:`LookalikeError` with a message for the form (too large, not a photo, a bomb)."""
    if len(data) > store.max_bytes:
        raise LookalikeError(f"is larger than the limit of {store.max_bytes // 1_000_000} MB")
    kind = sniff(data)
    if kind is None:
        raise LookalikeError("is not a JPEG, PNG or WebP photo")
    try:
        store.check(data)  # byte and pixel limits from the header, before anything is decoded
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind.upper()]) as img:
                if img.width * img.height > store.max_pixels:
                    raise ImageRejected("bomb", "too many pixels")
                img.load()
                upright = ImageOps.exif_transpose(img)
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
                pixels = upright.convert("RGBA" if has_alpha else "RGB")
                # A new image from the pixels alone: no EXIF, ICC, XMP or text chunks survive.
                clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    except ImageRejected as exc:
        if exc.reason == "bomb":
            raise LookalikeError(f"has too many pixels (at most {store.max_pixels:,})") from None
        if exc.reason == "too_large":
            raise LookalikeError(f"is larger than the limit of {store.max_bytes // 1_000_000} MB") from None
        raise LookalikeError("is damaged or not a photo") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LookalikeError(f"has too many pixels (at most {store.max_pixels:,})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise LookalikeError("is damaged or not a photo") from None
    out = io.BytesIO()
    if clean.mode == "RGBA":
        clean.save(out, "PNG", optimize=True)
        ext = "png"
    else:
        clean.save(out, "JPEG", quality=92)
        ext = "jpg"
    encoded = out.getvalue()
    try:
        stored = store.check(encoded)
    except ImageRejected as exc:
        raise LookalikeError(f"is not a usable photo ({exc})") from None
    return f"{IMAGE_FOLDER}/{stored.sha256[:32]}.{ext}", stored, encoded


# ------------------------------------------------------------------------------------------ saving


def _existing_images(session: Session, store: ImageStore, entry: Mapping[str, Any]) -> dict[str, tuple[StoredImage, bytes]]:
    """The stored bytes of every image reference the entry keeps from the brand's current photos."""
    refs = {ref for p in entry.get("products") or [] if isinstance(p, dict) for ref in p.get("images") or []}
    out: dict[str, tuple[StoredImage, bytes]] = {}
    if not refs:
        return out
    rows = session.execute(select(ReferenceImage.source, ImageRow).join(ImageRow, ImageRow.sha256 == ReferenceImage.sha256)
                           .where(ReferenceImage.source.in_(sorted(refs))))
    for source, row in rows:
        if source in out:
            continue
        stored = StoredImage(sha256=row.sha256, path=row.path, width=row.width, height=row.height,
                             content_type=row.content_type, size_bytes=row.size_bytes)
        out[source] = (stored, store.read(row.path))
    return out


def save_brand(  # noqa: PLR0913 - the entry, its photos, and who saves it
    session: Session, store: ImageStore, entry: dict[str, Any], *, uploads: Sequence[Upload] = (),
    digest: Mapping[str, Any] | None = None, actor: str, brand_id: int | None = None,
    user: User | None = None, signing: SigningConfig | None = None,
) -> SaveResult:
    """Check and store one brand entry as the YAML import would (``brand_id`` None: a new brand).

    ``uploads`` are added to the photos of the product their field names (``products[N].upload``); an
    owner ``user`` creating a brand is given it. Nothing is stored when anything is wrong."""
    result = SaveResult()
    before_brand = load_brand(session, brand_id) if brand_id is not None else None
    if brand_id is not None and before_brand is None:
        raise LookalikeError("no such brand")
    before = brand_entry(before_brand) if before_brand else None
    entry = dict(entry)
    images = _existing_images(session, store, entry)
    if len(uploads) > MAX_UPLOADS:
        result.errors.setdefault("", []).append(f"at most {MAX_UPLOADS} photos per save")
    else:
        for upload in uploads:
            index = _product_index(upload.field)
            products = entry.get("products") or []
            if index is None or index >= len(products):
                result.errors.setdefault(upload.field, []).append("belongs to no product: fill in its name and SKU")
                continue
            try:
                ref, stored, data = clean_upload(upload.data, store)
            except LookalikeError as exc:
                name = (upload.filename or "the file")[:80]
                result.errors.setdefault(upload.field, []).append(f"{name} {exc}")
                continue
            images[ref] = (stored, data)
            product = dict(products[index])
            product["images"] = [*(product.get("images") or []), ref]
            products = [*products[:index], product, *products[index + 1:]]
            entry["products"] = products
    kept = {ref for p in entry.get("products") or [] if isinstance(p, dict) for ref in p.get("images") or []}
    for ref in sorted(kept - set(images)):
        result.errors.setdefault("products", []).append(f"photo {ref[:100]!r} is not one of this brand's photos")
    check = check_brand(entry)
    for path, messages in check.errors.items():
        result.errors.setdefault(path, []).extend(messages)
    prefs = None
    if digest is not None:
        try:
            prefs = DigestPrefs.model_validate(dict(digest))
        except ValidationError as exc:
            for loc, message in schema_problems(exc):
                result.errors.setdefault(field_path(("digest", *loc)), []).append(message)
    if check.spec is not None:
        clash = session.scalar(select(Brand.id).where(Brand.name == check.spec.name))
        if clash is not None and clash != brand_id:
            result.errors.setdefault("name", []).append("another brand is registered under this name")
    if result.errors or check.spec is None:
        return result
    registry = Registry(path=Path("(review app)"), brands=[check.spec],
                        owners=[OwnerSpec(name=check.spec.owner, digest=prefs)] if prefs else [],
                        images={ref: images[ref] for ref in kept})
    report = import_registry(session, registry, store, signing=signing)
    brand = session.scalars(select(Brand).where(Brand.name == check.spec.name)).one()
    if user is not None and user.role == "owner" and brand not in user.brands:
        user.brands.append(brand)
    after_brand = load_brand(session, brand.id)
    session.add(RegistryAudit(brand_id=brand.id, brand=brand.name, actor=actor[:200], at=utcnow(),
                              before=before, after=brand_entry(after_brand) if after_brand else None))
    session.flush()
    result.changes, result.brand_id = report.changes, brand.id
    result.rematch_job_id = session.scalar(select(RematchJob.id).where(
        RematchJob.brand_id == brand.id, RematchJob.status.in_(("pending", "running"))).order_by(RematchJob.id.desc()))
    return result


def _product_index(name: str) -> int | None:
    if not name.startswith("products[") or "]" not in name:
        return None
    number = name[len("products["):name.index("]")]
    return int(number) if number.isdigit() and len(number) < 4 else None


# ------------------------------------------------------------------------------------------ export


def export_brand(session: Session, store: ImageStore, brand_id: int, folder: Path) -> Path:
    """Write the brand as a registry file ``<folder>/<brand>.yaml``, its owner's digest preferences and
    its photos beside it, so that ``lookalike brands import`` of that file changes nothing."""
    brand = load_brand(session, brand_id)
    if brand is None:
        raise LookalikeError("no such brand")
    entry = brand_entry(brand)
    folder.mkdir(parents=True, exist_ok=True)
    for product in brand.products:
        for image in product.images:
            ref = image.source
            if ref.lower().startswith(("http://", "https://")):
                continue  # fetched again on import, through the network policy
            target = (folder / ref).resolve()
            if Path(ref).is_absolute() or ".." in Path(ref).parts or not target.is_relative_to(folder.resolve()):
                raise LookalikeError(f"photo {ref[:100]!r} lies outside the registry folder; re-upload it")
            row = session.get(ImageRow, image.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(store.read(row.path))
    document = {"brands": [entry], "owners": [{"name": brand.owner.name, "digest": owner_prefs(brand.owner)}]}
    path = folder / f"{_slug(brand.name)}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def entry_yaml(entry: Mapping[str, Any]) -> str:
    return yaml.safe_dump({"brands": [dict(entry)]}, sort_keys=False, allow_unicode=True)


def _slug(name: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in name.casefold()).strip("-")
    return "-".join(filter(None, out.split("-")))[:60] or "brand"
