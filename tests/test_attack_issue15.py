"""Attacks on photo safety (issue 15): hostile files, a stuck or dead worker, a flood of taps, a bot stopping.

Each test here failed before its fix: a metadata tag full of markup cut the reply mid-entity (Telegram
refused it, so the admin got nothing), a GPS rational over zero read as "nan", a compressed photo that
could not be looked at said nothing of it, a stuck worker left the admin without an answer for ever,
the worker outlived the bot, and thirty taps made thirty copies.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image, TiffImagePlugin

from bot.draft_check import DraftPolicy
from bot.names import PupilIndex
from bot.photos import analysis
from bot.photos.boxes import Box
from bot.photos.picture import PhotoRejected
from bot.photos.safety import DraftChecker, text_findings
from bot.photos.text import TextLine
from bot.photos.worker import WORKER, PhotoWorker
from bot.records.consent import Pupil
from tests.conftest import ADMIN, BotHarness
from tests.photo_samples import group_photo, jpeg, with_text
from tests.test_consent_bot import load
from tests.test_photo_bot import preview_of, send, summary_of


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot)
    return bot


def hostile_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = "<script>alert(1)</script>\x00\x07\x1b[31m\u202e" + "&" * 6000  # Artist
    exif[0x8298] = "<b>&amp;"  # Copyright
    exif[0x010F] = "<i>Make\r\nsecond line"
    return exif


async def test_markup_and_control_characters_in_a_files_camera_details_read_as_plain_short_text(school: BotHarness) -> None:
    messages = await send(school, ADMIN, jpeg(group_photo(1, 1, 300), hostile_exif()), "Amelia Smith", as_file=True)

    summary = summary_of(messages)  # before: cut inside "&amp;" at 4,096 characters, refused by Telegram
    assert "<script>alert(1)</script>" in summary and "<b>&amp;" in summary and "<i>Make second line" in summary
    assert not any(char in summary for char in "\x00\x07\x1b\u202e\r")
    assert "&" * 200 not in summary and len(summary) < 1000
    assert summary == preview_of(messages).plain, "short enough to be the preview's caption: one message, not two"


def test_a_gps_position_over_zero_or_off_the_map_is_named_as_a_record_not_as_nan() -> None:
    over_zero = Image.Exif()
    gps = over_zero.get_ifd(0x8825)
    gps[1], gps[3] = "N", "E"
    gps[2] = tuple(TiffImagePlugin.IFDRational(51, 0) for _ in range(3))
    gps[4] = (Fraction(1), Fraction(0), Fraction(0))
    off_the_map = Image.Exif()
    gps = off_the_map.get_ifd(0x8825)
    gps[2], gps[4] = (Fraction(1000), Fraction(0), Fraction(0)), (Fraction(1), Fraction(0), Fraction(0))

    for exif in (over_zero, off_the_map):
        seen = analysis.analyse(jpeg(group_photo(1, 1, 200), exif), True)
        assert seen.metadata.location == "a GPS record (no readable position)"


async def test_a_compressed_photo_that_cannot_be_looked_at_says_so_in_the_same_reply(school: BotHarness) -> None:
    messages = await send(school, ADMIN, b"\xff\xd8\xff\xe0 not a picture at all " * 20, "Amelia Smith\nGrace Lee")

    [question] = messages  # one message, as before: the consent check's question, with the note in it
    assert "2 pupils listed. Where will the photo appear?" in question.plain
    assert "I could not look at the picture itself" in question.plain and "consent check" in question.plain
    await school.press(ADMIN, question, question.buttons[0][0])  # the consent verdict stands
    assert "Amelia Smith" in question.plain and "Grace Lee" in question.plain


async def test_a_worker_that_hangs_is_stopped_and_the_admin_gets_an_answer() -> None:
    worker = PhotoWorker()
    try:
        await worker.run(time.sleep, 0)  # started (its start is not what is timed out here)
        [stuck] = list(worker._pool._processes.values())  # type: ignore[union-attr]
        worker.timeout = 2
        with pytest.raises(PhotoRejected, match="took far too long"):
            await worker.run(time.sleep, 3600)

        assert not stuck.is_alive()
        worker.timeout = 300
        seen = await worker.run(analysis.analyse, jpeg(group_photo(1, 1, 300)), False)
    finally:
        worker.close()
    assert len(seen.faces) == 1


async def test_a_photo_waiting_behind_a_stuck_one_is_still_checked() -> None:
    worker = PhotoWorker()
    try:
        await worker.run(time.sleep, 0)
        worker.timeout = 2
        stuck = asyncio.ensure_future(worker.run(time.sleep, 3600))
        await asyncio.sleep(0.2)
        worker.timeout = 300
        waiting = asyncio.ensure_future(worker.run(analysis.analyse, jpeg(group_photo(1, 1, 300)), False))
        with pytest.raises(PhotoRejected, match="took far too long"):
            await stuck
        seen = await waiting  # before: "failed part-way", as if this photo had been the hostile one
    finally:
        worker.close()
    assert len(seen.faces) == 1


async def test_the_worker_ends_with_the_bot(school: BotHarness) -> None:
    await send(school, ADMIN, jpeg(group_photo(1, 1, 300)), "Amelia Smith")
    assert WORKER._pool is not None
    [process] = list(WORKER._pool._processes.values())

    await school.restart()

    assert not process.is_alive() and process.exitcode is not None  # gone and reaped: no orphan, no zombie
    assert WORKER._pool is None


async def test_thirty_taps_while_the_copy_is_on_its_way_make_one_copy(school: BotHarness) -> None:
    preview = preview_of(await send(school, ADMIN, jpeg(group_photo(3, 1, 300)), "Amelia Smith"))
    mark = school.emu.mark()
    busy = asyncio.ensure_future(WORKER.run(time.sleep, 3))  # another admin's big photo: the copy waits its turn

    for _ in range(30):
        school.emu.press(ADMIN, preview, button="Blur 1")
    await school.settle()
    await busy

    copies = [m for m in school.emu.since(mark, ADMIN) if m.photo]
    assert len(copies) == 1 and "Box 1 blurred" in copies[0].plain
    assert len([e for e in school.audit() if e.action == "photo blurred"]) == 1


def test_a_strip_one_pixel_high_is_not_read_for_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OCR took 7 s over a 12,000 × 2 picture (1,280 × 1 at working size): a file anyone can make, for each photo."""
    from bot.photos import text

    def reader() -> object:
        raise AssertionError("the OCR ran over a picture no letter fits in")

    monkeypatch.setattr(text, "_reader", reader)
    out = io.BytesIO()
    Image.new("RGB", (12_000, 2), (200, 200, 200)).save(out, "PNG")

    seen = analysis.analyse(out.getvalue(), False)

    assert seen.text == () and seen.faces == ()


