"""The signature stage: images stored by the crawl (bytes only) get their signatures later, in bounded memory,
resumably, in a process pool or on Dask; reference images are signed by the registry import itself."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from crawl_support import FAST_CRAWL, write_tiny_world
from PIL import Image
from sqlalchemy import func, select

from core.settings import load_settings
from crawlers.run import CrawlRequest, run_crawl
from data.demo.marketplace import DemoMarketplace
from matching.signature import SIGNATURE_VERSION
from matching.signature_codec import decode
from services.registry.load import load_registry
from services.registry.specification import RegistryInvalid
from services.registry.sync import import_registry
from services.signatures import (
    Backend,
    InlineBackend,
    Job,
    SignatureResult,
    SigningConfig,
    SigningStats,
    WorkerDied,
    decoded_pixels,
    run_bounded,
    sign_pending,
    sign_stored,
)
from storage.db import Database
from storage.imagestore import ImageStore, save_image_row
from storage.models import Image as ImageRow
from storage.models import ImageSignatureRow, ListingImage

REPO = Path(__file__).resolve().parent.parent


def photo(seed: int, size: tuple[int, int] = (320, 240), fmt: str = "JPEG") -> bytes:
    """A textured image (blocks of random colour), different for each seed."""
    rng = np.random.default_rng(seed)
    pixels = (rng.random((size[1] // 10, size[0] // 10, 3)) * 255).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(pixels).resize(size, Image.Resampling.NEAREST).save(buf, fmt)
    return buf.getvalue()


def damaged_png() -> bytes:
    """Damaged inside the pixel data, so that only decoding finds it (the store's byte checks pass)."""
    return photo(9, (400, 400), "PNG")[:700] + b"\0\0\0\0IEND\xaeB`\x82"


def config(**overrides) -> SigningConfig:
    values = {"max_pixels": 40_000_000, "max_bytes": 20_000_000, "ocr": False, "workers": 1}
    return SigningConfig(**{**values, **overrides})


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "images", max_bytes=20_000_000, max_pixels=40_000_000)


def store_images(database: Database, store: ImageStore, blobs: list[bytes]) -> list[str]:
    with database.session() as s:
        return [save_image_row(s, store.put(data)).sha256 for data in blobs]


def rows(database: Database) -> dict[str, ImageSignatureRow]:
    with database.session() as s:
        return {r.sha256: r for r in s.scalars(select(ImageSignatureRow))}


def test_stage_signs_pending_images_once_and_records_failures(database: Database, store: ImageStore) -> None:
    good = store_images(database, store, [photo(n) for n in range(3)])
    broken = store_images(database, store, [damaged_png()])[0]
    gone = store_images(database, store, [photo(10)])[0]
    with database.session() as s:
        (store.root / s.get(ImageRow, gone).path).unlink()

    stats = sign_pending(database, store=store, config=config())
    assert (stats.signed, stats.failed) == (3, 2)
    found = rows(database)
    assert set(found) == {*good, broken, gone}
    for sha in good:
        row = found[sha]
        assert (row.status, row.version, row.error) == ("ok", SIGNATURE_VERSION, None)
        sig = decode(row.fields, None)
        assert (sig.width, sig.height) == (320, 240)
        assert isinstance(row.keypoints, bytes) and len(row.keypoints) > 100
    assert found[broken].status == "failed" and "decode" in found[broken].error
    assert found[gone].status == "failed" and "unreadable" in found[gone].error
    assert len({found[s].fields["hashes"]["phash"] for s in good}) == 3

    again = sign_pending(database, store=store, config=config())
    assert (again.signed, again.failed) == (0, 0), "finished and failed images are not redone"


def test_a_signature_of_an_older_version_is_computed_again(database: Database, store: ImageStore) -> None:
    sha = store_images(database, store, [photo(1)])[0]
    with database.session() as s:
        s.add(ImageSignatureRow(sha256=sha, version=SIGNATURE_VERSION - 1, status="ok", fields={"v": 1}))
    assert sign_pending(database, store=store, config=config()).signed == 1
    assert rows(database)[sha].version == SIGNATURE_VERSION


