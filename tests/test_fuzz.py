"""Hostile and random input: no crash, no refusal from Telegram, nothing written when input is rejected.

Short runs in CI (the "ci" Hypothesis profile); `pytest --long` runs ten times as many examples.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.names import PupilIndex
from bot.register_import import parse_register
from bot.shell.callbacks import pack, unpack
from tests.conftest import ADMIN, HEAD, OFFICE, STRANGER, BotHarness
from tests.test_consent_bot import REGISTER, load

HOSTILE = st.sampled_from(
    [
        "<b>bold</b> & <script>alert(1)</script>",
        "\u202eevil right-to-left\u202c",
        "\u200f\u200e\u200b zero widths",
        "Zoë O'Brien-Smith &amp; &lt;",
        "x" * 10_000,
        "🙂" * 3000,
        "\x00\x01\x02 control",
        "' OR 1=1 --",
        "%s %d {0} {name}",
        "../../etc/passwd",
        "INC-99999999999999999999",
        "-1",
        "",
    ]
)
TEXT = st.one_of(HOSTILE, st.text(max_size=300), st.text(alphabet=st.characters(codec="utf-8"), max_size=5000))


@settings(deadline=None)
@given(st.text(max_size=200))
def test_callback_data_parser_never_crashes_and_round_trips(data: str) -> None:
    parsed = unpack(data)
    if parsed is not None:
        assert pack(parsed.feature, parsed.action, *parsed.args) == data


@settings(deadline=None)
@given(st.binary(max_size=3000) | st.text(max_size=3000).map(str.encode))
def test_register_parser_reports_instead_of_crashing(data: bytes) -> None:
    parsed = parse_register(data, ("page", "group", "press"))
    assert parsed.fatal or parsed.pupils or parsed.rejected


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=40), st.text(max_size=40), st.text(max_size=40), st.sampled_from(["yes", "no", "y", "maybe", ""])
        ),
        max_size=20,
    )
)
def test_csv_rows_with_any_text_either_load_or_are_rejected_with_a_reason(rows: list[tuple[str, str, str, str]]) -> None:
    header = "pupil_id,first_name,last_name,consent_page,consent_group,consent_press,expires,withdrawn\n"
    body = "".join(
        f'"{a.replace(chr(34), "")}","{b.replace(chr(34), "")}","{c.replace(chr(34), "")}",{d},no,no,,\n' for a, b, c, d in rows
    )
    parsed = parse_register((header + body).encode(), ("page", "group", "press"))
    for row in parsed.rejected:
        assert row.reason
    index = PupilIndex(parsed.pupils)
    for pupil in parsed.pupils:
        assert index.resolve(f"{pupil.first_name} {pupil.last_name}").kind in ("one", "several", "none")


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot, REGISTER)
    return bot


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    command=st.sampled_from(
        ["consent", "perm", "check", "checkpost", "grant", "revoke", "staff", "import", "expiring", "audit", "help", "start"]
    ),
    text=TEXT,
    who=st.sampled_from([ADMIN, HEAD, OFFICE, STRANGER]),
)
async def test_any_text_after_any_command_gets_a_reply_and_no_crash(
    school: BotHarness, caplog: pytest.LogCaptureFixture, command: str, text: str, who: int
) -> None:
    staff_before = [(m.user_id, m.role) for m in school.services.staff.active()]
    school.app.bot_data.pop("stranger_gate", None)  # a stranger is answered once per window: each example is a first
    with caplog.at_level(logging.ERROR):
        replies = await school.say(who, f"/{command} {text}"[:4096])
        await school.say(who, "/cancel")
    assert "failed" not in caplog.text, caplog.text
    assert replies, f"/{command} got no reply"
    if who == STRANGER:
        assert all("Amelia" not in m.plain for m in replies)
        assert [(m.user_id, m.role) for m in school.services.staff.active()] == staff_before


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.text(min_size=1, max_size=64),
        st.builds(
            lambda f, a, n: f"1:{f}:{a}:{n}",
            st.sampled_from(["con", "acc", "inc", "mod", "app", "aud", "staff", "exp", "log"]),
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
            st.integers(-5, 10**12),
        ),
    ),
    who=st.sampled_from([ADMIN, STRANGER, OFFICE]),
)
async def test_forged_button_presses_are_answered_and_change_nothing(
    school: BotHarness, caplog: pytest.LogCaptureFixture, data: str, who: int
) -> None:
    school.app.bot_data.pop("stranger_gate", None)  # a stranger is answered once per window: each tap is a first
    [prompt] = await school.say(who, "/help")
    school.app.bot_data.pop("stranger_gate", None)
    data = data.encode()[:64].decode(errors="ignore") or "x"
    before = school.services.consents.all(), [(m.user_id, m.role) for m in school.services.staff.active()]
    with caplog.at_level(logging.ERROR):
        answer = await school.press(who, prompt, data=data)
    assert "failed" not in caplog.text
    assert answer is not None
    assert (school.services.consents.all(), [(m.user_id, m.role) for m in school.services.staff.active()]) == before
