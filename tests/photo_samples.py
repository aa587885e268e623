"""Photos for the photo safety tests, made from a real photograph that ships in a registry package.

scikit-image's astronaut.png (Eileen Collins, NASA, public domain) is a real face: tiled and
scaled it makes group photos with a known number of faces. Pupils' names are drawn on with
Pillow's own font at sizes and angles a certificate or a name badge has in a phone photo.
"""

from __future__ import annotations

import io
from fractions import Fraction

from PIL import Image, ImageDraw, ImageFont


def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def group_photo(columns: int, rows: int, tile: int) -> Image.Image:
    """`columns` × `rows` faces, each in a `tile`-pixel square: a class photo with a known count."""
    face = astronaut().resize((tile, tile), Image.Resampling.LANCZOS)
    group = Image.new("RGB", (columns * tile, rows * tile))
    for row in range(rows):
        for column in range(columns):
            group.paste(face, (column * tile, row * tile))
    return group


def with_text(photo: Image.Image, text: str, at: tuple[int, int], size: int, angle: float = 0) -> Image.Image:
    """`text` printed black on a white card (a certificate, a badge), turned by `angle` degrees, pasted at `at`."""
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    pad = size // 2
    card = Image.new("RGBA", (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad), (255, 255, 255, 255))
    ImageDraw.Draw(card).text((pad - left, pad - top), text, fill=(0, 0, 0, 255), font=font)
    turned = card.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    out = photo.copy()
    out.paste(turned, at, turned)
    return out


def jpeg(photo: Image.Image, exif: Image.Exif | None = None, quality: int = 90) -> bytes:
    out = io.BytesIO()
    photo.convert("RGB").save(out, "JPEG", quality=quality, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def phone_exif(orientation: int = 1) -> Image.Exif:
    """What a phone writes: where (the school's position), when, which camera, whose, its serial number."""
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 13"
    exif[0x0132] = "2026:05:01 10:22:03"
    exif[0x0112] = orientation
    exif[0x013B] = "Mrs J Teacher"
    details = exif.get_ifd(0x8769)
    details[0x9003] = "2026:05:01 10:22:03"
    details[0xA430] = "Jane Teacher"
    details[0xA431] = "F17XK2ABCD"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (Fraction(51), Fraction(30), Fraction(2592, 100))
    gps[3] = "W"
    gps[4] = (Fraction(0), Fraction(7), Fraction(3960, 100))
    return exif
