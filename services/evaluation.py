"""Evaluation through the production path: a labelled demo world scored as ``lookalike scan`` would score it.

:func:`evaluate_world_dir` takes a demo world folder (``registry.yaml``, ``listings.jsonl``, ``refs/``,
``listing-images/``; see :mod:`data.demo`) and

1. imports the registry with :func:`services.registry.load.load_registry` / :func:`~services.registry.sync.import_registry`
   into a database (a temporary SQLite file unless a URL is given), reference photos signed at import;
2. stores every listing and its images as the crawl's storage pipeline does
   (:func:`crawlers.pipelines.records.upsert_listings`, images content-addressed in an
   :class:`storage.imagestore.ImageStore`), one marketplace per shop;
3. signs the stored images with the signature stage (:func:`services.signatures.sign_pending`);
4. scores every stored listing with the brands, listings and signatures loaded by
   :mod:`services.matchdata` and the scan's :class:`matching.Matcher` (the code ``services.scan`` runs);
5. hands (label, results) pairs to the pure metrics of :mod:`matching.evaluate`.

So the published figures are the production path's figures: a change in the importer, the image stage or
the loaders shows in them.  :func:`analyst_decisions` reads analysts' decisions from a live database for the
calibration report (report only, nothing is refitted).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import LookalikeError
from core.settings import Settings
from crawlers.items import Listing as ListingItem
from crawlers.pipelines.records import get_or_create_marketplace, save_images, start_run, upsert_listings
from matching.evaluate import EvalReport, outcome_of
from services.matchdata import listing_input, listing_load_options, load_brand_profiles
from services.registry.load import load_registry
from services.registry.sync import import_registry
from services.signatures import SigningConfig, sign_pending
from storage.db import Database
from storage.imagestore import ImageRejected, ImageStore
from storage.models import CrawlRun, Listing, Match, utcnow
from storage.vocabulary import UPHELD_STATUSES

#: Listings stored (and scored) per transaction.
BATCH = 200
#: The match status that means an analyst turned the match down (upheld: ``storage.vocabulary.UPHELD_STATUSES``).
DISMISSED_STATUS = "dismissed"
#: Base of the made-up product URLs a world's listings are stored under (never fetched).
DEMO_BASE = "https://demo-world.invalid"


class WorldInvalid(LookalikeError):
    """A folder that is not a readable demo world."""


@dataclass(frozen=True, slots=True)
class _ImageOutcome:
    """What the crawl's image pipeline records per URL: ``ok`` with a sha256, or a failure status."""

    status: str
    sha256: str | None = None
    error: str | None = None


@dataclass
class ImportedWorld:
    """A world stored in a database: its labels by world listing id and the database ids."""

    world_dir: Path
    group: str
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: listings.id -> world listing id (``L0001``).
    listing_ids: dict[int, str] = field(default_factory=dict)
    image_errors: int = 0
    signed: int = 0


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def read_listings(world_dir: Path) -> list[dict[str, Any]]:
    """The records of ``listings.jsonl`` (the demo world contract); one-line error when unreadable."""
    path = Path(world_dir) / "listings.jsonl"
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorldInvalid(f"cannot read {path}: {str(exc)[:200]}") from None
    if not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in rows):
        raise WorldInvalid(f"{path}: every line must be an object with a string id")
    return rows


def _item(row: dict[str, Any], image_urls: list[str]) -> ListingItem:
    shop = str(row.get("shop") or "shop")
    url = f"{DEMO_BASE}/shop/{shop}/p/{row['id'].lower()}"
    return ListingItem(
        url=url, canonical_url=url, external_id=row["id"], title=row.get("title"),
        description=row.get("description"), price=_decimal(row.get("price")), currency=row.get("currency"),
        seller=row.get("seller"), sku=row.get("sku"), gtin=row.get("gtin"), mpn=row.get("mpn"),
        brand=row.get("brand_text"), image_urls=image_urls,
        availability="InStock" if row.get("available", True) else "OutOfStock", source="demo-world",
        marketplace=shop,
    )


