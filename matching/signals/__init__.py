"""The matching signals: each a pure function of one listing and one brand that returns evidence.

- :mod:`matching.signals.text`: the brand's marks in the listing text (``mark``, ``weak_mark``), the
  brand's product words (``context``), another maker named by the listing (``other_maker``) and the mark
  read in a listing photo (``photo_text``);
- :mod:`matching.signals.wording`: replica, dupe, nominative (accessory) and resale wording;
- :mod:`matching.signals.image`: copies of the brand's official photos (``image``);
- :mod:`matching.signals.commerce`: the seller (``seller``, ``authorized_seller``) and the price (``price``).

Every function takes a :class:`~matching.signals.base.ListingView` (the listing analysed once) and a
:class:`~matching.signals.base.BrandView` (the brand as indexed) plus what it needs from other signals,
keyword-only, and returns :class:`~matching.evidence.Evidence` records or None.
"""

from matching.signals.base import BrandView, ListingView, view_of

__all__ = ["BrandView", "ListingView", "view_of"]
