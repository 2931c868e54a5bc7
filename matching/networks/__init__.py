"""Seller networks: links between sellers with their evidence (:mod:`.links`), contacts in listing text
(:mod:`.contacts`), near-duplicate descriptions (:mod:`.textsim`), networks with stable ids (:mod:`.groups`),
relistings (:mod:`.relisting`) and the impact estimate (:mod:`.priority`); thresholds in :mod:`.config`.
Pure functions on plain data, like the rest of :mod:`matching`; ``docs/networks.md`` explains them."""
