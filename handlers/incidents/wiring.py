"""The incident handlers, in the order PTB tries them: the /log and ban conversations, late
presses of their buttons, a photo outside any flow, the alert's buttons, the lists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.incidents import Draft, Origin, Screenshot
from bot.records.incidents import EvidenceKind
from bot.roles import Permission
from bot.shell.ticker import Runtime
from handlers.flows import dropping, durable_flow
from handlers.incidents.alerts import acknowledge, ask_outcome, back_to_alert, close_incident, record_action
from handlers.incidents.bans import (
    BAN,
    BAN_NAME,
    BAN_PROMPT,
    BAN_REASON,
    BAN_RECORD,
    ban_name,
    ban_over,
    ban_reason,
    ban_timed_out,
    cancel_ban,
    start_ban,
)
from handlers.incidents.escalation import escalation_work
from handlers.incidents.flow import (
    cancel_flow,
    choose_category,
    confirm,
    flow_over,
    flow_timed_out,
    screenshot_adder,
    screenshots_done,
    skip_note,
    start_from_button,
    start_log,
    start_with_photo,
    take_note,
    want_category,
    want_screenshot,
)
from handlers.incidents.pictures import Picture, offer_photo
from handlers.incidents.shared import CATEGORY, CONFIRM, DRAFT, FLOW_TIMEOUT, NOTE, SCREENSHOTS, forget_draft
from handlers.incidents.views import (
    acknowledge_from_record,
    bans_page,
    incidents_page,
    list_bans,
    list_incidents,
    show_incident,
)
from handlers.menu import MenuCommand

DRAFT_SWEEP = timedelta(hours=1)
# The records an unfinished /log keeps between messages and across a restart (bot.shell.persistence).
FLOW_STATE = (Draft, Screenshot, Origin, Picture, EvidenceKind)

COMMANDS = (
    MenuCommand("log", "Log misuse with a screenshot", Permission.LOG_MISUSE),
    MenuCommand("incidents", "Incidents, open ones first", Permission.VIEW_INCIDENTS),
    MenuCommand("incident", "One incident and its evidence: /incident 42", Permission.VIEW_INCIDENTS),
    MenuCommand("bans", "The ban register", Permission.VIEW_INCIDENTS),
)


def register(application: Application, rt: Runtime) -> None:
    private = filters.ChatType.PRIVATE
    picture = private & (filters.PHOTO | filters.Document.IMAGE)
    typed = private & filters.TEXT & ~filters.COMMAND
    log_flow = durable_flow(
        "incident_log",
        entry_points=[
            CommandHandler(["log", "misuse", "report"], start_log),
            CallbackQueryHandler(start_from_button, pattern=r"^1:log:start$"),
            CallbackQueryHandler(start_with_photo, pattern=r"^1:log:with:\d+$"),
        ],
        states={
            SCREENSHOTS: [
                MessageHandler(picture, screenshot_adder(SCREENSHOTS)),
                CallbackQueryHandler(screenshots_done, pattern=r"^1:log:done$"),
                MessageHandler(typed, want_screenshot),
            ],
            CATEGORY: [
                CallbackQueryHandler(choose_category, pattern=r"^1:log:cat:"),
                CallbackQueryHandler(screenshots_done, pattern=r"^1:log:done$"),
                MessageHandler(picture, screenshot_adder(CATEGORY)),
                MessageHandler(typed, want_category),
            ],
            NOTE: [
                MessageHandler(typed, take_note),
                CallbackQueryHandler(skip_note, pattern=r"^1:log:skip$"),
                CallbackQueryHandler(choose_category, pattern=r"^1:log:cat:"),
                MessageHandler(picture, screenshot_adder(NOTE)),
            ],
            CONFIRM: [
                CallbackQueryHandler(confirm, pattern=r"^1:log:ok:"),
                CallbackQueryHandler(skip_note, pattern=r"^1:log:skip$"),
                MessageHandler(typed, take_note),
                MessageHandler(picture, screenshot_adder(CONFIRM)),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_flow),
            CallbackQueryHandler(cancel_flow, pattern=r"^1:log:no$"),
        ],
        timeout=FLOW_TIMEOUT,
        on_timeout=flow_timed_out,
        forget=forget_draft,
    )
    ban_flow = durable_flow(
        "incident_ban",
        entry_points=[CallbackQueryHandler(start_ban, pattern=r"^1:inc:ban:")],
        states={
            BAN_NAME: [MessageHandler(typed, ban_name)],
            BAN_REASON: [
                CallbackQueryHandler(ban_reason, pattern=r"^1:inc:why:"),
                MessageHandler(typed, ban_reason),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel_ban),
            CallbackQueryHandler(cancel_ban, pattern=r"^1:inc:banno$"),
        ],
        timeout=FLOW_TIMEOUT,
        on_timeout=ban_timed_out,
        forget=dropping(BAN, BAN_RECORD, BAN_PROMPT),
    )
    application.add_handler(log_flow)
    application.add_handler(ban_flow)
    application.add_handler(CallbackQueryHandler(confirm, pattern=r"^1:log:ok:"))  # a late second press
    application.add_handler(CallbackQueryHandler(flow_over, pattern=r"^1:log:"))
    application.add_handler(CallbackQueryHandler(ban_over, pattern=r"^1:inc:(why|banno)"))
    # A caption on a photo (or an image file) that is not forwarded is a consent check (handlers/consent/photo.py).
    loose_picture = (filters.PHOTO | filters.Document.IMAGE) & (~filters.CAPTION | filters.FORWARDED)
    application.add_handler(MessageHandler(private & loose_picture, offer_photo))
    application.add_handler(CallbackQueryHandler(acknowledge, pattern=r"^1:inc:ack:"))
    application.add_handler(CallbackQueryHandler(acknowledge_from_record, pattern=r"^1:inc:vack:"))
    application.add_handler(CallbackQueryHandler(record_action, pattern=r"^1:inc:do:"))
    application.add_handler(CallbackQueryHandler(ask_outcome, pattern=r"^1:inc:close:"))
    application.add_handler(CallbackQueryHandler(close_incident, pattern=r"^1:inc:shut:"))
    application.add_handler(CallbackQueryHandler(back_to_alert, pattern=r"^1:inc:back:"))
    application.add_handler(CallbackQueryHandler(incidents_page, pattern=r"^1:inc:page:"))
    application.add_handler(CallbackQueryHandler(bans_page, pattern=r"^1:bans:page:"))
    application.add_handler(CommandHandler("incidents", list_incidents))
    application.add_handler(CommandHandler("incident", show_incident))
    application.add_handler(CommandHandler("bans", list_bans))
    rt.ticker.add("escalation", escalation_work(rt))
    rt.ticker.add("abandoned drafts", abandoned_drafts(application, rt))


def abandoned_drafts(application: Application, rt: Runtime) -> Callable[[datetime], Awaitable[datetime | None]]:
    """Timed work: the screenshots of /log drafts no person's flow holds any more are deleted, hourly."""
    due: datetime | None = None

    async def sweep(now: datetime) -> datetime:
        nonlocal due
        if due is None or now >= due:
            live = {draft.id for state in application.user_data.values() if isinstance(draft := state.get(DRAFT), Draft)}
            rt.services.incident_log.drop_abandoned_drafts(live)
            due = now + DRAFT_SWEEP
        return due

    return sweep