@pytest.mark.parametrize(("engine", "previous", "read_again"), [
    ("tesseract", {"v": 3, "ocr_v": 3, "text": ["fullips", "50ml"],
                   "text_boxes": [[0.1, 0.2, 0.3, 0.25], [0.4, 0.2, 0.5, 0.25]]}, False),
    ("tesseract", {"v": 3, "ocr_v": 3, "text": [], "text_boxes": []}, False),   # read, nothing found: still nothing
    ("tesseract", {"v": 3, "text": None}, True),                                 # OCR timed out or did not run
    ("tesseract", {"v": 2, "text": ["fullips"]}, True),                          # before the OCR it has now
    ("tesseract", {"v": 3, "ocr_v": 999, "text": ["fullips"]}, True),            # another OCR
    ("tesseract", {"v": 3, "ocr_v": 1, "text": []}, True),                       # before it read mirrored print
    ("tesseract", {"v": 3, "text": []}, True),                                   # the same, unstamped
    ("rapidocr", {"v": 3, "ocr_v": 2, "text": ["fullips"], "text_boxes": [[0.1, 0.2, 0.3, 0.25]]}, False),
    ("rapidocr", {"v": 3, "ocr_v": 3, "text": ["fullips"]}, True),               # Tesseract read them
])
def test_a_new_signature_version_reuses_the_words_the_current_ocr_read(
        database: Database, store: ImageStore, monkeypatch: pytest.MonkeyPatch, engine, previous, read_again
) -> None:
    """OCR is most of a signature's cost: re-signing for a new version keeps the words (and their places) that
    the same OCR already read in the same bytes, and reads only where it did not."""
    import matching.ocr
    import services.signatures

    calls = []

    def fake_read_words(image, *, timeout_s, engine):  # noqa: ANN001, ANN202
        calls.append((image.size, engine))
        return (("novalux", (0.1, 0.1, 0.2, 0.2)),)

    monkeypatch.setattr(matching.ocr, "read_words", fake_read_words)
    monkeypatch.setattr(services.signatures, "_ocr_ready", lambda engine: True)
    sha = store_images(database, store, [photo(1)])[0]
    with database.session() as s:
        s.add(ImageSignatureRow(sha256=sha, version=SIGNATURE_VERSION - 1, status="ok", fields=previous))
    assert sign_pending(database, store=store, config=config(ocr=True, ocr_engine=engine)).signed == 1
    row = rows(database)[sha]
    sig = decode(row.fields, row.keypoints)
    assert row.version == SIGNATURE_VERSION and row.fields["ocr_v"] == matching.ocr.OCR_VERSIONS[engine]
    if read_again:
        assert len(calls) == 1 and calls[0][1] == engine and sig.text == ("novalux",)
    else:
        assert calls == [] and list(sig.text) == previous["text"]
        assert [list(b) for b in sig.text_boxes] == previous["text_boxes"]
        assert row.ocr_text == " ".join(previous["text"])


def test_process_pool_and_shards_sign_everything_once(database: Database, store: ImageStore) -> None:
    shas = store_images(database, store, [photo(n) for n in range(12)])
    first = sign_pending(database, store=store, config=config(workers=2), shard=(0, 2))
    second = sign_pending(database, store=store, config=config(workers=2), shard=(1, 2))
    assert first.signed > 0 and second.signed > 0
    assert first.signed + second.signed == 12
    assert set(rows(database)) == set(shas)
    assert all(r.status == "ok" for r in rows(database).values())


# --------------------------------------------------------------------------- bounded memory, the scheduler


def jobs(pixels: list[int]) -> list[Job]:
    data = photo(0, (64, 48))
    return [Job(f"{n:064x}", p, lambda: data) for n, p in enumerate(pixels)]


def test_pixel_budget_bounds_what_is_decoded_at_once() -> None:
    backend = InlineBackend()
    backend.slots = 4
    stats = SigningStats()
    results = list(run_bounded(jobs([4_000_000] * 6), backend, config(pixel_budget=9_000_000), stats))
    assert len(results) == 6 and all(r.status == "ok" for r in results)
    assert stats.peak_pixels == 8_000_000, "two images of 4 MP fit a 9 MP budget, a third does not"

    stats = SigningStats()
    list(run_bounded(jobs([4_000_000] * 6), backend, config(pixel_budget=100_000_000), stats))
    assert stats.peak_pixels == 16_000_000, "without a binding budget, the slots bound"

    stats = SigningStats()
    list(run_bounded(jobs([1_000_000, 30_000_000, 1_000_000]), backend, config(pixel_budget=9_000_000), stats))
    assert stats.peak_pixels == 30_000_000, "an image above the budget runs, alone"


