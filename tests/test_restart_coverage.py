"""Every conversation the bot has is one proven, in tests/test_restart.py, tests/test_leader_notes.py and
tests/test_application_office_answer.py, to carry on after a restart: a new flow must be built with
handlers.flows.durable_flow and get its own restart test before it joins this list."""

from __future__ import annotations

from telegram.ext import ConversationHandler

from tests.conftest import BotHarness

# Each name is restarted mid-flow in a test: /log with screenshots, a ban question, a /check in progress,
# an /apply half filled, a leader's typed question and reason, and the office's typed answer.
PROVEN = {"incident_log", "incident_ban", "consent_check", "application_form", "application_note", "application_answer"}


async def test_every_conversation_is_kept_on_disk_and_proven_to_survive_a_restart(bot: BotHarness) -> None:
    flows = [h for handlers in bot.app.handlers.values() for h in handlers if isinstance(h, ConversationHandler)]
    assert all(flow.persistent and flow.conversation_timeout for flow in flows), [f.name for f in flows]
    assert {flow.name for flow in flows} == PROVEN
