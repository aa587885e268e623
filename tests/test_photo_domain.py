"""Photo safety, the domain: what a photo gives away, read straight from the bytes a phone sends.

These call bot/photos/analysis.py in this process (the bot calls it in its photo worker); the
stories through the bot are in tests/test_photo_bot.py.
"""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from bot.draft_check import DraftPolicy
from bot.names import PupilIndex
from bot.photos import analysis
from bot.photos.boxes import Box
from bot.photos.faces import find_faces
from bot.photos.picture import MAX_FILE_BYTES, PhotoRejected, open_picture
from bot.photos.safety import DraftChecker, text_findings
from bot.photos.text import model_paths
from bot.records.consent import Pupil
from tests.photo_samples import group_photo, jpeg, phone_exif, with_text

PUPILS = PupilIndex([Pupil("1", "Amelia", "Smith", class_name="3B"), Pupil("2", "Noah", "Jones"), Pupil("3", "Priya", "Patel")])


def test_a_phone_photo_shows_where_when_and_whose_camera_and_the_clean_copy_has_none_of_it() -> None:
    photo = group_photo(2, 1, 320)
    original = jpeg(photo, phone_exif())

    seen = analysis.analyse(original, True)

    assert seen.metadata.location == "51.50720, -0.12767"
    assert seen.metadata.camera == "Apple iPhone 13"
    assert seen.metadata.owner is not None and "Jane Teacher" in seen.metadata.owner
    assert seen.metadata.serial == "F17XK2ABCD"
    assert seen.metadata.taken == "2026-05-01 10:22"
    assert seen.clean is not None
    clean = Image.open(io.BytesIO(seen.clean))
    assert not clean.getexif() and not clean.getexif().get_ifd(0x8825)
    assert b"Exif" not in seen.clean and b"F17XK2ABCD" not in seen.clean and b"Teacher" not in seen.clean
    # Already upright: the very same pixels, only the metadata cut out.
    assert clean.tobytes() == Image.open(io.BytesIO(original)).tobytes()
    assert not analysis.analyse(seen.clean, False).metadata.found


def test_a_sideways_phone_photo_comes_back_upright_without_its_orientation_tag() -> None:
    upright = group_photo(2, 1, 320)  # 640 wide, 320 high
    stored = jpeg(upright.rotate(90, expand=True), phone_exif(orientation=6))  # as a phone held upright stores it

    seen = analysis.analyse(stored, True)

    assert (seen.width, seen.height) == (640, 320)
    assert seen.clean is not None
    clean = Image.open(io.BytesIO(seen.clean))
    assert clean.size == (640, 320) and 0x0112 not in clean.getexif()
    assert len(seen.faces) == 2


def test_a_photo_with_nothing_to_hide_says_so() -> None:
    assert not analysis.analyse(jpeg(group_photo(1, 1, 200)), True).metadata.found


@pytest.mark.parametrize(("columns", "rows", "tile"), [(1, 1, 900), (2, 2, 500), (3, 2, 420), (4, 3, 320), (5, 4, 256)])
def test_faces_in_a_group_photo_are_counted(columns: int, rows: int, tile: int) -> None:
    seen = analysis.analyse(jpeg(group_photo(columns, rows, tile)), False)

    assert len(seen.faces) == columns * rows
    for face in seen.faces:  # one box on each face, in the full photo's pixels
        assert face.x // tile < columns and face.y // tile < rows


def test_blurred_faces_are_found_no_more_and_the_others_still_are() -> None:
    data = jpeg(group_photo(3, 2, 420))
    faces = analysis.analyse(data, False).faces
    hidden = faces[0], faces[4]

    copy = analysis.blurred(data, hidden)

    left = find_faces(Image.open(io.BytesIO(copy)))
    assert len(left) == len(faces) - 2
    assert all(face.overlap(gone) == 0 for face in left for gone in hidden)
    assert not Image.open(io.BytesIO(copy)).getexif()


def test_a_heic_photo_from_an_iphone_is_read() -> None:
    from pillow_heif import from_pillow

    out = io.BytesIO()
    from_pillow(group_photo(2, 1, 320)).save(out, quality=90)

    seen = analysis.analyse(out.getvalue(), True)

    assert len(seen.faces) == 2
    assert seen.clean is not None and Image.open(io.BytesIO(seen.clean)).format == "JPEG"


def findings(photo: Image.Image) -> list[tuple[str, str, str]]:
    seen = analysis.analyse(jpeg(photo), False)
    found = text_findings(seen.text, DraftChecker(PUPILS, DraftPolicy()))
    return [(f.finding.kind, f.finding.excerpt, f.finding.severity) for f in found]


@pytest.mark.parametrize(("size", "angle"), [(36, 0), (28, 12), (22, -8), (48, 25)])
def test_a_pupils_full_name_on_a_certificate_blocks_wherever_it_is(size: int, angle: float) -> None:
    photo = with_text(group_photo(2, 2, 500), "Certificate: Amelia Smith", (80, 620), size, angle)

    assert ("pupil_full_name", "Amelia Smith", "block") in findings(photo)


