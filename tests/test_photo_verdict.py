"""Consent for the pupils named is not the whole answer for a photo: when photo safety sees faces nobody
named, or a pupil's name readable in it, the verdict says "Not yet", never "OK to upload" (policy 4.4, 3.4),
whether the picture was looked at before the destination tap or after it."""

from __future__ import annotations

import asyncio

import pytest

import handlers.consent.safety
from emulator import SentMessage
from tests.conftest import ADMIN, BotHarness
from tests.photo_samples import group_photo, jpeg
from tests.test_consent_bot import load
from tests.test_photo_bot import send

FOUR_CLEAR = "Amelia Smith\nZoe O'Brien\nGrace Lee\nAmelia Jones"  # each with consent for the Facebook page


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot)
    return bot


def question_in(messages: list) -> SentMessage:
    [question] = [m for m in messages if any(label == "Facebook page" for label, _ in m.buttons)]
    return question


async def test_six_faces_and_four_pupils_named_is_not_yet_ok_to_upload(school: BotHarness) -> None:
    question = question_in(await send(school, ADMIN, jpeg(group_photo(3, 2, 420)), FOUR_CLEAR))
    await school.press(ADMIN, question, "Facebook page")
    verdict = question.plain
    assert "Not yet" in verdict and "I can see 6 faces and 4 pupils are named" in verdict
    assert "OK to upload" not in verdict and "✅ Amelia Smith" in verdict


async def test_as_many_faces_as_pupils_named_and_all_clear_is_ok_to_upload(school: BotHarness) -> None:
    question = question_in(await send(school, ADMIN, jpeg(group_photo(2, 2, 420)), FOUR_CLEAR))
    await school.press(ADMIN, question, "Facebook page")
    verdict = question.plain
    assert "OK to upload" in verdict and "Not yet" not in verdict


async def test_a_verdict_shown_before_the_photo_was_looked_at_is_corrected_in_place(
    school: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_at = asyncio.Event()
    real_download = handlers.consent.safety._download

    async def slow_download(context: object, file_id: str) -> bytes:
        await looked_at.wait()  # the admin taps the destination before the picture has been read
        return await real_download(context, file_id)  # type: ignore[arg-type]

    monkeypatch.setattr(handlers.consent.safety, "_download", slow_download)
    mark = school.emu.mark()
    school.emu.send_photo(ADMIN, jpeg(group_photo(3, 2, 420)), caption=FOUR_CLEAR)
    for _ in range(200):
        if [m for m in school.emu.since(mark, ADMIN) if m.buttons]:
            break
        await asyncio.sleep(0.05)
    question = question_in(school.emu.since(mark, ADMIN))
    school.emu.press(ADMIN, question, button="Facebook page")
    for _ in range(200):
        if "OK to upload" in question.plain:
            break
        await asyncio.sleep(0.05)
    shown = question.plain
    looked_at.set()
    await school.settle()
    assert "OK to upload" in shown, "the verdict came first, on consent alone"
    verdict = question.plain
    assert "Not yet" in verdict and "I can see 6 faces" in verdict
