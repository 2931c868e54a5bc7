"""The photos of the product a page sells, read from its HTML (used when no structured data names them).

A product page shows many images that are not the product: cards of other products (related, "you may
also like", recently viewed, sponsored slots, carousels of other listings), banners, logos, badges,
payment and flag icons.  Storing those as the listing's photos makes every listing look like its
neighbours, so this module keeps only:

1. ``<link rel=image_src>`` and ``itemprop=image`` values that belong to the page's product (not inside
   another product's ``itemscope`` and not inside a card, see below);
2. the main gallery: the images of the smallest ancestor of the page's title (its first ``<h1>``) that
   holds a candidate marked as a gallery photo (a zoom attribute, or a gallery/image/photo/media/slider
   class nearby), else that holds any candidate; without a title, images inside a
   product/gallery-classed container.

An ``<img>`` is never a candidate when it is

- inside a *card*: an ``<a href>`` that leads to another page, another path or query (a link to an
  image file or to a fragment of this page is a gallery zoom link, not a card);
- inside a region whose class, id or ``aria-label`` says related, recommended, similar, sponsored,
  recently viewed, up-/cross-sell, "also bought/viewed/like", "you may like", advertising, banner or
  promotion, or inside ``header``, ``nav``, ``footer`` or ``aside``;
- a logo, icon, sprite, badge, flag, banner or tracking pixel by its URL or class or that of its two
  nearest ancestors, an SVG, served from an ``ads``/``banners``/``promo`` folder, or declared narrower
  or lower than 64 pixels or smaller than 100 x 100 pixels;
- hidden (``hidden``, ``display:none``, a hidden class).

URLs are returned as written (maybe relative), duplicates dropped, at most :data:`MAX_GALLERY`.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html

from crawlers.pages.htmltext import is_hidden

MAX_GALLERY = 12
MAX_SCANNED_IMAGES = 800

IMAGE_NOISE = re.compile(
    r"logo|icon|sprite|pixel|spacer|blank|placeholder|loading|badge|flag|avatar|banner|rating|stars?[_.-]|"
    r"payment|\.svg(\?|$)",
    re.I,
)
"""Words in an image's URL or class that mark it as decoration, not a product photo."""

FOREIGN_REGION = re.compile(
    r"related|recommend|similar|sponsor|recent|viewed|upsell|up-sell|cross-?sell|also[-_ ]?(bought|viewed|"
    r"like|purchased)|you[-_ ]?(may|might)|customers[-_ ]who|advert|(^|[\s_-])ads?($|[\s_-])|banner|promo|"
    r"bestseller|best-seller|trending|more[-_ ]from|other[-_ ]products|shelf|breadcrumb|review",
    re.I,
)
"""Words in a region's class, id or aria-label that mark its images as not the page's product."""

_FOREIGN_TAGS = frozenset({"header", "nav", "footer", "aside"})
_PRODUCT_CONTAINER = re.compile(r"product|gallery|main|zoom|hero|primary|media|photo|image", re.I)
_GALLERY_WORDS = re.compile(r"gallery|zoom|image|img|photo|picture|media|slider|carousel|thumb|swiper|pdp", re.I)
_ZOOM_ATTRS = ("data-zoom-image", "data-old-hires", "data-large", "data-large-image", "data-large_image", "data-zoom")
_IMAGE_ATTRS = (*_ZOOM_ATTRS[:5], "data-src", "src")
_ICON_HOLDER = re.compile(r"icon|logo|badge|sprite", re.I)
_AD_FOLDER = re.compile(r"/(ads?|adv[a-z_-]*|banners?|promos?|advert[a-z_-]*)/", re.I)
_IMAGE_FILE = re.compile(r"\.(jpe?g|png|webp|gif|avif|bmp|tiff?)(\?|$)", re.I)
_PRODUCT_TYPE = re.compile(r"schema\.org/(Product|ProductGroup|ProductModel|IndividualProduct)\b", re.I)


def image_source(img: lxml.html.HtmlElement) -> str | None:
    """The best URL an ``<img>`` declares: zoom/large attributes first, then ``src``, then ``srcset``."""
    for attr in _IMAGE_ATTRS:
        value = (img.get(attr) or "").strip()
        if value and not value.startswith("data:"):
            return value
    srcset = (img.get("srcset") or img.get("data-srcset") or "").strip()
    if srcset:
        return srcset.split(",")[0].split()[0]
    return None


def _declared_size(value: str | None) -> int | None:
    try:
        return int(float((value or "").strip().removesuffix("px")))
    except ValueError:
        return None


def is_tiny(img: lxml.html.HtmlElement) -> bool:
    """Declared (attribute) width or height under 64 px, or area under 100 x 100 px."""
    width, height = _declared_size(img.get("width")), _declared_size(img.get("height"))
    if any(side is not None and side < 64 for side in (width, height)):
        return True
    return width is not None and height is not None and width * height < 100 * 100


def is_gallery_image(img: lxml.html.HtmlElement) -> bool:
    """An image marked as a product photo: a zoom/large attribute, or a gallery-like class on it or on
    one of its six nearest ancestors."""
    if any(img.get(attr) for attr in _ZOOM_ATTRS):
        return True
    return any(
        _GALLERY_WORDS.search(f"{e.get('class') or ''} {e.get('id') or ''}")
        for e in [img, *(a for _, a in zip(range(6), img.iterancestors(), strict=False))]
    )


