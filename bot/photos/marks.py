"""What the bot draws on a photo: the numbered preview, and the blur that hides a face or a name.

A hidden region is pixelated to a few blocks across and then blurred, so no feature of a face
and no letter of a name survives (the face detector no longer finds a face there); the margin
around each box takes in hair, ears and the edges of a badge.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bot.photos.boxes import Box

FACE_COLOUR = (255, 212, 0)
TEXT_COLOUR = (230, 30, 30)
BLOCKS_ACROSS = 6  # across a face; a line of text gets as many blocks as it is letters high
MARGIN = 0.25


def hide(image: Image.Image, boxes: Sequence[Box]) -> Image.Image:
    """`image` itself with every box pixelated and blurred beyond recognition (no copy: a 50-megapixel photo is 150 MB)."""
    hidden = image
    width, height = hidden.size
    for box in boxes:
        area = box.padded(round(MARGIN * min(box.w, box.h)), width, height)  # a line of text keeps a narrow margin
        region = hidden.crop(area.corners())
        block = max(1, min(area.w, area.h) // BLOCKS_ACROSS)
        across, down = max(1, area.w // block), max(1, area.h // block)
        blocks = region.resize((across, down), Image.Resampling.BOX).resize(region.size, Image.Resampling.NEAREST)
        hidden.paste(blocks.filter(ImageFilter.GaussianBlur(max(2, min(area.w, area.h) // 12))), area.corners()[:2])
    return hidden


def encode_jpeg(image: Image.Image, quality: int = 92) -> bytes:
    """JPEG bytes with no metadata at all (Pillow writes none unless asked)."""
    out = io.BytesIO()
    (image if image.mode == "RGB" else image.convert("RGB")).save(out, "JPEG", quality=quality)
    return out.getvalue()


def draw_preview(image: Image.Image, faces: Sequence[Box], texts: Sequence[Box]) -> bytes:
    """The photo with each face (yellow) and each flagged text (red) boxed and numbered, faces first."""
    preview = image.convert("RGB").copy()
    draw = ImageDraw.Draw(preview)
    side = max(preview.size)
    line = max(2, side // 320)
    font = ImageFont.load_default(size=max(14, side // 40))
    marked = [(box, FACE_COLOUR) for box in faces] + [(box, TEXT_COLOUR) for box in texts]
    for number, (box, colour) in enumerate(marked, start=1):
        draw.rectangle(box.corners(), outline=colour, width=line)
        label = str(number)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        tag_w, tag_h = right - left + 2 * line, bottom - top + 2 * line
        x, y = box.x, max(0, box.y - tag_h)
        draw.rectangle((x, y, x + tag_w, y + tag_h), fill=colour)
        draw.text((x + line - left, y + line - top), label, fill=(0, 0, 0), font=font)
    return encode_jpeg(preview, 85)