@pytest.mark.parametrize(
    ("content_type", "size", "ocr", "expected"),
    [("image/png", (6300, 6300), False, 6300 * 6300),
     ("image/jpeg", (6400, 4800), False, 6400 * 4800 // 64),
     ("image/jpeg", (1200, 1200), True, 1200 * 1200),
     ("image/jpeg", (3000, 3000), True, 3000 * 3000 // 16),
     ("image/jpeg", (300, 300), False, 300 * 300)],
)
def test_decoded_pixels_estimate(content_type: str, size: tuple[int, int], ocr: bool, expected: int) -> None:
    assert decoded_pixels(content_type, *size, ocr=ocr) == expected


class DiesOn(Backend):
    """Runs inline, but the 'worker' dies on the images named (as an out-of-memory kill would)."""

    def __init__(self, deadly: set[str], times: int) -> None:
        self.inner, self.deadly, self.times, self.slots = InlineBackend(), deadly, {s: times for s in deadly}, 3

    def submit(self, job, data, config):
        return job.sha256, self.inner.submit(job, data, config)

    def wait_first(self, handles):
        return handles[:1]

    def result(self, handle):
        sha, result = handle
        if self.times.get(sha, 0) > 0:
            self.times[sha] -= 1
            raise WorkerDied("worker died")
        return result


def test_a_dead_worker_costs_a_retry_and_only_its_image() -> None:
    all_jobs = jobs([1000] * 4)
    once = DiesOn({all_jobs[1].sha256}, times=1)
    stats = SigningStats()
    results = {r.sha256: r for r in run_bounded(all_jobs, once, config(), stats)}
    assert stats.retried == 1 and all(r.status == "ok" for r in results.values())

    always = DiesOn({all_jobs[2].sha256}, times=5)
    results = {r.sha256: r for r in run_bounded(all_jobs, always, config(), SigningStats())}
    assert results[all_jobs[2].sha256].status == "failed" and "died" in results[all_jobs[2].sha256].error
    assert sum(r.status == "ok" for r in results.values()) == 3


# ------------------------------------------------------------------------------------------- resumable


CHILD = textwrap.dedent("""
    import sys
    from services.signatures import SigningConfig, sign_pending
    from storage.db import Database
    from storage.imagestore import ImageStore
    db = Database(sys.argv[1])
    store = ImageStore(__import__("pathlib").Path(sys.argv[2]), max_bytes=20_000_000, max_pixels=40_000_000)
    sign_pending(db, store=store, config=SigningConfig(max_pixels=40_000_000, max_bytes=20_000_000, ocr=False,
                                                       workers=1, batch_size=2))
""")


def test_stage_resumes_after_kill_without_redoing_finished_images(tmp_path: Path, store: ImageStore) -> None:
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    database = Database(url).ensure_schema()
    shas = store_images(database, store, [photo(n, (900, 900), "PNG") for n in range(40)])
    log = tmp_path / "child.log"
    with log.open("wb") as err:
        child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(store.root)], cwd=REPO,
                                 start_new_session=True, stderr=err)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(rows(database)) < 4:
            assert child.poll() is None, log.read_text()[-2000:]
            time.sleep(0.02)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    before = {sha: row.computed_at for sha, row in rows(database).items()}
    assert 4 <= len(before) < len(shas), "the kill must land mid-stage"

    stats = sign_pending(database, store=store, config=config())
    after = rows(database)
    assert stats.signed == len(shas) - len(before)
    assert set(after) == set(shas)
    assert all(after[sha].computed_at == at for sha, at in before.items()), "a finished image was redone"
    database.dispose()


# ------------------------------------------------------------------------------------------------- Dask


def test_signatures_on_a_dask_local_cluster(tmp_path: Path, store: ImageStore) -> None:
    """Two Dask worker processes sign the images (SQLite only: the backend plays no part here)."""
    pytest.importorskip("distributed")
    with Database.opened(f"sqlite:///{tmp_path / 'dask.db'}") as database:
        shas = store_images(database, store, [photo(n) for n in range(10)])
        stats = sign_pending(database, store=store, config=config(workers=2, dask_address="local"))
        assert (stats.signed, stats.failed) == (10, 0)
        assert set(rows(database)) == set(shas)
        assert all(r.status == "ok" for r in rows(database).values())


