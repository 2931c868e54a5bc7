"""Seller links (matching/networks): contacts, name variants, own photos, near-duplicate descriptions,
rarity weighting, the merge rule and stable network ids."""

from __future__ import annotations

import random

import pytest

from matching.networks.config import NetworkConfig
from matching.networks.contacts import find_contacts
from matching.networks.groups import assign_ids, strong_groups
from matching.networks.links import ListingFacts, SellerFacts, find_links, name_key, rarity, seller_evidence

# The same number written the way sellers of several countries write it.
PHONE_FORMATS = [
    ("+44 20 7946 0958", None, "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("0044 (0)20-7946-0958", "DE", "+442079460958"),
    ("+44(0)2079460958", None, "+442079460958"),
    ("(212) 555-0147", "US", "+12125550147"),
    ("+1 212.555.0147", None, "+12125550147"),
    ("1-212-555-0147", "US", "+12125550147"),
    ("030 12345678", "DE", "+493012345678"),
    ("+49 (0)30 1234 5678", None, "+493012345678"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 6 12 34 56 78", None, "+33612345678"),
    ("+86 138 0013 8000", None, "+8613800138000"),
    ("138-0013-8000", "CN", "+8613800138000"),
    ("+91 98765 43210", None, "+919876543210"),
    ("098765 43210", "IN", "+919876543210"),
    ("+55 11 91234-5678", None, "+5511912345678"),
    ("+34 612 34 56 78", None, "+34612345678"),
    ("wa.me/442079460958", None, "+442079460958"),
]


@pytest.mark.parametrize(("written", "region", "e164"), PHONE_FORMATS)
def test_phone_numbers_in_many_national_formats_are_one_number(written, region, e164):
    phones = [c.value for c in find_contacts(f"Order now, call {written} today", region=region) if c.kind == "phone"]
    assert phones == [e164]


def test_contacts_are_normalised():
    text = ("Mail Sales [at] Marlow-Finch [dot] com or visit https://www.marlowfinch-outlet.shop/sale. "
            "WeChat: MF_store88, telegram @mfdeals, line id: mfline, t.me/mfdeals2. photo.jpg 50ml 2 pcs")
    found = {(c.kind, c.value) for c in find_contacts(text, ignore_domains=["bazaarly.example"])}
    assert ("email", "sales@marlow-finch.com") in found
    assert ("domain", "marlowfinch-outlet.shop") in found
    assert ("handle", "wechat:mf_store88") in found
    assert ("handle", "telegram:mfdeals") in found
    assert ("handle", "telegram:mfdeals2") in found
    assert ("handle", "line:mfline") in found
    assert not any(k == "domain" and v.endswith("marlow-finch.com") for k, v in found)  # the e-mail's domain
    assert not any(k == "phone" for k, _ in found)


def test_hostile_text_is_bounded():
    text = "call +44 20 7946 0958 " * 50_000
    assert len(find_contacts(text)) == 1
    assert find_contacts(None) == [] and find_contacts("") == []


def test_name_variants_share_one_key():
    assert name_key("Marl0w & Finch") == name_key("Marlow Finch Store") == name_key("MARLOW-FINCH official")
    assert name_key("Best Store") is None or name_key("Best Store") != name_key("Marlow Finch")
    assert name_key("Shop") is None


def _seller(key, *, name=None, text="", photos=(), region=None, marketplace="bazaarly"):
    listing = ListingFacts(key=f"{key}-1", title=f"Listing of {key}", description=text, photos=tuple(photos),
                           region=region)
    return SellerFacts(key=key, marketplace=marketplace, name=name or f"seller {key}", listings=(listing,))


def _links(sellers, **kw):
    config = NetworkConfig()
    return find_links([seller_evidence(s, config) for s in sellers], config=config, **kw)


def _crowd(n, rng, **extra):
    """n unrelated sellers with their own random photos and words."""
    out = []
    for i in range(n):
        words = " ".join(rng.choice(["red", "blue", "soft", "warm", "lamp", "mug", "cup", "desk", "wool", "oak",
                                     "fast", "ship", "new", "best", "gift", "box"]) for _ in range(30))
        out.append(_seller(f"crowd{i}", name=f"Crowd{i:03d} Goods Ltd {rng.randint(0, 999)}", text=words + ".",
                           photos=[rng.getrandbits(64)], **extra))
    return out


def test_same_phone_in_two_formats_links_two_sellers_strongly():
    rng = random.Random(1)
    a = _seller("a", text="Questions? WhatsApp +44 20 7946 0958.")
    b = _seller("b", text="Call 020 7946 0958 for wholesale.", region="GB")
    links = _links([a, b, *_crowd(40, rng)])
    pair = [link for link in links if {link.a, link.b} == {"a", "b"}]
    assert len(pair) == 1 and pair[0].strong
    assert pair[0].evidence[0].kind == "phone" and "+442079460958" in pair[0].reason()


def test_own_photo_links_but_official_photo_never_does():
    rng = random.Random(2)
    own, official = rng.getrandbits(64), rng.getrandbits(64)
    near_own = own ^ 0b101  # re-encoded: two bits differ
    a = _seller("a", photos=[own, official])
    b = _seller("b", photos=[near_own, official ^ 1])
    c = _seller("c", photos=[official ^ 2])
    links = _links([a, b, c, *_crowd(30, rng)], official_photos=[official])
    assert [(link.a, link.b) for link in links] == [("a", "b")]
    assert [e.kind for e in links[0].evidence] == ["photo"]
    assert _links([c, _seller("d", photos=[official])], official_photos=[official]) == []


def test_near_duplicate_descriptions_link_after_boilerplate_is_removed():
    rng = random.Random(3)
    base = ("Premium quality replica of the famous pump bottle with velvet matte finish and golden cap. "
            "Each piece is checked by hand in our own workshop before packing. "
            "We ship from our warehouse within two days and answer every message quickly.")
    edited = base.replace("two days", "48 hours").replace("velvet", "soft")
    boiler = "All items ship with tracking and buyer protection is included on every order."
    crowd = _crowd(30, rng)
    crowd = [SellerFacts(key=s.key, marketplace=s.marketplace, name=s.name,
                         listings=(ListingFacts(key=s.key + "-1", description=s.listings[0].description + " " + boiler),))
             for s in crowd]
    links = _links([_seller("a", text=base + " " + boiler), _seller("b", text=edited), *crowd])
    assert [(link.a, link.b) for link in links] == [("a", "b")]
    assert links[0].evidence[0].kind == "text"


@pytest.mark.parametrize("trap", ["stock photo", "boilerplate", "shipping agent"])
def test_each_trap_alone_links_nobody(trap):
    rng = random.Random(4)
    stock = rng.getrandbits(64)
    boiler = ("Shipping by our partner agent takes seven to twelve working days to most countries and "
              "customs duties are paid by the buyer on arrival.")
    crowd = []
    for s in _crowd(60, rng):
        listing = s.listings[0]
        if len(crowd) % 3 == 0:  # a third of everybody shares the trap
            if trap == "stock photo":
                listing = ListingFacts(key=listing.key, description=listing.description, photos=(*listing.photos, stock))
            elif trap == "boilerplate":
                listing = ListingFacts(key=listing.key, description=boiler + " " + listing.description)
            else:
                listing = ListingFacts(key=listing.key, description=listing.description
                                       + " Forwarding agent: +44 20 7946 0958.")
        crowd.append(SellerFacts(key=s.key, marketplace=s.marketplace, name=s.name, listings=(listing,)))
    links = _links(crowd)
    assert [link for link in links if link.strong] == []
    assert strong_groups([s.key for s in crowd], links) == []


def test_rarity_is_idf_like():
    config = NetworkConfig()
    assert rarity(2, 1000, config) == rarity(config.free_sharing, 1000, config) == 1.0
    assert 0 < rarity(10, 1000, config) < rarity(6, 1000, config) < 1.0
    assert rarity(config.max_sharing + 1, 1000, config) == 0.0
    assert rarity(5, 80, config) == 0.0  # more than 5% of 80 sellers


def test_a_weak_link_alone_never_merges_two_networks():
    rng = random.Random(5)
    # network 1: a-b share a phone; network 2: c-d share an e-mail; b and c share only a name variant (weak).
    a = _seller("a", name="Velvora Trading", text="call +44 20 7946 0958")
    b = _seller("b", name="Marl0w & Finch", text="phone 020 7946 0958", region="GB")
    c = _seller("c", name="Marlow Finch Store", text="mail deals@quillon.example.com")
    d = _seller("d", name="Quillon Goods", text="write to deals@quillon.example.com")
    sellers = [a, b, c, d, *_crowd(40, rng)]
    links = _links(sellers)
    weak = [link for link in links if {link.a, link.b} == {"b", "c"}]
    assert len(weak) == 1 and not weak[0].strong and weak[0].evidence[0].kind == "name"
    groups = strong_groups([s.key for s in sellers], links)
    assert sorted(sorted(g) for g in groups) == [["a", "b"], ["c", "d"]]


def test_network_ids_stay_stable_while_a_network_grows_merges_and_splits():
    first = assign_ids([frozenset("ab"), frozenset("cd")], {}, next_id=1)
    assert first == {1: frozenset("ab"), 2: frozenset("cd")}
    previous = {s: nid for nid, group in first.items() for s in group}
    grown = assign_ids([frozenset("abe"), frozenset("cd"), frozenset("xy")], previous, next_id=3)
    assert grown == {1: frozenset("abe"), 2: frozenset("cd"), 3: frozenset("xy")}
    previous = {s: nid for nid, group in grown.items() for s in group}
    merged = assign_ids([frozenset("abecd"), frozenset("xy")], previous, next_id=4)
    assert merged == {1: frozenset("abecd"), 3: frozenset("xy")}
    previous = {s: nid for nid, group in merged.items() for s in group}
    split = assign_ids([frozenset("abe"), frozenset("cd")], previous, next_id=4)
    assert split == {1: frozenset("abe"), 4: frozenset("cd")}
