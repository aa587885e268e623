"""Photo safety on an admin's phone: a photo in, what it gives away, a numbered preview, buttons, a blurred copy out.

The photos are real (scikit-image's astronaut.png tiled into groups, names drawn with Pillow);
the bot reads them in its photo worker, as in production.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bot.photos import analysis
from bot.photos.boxes import Box
from bot.photos.faces import find_faces
from bot.shell.callbacks import pack
from emulator import SentMessage
from tests.conftest import ADMIN, ADMIN2, OFFICE, SLT, STRANGER, BotHarness, revoke
from tests.photo_samples import group_photo, jpeg, phone_exif, with_text
from tests.test_consent_bot import load

FACES_LINE = "I can see 6 faces; 4 pupils are named. Every pupil in the photo must be checked (4.4)."
FOUR_NAMES = "Amelia Smith\nZoe O'Brien\nGrace Lee\nOllie Smith-Jones"


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot)
    return bot


def bytes_of(bot: BotHarness, message: object) -> bytes:
    """The file behind a photo or a document the bot sent."""
    photo = getattr(message, "photo", None)
    document = getattr(message, "document", None)
    file_id = photo if photo else document["file_id"] if document else None
    assert file_id, "not a photo or a file"
    return bot.emu.files[file_id]


async def send(
    bot: BotHarness, user: int, data: bytes, caption: str, *, as_file: bool = False, name: str = "IMG_0001.jpg"
) -> list:
    mark = bot.emu.mark()
    if as_file:
        mime = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "heic": "image/heic"}[name.rsplit(".", 1)[1]]
        bot.emu.send_document(user, data, name, mime, caption=caption)
    else:
        bot.emu.send_photo(user, data, caption=caption)
    await bot.settle()
    return bot.emu.since(mark, user)


def preview_of(messages: list) -> SentMessage:
    [preview] = [m for m in messages if m.photo and any(label == "Blur all not cleared" for label, _ in m.buttons)]
    return preview


def summary_of(messages: list) -> str:
    """The photo-safety summary: the preview's caption when it fits there, else a text of its own."""
    [summary] = [m for m in messages if "Photo safety" in m.plain]
    return summary.plain


async def test_an_original_sent_as_a_file_names_its_location_and_camera_and_comes_back_clean(school: BotHarness) -> None:
    upright = group_photo(2, 1, 400)
    original = jpeg(upright.rotate(90, expand=True), phone_exif(orientation=6))  # a phone held upright

    messages = await send(school, ADMIN, original, "Amelia Smith\nGrace Lee", as_file=True)

    question, preview, clean = messages  # one preview with the findings as its caption, and the file to upload
    assert "2 pupils listed. Where will the photo appear?" in question.plain
    assert "Photo safety" in preview.plain and preview is preview_of(messages) and clean.document
    summary = summary_of(messages)
    assert "This photo carries its location: 51.50720, -0.12767" in summary and "(8.2)" in summary
    assert "camera: Apple iPhone 13" in summary and "Jane Teacher" in summary
    assert "serial number: F17XK2ABCD" in summary and "taken: 2026-05-01 10:22" in summary
    [clean] = [m for m in messages if m.document and m.document["file_name"] == "photo-clean.jpg"]
    copy = bytes_of(school, clean)
    image = Image.open(io.BytesIO(copy))
    assert image.size == upright.size  # turned the right way up
    assert not image.getexif() and b"F17XK2ABCD" not in copy and b"Teacher" not in copy
    assert "I can see 2 faces; 2 pupils are named." in summary and "must be checked" not in summary
    [check] = [e for e in school.audit() if e.action == "photo safety check"]
    assert "location" in check.detail and "clean copy sent" in check.detail and "Amelia" not in check.detail
    kept = [path for path in school.config.storage.data_dir.rglob("*") if path.is_file()]
    assert not [path for path in kept if b"\xff\xd8\xff" in path.read_bytes() or b"51.5072" in path.read_bytes()]