WORKER_THEN_KILLED = """
import asyncio, os, sys, time
sys.path.insert(0, sys.argv[1])
from bot.photos.worker import PhotoWorker

async def main():
    worker = PhotoWorker()
    await worker.run(time.sleep, 0)
    print(*worker._pool._processes, flush=True)
    os.kill(os.getpid(), 9)  # the bot's process killed: close() never runs

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_a_worker_ends_itself_when_the_bot_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "killed_bot.py"
    script.write_text(WORKER_THEN_KILLED)
    printed = tmp_path / "worker.pid"
    with printed.open("w") as out:  # a file, not a pipe: an orphan holding a pipe open would hang the test
        subprocess.run([sys.executable, str(script), str(Path(__file__).parents[1])], stdout=out, timeout=120, check=False)
    pid = int(printed.read_text().split()[0])

    for _ in range(100):  # the worker notices within moments; an orphan would stay for ever
        if not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError("the photo worker outlived the bot")


PUPILS = PupilIndex([Pupil("1", "Amelia", "Smith", class_name="3B"), Pupil("2", "Noah", "Jones")])


def test_a_name_printed_twice_is_boxed_twice_so_blur_all_hides_both() -> None:
    lines = [TextLine("Certificate: Amelia Smith", Box(40, 600, 400, 30)), TextLine("AMELIA SMITH", Box(900, 200, 200, 24))]

    found = text_findings(lines, DraftChecker(PUPILS, DraftPolicy()))

    assert [(t.finding.kind, t.box) for t in found] == [("pupil_full_name", lines[0].box), ("pupil_full_name", lines[1].box)]


def test_a_name_on_two_lines_is_found_on_a_page_of_two_columns() -> None:
    badge_first, beside, badge_last = (
        TextLine("Amelia", Box(40, 100, 120, 30)),
        TextLine("Year 3 results", Box(500, 100, 260, 30)),  # read between the badge's two lines
        TextLine("Smith", Box(40, 140, 110, 30)),
    )

    found = text_findings([badge_first, beside, badge_last], DraftChecker(PUPILS, DraftPolicy()))

    assert ("pupil_full_name", Box(40, 100, 120, 70)) in [(t.finding.kind, t.box) for t in found]


async def test_a_wall_of_certificates_has_every_name_boxed_and_a_reply_within_telegrams_limit(school: BotHarness) -> None:
    photo = group_photo(6, 4, 256)
    for row in range(12):
        photo = with_text(photo, f"Amelia Smith and Grace Lee {row}", (20, 40 + row * 80), 26)
        photo = with_text(photo, f"Zoe O'Brien Ollie Smith-Jones {row}", (800, 40 + row * 80), 26)

    messages = await send(school, ADMIN, jpeg(photo), "Grace Lee", as_file=True)

    summary = summary_of(messages)  # whole lines only, and the count of those left for the preview
    assert len(summary) <= 4096 and summary.endswith("more (see the numbers on the preview).")
    assert summary.count("‹Amelia Smith›") > 3  # before: each name once, however often it was printed
    preview = preview_of(messages)
    assert "Only the first 20 have buttons; Blur all hides every one." in preview.plain
    assert "Photo safety" not in preview.plain, "too long for a caption: the summary is a text, the preview keeps its key"


async def test_photos_sent_at_once_wait_as_file_ids_not_in_the_bots_memory(school: BotHarness) -> None:
    """Ten 15 MB originals at once were all fetched into the bot's process while they queued for the worker."""
    from tests.conftest import ADMIN2

    busy = asyncio.ensure_future(WORKER.run(time.sleep, 8))  # the worker on someone's big photo
    await asyncio.sleep(0.5)
    mark, before = school.emu.mark(), len(school.emu.downloaded)
    for n in range(6):
        school.emu.send_document(
            (ADMIN, ADMIN2)[n % 2], jpeg(group_photo(1, 1, 200 + n)), f"IMG_{n}.jpg", "image/jpeg", caption="Amelia Smith"
        )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while len([m for m in school.emu.since(mark) if "listed" in m.plain]) < 6:  # every consent question answered
        assert loop.time() < deadline
        await asyncio.sleep(0.05)

    assert not busy.done() and len(school.emu.downloaded) - before <= 2

    await busy
    await school.settle()
    assert len([m for m in school.emu.since(mark) if "Photo safety" in m.plain]) == 6
