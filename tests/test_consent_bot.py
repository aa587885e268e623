"""Photo consent and draft checks, as an admin meets them on a phone before uploading."""

from __future__ import annotations

import pytest

from bot.register import PendingImport
from tests.conftest import ADMIN, HEAD, OFFICE, SLT, STRANGER, BotHarness

HEADER = (
    "pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn\n"
)
REGISTER = HEADER + (
    "P001,Amelia,Smith,,Year 3,yes,yes,no,2025-09-05,,\n"
    "P002,Zoë,O'Brien,,Year 4,yes,yes,yes,2025-09-05,2027-07-31,\n"
    "P003,Oliver,Smith-Jones,Ollie,Year 3,no,yes,no,2025-09-06,,\n"
    "P004,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,2026-10-01\n"
    "P005,Isla,Brown,,Year 6,yes,no,no,2024-09-05,2025-07-31,\n"
    "P006,Amelia,Jones,,Year 1,yes,yes,yes,2025-09-08,,\n"
    "P007,Ben <b>,Tom & Jerry,,Year 2,yes,yes,yes,2025-09-08,,\n"
    "P008,Grace,Lee,,Year 2,yes,yes,yes,2025-09-08,2026-12-10,\n"
)


def load(bot: BotHarness, csv: str = REGISTER) -> None:
    register = bot.services.register
    parsed, preview = register.prepare_import(0, csv.encode())
    assert preview is not None, parsed.fatal
    register.commit_import(0, PendingImport(parsed, preview))


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot)
    return bot


async def test_typo_asks_first_then_the_card_shows_each_purpose(school: BotHarness) -> None:
    [ask] = await school.say(ADMIN, "/consent Amelai Smth")
    assert "Did you mean Amelia Smith (Year 3)?" in ask.plain and "✅" not in ask.plain
    await school.press(ADMIN, ask, "Amelia Smith (Year 3)")
    card = school.last(ADMIN)
    assert "Amelia Smith" in card.plain
    assert "✅ Facebook page" in card.plain
    assert "✅ parents' private group" in card.plain
    assert "❌ press and publicity — not given on the form" in card.plain


@pytest.mark.parametrize(
    "typed, shown",
    [
        ("zoe o'brien", "Zoë O'Brien"),
        ("Zoë OBrien", "Zoë O'Brien"),
        ("ollie smith jones", "Ollie Smith-Jones"),
        ("/perm Oliver Smith-Jones", "Ollie Smith-Jones"),
    ],
)
async def test_accents_apostrophes_hyphens_and_preferred_names(school: BotHarness, typed: str, shown: str) -> None:
    text = typed if typed.startswith("/") else f"/consent {typed}"
    [card] = await school.say(ADMIN, text)
    assert shown in card.plain and "✅" in card.plain


async def test_withdrawn_and_expired_are_no_with_the_date(school: BotHarness) -> None:
    [noah] = await school.say(ADMIN, "/consent Noah Williams")
    purposes = noah.plain.split("\n\n")[0]
    assert purposes.count("❌") == 3 and "withdrawn on 1 Oct 2026" in purposes and "✅" not in purposes
    [isla] = await school.say(ADMIN, "/consent Isla Brown")
    assert "expired on 31 Jul 2025" in isla.plain


async def test_first_name_only_offers_buttons_and_a_tap_gives_the_card(school: BotHarness) -> None:
    [choice] = await school.say(ADMIN, "/consent amelia")
    assert "Did you mean Amelia Jones (Year 1), or another pupil below?" in choice.plain
    labels = [label for label, _ in choice.buttons]
    assert labels == ["Amelia Jones (Year 1)", "Amelia Smith (Year 3)", "None of these"]
    await school.press(ADMIN, choice, "Amelia Smith (Year 3)")
    assert "❌ press and publicity" in school.last(ADMIN).plain


async def test_unknown_name_is_no_record_treat_as_no(school: BotHarness) -> None:
    [card] = await school.say(ADMIN, "/consent Xavier Quentin")
    assert "No consent record" in card.plain and "treat as NO (policy 4.1)" in card.plain
    assert "✅" not in card.plain


