"""An admin sends /checkpost with what people really write, and what people write to dodge a filter.

Every case here was seen getting past (or wrongly stopping) the draft check: hidden
characters inside a pupil's name, look-alike letters, hashtags, a surname written first,
names that are ordinary words, swearing spelt to slip through, and the school's own
contact details.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config
from bot.records.consent import Pupil
from tests.conftest import ADMIN, BotHarness, make_config

ORDINARY_WORD_NAMES = [
    # (first name, an everyday sentence using the word)
    ("Patience", "Thank you for your patience while the car park is resurfaced."),
    ("Harmony", "The choir sang in perfect harmony at the carol service."),
    ("Honour", "It was an honour to welcome the Mayor to our assembly."),
    ("Mason", "A local stone mason showed us how the church was built."),
    ("Rich", "Our topic this term is the rich history of the Romans."),
    ("Teddy", "Bring a teddy bear for our picnic on Friday."),
    ("Kit", "Please remember PE kit on Tuesdays and Thursdays."),
    ("Roman", "We visited a roman villa with a mosaic floor."),
    ("Ash", "We planted an ash tree in the wildlife garden."),
    ("Dean", "The dean of the cathedral led our harvest service."),
    ("Cooper", "We met a cooper who still makes barrels by hand."),
    ("Sue", "Parents cannot sue the PTA over the raffle, we promise."),
    ("Victor", "The victor of the spelling bee wins a book token."),
    ("Martin", "A house martin has nested above the reception door."),
]

PUPILS = [
    Pupil("P1", "Amelia", "Smith", class_name="Year 3"),
    Pupil("P2", "Jack", "Brown", class_name="Year 4"),
    Pupil("P3", "May", "Taylor", class_name="Year 2"),
    Pupil("P4", "Grace", "Evans", class_name="Year 5"),
    Pupil("P5", "Callum", "McDonald", class_name="Year 6"),
    *(Pupil(f"W{n}", name, "Okafor", class_name="Year 1") for n, (name, _) in enumerate(ORDINARY_WORD_NAMES)),
]

SCHOOL_PHONE = "01632 960000"
SCHOOL_DOMAIN = "stexample.sch.uk"
SCHOOL_POSTCODE = "AB1 2CD"


@pytest.fixture
def config(data_dir: Path) -> Config:
    return make_config(
        data_dir,
        school={"phone_numbers": [SCHOOL_PHONE], "email_domains": [SCHOOL_DOMAIN], "postcodes": [SCHOOL_POSTCODE]},
    )


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    bot.services.consents.replace_register(PUPILS, [])
    return bot


async def check(school: BotHarness, draft: str) -> str:
    [report] = await school.say(ADMIN, f"/checkpost {draft}")
    return report.plain


@pytest.mark.parametrize(
    "draft, written",
    [
        ("Well done Amel\u00adia Smith!", "Amel\u00adia Smith"),  # Word's optional (soft) hyphen
        ("Well done Ame\u200blia Smith!", "Ame\u200blia Smith"),  # zero-width space
        ("Well done Ame\u200dlia Smith!", "Ame\u200dlia Smith"),  # zero-width joiner
        ("Well done Amelia\u2060 Smi\u2060th!", "Amelia\u2060 Smi\u2060th"),  # word joiner
        ("Well done \u0410melia Smith!", "\u0410melia Smith"),  # Cyrillic А
        (
            "Well done \U0001d400\U0001d426\U0001d41e\U0001d425\U0001d422\U0001d41a Smith!",
            "\U0001d400\U0001d426\U0001d41e\U0001d425\U0001d422\U0001d41a Smith",
        ),  # maths bold
        ("Well done #AmeliaSmith!", "AmeliaSmith"),
        ("Well done \u202ehtimS ailemA\u202c!", "htimS ailemA"),  # shown right to left: "Amelia Smith"
        ("Star of the week: SMITH, Amelia", "SMITH, Amelia"),
        ("Callum Mc Donald scored twice", "Callum Mc Donald"),
    ],
)
async def test_a_pupils_full_name_blocks_however_it_is_disguised(school: BotHarness, draft: str, written: str) -> None:
    report = await check(school, draft)
    assert "Do not post this" in report
    assert f"❌ Pupil's full name: “{written}” (policy 3.4)" in report


async def test_a_phone_number_with_a_hidden_space_blocks(school: BotHarness) -> None:
    report = await check(school, "Ring Mrs Jones on 07700\u200b900123 to book")
    assert "❌ Phone number: “07700\u200b900123”" in report


async def test_a_lower_case_postcode_blocks(school: BotHarness) -> None:
    report = await check(school, "The party is at m1 1ae from 4pm")
    assert "❌ Postcode: “m1 1ae”" in report


@pytest.mark.parametrize(
    "draft, name",
    [
        ("Well done to May for her reading award", "May"),
        ("Grace read her poem to the whole school.", "Grace"),
        ("Grace's painting won the county prize!", "Grace's"),
        ("Amelias painting won the county prize!", "Amelias"),
    ],
)
async def test_a_first_name_used_as_a_name_warns(school: BotHarness, draft: str, name: str) -> None:
    report = await check(school, draft)
    assert "Check before posting" in report
    assert f"⚠️ Pupil's first name: “{name}” (policy 3.4)" in report


async def test_a_near_spelling_of_a_full_name_warns(school: BotHarness) -> None:
    report = await check(school, "Callum MacDonald scored twice")
    assert "⚠️ Looks like a pupil's full name, spelled differently: “Callum MacDonald” (policy 3.4)" in report


async def test_a_full_name_never_runs_across_a_sentence_break(school: BotHarness) -> None:
    report = await check(school, "Thank you Jack. Brown paper bags are needed for the craft table.")
    assert "Pupil's full name" not in report and "Do not post" not in report


@pytest.mark.parametrize("name, sentence", ORDINARY_WORD_NAMES)
async def test_names_that_are_ordinary_words_pass_in_everyday_sentences(school: BotHarness, name: str, sentence: str) -> None:
    assert "Looks fine to post" in await check(school, sentence)


async def test_may_warns_as_a_name_and_passes_as_a_word_or_a_month(school: BotHarness) -> None:
    assert "⚠️ Pupil's first name: “May”" in await check(school, "A big well done to May in Year 2!")
    assert "Looks fine to post" in await check(school, "We hope you may join us. May we remind you that we break up on 22 May.")


@pytest.mark.parametrize(
    "draft, written",
    [("What the fuuuck", "fuuuck"), ("f u c k", "f u c k"), ("fck this", "fck"), ("bollocks to that", "bollocks")],
)
async def test_swearing_spelt_to_dodge_the_filter_blocks(school: BotHarness, draft: str, written: str) -> None:
    report = await check(school, draft)
    assert f"❌ Offensive language: “{written}” (policy 5.3)" in report


@pytest.mark.parametrize(
    "draft",
    [
        "Sex education evening for parents on Tuesday",
        "Relationships and sex education (RSE) policy consultation",
        "Year 6 Hell Fire Caves trip: letters home today",
        "Bring a pen. Dick Whittington is on Friday!",
    ],
)
async def test_ordinary_school_phrases_pass(school: BotHarness, draft: str) -> None:
    assert "Looks fine to post" in await check(school, draft)


async def test_the_schools_own_contact_details_pass_and_others_still_block(school: BotHarness) -> None:
    own = f"Call the office on {SCHOOL_PHONE}, e-mail office@{SCHOOL_DOMAIN}, or visit us at {SCHOOL_POSTCODE.lower()}."
    assert "Looks fine to post" in await check(school, own)
    other = await check(school, "Call 01632 960001, e-mail jo@example.com, or visit AB1 2DE.")
    assert "Phone number: “01632 960001”" in other and "E-mail address: “jo@example.com”" in other
    assert "Postcode: “AB1 2DE”" in other


@pytest.mark.parametrize(
    "draft, title, written",
    [
        ("Well done Amelia\u3164Smith!", "Pupil's full name", "Amelia\u3164Smith"),  # a blank Hangul letter as the space
        ("Ring Mr Jones on O77OO 9OO123", "Phone number", "O77OO 9OO123"),  # letter O for zero
        ("Tickets from jo [at] example [dot] com", "E-mail address", "jo [at] example [dot] com"),
        ("Tickets from jo(at)example.co.uk", "E-mail address", "jo(at)example.co.uk"),
        ("Tickets from jo at example dot com", "E-mail address", "jo at example dot com"),
    ],
)
async def test_personal_data_written_to_dodge_the_check_blocks(school: BotHarness, draft: str, title: str, written: str) -> None:
    assert f"❌ {title}: “{written}”" in await check(school, draft)


async def test_the_schools_own_address_spelt_out_passes_and_anyone_elses_blocks(school: BotHarness) -> None:
    assert "Looks fine to post" in await check(school, f"Write to office [at] {SCHOOL_DOMAIN.replace('.', ' [dot] ')}")
    assert "❌ E-mail address: “jo [at] example [dot] sch [dot] uk”" in await check(
        school, "Write to jo [at] example [dot] sch [dot] uk"
    )
    assert "Looks fine to post" in await check(school, "Meet at Hall.Co-op at 3, tickets at example.com")


async def test_a_draft_pasted_on_the_line_after_the_command_is_checked_whole(school: BotHarness) -> None:
    [report] = await school.say(ADMIN, "/checkpost\nAmelia Smith won the race!\nWell done everyone.")
    assert "❌ Pupil's full name: “Amelia Smith”" in report.plain
