"""The safe check of candidates: DNS, then the home page through the network policy (a name inside the
network is recorded and never fetched, a redirect inside is refused), then the first look with the page
classes and the matcher; parked, for sale, redirecting to the brand, shop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from discovery_support import name_based_sites
from sqlalchemy import select

from core.settings import Settings
from matching.domains import DomainHit
from services.discovery.candidates import record_hits
from services.discovery.liveness import check_candidates
from storage.models import Brand, DomainCandidate, DomainEvent, Owner, Product

#: Documentation-free public addresses the test pretends the shops live at (connections are bent to loopback).
PUBLIC = {"fullips-outlet.shop": "93.184.216.34", "fullips-parked.com": "93.184.216.35",
          "fullips-forsale.net": "93.184.216.36", "fullips-eu.com": "93.184.216.37",
          "fullips-redirect.shop": "93.184.216.38", "fullips.com": "93.184.216.39"}
INSIDE = {"fullips-admin.shop": "10.0.0.5", "internal.test": "169.254.169.254"}

SHOP = b"""<html><head><title>Fullips Outlet - 70% off</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Fullips Lip Plumper",
"offers":{"@type":"Offer","price":"9.99","priceCurrency":"USD"}}</script></head>
<body><h1>Fullips Lip Plumper</h1><p>Original Fullips lip plumper, cheap.</p><button>Add to cart</button></body></html>"""
PAGES = {
    "fullips-outlet.shop": (200, {}, SHOP),
    "fullips-parked.com": (200, {}, b"<html><title>fullips-parked.com</title><body>This domain is parked free, "
                                    b"courtesy of ParkingCrew.</body></html>"),
    "fullips-forsale.net": (200, {}, b"<html><body>The domain fullips-forsale.net may be for sale. Make an offer!"
                                     b"</body></html>"),
    "fullips-eu.com": (301, {"Location": "http://fullips.com/"}, b""),
    "fullips.com": (200, {}, b"<html><title>Fullips official</title></html>"),
    "fullips-redirect.shop": (302, {"Location": "http://internal.test/latest/meta-data/"}, b""),
}


@contextmanager
def shops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Name-based sites on 127.0.0.1; connections to the PUBLIC addresses are bent to it (port kept out).
    Yields the (host, path) of every request."""
    with name_based_sites(monkeypatch, PUBLIC, lambda host, _path: PAGES.get(host, (404, {}, b"no"))) as seen:
        yield seen


def resolver(host: str, _port: int) -> list[str]:
    address = PUBLIC.get(host) or INSIDE.get(host)
    if address is None:
        raise OSError("NXDOMAIN")
    return [address]


def test_candidates_are_checked_safely_and_classed(database, tmp_path, monkeypatch) -> None:
    with database.session() as session:
        brand = Brand(name="Fullips", owner=Owner(name="Et Al"), official_domains=["fullips.com"],
                      keywords=["lip", "plumper"], category="cosmetics",
                      products=[Product(sku="FLP-1", name="Fullips Lip Plumper")])
        session.add(brand)
        session.flush()
        hits = [DomainHit(domain=d, ascii_domain=d, brand_id=brand.id, mark="Fullips", disguise="exact", score=0.8,
                          reasons=("spells the mark",))
                for d in [*PUBLIC, *INSIDE, "fullips-gone.com"] if d not in ("fullips.com", "internal.test")]
        record_hits(session, hits, feed="nrd:test")
    settings = Settings(data_dir=tmp_path, allow_private_network=False, download_timeout=5)
    with shops(monkeypatch) as seen:
        report = check_candidates(settings, database, resolver=resolver)
    assert report.checked == 7
    with database.session() as session:
        kinds = {c.domain: c for c in session.scalars(select(DomainCandidate))}
        assert {d: c.kind for d, c in kinds.items()} == {
            "fullips-outlet.shop": "shop", "fullips-parked.com": "parked", "fullips-forsale.net": "for_sale",
            "fullips-eu.com": "redirects_official", "fullips-redirect.shop": "internal",
            "fullips-admin.shop": "internal", "fullips-gone.com": "unreachable"}
        shop = kinds["fullips-outlet.shop"].check
        assert shop["names_brand"] and shop["match_score"] > 0.5 and shop["title"].startswith("Fullips Outlet")
        assert "recorded, never fetched" in kinds["fullips-admin.shop"].check["reasons"][0]
        assert "refused" in kinds["fullips-redirect.shop"].check["reasons"][0]
        assert session.scalar(select(DomainEvent.detail).where(DomainEvent.action == "checked").limit(1))
    hosts = {host for host, _ in seen}
    assert "fullips-admin.shop" not in hosts and "internal.test" not in hosts, "nothing inside was fetched"


