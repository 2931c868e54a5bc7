"""Services: the product's use cases (scan, recheck, review, registry, export, digests, takedowns).

A service may use storage, the crawlers and matching; flows, the CLI and the web app call services.
See ``docs/architecture.md``.
"""
