"""The signature stage: stored images -> ``image_signatures`` rows, off the crawl's path, in bounded memory.

The crawl and the registry only store image bytes (:mod:`storage.imagestore`, header probe, no decode).
This stage, run between the crawl and matching (the ``sign-images`` task of the nightly flow, and first
thing in :func:`services.scan.match_pending`), computes each image's
:class:`matching.signature.ImageSignature` once and stores it through :mod:`matching.signature_codec` (the one
writer and reader of the stored form):

- **What**: every ``images`` row without a signature of the current ``SIGNATURE_VERSION`` (none yet, or an
  older version). A failure (truncated file, not decodable, file gone) is stored as a ``failed`` row with a
  one-line ``error`` and is not retried for this version: it is in the file.
- **Where**: a pool of ``signature_workers`` processes (spawned), or a Dask cluster when ``dask_address`` is
  set (``local``: a ``LocalCluster`` started here). Workers get the bytes, not a path, so Dask workers on
  other machines need no shared folder.
- **Bounded memory**: at most ``2 x workers`` images in flight, and at most ``signature_pixel_budget``
  pixels decoded at once (estimated from the header: JPEG decodes at a reduced scale, other formats at full
  size; see :func:`decoded_pixels`). An image above the budget alone runs alone.
- **Resumable**: results are committed every ``batch_size`` images, so a killed stage loses at most one
  batch and a rerun signs only what is left. Two stages may run at once (results are written race-safe);
  ``shard=(i, n)`` splits the images between ``n`` stages without overlap.
- **A worker that dies** (killed, out of memory) fails only its images in flight; they are tried once more,
  one at a time, and recorded as failed when that dies too.

OCR (``signature_ocr``) reads the words in each image, bounded to ``signature_ocr_timeout`` seconds each. A
new signature version reuses the words the current OCR already read in an older row of the same bytes
(:func:`matching.signature_codec.reusable_text`) instead of reading them again.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from core.settings import Settings
from storage.db import Database
from storage.imagestore import ImageStore, PendingImage, pending_signature_images, save_signature_row

#: Images whose results are committed together (what a kill can lose).
DEFAULT_BATCH_SIZE = 32
#: Pending images read per query.
PAGE_SIZE = 256
#: A stage with fewer images than this signs them in its own process (a pool costs a second to start).
INLINE_BELOW = 8
#: The error of an image whose worker process died twice.
WORKER_DIED = "the signature worker died on this image (killed or out of memory)"


@dataclass(frozen=True)
class SigningConfig:
    """How the stage computes signatures. Sizes are pixels and bytes, times seconds."""

    max_pixels: int
    max_bytes: int
    ocr: bool = True
    ocr_timeout_s: float = 2.0
    #: The engine of :data:`matching.ocr.ENGINES` that reads photo text.
    ocr_engine: str = "rapidocr"
    #: Worker processes (0: one per CPU core, at most 4). 1: in this process, no pool.
    workers: int = 0
    pixel_budget: int = 60_000_000
    #: Dask scheduler address, ``local`` for a LocalCluster, None for the process pool.
    dask_address: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SigningConfig:
        values = {
            "max_pixels": settings.max_image_pixels, "max_bytes": settings.max_image_bytes,
            "ocr": settings.signature_ocr, "ocr_timeout_s": settings.signature_ocr_timeout,
            "ocr_engine": settings.ocr_engine,
            "workers": settings.signature_workers, "pixel_budget": settings.signature_pixel_budget,
            "dask_address": settings.dask_address,
        }
        values.update(overrides)
        return cls(**values)

    @property
    def processes(self) -> int:
        return self.workers or min(4, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """What a worker returns for one image (plain data: it travels between processes and machines)."""

    sha256: str
    status: str
    version: int
    fields: dict[str, Any] = field(default_factory=dict)
    keypoints: bytes | None = None
    ocr_text: str | None = None
    error: str | None = None


@dataclass
class SigningStats:
    """What one run of the stage did. ``peak_pixels`` is the most pixels (estimated) decoded at once."""

    signed: int = 0
    failed: int = 0
    retried: int = 0
    batches: int = 0
    seconds: float = 0.0
    peak_pixels: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return (self.signed + self.failed) / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "per_second": round(self.per_second, 2)}


# ----------------------------------------------------------------------------------------- one image


def sign_bytes(sha256: str, data: bytes, *, max_pixels: int, ocr: bool, ocr_timeout_s: float,
               known_text: tuple[tuple[str, ...], Any] | None = None, ocr_engine: str = "rapidocr"
               ) -> SignatureResult:
    """The signature of one image's bytes (runs in a worker). Never raises for a bad file: the result
    is ``failed`` with a one-line error. ``known_text`` (words, places or None), when given with ``ocr``,
    is used instead of reading the image again (see :func:`matching.signature_codec.reusable_text`), and must
    have been read by ``ocr_engine`` (the engine the words are stamped with)."""
    # deferred: start-up time (numpy, OpenCV); workers import it once
    from matching.images import ImageDecodeError, compute_image_signature
    from matching.ocr import ocr_version
    from matching.signature import SIGNATURE_VERSION
    from matching.signature_codec import encode

    reuse = ocr and known_text is not None
    try:
        sig = compute_image_signature(data, max_pixels=max_pixels,
                                      ocr=ocr and not reuse and _ocr_ready(ocr_engine),
                                      ocr_timeout_s=ocr_timeout_s, ocr_engine=ocr_engine)
        if reuse:
            sig = sig.with_text(*known_text)  # type: ignore[misc]
    except ImageDecodeError as exc:
        return SignatureResult(sha256, "failed", SIGNATURE_VERSION, error=_one_line(exc))
    except Exception as exc:  # noqa: BLE001 - a hostile file may trip any decoder; recorded, the stage goes on
        return SignatureResult(sha256, "failed", SIGNATURE_VERSION,
                               error=f"cannot compute signature: {type(exc).__name__}: {_one_line(exc)}")
    text = " ".join(sig.text) if sig.text is not None else None
    stored = encode(sig, ocr_version=ocr_version(ocr_engine))  # type: ignore[arg-type]
    return SignatureResult(sha256, "ok", sig.version, stored.fields, stored.keypoints, text)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def _ocr_ready(engine: str) -> bool:
    try:
        from matching.ocr import ENGINES, ocr_available  # deferred: start-up time
    except ImportError:  # OCR is optional: without it, signatures carry no text
        return False
    return engine in ENGINES and ocr_available(engine)  # type: ignore[arg-type]


def decoded_pixels(content_type: str | None, width: int, height: int, *, ocr: bool) -> int:
    """The pixels decoding this image costs (the pixel budget counts these): a JPEG decodes in draft mode at
    the scale :func:`matching.images.jpeg_draft_scale` gives (the rule the decoder itself applies), other
    formats whole. ``width`` and ``height`` are the header's."""
    from matching.images import jpeg_draft_scale  # deferred: start-up time

    width, height = max(1, width), max(1, height)
    if content_type != "image/jpeg":
        return width * height
    scale = jpeg_draft_scale(width, height, for_ocr=ocr)
    return math.ceil(width / scale) * math.ceil(height / scale)


