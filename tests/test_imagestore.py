"""The image store keeps one copy per content, refuses what could hurt from the header alone (no decode), and
keeps signature rows apart from images; the migration converts version-1 signatures into rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, inspect, select, text

from core.netpolicy import UnsafeURL, check_url, is_internal_address
from storage.db import Database, make_engine, upgrade
from storage.imagestore import (
    ImageRejected,
    ImageStore,
    load_signatures,
    pending_signature_images,
    save_image_row,
    save_signature_row,
)
from storage.models import Image as ImageRow
from storage.models import ImageSignatureRow


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


def png_bytes(size=(400, 400)) -> bytes:
    rng = np.random.default_rng(3)
    buf = io.BytesIO()
    Image.fromarray((rng.random((size[1], size[0], 3)) * 255).astype("uint8")).save(buf, "PNG")
    return buf.getvalue()


def damaged_png() -> bytes:
    """A PNG whose pixel data is cut short, with a valid-looking IEND chunk appended."""
    return png_bytes()[:700] + b"\0\0\0\0IEND\xaeB`\x82"


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
    assert len(list(store.root.rglob("*.jpg"))) == 1
    assert store.read(first.path) == data


@pytest.mark.parametrize(
    ("data", "content_type", "reason"),
    [
        (b"x" * 300_000, "image/jpeg", "too_large"),
        (b"<html>not an image</html>", "image/jpeg", "not_image"),
        (jpeg_bytes(), "text/html", "not_image"),
        (png_header_only(50_000, 50_000), "image/png", "bomb"),
        (png_header_only(0, 10), "image/png", "not_image"),
        (jpeg_bytes((400, 400))[:900], "image/jpeg", "corrupt"),
        (png_bytes()[:700], "image/png", "corrupt"),
    ],
    ids=["too-large", "html", "wrong-type", "bomb", "no-pixels", "truncated-jpeg", "truncated-png"],
)
def test_refusals_have_a_reason(store: ImageStore, data: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        store.put(data, content_type=content_type)
    assert caught.value.reason == reason
    assert not list(store.root.rglob("*.*")) if store.root.exists() else True


def test_damage_inside_the_pixels_is_left_to_the_signature_stage(store: ImageStore) -> None:
    """The store decodes nothing: a PNG cut inside its pixel data but ending in IEND is stored (the
    signature stage records it as failed), and a JPEG with bytes after its end marker is no truncation."""
    stored = store.put(damaged_png(), content_type="image/png")
    assert (stored.width, stored.height) == (400, 400)
    assert store.put(jpeg_bytes() + b"TRAILER" * 50).width == 200



def test_a_row_path_never_reads_outside_the_store(store: ImageStore) -> None:
    for path in ("../../etc/passwd", "/etc/passwd", "ab/" + "0" * 64 + ".exe", "ab/../../x.jpg"):
        with pytest.raises(ValueError, match="not a stored image path"):
            store.read(path)


def _count(database, model) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_image_row_is_created_once(database, store: ImageStore) -> None:
    """Two transactions saving the same image (two crawls at once) leave one row, with the first values."""
    stored = store.put(jpeg_bytes())
    with database.session() as s:
        save_image_row(s, stored)
    other = dataclasses.replace(stored, path="ff/" + "f" * 64 + ".jpg", width=1)
    with database.session() as s:
        row = save_image_row(s, other)
        assert (row.path, row.width) == (stored.path, 200)
    assert _count(database, ImageRow) == 1
    with database.session() as s:
        fresh = s.get(ImageRow, stored.sha256)
        assert (fresh.path, fresh.width, fresh.height, fresh.size_bytes) == (stored.path, 200, 150, stored.size_bytes)


def test_signature_rows_round_trip_and_replace(database, store: ImageStore) -> None:
    stored = store.put(jpeg_bytes())
    with database.session() as s:
        save_image_row(s, stored)
        save_signature_row(s, sha256=stored.sha256, version=1, status="failed", fields={"x": 1},
                           keypoints=b"zz", ocr_text=None, error="e" * 900)
    with database.session() as s:
        row = s.get(ImageSignatureRow, stored.sha256)
        assert (row.status, row.fields, row.keypoints, len(row.error)) == ("failed", {}, None, 500)
        assert load_signatures(s, [stored.sha256]) == {}
        assert [p.sha256 for p in pending_signature_images(s, version=2)] == [stored.sha256]
    blob = bytes(range(256)) * 40
    with database.session() as s:
        save_signature_row(s, sha256=stored.sha256, version=2, status="ok", fields={"v": 2, "hashes": {}},
                           keypoints=blob, ocr_text="fullips", error=None)
    assert _count(database, ImageSignatureRow) == 1
    with database.session() as s:
        got = load_signatures(s, [stored.sha256, "0" * 64])
        assert list(got) == [stored.sha256]
        assert (got[stored.sha256].fields, got[stored.sha256].keypoints) == ({"v": 2, "hashes": {}}, blob)
        assert load_signatures(s, [stored.sha256], keypoints=False)[stored.sha256].keypoints is None
        assert pending_signature_images(s, version=2) == []
        assert [p.sha256 for p in pending_signature_images(s, version=3)] == [stored.sha256]
        with pytest.raises(ValueError, match="status"):
            save_signature_row(s, sha256=stored.sha256, version=2, status="maybe", fields={}, keypoints=None,
                               ocr_text=None, error=None)


def test_shards_split_pending_images_without_overlap(database, store: ImageStore) -> None:
    with database.session() as s:
        shas = [save_image_row(s, store.put(jpeg_bytes(colour=(c, 10, 10)))).sha256 for c in range(0, 250, 25)]
        parts = [{p.sha256 for p in pending_signature_images(s, version=2, shard=(i, 3))} for i in range(3)]
    assert sorted(set().union(*parts)) == sorted(shas)
    assert sum(len(p) for p in parts) == len(shas)


def version_1(sig) -> dict:  # noqa: ANN001 (an ImageSignature)
    """The version-1 dict the code before migration 0002 stored in ``images.hashes`` for ``sig``: the six
    hashes at the top level, ``trim``, ``box``, ``thumb`` {size, rgb} and base64 keypoints in 1/8 pixel."""
    import base64

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    def orb(kp) -> dict:  # noqa: ANN001
        xy = np.clip(np.round(kp.xy * 8.0), 0, 65535).astype("<u2").tobytes()
        return {"n": len(kp), "size": list(sig.analysed_size), "xy": b64(xy), "desc": b64(kp.descriptors.tobytes())}

    return {"v": 1, "width": sig.width, "height": sig.height, **sig.hashes.to_hex(),
            "trim": sig.trimmed.to_hex() if sig.trimmed else None,
            "box": list(sig.content_box) if sig.content_box else None,
            "thumb": {"size": list(sig.analysed_size), "rgb": b64(sig.thumb)},
            "orb": orb(sig.keypoints), "orb_m": orb(sig.keypoints_mirrored)}


def test_migration_converts_version_1_signatures(db_url: str, tmp_path: Path) -> None:
    """A database at 0001 holding version-1 JSON signatures: after the upgrade each is a typed row with
    binary keypoints equal to what it held, a malformed one is left for the stage, and images.hashes is gone."""
    import importlib

    from matching.images import compute_image_signature
    from matching.signature import SIGNATURE_VERSION
    from matching.signature_codec import decode

    migration = importlib.import_module("storage.migrations.versions.0002_signatures")
    sig = compute_image_signature(jpeg_photo(), max_pixels=4_000_000)
    legacy = version_1(sig)
    upgrade(db_url, "0001")
    engine = make_engine(db_url)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        for sha, hashes in (("a" * 64, legacy), ("b" * 64, {"v": 1, "phash": "zz"}), ("c" * 64, {})):
            conn.execute(text("INSERT INTO images (sha256, path, content_type, size_bytes, width, height, hashes, "
                              "created_at) VALUES (:s, :p, 'image/jpeg', 10, 320, 240, :h, :t)"),
                         {"s": sha, "p": f"{sha[:2]}/{sha}.jpg", "h": json.dumps(hashes), "t": now})
    engine.dispose()
    upgrade(db_url)
    with Database(db_url) as db:
        assert "hashes" not in {c["name"] for c in inspect(db.engine).get_columns("images")}
        with db.session() as s:
            rows = {r.sha256: r for r in s.scalars(select(ImageSignatureRow))}
            assert set(rows) == {"a" * 64}
            row = rows["a" * 64]
            assert row.status == "ok" and isinstance(row.keypoints, bytes)
            back = decode(row.fields, row.keypoints, oldest=migration.VERSION)
            assert back.version == migration.VERSION < SIGNATURE_VERSION  # the stage recomputes it
            assert back.hashes == sig.hashes and back.keypoints == sig.keypoints
            assert back.keypoints_mirrored == sig.keypoints_mirrored and back.thumb == sig.thumb
            assert (back.trimmed, back.content_box, back.analysed_size) == (sig.trimmed, sig.content_box,
                                                                            sig.analysed_size)
            assert len(row.keypoints) < len(json.dumps(legacy["orb"])) + len(json.dumps(legacy["orb_m"]))
            assert {p.sha256 for p in pending_signature_images(s, version=back.version)} == {"b" * 64, "c" * 64}


def test_migration_0002_converts_both_ways_with_its_own_frozen_code() -> None:
    """The migration's converters need nothing from ``matching`` (lint-imports holds it to that): a version-1
    dict becomes the stored form the codec reads, and a stored signature of any later version becomes that
    version-1 dict again (the downgrade)."""
    import importlib

    from matching.images import compute_image_signature
    from matching.signature_codec import decode, encode

    migration = importlib.import_module("storage.migrations.versions.0002_signatures")
    sig = compute_image_signature(jpeg_photo(), max_pixels=4_000_000)
    fields, keypoints = migration._fields_of_version_1(json.loads(json.dumps(version_1(sig))))
    assert decode(fields, keypoints, oldest=migration.VERSION) == replace_version(sig, migration.VERSION)
    orb_only = dataclasses.replace(sig, local=None, local_mirrored=None)  # a version-4 row: keypoint format 1
    stored = encode(orb_only)
    assert migration._version_1_of(json.loads(json.dumps(stored.fields)), stored.keypoints) == version_1(sig)
    with pytest.raises(ValueError):  # format 2 (SIFT features): the downgrade skips the row
        migration._version_1_of(json.loads(json.dumps(encode(sig).fields)), encode(sig).keypoints)
    for bad in ({"v": 2}, {"v": 1, "phash": "zz"}, {}, "x"):
        with pytest.raises(ValueError):
            migration._fields_of_version_1(bad)


def replace_version(sig, version: int):  # noqa: ANN001, ANN201
    """``sig`` as the migration keeps a version-1 signature: that version, no regions, no text, no SIFT."""
    return dataclasses.replace(sig, version=version, regions=(), text=None, text_boxes=None, local=None,
                               local_mirrored=None)


def jpeg_photo() -> bytes:
    """A textured photo (keypoints need corners), 320x240."""
    rng = np.random.default_rng(5)
    pixels = (rng.random((24, 32, 3)) * 255).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(pixels).resize((320, 240), Image.Resampling.NEAREST).save(buf, "JPEG", quality=92)
    return buf.getvalue()


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
