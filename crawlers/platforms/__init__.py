"""Adapters for the public JSON that shop platforms expose: pure functions from the documented response
shapes to :class:`crawlers.items.Listing` items (no Scrapy; the platform spiders do the paging)."""
