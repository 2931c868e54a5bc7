"""The official photos a registry names: read from the registry's folder or fetched from http(s) URLs.

Every image is read or fetched once per file, checked by the image store (header, byte and pixel
limits) and kept with its bytes for the import, which writes and signs it.  Local paths stay inside the
registry's folder unless allowed; URLs are fetched through the one network policy
(:func:`core.netpolicy.fetch_bytes`, see :func:`policy_fetcher`), each within its own deadline and all
of a file's within the import's download budget.  Every problem is reported with its place
(``brands[0].products[1].images[2]: ...``) in the same run as the specification's problems.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import LookalikeError
from core.netpolicy import fetch_bytes
from core.settings import Settings
from storage.imagestore import ImageRejected, ImageStore, StoredImage

IMAGE_FETCH_SECONDS = 60.0
"""Default seconds one URL image may take in total (connect, redirects, body)."""
IMPORT_FETCH_BUDGET = 600.0
"""Default seconds all URL images of one registry file may take together."""

ImageFetcher = Callable[..., tuple[bytes, str | None]]
"""``fetch(url, deadline=monotonic_seconds_or_None) -> (body, content type)``; raises ``LookalikeError``."""
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
#: An image as the import needs it: checked by the store, with its bytes to write once imported.
LoadedImage = tuple[StoredImage, bytes]


def policy_fetcher(settings: Settings, *, seconds: float = IMAGE_FETCH_SECONDS) -> ImageFetcher:
    """The fetcher of ``lookalike brands import``: the network policy with the settings' limits (image
    size, user agent, private networks, connect timeout), ``seconds`` per image, redirects included."""

    def fetch(url: str, *, deadline: float | None = None) -> tuple[bytes, str | None]:
        return fetch_bytes(url, max_bytes=settings.max_image_bytes, user_agent=settings.rendered_user_agent,
                           allow_private=settings.allow_private_network, timeout=settings.download_timeout,
                           total_timeout=seconds, deadline=deadline)

    return fetch


def image_refs(raw: Any) -> list[tuple[str, str]]:
    """(place, reference) of every image named in a parsed registry file whose value is text, in file order."""
    refs = []
    for b, brand in _items(raw.get("brands") if isinstance(raw, dict) else None):
        for p, product in _items(brand.get("products")):
            images = product.get("images")
            for i, ref in enumerate(images if isinstance(images, list) else []):
                if isinstance(ref, str) and ref.strip():
                    refs.append((f"brands[{b}].products[{p}].images[{i}]", ref.strip()))
    return refs


def read_local_image(ref: str, base: Path, store: ImageStore, *, allow_outside: bool) -> bytes:
    """The bytes of a local image path; confined to ``base`` unless ``allow_outside``.

    The "outside" refusal is decided from the path text alone (after resolving ``..`` and symlinks of the
    folders that exist), before the file is looked at, so it never tells whether a file exists there."""
    root = base.resolve()
    candidate = Path(ref)
    if not allow_outside:
        if candidate.is_absolute() or ".." in candidate.parts:
            raise LookalikeError("is outside the registry folder (allow_outside_images allows it)")
        try:
            resolved = (root / candidate).resolve()
        except (OSError, RuntimeError):
            raise LookalikeError("is outside the registry folder (allow_outside_images allows it)") from None
        if not resolved.is_relative_to(root):
            raise LookalikeError("is outside the registry folder (allow_outside_images allows it)")
    else:
        resolved = (root / candidate).resolve()
    if not resolved.is_file():
        raise LookalikeError("file not found in the registry folder" if not allow_outside else "file not found")
    if resolved.stat().st_size > store.max_bytes:
        raise LookalikeError(f"larger than {store.max_bytes} bytes")
    return resolved.read_bytes()


def load_images(  # noqa: PLR0913 - the limits are keywords
    refs: list[tuple[str, str]], base: Path, store: ImageStore, fetch: ImageFetcher | None, *,
    allow_outside: bool = False, fetch_budget: float | None = None,
) -> tuple[dict[str, LoadedImage], list[str]]:
    """Read or fetch each distinct reference once: ({reference: (stored image, bytes)}, problems).

    ``fetch`` None: URL images are a problem (no network here); ``fetch_budget``: seconds for all URL
    images together (None: no overall budget), a URL not started when it is spent is not fetched."""
    images: dict[str, LoadedImage] = {}
    failed: set[str] = set()
    problems: list[str] = []
    deadline = time.monotonic() + fetch_budget if fetch_budget is not None else None
    for where, ref in refs:
        if ref in images or ref in failed:
            continue
        shown = repr(ref[:200])
        try:
            if _URL.match(ref):
                if not ref.lower().startswith(("http://", "https://")):
                    raise LookalikeError("only http(s) URLs or file paths are allowed")
                if fetch is None:
                    raise LookalikeError("URL images need network access, which is off here")
                if deadline is not None and time.monotonic() >= deadline:
                    raise LookalikeError(f"not fetched: the import's download budget of {fetch_budget:g} s is spent")
                data, content_type = fetch(ref, deadline=deadline)
            else:
                data, content_type = read_local_image(ref, base, store, allow_outside=allow_outside), None
            stored = store.check(data, content_type=content_type)
        except ImageRejected as exc:
            problems.append(f"{where}: {shown} is not a usable image: {exc}")
            failed.add(ref)
            continue
        except LookalikeError as exc:
            problems.append(f"{where}: {shown}: {str(exc)[:300]}")
            failed.add(ref)
            continue
        images[ref] = (stored, data)
    return images, problems


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []
