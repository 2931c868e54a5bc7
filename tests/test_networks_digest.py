"""The digest's part of issue 31: the largest new or growing networks selling the owner's brands, and
relistings of its brands' listings, its brands only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from webapp_support import make_settings

from services.digestmail import DigestContent, render_html, render_text
from services.networks import digest_lines
from storage.db import Database
from storage.models import Brand, Listing, Relisting
from tests.networks_support import build_network_web_world


def test_digest_tells_each_owner_its_networks_and_relistings(tmp_path):
    settings = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'd.db'}")
    build_network_web_world(settings)
    with Database.opened(settings.database_url) as db, db.session() as s:
        fullips = s.scalars(select(Brand.id).where(Brand.name == "Fullips")).one()
        glowwe = s.scalars(select(Brand.id).where(Brand.name == "Glowwe")).one()
        later = s.scalars(select(Listing).where(Listing.seller == "Quillon Goods")).one()
        earlier = s.scalars(select(Listing).where(Listing.seller == "Marl0w & Finch")).first()
        s.add(Relisting(listing_id=later.id, earlier_listing_id=earlier.id,
                        evidence=["the same own photo", "a seller of the same network (network 1)"]))
        s.flush()
        lines, relisted = digest_lines(s, [fullips], since=None)
        assert len(lines) == 1 and "(new)" in lines[0] and "2 of its sellers sell your brands" in lines[0]
        assert "3 live suspect listing(s) (bazaarly 2, kramwell 1)" in lines[0]
        assert len(relisted) == 1 and "relists listing" in relisted[0] and "the same own photo" in relisted[0]
        other_lines, other_relisted = digest_lines(s, [glowwe], since=None)
        assert len(other_lines) == 1 and "1 of its sellers" in other_lines[0] and other_relisted == []
        # Nothing new since the network was found: no line.
        later_on = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        assert digest_lines(s, [fullips], since=later_on) == ([], [])
    content = DigestContent(owner="Et Al Beauty", items=[], period_start=None, built_at=dt.datetime.now(dt.UTC),
                            review_url="https://review.example", networks=lines, relistings=relisted)
    text, html = render_text(content), render_html(content)
    assert "Seller networks selling your brands" in text and lines[0].split(":")[0] in text
    assert "Relistings after takedowns" in html and "https://review.example/networks" in html
