"""Item pipelines: validate (drop with a reason), download images, store.  Each counts what it does in
``lookalike/...`` stats, so a crawl that stored nothing is visibly a failure."""
