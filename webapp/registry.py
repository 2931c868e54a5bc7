"""The brand registry in the browser: owners (their brands) and admins create and edit brands.

The form is turned into the brand's registry entry (the mapping one brand has in a YAML file) and saved
by :func:`services.registry.edit.save_brand`, so the form and ``lookalike brands import`` apply the same
rules and give the same messages; each message is shown beside its field. A saved change queues the
brand's re-match of the stored listings; the page shows its progress (it refreshes itself until the
results are in) and then how many suspects it found. ``/registry/ID/export.zip`` gives the brand as a
registry file with its photos, which ``lookalike brands import`` takes back unchanged.

An owner can never open or post another owner's brand: 404, as for reading. Analysts look but do not
edit the registry (403).
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.errors import LookalikeError
from services.registry.edit import (
    MAX_UPLOADS,
    Upload,
    brand_entry,
    export_brand,
    load_brand,
    owner_prefs,
    save_brand,
)
from services.registry.specification import DIGEST_CLASSES
from storage.imagestore import ImageStore
from storage.models import Brand, Match, Owner, RegistryAudit, RematchJob
from webapp.http import Ctx, Forbidden, NotFound, page

#: Empty product and trademark rows offered below the filled ones.
SPARE_PRODUCTS = 2
SPARE_TRADEMARKS = 1
#: Rows a form may post (more are ignored).
MAX_ROWS = 200
LIST_FIELDS = ("aliases", "keywords", "authorized_sellers", "domains", "digest_to")
_INDEX = re.compile(r"\[(\d+)\]")


def _may_edit(ctx: Ctx, brand_id: int | None) -> None:
    if ctx.principal.role not in ("admin", "owner"):
        raise Forbidden("Analysts do not edit the registry; an owner or an admin does.")
    if brand_id is not None and ctx.principal.brand_ids is not None and brand_id not in ctx.principal.brand_ids:
        raise NotFound


def _company(ctx: Ctx) -> str | None:
    """The company an owner account registers brands for (None: an admin names it in the form)."""
    if ctx.principal.role != "owner":
        return None
    if ctx.user.owner_id is not None:
        owner = ctx.db.get(Owner, ctx.user.owner_id)
        if owner is not None:
            return owner.name
    if ctx.user.brands:
        return ctx.user.brands[0].owner.name
    raise LookalikeError("This account is not tied to a company yet; ask an administrator to invite it again.")


# ------------------------------------------------------------------------------------------ form -> entry


def _text(ctx: Ctx, name: str) -> str:
    value = ctx.form.get(name) if ctx.form is not None else None
    return value.strip()[:5000] if isinstance(value, str) else ""


def _lines(ctx: Ctx, name: str) -> list[str]:
    return [line.strip() for line in re.split(r"[\n,]", _text(ctx, name)) if line.strip()][:500]


def _rows(ctx: Ctx, name: str) -> int:
    value = _text(ctx, name)
    return min(int(value), MAX_ROWS) if value.isdigit() else 0


def entry_from_form(ctx: Ctx, *, company: str | None, before: dict[str, Any] | None
                    ) -> tuple[dict[str, Any], dict[int, int], list[Upload]]:
    """The registry entry a posted form describes, the product row of each entry product (to put errors
    back beside the right row), and the uploaded photos (named after their entry product)."""
    entry: dict[str, Any] = {"name": _text(ctx, "name"), "owner": company or _text(ctx, "owner")}
    if _text(ctx, "category"):
        entry["category"] = _text(ctx, "category")
    for key in LIST_FIELDS:
        if values := _lines(ctx, key):
            entry[key] = values
    if before and before.get("thresholds"):
        entry["thresholds"] = before["thresholds"]  # set in the YAML file only; the form keeps them
    products, rows, uploads = [], {}, []
    for row in range(_rows(ctx, "product_rows")):
        prefix = f"products[{row}]"
        item = {key: _text(ctx, f"{prefix}.{key}") for key in ("name", "sku", "msrp", "currency")}
        kept = [v for v in ctx.form.getlist(f"{prefix}.images") if isinstance(v, str)][:50]
        files = [f for f in ctx.form.getlist(f"{prefix}.upload") if isinstance(f, UploadFile) and f.filename]
        if not any(item.values()) and not kept and not files:
            continue
        product: dict[str, Any] = {k: v for k, v in item.items() if v or k in ("name", "sku")}
        if "currency" in product:
            product["currency"] = product["currency"].upper()
        if kept:
            product["images"] = kept
        rows[len(products)] = row
        for upload in files:
            uploads.append(Upload(f"products[{len(products)}].upload", upload.filename or "",
                                  upload.file.read(ctx.app.settings.max_image_bytes + 1)))
        products.append(product)
    if products:
        entry["products"] = products
    trademarks = []
    for row in range(_rows(ctx, "trademark_rows")):
        prefix = f"trademarks[{row}]"
        item = {key: _text(ctx, f"{prefix}.{key}") for key in ("office", "number", "jurisdiction", "owner_of_record")}
        classes = _lines(ctx, f"{prefix}.classes")
        if not any(item.values()) and not classes:
            continue
        trademark: dict[str, Any] = {k: v for k, v in item.items() if v or k != "owner_of_record"}
        trademark["classes"] = [int(c) if c.isdigit() and len(c) < 4 else c for c in classes]
        trademarks.append(trademark)
    if trademarks:
        entry["trademarks"] = trademarks
    holder = {key: _text(ctx, f"rights_holder.{key}") for key in ("name", "email", "address", "phone")}
    if any(holder.values()):
        entry["rights_holder"] = {k: v for k, v in holder.items() if v or k in ("name", "email")}
    return entry, rows, uploads


def _digest_from_form(ctx: Ctx) -> dict[str, Any]:
    score = _text(ctx, "digest.min_score")
    return {"frequency": _text(ctx, "digest.frequency") or "daily", "min_score": score or None,
            "classes": [c for c in ctx.form.getlist("digest.classes") if isinstance(c, str)][:20],
            "enabled": _text(ctx, "digest.enabled") == "on"}


def field_errors(errors: dict[str, list[str]], rows: dict[int, int]) -> dict[str, list[str]]:
    """Errors keyed by the form's field names: entry product N back to its form row, and an item of a
    list (``digest_to[1]``, ``trademarks[0].classes[2]``) to the list's field."""
    out: dict[str, list[str]] = {}
    for path, messages in errors.items():
        name = path
        if path.startswith("products["):
            index = int(_INDEX.match(path[len("products"):]).group(1))
            name = f"products[{rows.get(index, index)}]" + path[len(f"products[{index}]"):]
        name = re.sub(r"\[\d+\]$", "", name)
        out.setdefault(name, []).extend(m for m in messages if m not in out.get(name, []))
    return out


