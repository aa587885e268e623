"""What cannot be undone is asked once more, on the same message: "Yes, revoke Ada Admin's access" /
"Cancel". A Yes counts once, only for the leader asked, only while nothing changed meanwhile,
and it survives a restart (or says plainly that it expired).
"""

from __future__ import annotations

from typing import Any

from bot.roles import Role
from bot.shell.callbacks import pack
from tests.conftest import ADMIN, HEAD, SLT, STRANGER, BotHarness, decline


def labels(message: Any) -> list[str]:
    return [label for label, _ in message.buttons]


def revocations(bot: BotHarness) -> list[Any]:
    return [e for e in bot.audit() if e.action == "revoke" and e.outcome == "ok"]


async def meet(bot: BotHarness, *people: int) -> None:
    for person in people:
        await bot.say(person, "/help")


async def test_revoke_asks_first_and_yes_on_the_same_message_removes_access_once(bot: BotHarness) -> None:
    await meet(bot, ADMIN)
    [asked] = await bot.say(HEAD, f"/revoke {ADMIN}")
    assert "Remove Ada Admin's access?" in asked.plain and "a page admin" in asked.plain
    assert labels(asked) == ["Yes, revoke Ada Admin's access", "Cancel"]
    assert bot.services.staff.role_of(ADMIN) is Role.ADMIN, "nothing changes on the first tap"

    mark = bot.emu.mark()
    yes = dict(asked.buttons)["Yes, revoke Ada Admin's access"]
    await bot.press(HEAD, asked, data=yes)
    assert bot.services.staff.role_of(ADMIN) is None
    assert "Done: their access is removed." in asked.plain and not asked.buttons, "the question becomes the answer"
    assert bot.emu.since(mark, HEAD) == [], "no new message for the tap"
    [told] = bot.emu.since(mark, ADMIN)
    assert "has ended" in told.plain

    again = await bot.press(HEAD, asked, data=yes)  # a double tap, or the same data sent again
    assert again and "Already answered" in again["text"]
    assert len(revocations(bot)) == 1 and len(bot.emu.since(mark, ADMIN)) == 1


async def test_cancel_changes_nothing_and_its_yes_no_longer_works(bot: BotHarness) -> None:
    [asked] = await bot.say(HEAD, f"/revoke {ADMIN}")
    yes = asked.buttons[0][1]
    await bot.press(HEAD, asked, "Cancel")
    assert "Cancelled: nothing changed." in asked.plain and not asked.buttons
    late = await bot.press(HEAD, asked, data=yes)
    assert late and "Already answered" in late["text"]
    assert bot.services.staff.role_of(ADMIN) is Role.ADMIN and revocations(bot) == []


async def test_a_forged_or_borrowed_yes_changes_nothing(bot: BotHarness) -> None:
    [asked] = await bot.say(HEAD, f"/revoke {ADMIN}")
    yes = asked.buttons[0][1]
    [own] = await bot.say(SLT, "/help")
    borrowed = await bot.press(SLT, own, data=yes)  # another leader with the Head's token: never asked of them
    assert borrowed and "expired" in borrowed["text"]
    for data in (
        pack("acc", "sure", "0123456789ab"),
        pack("acc", "sure"),
        pack("acc", "rv", ADMIN),
        pack("acc", "admit", "ffff"),
    ):
        await bot.press(HEAD, asked, data=data)
    assert bot.services.staff.role_of(ADMIN) is Role.ADMIN and revocations(bot) == []
    await bot.press(ADMIN, own, data=yes)  # someone who may not manage staff at all
    assert bot.services.staff.role_of(ADMIN) is Role.ADMIN
    assert any(e.outcome == "refused: not asked" for e in bot.audit())


async def test_the_role_is_checked_again_at_the_yes(bot: BotHarness) -> None:
    [asked] = await bot.say(SLT, f"/revoke {ADMIN}")
    await bot.say(HEAD, f"/grant {SLT} admin")  # lowered while the question waits
    refused = await bot.press(SLT, asked, asked.buttons[0][0])
    assert refused and "Sorry" in refused["text"]
    assert bot.services.staff.role_of(ADMIN) is Role.ADMIN