async def test_html_in_names_is_escaped_everywhere(school: BotHarness) -> None:
    [card] = await school.say(ADMIN, "/consent Tom & Jerry")
    assert "Ben <b> Tom & Jerry" in card.plain
    assert "Ben &lt;b&gt; Tom &amp; Jerry" in card.text
    [report] = await school.say(ADMIN, "/checkpost Look at <i>this</i> & that")
    assert "Looks fine" in report.plain


async def test_photo_caption_check_blocks_when_any_pupil_is_not_clear(school: BotHarness) -> None:
    mark = school.emu.mark()
    school.emu.send_photo(ADMIN, b"jpeg", caption="Amelia Smith\nZoe O'Brien\nNoah Williams\nMystery Child")
    await school.settle()
    [ask] = school.emu.since(mark, ADMIN)
    assert "4 pupils listed" in ask.plain
    await school.press(ADMIN, ask, "Facebook page")
    report = school.last(ADMIN).plain
    assert "✅ Amelia Smith" in report and "✅ Zoë O'Brien" in report
    assert "❌ Noah Williams — withdrawn on 1 Oct 2026" in report
    assert "❌ “Mystery Child” — not found" in report
    assert "Do not upload" in report and "OK to upload" not in report
    photo_checks = [e for e in school.audit() if e.action == "photo check"]
    assert photo_checks and photo_checks[-1].target.startswith("photo ") and "Noah" not in photo_checks[-1].detail


async def test_check_with_names_gives_ok_only_when_everyone_is_clear(school: BotHarness) -> None:
    [ask] = await school.say(ADMIN, "/check\nAmelia Smith\nZoe O'Brien")
    await school.press(ADMIN, ask, "parents' private group")
    assert "OK to upload" in school.last(ADMIN).plain
    [ask] = await school.say(ADMIN, "/check\namelia")  # two Amelias: not confirmed blocks
    await school.press(ADMIN, ask, "parents' private group")
    assert "❌ “amelia” — not confirmed" in school.last(ADMIN).plain and "Do not upload" in school.last(ADMIN).plain


async def test_check_then_names_in_the_next_message_and_cancel(school: BotHarness) -> None:
    [prompt] = await school.say(ADMIN, "/check")
    assert "one per line" in prompt.plain
    [ask] = await school.say(ADMIN, "Grace Lee")
    await school.press(ADMIN, ask, "press and publicity")
    assert "OK to upload" in school.last(ADMIN).plain
    await school.say(ADMIN, "/check")
    [stopped] = await school.say(ADMIN, "/cancel")
    assert "Nothing was checked" in stopped.plain


async def test_stale_or_forged_destination_changes_nothing(school: BotHarness) -> None:
    [ask] = await school.say(ADMIN, "/check\nAmelia Smith")
    data = ask.buttons[0][1]
    await school.press(ADMIN, ask, 0)
    answer = await school.press(ADMIN, ask, data=data)
    assert answer and "expired" in answer["text"]
    answer = await school.press(ADMIN, ask, data="1:con:dest:999:page")
    assert answer and "expired" in answer["text"]


async def test_draft_check_flags_names_profanity_and_personal_data(school: BotHarness) -> None:
    [report] = await school.say(ADMIN, "/checkpost Well done Amelia Smith and Zoe! sh1t. Ring 07700 900123 or a@b.com, SW1A 1AA")
    text = report.plain
    assert "Do not post" in text
    assert "Pupil's full name: “Amelia Smith”" in text
    assert "Pupil's first name: “Zoe”" in text
    assert "Offensive language: “sh1t”" in text
    assert "07700 900123" in text and "a@b.com" in text and "SW1A 1AA" in text


async def test_draft_check_as_a_reply_and_the_pantomime_passes(school: BotHarness) -> None:
    draft = school.emu.send_text(ADMIN, "Tickets for Dick Whittington go on sale on Monday, with grace and good humour!")
    await school.settle()
    [report] = await school.say(ADMIN, "/checkpost", reply_to=draft["message_id"])
    assert "Looks fine to post" in report.plain