# ------------------------------------------------------------------------------------------ pages


def _form_values(entry: dict[str, Any]) -> dict[str, Any]:
    products = [dict(p) for p in entry.get("products") or []]
    trademarks = [dict(t) for t in entry.get("trademarks") or []]
    return {**entry, "products": products + [{} for _ in range(SPARE_PRODUCTS)],
            "trademarks": trademarks + [{} for _ in range(SPARE_TRADEMARKS)]}


def _image_links(ctx: Ctx, brand_id: int | None) -> dict[str, str]:
    """Reference image source -> its sha256 (the form shows each kept photo as a thumbnail)."""
    if brand_id is None:
        return {}
    brand = load_brand(ctx.db, brand_id)
    return {img.source: img.sha256 for p in brand.products for img in p.images} if brand else {}


def _render(ctx: Ctx, *, brand_id: int | None, values: dict[str, Any], digest: dict[str, Any],  # noqa: PLR0913
            errors: dict[str, list[str]] | None = None, status: int = 200, saved: bool = False) -> Response:
    job = audit = None
    suspects = 0
    if brand_id is not None:
        job = ctx.db.scalars(select(RematchJob).where(RematchJob.brand_id == brand_id)
                             .order_by(RematchJob.id.desc())).first()
        audit = list(ctx.db.scalars(select(RegistryAudit).where(RegistryAudit.brand_id == brand_id)
                                    .order_by(RegistryAudit.id.desc()).limit(10)))
        suspects = ctx.db.scalar(select(func.count(Match.id)).where(Match.brand_id == brand_id)) or 0
    known = {"name", "owner", "category", *LIST_FIELDS, "rights_holder.name", "rights_holder.email",
             "rights_holder.address", "rights_holder.phone", "digest.frequency", "digest.min_score",
             "digest.classes", "digest.enabled"}
    errors = errors or {}
    general = [f"{path}: {m}" if path else m for path, ms in errors.items() for m in ms
               if path not in known and not path.startswith(("products[", "trademarks["))]
    return ctx.render("registry_form.html", status=status, brand_id=brand_id, v=values, digest=digest,
                      errors=errors, general=general, company=_company(ctx), saved=saved, job=job, audit=audit,
                      suspects=suspects, images=_image_links(ctx, brand_id), digest_classes=DIGEST_CLASSES,
                      max_uploads=MAX_UPLOADS, max_mb=ctx.app.settings.max_image_bytes // 1_000_000)


@page()
def new_form(ctx: Ctx) -> Response:
    _may_edit(ctx, None)
    company = _company(ctx)
    owner = ctx.db.scalars(select(Owner).where(Owner.name == company)).one_or_none() if company else None
    digest = owner_prefs(owner) if owner else {"frequency": "daily", "min_score": None, "classes": [], "enabled": True}
    return _render(ctx, brand_id=None, values=_form_values({"owner": company or ""}), digest=digest)


@page()
def edit_form(ctx: Ctx) -> Response:
    brand_id = ctx.request.path_params["brand_id"]
    _may_edit(ctx, brand_id)
    brand = load_brand(ctx.db, brand_id)
    if brand is None:
        raise NotFound
    return _render(ctx, brand_id=brand_id, values=_form_values(brand_entry(brand)), digest=owner_prefs(brand.owner),
                   saved=ctx.param("saved") == "1")


def _save(ctx: Ctx, brand_id: int | None) -> Response:
    _may_edit(ctx, brand_id)
    before = None
    if brand_id is not None:
        brand = load_brand(ctx.db, brand_id)
        if brand is None:
            raise NotFound
        before = brand_entry(brand)
    company = _company(ctx) if ctx.principal.role == "owner" else None
    if company is None and before is not None and ctx.principal.role == "owner":
        company = before["owner"]
    entry, rows, uploads = entry_from_form(ctx, company=company, before=before)
    digest = _digest_from_form(ctx)
    result = save_brand(ctx.db, ImageStore.from_settings(ctx.app.settings), entry, uploads=uploads, digest=digest,
                        actor=ctx.user.username, brand_id=brand_id, user=ctx.user)
    if not result.ok:  # nothing was written
        values = _form_values({**entry, "products": [
            {**p, "images": p.get("images", [])} for p in entry.get("products") or []]})
        values["products"] = _rows_back(values["products"], rows)
        return _render(ctx, brand_id=brand_id, values=values, digest=digest, status=400,
                       errors=field_errors(result.errors, rows))
    return RedirectResponse(f"/registry/{result.brand_id}?saved=1", status_code=303)


def _rows_back(products: list[dict[str, Any]], rows: dict[int, int]) -> list[dict[str, Any]]:
    """Entry products back at their form rows (empty rows where the form had empty ones)."""
    if not rows:
        return products
    size = max(max(rows.values()) + 1, len(rows)) + SPARE_PRODUCTS
    out: list[dict[str, Any]] = [{} for _ in range(size)]
    for index, row in rows.items():
        out[row] = products[index]
    return out


@page(uploads=MAX_UPLOADS)
def create(ctx: Ctx) -> Response:
    return _save(ctx, None)


@page(uploads=MAX_UPLOADS)
def update(ctx: Ctx) -> Response:
    return _save(ctx, ctx.request.path_params["brand_id"])


@page()
def export(ctx: Ctx) -> Response:
    brand_id = ctx.request.path_params["brand_id"]
    _may_edit(ctx, brand_id)
    if ctx.db.get(Brand, brand_id) is None:
        raise NotFound
    store = ImageStore.from_settings(ctx.app.settings)
    with tempfile.TemporaryDirectory() as folder:
        path = export_brand(ctx.db, store, brand_id, Path(folder))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(folder).rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(folder).as_posix())
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{path.stem}.zip"',
                             "cache-control": "private, no-store"})


def routes() -> list[Route]:
    return [
        Route("/registry/new", new_form, methods=["GET"]),
        Route("/registry/new", create, methods=["POST"]),
        Route("/registry/{brand_id:int}", edit_form, methods=["GET"]),
        Route("/registry/{brand_id:int}", update, methods=["POST"]),
        Route("/registry/{brand_id:int}/export.zip", export, methods=["GET"]),
    ]
