"""Finding a pupil the way an admin types on a phone: typos, accents, apostrophes, hyphens."""

from __future__ import annotations

from bot.names import PupilIndex, fold
from bot.records.consent import Pupil

REGISTER = [
    Pupil("1", "Amelia", "Smith", class_name="4B"),
    Pupil("2", "Zoë", "Lefèvre", class_name="2A"),
    Pupil("3", "Liam", "O'Brien", class_name="5C"),
    Pupil("4", "Harry", "Smith-Jones", class_name="3A"),
    Pupil("5", "Margaret", "Okafor", preferred_name="Maggie", class_name="6B"),
    Pupil("6", "Oliver", "Taylor", class_name="1A"),
    Pupil("7", "Oliver", "Brown", class_name="2B"),
    Pupil("8", "Noah", "Wilson", class_name="3C", left=True),
    Pupil("9", "Grace", "Evans", class_name="4A"),
    Pupil("10", "Jack", "<Bobby> & Co", class_name="R"),
    Pupil("11", "Siân", "Ní Bhriain", class_name="5A"),
]
INDEX = PupilIndex(REGISTER)


def one(query: str) -> str:
    resolution = INDEX.resolve(query)
    assert resolution.kind == "one", (query, resolution)
    return resolution.matches[0].pupil.pupil_id


def asked(query: str, index: PupilIndex = INDEX) -> list[str]:
    """The pupils offered to confirm, best first; the query must not have given a verdict."""
    resolution = index.resolve(query)
    assert resolution.kind != "one", (query, resolution)
    return [m.pupil.pupil_id for m in resolution.matches]


def test_a_typo_in_both_names_offers_the_pupil_to_confirm() -> None:
    assert asked("Amelai Smth")[0] == "1"
    assert INDEX.resolve("Amelai Smth").matches[0].exact is False


def test_a_near_name_is_never_a_verdict_for_another_child() -> None:
    school = PupilIndex(
        [
            Pupil("as", "Amelia", "Smith"),
            Pupil("aj", "Amelia", "Jones", preferred_name="Millie"),
            Pupil("st", "Sophie", "Thompson"),
            Pupil("nw", "Noah", "Williams"),
            Pupil("ib", "Isla", "Brown"),
        ]
    )
    for typed, meant in (
        ("Amelie Smith", "as"),
        ("Amelia Smyth", "as"),
        ("Amelia Smit", "as"),
        ("Sophia Thompson", "st"),
        ("Noa Williams", "nw"),
    ):
        assert asked(typed, school)[0] == meant, typed
    assert school.resolve("Amelia Brown").kind == "none"  # not Millie Jones: a surname is not a typo away


def test_a_typo_in_the_first_letter_offers_the_pupil_it_was_meant_for_first() -> None:
    greens = PupilIndex([Pupil("c", "Charlie", "Green"), Pupil("h", "Harriet", "Green")])
    assert asked("harlie Green", greens)[0] == "c"
    smiths = PupilIndex([Pupil("z", "Zoe", "Smith"), Pupil("j", "Joe", "Smith")])
    assert sorted(asked("oe Smith", smiths)) == ["j", "z"]
    assert asked("Amelia mith")[0] == "1" and asked("Xmelia Smith")[0] == "1"


def test_a_surname_alone_offers_every_pupil_it_may_mean() -> None:
    assert asked("Smith") == ["1", "4"]  # Amelia Smith, then Harry Smith-Jones
    assert asked("Smith Jones") == ["4"]


def test_accents_do_not_matter_either_way() -> None:
    assert one("Zoe Lefevre") == "2"
    assert one("ZOË LEFÈVRE") == "2"
    assert one("Sian Ni Bhriain") == "11"


def test_apostrophes_in_surnames_can_be_typed_any_way() -> None:
    for typed in ("Liam O'Brien", "Liam O’Brien", "Liam OBrien", "Liam O Brien", "liam obrien"):
        assert one(typed) == "3", typed