async def test_import_previews_then_confirms_and_marks_leavers(school: BotHarness) -> None:
    changed = REGISTER.replace("P001,Amelia,Smith,,Year 3,yes,yes,no", "P001,Amelia,Smith,,Year 4,yes,yes,yes")
    changed = (
        "\n".join(line for line in changed.splitlines() if not line.startswith("P008"))
        + "\nP009,New,Pupil,,Year 1,yes,no,no,2026-09-01,,\n"
    )
    mark = school.emu.mark()
    school.emu.send_document(OFFICE, changed.encode(), "register.csv", "text/csv")
    await school.settle()
    [preview] = school.emu.since(mark, OFFICE)
    confirm = dict(preview.buttons)["Confirm"]
    assert "New pupils: 1" in preview.plain and "Changed: 1" in preview.plain and "Leaving" in preview.plain
    assert school.services.consents.get("P009") is None  # nothing written before Confirm
    await school.press(OFFICE, preview, "Confirm")
    assert "Register loaded" in school.last(OFFICE).plain
    assert school.services.consents.get("P009") is not None
    assert school.services.consents.get("P008").left
    [card] = await school.say(ADMIN, "/consent Grace Lee")
    assert "No consent record" in card.plain
    again = await school.press(OFFICE, preview, data=confirm)  # a double tap
    assert again and "already used" in again["text"]


async def test_a_bad_file_is_reported_and_changes_nothing(school: BotHarness) -> None:
    before = school.services.consents.all()
    bad = HEADER.replace("withdrawn", "withdrawl") + "P001,Amelia,Smith,,Year 3,yes,yes,no,2025-09-05,,\n"
    mark = school.emu.mark()
    school.emu.send_document(OFFICE, bad.encode(), "register.csv", "text/csv")
    school.emu.send_document(OFFICE, b"\x89PNG\x00\x00binary", "register.csv", "text/csv")
    school.emu.send_document(OFFICE, b"%PDF-1.4", "register.pdf", "application/pdf")
    rows = HEADER + "P001,Amelia,Smith,,Year 3,maybe,yes,no,2025-09-05,,\n"
    school.emu.send_document(OFFICE, rows.encode(), "register.csv", "text/csv")
    await school.settle()
    replies = [m.plain for m in school.emu.since(mark, OFFICE)]
    assert "cannot be loaded" in replies[0] and "withdrawn" in replies[0]
    assert "cannot be loaded" in replies[1]
    assert "not a CSV file" in replies[2]
    assert "line 2" in replies[3] and "maybe" in replies[3]
    assert all(not m.buttons for m in school.emu.since(mark, OFFICE)[:3])
    assert school.services.consents.all() == before


async def test_semicolons_and_a_bom_are_understood(school: BotHarness) -> None:
    csv = "\ufeff" + REGISTER.replace(",", ";")
    mark = school.emu.mark()
    school.emu.send_document(OFFICE, csv.encode("utf-8"), "register.csv", "text/csv")
    await school.settle()
    [preview] = school.emu.since(mark, OFFICE)
    assert "Unchanged: 8" in preview.plain


async def test_oversized_file_is_refused_before_download(bot: BotHarness) -> None:
    big = (HEADER + "P1,A,B,,C,yes,yes,yes,,,\n" * 120_000).encode()
    mark = bot.emu.mark()
    bot.emu.send_document(OFFICE, big, "register.csv", "text/csv")
    await bot.settle()
    [reply] = bot.emu.since(mark, OFFICE)
    assert "too big" in reply.plain
    assert not bot.emu.downloaded


async def test_expiring_lists_forms_ending_soon_for_office(school: BotHarness) -> None:
    [listing] = await school.say(OFFICE, "/expiring")
    assert "Grace Lee" in listing.plain and "10 Dec 2026" in listing.plain
    assert "Zoë" not in listing.plain


