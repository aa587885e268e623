"""Numbers typed after a command: only ASCII digits count, and anything else gets a friendly usage.

"²" passes str.isdigit() and "٣" (Arabic-Indic three) passes int(): before, the first crashed the
handler ("Something went wrong") and the second named a number nobody typed.
"""

from __future__ import annotations

import pytest

from bot.numbers import TELEGRAM_USER_ID_MAX, parse_number, parse_user_id
from bot.shell.callbacks import pack, unpack
from handlers.errors import SORRY
from tests.conftest import ADMIN, ADMIN2, HEAD, SLT, BotHarness

ODD_NUMBERS = ("²", "³", "٣", "１", "1²", "1_0", "-3", "+3", "0x10", "1e3", "½")


@pytest.mark.parametrize("text", ODD_NUMBERS)
def test_only_ascii_digits_make_a_number(text: str) -> None:
    assert parse_number(text, maximum=10**9) is None
    assert parse_user_id(text) is None


def test_user_ids_stay_inside_what_telegram_issues() -> None:
    assert parse_user_id(" 123456789 ") == 123456789
    assert parse_user_id(str(TELEGRAM_USER_ID_MAX)) == TELEGRAM_USER_ID_MAX
    for text in ("0", str(TELEGRAM_USER_ID_MAX + 1), "18446744073709551616", "9" * 400):
        assert parse_user_id(text) is None


def test_button_numbers_parse_the_same_way() -> None:
    assert unpack(pack("staff", "page", 2)).int_arg(0) == 2  # type: ignore[union-attr]
    assert unpack(pack("staff", "page", 0)).int_arg(0) == 0  # type: ignore[union-attr]
    for forged in ("1_0", "-1", "9" * 30):
        assert unpack(f"1:staff:page:{forged}").int_arg(0) is None  # type: ignore[union-attr]


async def _never_crashes(bot: BotHarness, user: int, text: str) -> str:
    replies = await bot.say(user, text)
    assert replies, f"{text!r}: no answer"
    said = "\n".join(r.plain for r in replies)
    assert SORRY not in said, f"{text!r} crashed the handler"
    return said


@pytest.mark.parametrize("digit", ["²", "٣"])
async def test_grant_with_odd_digits_gets_usage_and_grants_nobody(bot: BotHarness, digit: str) -> None:
    said = await _never_crashes(bot, HEAD, f"/grant {digit} admin")
    assert "not a Telegram user id" in said
    assert bot.services.staff.role_of(3) is None


@pytest.mark.parametrize("digit", ["³", "٣"])
async def test_revoke_with_odd_digits_gets_usage_and_revokes_nobody(bot: BotHarness, digit: str) -> None:
    said = await _never_crashes(bot, HEAD, f"/revoke {digit}")
    assert "not a Telegram user id" in said


@pytest.mark.parametrize("digit", ["²", "٣"])
async def test_rota_with_odd_digits_says_who_it_does_not_know(bot: BotHarness, digit: str) -> None:
    said = await _never_crashes(bot, SLT, f"/rota daily {digit}")
    assert "I don't know anyone called" in said
    said = await _never_crashes(bot, SLT, f"/rota fixed mon {ADMIN},{digit}")
    assert "I don't know anyone called" in said
    assert "Rota changed" in await _never_crashes(bot, SLT, f"/rota daily {ADMIN} {ADMIN2}")


@pytest.mark.parametrize("digit", ["²", "٣", "INC-٠٠٠١"])
async def test_incident_and_application_with_odd_digits_get_usage(bot: BotHarness, digit: str) -> None:
    assert "Usage" in await _never_crashes(bot, HEAD, f"/incident {digit}")
    assert "Usage" in await _never_crashes(bot, HEAD, f"/application {digit}")


async def test_a_forged_page_number_shows_the_first_page(bot: BotHarness) -> None:
    for n in range(20):
        await bot.say(HEAD, f"/grant {50000 + n} admin")
        await bot.press(HEAD, bot.last(HEAD), bot.last(HEAD).buttons[0][0])
    [first] = await bot.say(HEAD, "/staff")
    await bot.press(HEAD, first, "Next ›")
    assert "Page 2 of" in bot.last(HEAD).plain
    await bot.press(HEAD, first, data="1:staff:page:1_0")
    assert "Page 1 of" in bot.last(HEAD).plain
