"""What a newcomer met in the demo and the README walk-through (found by following them literally)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.applications import PaperForm
from bot.config import Config
from bot.records.applications import Child
from tests.conftest import HEAD, BotHarness, make_config
from tests.test_consent_bot import load


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir)


async def test_pupil_lists_an_application_without_a_relationship_without_empty_brackets(bot: BotHarness) -> None:
    """A Telegram join request records no relationship: /pupil showed "Stan Jones (), pending"."""
    load(bot)
    await bot.say(HEAD, "/help")
    form = PaperForm("Jo Smith", "", [Child("Amelia Smith", "P001")], conduct_signed=True)
    bot.services.application_desk.record_paper(form, HEAD, "Helen Head")
    *summary, _document = await bot.say(HEAD, "/pupil Amelia Smith")
    text = "\n".join(m.plain for m in summary)
    assert "Jo Smith, pending" in text and "()" not in text