# ---------------------------------------------------------------------------- the crawl and the registry


def test_crawl_stores_bytes_only_and_the_stage_signs_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crawl.db'}"
    settings = load_settings(data_dir=tmp_path / "data", db_url=url, signature_ocr=False, signature_workers=1)
    world = tmp_path / "world"
    write_tiny_world(world, listings=12)
    with DemoMarketplace(world) as market:
        run_crawl(settings, CrawlRequest(start_urls=[market.url + "/"], scrapy_overrides=FAST_CRAWL))
    with Database.opened(url) as db:
        with db.session() as s:
            images = s.scalar(select(func.count()).select_from(ImageRow))
            assert images >= 12
            assert s.scalar(select(func.count()).select_from(ImageSignatureRow)) == 0, "the crawl decoded images"
        stats = sign_stored(db, settings)
        assert stats.signed == images and stats.failed == 0
        with db.session() as s:
            truncated = s.scalars(select(ListingImage).where(ListingImage.status == "corrupt")).all()
            assert len(truncated) == 1, "the demo's truncated image is refused by the crawl's byte check"


def test_registry_import_signs_reference_images(database: Database, store: ImageStore, tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(photo(1))
    (tmp_path / "cut.png").write_bytes(damaged_png())

    def registry(images: list[str]) -> Path:
        path = tmp_path / "registry.yaml"
        path.write_text(json.dumps({"brands": [{"name": "Fullips", "owner": "Et Al", "products": [
            {"name": "Plumper", "sku": "FLP-1", "images": images}]}]}), encoding="utf-8")
        return path

    with database.session() as s:
        import_registry(s, load_registry(registry(["a.jpg"]), store=store), store, signing=config())
    with database.session() as s:
        (row,) = s.scalars(select(ImageSignatureRow)).all()
        assert row.status == "ok" and row.fields["hashes"]["phash"]

    with pytest.raises(RegistryInvalid, match=r"'cut.png' is not a usable image"), database.session() as s:
        import_registry(s, load_registry(registry(["a.jpg", "cut.png"]), store=store), store, signing=config())
    with database.session() as s:
        assert len(s.scalars(select(ImageSignatureRow)).all()) == 1, "a failed import stores nothing"


class OversizeImages:
    """A shop page with two images above the byte limit: one announced (Content-Length), one chunked."""

    def __init__(self, size: int) -> None:
        body = b"\xff\xd8" + b"x" * size
        product = {"@context": "https://schema.org", "@type": "Product", "name": "Big", "image": ["/len.jpg", "/chunk.jpg"],
                   "offers": {"@type": "Offer", "price": "5.00", "priceCurrency": "USD"}}
        page = (f'<html><head><script type="application/ld+json">{json.dumps(product)}</script></head>'
                '<body><h1>Big</h1></body></html>').encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/chunk.jpg":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for i in range(0, len(body), 16384):
                            part = body[i:i + 16384]
                            self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:
                        pass
                    return
                data, kind = {"/len.jpg": (body, "image/jpeg"), "/p/big": (page, "text/html")}.get(
                    self.path, (b"User-agent: *\n", "text/plain"))
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_image_refused_for_size_is_recorded_as_too_large(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    shop = OversizeImages(300_000)
    try:
        run_crawl(load_settings(data_dir=tmp_path / "data", db_url=url, max_image_bytes=100_000),
                  CrawlRequest(start_urls=[shop.url + "/p/big"], scrapy_overrides=FAST_CRAWL))
    finally:
        shop.close()
    with Database.opened(url) as db, db.session() as s:
        statuses = {r.url.rsplit("/", 1)[1]: (r.status, r.error) for r in s.scalars(select(ListingImage))}
    assert statuses["len.jpg"][0] == "too_large"
    assert statuses["chunk.jpg"] == ("too_large", "download cut at the byte limit")


def test_signature_results_are_plain_data() -> None:
    """What a worker returns crosses process and machine boundaries: it pickles."""
    import pickle

    result = SignatureResult("a" * 64, "ok", SIGNATURE_VERSION, {"v": 2}, b"LKP", "word", None)
    assert pickle.loads(pickle.dumps(result)) == result