def test_a_first_name_on_a_badge_warns_and_its_box_is_where_it_was_printed() -> None:
    photo = with_text(group_photo(2, 1, 500), "Noah", (600, 380), 30)
    seen = analysis.analyse(jpeg(photo), False)

    found = text_findings(seen.text, DraftChecker(PUPILS, DraftPolicy()))

    assert [(f.finding.kind, f.finding.severity) for f in found] == [("pupil_first_name", "warn")]
    assert found[0].box.overlap(Box(600, 380, 100, 50)) > 0.5


def test_a_name_printed_on_two_lines_of_a_badge_is_a_full_name() -> None:
    photo = with_text(with_text(group_photo(2, 1, 500), "Priya", (560, 300), 34), "Patel", (560, 352), 34)

    assert ("pupil_full_name", "Priya Patel", "block") in findings(photo)


def test_words_that_name_nobody_are_not_flagged() -> None:
    assert findings(with_text(group_photo(2, 1, 500), "Sports Day 2026", (300, 400), 40)) == []


def test_the_ocr_models_are_the_ones_inside_the_installed_package() -> None:
    import rapidocr

    package = rapidocr.__file__.rsplit("/", 1)[0]
    assert all(str(path).startswith(package) and path.stat().st_size > 100_000 for path in model_paths().values())


def gif_animation() -> bytes:
    frames = [group_photo(1, 1, 64), group_photo(1, 1, 64).rotate(90)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def panorama() -> bytes:
    out = io.BytesIO()
    Image.new("L", (30_000, 600), 128).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its data never reaches (a decompression bomb's first step)."""
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("cut short", jpeg(group_photo(2, 1, 320))[:9000], "damaged or cut short"),
        ("not a picture", b"%PDF-1.4 not a photo at all" * 100, "could not read this as a photo"),
        ("20 MB", b"\xff\xd8" + bytes(20 * 1024 * 1024), f"up to {MAX_FILE_BYTES // 1024 // 1024} MB"),
        ("animated GIF", gif_animation(), "animation"),
        ("30,000-pixel panorama", panorama(), "30,000 × 600 pixels"),
        ("a claimed 100,000-pixel square", png_claiming(100_000, 100_000), "50 megapixels"),
    ],
)
def test_a_photo_that_cannot_be_checked_is_refused_in_plain_words(name: str, data: bytes, says: str) -> None:
    with pytest.raises(PhotoRejected, match=says):
        open_picture(data)


def test_the_bot_starts_without_loading_opencv_or_the_ocr_models() -> None:
    import subprocess
    import sys

    code = "import sys, bot.shell.app; print(sorted(m for m in ('cv2', 'onnxruntime', 'rapidocr') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()

    assert loaded == "[]"


def test_the_demos_sample_photo_has_faces_a_pupils_name_and_a_location_to_find() -> None:
    from bot.shell.demo import SAMPLE_PHOTO, compressed

    seen = analysis.analyse(SAMPLE_PHOTO.read_bytes(), True)
    found = text_findings(seen.text, DraftChecker(PUPILS, DraftPolicy()))

    assert len(seen.faces) == 6 and seen.metadata.location
    assert [(f.finding.kind, f.finding.excerpt) for f in found] == [("pupil_full_name", "Amelia Smith")]
    assert not analysis.analyse(compressed(SAMPLE_PHOTO.read_bytes()), False).metadata.found


def test_the_models_load_and_read_with_the_network_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from bot.photos import faces, text

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the photo check tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    text._reader.cache_clear()
    faces._detector.cache_clear()

    seen = analysis.analyse(jpeg(with_text(group_photo(2, 1, 400), "Amelia Smith", (420, 300), 30)), True)

    assert len(seen.faces) == 2 and [line.text for line in seen.text] == ["Amelia Smith"]


async def test_a_worker_that_dies_on_a_hostile_file_is_a_plain_refusal_and_the_next_photo_starts_a_new_one() -> None:
    import os

    from bot.photos.worker import PhotoWorker

    worker = PhotoWorker()
    try:
        with pytest.raises(PhotoRejected, match="failed part-way"):
            await worker.run(os._exit, 1)  # what a decoder that crashes does to its process

        seen = await worker.run(analysis.analyse, jpeg(group_photo(1, 1, 300)), False)
    finally:
        worker.close()

    assert len(seen.faces) == 1


def test_a_phones_two_picture_jpeg_comes_back_as_the_one_picture_without_the_hidden_second() -> None:
    photo, depth = group_photo(2, 1, 320), group_photo(2, 1, 320).convert("L").convert("RGB")
    out = io.BytesIO()
    photo.save(out, "MPO", save_all=True, append_images=[depth], exif=phone_exif(), quality=90)
    original = out.getvalue()
    assert Image.open(io.BytesIO(original)).format == "MPO"

    seen = analysis.analyse(original, True)

    assert seen.metadata.location and seen.clean is not None
    clean = Image.open(io.BytesIO(seen.clean))
    assert clean.format == "JPEG" and getattr(clean, "n_frames", 1) == 1 and not clean.getexif()
    assert clean.tobytes() == Image.open(io.BytesIO(original)).tobytes()  # the first picture, pixel for pixel
    assert seen.clean.count(b"\xff\xd8\xff") == 1 and b"F17XK2ABCD" not in seen.clean