def test_hyphenated_surnames_match_with_or_without_the_hyphen() -> None:
    for typed in ("Harry Smith-Jones", "Harry Smith Jones", "Harry SmithJones"):
        assert one(typed) == "4", typed


def test_the_preferred_name_finds_the_pupil() -> None:
    assert one("Maggie Okafor") == "5"
    assert one("Margaret Okafor") == "5"


def test_surname_first_finds_the_pupil_as_the_register_writes_it() -> None:
    assert one("Okafor Maggie") == "5"
    assert one("SMITH, Amelia") == "1"
    assert one("O'BRIEN, Liam") == "3"


def test_a_full_name_run_together_is_offered_not_given() -> None:
    assert asked("AmeliaSmith") == ["1"]
    assert asked("Ameliaxsmith") == ["1"]


def test_first_name_only_with_two_pupils_offers_both() -> None:
    resolution = INDEX.resolve("oliver")
    assert resolution.kind == "several"
    assert {m.pupil.pupil_id for m in resolution.matches} == {"6", "7"}


def test_first_name_only_with_one_pupil_is_offered_not_given() -> None:
    # A new starter called Grace, not yet on the register, must not be cleared as Grace Evans.
    resolution = INDEX.resolve("Grace")
    assert resolution.kind == "several" and [m.pupil.pupil_id for m in resolution.matches] == ["9"]


def test_a_pupil_who_has_left_is_not_found() -> None:
    assert INDEX.resolve("Noah Wilson").kind == "none"


def test_a_name_nobody_has_is_none() -> None:
    assert INDEX.resolve("Xavier Quinton").kind == "none"
    assert INDEX.resolve("   ").kind == "none"
    assert INDEX.resolve("!!!").kind == "none"


def test_a_single_word_with_a_typo_asks_rather_than_guesses() -> None:
    resolution = INDEX.resolve("Ameila")
    assert resolution.kind == "several"
    assert resolution.matches[0].pupil.pupil_id == "1"


def test_two_pupils_with_the_same_name_are_never_one() -> None:
    twins = PupilIndex([Pupil("a", "Sam", "Patel", class_name="3A"), Pupil("b", "Sam", "Patel", class_name="5A")])
    resolution = twins.resolve("Sam Patel")
    assert resolution.kind == "several"
    assert len(resolution.matches) == 2
    assert twins.resolve("Sam Patell").kind == "several"


def test_close_names_that_cannot_be_told_apart_offer_a_choice() -> None:
    close = PupilIndex([Pupil("a", "Ella", "Brown"), Pupil("b", "Ellie", "Brown")])
    assert close.resolve("Elle Brown").kind == "several"


def test_many_matches_are_capped_and_ask_for_more_detail() -> None:
    many = PupilIndex([Pupil(str(i), "Mohammed", f"Surname{i}") for i in range(12)])
    resolution = many.resolve("Mohammed")
    assert resolution.kind == "several"
    assert len(resolution.matches) == 8
    assert resolution.more


def test_html_special_characters_in_names_are_kept_as_written() -> None:
    match = INDEX.resolve("Jack <Bobby> & Co")
    assert match.kind == "one"
    assert match.matches[0].pupil.last_name == "<Bobby> & Co"
    assert one("jack bobby co") == "10"


def test_fold_removes_case_accents_and_punctuation() -> None:
    assert fold("Zoë O'Brien-Smith") == "zoe obrien smith"
    assert fold("Øyvind Łukasz STRAßE") == "oyvind lukasz strasse"


def test_a_name_not_in_the_register_never_becomes_a_sibling() -> None:
    family = PupilIndex([Pupil("a", "Mia", "O'Brien"), Pupil("b", "Harry", "Patel")])
    assert family.resolve("Liam O'Brien").kind == "none"
    assert asked("Mia O'Brian", family) == ["a"]
