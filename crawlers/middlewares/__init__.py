"""Scrapy middlewares, one small module per component (settings read in ``from_crawler``, pure logic in a
method, what they do counted in namespaced stats)."""
