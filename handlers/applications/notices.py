"""What reaches leaders, applicants, recorders and Telegram through the outbox: cards, outcomes, chasing.

The domain says what is owed, to whom and under which key (`bot.applications`, `Chase`); this
module only renders each notice and posts it, the way moderation's nudges are sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.records.applications import Chase, ChaseKind, GroupApplication, JoinAction, Reader, Status
from bot.records.outbox import Buttons, JoinAnswer, OutboxItem, OutboxState
from bot.roles import Permission
from bot.shell.delivery import JoinListener
from bot.shell.ticker import Runtime, TimedWork
from handlers.applications.messages import (
    card_text,
    decision_buttons,
    head_notice_text,
    join_refused_text,
    nudge_text,
    outcome_for_applicant,
    outcome_for_recorder,
    ping_text,
    reminder_text,
)

# A parent who blocked the bot, or whose join-request chat lapsed, is not retried for ever.
APPLICANT_WINDOW = timedelta(days=2)


def send_cards(rt: Runtime, application: GroupApplication) -> None:
    """Every leader (SLT, the deputy, the Head) gets a card; all copies form one thread."""
    text = card_text(rt.services, application)
    n = application.number
    for leader in rt.services.staff.leaders():
        rt.delivery.post(f"app:{n}:card:{leader}", leader, text, decision_buttons(n), thread=f"app:{n}")


def refresh_cards(rt: Runtime, application: GroupApplication) -> None:
    """Show the application as it stands now on every copy (with buttons while it is pending)."""
    buttons = decision_buttons(application.number) if application.status is Status.PENDING else ()
    rt.delivery.edit_thread(f"app:{application.number}", card_text(rt.services, application), buttons)


def close_pings(rt: Runtime, application: GroupApplication) -> None:
    """Once decided, every reminder ping says who decided: none still says "waiting"."""
    rt.delivery.edit_thread(f"app:{application.number}:ping", ping_text(rt.services, application))


def announce(rt: Runtime, application: GroupApplication) -> None:
    """Tell the applicant (where the bot can reach them) and whoever recorded the form."""
    carry_out(rt, rt.services.application_desk.outcome(application))


def tell_telegram(rt: Runtime, application: GroupApplication) -> None:
    """Approve or decline the join request behind a decision just made (the outbox retries it)."""
    owed = rt.services.application_desk.join(application)
    if owed is not None:
        carry_out(rt, owed)


def carry_out(rt: Runtime, chase: Chase) -> None:
    """Post every notice the domain says is owed, then record it done (the keys make it happen once)."""
    a = chase.application
    live = (OutboxState.SENT, OutboxState.PENDING)  # a card given up on is no card to point to
    holders = {copy.chat_id for copy in rt.services.outbox.in_thread(f"app:{a.number}") if copy.state in live}
    for notice in chase.notices:
        if notice.reader is Reader.TELEGRAM:
            rt.delivery.decide_join(notice.key, notice.chat_id, a.applicant_id, approve=a.join_action is JoinAction.APPROVE)
            continue
        text, buttons = _render(rt, chase, notice.reader)
        if notice.reader is Reader.APPLICANT:
            rt.delivery.post(notice.key, notice.chat_id, text, buttons, give_up_after=APPLICANT_WINDOW)
        elif notice.reader is Reader.RECORDER:  # a recorder revoked since is no longer told
            rt.delivery.post(notice.key, notice.chat_id, text, buttons, needs=Permission.RECORD_APPLICATION)
        elif chase.kind is ChaseKind.JOIN_REFUSED:
            rt.delivery.post(notice.key, notice.chat_id, text, buttons, needs=Permission.DECIDE_APPLICATIONS)
        elif notice.chat_id in holders:  # a short ping pointing to the card they hold (issue 16)
            ping = ping_text(rt.services, a, head=chase.kind is ChaseKind.HEAD)
            rt.delivery.post(notice.key, notice.chat_id, ping, thread=f"app:{a.number}:ping")
        else:  # a leader without the card (new since it came) gets one, kept up to date with the others
            rt.delivery.post(notice.key, notice.chat_id, text, buttons, thread=f"app:{a.number}")
    rt.services.application_desk.chased(chase)


def _render(rt: Runtime, chase: Chase, reader: Reader) -> tuple[str, Buttons]:
    services, a = rt.services, chase.application
    if chase.kind is ChaseKind.REMIND:
        return reminder_text(services, a), decision_buttons(a.number)
    if chase.kind is ChaseKind.HEAD:
        return head_notice_text(services, a), decision_buttons(a.number)
    if chase.kind is ChaseKind.APPLICANT:
        return nudge_text(services, a)
    if chase.kind is ChaseKind.JOIN_REFUSED:
        return join_refused_text(a, chase.detail), ()
    if reader is Reader.APPLICANT:
        return outcome_for_applicant(services, a), ()
    return outcome_for_recorder(services, a), ()


def on_join_answer(rt: Runtime) -> JoinListener:
    """What Telegram made of a join-request decision goes into the application; a refusal reaches the leaders."""

    def heard(item: OutboxItem, answer: JoinAnswer, detail: str) -> None:
        owed = rt.services.application_desk.join_answered(item.chat_id, item.user_id, answer, detail, item.attempts)
        if owed is not None:
            carry_out(rt, owed)

    return heard


def chasing_work(rt: Runtime) -> TimedWork:
    """Timed work, all derived from storage: reminders, notices, outcomes, Telegram's side of decisions."""

    async def work(now: datetime) -> datetime | None:
        apps = rt.services.application_desk
        for chase in apps.chases_due():
            carry_out(rt, chase)
        return apps.next_chase()

    return work
