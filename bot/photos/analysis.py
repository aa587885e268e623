"""The work done on a photo's pixels, in the photo worker: plain bytes in, plain records out.

Each function here decodes the photo itself, so the worker keeps no photo between calls and
nothing but boxes and words comes back to the bot.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image

from bot.photos.boxes import Box
from bot.photos.faces import find_faces
from bot.photos.marks import draw_preview, encode_jpeg, hide
from bot.photos.metadata import Metadata, clean_copy, read_metadata
from bot.photos.picture import open_picture
from bot.photos.text import TextLine, read_text


@dataclass(frozen=True)
class Analysis:
    """What one photo gives away: its metadata, its faces and its words, in the upright photo's pixels."""

    width: int
    height: int
    metadata: Metadata
    faces: tuple[Box, ...]
    text: tuple[TextLine, ...]
    work: bytes  # the upright photo at working size (JPEG), which the preview is drawn on
    factor: float  # working size to full size
    clean: bytes | None = None  # the copy without metadata: when asked for, and whenever there was metadata
    clean_ext: str = "jpg"


def analyse(data: bytes, clean: bool) -> Analysis:
    """Metadata, faces and text of the photo in `data`; PhotoRejected when it cannot be read.

    A clean copy comes with it when `clean` asks (an original sent as a file) and whenever the photo
    carries metadata, however it arrived."""
    picture = open_picture(data)
    work, factor = picture.work_copy()
    # Faces and text side by side: OpenCV and onnxruntime both let go of the GIL, and there are two cores.
    with ThreadPoolExecutor(max_workers=1) as beside:
        found = beside.submit(find_faces, work)
        lines = read_text(work)
        faces = tuple(box.scaled(factor) for box in found.result())
    text = tuple(TextLine(line.text, line.box.scaled(factor)) for line in lines)
    metadata = read_metadata(picture)
    copy, ext = clean_copy(picture) if clean or metadata.found else (None, "jpg")
    width, height = picture.image.size
    return Analysis(width, height, metadata, faces, text, encode_jpeg(work, 90), factor, copy, ext)


def preview(work: bytes, factor: float, faces: Sequence[Box], texts: Sequence[Box]) -> bytes:
    """The numbered preview, drawn on the working-size photo."""
    with Image.open(io.BytesIO(work)) as image:
        shrink = 1 / factor
        return draw_preview(image, [box.scaled(shrink) for box in faces], [box.scaled(shrink) for box in texts])


def blurred(data: bytes, boxes: Sequence[Box]) -> bytes:
    """The photo, upright and at full size, with `boxes` hidden and no metadata: ready to upload."""
    picture = open_picture(data)
    return encode_jpeg(hide(picture.image, boxes))
