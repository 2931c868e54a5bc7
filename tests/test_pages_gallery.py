"""A listing's photos are its own: the gallery rules of :mod:`crawlers.pages.gallery` one at a time."""

from __future__ import annotations

import lxml.html
import pytest

from crawlers.pages import ProductPage
from crawlers.pages.gallery import gallery_images
from crawlers.pages.heuristics import find_title_element

URL = "https://shop.example.org/p/lamp-7?colour=red"


def images(body: str, url: str = URL) -> list[str]:
    tree = lxml.html.fromstring(f"<html><body>{body}</body></html>")
    return gallery_images(tree, url=url, title=find_title_element(tree))


def test_zoom_links_and_links_to_the_page_itself_are_the_gallery() -> None:
    body = """<div class="p"><a href="/big/lamp-1.jpg"><img src="/lamp-1.jpg"></a>
    <a href="#photo-2"><img src="/lamp-2.jpg"></a><a href="/p/lamp-7?colour=red#zoom"><img src="/lamp-3.jpg"></a>
    <h1>Lamp 7</h1></div>"""
    assert images(body) == ["/lamp-1.jpg", "/lamp-2.jpg", "/lamp-3.jpg"]


@pytest.mark.parametrize(
    "card",
    [
        '<a href="/p/lamp-8"><img src="/lamp-8.jpg"></a>',  # another path
        '<a href="/p/lamp-7?colour=blue"><img src="/lamp-8.jpg"></a>',  # same path, another query
        '<a href="https://other.example.org/x"><img src="/lamp-8.jpg"></a>',  # another site
        '<div aria-label="Sponsored"><img src="/lamp-8.jpg"></div>',
        '<div id="recently-viewed"><img src="/lamp-8.jpg"></div>',
        '<div class="customers-who-bought"><img src="/lamp-8.jpg"></div>',
        '<aside><img src="/lamp-8.jpg"></aside>',
        '<div class="brand-logo"><img src="/lamp-8.jpg"></div>',
        '<img src="/lamp-8.jpg" height="20">',
        '<img src="/uploads/banners/lamp-8.jpg">',
        '<img src="/lamp-8.jpg" style="display:none">',
        '<div itemprop="isRelatedTo" itemscope itemtype="https://schema.org/Product"><img src="/lamp-8.jpg"></div>',
    ],
)
def test_images_that_are_not_the_product_are_left_out(card: str) -> None:
    body = f'<div class="p"><div class="gallery"><img src="/lamp-7.jpg"></div><h1>Lamp 7</h1>{card}</div>'
    assert images(body) == ["/lamp-7.jpg"]


def test_gallery_marked_images_win_over_nearer_decoration() -> None:
    body = """<div class="page"><div class="gallery"><img src="/lamp-7.jpg"></div>
    <div class="info"><h1>Lamp 7</h1><img src="/guarantee.jpg"></div></div>"""
    assert images(body) == ["/lamp-7.jpg"]


def test_without_gallery_marks_the_nearest_images_are_taken() -> None:
    body = '<div><img src="/lamp-7.jpg"><h1>Lamp 7</h1></div><div><img src="/far.jpg"></div>'
    assert images(body) == ["/lamp-7.jpg"]


def test_a_page_whose_only_images_are_other_products_has_no_photos() -> None:
    body = '<h1>Lamp 7</h1><span>19,99 €</span><a href="/p/lamp-8"><img src="/lamp-8.jpg"></a>'
    item = ProductPage(URL, f"<html><body>{body}<p>SKU: LMP-7</p></body></html>").to_item()
    assert item is not None and item.image_urls == []


def test_structured_images_replace_the_html_and_opengraph_ones() -> None:
    html = """<html><head><meta property="og:image" content="https://shop.example.org/share.jpg">
    <script type="application/ld+json">{"@type":"Product","name":"Lamp 7","image":"/lamp-7.jpg",
    "offers":{"price":"19.99","priceCurrency":"EUR"}}</script></head>
    <body><div class="gallery"><img src="/other-angle.jpg"></div><h1>Lamp 7</h1></body></html>"""
    item = ProductPage(URL, html).to_item()
    assert item is not None and item.image_urls == ["https://shop.example.org/lamp-7.jpg"]


def test_without_structured_images_opengraph_comes_first_then_the_gallery() -> None:
    html = """<html><head><meta property="og:type" content="product">
    <meta property="og:image" content="https://shop.example.org/share.jpg"></head>
    <body><div class="gallery"><img src="/lamp-7.jpg"></div><h1>Lamp 7</h1><b>19,99 €</b></body></html>"""
    item = ProductPage(URL, html).to_item()
    assert item is not None
    assert item.image_urls == ["https://shop.example.org/share.jpg", "https://shop.example.org/lamp-7.jpg"]