async def test_a_compressed_photo_gets_a_tip_that_the_gallery_original_still_has_its_location(school: BotHarness) -> None:
    messages = await send(school, ADMIN, jpeg(group_photo(1, 1, 600)), "Amelia Smith")

    question, preview = messages  # the consent question and one preview: a photo buzzes twice, not three times
    assert "Where will the photo appear?" in question.plain and preview is preview_of(messages)
    summary = summary_of(messages)
    assert "Tip: Telegram removed this photo's location" in summary and "original in your phone's gallery" in summary
    assert not any(m.document for m in messages)  # nothing to clean: Telegram already did


async def test_faces_nobody_named_are_counted_boxed_and_blurred_with_one_tap(school: BotHarness) -> None:
    photo = jpeg(group_photo(3, 2, 420))

    messages = await send(school, ADMIN, photo, FOUR_NAMES)

    assert FACES_LINE in summary_of(messages)
    preview = preview_of(messages)
    labels = [label for label, _ in preview.buttons]
    assert labels == ["Blur 1", "Blur 2", "Blur 3", "Blur 4", "Blur 5", "Blur 6", "Blur all not cleared"]
    assert all(len((data or "").encode()) <= 64 for _, data in preview.buttons)
    assert "Faces 1–6 (yellow)" in preview.plain
    faces = analysis.analyse(photo, False).faces
    drawn = np.asarray(Image.open(io.BytesIO(bytes_of(school, preview))).convert("RGB"))
    for face in faces:  # each face has its yellow box on the preview (the same size as the photo here)
        red, green, blue = (int(value) for value in drawn[face.y, face.x + face.w // 2])
        assert red > 200 and green > 170 and blue < 90, (red, green, blue)

    mark = school.emu.mark()
    await school.press(ADMIN, preview, "Blur 2")

    [blurred] = [m for m in school.emu.since(mark, ADMIN) if m.photo]
    assert "Box 2 blurred, no metadata: ready to upload." in blurred.plain
    left = find_faces(Image.open(io.BytesIO(bytes_of(school, blurred))))
    assert len(left) == 5 and all(face.overlap(faces[1]) == 0 for face in left)
    assert "✓ 2" in [label for label, _ in preview.buttons]
    check, blur = [e for e in school.audit() if e.action in ("photo safety check", "photo blurred")]
    assert blur.target == check.target and f"from photo safety check {check.target}" in blur.detail

    mark = school.emu.mark()
    await school.press(ADMIN, preview, "✓ 2")  # a second tap: the same copy again, nothing refused
    [again] = [m for m in school.emu.since(mark, ADMIN) if m.photo]
    assert "Box 2 blurred" in again.plain

    mark = school.emu.mark()
    await school.press(ADMIN, preview, "Blur all not cleared")

    [everything] = [m for m in school.emu.since(mark, ADMIN) if m.photo]
    assert "Boxes 1, 2, 3, 4, 5 and 6 blurred" in everything.plain
    assert find_faces(Image.open(io.BytesIO(bytes_of(school, everything)))) == ()


async def test_a_pupils_name_in_the_picture_blocks_a_first_name_warns_and_both_can_be_blurred(school: BotHarness) -> None:
    photo = with_text(with_text(group_photo(2, 1, 640), "Certificate: Amelia Smith", (60, 470), 34, 6), "Grace", (760, 520), 30)

    messages = await send(school, ADMIN, jpeg(photo), "Amelia Smith\nGrace Lee", as_file=True, name="award.jpg")

    summary = summary_of(messages)
    assert "⛔ Box 3 (bottom left): a pupil's full name, ‹Amelia Smith›, can be read in the photo (3.4): must be" in summary
    assert "⚠️ Box 4 (bottom): a pupil's first name, ‹Grace›, can be read in the photo (3.4)" in summary
    preview = preview_of(messages)
    assert "text 3–4 (red)" in preview.plain
    red, green, blue = np.asarray(Image.open(io.BytesIO(bytes_of(school, preview))).convert("RGB")).transpose(2, 0, 1)
    assert ((red > 200) & (green < 60) & (blue < 60)).sum() > 500  # the red boxes around the names

    mark = school.emu.mark()
    await school.press(ADMIN, preview, "Blur 3")

    [copy] = [m for m in school.emu.since(mark, ADMIN) if m.document]
    assert copy.document is not None and copy.document["file_name"] == "photo-blurred.jpg"
    words = " ".join(line.text for line in analysis.analyse(bytes_of(school, copy), False).text)
    assert "Smith" not in words and "Grace" in words


async def test_only_staff_who_check_consent_get_a_photo_looked_at(school: BotHarness) -> None:
    photo = jpeg(group_photo(2, 1, 400), phone_exif())
    for person in (STRANGER, OFFICE):
        messages = await send(school, person, photo, "Amelia Smith", as_file=True)
        assert not any("Photo safety" in m.plain or m.photo or m.document for m in messages)
        assert not any("Amelia" in m.plain or "51.5" in m.plain for m in messages)
    assert not [e for e in school.audit() if e.action == "photo safety check"]


async def test_a_forged_or_stale_blur_button_is_refused(school: BotHarness) -> None:
    preview = preview_of(await send(school, ADMIN, jpeg(group_photo(2, 1, 400)), "Amelia Smith"))
    number = int((preview.buttons[0][1] or "").split(":")[3])

    for forged in (pack("ph", "blur", number, 3), pack("ph", "blur", number, 0), pack("ph", "blur", number + 7, 1)):
        mark = school.emu.mark()
        answer = await school.press(ADMIN, preview, data=forged)
        assert answer is not None and "expired" in answer["text"]
        assert not [m for m in school.emu.since(mark, ADMIN) if m.photo or m.document]
    assert not [e for e in school.audit() if e.action == "photo blurred"]
    mark = school.emu.mark()
    await school.press(ADMIN2, preview, "Blur 1")  # someone else's preview: not in their checks
    assert not [m for m in school.emu.since(mark) if m.photo or m.document]


def animation() -> bytes:
    out = io.BytesIO()
    frames = [group_photo(1, 1, 80), group_photo(1, 1, 80).rotate(90)]
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def panorama() -> bytes:
    out = io.BytesIO()
    Image.new("L", (30_000, 600), 90).save(out, "PNG")
    return out.getvalue()


def heic() -> bytes:
    from pillow_heif import from_pillow

    out = io.BytesIO()
    from_pillow(group_photo(2, 1, 320)).save(out, quality=85)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("cut.jpg", jpeg(group_photo(2, 1, 320))[:7000], "damaged or cut short"),
        ("notes.jpg", b"\xff\xd8\xff\xe0 not really a photo " * 50, "could not read this as a photo"),
        ("huge.jpg", b"\xff\xd8" + bytes(20 * 1024 * 1024), "This file is 20.0 MB; I check photos up to 15 MB"),
        ("wave.gif", animation(), "animation (GIF with 2 frames)"),
        ("pano.png", panorama(), "This picture is 30,000 × 600 pixels"),
    ],
)
async def test_a_file_that_cannot_be_checked_gets_a_clear_message_and_the_bot_keeps_answering(
    school: BotHarness, name: str, data: bytes, says: str
) -> None:
    messages = await send(school, ADMIN, data, "Amelia Smith", as_file=True, name=name)

    [refusal] = [m for m in messages if says in m.plain]
    assert not any(m.photo or m.document for m in messages)
    assert not list(school.runtime.services.db.data_dir.rglob(f"*{name.rsplit('.', 1)[1]}"))  # nothing stored
    [card] = await school.say(ADMIN, "/consent Amelia Smith")
    assert "✅ Facebook page" in card.plain
    assert refusal