async def test_end_of_year_reminder_goes_to_office_and_head_once(school: BotHarness) -> None:
    load(school, REGISTER.replace("2027-07-31", "2027-07-20"))
    school.clock.set(school.clock.now().replace(year=2027, month=7, day=1, hour=7))
    await school.tick()
    assert not any("1 form ends soon" in m.plain for m in school.emu.messages_to(OFFICE))
    await school.advance(hours=2)
    reminder = school.last(OFFICE)
    assert "1 form ends soon" in reminder.plain and "Zoë O'Brien" in reminder.plain
    assert "1 form ends soon" in school.last(HEAD).plain
    await school.advance(days=1)
    await school.restart()
    await school.tick()
    assert sum("1 form ends soon" in m.plain for m in school.emu.messages_to(OFFICE)) == 1


async def test_privacy_strangers_groups_and_roles(school: BotHarness) -> None:
    [reply] = await school.say(STRANGER, "/consent Amelia Smith")
    assert "Amelia" not in reply.plain and "only for staff" in reply.plain
    school.emu.add_group(-100300, "Staff room")
    assert await school.say(ADMIN, "/consent Amelia Smith", chat_id=-100300) == []  # nothing said in the group
    assert "Amelia" not in school.last(ADMIN).plain and "private chat" in school.last(ADMIN).plain
    [refused] = await school.say(OFFICE, "/consent Amelia Smith")
    assert "Sorry" in refused.plain and "Amelia" not in refused.plain
    [refused] = await school.say(ADMIN, "/import")
    assert "Sorry" in refused.plain
    lookups = [e for e in school.audit() if e.action == "consent lookup"]
    assert {e.outcome for e in lookups} >= {"refused: not staff", "refused: group chat", "refused: role"}


async def test_every_lookup_is_audited_by_pupil_id_not_name(school: BotHarness) -> None:
    await school.say(SLT, "/consent Amelia Smith")
    entry = [e for e in school.audit() if e.action == "consent lookup"][-1]
    assert entry.actor_id == SLT and entry.target == "P001" and entry.outcome == "one"
    for e in school.audit():
        assert "Amelia" not in e.target + e.detail


async def test_long_inputs_get_friendly_limits(school: BotHarness) -> None:
    [reply] = await school.say(ADMIN, "/consent " + "a" * 500)
    assert "too long" in reply.plain
    [reply] = await school.say(ADMIN, "/consent")
    assert "Usage" in reply.plain
    names = "\n".join(f"Pupil {n}" for n in range(300))
    [refused] = await school.say(ADMIN, "/check\n" + names[:3900])
    assert "too long" in refused.plain and not refused.buttons  # never a check that silently drops pupils
    [refused] = await school.say(ADMIN, "/check\n" + "\n".join(f"Pupil {n}" for n in range(41)))
    assert "at most 40" in refused.plain and not refused.buttons
    longest = "\n".join(f"{'x' * 45}{n}" for n in range(38)) + "\nAmelia Smyth\nAmelia Smyth"
    [ask] = await school.say(ADMIN, "/check\n" + longest)
    await school.press(ADMIN, ask, 0)
    await school.press(ADMIN, school.last(ADMIN), "None of these")
    report = school.last(ADMIN)
    assert len(report.text) <= 4096 and "1 name not confirmed" in report.plain


def test_command_line_import_previews_and_loads_with_yes(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    config = tmp_path / "config.toml"
    config.write_text(
        (root / "config.example.toml")
        .read_text()
        .replace('data_dir = "data"', f'data_dir = "{tmp_path / "data"}"')
        .replace("[111111111]", "[1001]")
        .replace("[222222222]", "[1003]")  # the example's made-up ids are refused
        .replace("[333333333]", "[1005]")
        .replace("[444444444]", "[1007]")
    )
    register = tmp_path / "register.csv"
    register.write_text(REGISTER)

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "import", str(register), "--config", str(config), *extra],
            capture_output=True,
            text=True,
            cwd=root,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    dry = run()
    assert dry.returncode == 0 and "New 8" in dry.stdout and "Nothing was changed" in dry.stdout
    loaded = run("--yes")
    assert loaded.returncode == 0 and "Register loaded" in loaded.stdout
    again = run("--yes")
    assert "unchanged 8" in again.stdout
    register.write_text(HEADER + "P001,Amelia,Smith,,Year 3,perhaps,yes,no,2025-09-05,,\n")
    refused = run("--yes")
    assert refused.returncode == 1 and "perhaps" in refused.stdout and "Amelia" not in refused.stdout


