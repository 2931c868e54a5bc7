"""Content-addressed image storage with limits; perceptual hashes are computed once, here.

An image is stored under ``<root>/<sha[:2]>/<sha>.<ext>`` where ``sha`` is the sha256 of its bytes, so
the same image downloaded from ten listings is stored and hashed once.  ``put`` refuses what could hurt
the machine or mislead matching: too many bytes, a file that is not an image, more pixels than allowed
(decompression bombs), and a corrupt or truncated file.  Each refusal is an ``ImageRejected`` with a
short ``reason`` code that callers record (``listing_images.status``) and go on.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from PIL import UnidentifiedImageError
from sqlalchemy.orm import Session

from lookalike.settings import Settings

#: Formats accepted, mapped to the file extension they are stored with.
FORMAT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}
REJECT_REASONS = ("too_large", "not_image", "corrupt", "bomb")


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
    #: MIME type of the decoded format (``image/jpeg``), not what the server claimed.
    content_type: str
    size_bytes: int
    #: Perceptual hashes and features, as ``matching.images.compute_image_signature`` returns them.
    hashes: dict[str, Any] = field(default_factory=dict)


def probe(data: bytes, *, max_pixels: int) -> tuple[str, int, int]:
    """Identify format and size from the header only, without decoding pixels.

    Raises ``ImageRejected`` for non-images and for images above ``max_pixels``.
    """
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
    return fmt, width, height


@dataclass(frozen=True)
class ImageStore:
    root: Path
    max_bytes: int
    max_pixels: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageStore:
        return cls(settings.images_dir, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)

    def path_of(self, relative: str) -> Path:
        return self.root / relative

    def put(self, data: bytes, *, content_type: str | None = None) -> StoredImage:
        """Check, hash and store ``data``; returns where it is and its hashes.

        ``content_type`` is what the server claimed; it is not trusted (the bytes decide), only a
        claim that is not an image type at all is refused early.
        """
        stored = self.hash_only(data, content_type=content_type)
        self.write(stored, data)
        return stored

    def hash_only(self, data: bytes, *, content_type: str | None = None) -> StoredImage:
        """Everything ``put`` does but writing the file: check limits, decode once, hash."""
        from matching.images import ImageDecodeError, compute_image_signature

        if len(data) > self.max_bytes:
            raise ImageRejected("too_large", f"image of {len(data)} bytes exceeds the limit of {self.max_bytes}")
        if content_type and not content_type.lower().startswith(("image/", "application/octet-stream")):
            raise ImageRejected("not_image", f"content type {content_type[:80]!r} is not an image")
        fmt, width, height = probe(data, max_pixels=self.max_pixels)
        try:
            hashes = compute_image_signature(data, max_pixels=self.max_pixels)
        except ImageDecodeError as exc:
            raise ImageRejected("corrupt", f"image cannot be decoded: {exc}") from None
        sha = hashlib.sha256(data).hexdigest()
        return StoredImage(
            sha256=sha,
            path=f"{sha[:2]}/{sha}.{FORMAT_EXTENSIONS[fmt]}",
            width=width,
            height=height,
            content_type=PILImage.MIME.get(fmt, "application/octet-stream"),
            size_bytes=len(data),
            hashes=hashes,
        )

    def write(self, stored: StoredImage, data: bytes) -> Path:
        """Write the bytes of a checked image at its content address (once; atomic)."""
        target = self.root / stored.path
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        # Atomic: write beside the target, then rename, so a killed process never leaves half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

def save_image_row(session: Session, stored: StoredImage):
    """Get or create the ``images`` row of a stored image (keyed by sha256)."""
    from storage.db import insert_or_ignore
    from storage.models import Image, utcnow

    row = session.get(Image, stored.sha256)
    if row is None:
        values = {
            "sha256": stored.sha256,
            "path": stored.path,
            "content_type": stored.content_type,
            "size_bytes": stored.size_bytes,
            "width": stored.width,
            "height": stored.height,
            "hashes": stored.hashes,
            "created_at": utcnow(),
        }
        insert_or_ignore(session, Image, values, conflict=["sha256"])
        row = session.get(Image, stored.sha256)
    return row
