"""The demo world: a seeded, deterministic, hostile set of brands, official photos and labelled listings.

``python -m data.demo.generate --out DIR [--seed N] [--brands B]`` (or :func:`data.demo.generate.generate_world`)
writes:

- ``registry.yaml``: 12 (``--brands``, at least 4) fictional small brands over ten industries (cosmetics, apparel, toys, smart devices,
  home fragrance, car care, coffee, pet, outdoor, kitchen), each with 2-4 products, MSRP in USD/EUR/GBP,
  1-3 official photos per product, aliases, authorized sellers, owner, ``digest_to``, category, keywords.
  Marks change with the seed: coined from syllables (``catalogue.coined_mark``), one short four-letter mark,
  two ordinary English words of their category (a home-fragrance brand "Meadow"), chosen from
  ``vocab.CATEGORIES[...].ordinary_words``, and two ``embedded`` marks cut out of ordinary words of several
  languages (``vocab.HOST_WORDS``: "Norama" out of "panorama").
- ``refs/<brand-slug>/<sku-lower>-<a|b|c>.jpg``: official packshots drawn with Pillow (``packshots``), many on
  the same white template; coffee and pet brands get one photo over a scikit-image sample photograph.
- ``listing-images/<listing-id>-<n>.<jpg|png|webp>`` and ``listings.jsonl``: about 750-1,100 labelled
  listings (12 brands) over three shops (one per markup: ``json-ld``, ``microdata``, ``opengraph``), planned by
  ``listings.Planner`` and rendered from picklable recipes by ``images.Renderer``.
- ``world.json``: seed, its role (``tuning``, ``held-out`` or ``other``, see
  ``generate.TUNING_SEEDS``/``HELD_OUT_SEEDS``), brand names and mark styles, holdout brands, shops and
  counts per class, kind, split and shop.

Classes: ``genuine``, ``counterfeit``, ``lookalike`` (infringing with counterfeit), ``accessory``
(compatible part, refill or case: not infringing by itself), ``resale`` (genuine, second-hand or
grey-market: not infringing) and ``clean``.  Label conventions: ``label.brand``/``label.sku`` name the
brand and product a non-clean listing is about; they are ``null`` for every ``clean`` listing (hard
negatives included).  ``label.kinds`` holds every disguise applied, e.g. ``["leetspeak", "crop",
"seller_impersonation", "cheap_price"]``; ``cheap_price`` means 15-70% of MSRP after currency conversion.
Listing text is hostile on purpose (HTML and ``<script>``, emoji, zero-width and bidi characters, odd
whitespace, descriptions of tens of kilobytes).

Splits: two brands are held out whole (one ordinary-word brand and one coined brand, drawn from the seed
and listed in ``world.json["holdout_brands"]``): every listing about them, including the hard negatives
built from their marks, is ``holdout``.  Every other listing is ``holdout`` with probability 0.12 and
``dev`` otherwise, so the holdout is about a quarter of the world and every kind occurs in both splits.
"""