async def test_an_iphone_heic_photo_is_checked_and_comes_back_as_a_clean_jpeg(school: BotHarness) -> None:
    messages = await send(school, ADMIN, heic(), "Amelia Smith\nGrace Lee", as_file=True, name="IMG_0002.heic")

    assert "I can see 2 faces; 2 pupils are named." in summary_of(messages)
    [clean] = [m for m in messages if m.document]
    assert Image.open(io.BytesIO(bytes_of(school, clean))).format == "JPEG"


async def test_others_are_answered_while_a_photo_is_being_looked_at(school: BotHarness) -> None:
    mark = school.emu.mark()
    school.emu.send_photo(ADMIN, jpeg(with_text(group_photo(3, 2, 420), "Amelia Smith", (40, 700), 40)), caption=FOUR_NAMES)
    school.emu.send_text(ADMIN2, "/consent Grace Lee")
    await school.settle()

    sent = school.emu.since(mark)
    card = next(at for at, m in enumerate(sent) if m.chat_id == ADMIN2 and "Grace Lee" in m.plain)
    summary = next(at for at, m in enumerate(sent) if "Photo safety" in m.plain)
    assert card < summary


def test_regions_keep_to_the_photo_and_say_where_they_are() -> None:
    assert Box(90, 90, 20, 20).padded(10, 100, 100) == Box(80, 80, 20, 20)
    assert [Box(x, y, 10, 10).place(90, 90) for x, y in ((0, 0), (40, 0), (80, 40), (40, 40), (0, 80))] == [
        "top left",
        "top",
        "right",
        "the middle",
        "bottom left",
    ]


