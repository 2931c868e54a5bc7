"""Content-addressed image storage with limits: bytes in, checked and stored; no pixel is decoded here.

An image is stored under ``<root>/<sha[:2]>/<sha>.<ext>`` where ``sha`` is the sha256 of its bytes, so
the same image downloaded from ten listings is stored once.  ``put`` refuses what could hurt the machine
or mislead matching, from the bytes and the file's header only: too many bytes, a file that is not an
image, more pixels than allowed (decompression bombs), a header without pixels.  Each refusal is an
``ImageRejected`` with a short ``reason`` code that callers record (``listing_images.status``) and go on.
A file whose pixels turn out to be corrupt is found later, by the signature stage, which records it as a
``failed`` signature.

Signature rows (``image_signatures``) are written and read here as plain data
(:func:`save_signature_row`, :func:`load_signatures`, :func:`pending_signature_images`); what the data
means is :mod:`matching.signature_codec`'s business (storage never imports matching).
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.files import write_atomic
from core.settings import Settings
from storage.db import insert_or_ignore
from storage.models import Image, utcnow
from storage.models import ImageSignatureRow as Row
from storage.vocabulary import SIGNATURE_STATUSES

#: Formats accepted, mapped to the file extension they are stored with.
FORMAT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}
REJECT_REASONS = ("too_large", "not_image", "corrupt", "bomb")
#: What ``images.path`` looks like: ``<sha[:2]>/<sha>.<ext>``.
STORED_PATH = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}\.(?:" + "|".join(sorted(set(FORMAT_EXTENSIONS.values()))) + ")")


class ImageRejected(ValueError):
    """The bytes cannot be stored as an image; ``reason`` is one of ``REJECT_REASONS``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StoredImage:
    sha256: str
    #: Path relative to the store's root.
    path: str
    width: int
    height: int
    #: MIME type of the format found in the header (``image/jpeg``), not what the server claimed.
    content_type: str
    size_bytes: int


def probe(data: bytes, *, max_pixels: int) -> tuple[str, int, int]:
    """Identify format and size from the header only, without decoding pixels.

    Raises ``ImageRejected`` for non-images, for images above ``max_pixels``, and (``corrupt``) for the
    common truncations a byte scan can see (:func:`looks_truncated`). Other damage inside the pixel data
    is found by the signature stage, which decodes.
    """
    from PIL import Image as PILImage  # deferred: start-up time (the CLI lists brands without Pillow)
    from PIL import UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns (DecompressionBombWarning) above its own global limit; we apply ours instead.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as img:
                fmt, (width, height) = img.format or "", img.size
    except PILImage.DecompressionBombError:
        raise ImageRejected("bomb", "image has more pixels than Pillow allows") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected("not_image", f"not a readable image ({type(exc).__name__})") from None
    if fmt not in FORMAT_EXTENSIONS:
        raise ImageRejected("not_image", f"unsupported image format {fmt or 'unknown'}")
    if width <= 0 or height <= 0:
        raise ImageRejected("corrupt", "image has no pixels")
    if width * height > max_pixels:
        raise ImageRejected("bomb", f"image of {width}x{height} pixels exceeds the limit of {max_pixels}")
    if looks_truncated(fmt, data):
        raise ImageRejected("corrupt", f"{fmt} file is truncated (no end marker)")
    return fmt, width, height


def looks_truncated(fmt: str, data: bytes) -> bool:
    """True when a JPEG has no end-of-image marker after its first start-of-scan, or a PNG has no IEND
    chunk: a download cut short. Bytes appended after the end (phone trailers) are no truncation."""
    if fmt == "JPEG":
        scan = data.find(b"\xff\xda")
        return scan < 0 or data.rfind(b"\xff\xd9") < scan
    if fmt == "PNG":
        return data.rfind(b"IEND") < 0
    return False


@dataclass(frozen=True)
class ImageStore:
    root: Path
    max_bytes: int
    max_pixels: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageStore:
        return cls(settings.images_dir, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)

    def put(self, data: bytes, *, content_type: str | None = None) -> StoredImage:
        """Check and store ``data``; returns where it is. See :meth:`check`."""
        stored = self.check(data, content_type=content_type)
        self.write(stored, data)
        return stored

    def check(self, data: bytes, *, content_type: str | None = None) -> StoredImage:
        """Everything ``put`` does but writing the file: byte limit, type, header probe, sha256.

        ``content_type`` is what the server claimed; it is not trusted (the bytes decide), only a
        claim that is not an image type at all is refused early.  Costs a sha256 of the bytes and a
        header parse (no decode), so it is cheap enough for the crawl's event loop thread pool.
        """
        if len(data) > self.max_bytes:
            raise ImageRejected("too_large", f"image of {len(data)} bytes exceeds the limit of {self.max_bytes}")
        if content_type and not content_type.lower().startswith(("image/", "application/octet-stream")):
            raise ImageRejected("not_image", f"content type {content_type[:80]!r} is not an image")
        fmt, width, height = probe(data, max_pixels=self.max_pixels)
        from PIL import Image as PILImage  # deferred: start-up time (already loaded by probe)

        sha = hashlib.sha256(data).hexdigest()
        return StoredImage(
            sha256=sha,
            path=f"{sha[:2]}/{sha}.{FORMAT_EXTENSIONS[fmt]}",
            width=width,
            height=height,
            content_type=PILImage.MIME.get(fmt, "application/octet-stream"),
            size_bytes=len(data),
        )

    def read(self, relative: str) -> bytes:
        """The bytes of a stored image, by its path relative to the root (as in ``images.path``).

        Raises ``FileNotFoundError`` when the file is gone and ``ValueError`` for a path that is not a
        content address (``ab/<64 hex>.<ext>``): a row never makes the store read elsewhere.
        """
        if not STORED_PATH.fullmatch(relative):
            raise ValueError(f"not a stored image path: {relative[:100]!r}")
        return (self.root / relative).read_bytes()

    def write(self, stored: StoredImage, data: bytes) -> Path:
        """Write the bytes of a checked image at its content address (once; atomic)."""
        target = self.root / stored.path
        return target if target.exists() else write_atomic(target, data)


