"""The second demo world: an independent, held-out yardstick for matching.

Written apart from the first world (:mod:`data.demo`), without reading its edit list, drawing code or word
lists: other trades (kitchenware, tools, supplements, stationery, pet goods, bike care), other marks, its own
pack drawing (:mod:`~data.world2.draw`: tins, jars, bottles, pouches, boxes, blister cards, tubes; fonts of
matplotlib's wheel, Pillow's own and OpenCV's Hershey stroke fonts), real photographs as surfaces and
printed pictures (:mod:`~data.world2.assets`: scikit-image's and matplotlib's sample photos, the training shelf
photos of ``../shared/grocery/train`` as backdrops), its own edits (:mod:`~data.world2.scenes`) and its own
name disguises and wording (:mod:`~data.world2.wording`).

``python -m data.world2.generate --out DIR --seed N`` (or ``lookalike eval --generator world2 --seeds N``)
writes the demo world contract, so ``lookalike eval`` scores it and ``lookalike marketplace serve --world DIR``
serves it as three shops (microdata, OpenGraph, JSON-LD):

- ``registry.yaml``: 10 brands (``--brands``): six coined marks and four that are not coined (a compound of
  two ordinary words, a dictionary word, a two-word phrase), 2-3 products each with MSRP in USD, EUR or GBP,
  2-3 official photos per product (a studio packshot, the pack on a real surface, a pair with a sibling);
- ``refs/<brand>/<sku>-<a|b|c>.jpg``, ``listing-images/<id>-<n>.<jpg|png|webp>``, ``listings.jsonl`` (about
  550 listings), ``world.json`` (seed, role, marks and their styles, holdout brands, shops, counts).

Labels are those of the first world (``infringing``, ``brand``, ``sku``, ``class``, ``kinds``, ``split``) with
the kinds of :data:`matching.evaluate.DISGUISE_KINDS` and :data:`~matching.evaluate.NEGATIVE_KINDS`.  Positives:
counterfeits under an exact or disguised name (homoglyph, spaced, leetspeak, transposition, truncation,
added words, misspelt, zero-width; sometimes only in the description), with replica wording, impersonating
sellers and prices far below MSRP; official photos edited (pad, crop, mirror, rotate, perspective,
collage, background, overlay, colour_shift, reencoded, screenshot) under a generic title (``image_only``);
the mark only in the photo, printed on the counterfeiter's own pack (``photo_mark``) or on a new photo of a
pack in the brand's design (``pack_photo``), at full size or 420-480 px (``small_photo``); dupes; a coined
mark word for word on other goods (``other_goods``).  Clean: genuine offers (also on sale), resales,
accessories, other makers of the trade, another maker's pack in the official photo's scene
(``same_style_photo``) or in the brand's template (``shared_template``), ordinary phrases that contain or
spell a mark (``ordinary_word``, ``dictionary_collision``, ``generic_phrase``, ``split_compound``,
``phrase_other_goods``) and unrelated goods.

Seeds: :data:`~data.world2.generate.TUNING_SEEDS` (2001-2003) may be looked at;
:data:`~data.world2.generate.HELD_OUT_SEEDS` (2101, 2202, 2303, 2404, 2505, 2606) are for measuring only.
The non-coined marks of the two are drawn from disjoint pools, so a word list fitted to a tuning world does
not know a held-out world's marks.  Within a world, two brands (one coined, one not) and 12% of the other
listings are in the ``holdout`` split, as in the first world.
"""
