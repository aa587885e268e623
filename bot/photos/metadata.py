"""What a photo file says about where, when and with whose camera it was taken (policy 8.2), and a copy without it.

Phones write the GPS position into every photo by default, and cameras their owner's name and
serial number: a photo of pupils that carries the school's position identifies where they are.
The clean copy keeps nothing of it. A JPEG already upright keeps its exact pixels (the metadata
segments are cut out of the file, the picture data is not touched); any other photo is saved
again, upright, with no metadata at all. Only the colour profile is kept, so colours look the same.
"""

from __future__ import annotations

import io
import math
import unicodedata
from dataclasses import dataclass

from PIL import Image

from bot.photos.picture import Picture

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_MAKE, _MODEL, _ARTIST, _COPYRIGHT, _DATETIME = 0x010F, 0x0110, 0x013B, 0x8298, 0x0132
_TAKEN, _OWNER, _BODY_SERIAL, _LENS_SERIAL = 0x9003, 0xA430, 0xA431, 0xA435
_LAT_REF, _LAT, _LON_REF, _LON = 1, 2, 3, 4
# JPEG segments kept in a clean copy: JFIF (APP0), the colour profile (APP2 "ICC_PROFILE") and Adobe's
# colour transform (APP14), which a decoder needs to show the colours right; every other APPn and
# every comment goes.
_KEPT_APP = {0xE0: (b"JFIF\x00", b"JFXX\x00"), 0xE2: (b"ICC_PROFILE\x00",), 0xEE: (b"Adobe",)}
MAX_DETAIL = 80  # characters of one detail shown back: a file may carry tens of thousands in its Artist tag
_INFO_METADATA = ("xmp", "XML:com.adobe.xmp", "comment", "exif", "photoshop", "iptc", "Description", "Author", "Software")


@dataclass(frozen=True)
class Metadata:
    """What was found, in words a person reads; all None / empty when the file carried nothing."""

    location: str | None = None
    camera: str | None = None
    owner: str | None = None
    serial: str | None = None
    taken: str | None = None
    other: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return any((self.location, self.camera, self.owner, self.serial, self.taken, self.other))


def read_metadata(picture: Picture) -> Metadata:
    exif = picture.exif
    gps = exif.get_ifd(_GPS_IFD)
    details = exif.get_ifd(_EXIF_IFD)
    camera = " ".join(_text(exif.get(tag)) for tag in (_MAKE, _MODEL) if _text(exif.get(tag))) or None
    owners = [_text(value) for value in (details.get(_OWNER), exif.get(_ARTIST), exif.get(_COPYRIGHT)) if _text(value)]
    serials = [_text(value) for value in (details.get(_BODY_SERIAL), details.get(_LENS_SERIAL)) if _text(value)]
    taken = _text(details.get(_TAKEN)) or _text(exif.get(_DATETIME)) or None
    other = tuple(
        sorted({_info_label(key) for key in picture.info if key in _INFO_METADATA and key != "exif"} | _exif_left(exif))
    )
    return Metadata(
        location=_position(gps) if gps else None,
        camera=camera,
        owner=", ".join(dict.fromkeys(owners)) or None,
        serial=", ".join(serials) or None,
        taken=_readable_time(taken) if taken else None,
        other=other,
    )


def clean_copy(picture: Picture) -> tuple[bytes, str]:
    """The photo with no metadata, upright, ready to upload, and its file extension."""
    if picture.format in ("JPEG", "MPO") and picture.orientation == 1:  # MPO: a phone's JPEG with a second image
        stripped = _strip_jpeg(picture.data)
        if stripped is not None:
            return stripped, "jpg"
    out = io.BytesIO()
    icc = picture.info.get("icc_profile")
    extra = {"icc_profile": icc} if isinstance(icc, bytes) else {}
    if picture.format == "PNG":
        picture.image.save(out, "PNG", **extra)
        return out.getvalue(), "png"
    picture.image.save(out, "JPEG", quality=95, subsampling=0, **extra)
    return out.getvalue(), "jpg"


def _strip_jpeg(data: bytes) -> bytes | None:
    """The JPEG without its metadata segments, byte for byte otherwise; None if its layout is not as expected."""
    if data[:2] != b"\xff\xd8":
        return None
    out = bytearray(data[:2])
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xDA:  # start of scan: the picture data stays as it is, up to the end of the first image
            end = data.find(b"\xff\xd9", at)  # what follows (a phone's second image, with its own EXIF) goes
            if end < 0:
                return None
            out += data[at : end + 2]
            return bytes(out)
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        segment = data[at : at + 2 + length]
        if len(segment) < 2 + length or length < 2:
            return None
        is_app = 0xE0 <= marker <= 0xEF
        if marker == 0xFE or (is_app and not segment[4:].startswith(_KEPT_APP.get(marker, (b"\x00\x01\x02",)))):
            at += 2 + length
            continue
        out += segment
        at += 2 + length
    return None


def _exif_left(exif: Image.Exif) -> set[str]:
    """Any EXIF at all (a software name, a thumbnail) counts as metadata the clean copy drops."""
    ignored = {0x0112, _MAKE, _MODEL, _ARTIST, _COPYRIGHT, _DATETIME, _GPS_IFD, _EXIF_IFD}
    return {"other camera details (EXIF)"} if any(tag not in ignored for tag in exif) else set()


def _info_label(key: str) -> str:
    return {"xmp": "XMP details", "XML:com.adobe.xmp": "XMP details", "comment": "a comment", "iptc": "IPTC details"}.get(
        key, "text notes"
    )


def _text(value: object) -> str:
    """A detail as a person reads it: no control or direction characters (a file says what it likes), and short."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    shown = "".join(" " if unicodedata.category(char)[0] in "CZ" else char for char in str(value))
    shown = " ".join(shown.split())
    return shown if len(shown) <= MAX_DETAIL else shown[: MAX_DETAIL - 1] + "…"


def _readable_time(value: str) -> str:
    """EXIF writes "2026:05:01 10:22:03"; people read "2026-05-01 10:22"."""
    date_part, _, time_part = value.partition(" ")
    return f"{date_part.replace(':', '-')} {time_part[:5]}".strip()


def _position(gps: dict[int, object]) -> str:
    """Degrees as a map would show them, or a plain note when the file has a position that does not read as one."""
    try:
        lat = _degrees(gps[_LAT], gps.get(_LAT_REF), "S")
        lon = _degrees(gps[_LON], gps.get(_LON_REF), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return "a GPS record (no readable position)"
    return f"{lat:.5f}, {lon:.5f}"


def _degrees(value: object, ref: object, negative: str) -> float:
    if not isinstance(value, tuple) or len(value) != 3:
        raise ValueError("not degrees, minutes, seconds")
    degrees, minutes, seconds = (float(part) for part in value)
    sign = -1 if _text(ref).upper() == negative else 1
    value = sign * (degrees + minutes / 60 + seconds / 3600)
    # A rational over zero reads as NaN, and a made-up file can say 1000°: neither is a place on a map.
    if not math.isfinite(value) or abs(value) > (90 if negative == "S" else 180):
        raise ValueError("not a position")
    return value