async def test_a_preview_still_blurs_after_a_restart_and_never_for_someone_who_lost_access(school: BotHarness) -> None:
    photo = jpeg(group_photo(2, 1, 400))
    preview = preview_of(await send(school, ADMIN, photo, "Amelia Smith"))
    second = preview_of(await send(school, ADMIN2, photo, "Amelia Smith"))

    await school.restart()
    mark = school.emu.mark()
    await school.press(ADMIN, preview, "Blur 1")

    [copy] = [m for m in school.emu.since(mark, ADMIN) if m.photo]
    assert len(find_faces(Image.open(io.BytesIO(bytes_of(school, copy))))) == 1

    await revoke(school, SLT, ADMIN2)
    mark = school.emu.mark()
    await school.press(ADMIN2, second, "Blur 1")
    assert not [m for m in school.emu.since(mark, ADMIN2) if m.photo or m.document]
    assert [e for e in school.audit() if e.actor_id == ADMIN2 and e.outcome.startswith("refused")]


async def test_a_big_group_gets_twenty_number_buttons_and_blur_all_still_hides_every_face(school: BotHarness) -> None:
    preview = preview_of(await send(school, ADMIN, jpeg(group_photo(5, 5, 256)), "Amelia Smith"))

    labels = [label for label, _ in preview.buttons]
    assert labels == [f"Blur {n}" for n in range(1, 21)] + ["Blur all not cleared"]
    assert "Only the first 20 have buttons" in preview.plain
    mark = school.emu.mark()
    await school.press(ADMIN, preview, "Blur all not cleared")

    [copy] = [m for m in school.emu.since(mark, ADMIN) if m.photo]
    assert find_faces(Image.open(io.BytesIO(bytes_of(school, copy)))) == ()


async def test_an_original_sent_without_a_caption_is_looked_at_once_its_pupils_are_named(school: BotHarness) -> None:
    mark = school.emu.mark()
    school.emu.send_document(ADMIN, jpeg(group_photo(2, 1, 400), phone_exif()), "IMG_0003.jpg", "image/jpeg")
    await school.settle()
    [offer] = school.emu.since(mark, ADMIN)
    await school.press(ADMIN, offer, "Check consent")

    messages = await school.say(ADMIN, "Amelia Smith\nGrace Lee")

    summary = summary_of(messages)
    assert "This photo carries its location: 51.50720, -0.12767" in summary
    assert "I can see 2 faces; 2 pupils are named." in summary
    [clean] = [m for m in messages if m.document]
    assert not Image.open(io.BytesIO(bytes_of(school, clean))).getexif()
