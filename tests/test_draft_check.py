"""An admin checks a draft post before publishing it (policy 3.4, 5.3, 8.2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from better_profanity import profanity
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import ConfigError
from bot.draft_check import DraftPolicy, check_draft
from bot.names import PupilIndex
from bot.profanity import ProfanityFilter
from bot.records.consent import Pupil
from bot.text_normal import held_letter_readings, normalise
from tests.conftest import make_config

INDEX = PupilIndex(
    [
        Pupil("1", "Amelia", "Smith"),
        Pupil("2", "Zoë", "O'Brien"),
        Pupil("3", "Grace", "Evans"),
        Pupil("4", "Tom", "Hughes"),
    ]
)


def kinds(text: str, **options: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return [(f.kind, f.excerpt, f.severity) for f in check_draft(text, INDEX, DraftPolicy(**options)).findings]


CORPUS = [
    # Clean school news, including words that contain listed words inside them.
    "Year 4 had a wonderful trip to the Science Museum today!",
    "Our class assembly is on Friday at 9am. Parents welcome.",
    "Scunthorpe, Essex, Sussex, Middlesex, classic, assessment, passage, cocktail, shuttlecock",
    "Therapist, analysis, grape, bass, glass, assume, button, hello, shellfish",
    "",
    "!!!",
    "a",
    "  x",
    # Plain profanity, any case, at the start, middle and end.
    "shit",
    "What the HELL was that",
    "this is bullshit.",
    "Fuck",
    # Leetspeak variants built from better-profanity's CHARS_MAPPING.
    "sh1t happens",
    "that was $h!t, honestly",
    "a$$ hole",
    "b1tch!",
    "@ss",
    "f*ck off",
    "pi55 off",
    "5h17 and more",
    # Words wrapped in punctuation and quotes.
    "(fuck)",
    "--shit--",
    '"shit"',
    "'shit'",
    "<b>crap</b>",
    "#damn",
    # Phrases and spaced or dotted spellings.
    "f u c k you",
    "f.u.c.k. this",
    "s-h-1-t now",
    "sh!t.",
    "sh!t",
    "what a blow job",
    "2 girls 1 cup please",
    "son-of-a-bitch!",
    "she's a b i t c h.",
    # Near misses that must stay clean.
    "fuuuck",
    "shiit",
    "ass-essment",
]


@pytest.mark.parametrize("text", CORPUS)
def test_profanity_verdicts_match_better_profanity_on_the_corpus(text: str) -> None:
    assert ProfanityFilter.default().contains_profanity(text) == profanity.contains_profanity(text)
    assert ProfanityFilter.default().censor(text) == profanity.censor(text)


def test_the_corpus_has_both_clean_and_profane_texts() -> None:
    verdicts = {profanity.contains_profanity(text) for text in CORPUS}
    assert verdicts == {True, False}


LISTED = sorted(str(word) for word in profanity.CENSOR_WORDSET)
PIECES = st.one_of(
    st.sampled_from(LISTED),
    st.sampled_from(["sh", "1t", "f", "u", "c", "k", "$", "@", "*", "4", "0", "'", '"', "é", "ß", "Σ", "the", "dick"]),
    st.sampled_from([" ", "  ", ".", "-", "_", "!", ",", "\n", "+", "(", ")"]),
    st.text(max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=10).map("".join))
def test_profanity_matches_better_profanity_on_generated_text(text: str) -> None:
    assert ProfanityFilter.default().censor(text) == profanity.censor(text)


def test_dick_whittington_passes_by_default() -> None:
    assert profanity.contains_profanity("Dick Whittington")
    text = "Tickets for our pantomime, Dick Whittington, are on sale; DICK   WHITTINGTON's cat stars."
    assert check_draft(text, INDEX).verdict == "ok"


def test_the_school_can_allow_more_phrases() -> None:
    text = "The church organ recital was lovely."
    assert kinds(text) == [("profanity", "organ", "block")]
    assert kinds(text, allow_words=("organ recital",)) == []


def test_an_allowed_phrase_does_not_hide_profanity_beside_it() -> None:
    assert kinds("Dick Whittington is shit") == [("profanity", "shit", "block")]
    assert kinds("dick") == [("profanity", "dick", "block")]


def test_profanity_is_quoted_as_written_and_blocks() -> None:
    report = check_draft("What a load of Sh1t, honestly", INDEX)
    assert report.verdict == "block"
    assert [(f.kind, f.excerpt, f.clause) for f in report.findings] == [("profanity", "Sh1t", "5.3")]


def test_a_pupils_full_name_blocks() -> None:
    report = check_draft("Congratulations to Amelia Smith and zoe obrien!", INDEX)
    assert report.verdict == "block"
    assert [(f.kind, f.excerpt, f.clause) for f in report.findings] == [
        ("pupil_full_name", "Amelia Smith", "3.4"),
        ("pupil_full_name", "zoe obrien", "3.4"),
    ]


def test_a_pupils_first_name_warns() -> None:
    report = check_draft("Tom scored twice. Well done Tom!", INDEX)
    assert report.verdict == "warn"
    assert kinds("Tom scored twice. Well done Tom!") == [("pupil_first_name", "Tom", "warn")]


def test_first_names_that_are_ordinary_words_warn_only_when_used_as_names() -> None:
    assert kinds("We said grace before lunch.") == []
    assert kinds("We said grace before lunch; Grace's idea won.") == [("pupil_first_name", "Grace's", "warn")]
    assert kinds("Grace Evans read a poem.") == [("pupil_full_name", "Grace Evans", "block")]
    assert kinds("well done zoe") == [("pupil_first_name", "zoe", "warn")]
    assert kinds("well done zoe", common_first_names=("ZOË",)) == []
    assert kinds("Well done Zoe", common_first_names=("ZOË",)) == [("pupil_first_name", "Zoe", "warn")]


def test_phone_numbers_in_uk_formats_block() -> None:
    numbers = [
        "07700 900123",
        "07700-900-123",
        "07700900123",
        "+44 7700 900123",
        "+44 (0)7700 900123",
        "+447700900123",
        "01632 960001",
        "(01632) 960001",
        "020 7946 0000",
        "0121 496 0000",
    ]
    for number in numbers:
        assert kinds(f"Call {number} today.") == [("phone", number, "block")], number


def test_dates_times_and_counts_are_not_phone_numbers() -> None:
    assert kinds("On 2026-03-01 from 09.30-10.30, 120 pupils and 0.5 litres; year 2025/2026.") == []


def test_email_addresses_block() -> None:
    assert kinds("Email jo.bloggs+pta@example.co.uk for tickets") == [("email", "jo.bloggs+pta@example.co.uk", "block")]


def test_postcodes_block() -> None:
    for postcode in ("SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A1BB"):
        assert kinds(f"Meet at {postcode}.") == [("postcode", postcode, "block")], postcode
    assert kinds("KS2 results and Y6 SATs") == []


def test_a_clean_post_is_ok_and_findings_come_in_the_order_of_the_post() -> None:
    assert check_draft("A lovely sunny sports day!", INDEX).verdict == "ok"
    text = "Call 07700 900123 about Amelia Smith, that sh1t, or email a@b.org"
    assert [f.kind for f in check_draft(text, INDEX).findings] == ["phone", "pupil_full_name", "profanity", "email"]


def test_excerpts_are_plain_text_for_the_reply_to_escape() -> None:
    assert kinds("<b>crap</b> & more") == [("profanity", "crap", "block")]


def test_a_repeated_finding_is_listed_once() -> None:
    assert kinds("shit, SHIT and shit") == [("profanity", "shit", "block")]


def test_the_schools_own_contact_details_are_read_from_the_config(tmp_path: Path) -> None:
    config = make_config(
        tmp_path / "data",
        school={"phone_numbers": ["01632 960000"], "email_domains": ["stexample.sch.uk"], "postcodes": ["AB1 2CD"]},
    )
    assert config.school.phone_numbers == ("01632 960000",)
    assert config.school.email_domains == ("stexample.sch.uk",)
    assert config.school.postcodes == ("AB1 2CD",)
    policy = DraftPolicy.from_config(config)
    assert check_draft("Ring +44 (0)1632 960000, write to head@stexample.sch.uk, AB12CD", INDEX, policy).verdict == "ok"
    assert make_config(tmp_path / "data").school.phone_numbers == ()


def test_bad_school_contact_details_are_named_in_the_config_check(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        make_config(tmp_path / "data", school={"phone_numbers": ["0163"], "email_domains": ["office@"], "postcodes": ["KS2"]})
    problems = "\n".join(raised.value.problems)
    assert "school.phone_numbers: '0163'" in problems
    assert "school.email_domains: 'office@'" in problems
    assert "school.postcodes: 'KS2'" in problems


def test_the_example_config_documents_the_new_keys() -> None:
    example = (Path(__file__).parent.parent / "config.example.toml").read_text()
    for key in ("phone_numbers = []", "email_domains = []", "postcodes = []"):
        assert key in example


@pytest.mark.parametrize(
    "written, seen, first_word_as_written",
    [
        ("Amel\u00adia Sm\u200bith", "Amelia Smith", "Amel\u00adia"),
        ("\u0410melia", "Amelia", "\u0410melia"),
        ("\U0001d400\U0001d426\U0001d41e", "Ame", "\U0001d400\U0001d426\U0001d41e"),
        ("ＡＢＣ１", "ABC1", "ＡＢＣ１"),
        ("Zoë", "Zoe", "Zoë"),
        ("\u202ehtims\u202c ok", "smith ok", "htims"),
        ("#WellDoneAmeliaSmith and @year6Team", "#Well Done Amelia Smith and @year 6 Team", "#Well"),
        ("amelia@example.com", "amelia@example.com", "amelia@example.com"),
    ],
)
def test_the_text_is_read_as_a_reader_sees_it_and_quotes_come_from_the_original(
    written: str, seen: str, first_word_as_written: str
) -> None:
    read = normalise(written)
    assert read.text == seen
    assert read.quote(0, len(seen.split()[0])) == first_word_as_written


def test_held_letters_have_two_readings() -> None:
    assert held_letter_readings("fuuuck") == ("fuuck", "fuck")
    assert held_letter_readings("good") == ()
    assert check_draft("Sooo goood, whaaat a day!", INDEX).verdict == "ok"
