"""A registry file to a validated :class:`Registry`: read the YAML, check it against the specification,
load its images, and report every problem of the file at once (:class:`RegistryInvalid`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import LookalikeError
from core.yamlfile import YAMLProblem, load_yaml
from services.registry.images import ImageFetcher, LoadedImage, image_refs, load_images
from services.registry.specification import BrandSpec, OwnerSpec, RegistryInvalid, check_registry
from storage.imagestore import ImageStore, StoredImage

MAX_REGISTRY_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Registry:
    """A validated registry with its images loaded, checked (header, limits) and ready to store."""

    path: Path
    brands: list[BrandSpec]
    owners: list[OwnerSpec] = field(default_factory=list)
    #: image reference as written in the file (path or URL) -> (stored image, its bytes); signed on import
    images: dict[str, LoadedImage] = field(default_factory=dict)

    def image(self, ref: str) -> StoredImage:
        return self.images[ref][0]


def read_registry_file(path: Path) -> Any:
    """The parsed YAML of a registry file; ``RegistryInvalid`` with one line when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise LookalikeError(f"{path}: no such file")
    if path.stat().st_size > MAX_REGISTRY_BYTES:
        raise RegistryInvalid(path, [f"(file): larger than {MAX_REGISTRY_BYTES} bytes"])
    try:
        return load_yaml(path.read_bytes(), max_bytes=MAX_REGISTRY_BYTES)
    except YAMLProblem as exc:
        problem = exc.problem if exc.problem.startswith(("not UTF-8", "larger")) else f"bad YAML: {exc.problem}"
        raise RegistryInvalid(path, [f"{exc.where}: {problem}"]) from None


def load_registry(  # noqa: PLR0913 - the limits are keywords
    path: Path, *, store: ImageStore, fetch: ImageFetcher | None = None, allow_outside_images: bool = False,
    fetch_budget: float | None = None,
) -> Registry:
    """Read, validate and hash a registry file; raise ``RegistryInvalid`` listing every problem at once.

    Schema problems, duplicate brands and SKUs and image problems are all reported in one run.  Local
    image paths must stay inside the registry's folder unless ``allow_outside_images``; URL images are
    fetched with ``fetch`` (:func:`services.registry.images.policy_fetcher`) within ``fetch_budget`` seconds
    for the whole file (None: no overall budget).
    """
    path = Path(path)
    raw = read_registry_file(path)
    spec, problems = check_registry(raw)
    if not isinstance(raw, dict):
        raise RegistryInvalid(path, problems)
    images, image_problems = load_images(image_refs(raw), path.parent, store, fetch,
                                         allow_outside=allow_outside_images, fetch_budget=fetch_budget)
    problems += image_problems
    if problems or spec is None:
        raise RegistryInvalid(path, list(dict.fromkeys(problems)))
    return Registry(path=path, brands=spec.brands, owners=spec.owners, images=images)
