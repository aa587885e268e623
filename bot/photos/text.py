"""Reading the words in a photo: certificates, name badges, exercise books, displays.

RapidOCR runs PaddleOCR's PP-OCRv6 small models on onnxruntime, on the CPU. The models ship
inside the rapidocr wheel and are named here by their path in it, so nothing is fetched at run
time (rapidocr would otherwise look for them under its own download rules). Loaded on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image

from bot.photos.boxes import Box

DETECTION_MODEL = "PP-OCRv6_det_small.onnx"
ANGLE_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
READING_MODEL = "PP-OCRv6_rec_small.onnx"
DETECT_SIDE = 960  # the detector sees at most this many pixels on a side: names on badges stay readable
MIN_SCORE = 0.6
MIN_SIDE = 8  # pixels: a picture thinner than this holds no readable line of text


@dataclass(frozen=True)
class TextLine:
    """One line of text as read, and where it is in the photo."""

    text: str
    box: Box


def model_paths() -> dict[str, Path]:
    """The models inside the installed rapidocr package; FileNotFoundError names any that is missing."""
    import rapidocr

    folder = Path(rapidocr.__file__).parent / "models"
    paths = {"det": folder / DETECTION_MODEL, "cls": folder / ANGLE_MODEL, "rec": folder / READING_MODEL}
    for path in paths.values():
        if not path.is_file():
            raise FileNotFoundError(f"the OCR model {path} is not in the installed rapidocr package")
    return paths


@cache
def _reader() -> Any:
    from rapidocr import RapidOCR

    paths = model_paths()
    return RapidOCR(
        params={
            "Global.log_level": "error",
            "Global.use_cls": True,
            "Det.model_path": str(paths["det"]),
            "Cls.model_path": str(paths["cls"]),
            "Rec.model_path": str(paths["rec"]),
            "Det.limit_type": "max",
            "Det.limit_side_len": DETECT_SIDE,
            "EngineConfig.onnxruntime.intra_op_num_threads": 2,
        }
    )


def read_text(image: Image.Image) -> tuple[TextLine, ...]:
    """Each line of text the reader is sure enough of, with an upright box around it."""
    import numpy as np

    if min(image.size) < MIN_SIDE:  # no letter fits, and the reader takes seconds over a strip one pixel high
        return ()
    result = _reader()(np.asarray(image.convert("RGB")))
    if result.boxes is None or result.txts is None:
        return ()
    lines = []
    for polygon, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
        if float(score) < MIN_SCORE or not str(text).strip():
            continue
        xs = [float(point[0]) for point in polygon]
        ys = [float(point[1]) for point in polygon]
        left, top = max(0, int(min(xs))), max(0, int(min(ys)))
        lines.append(TextLine(str(text).strip(), Box(left, top, max(1, int(max(xs)) - left), max(1, int(max(ys)) - top))))
    return tuple(lines)
