"""The image store keeps one copy per content, hashes it once, and refuses what could hurt."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from lookalike.imagestore import ImageRejected, ImageStore, save_image_row
from lookalike.netguard import UnsafeURL, check_url, is_internal_address


def jpeg_bytes(size=(200, 150), colour=(200, 30, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels in a few bytes: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "images", max_bytes=200_000, max_pixels=4_000_000)


def test_same_bytes_are_stored_once(store: ImageStore) -> None:
    data = jpeg_bytes()
    first = store.put(data, content_type="image/jpeg")
    second = store.put(data, content_type="application/octet-stream")
    assert first == second
    assert first.path.endswith(".jpg") and (store.root / first.path).read_bytes() == data
    assert (first.width, first.height, first.content_type) == (200, 150, "image/jpeg")
    assert {"phash", "dhash", "whash"} <= set(first.hashes)
    assert len(list(store.root.rglob("*.jpg"))) == 1


@pytest.mark.parametrize(
    ("data", "content_type", "reason"),
    [
        (b"x" * 300_000, "image/jpeg", "too_large"),
        (b"<html>not an image</html>", "image/jpeg", "not_image"),
        (jpeg_bytes(), "text/html", "not_image"),
        (png_header_only(50_000, 50_000), "image/png", "bomb"),
        (jpeg_bytes((400, 400))[:900], "image/jpeg", "corrupt"),
    ],
    ids=["too-large", "html", "wrong-type", "bomb", "truncated"],
)
def test_refusals_have_a_reason(store: ImageStore, data: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        store.put(data, content_type=content_type)
    assert caught.value.reason == reason
    assert not list(store.root.rglob("*.*")) if store.root.exists() else True


def test_image_row_is_created_once(database, store: ImageStore) -> None:
    stored = store.put(jpeg_bytes())
    with database.session() as s:
        row = save_image_row(s, stored)
        again = save_image_row(s, stored)
        assert row is again and row.hashes == stored.hashes


@pytest.mark.parametrize(
    ("address", "internal"),
    [("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.10", True), ("169.254.169.254", True),
     ("::1", True), ("::ffff:127.0.0.1", True), ("fe80::1", True), ("0.0.0.0", True),
     ("93.184.216.34", False), ("2606:4700::6810:84e5", False)],
)
def test_internal_addresses(address: str, internal: bool) -> None:
    assert is_internal_address(address) is internal


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x", "http://127.0.0.1:8080/admin",
            "http://[::1]/", "http://169.254.169.254/latest/meta-data", "http://localhost/"],
)
def test_unsafe_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_url(url)


def test_private_hosts_allowed_when_configured() -> None:
    check_url("http://127.0.0.1:8080/p/1", allow_private=True)
    with pytest.raises(UnsafeURL):
        check_url("file:///etc/passwd", allow_private=True)