async def test_many_matches_show_eight_buttons_and_ask_for_more_of_the_name(bot: BotHarness) -> None:
    rows = "".join(f"Q{n:02d},Amelia,Surname{chr(65 + n)},,Year 2,yes,yes,yes,2025-09-01,,\n" for n in range(12))
    load(bot, HEADER + rows)
    [choice] = await bot.say(ADMIN, "/consent Amelia")
    assert len(choice.buttons) == 9 and choice.buttons[-1][0] == "None of these"
    assert "type more of the name" in choice.plain


# ---- identity before verdict (issue 11) --------------------------------------------------------
NEAR_NAMES = REGISTER.replace("P006,Amelia,Jones,,", "P006,Amelia,Jones,Millie,") + (
    "P009,Sophie,Thompson,,Year 2,yes,yes,yes,2025-09-08,,\n"
    "P010,Charlie,Green,,Year 4,yes,yes,yes,2025-09-08,,\n"
    "P011,Harriet,Green,,Year 4,no,no,no,2025-09-08,,\n"
    "P012,Zoe,Smith,,Year 2,yes,yes,yes,2025-09-08,,\n"
    "P013,Joe,Smith,,Year 2,no,no,no,2025-09-08,,\n"
)


@pytest.fixture
async def near(bot: BotHarness) -> BotHarness:
    load(bot, NEAR_NAMES)
    return bot


def labels(message) -> list[str]:
    return [label for label, _ in message.buttons]


async def test_check_counts_the_names_on_the_check_line_and_every_line_after(near: BotHarness) -> None:
    [ask] = await near.say(ADMIN, "/check Noah Williams\nAmelia Smith")
    assert "2 pupils listed" in ask.plain
    await near.press(ADMIN, ask, "Facebook page")
    report = near.last(ADMIN).plain
    assert "❌ Noah Williams — withdrawn on 1 Oct 2026" in report and "✅ Amelia Smith" in report
    assert "Do not upload" in report and "OK to upload" not in report
    [ask] = await near.say(ADMIN, "/check Amelia Smith, Noah Williams\nSMITH, Zoe")
    assert "3 pupils listed" in ask.plain
    await near.press(ADMIN, ask, "Facebook page")
    report = near.last(ADMIN).plain
    assert "✅ Amelia Smith" in report and "✅ Zoe Smith" in report and "❌ Noah Williams" in report


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("Amelie Smith", "Amelia Smith (Year 3)"),
        ("Amelia Smyth", "Amelia Smith (Year 3)"),
        ("Amelia Smit", "Amelia Smith (Year 3)"),
        ("Sophia Thompson", "Sophie Thompson (Year 2)"),
        ("Noa Williams", "Noah Williams (Year 5)"),
    ],
)
async def test_a_near_name_asks_did_you_mean_before_any_verdict(near: BotHarness, typed: str, meant: str) -> None:
    [ask] = await near.say(ADMIN, f"/consent {typed}")
    assert f"You typed “{typed}”" in ask.plain and f"Did you mean {meant.replace(' (', ' (', 1)}" in ask.plain
    assert "✅" not in ask.plain and "❌" not in ask.plain
    assert labels(ask)[0] == meant and labels(ask)[-1] == "None of these"
    await near.press(ADMIN, ask, meant)
    card = near.last(ADMIN).plain
    assert meant.split(" (")[0] in card and "Upload only where ✅" in card


