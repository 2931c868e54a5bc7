"""Image recipes for listings, and the renderer that turns a recipe into file bytes.

A recipe is plain, picklable data (where the pixels come from, which edits, which encoding, and a seed), so
that the listing plan is decided first with the world's random generator and the pixels are rendered after,
in any order or in worker processes, with the same bytes every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from data.demo import photo_edits
from data.demo.packshots import Fonts, Look, draw_packshot

EDIT_ORDER = ("background", "colour_shift", "crop", "mirror", "rotate", "pad", "overlay")


@dataclass(frozen=True)
class Packshot:
    """A packshot drawn from scratch (see :func:`data.demo.packshots.draw_packshot`)."""

    look: Look
    mark: str
    line: str
    size: int = 720
    scene: str = "white"
    variant: int = 0
    scale: float = 1.0
    offset: float = 0.0
    backdrop: str | None = None
    """Name of a scikit-image sample photo behind the product (``scene="backdrop"``)."""
    supersample: int = 1


@dataclass(frozen=True)
class Official:
    """An official photo as published, by its path relative to the world folder."""

    path: str


@dataclass(frozen=True)
class RealPhoto:
    """A scikit-image sample photo, cropped to the window (fractions x0, y0, x1, y1) and scaled."""

    name: str
    window: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    long_side: int = 640


@dataclass(frozen=True)
class Collage:
    """2-4 sources tiled together (the listed product first or not)."""

    parts: tuple[Packshot | Official | RealPhoto, ...]


Source = Packshot | Official | RealPhoto | Collage


@dataclass(frozen=True)
class ImageRecipe:
    source: Source
    edits: tuple[str, ...] = ()
    """Subset of ``EDIT_ORDER``, applied in that order."""
    fmt: str = "jpg"
    """``jpg``, ``png`` or ``webp``."""
    quality: int = 85
    long_side: int | None = None
    """Rescale so the long side is this many px; ``None`` keeps the size."""
    seed: int = 0
    copy: bool = False
    """Publish the official file's bytes unchanged (``source`` must be :class:`Official`)."""


class Renderer:
    """Renders recipes for one world folder; keeps decoded official and sample photos while it lives."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fonts = Fonts()
        self._official: dict[str, Image.Image] = {}
        self._real: dict[str, Image.Image] = {}

    def real(self, name: str) -> Image.Image:
        if name not in self._real:
            self._real[name] = photo_edits.load_real_photo(name)
        return self._real[name]

    def official(self, path: str) -> Image.Image:
        if path not in self._official:
            with Image.open(self.root / path) as im:
                self._official[path] = im.convert("RGB")
        return self._official[path]

    def pixels(self, source: Source, rng: random.Random) -> Image.Image:
        if isinstance(source, Official):
            return self.official(source.path)
        if isinstance(source, Packshot):
            backdrop = self.real(source.backdrop) if source.backdrop else None
            return draw_packshot(look=source.look, mark=source.mark, line=source.line, size=source.size,
                                 fonts=self.fonts, scene=source.scene, variant=source.variant, scale=source.scale,
                                 offset=source.offset, backdrop=backdrop, supersample=source.supersample)
        if isinstance(source, RealPhoto):
            photo = self.real(source.name)
            w, h = photo.size
            x0, y0, x1, y1 = source.window
            return photo_edits.resize_long_side(photo.crop((int(x0 * w), int(y0 * h), int(x1 * w), int(y1 * h))),
                                                source.long_side)
        if isinstance(source, Collage):
            return photo_edits.collage([self.pixels(p, rng) for p in source.parts], rng,
                                       size=rng.choice((720, 800, 900)))
        raise TypeError(f"unknown image source {source!r}")

    def render(self, recipe: ImageRecipe) -> bytes:
        """The bytes of the image file the recipe describes."""
        if recipe.copy:
            if not isinstance(recipe.source, Official):
                raise ValueError("only an official photo can be copied unchanged")
            return (self.root / recipe.source.path).read_bytes()
        rng = random.Random(recipe.seed)
        image = self.pixels(recipe.source, rng)
        for name in EDIT_ORDER:
            if name not in recipe.edits:
                continue
            if name == "overlay":
                image = photo_edits.overlay(image, rng, fonts=self.fonts)
            elif name == "background":
                image = photo_edits.replace_background(image, rng)
            else:
                image = getattr(photo_edits, name)(image, rng)
        if recipe.long_side:
            image = photo_edits.resize_long_side(image, recipe.long_side)
        return photo_edits.encode(image, fmt=recipe.fmt, quality=recipe.quality)
