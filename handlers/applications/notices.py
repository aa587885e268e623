"""What reaches leaders, applicants and recorders through the outbox: cards, outcomes, chasing."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.applications import Applications, Chase
from bot.records.applications import GroupApplication, Status
from bot.roles import Permission, Role
from bot.services import Services
from bot.shell.delivery import retry_wait
from bot.shell.ticker import Runtime, TimedWork
from handlers.applications.messages import (
    applicant_status,
    card_text,
    decision_buttons,
    outcome_for_applicant,
    outcome_for_recorder,
    waited_for,
)

log = logging.getLogger(__name__)

# A parent who blocked the bot, or whose join-request chat lapsed, is not retried for ever.
APPLICANT_WINDOW = timedelta(days=2)
JOINS = "application_joins"


def send_cards(rt: Runtime, application: GroupApplication) -> None:
    """Every leader (SLT, the deputy, the Head) gets a card; all copies form one thread."""
    text = card_text(rt.services, application)
    n = application.number
    for leader in rt.services.staff.with_roles(Role.HEAD, Role.DEPUTY, Role.SLT):
        rt.delivery.post(f"app:{n}:card:{leader}", leader, text, decision_buttons(n), thread=f"app:{n}")


def refresh_cards(rt: Runtime, application: GroupApplication) -> None:
    """Show the application as it stands now on every copy (with buttons while it is pending)."""
    buttons = decision_buttons(application.number) if application.status is Status.PENDING else ()
    rt.delivery.edit_thread(f"app:{application.number}", card_text(rt.services, application), buttons)


def announce(rt: Runtime, application: GroupApplication) -> None:
    """Tell the applicant (where the bot can reach them) and whoever recorded the form."""
    n = application.number
    if application.applicant_id:
        rt.delivery.post(
            f"app:{n}:outcome:applicant",
            application.applicant_id,
            outcome_for_applicant(rt.services, application),
            give_up_after=APPLICANT_WINDOW,
        )
    for recorder in application.recorded_by:
        rt.delivery.post(
            f"app:{n}:outcome:{recorder}",
            recorder,
            outcome_for_recorder(rt.services, application),
            needs=Permission.RECORD_APPLICATION,  # a recorder revoked since is no longer told
        )
    rt.services.application_desk.outcome_told(n)


class JoinRequests:
    """Sends SLT's decision on a join request to Telegram, retrying until Telegram has it.

    The decision is stored first (join_action); this only carries it out, so a 5xx, a
    dropped connection or a restart delays it but never loses it.
    """

    def __init__(self, bot: Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        self._lock = asyncio.Lock()

    async def flush(self) -> datetime | None:
        """Send every decision that is due; return when the next retry is due."""
        async with self._lock:
            apps = self.services.application_desk
            for application in apps.joins_due():
                await self._send(apps, application)
            return apps.next_join()

    async def _send(self, apps: Applications, application: GroupApplication) -> None:
        n, chat, user = application.number, application.join_chat_id, application.applicant_id
        try:
            if application.join_action == "approve":
                await self.bot.approve_chat_join_request(chat, user)
            else:
                await self.bot.decline_chat_join_request(chat, user)
        except RetryAfter as exc:
            wait = retry_wait(exc)
            apps.join_failed(n, "rate limited", wait)
        except BadRequest as exc:
            if "hide_requester_missing" in exc.message.lower() or "user_already_participant" in exc.message.lower():
                # Telegram no longer has the request: another admin decided it, or it was withdrawn.
                apps.join_done(n, "already handled on Telegram")
            else:
                log.warning("Join request decision for application %s refused: %s", n, exc.message)
                apps.join_failed(n, exc.message)
        except TelegramError as exc:
            log.warning("Join request decision for application %s not sent (%s); retrying", n, type(exc).__name__)
            apps.join_failed(n, type(exc).__name__)
        else:
            apps.join_done(n, "done")


def chasing_work(rt: Runtime, joins: JoinRequests) -> TimedWork:
    """Timed work, all derived from storage: Telegram decisions, reminders, notices, outcomes."""

    async def work(now: datetime) -> datetime | None:
        following = await joins.flush()
        apps = rt.services.application_desk
        for chase in apps.chases_due():
            _chase(rt, chase)
            apps.chased(chase)
        upcoming = [moment for moment in (following, apps.next_chase()) if moment is not None]
        return min(upcoming, default=None)

    return work


def _chase(rt: Runtime, chase: Chase) -> None:
    services = rt.services
    a = chase.application
    n = a.number
    thread = f"app:{n}"
    if chase.kind == "slt":
        waited = waited_for(a.submitted_at or a.created_at, services.clock.now())
        text = f"⏰ <b>Reminder</b>: this application has waited {waited} for a decision.\n\n" + card_text(services, a)
        for leader in services.staff.with_roles(Role.SLT, Role.DEPUTY):
            rt.delivery.post(f"app:{n}:remind:{chase.period}:{leader}", leader, text, decision_buttons(n), thread=thread)
    elif chase.kind == "head":
        text = "⏰ <b>For the Head Teacher</b>: this application has waited over a week for a decision.\n\n" + card_text(services, a)
        for head in services.staff.with_roles(Role.HEAD):
            rt.delivery.post(f"app:{n}:head:{head}", head, text, decision_buttons(n), thread=thread)
    elif chase.kind == "applicant":
        text, buttons = applicant_status(services, a)
        rt.delivery.post(
            f"app:{n}:nudge",
            a.applicant_id,
            "A reminder about your request to join the parents' group.\n\n" + text,
            buttons,
            give_up_after=APPLICANT_WINDOW,
        )
    elif chase.kind == "outcome":
        announce(rt, a)