async def test_none_of_these_is_no_consent_record_for_the_typed_name(near: BotHarness) -> None:
    [ask] = await near.say(ADMIN, "/consent Amelia Smyth")  # a new starter, not yet on the register
    assert "Did you mean Amelia Smith (Year 3)?" in ask.plain and "✅" not in ask.plain
    none_of_these = dict(ask.buttons)["None of these"]
    await near.press(ADMIN, ask, "None of these")
    card = near.last(ADMIN).plain
    assert "No consent record for “Amelia Smyth”: treat as NO" in card and "✅" not in card
    assert [e.outcome for e in near.audit() if e.action == "consent lookup"][-1] == "not confirmed"
    again = await near.press(ADMIN, ask, data=none_of_these)  # a double tap
    assert again and "expired" in again["text"] and "No consent record" in ask.plain


async def test_one_candidate_is_did_you_mean_never_several_pupils_match(near: BotHarness) -> None:
    [ask] = await near.say(ADMIN, "/consent Isla")
    assert "Did you mean Isla Brown (Year 6)?" in ask.plain and "Several" not in ask.plain
    assert labels(ask) == ["Isla Brown (Year 6)", "None of these"]


async def test_another_surname_is_not_a_typo_so_amelia_brown_offers_nobody(near: BotHarness) -> None:
    [card] = await near.say(ADMIN, "/consent Amelia Brown")
    assert "No consent record" in card.plain and "Millie" not in card.plain and not card.buttons


async def test_a_surname_alone_offers_every_pupil_it_may_mean(near: BotHarness) -> None:
    [ask] = await near.say(ADMIN, "/consent Smith")
    assert "✅" not in ask.plain
    assert set(labels(ask)) == {
        "Amelia Smith (Year 3)",
        "Joe Smith (Year 2)",
        "Zoe Smith (Year 2)",
        "Ollie Smith-Jones (Year 3)",
        "None of these",
    }
    assert labels(ask)[-2] == "Ollie Smith-Jones (Year 3)"  # the part of a double-barrelled name ranks last


async def test_a_typo_in_the_first_letter_offers_the_child_meant_and_never_clears_another(near: BotHarness) -> None:
    [ask] = await near.say(ADMIN, "/consent harlie Green")
    assert labels(ask)[0] == "Charlie Green (Year 4)" and "✅" not in ask.plain
    [ask] = await near.say(ADMIN, "/consent oe Smith")
    assert {"Zoe Smith (Year 2)", "Joe Smith (Year 2)"} <= set(labels(ask)) and "✅" not in ask.plain
    [ask] = await near.say(ADMIN, "/consent Xmelia Smith")
    assert labels(ask)[0] == "Amelia Smith (Year 3)"


async def test_an_exact_name_in_any_written_form_is_a_verdict_at_once_in_a_card_and_a_list(near: BotHarness) -> None:
    forms = ["SMITH, Amelia", "smith amelia", "AMELIA   SMITH", "Zoe OBrien", "Millie Jones", "Oliver Smith Jones"]
    for typed in forms:
        [card] = await near.say(ADMIN, f"/consent {typed}")
        assert "Upload only where ✅" in card.plain and not card.buttons, typed
    [ask] = await near.say(ADMIN, "/check\n" + "\n".join(forms))
    assert f"{len(forms)} pupils listed" in ask.plain
    await near.press(ADMIN, ask, "parents' private group")
    report = near.last(ADMIN)
    assert "not confirmed" not in report.plain and "OK to upload" in report.plain and not report.buttons


async def test_photo_check_near_name_is_not_confirmed_until_the_admin_says_who(near: BotHarness) -> None:
    mark = near.emu.mark()
    near.emu.send_photo(ADMIN, b"jpeg", caption="Amelie Smith\nZoe O'Brien\nSophia Thompson")
    await near.settle()
    [ask] = near.emu.since(mark, ADMIN)
    await near.press(ADMIN, ask, "Facebook page")
    report = near.last(ADMIN)
    assert "❌ “Amelie Smith” — not confirmed" in report.plain and "❌ “Sophia Thompson” — not confirmed" in report.plain
    assert "✅ Zoë O'Brien" in report.plain and "Do not upload" in report.plain
    assert "2 names not confirmed. You typed “Amelie Smith”.\nDid you mean Amelia Smith (Year 3)" in report.plain
    await near.press(ADMIN, report, "Amelia Smith (Year 3)")
    report = near.last(ADMIN)
    assert "✅ Amelia Smith" in report.plain and "Do not upload" in report.plain
    assert "Did you mean Sophie Thompson (Year 2)" in report.plain
    await near.press(ADMIN, report, "Sophie Thompson (Year 2)")
    report = near.last(ADMIN)
    assert "✅ Sophie Thompson" in report.plain and "OK to upload" in report.plain and not report.buttons
    entry = [e for e in near.audit() if e.action == "photo check"][-1]
    assert entry.outcome == "ok to upload" and "P009" in entry.detail and "Sophie" not in entry.detail


