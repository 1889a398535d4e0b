"""Thumbnails a browser can draw: PNG and JPEG pass through, anything else Pillow reads (QOI,
which PrusaSlicer writes for the MK4/MINI/XL, Orca's QOI option) is converted to PNG.

Only called with images already pulled out of a file; their size is checked from the header
before decoding so a crafted 65535x65535 header costs nothing.
"""

import io
import warnings
from typing import NamedTuple

from PIL import Image, UnidentifiedImageError

DRAWABLE = ("png", "jpg")
MAX_PIXELS = 4096 * 4096  # slicers write up to ~600x600; anything far bigger is crafted


class Drawable(NamedTuple):
    format: str  # "png" | "jpg"
    width: int
    height: int
    data: bytes


def drawable(fmt: str, data: bytes) -> Drawable | None:
    """The image as PNG or JPEG (converted to PNG when it is neither); None when it cannot be
    decoded or is too large."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    return None
                if fmt in DRAWABLE:
                    return Drawable(fmt, image.width, image.height, data)
                return _to_png(image)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError, SyntaxError):
        return None


def _to_png(image: Image.Image) -> Drawable:
    image.load()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return Drawable("png", image.width, image.height, out.getvalue())
