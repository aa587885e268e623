"""Pupils' names in a draft post, found the way a reader reads them (policy 3.4)."""

from __future__ import annotations

from bot.name_mentions import NameFinder, spellings
from bot.records.consent import Pupil

FINDER = NameFinder(
    [
        Pupil("1", "Amelia", "Smith", class_name="4B"),
        Pupil("2", "Zoë", "Lefèvre", class_name="2A"),
        Pupil("3", "Liam", "O'Brien", class_name="5C"),
        Pupil("4", "Harry", "Smith-Jones", class_name="3A"),
        Pupil("5", "Margaret", "Okafor", preferred_name="Maggie", class_name="6B"),
        Pupil("6", "Oliver", "Taylor", class_name="1A"),
        Pupil("7", "Oliver", "Brown", class_name="2B"),
        Pupil("8", "Noah", "Wilson", class_name="3C", left=True),
        Pupil("9", "Callum", "McDonald", class_name="6A"),
        Pupil("10", "Siân", "Ní Bhriain", class_name="5A"),
    ]
)


def found(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(m.matched_text, m.kind, tuple(sorted(p.pupil_id for p in m.pupils))) for m in FINDER.mentions(text)]


def test_full_names_in_a_post_are_found_however_they_are_written() -> None:
    text = "Well done to zoe lefevre, Liam O Brien, Harry Smith-Jones's team and Sian Ni Bhriain!"
    assert found(text) == [
        ("zoe lefevre", "full", ("2",)),
        ("Liam O Brien", "full", ("3",)),
        ("Harry Smith-Jones's", "full", ("4",)),
        ("Sian Ni Bhriain", "full", ("10",)),
    ]


def test_surname_first_with_a_comma_or_run_together_is_a_full_name() -> None:
    assert found("SMITH, Amelia; Smith Amelia; #AmeliaSmith; @smith_amelia") == [
        ("SMITH, Amelia", "full", ("1",)),
        ("Smith Amelia", "full", ("1",)),
        ("AmeliaSmith", "full", ("1",)),
        ("smith_amelia", "full", ("1",)),
    ]


def test_a_comma_joins_a_name_only_surname_first() -> None:
    assert found("Well done Amelia, Smith family!") == [("Amelia", "first", ("1",))]


def test_a_full_name_never_runs_across_a_sentence_break() -> None:
    for text in ("Thanks Oliver. Brown bags please", "Oliver!\nBrown bags", "Oliver: Brown bags", "Oliver; Brown"):
        assert found(text) == [("Oliver", "first", ("6", "7"))], text


def test_first_names_are_found_once_not_inside_full_names() -> None:
    assert found("Oliver and Amelia Smith painted; Amelia's picture won.") == [
        ("Oliver", "first", ("6", "7")),
        ("Amelia Smith", "full", ("1",)),
        ("Amelia's", "first", ("1",)),
    ]


def test_possessives_with_or_without_an_apostrophe() -> None:
    (mention,) = FINDER.mentions("Amelias painting won")
    assert (mention.matched_text, mention.plain_s, mention.possessive) == ("Amelias", True, False)
    (mention,) = FINDER.mentions("Amelia’s painting won")
    assert (mention.matched_text, mention.plain_s, mention.possessive) == ("Amelia’s", False, True)
    assert found("Amelia Smiths painting") == [("Amelia Smiths", "full", ("1",))]


def test_mc_written_apart_is_the_name_and_mac_is_a_near_spelling() -> None:
    assert found("Callum McDonald, Callum Mc Donald, Callum MacDonald, Callum Mac Donald") == [
        ("Callum McDonald", "full", ("9",)),
        ("Callum Mc Donald", "full", ("9",)),
        ("Callum MacDonald", "near", ("9",)),
        ("Callum Mac Donald", "near", ("9",)),
    ]
    exact, near = spellings("McDonald")
    assert exact == {("mcdonald",), ("mc", "donald")} and near == {("macdonald",), ("mac", "donald")}


def test_preferred_names_and_accents_count_and_leavers_do_not() -> None:
    # A leaver's full name is still found (the draft check warns: a child may have left for their safety);
    # their first name alone is not.
    assert found("Maggie Okafor and Zoe; Noah Wilson left, Noah too") == [
        ("Maggie Okafor", "full", ("5",)),
        ("Zoe", "first", ("2",)),
        ("Noah Wilson", "leaver", ("8",)),
    ]


def test_names_inside_other_words_are_not_names() -> None:
    assert found("Liamson and Gracefully olivered") == []


def test_what_the_draft_check_needs_to_judge_a_first_name() -> None:
    (mention,) = FINDER.mentions("Thanks, Oliver (1A) in Year 1!")
    assert (mention.start, mention.end, mention.key, mention.capitalised, mention.sentence_start) == (
        8,
        14,
        "oliver",
        True,
        False,
    )
    assert mention.beside_class
    (mention,) = FINDER.mentions("Ok. oliver on 22 May")
    assert (mention.capitalised, mention.sentence_start, mention.beside_class, mention.beside_date) == (False, True, False, False)
    (mention,) = FINDER.mentions("Sports day 2026 Oliver")
    assert mention.beside_date


def test_letters_held_down_still_spell_the_name() -> None:
    assert found("Ameliaaaa Smiiiith!") == [("Ameliaaaa Smiiiith", "full", ("1",))]