async def test_a_new_starter_with_a_near_name_is_never_cleared_in_a_photo(near: BotHarness) -> None:
    [ask] = await near.say(ADMIN, "/check\nAmelia Smyth\nGrace Lee")
    await near.press(ADMIN, ask, "Facebook page")
    report = near.last(ADMIN)
    assert "❌ “Amelia Smyth” — not confirmed" in report.plain and "OK to upload" not in report.plain
    await near.press(ADMIN, report, "None of these")
    assert "❌ “Amelia Smyth” — none of the pupils offered" in report.plain
    assert "Do not upload: 1 of 2" in report.plain and not report.buttons


async def test_stale_or_forged_confirmations_change_nothing(near: BotHarness) -> None:
    [ask] = await near.say(ADMIN, "/check\nAmelie Smith")
    await near.press(ADMIN, ask, "Facebook page")
    report = near.last(ADMIN)
    pick = dict(report.buttons)["Amelia Smith (Year 3)"]
    number = pick.split(":")[3]
    noah = next(data for label, data in (await near.say(ADMIN, "/consent Noa Williams"))[0].buttons if "Noah" in label)
    forged = f"1:con:fix:{number}:0:{noah.split(':')[-1]}"  # a pupil never offered for that name
    answer = await near.press(ADMIN, report, data=forged)
    assert answer and "expired" in answer["text"]
    answer = await near.press(ADMIN, report, data=f"1:con:fix:{number}:5:{pick.split(':')[-1]}")
    assert answer and "expired" in answer["text"]
    assert "OK to upload" not in report.plain
    await near.press(ADMIN, report, data=pick)
    assert "OK to upload" in report.plain
    again = await near.press(ADMIN, report, data=pick)  # a double tap: the row is already confirmed
    assert again and "expired" in again["text"] and "OK to upload" in report.plain
    refused = await near.press(STRANGER, report, data=pick)
    assert refused and "not for you" in refused["text"]


async def test_a_withdrawal_imported_while_a_name_waits_shows_when_the_name_is_confirmed(near: BotHarness) -> None:
    [ask] = await near.say(ADMIN, "/check\nAmelia Smith\nSophia Thompson")
    await near.press(ADMIN, ask, "Facebook page")
    report = near.last(ADMIN)
    assert "✅ Amelia Smith" in report.plain
    load(
        near,
        NEAR_NAMES.replace(
            "P001,Amelia,Smith,,Year 3,yes,yes,no,2025-09-05,,", "P001,Amelia,Smith,,Year 3,yes,yes,no,2025-09-05,,2026-11-20"
        ),
    )
    await near.press(ADMIN, report, "Sophie Thompson (Year 2)")
    assert "❌ Amelia Smith — withdrawn on 20 Nov 2026" in report.plain and "✅ Sophie Thompson" in report.plain
    assert "Do not upload" in report.plain


async def test_a_name_too_common_to_offer_every_match_says_so_under_the_report(bot: BotHarness) -> None:
    rows = "".join(f"Q{n:02d},Amelia,Surname{chr(65 + n)},,Year 2,yes,yes,yes,2025-09-01,,\n" for n in range(12))
    load(bot, HEADER + rows)
    [ask] = await bot.say(ADMIN, "/check Amelia")
    await bot.press(ADMIN, ask, "Facebook page")
    report = bot.last(ADMIN)
    assert "More pupils match" in report.plain and len(report.buttons) == 9 and "OK to upload" not in report.plain
