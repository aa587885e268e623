"""Reading a photo as staff send it, within limits no phone photo reaches.

A damaged or cut-short file, an animation, a file too big to fetch, or a picture so large that
decoding it would take the memory of the whole bot (a 30,000-pixel panorama) is refused with a
reason in plain words, before its pixels are decoded. HEIC photos from iPhones are read through
pillow-heif. The photo is turned the way the camera meant (EXIF orientation) before anything
else looks at it, so boxes, previews and copies all show it upright.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_FILE_BYTES = 15 * 1024 * 1024
MAX_SIDE = 12_000
MAX_PIXELS = 50_000_000
WORK_SIDE = 1280  # faces and text are looked for in a copy this size: phones' photos are larger than needed


class PhotoRejected(ValueError):
    """A photo the bot will not read; the message says why in words for the person who sent it."""


@dataclass
class Picture:
    """A decoded photo, upright, with what its file said about itself."""

    image: Image.Image  # RGB, orientation applied
    format: str  # "JPEG", "PNG", "HEIF", ...
    orientation: int  # the EXIF orientation the file carried (1 = already upright)
    exif: Image.Exif
    info: dict[str, object]
    data: bytes

    def work_copy(self) -> tuple[Image.Image, float]:
        """The photo at most WORK_SIDE pixels on its longer side, and the factor back to full size."""
        width, height = self.image.size
        factor = min(1.0, WORK_SIDE / max(width, height))
        if factor == 1.0:
            return self.image, 1.0
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        return self.image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0), 1 / factor


def size_problem(size_bytes: int) -> str | None:
    """Why a file of this size is not checked, before it is fetched; None when it may be."""
    if size_bytes > MAX_FILE_BYTES:
        return (
            f"This file is {size_bytes / 1024 / 1024:.1f} MB; I check photos up to {MAX_FILE_BYTES // 1024 // 1024} MB. "
            "Send a smaller copy (or the photo itself, not as a file)."
        )
    return None


@cache
def _heif_support() -> None:
    """HEIC (iPhone) photos: pillow-heif teaches Pillow to read them, once, on the first photo."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def open_picture(data: bytes) -> Picture:
    """The photo in `data`, upright; PhotoRejected with the reason when it cannot or should not be read."""
    problem = size_problem(len(data))
    if problem:
        raise PhotoRejected(problem)
    _heif_support()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise PhotoRejected(_too_large("This picture is far too large")) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise PhotoRejected(
            "I could not read this as a photo (the file may be damaged, cut short, or not a picture). "
            "Send the photo again, as JPEG, PNG or HEIC."
        ) from error
    width, height = image.size
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise PhotoRejected(_too_large(f"This picture is {width:,} × {height:,} pixels"))
    if getattr(image, "n_frames", 1) > 1 and image.format in ("GIF", "PNG", "WEBP"):
        raise PhotoRejected(
            f"This is an animation ({image.format} with {getattr(image, 'n_frames', 1)} frames); "
            "I check still photos only. Send the photo itself."
        )
    try:
        image.load()
        exif = image.getexif()
        orientation = int(exif.get(0x0112, 1) or 1)
        # No copy of a photo already upright and RGB: a 50-megapixel photo is 150 MB a copy, in the worker.
        upright = (ImageOps.exif_transpose(image) or image) if orientation != 1 else image
        rgb = upright if upright.mode == "RGB" else upright.convert("RGB")
    except (OSError, SyntaxError, ValueError, TypeError, Image.DecompressionBombError) as error:
        raise PhotoRejected("This photo is damaged or cut short, so I could not read all of it. Send the photo again.") from error
    return Picture(rgb, image.format or "", orientation, exif, {str(key): value for key, value in image.info.items()}, data)


def _too_large(what: str) -> str:
    return (
        f"{what}; I check pictures up to {MAX_SIDE:,} pixels on a side ({MAX_PIXELS // 1_000_000} megapixels). "
        "Send a smaller copy, or crop a wide panorama into parts."
    )
