"""Consent verdicts as an admin reads them before uploading a photo (policy 4.1, 4.2, 4.4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from bot.clock import show_date
from bot.consent import expiring_within, verdict
from bot.records.consent import Pupil

PURPOSES = ("page", "group", "press")
TODAY = date(2026, 3, 10)


def pupil(pupil_id: str = "P1", **changes: Any) -> Pupil:
    base = Pupil(
        pupil_id=pupil_id,
        first_name="Amelia",
        last_name="Smith",
        class_name="4B",
        consents={"page": True, "group": True, "press": False},
        form_date=date(2025, 9, 5),
        expires=date(2026, 7, 31),
    )
    return replace(base, **changes)


def reasons(result) -> dict[str, str]:
    return {p.purpose: p.reason for p in result.purposes if not p.allowed}


def test_consented_purposes_are_allowed_and_the_rest_say_why_not() -> None:
    result = verdict(pupil(), PURPOSES, TODAY)
    assert [p.allowed for p in result.purposes] == [True, True, False]
    assert reasons(result) == {"press": "not given on the form"}
    assert not result.allowed
    assert verdict(pupil(), ("page", "group"), TODAY).allowed


def test_a_name_that_matched_nobody_is_no_for_every_purpose() -> None:
    result = verdict(None, PURPOSES, TODAY)
    assert not result.allowed
    assert reasons(result) == {purpose: "not found" for purpose in PURPOSES}


def test_a_pupil_without_a_form_is_no_even_if_the_register_is_otherwise_blank() -> None:
    result = verdict(pupil(consents={}, form_date=None), PURPOSES, TODAY)
    assert reasons(result) == {purpose: "no form" for purpose in PURPOSES}


def test_a_withdrawn_pupil_is_no_with_the_date_for_every_purpose() -> None:
    result = verdict(pupil(withdrawn=date(2026, 3, 1)), PURPOSES, TODAY)
    assert reasons(result) == {purpose: "withdrawn on 1 Mar 2026" for purpose in PURPOSES}


def test_a_withdrawal_dated_next_week_already_says_no() -> None:
    result = verdict(pupil(withdrawn=date(2026, 3, 17)), ("page",), TODAY)
    assert reasons(result) == {"page": "withdrawn on 17 Mar 2026"}


def test_consent_is_valid_on_its_last_day_and_expired_the_day_after() -> None:
    last_day = pupil(expires=TODAY)
    assert verdict(last_day, ("page",), TODAY).allowed
    result = verdict(last_day, ("page",), date(2026, 3, 11))
    assert reasons(result) == {"page": "expired on 10 Mar 2026"}


def test_a_pupil_who_has_left_is_no() -> None:
    result = verdict(pupil(left=True), ("page",), TODAY)
    assert reasons(result) == {"page": "left the school"}


def test_a_purpose_the_register_does_not_know_is_no() -> None:
    assert not verdict(pupil(), ("newsletter",), TODAY).allowed


def test_nothing_asked_is_never_a_yes() -> None:
    assert not verdict(pupil(), (), TODAY).allowed


def test_for_purpose_reads_one_line_of_the_card() -> None:
    assert verdict(pupil(), PURPOSES, TODAY).for_purpose("group").allowed


def test_dates_read_the_same_way_everywhere() -> None:
    assert show_date(date(2026, 12, 25)) == "25 Dec 2026"


def test_expiring_lists_live_consents_ending_within_30_days_soonest_first() -> None:
    pupils = [
        pupil("late", expires=date(2026, 4, 9)),
        pupil("soon", expires=date(2026, 3, 12)),
        pupil("today", expires=TODAY),
        pupil("too-late", expires=date(2026, 4, 10)),
        pupil("gone", expires=date(2026, 3, 20), left=True),
        pupil("withdrawn", expires=date(2026, 3, 20), withdrawn=date(2026, 1, 1)),
        pupil("never-consented", expires=date(2026, 3, 20), consents={"page": False}),
        pupil("no-expiry", expires=None),
        pupil("already-expired", expires=date(2026, 3, 9)),
    ]
    assert [p.pupil_id for p in expiring_within(pupils, TODAY)] == ["today", "soon", "late"]
    assert [p.pupil_id for p in expiring_within(pupils, TODAY, days=3)] == ["today", "soon"]


def test_pupils_compare_by_their_register_row_and_can_be_hashed() -> None:
    assert pupil() == pupil()
    assert pupil() != pupil(consents={"page": False})
    assert len({pupil(), pupil()}) == 1
    assert pupil(preferred_name="Millie").full_name == "Millie Smith"
