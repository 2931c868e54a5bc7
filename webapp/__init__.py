"""The review app (see docs/review.md)."""
