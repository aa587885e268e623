"""The demo shows a whole day: /advance and /at move the demo's clock, and everything the bot sends
meanwhile, to anyone, is printed with the demo time and the persona it went to (issue 16, point 8).

Each test drives `python -m bot demo` with piped input, as the README's tour does.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from tests.test_first_use import demo

ROOT = Path(__file__).resolve().parents[1]
STAMP = re.compile(r"^\[(\w{3} \d{1,2} \w{3} \d\d:\d\d)\]\s+↳ to (\w+): ")
LOG_A_SCREENSHOT = ("/screenshot", "/press 1", "/press 1", "/press 1", "/press 1", "/press 1")


def timed(out: str) -> list[tuple[str, str, str]]:
    """(demo time, persona, the whole message) for each message printed while the clock moved."""
    found: list[tuple[str, str, str]] = []
    for line in out.splitlines():
        if match := STAMP.match(line):
            found.append((match.group(1), match.group(2), line))
        elif found and line.startswith("     "):
            moment, persona, text = found[-1]
            found[-1] = (moment, persona, f"{text}\n{line}")
    return found


def readme_tour() -> list[str]:
    """The lines the README's "Try it" tour pipes into the demo."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.startswith("printf") and "/advance" in line)
    return re.findall(r"'(/[^']*)'", command)


def test_a_day_advanced_brings_the_digest_the_nudge_and_the_deadline_alert_each_at_its_moment_to_its_person() -> None:
    out = demo("/now", "/advance 1d", "/now")

    messages = timed(out)
    digest = [(t, who) for t, who, text in messages if "Weekly digest" in text]
    nudges = [(t, who) for t, who, text in messages if "Moderate the page" in text]
    deadline = [(t, who) for t, who, text in messages if "has not been moderated" in text]
    assert digest == [("Mon 30 Nov 07:30", "head")]
    assert "7 of 7 days" in next(text for _, _, text in messages if "Weekly digest" in text), "last week is on record"
    assert nudges == [("Mon 30 Nov 08:30", "admin")]
    assert deadline == [("Mon 30 Nov 12:00", "head")]
    moments = [datetime.strptime(t, "%a %d %b %H:%M") for t, _, _ in messages]
    assert moments == sorted(moments), "printed in the order they happened"
    assert "— It is Mon 30 Nov 2026 07:00 (Europe/London) in the demo." in out
    assert "— It is Tue 1 Dec 2026 07:00 (Europe/London) in the demo." in out


def test_an_incident_nobody_acknowledges_is_sent_again_after_ack_minutes_then_reaches_the_deputy_and_slt() -> None:
    out = demo("/at 08:30", *LOG_A_SCREENSHOT, "/advance 1h")

    later = [(t, who) for t, who, text in timed(out) if "INC-0001" in text]
    assert ("Mon 30 Nov 09:00", "head") in later, "re-sent to the Head after 30 minutes"
    assert not any(who in ("deputy", "slt") for t, who in later if t == "Mon 30 Nov 09:00")
    assert {("Mon 30 Nov 09:30", "deputy"), ("Mon 30 Nov 09:30", "slt")} <= set(later), "then the fallback too"


def test_once_acknowledged_the_alert_is_not_sent_again() -> None:
    out = demo("/at 08:30", *LOG_A_SCREENSHOT, "/as head", "/press 1", "/advance 2h")

    assert not [who for _, who, text in timed(out) if "INC-0001" in text]


def test_remind_me_in_an_hour_on_the_nudge_comes_back_an_hour_later() -> None:
    out = demo("/at 08:30", "/press 3", "/advance 2h")

    again = [(t, who) for t, who, text in timed(out) if "Moderate the page" in text and t != "Mon 30 Nov 08:30"]
    assert again == [("Mon 30 Nov 09:30", "admin")]


def test_a_join_request_left_waiting_is_chased_after_48_hours_not_before() -> None:
    out = demo("/as stranger", "/join", "/advance 47h", "/advance 1h")

    chased = [(t, who) for t, who, text in timed(out) if "reminder about your request" in text.lower()]
    assert chased == [("Wed 2 Dec 07:00", "stranger")]


def test_a_span_the_demo_cannot_read_gets_its_usage_and_the_clock_does_not_move() -> None:
    out = demo("/advance zzz", "/advance -1d", "/advance 0m", "/at 25:00", "/now")

    assert out.count("Usage: /advance 30m, /advance 2h or /advance 1d") == 3
    assert "Usage: /at 08:30" in out
    assert "Nothing changed: it is still Mon 30 Nov 2026 07:00." in out
    assert "— It is Mon 30 Nov 2026 07:00 (Europe/London) in the demo." in out
    assert not timed(out) and "Moving the clock" not in out


def test_at_a_time_already_past_today_goes_on_to_tomorrow_never_back() -> None:
    out = demo("/advance 1h30m", "/now", "/at 07:00", "/now")

    assert "— It is Mon 30 Nov 2026 08:30 (Europe/London) in the demo." in out
    assert "— It is Tue 1 Dec 2026 07:00 (Europe/London) in the demo." in out
    assert "Moving the clock on from Mon 30 Nov 08:30 to Tue 1 Dec 07:00" in out


def test_a_file_the_bot_sends_shows_its_name_and_size() -> None:
    out = demo("/as head", "/export")

    assert re.search(r"\[file incidents-[\w-]+\.csv, \d+ bytes\] bot> ", out), out


def test_demo_lists_the_time_travel_commands() -> None:
    out = demo("/demo")

    for command in ("/advance 30m", "/at 08:30", "/now"):
        assert f"\n  {command} " in out


def test_the_readmes_tour_shows_a_whole_day() -> None:
    tour = readme_tour()
    out = demo(*tour)

    seen = {(who, kind_of(text)) for _, who, text in timed(out)}
    assert {("head", "digest"), ("admin", "nudge"), ("head", "INC"), ("deputy", "INC"), ("head", "deadline")} <= seen, out


def kind_of(text: str) -> str:
    if "Weekly digest" in text:
        return "digest"
    if "Moderate the page" in text:
        return "nudge"
    if "has not been moderated" in text:
        return "deadline"
    return "INC" if "INC-0001" in text else ""


def test_press_by_words_reaches_a_button_under_an_older_message() -> None:
    """The photo's destination question sits above its preview: /press Facebook answers it, /press 1 cannot."""
    out = demo("/photo Amelia Smith", "/press Facebook", "/press zzz", "/quit")
    assert "Photo check for the Facebook page" in out and "✅ Amelia Smith" in out
    assert "or the start of a button's words on any message" in out