def _region_words(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.get(name) or "" for name in ("class", "id", "aria-label", "data-component-type"))


def _leads_elsewhere(href: str, page_url: str) -> bool:
    """True when a link goes to another page (a card), False for zoom links, in-page anchors and links
    to the page itself (path and query compared, fragment ignored)."""
    href = href.strip()
    if not href or href.startswith(("#", "javascript:")):
        return False
    try:
        target, page = urlsplit(urljoin(page_url, href)), urlsplit(page_url)
    except ValueError:
        return False
    if _IMAGE_FILE.search(target.path):
        return False
    return (target.path.rstrip("/"), target.query) != (page.path.rstrip("/"), page.query)


class ForeignRegions:
    """Which elements of a page belong to other products or to decoration (see the module docstring):
    ``region_is_foreign(element)``.  Verdicts are cached per element; one instance per page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.verdicts: dict[lxml.html.HtmlElement, bool] = {}

    def leads_elsewhere(self, href: str) -> bool:
        """A link to another page (not an image file, an in-page anchor or this page)."""
        return _leads_elsewhere(href, self.url)

    def region_is_foreign(self, element: lxml.html.HtmlElement) -> bool:
        """The element lies in a card, a foreign region or another product's item scope (cached)."""
        chain = []
        node: lxml.html.HtmlElement | None = element
        verdict = False
        while node is not None and node.tag not in ("body", "html"):
            if node in self.verdicts:
                verdict = self.verdicts[node]
                break
            chain.append(node)
            if self._foreign_here(node):
                verdict = True
                break
            node = node.getparent()
        for seen in chain:
            self.verdicts[seen] = verdict
        return verdict

    def _foreign_here(self, node: lxml.html.HtmlElement) -> bool:
        if not isinstance(node.tag, str):
            return False
        if node.tag in _FOREIGN_TAGS:
            return True
        if node.tag == "a" and self.leads_elsewhere(node.get("href") or ""):
            return True
        if FOREIGN_REGION.search(_region_words(node)):
            return True
        # A nested product item (a card marked up with microdata) inside the page: not the page's product.
        return bool(
            node.get("itemscope") is not None
            and _PRODUCT_TYPE.search(node.get("itemtype") or "")
            and node.get("itemprop") not in (None, "")
        )


class _Candidates(ForeignRegions):
    """Which images of a page may be the product's photos (see the module docstring)."""

    def __init__(self, tree: lxml.html.HtmlElement, url: str) -> None:
        super().__init__(url)

    def image_url(self, img: lxml.html.HtmlElement) -> str | None:
        """The image's URL when it may be a product photo, else None."""
        src = image_source(img)
        if not src or IMAGE_NOISE.search(src) or IMAGE_NOISE.search(img.get("class") or "") or _AD_FOLDER.search(src):
            return None
        if is_tiny(img):
            return None
        holders = [a for _, a in zip(range(2), img.iterancestors(), strict=False)]
        if any(_ICON_HOLDER.search(f"{a.get('class') or ''} {a.get('id') or ''}") for a in holders):
            return None
        if self.region_is_foreign(img) or is_hidden(img):
            return None
        return src


def gallery_images(tree: lxml.html.HtmlElement, *, url: str, title: lxml.html.HtmlElement | None) -> list[str]:
    """The product's own photos as written in the page's HTML, main one first (see the module docstring).

    ``title`` is the page's title element (:func:`crawlers.pages.heuristics.find_title_element`) or None.
    """
    candidates = _Candidates(tree, url)
    found: list[str] = [h.strip() for h in tree.xpath("//link[@rel='image_src']/@href") if isinstance(h, str)]
    for element in tree.xpath("//*[@itemprop='image']")[:50]:
        if candidates.region_is_foreign(element):
            continue
        if element.tag == "img":
            value = candidates.image_url(element)
        else:
            value = (element.get("content") or element.get("href") or "").strip() or None
        if value:
            found.append(value)
    images = [img for img in tree.xpath("//body//img")[:MAX_SCANNED_IMAGES]]
    usable = {img: src for img in images if (src := candidates.image_url(img))}
    found.extend(_near_title(usable, title) if title is not None else _in_product_container(usable))
    return list(dict.fromkeys(v for v in found if v))[:MAX_GALLERY]


def _near_title(usable: dict[lxml.html.HtmlElement, str], title: lxml.html.HtmlElement) -> list[str]:
    """Gallery-marked usable images of the smallest ancestor of ``title`` that holds any, in document
    order; without any gallery-marked image, the usable images of the smallest ancestor holding any."""
    marked = {img for img in usable if is_gallery_image(img)}
    fallback: list[str] = []
    for ancestor in title.iterancestors():
        inside = [img for img in usable if _is_within(img, ancestor)]
        chosen = [usable[img] for img in inside if img in marked]
        if chosen:
            return chosen
        if inside and not fallback:
            fallback = [usable[img] for img in inside]
        if ancestor.tag == "body":
            break
    return fallback


def _is_within(element: lxml.html.HtmlElement, ancestor: lxml.html.HtmlElement) -> bool:
    return any(a is ancestor for a in element.iterancestors())


def _in_product_container(usable: dict[lxml.html.HtmlElement, str]) -> list[str]:
    found = []
    for img, src in usable.items():
        words = " ".join(_region_words(a) for _, a in zip(range(4), img.iterancestors(), strict=False))
        if _PRODUCT_CONTAINER.search(words):
            found.append(src)
    return found
