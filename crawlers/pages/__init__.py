"""Page objects: parse a fetched product page (URL + HTML, no Scrapy) into a :class:`crawlers.items.Listing`.

- :class:`ProductPage`: generic; schema.org JSON-LD, microdata, RDFa, OpenGraph, then HTML fallbacks.
- :class:`SelectorPage`: configured by data (CSS/XPath per field) for a marketplace profile.
"""

from crawlers.pages.product import ProductPage
from crawlers.pages.selector import SelectorPage, SelectorProfileError

__all__ = ["ProductPage", "SelectorPage", "SelectorProfileError"]
