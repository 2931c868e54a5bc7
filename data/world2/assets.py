"""What the second world draws with: fonts and real photographs shipped inside installed wheels.

Nothing is downloaded.  Fonts come from matplotlib's wheel (DejaVu, STIX, the Computer Modern set), Pillow's
built-in scalable font, and OpenCV's Hershey stroke fonts (drawn in :mod:`data.world2.draw`).  Photographs
come from the scikit-image wheel (``skimage/data``), matplotlib's ``sample_data`` and, when the shared
folder is there, the *training* photos of ``../shared/grocery/train`` (shop shelves, used only as
backdrops: never the ``val/`` photos).  Files are read by path, so neither package is imported.

Every loader is cached per process (the renderer runs in worker processes); the cache holds decoded
images keyed by name and is small (a few MB).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageFont, ImageOps

REPO_ROOT = Path(__file__).resolve().parents[2]
GROCERY_TRAIN = REPO_ROOT.parent / "shared" / "grocery" / "train"

SKIMAGE_PHOTOS = {
    "astronaut": "astronaut.png", "coffee": "coffee.png", "chelsea": "chelsea.png", "rocket": "rocket.jpg",
    "motorcycle": "motorcycle_left.png", "hubble": "hubble_deep_field.jpg", "retina": "retina.jpg",
    "ihc": "ihc.png", "camera": "camera.png", "coins": "coins.png", "color": "color.png",
}
"""Real photographs in the scikit-image wheel (name -> file in ``skimage/data``)."""
SKIMAGE_SURFACES = {"brick": "brick.png", "grass": "grass.png", "gravel": "gravel.png"}
"""Grey texture photographs used as surfaces (tinted when drawn)."""
MPL_PHOTOS = {"hopper": "grace_hopper.jpg"}
"""Real photographs in matplotlib's ``mpl-data/sample_data``."""

FONT_FILES = {
    "sans": "DejaVuSans-Bold.ttf", "sans-light": "DejaVuSans.ttf", "serif": "DejaVuSerif-Bold.ttf",
    "serif-italic": "DejaVuSerif-BoldItalic.ttf", "mono": "DejaVuSansMono-Bold.ttf", "stix": "STIXGeneralBol.ttf",
    "oblique": "DejaVuSans-BoldOblique.ttf",
}
"""Font keys -> files of matplotlib's ``mpl-data/fonts/ttf``; ``pillow`` is Pillow's own scalable font."""
FONT_KEYS = (*FONT_FILES, "pillow")
HERSHEY_KEYS = ("hershey-simplex", "hershey-duplex", "hershey-triplex", "hershey-complex")
"""OpenCV stroke fonts (drawn with ``cv2.putText``)."""


class AssetMissing(RuntimeError):
    """A wheel the second world draws with is not installed."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise AssetMissing(f"the second demo world draws with files of the {name!r} package: "
                           f"pip install {name!r} (it is in the [dev] extra)")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def skimage_data() -> Path:
    return _package_dir("skimage") / "data"


@lru_cache(maxsize=1)
def mpl_data() -> Path:
    return _package_dir("matplotlib") / "mpl-data"


@lru_cache(maxsize=64)
def font(key: str, size: int) -> ImageFont.FreeTypeFont:
    """A scalable font by key (:data:`FONT_KEYS`) at ``size`` pixels, with the basic layout engine so that
    the same text gives the same pixels wherever Raqm is or is not installed."""
    if key == "pillow":
        return ImageFont.load_default(size=size)
    path = mpl_data() / "fonts" / "ttf" / FONT_FILES[key]
    return ImageFont.truetype(str(path), size=size, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=32)
def _photo(name: str) -> Image.Image:
    if name in SKIMAGE_PHOTOS:
        path = skimage_data() / SKIMAGE_PHOTOS[name]
    elif name in SKIMAGE_SURFACES:
        path = skimage_data() / SKIMAGE_SURFACES[name]
    elif name in MPL_PHOTOS:
        path = mpl_data() / "sample_data" / MPL_PHOTOS[name]
    elif name.startswith("grocery:"):
        path = GROCERY_TRAIN / name.removeprefix("grocery:")
    else:
        raise KeyError(f"no photo {name!r}")
    with Image.open(path) as im:
        im.load()
        return im.convert("RGB")


def photo(name: str) -> Image.Image:
    """A copy of the named real photograph (RGB)."""
    return _photo(name).copy()


def fitted(name: str, size: tuple[int, int], *, focus: tuple[float, float] = (0.5, 0.5)) -> Image.Image:
    """The photo scaled and cropped to fill ``size`` around ``focus`` (fractions of the photo)."""
    return ImageOps.fit(_photo(name), size, method=Image.Resampling.LANCZOS, centering=focus)


@lru_cache(maxsize=1)
def grocery_backdrops() -> tuple[str, ...]:
    """Names (``grocery:<folder>/<file>``) of the shelf photos of ``../shared/grocery/train``, sorted; empty
    when the shared folder is absent.  Only every fourth file is used, so the world stays small."""
    if not GROCERY_TRAIN.is_dir():
        return ()
    files = sorted(p.relative_to(GROCERY_TRAIN).as_posix() for p in GROCERY_TRAIN.glob("*/*.jpg"))
    return tuple(f"grocery:{f}" for f in files[::4])
