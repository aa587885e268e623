"""Attacks on issue 11, as a safeguarding lead and as someone sneaking a name, a swear word or a
phone number past the checks: every case here got through (or cleared the wrong child) before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config
from bot.records.consent import Pupil
from bot.register import PendingImport
from tests.conftest import ADMIN, OFFICE, BotHarness, make_config

PUPILS = [
    Pupil("P1", "Amelia", "Smith", class_name="Year 3", consents={"page": True, "group": True, "press": True}),
    Pupil("P2", "May", "Evans", class_name="Year 2", consents={"page": True, "group": True, "press": True}),
    Pupil("P3", "Grace", "Taylor", class_name="Year 5", consents={"page": True, "group": True, "press": True}),
    Pupil("P4", "-", "Patel", class_name="Year 1", consents={"page": True, "group": True, "press": True}),
    Pupil("P5", "Ravi", "Patel", class_name="Year 4"),
    Pupil("P6", "Noah", "Williams", class_name="Year 5"),
    Pupil("L1", "Noah", "Wilson", class_name="Year 6", left=True),
    Pupil("L2", "Amelia", "Smith Jones", class_name="Year 6", left=True),
]


HEADER = (
    "pupil_id,first_name,last_name,preferred_name,class,consent_page,consent_group,consent_press,form_date,expires,withdrawn\n"
)


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(data_dir, school={"phone_numbers": ["01632 960000"], "email_domains": ["stexample.sch.uk"]})


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    bot.services.consents.replace_register(PUPILS, [])
    return bot


async def check(school: BotHarness, draft: str) -> str:
    [report] = await school.say(ADMIN, f"/checkpost {draft}")
    return str(report.plain)


# ---- swearing that slipped past ---------------------------------------------------------------
@pytest.mark.parametrize(
    "draft, written",
    [
        ("Those wankers in the car park again", "wankers"),  # a plural of a listed word
        ("Parents who park there are bastards", "bastards"),
        ("Utter dickheads at pick-up", "dickheads"),
        ("Bunch of arseholes", "arseholes"),
        ("Scunthorpe wankers", "wankers"),  # beside an allowed phrase
        ("Hell Fire Caves shitheads", "shitheads"),
        ("ꜰᴜᴄᴋ off", "ꜰᴜᴄᴋ"),  # small capitals from a "fancy text" generator
        ("sʜɪᴛ show", "sʜɪᴛ"),
        ("ƒuck this", "ƒuck"),  # Latin f with a hook
        ("🅵🆄🅲🅺 off", "🅵🆄🅲🅺"),  # negative squared letters
        ("What a c**t", "c**t"),  # letters hidden behind asterisks
        ("f***ing parking again", "f***ing"),
        ("Stop being b!tches", "b!tches"),  # ! for i
        ("8ollocks to that", "8ollocks"),  # 8 for B
        ("f\u034fuck off", "f\u034fuck"),  # an invisible combining mark inside the word
    ],
)
async def test_swearing_in_plurals_and_fancy_letters_blocks(school: BotHarness, draft: str, written: str) -> None:
    report = await check(school, draft)
    assert f"❌ Offensive language: “{written}” (policy 5.3)" in report


@pytest.mark.parametrize(
    "draft",
    [
        "Our Year 6 heroines of the netball final",
        "Cornish pasties for lunch on Friday",
        "The chess club learnt how pawns move",
        "Please assess the titles of the books",
        "Our 5* Ofsted rating, Year 5*6 = 30 and **well done** everyone!",
    ],
)
async def test_ordinary_words_that_end_like_a_listed_word_pass(school: BotHarness, draft: str) -> None:
    assert "Looks fine to post" in await check(school, draft)


# ---- pupils' names written to slip past --------------------------------------------------------
@pytest.mark.parametrize(
    "draft, written",
    [
        ("Well done A m e l i a  S m i t h!", "A m e l i a  S m i t h"),  # letters typed apart
        ("Well done A-m-e-l-i-a S-m-i-t-h!", "A-m-e-l-i-a S-m-i-t-h"),
        ("Well done A.m.e.l.i.a S.m.i.t.h!", "A.m.e.l.i.a S.m.i.t.h"),
        ("Well done ᴀᴍᴇʟɪᴀ ꜱᴍɪᴛʜ!", "ᴀᴍᴇʟɪᴀ ꜱᴍɪᴛʜ"),  # small capitals
        ("Well done Am3lia Sm1th!", "Am3lia Sm1th"),  # digits for letters
        ("Well done Ame\u034flia Smith!", "Ame\u034flia Smith"),  # a combining grapheme joiner, invisible
        ("Photos: https://example.com/Amelia%20Smith.jpg", "Amelia%20Smith"),  # a space written into a link
        ("Follow amelia.smith for her art", "amelia.smith"),  # a handle, not a sentence break
        ("Well done to\nMay\nEvans for her reading", "May\nEvans"),  # one name over two lines
        ("A big well done to Amelia\nSmith", "Amelia\nSmith"),
        ("Well done <b>Amelia</b> <b>Smith</b>!", "Amelia</b> <b>Smith"),  # HTML for the website
    ],
)
async def test_a_full_name_written_to_dodge_the_check_blocks(school: BotHarness, draft: str, written: str) -> None:
    report = await check(school, draft)
    assert f"❌ Pupil's full name: “{written}” (policy 3.4)" in report


async def test_a_pupil_who_has_left_is_still_a_child_whose_full_name_is_flagged(school: BotHarness) -> None:
    report = await check(school, "Good luck to Noah Wilson at his new school")
    assert "⚠️ Full name of a pupil who has left: “Noah Wilson” (policy 3.4)" in report
    # A leaver's longer name cannot hide a current pupil's full name inside it.
    report = await check(school, "Well done Amelia Smith Jones")
    assert "❌ Pupil's full name: “Amelia Smith” (policy 3.4)" in report and "Do not post" in report


async def test_a_sentence_or_paragraph_break_still_parts_two_names(school: BotHarness) -> None:
    for draft in ("Thank you May.\nEvans Road is closed", "We thank May\n\nEvans Road is closed on Friday"):
        assert "Pupil's full name" not in await check(school, draft), draft


# ---- personal data written to slip past ----------------------------------------------------------
@pytest.mark.parametrize(
    "draft, title, written",
    [
        ("Ring 0 7 7 0 0 9 0 0 1 2 3 after six", "Phone number", "0 7 7 0 0 9 0 0 1 2 3"),
        ("Ring 0-7-7-0-0-9-0-0-1-2-3 after six", "Phone number", "0-7-7-0-0-9-0-0-1-2-3"),
        ("Write to jo.smith@gmail。com", "E-mail address", "jo.smith@gmail。com"),  # ideographic full stop
        ("Write to jo.smith @ gmail.com", "E-mail address", "jo.smith @ gmail.com"),
        ("Write to jo.smith [@] gmail.com", "E-mail address", "jo.smith [@] gmail.com"),
        ("Write to jo.smith@gmail[.]com", "E-mail address", "jo.smith@gmail[.]com"),
        ("Write to jo.smith@gmail dot com", "E-mail address", "jo.smith@gmail dot com"),
        ("Ring ٠٧٧٠٠ ٩٠٠١٢٣ after six", "Phone number", "٠٧٧٠٠ ٩٠٠١٢٣"),  # Arabic-Indic digits
        ("Ring 07700 – 900123 after six", "Phone number", "07700 – 900123"),  # Word's en dash
        ("Ring 07700_900123 after six", "Phone number", "07700_900123"),
    ],
)
async def test_personal_data_typed_apart_or_with_foreign_dots_blocks(
    school: BotHarness, draft: str, title: str, written: str
) -> None:
    assert f"❌ {title}: “{written}”" in await check(school, draft)


async def test_counting_digits_is_not_a_phone_number(school: BotHarness) -> None:
    assert "Looks fine to post" in await check(school, "Reception can count 0 1 2 3 4 5 6 7 8 9 in French!")
    assert "Looks fine to post" in await check(school, "Term dates 2026 – 2027: back on 01/12/2026 10:30, scores 0 - 1")


# ---- identity before verdict ---------------------------------------------------------------------
async def test_a_pupil_whose_first_name_is_only_punctuation_is_never_cleared_by_surname_alone(school: BotHarness) -> None:
    [answer] = await school.say(ADMIN, "/consent Patel")
    assert "✅" not in answer.plain and "Did you mean" in answer.plain
    assert {label for label, _ in answer.buttons} >= {"Ravi Patel (Year 4)"}


async def test_a_numbered_list_and_a_caption_joined_with_and_are_read_name_by_name(school: BotHarness) -> None:
    [ask] = await school.say(ADMIN, "/check\n1. Amelia Smith\n2) Grace Taylor")
    assert "2 pupils listed" in ask.plain
    await school.press(ADMIN, ask, "Facebook page")
    report = school.last(ADMIN).plain
    assert "✅ Amelia Smith" in report and "✅ Grace Taylor" in report and "OK to upload" in report
    [ask] = await school.say(ADMIN, "/check Amelia Smith, Grace Taylor and Noah Williams")
    assert "3 pupils listed" in ask.plain
    await school.press(ADMIN, ask, "Facebook page")
    report = school.last(ADMIN).plain
    assert "❌ Noah Williams — no form" in report and "Do not upload" in report


def load(bot: BotHarness, rows: str) -> None:
    register = bot.services.register
    parsed, preview = register.prepare_import(0, (HEADER + rows).encode())
    assert preview is not None, parsed.fatal
    register.commit_import(0, PendingImport(parsed, preview), allow_mass_removal=True)


async def test_a_pupil_id_given_to_another_child_since_the_check_is_not_cleared_under_the_old_name(school: BotHarness) -> None:
    load(school, "P1,Amelia,Smith,,Year 3,yes,yes,yes,2025-09-05,,\nP2,Amelie,Smyth,,Year 4,no,no,no,2025-09-05,,\n")
    [ask] = await school.say(ADMIN, "/check\nAmelia Smith\nAmelie Smith")
    await school.press(ADMIN, ask, "Facebook page")
    report = school.last(ADMIN)
    assert "✅ Amelia Smith" in report.plain and "not confirmed" in report.plain
    # The school's export reuses P1 for a different child; Amelia Smith now has no consent under P9.
    load(
        school,
        "P1,Tom,Brown,,Year 6,yes,yes,yes,2025-09-05,,\nP2,Amelie,Smyth,,Year 4,no,no,no,2025-09-05,,\n"
        "P9,Amelia,Smith,,Year 3,no,no,no,2025-09-05,,\n",
    )
    await school.press(ADMIN, report, "None of these")
    after = school.last(ADMIN).plain
    assert "✅" not in after and "OK to upload" not in after


async def test_a_did_you_mean_button_tapped_after_the_id_went_to_another_child_gives_no_card(school: BotHarness) -> None:
    load(school, "P1,Amelia,Smith,,Year 3,yes,yes,yes,2025-09-05,,\n")
    [ask] = await school.say(ADMIN, "/consent Amelie Smith")
    assert "Did you mean Amelia Smith (Year 3)?" in ask.plain
    load(school, "P1,Tom,Brown,,Year 6,yes,yes,yes,2025-09-05,,\nP9,Amelia,Smith,,Year 3,no,no,no,2025-09-05,,\n")
    answer = await school.press(ADMIN, ask, "Amelia Smith (Year 3)")
    assert answer is not None and "no longer in the register" in answer["text"]
    assert "Tom Brown" not in school.last(ADMIN).plain and "✅" not in school.last(ADMIN).plain


async def test_a_register_row_with_a_name_of_punctuation_only_is_rejected(school: BotHarness) -> None:
    data = (HEADER + "P1,Amelia,Smith,,Year 3,yes,yes,yes,2025-09-05,,\nP7,-,Patel,,Year 1,yes,yes,yes,2025-09-05,,\n").encode()
    mark = school.emu.mark()
    school.emu.send_document(OFFICE, data, "register.csv", "text/csv")
    await school.settle()
    preview = "\n".join(message.plain for message in school.emu.since(mark, OFFICE))
    assert "line 3" in preview and 'first name "-" has no letters' in preview


# ---- withdrawn or narrowed consent reaches the page team, and only them ----------------------------
ROWS = (
    "P1,Amelia,Smith,,Year 3,yes,yes,yes,2025-09-05,2027-07-31,\n"
    "P2,May,Evans,,Year 2,yes,yes,yes,2025-09-05,,\n"
    "P3,Grace,Taylor,,Year 5,yes,yes,yes,2025-09-05,,\n"
    "P5,Ravi,Patel,,Year 4,yes,yes,yes,2025-09-05,,\n"
    "P6,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,\n"
)


async def import_file(bot: BotHarness, rows: str) -> None:
    mark = bot.emu.mark()
    bot.emu.send_document(OFFICE, (HEADER + rows).encode(), "register.csv", "text/csv")
    await bot.settle()
    preview = [m for m in bot.emu.since(mark, OFFICE) if m.buttons][-1]
    await bot.press(OFFICE, preview, "Confirm")


async def test_an_import_that_ends_a_consent_by_moving_its_expiry_into_the_past_tells_the_page_team(school: BotHarness) -> None:
    load(school, ROWS)
    await import_file(school, ROWS.replace("2027-07-31", "2026-07-31"))  # the form really ran out last July
    [notice] = school.emu.messages_to(ADMIN)
    assert "Photo consent withdrawn or narrowed" in notice.plain
    assert (
        "Amelia Smith (Year 3): no longer Facebook page, parents' private group, press and publicity (expired on 31 Jul 2026)"
        in notice.plain
    )
    [card] = await school.say(ADMIN, "/consent Amelia Smith")
    assert "expired on 31 Jul 2026" in card.plain and "✅" not in card.plain.split("\n\n")[0]


async def test_an_old_export_bringing_back_a_withdrawn_pupil_marked_as_left_warns_of_the_removed_withdrawal(
    school: BotHarness,
) -> None:
    noah = "P6,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,"
    withdrawn = ROWS.replace(noah, noah + "2026-11-01")
    load(school, withdrawn)
    # A file without Noah (one of five: not over a fifth) marks him as left...
    await import_file(school, "".join(line + "\n" for line in withdrawn.splitlines() if not line.startswith("P6")))
    # ...and last month's export, from before his parents withdrew, would bring him back cleared.
    mark = school.emu.mark()
    school.emu.send_document(OFFICE, (HEADER + ROWS).encode(), "register.csv", "text/csv")
    await school.settle()
    preview = "\n".join(m.plain for m in school.emu.since(mark, OFFICE))
    warning = (
        "Withdrawal removed (load only if the parent consented again) (1)\n• Noah Williams (Year 5): was withdrawn from 1 Nov"
    )
    assert warning in preview