def save_image_row(session: Session, stored: StoredImage) -> Any:
    """Get or create the ``images`` row of a stored image (keyed by sha256; race-safe)."""
    row = session.get(Image, stored.sha256)
    if row is None:
        values = {
            "sha256": stored.sha256,
            "path": stored.path,
            "content_type": stored.content_type,
            "size_bytes": stored.size_bytes,
            "width": stored.width,
            "height": stored.height,
            "created_at": utcnow(),
        }
        insert_or_ignore(session, Image, values, conflict=["sha256"])
        row = session.get(Image, stored.sha256)
    return row


# ------------------------------------------------------------------------------------------ signature rows


@dataclass(frozen=True, slots=True)
class StoredSignature:
    """An ``image_signatures`` row of status ``ok``, as ``matching.signature_codec.decode(fields, keypoints)``
    wants it: ``fields`` the JSON dict, ``keypoints`` the binary blob (None when absent or not loaded)."""

    sha256: str
    version: int
    fields: dict[str, Any]
    keypoints: bytes | None


@dataclass(frozen=True, slots=True)
class PendingImage:
    """An image the signature stage still has to sign: its address in the store and header facts."""

    sha256: str
    path: str
    content_type: str | None
    width: int
    height: int
    previous: dict[str, Any] | None = None
    """The ``fields`` of the image's older ``ok`` signature, if any (its OCR words may be reused)."""


def save_signature_row(session: Session, *, sha256: str, version: int, status: str, fields: dict[str, Any],
                       keypoints: bytes | None, ocr_text: str | None, error: str | None) -> None:
    """Write the signature of one image, replacing an older one (race-safe: two stages writing the same
    image at once leave one row). ``status`` is ``ok`` or ``failed``; ``error`` is cut to 500 characters."""
    if status not in SIGNATURE_STATUSES:
        raise ValueError(f"signature status {status!r} is not one of {SIGNATURE_STATUSES}")
    values = {"version": version, "status": status, "fields": fields if status == "ok" else {},
              "keypoints": keypoints if status == "ok" else None, "ocr_text": ocr_text,
              "error": error[:500] if error else None, "computed_at": utcnow()}
    if insert_or_ignore(session, Row, {"sha256": sha256, **values}, conflict=["sha256"]) is None:
        session.execute(update(Row).where(Row.sha256 == sha256).values(**values)
                        .execution_options(synchronize_session=False))


def load_signatures(session: Session, sha256s: Iterable[str], *, keypoints: bool = True
                    ) -> dict[str, StoredSignature]:
    """The ``ok`` signatures of ``sha256s`` (missing and failed ones are left out), by sha256.

    ``keypoints=False`` leaves the binary column unread (hash-only candidates: about 2.5 KB a row instead
    of about 20 KB).
    """
    wanted = list(dict.fromkeys(sha256s))
    columns = [Row.sha256, Row.version, Row.fields, *([Row.keypoints] if keypoints else [])]
    out: dict[str, StoredSignature] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start:start + 500]
        rows = session.execute(select(*columns).where(Row.sha256.in_(chunk), Row.status == "ok"))
        for row in rows:
            blob = row[3] if keypoints else None
            out[row[0]] = StoredSignature(row[0], row[1], dict(row[2] or {}),
                                          bytes(blob) if blob is not None else None)
    return out


def _pending_image(row: Any) -> PendingImage:
    sha256, path, content_type, width, height, status, fields = row
    previous = fields if status == "ok" and isinstance(fields, dict) else None
    return PendingImage(sha256, path, content_type, width, height, previous)


def pending_signature_images(session: Session, *, version: int, after: str = "", limit: int = 100,
                             only: Iterable[str] | None = None, shard: tuple[int, int] | None = None
                             ) -> list[PendingImage]:
    """Images without a signature of ``version`` (none yet, or an older one), by sha256 after ``after``.

    ``only`` restricts to those sha256s; ``shard=(i, n)`` keeps the images whose sha256's first 4 hex
    digits are ``i`` modulo ``n``, so ``n`` stages on several machines share the work without locks.
    Failed rows of ``version`` are not pending: their failure is in the file.
    """
    stmt = (
        select(Image.sha256, Image.path, Image.content_type, Image.width, Image.height, Row.status, Row.fields)
        .outerjoin(Row, Row.sha256 == Image.sha256)
        .where(Image.sha256 > after, or_(Row.sha256.is_(None), Row.version < version))
        .order_by(Image.sha256)
    )
    if only is not None:
        stmt = stmt.where(Image.sha256.in_(list(only)))
    if shard is None:
        return [_pending_image(row) for row in session.execute(stmt.limit(limit))]
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard {index} of {count} does not exist")
    found: list[PendingImage] = []
    # Filtered here rather than in SQL: the same on both backends; a shard reads n times fewer rows it keeps.
    for row in session.execute(stmt.limit(limit * count)):
        if int(row[0][:4], 16) % count == index:
            found.append(_pending_image(row))
            if len(found) >= limit:
                break
    return found