# --------------------------------------------------------------------------------------- bounded runner


@dataclass(frozen=True, slots=True)
class Job:
    sha256: str
    pixels: int
    #: Reads the bytes when the job is submitted (so only jobs in flight hold bytes).
    load: Callable[[], bytes]
    #: OCR words and their places from an older signature of the same bytes, read by the current OCR
    #: (:func:`matching.signature_codec.reusable_text`): the worker uses them instead of reading the image again.
    known_text: tuple[tuple[str, ...], tuple[tuple[float, float, float, float], ...] | None] | None = None


class Backend:
    """Where jobs run: inline, a process pool, or Dask. ``submit`` returns a handle ``wait_first`` and
    ``result`` understand; ``result`` raises :class:`WorkerDied` when the worker is gone."""

    slots: int = 1

    def submit(self, job: Job, data: bytes, config: SigningConfig) -> Any:
        raise NotImplementedError

    def wait_first(self, handles: list[Any]) -> Iterable[Any]:
        raise NotImplementedError

    def result(self, handle: Any) -> SignatureResult:
        raise NotImplementedError

    def close(self) -> None:
        return None


class WorkerDied(RuntimeError):
    """The process computing an image is gone."""


def _call(job: Job, data: bytes, config: SigningConfig) -> tuple[Callable[..., SignatureResult], tuple, dict]:
    kwargs: dict[str, Any] = {"max_pixels": config.max_pixels, "ocr": config.ocr, "ocr_timeout_s": config.ocr_timeout_s,
                              "ocr_engine": config.ocr_engine}
    if config.ocr and job.known_text is not None:
        kwargs["known_text"] = job.known_text
    return sign_bytes, (job.sha256, data), kwargs