def store_listings(database: Database, world_dir: Path, rows: Sequence[dict[str, Any]], *,
                   store: ImageStore) -> tuple[dict[int, str], int]:
    """Store ``rows`` and their image files as the crawl would; returns (listings.id -> world id, images
    refused).  Image URLs are made-up ``DEMO_BASE`` URLs; the bytes come from the world folder."""
    world_dir = Path(world_dir)
    ids: dict[int, str] = {}
    refused = 0
    by_shop: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_shop.setdefault(str(row.get("shop") or "shop"), []).append(row)
    for shop, shop_rows in by_shop.items():
        with database.session() as session:
            market = get_or_create_marketplace(session, name=f"demo-{shop}", base_url=f"{DEMO_BASE}/shop/{shop}/",
                                               kind="shop")
            run = start_run(session, marketplace_id=market.id, scan_id="evaluation", params={"world": str(world_dir)})
            market_id, run_id = market.id, run.id
        for start in range(0, len(shop_rows), BATCH):
            chunk = shop_rows[start:start + BATCH]
            outcomes: dict[str, _ImageOutcome] = {}
            stored_images = []
            items = []
            for row in chunk:
                urls = []
                for path in row.get("images") or []:
                    url = f"{DEMO_BASE}/img/{Path(str(path)).name}"
                    urls.append(url)
                    try:
                        stored = store.put((world_dir / str(path)).read_bytes())
                    except (OSError, ImageRejected) as exc:
                        refused += 1
                        outcomes[url] = _ImageOutcome(getattr(exc, "reason", "unreadable"), error=str(exc)[:300])
                        continue
                    stored_images.append(stored)
                    outcomes[url] = _ImageOutcome("ok", sha256=stored.sha256)
                items.append(_item(row, urls))
            with database.session() as session:
                save_images(session, stored_images)
                upsert_listings(session, marketplace_id=market_id, crawl_run_id=run_id, items=items,
                                image_outcome=lambda u, o=outcomes: o.get(u, _ImageOutcome("pending")))
                for listing_id, external in session.execute(
                        select(Listing.id, Listing.external_id).where(
                            Listing.marketplace_id == market_id,
                            Listing.external_id.in_([r["id"] for r in chunk]))):
                    ids[int(listing_id)] = str(external)
        with database.session() as session:
            finished = session.get(CrawlRun, run_id)
            finished.status, finished.finished_at = "finished", utcnow()
    return ids, refused


def import_world(database: Database, world_dir: Path, *, store: ImageStore, signing: SigningConfig,
                 group: str = "") -> ImportedWorld:
    """Steps 1-3 of the module doc: registry, listings and images stored, every image signed."""
    world_dir = Path(world_dir)
    registry_path = world_dir / "registry.yaml"
    if not registry_path.is_file():
        raise WorldInvalid(f"{world_dir} holds no registry.yaml")
    rows = read_listings(world_dir)
    registry = load_registry(registry_path, store=store)
    with database.session() as session:
        import_registry(session, registry, store, signing=signing)
    imported = ImportedWorld(world_dir=world_dir, group=group,
                             labels={r["id"]: dict(r.get("label") or {}) for r in rows})
    imported.listing_ids, imported.image_errors = store_listings(database, world_dir, rows, store=store)
    stats = sign_pending(database, store=store, config=signing)
    imported.signed = stats.signed
    imported.image_errors += stats.failed
    return imported


def _stored_listings(database: Database, ids: Sequence[int]) -> Iterator[list[Listing]]:
    for start in range(0, len(ids), BATCH):
        with database.session() as session:
            yield list(session.scalars(
                select(Listing).where(Listing.id.in_(ids[start:start + BATCH])).order_by(Listing.id)
                .options(*listing_load_options())))


def score_world(database: Database, imported: ImportedWorld, *, settings: Settings, config: Any = None,
                ) -> EvalReport:
    """Step 4-5: score every stored listing of ``imported`` as the scan does and collect the outcomes."""
    from matching import Matcher  # deferred: start-up time (the matching engine loads OpenCV)
    from matching.config import MatchConfig  # deferred: see above

    config = config or MatchConfig()
    with database.session() as session:
        profiles = load_brand_profiles(session)
    if not profiles:
        raise WorldInvalid(f"{imported.world_dir}: the registry holds no brand")
    brand_id_of = {p.name: p.brand_id for p in profiles}
    matcher = Matcher(profiles, config=config, rates=dict(settings.currency_rates))
    outcomes = []
    for batch in _stored_listings(database, sorted(imported.listing_ids)):
        inputs = [listing_input(listing) for listing in batch]
        for listing, results in matcher.score_many(inputs):
            world_id = imported.listing_ids[int(listing.listing_id)]
            outcomes.append(outcome_of(world_id, imported.labels.get(world_id, {}), list(results),
                                       brand_id_of=brand_id_of, group=imported.group))
    missing = len(imported.labels) - len(outcomes)
    report = EvalReport(outcomes, float(config.infringing_threshold), imported.image_errors)
    if missing:
        report.notes.append(f"{missing} listings of the world were not stored")
    return report