def test_a_dismissed_candidate_comes_back_when_its_address_changes(database, tmp_path, monkeypatch) -> None:
    from services.discovery import decisions

    with database.session() as session:
        brand = Brand(name="Fullips", owner=Owner(name="Et Al"), official_domains=["fullips.com"])
        session.add(brand)
        session.flush()
        record_hits(session, [DomainHit(domain="fullips-parked.com", ascii_domain="fullips-parked.com",
                                        brand_id=brand.id, mark="Fullips", disguise="exact", score=0.8,
                                        reasons=())], feed="nrd:test")
    settings = Settings(data_dir=tmp_path, download_timeout=5)
    with shops(monkeypatch):
        check_candidates(settings, database, resolver=resolver)
        with database.session() as session:
            decisions.dismiss(session, "fullips-parked.com", actor="ana")
        check_candidates(settings, database, resolver=resolver, recheck=True)
        with database.session() as session:
            assert session.scalar(select(DomainCandidate.status)) == "dismissed", "unchanged: stays dismissed"
        PUBLIC["fullips-parked.com"] = "93.184.216.34"  # moved to the shop's host
        try:
            check_candidates(settings, database, resolver=resolver, recheck=True)
        finally:
            PUBLIC["fullips-parked.com"] = "93.184.216.35"
    with database.session() as session:
        candidate = session.scalar(select(DomainCandidate))
        assert candidate.status == "new"
        events = session.scalars(select(DomainEvent.detail).where(DomainEvent.action == "reopened")).all()
        assert events == ["changed since dismissed: a new address"]


def test_an_approved_shop_goes_into_a_domain_takedown_pack_with_its_evidence(database, tmp_path, monkeypatch) -> None:
    import hashlib
    import json
    import zipfile

    from services.discovery import decisions
    from services.discovery.takedown import build_domain_pack

    with database.session() as session:
        brand = Brand(name="Fullips", owner=Owner(name="Et Al"), official_domains=["fullips.com"],
                      keywords=["lip"], trademarks=[{"office": "EUIPO", "number": "018000001", "classes": [3],
                                                     "jurisdiction": "EU"}],
                      rights_holder={"name": "Et Al Legal", "email": "legal@example.com"})
        session.add(brand)
        session.flush()
        record_hits(session, [DomainHit(domain="fullips-outlet.shop", ascii_domain="fullips-outlet.shop",
                                        brand_id=brand.id, mark="Fullips", disguise="exact", score=0.8,
                                        reasons=("spells the mark 'Fullips'",))], feed="ct:log.test")
    settings = Settings(data_dir=tmp_path, download_timeout=5, evidence_screenshots=False)
    with shops(monkeypatch):
        check_candidates(settings, database, resolver=resolver)
    with database.session() as session:
        decisions.approve(session, "fullips-outlet.shop", actor="ana")
    pack = build_domain_pack(database, settings, brand="Fullips", out=tmp_path / "pack.zip", actor="ana")
    assert pack.items == 1
    with zipfile.ZipFile(pack.path) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        notice = archive.read("notices/domain-abuse-batch-001.csv").decode()
        statement_text = archive.read(next(n for n in names if n.startswith("statements/"))).decode()
    assert any(n.startswith("evidence/") and n.endswith(".warc.gz") for n in names)
    assert "93.184.216.34" in notice and "018000001" in notice and "fullips-outlet.shop" in notice
    assert "good faith" in statement_text and "it names the brand" in statement_text
    with database.session() as session:
        assert "reported" in session.scalars(select(DomainEvent.action)).all()