class InlineBackend(Backend):
    """Signs in this process, one image at a time (small stages, tests, a single core)."""

    def submit(self, job: Job, data: bytes, config: SigningConfig) -> SignatureResult:
        fn, args, kwargs = _call(job, data, config)
        return fn(*args, **kwargs)

    def wait_first(self, handles: list[Any]) -> Iterable[Any]:
        return handles[:1]

    def result(self, handle: Any) -> SignatureResult:
        return handle


class PoolBackend(Backend):
    """A pool of spawned worker processes (not forked: the caller may run threads, an event loop, Prefect)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.slots = 2 * processes
        self.pool = cf.ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, job: Job, data: bytes, config: SigningConfig) -> cf.Future:
        fn, args, kwargs = _call(job, data, config)
        try:
            return self.pool.submit(fn, *args, **kwargs)
        except cf.process.BrokenProcessPool:
            self._restart()
            return self.pool.submit(fn, *args, **kwargs)

    def wait_first(self, handles: list[Any]) -> Iterable[Any]:
        return cf.wait(handles, return_when=cf.FIRST_COMPLETED).done

    def result(self, handle: cf.Future) -> SignatureResult:
        try:
            return handle.result()
        except cf.process.BrokenProcessPool:
            self._restart()
            raise WorkerDied(WORKER_DIED) from None

    def _restart(self) -> None:
        if getattr(self.pool, "_broken", False):
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = cf.ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend(Backend):
    """A Dask cluster: ``address`` of a running scheduler, or ``local`` for a LocalCluster of processes."""

    def __init__(self, address: str, processes: int) -> None:
        # deferred: only a Dask-configured stage loads distributed
        from distributed import Client, LocalCluster

        self.cluster = None
        if address == "local":
            self.cluster = LocalCluster(n_workers=processes, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            self.client = Client(address, timeout=30)
        self.slots = max(1, 2 * sum(self.client.nthreads().values()))

    def submit(self, job: Job, data: bytes, config: SigningConfig) -> Any:
        fn, args, kwargs = _call(job, data, config)
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def wait_first(self, handles: list[Any]) -> Iterable[Any]:
        from distributed import wait  # deferred: see __init__

        return wait(handles, return_when="FIRST_COMPLETED").done

    def result(self, handle: Any) -> SignatureResult:
        from distributed.client import FutureCancelledError  # deferred: see __init__

        try:
            return handle.result()
        except (FutureCancelledError, OSError) as exc:
            raise WorkerDied(f"{WORKER_DIED}: {_one_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - Dask re-raises the worker's error (e.g. KilledWorker)
            if type(exc).__name__ == "KilledWorker":
                raise WorkerDied(WORKER_DIED) from None
            raise

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def open_backend(config: SigningConfig, *, jobs_hint: int | None = None) -> Backend:
    """The backend ``config`` asks for; inline for one worker or a handful of images."""
    if config.dask_address:
        return DaskBackend(config.dask_address, config.processes)
    if config.processes <= 1 or (jobs_hint is not None and jobs_hint < INLINE_BELOW):
        return InlineBackend()
    return PoolBackend(config.processes)


def run_bounded(jobs: Iterable[Job], backend: Backend, config: SigningConfig, stats: SigningStats
                ) -> Iterator[SignatureResult]:
    """Run ``jobs`` on ``backend`` with at most ``backend.slots`` in flight and at most
    ``config.pixel_budget`` estimated pixels in flight (a larger job runs alone); yields results as they
    finish. Jobs whose worker died are run once more, alone; a second death is a failed result."""
    from matching.signature import SIGNATURE_VERSION  # deferred: start-up time (numpy)

    source = iter(jobs)
    retry: list[Job] = []
    inflight: dict[int, tuple[Any, Job]] = {}  # by id(): an inline handle is a result, not hashable
    used = 0
    waiting: Job | None = None
    alone = False  # retries run one at a time
    while True:
        while len(inflight) < (1 if alone else backend.slots):
            if waiting is None:
                waiting = next(source, None)
                if waiting is None and not inflight and retry:
                    alone, waiting = True, retry.pop(0)
            if waiting is None:
                break
            if inflight and used + waiting.pixels > config.pixel_budget:
                break
            job, waiting = waiting, None
            try:
                data = job.load()
            except (OSError, ValueError) as exc:
                yield SignatureResult(job.sha256, "failed", SIGNATURE_VERSION,
                                      error=f"image file unreadable: {_one_line(exc)}")
                continue
            if len(data) > config.max_bytes:
                yield SignatureResult(job.sha256, "failed", SIGNATURE_VERSION,
                                      error=f"image file of {len(data)} bytes exceeds {config.max_bytes}")
                continue
            handle = backend.submit(job, data, config)
            inflight[id(handle)] = (handle, job)
            del data
            used += job.pixels
            stats.peak_pixels = max(stats.peak_pixels, used)
        if not inflight:
            return
        for handle in list(backend.wait_first([h for h, _job in inflight.values()])):
            job = inflight.pop(id(handle))[1]
            used -= job.pixels
            try:
                yield backend.result(handle)
            except WorkerDied as exc:
                if alone:
                    yield SignatureResult(job.sha256, "failed", SIGNATURE_VERSION, error=str(exc)[:500])
                else:
                    stats.retried += 1
                    retry.append(job)


# ------------------------------------------------------------------------------------------- the stage


def _write(database: Database, results: list[SignatureResult], stats: SigningStats) -> None:
    with database.session() as session:
        for r in results:
            save_signature_row(session, sha256=r.sha256, version=r.version, status=r.status, fields=r.fields,
                               keypoints=r.keypoints, ocr_text=r.ocr_text, error=r.error)
    for r in results:
        if r.status == "ok":
            stats.signed += 1
        else:
            stats.failed += 1
            kind = (r.error or "failed").split(":")[0][:60]
            stats.errors[kind] = stats.errors.get(kind, 0) + 1
    stats.batches += 1


def _pending(database: Database, *, version: int, only: list[str] | None, shard: tuple[int, int] | None,
             limit: int | None) -> Iterator[PendingImage]:
    """Pending images page by page (keyset on sha256), fresh from the database each page."""
    after, seen = "", 0
    while limit is None or seen < limit:
        page = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - seen)
        with database.session() as session:
            rows = pending_signature_images(session, version=version, after=after, limit=page, only=only,
                                            shard=shard)
        if not rows:
            return
        yield from rows
        seen += len(rows)
        after = rows[-1].sha256


def sign_pending(
    database: Database,
    *,
    store: ImageStore,
    config: SigningConfig,
    only: Iterable[str] | None = None,
    shard: tuple[int, int] | None = None,
    limit: int | None = None,
    logger: Any = None,
) -> SigningStats:
    """Sign every pending image (see the module doc); ``only``: just these sha256s; ``limit``: at most
    this many images (then stop, the rest stays pending). Returns what was done."""
    # deferred: start-up time (numpy)
    from matching.ocr import ocr_version
    from matching.signature import SIGNATURE_VERSION
    from matching.signature_codec import reusable_text

    stamp = ocr_version(config.ocr_engine) if config.ocr else None  # type: ignore[arg-type]
    started = time.perf_counter()
    stats = SigningStats()
    wanted = list(dict.fromkeys(only)) if only is not None else None
    with database.session() as session:
        first = pending_signature_images(session, version=SIGNATURE_VERSION, limit=INLINE_BELOW, only=wanted,
                                         shard=shard)
    if not first:
        return stats
    backend = open_backend(config, jobs_hint=len(first) if len(first) < INLINE_BELOW else None)
    try:
        jobs = (
            Job(p.sha256, decoded_pixels(p.content_type, p.width, p.height, ocr=config.ocr),
                lambda path=p.path: store.read(path), reusable_text(p.previous, ocr_version=stamp) if stamp else None)
            for p in _pending(database, version=SIGNATURE_VERSION, only=wanted, shard=shard, limit=limit)
        )
        batch: list[SignatureResult] = []
        for result in run_bounded(jobs, backend, config, stats):
            batch.append(result)
            if len(batch) >= config.batch_size:
                _write(database, batch, stats)
                batch = []
                if logger:
                    logger.info("signatures: %d signed, %d failed so far", stats.signed, stats.failed)
        if batch:
            _write(database, batch, stats)
    finally:
        backend.close()
    stats.seconds = time.perf_counter() - started
    if logger:
        logger.info("signatures: %d signed, %d failed in %.1f s (%.1f images/s, peak %d pixels decoding)",
                    stats.signed, stats.failed, stats.seconds, stats.per_second, stats.peak_pixels)
    return stats


def sign_stored(database: Database, settings: Settings, *, logger: Any = None, **overrides: Any) -> SigningStats:
    """:func:`sign_pending` with the image store and configuration of ``settings`` (``overrides``: fields of
    :class:`SigningConfig`, e.g. ``dask_address``)."""
    store = ImageStore.from_settings(settings)
    return sign_pending(database, store=store, config=SigningConfig.from_settings(settings, **overrides),
                        logger=logger)


def sign_blobs(blobs: dict[str, bytes], config: SigningConfig) -> dict[str, SignatureResult]:
    """Signatures of images held in memory (the registry signs reference images before it commits),
    by sha256, through the same bounded runner."""
    from storage.imagestore import probe  # header facts for the pixel estimate

    jobs = []
    for sha, data in blobs.items():
        try:
            fmt, width, height = probe(data, max_pixels=config.max_pixels)
            content_type = "image/jpeg" if fmt == "JPEG" else None
        except ValueError:
            width = height = 1
            content_type = None
        jobs.append(Job(sha, decoded_pixels(content_type, width, height, ocr=config.ocr),
                        lambda data=data: data))
    backend = open_backend(config, jobs_hint=len(jobs))
    try:
        return {r.sha256: r for r in run_bounded(jobs, backend, config, SigningStats())}
    finally:
        backend.close()


def sign_in_session(session: Any, blobs: dict[str, bytes], config: SigningConfig) -> dict[str, str]:
    """Sign the images of ``blobs`` (sha256 -> bytes, their ``images`` rows already in ``session``) that have
    no current signature, writing the rows in ``session``'s transaction. Returns sha256 -> error for the
    images that cannot be signed (the caller decides whether that undoes the transaction). The registry
    import uses it, so that reference images are matchable as soon as the import commits."""
    from matching.signature import SIGNATURE_VERSION  # deferred: start-up time (numpy)
    from storage.models import ImageSignatureRow

    done: dict[str, tuple[str, str | None]] = {}
    shas = list(blobs)
    for start in range(0, len(shas), 500):
        rows = session.execute(
            select(ImageSignatureRow.sha256, ImageSignatureRow.status, ImageSignatureRow.error)
            .where(ImageSignatureRow.sha256.in_(shas[start:start + 500]),
                   ImageSignatureRow.version >= SIGNATURE_VERSION))
        done.update((sha, (status, error)) for sha, status, error in rows)
    failed = {sha: error or "failed" for sha, (status, error) in done.items() if status != "ok"}
    todo = {sha: data for sha, data in blobs.items() if sha not in done}
    for sha, result in sign_blobs(todo, config).items():
        save_signature_row(session, sha256=sha, version=result.version, status=result.status,
                           fields=result.fields, keypoints=result.keypoints, ocr_text=result.ocr_text,
                           error=result.error)
        if result.status != "ok":
            failed[sha] = result.error or "failed"
    return failed
