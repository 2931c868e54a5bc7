"""The first look at a candidate's home page compares its photos with the brand's registered ones: a page
that never names the brand but shows its official photo (edited) is seen, an unrelated photo is not, and
a photo whose address lies inside the network is never fetched."""

from __future__ import annotations

import io

import pytest
import yaml
from discovery_support import name_based_sites
from PIL import Image, ImageOps
from sqlalchemy import select
from webapp_support import photo

from core.settings import Settings
from matching.domains import DomainHit
from services.discovery.candidates import record_hits
from services.discovery.liveness import check_candidates
from services.registry.load import load_registry
from services.registry.sync import import_registry
from storage.imagestore import ImageStore
from storage.models import Brand, DomainCandidate

PUBLIC = {"glossy-deals.shop": "93.184.216.40", "plain-deals.shop": "93.184.216.41"}
OFFICIAL = photo(501, size=480)


def edited(data: bytes) -> bytes:
    """The official photo as a rogue shop would show it: a white border, then JPEG."""
    img = ImageOps.expand(Image.open(io.BytesIO(data)).convert("RGB"), border=40, fill="white")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


HOME = (b"<html><head><title>Glossy Deals - best prices</title></head><body><h1>Summer sale</h1>"
        b"<img src='/hero.jpg'><img src='http://10.0.0.7/secret.png'><button>Add to cart</button></body></html>")
FILES = {
    ("glossy-deals.shop", "/"): (HOME, "text/html"),
    ("glossy-deals.shop", "/hero.jpg"): (edited(OFFICIAL), "image/jpeg"),
    ("plain-deals.shop", "/"): (HOME, "text/html"),
    ("plain-deals.shop", "/hero.jpg"): (edited(photo(777, size=480)), "image/jpeg"),
}


@pytest.fixture
def site(monkeypatch):
    def answer(host: str, path: str) -> tuple[int, dict[str, str], bytes]:
        body, kind = FILES.get((host, path), (b"no", "text/plain"))
        return (200 if (host, path) in FILES else 404), {"Content-Type": kind}, body

    with name_based_sites(monkeypatch, PUBLIC, answer) as seen:
        yield seen


def resolver(host: str, _port: int) -> list[str]:
    if host in PUBLIC:
        return [PUBLIC[host]]
    raise OSError("NXDOMAIN")


def test_the_first_look_sees_the_brands_photo_on_a_page_that_does_not_name_it(database, tmp_path, site) -> None:
    (tmp_path / "reg").mkdir()
    (tmp_path / "reg" / "official.png").write_bytes(OFFICIAL)
    (tmp_path / "reg" / "registry.yaml").write_text(yaml.safe_dump({"brands": [{
        "name": "Velquist", "owner": "Velquist Ltd", "category": "cosmetics", "keywords": ["serum"],
        "products": [{"name": "Velquist Night Serum", "sku": "VQ-1", "images": ["official.png"]}]}]}))
    settings = Settings(data_dir=tmp_path / "data", allow_private_network=False, download_timeout=5)
    store = ImageStore.from_settings(settings)
    with database.session() as session:
        import_registry(session, load_registry(tmp_path / "reg" / "registry.yaml", store=store), store)
        brand = session.scalars(select(Brand)).one()
        record_hits(session, [DomainHit(domain=d, ascii_domain=d, brand_id=brand.id, mark="Velquist",
                                        disguise="exact", score=0.8, reasons=("spells the mark",)) for d in PUBLIC],
                    feed="nrd:test")
    report = check_candidates(settings, database, resolver=resolver)
    assert report.checked == 2
    with database.session() as session:
        checks = {c.domain: c.check for c in session.scalars(select(DomainCandidate))}
    glossy, plain = checks["glossy-deals.shop"], checks["plain-deals.shop"]
    assert glossy["shows_photo"] and not glossy["names_brand"]
    assert any("shows a registered photo" in r for r in glossy["reasons"])
    assert not plain["shows_photo"] and not plain["names_brand"]
    assert not any(host.startswith("10.") for host, _ in site), "the photo inside the network was never fetched"