async def test_a_yes_after_the_person_s_access_changed_meanwhile_changes_nothing(bot: BotHarness) -> None:
    await meet(bot, ADMIN)
    [asked] = await bot.say(SLT, f"/revoke {ADMIN}")
    await bot.say(HEAD, f"/grant {ADMIN} office")
    await bot.press(SLT, asked, asked.buttons[0][0])
    assert bot.services.staff.role_of(ADMIN) is Role.OFFICE
    assert "Nothing changed: Ada Admin's access changed since you were asked" in asked.plain and not asked.buttons


async def test_a_question_survives_a_restart_and_then_expires_plainly(bot: BotHarness) -> None:
    [first] = await bot.say(HEAD, f"/revoke {ADMIN}")
    await bot.restart()
    await bot.press(HEAD, first, first.buttons[0][0])
    assert bot.services.staff.role_of(ADMIN) is None and "Done" in first.plain

    await bot.say(HEAD, f"/grant {ADMIN} admin")
    [second] = await bot.say(HEAD, f"/revoke {ADMIN}")
    await bot.restart()
    bot.clock.advance(minutes=31)
    await bot.press(HEAD, second, second.buttons[0][0])
    assert "This question has expired: nothing changed." in second.plain and f"/revoke {ADMIN}" in second.plain
    assert bot.services.staff.role_of(ADMIN) is Role.ADMIN and not second.buttons


async def test_make_admin_names_the_person_and_a_double_tap_grants_once(bot: BotHarness) -> None:
    [prompt] = await bot.say(STRANGER, "/start")
    await bot.press(STRANGER, prompt, "Request access")
    card = bot.last(HEAD)
    await bot.press(HEAD, card, "Make admin")
    assert labels(card) == ["Yes, make Stan Stranger a page admin", "Back"]
    yes = card.buttons[0][1]
    await bot.restart()  # the question is kept on disk
    await bot.press(HEAD, card, data=yes)
    again = await bot.press(HEAD, card, data=yes)
    assert bot.services.staff.role_of(STRANGER) is Role.ADMIN
    assert again and "Already answered" in again["text"]
    assert len([e for e in bot.audit() if e.action == "grant" and e.outcome == "ok"]) == 1
    assert len([m for m in bot.emu.messages_to(STRANGER) if "approved" in m.plain]) == 1


async def test_a_make_admin_yes_after_another_leader_declined_changes_nothing(bot: BotHarness) -> None:
    [prompt] = await bot.say(STRANGER, "/start")
    await bot.press(STRANGER, prompt, "Request access")
    head_card = bot.last(HEAD)
    await bot.press(HEAD, head_card, "Make admin")
    yes = head_card.buttons[0][1]
    await decline(bot, SLT, bot.last(SLT))
    late = await bot.press(HEAD, head_card, data=yes)
    assert late and late["text"] == "Already decided by Sam Leader: nothing changed."
    assert bot.services.staff.role_of(STRANGER) is None


async def test_decline_asks_first_and_back_keeps_the_request(bot: BotHarness) -> None:
    [prompt] = await bot.say(STRANGER, "/start")
    await bot.press(STRANGER, prompt, "Request access")
    card = bot.last(SLT)
    await bot.press(SLT, card, "Decline")
    assert "Decline Stan Stranger's request?" in card.plain and "cannot ask again for 7 days" in card.plain
    assert labels(card) == ["Yes, decline Stan Stranger", "Back"]
    assert bot.services.staff.pending_request(STRANGER) is not None, "nothing changes on the first tap"
    await bot.press(SLT, card, "Back")
    assert labels(card) == ["Make admin", "Make office", "Decline"]
    assert bot.services.staff.pending_request(STRANGER) is not None
    await decline(bot, SLT, card)
    assert bot.services.staff.pending_request(STRANGER) is None and "❌ Declined by Sam Leader" in card.plain