def evaluate_world_dir(world_dir: Path, *, settings: Settings, db_url: str | None = None, config: Any = None,
                       group: str = "", signing: SigningConfig | None = None) -> EvalReport:
    """Import ``world_dir`` into a database (``db_url``, or a temporary SQLite file with its own image
    store) and score it through the production path; see the module doc."""
    signing = signing or SigningConfig.from_settings(settings)
    with tempfile.TemporaryDirectory(prefix="lookalike-eval-") as scratch:
        root = Path(scratch)
        url = db_url or f"sqlite:///{root / 'eval.db'}"
        store = ImageStore(root / "images", max_bytes=settings.max_image_bytes,
                           max_pixels=settings.max_image_pixels)
        with Database.opened(url) as database:
            imported = import_world(database, world_dir, store=store, signing=signing, group=group)
            return score_world(database, imported, settings=settings, config=config)


def pooled(reports: Sequence[EvalReport]) -> EvalReport:
    """One report over the outcomes of several worlds (each outcome keeps its ``group``)."""
    if not reports:
        raise ValueError("no reports to pool")
    merged = EvalReport([o for r in reports for o in r.outcomes], reports[0].threshold,
                        sum(r.image_errors for r in reports))
    for r in reports:
        merged.notes.extend(r.notes)
    return merged


def analyst_decisions(session: Session) -> list[tuple[float, bool]]:
    """(score, upheld) for every match an analyst decided: upheld for ``confirmed``, ``reported`` and
    ``removed``, not upheld for ``dismissed``; undecided (``new``) matches are left out."""
    rows = session.execute(select(Match.score, Match.status).where(
        Match.status.in_((*UPHELD_STATUSES, DISMISSED_STATUS))))
    return [(float(score or 0.0), status in UPHELD_STATUSES) for score, status in rows]


GENERATORS = ("demo", "world2")
"""World generators ``lookalike eval`` can build: ``demo`` (:mod:`data.demo`, the project's own world) and
``world2`` (:mod:`data.world2`, the independent held-out world written without the first one's edit list)."""


def world_for_seed(root: Path, seed: int, *, brands: int | None = None, workers: int = 2,
                   generator: str = "demo") -> Path:
    """``root/seed-N`` (``root/world2-seed-N`` for the second world) holding the world of ``seed`` made by
    ``generator`` (:data:`GENERATORS`), generated there when absent (the same seed always gives the same files,
    so a cached folder is reused).  ``brands``: brands per world (None: the generator's default)."""
    if generator not in GENERATORS:
        raise LookalikeError(f"unknown world generator {generator!r} (known: {', '.join(GENERATORS)})")
    default = 12 if generator == "demo" else 10
    brands = brands or default
    prefix = "" if generator == "demo" else f"{generator}-"
    folder = Path(root) / (f"{prefix}seed-{seed}" if brands == default else f"{prefix}seed-{seed}-b{brands}")
    meta = folder / "world.json"
    if meta.is_file():
        try:
            if json.loads(meta.read_text(encoding="utf-8")).get("seed") == seed:
                return folder
        except (OSError, json.JSONDecodeError):
            pass
    generate_world_into(folder, seed=seed, brands=brands, workers=workers, generator=generator)
    return folder


def generate_world_into(folder: Path, *, seed: int, brands: int | None = None, workers: int = 2,
                        generator: str = "demo") -> None:
    """Write the world of ``seed`` made by ``generator`` into ``folder`` (one-line error when the generator,
    which lives only in a source tree, or a wheel it draws with, is missing)."""
    try:
        if generator == "world2":
            from data.world2.assets import AssetMissing  # deferred: the generators are only in a source tree
            from data.world2.generate import generate_world2  # deferred: see above

            try:
                generate_world2(folder, seed=seed, workers=workers, brands=brands or 10)
            except AssetMissing as exc:
                raise LookalikeError(f"cannot generate the second world: {exc}") from None
        else:
            from data.demo.generate import generate_world  # deferred: see above

            generate_world(folder, seed=seed, workers=workers, brands=brands or 12)
    except ImportError as exc:
        raise LookalikeError(f"cannot generate a {generator} world: {exc}") from None
