"""The brand registry: a YAML file a brand owner writes by hand, validated whole, imported in one transaction.

Format (JSON Schema in ``data/registry.schema.json``; paths are relative to the YAML file, images may
also be http(s) URLs)::

    brands:
      - name: Fullips
        owner: Et Al Beauty
        digest_to: [owner@example.com]
        category: cosmetics              # optional
        keywords: [lip, plumper]         # optional: trade words, needed when the mark is an ordinary word
        aliases: [Full Lips]
        authorized_sellers: [Et Al Beauty Official Store]
        thresholds: {}                   # optional: per-brand overrides of matching.config.MatchConfig
        products:
          - name: Fullips Lip Plumper
            sku: FLP-001
            msrp: 24.00
            currency: USD
            images: [refs/fullips/flp-001-a.jpg]
    owners:                              # optional: digest preferences (docs/digests.md)
      - name: Et Al Beauty
        digest: {frequency: weekly, min_score: 0.6, classes: [counterfeit, lookalike], enabled: true}

Validation reports every problem with its place (``brands[2].products[0].msrp: must be a positive
number``) before anything is stored.  Import is a sync of each brand in the file: what the file says
is what the database holds for that brand afterwards (products, marks, sellers and images not in the
file are removed); brands absent from the file are left alone.  Re-importing the same file changes nothing.

One module per job (this package imports none of them, so loading one part never loads the others):

- :mod:`.specification`: the format and the one set of validation rules, for a whole file
  (:func:`~.specification.check_registry`) or one brand at a time with errors keyed by field path
  (:func:`~.specification.check_brand`, for a form); the JSON Schema.
- :mod:`.images`: reading official photos from the registry's folder or fetching them under the network
  policy (:func:`~.images.policy_fetcher`), within a per-image and a per-file time budget.
- :mod:`.load`: a registry file to a validated :class:`~.load.Registry` with its images
  (:func:`~.load.load_registry`).
- :mod:`.sync`: applying a validated registry to the database (:func:`~.sync.import_registry`): rows,
  reference-image signatures and the re-match queue, reported as typed :class:`~.changes.Change` records.
- :mod:`.changes`: those records and their wording; :mod:`services.rematch` filters them on ``kind``.
- (the registered brands as ``lookalike brands list`` shows them: :func:`services.queries.brand_rows`).
"""
