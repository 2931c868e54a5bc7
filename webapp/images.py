"""Photos for the review app, only ever from Lookalike's own image store.

The app never links to a marketplace's image URL. It serves resized copies of stored images
(``thumb``: at most 240 px, ``large``: at most 900 px on the longer side), each made once, written
atomically under ``<data_dir>/thumbnails/<sha[:2]>/<sha>-<size>.<jpg|png>``, and reused afterwards.
The content type sent is sniffed from the bytes that go out (JPEG or PNG), never taken from the
database or a file name; the response carries ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageOps

from core.files import write_atomic

#: Size name -> longest side in pixels.
SIZES = {"thumb": 240, "large": 900}

_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff(head: bytes) -> str | None:
    """The image type the first bytes show (JPEG, PNG, GIF, WebP), or None for anything else."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _render(source: Path, longest: int, max_pixels: int) -> tuple[bytes, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        with PILImage.open(source) as img:
            if img.width * img.height > max_pixels:
                raise ValueError("image above the pixel limit")
            img = ImageOps.exif_transpose(img)
            img.thumbnail((longest, longest))
            has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
            out = io.BytesIO()
            if has_alpha:
                img.convert("RGBA").save(out, "PNG", optimize=True)
                return out.getvalue(), "png"
            img.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            return out.getvalue(), "jpg"


def derivative(cache_dir: Path, store_root: Path, sha256: str, relative: str, size: str, *,
               max_pixels: int) -> Path | None:
    """The cached resized copy of a stored image, made on first use; None when the stored file is
    missing, outside the store, or cannot be decoded."""
    longest = SIZES[size]
    folder = cache_dir / sha256[:2]
    for ext in ("jpg", "png"):
        cached = folder / f"{sha256}-{size}.{ext}"
        if cached.is_file():
            return cached
    root = store_root.resolve()
    source = (root / relative).resolve()
    if not source.is_relative_to(root) or not source.is_file():
        return None
    try:
        data, ext = _render(source, longest, max_pixels)
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return None
    return write_atomic(folder / f"{sha256}-{size}.{ext}", data)
