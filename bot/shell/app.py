"""Builds the running bot: services, durable delivery, the scheduler, and every handler.

Handler order matters, and it is set here. PTB offers an update to each group in turn (lowest
first) and, within a group, only to the first handler that accepts it:

- group -1 (bot.shell.delivery): notes who can be reached again before anything answers them;
- group 0, in FEATURES order: each capability's commands, buttons and conversations. A
  conversation registered before the plain-text and photo handlers takes a typed answer (a /log
  note, an /apply name) before they could read it as something else; access comes first so
  /start and /help always answer;
- group 0, last (handlers.access.register_fallbacks): whatever nothing else understood, a polite
  refusal for strangers or a pointer to /help, and "this button has expired".
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, CallbackContext, ConversationHandler, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.clock import Clock
from bot.config import Config
from bot.logsafe import hide_secret
from bot.photos.worker import WORKER as PHOTO_WORKER
from bot.services import Services
from bot.shell.codec import Codec
from bot.shell.context import CONTEXT_TYPES, UserState
from bot.shell.delivery import Delivery, RetryingRateLimiter
from bot.shell.delivery import register as register_delivery
from bot.shell.lapses import DurableApplication, expire_overdue_steps
from bot.shell.persistence import FlowStore
from bot.shell.ticker import Runtime, Ticker
from handlers import (
    access,
    applications,
    audit,
    backups,
    consent,
    digest,
    exports,
    incidents,
    moderation,
    pupil,
    register_import,
    retention,
    status,
)
from handlers.errors import DiskAlarm, on_error
from handlers.menu import refresh_menu, set_default_menu

log = logging.getLogger(__name__)

# One module per capability; each offers COMMANDS and register(application, runtime).
FEATURES = (
    access,
    incidents,
    consent,
    register_import,
    applications,
    audit,
    pupil,
    exports,
    digest,
    moderation,
    status,
    backups,
    retention,
)
SAFETY_TICK = timedelta(seconds=30)
OUTBOX_KEEP = timedelta(days=60)
AUDIT_RETRY = timedelta(minutes=1)  # held audit lines are tried again this often while the disk refuses them
# What the bot listens for: messages, button presses, parents' join requests, being added to a group.
ALLOWED_UPDATES = ["message", "callback_query", "chat_join_request", "my_chat_member"]
# Every message is HTML (user and pupil text escaped with handlers.common.h); no link previews,
# which would fetch whatever page a typed link points to and show it under the bot's message.
DEFAULTS = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
# Per-user values not worth a write: an import's parsed register (the file is simply sent again).
TRANSIENT_STATE = ("imports",)


def build_application(
    config: Config,
    clock: Clock,
    *,
    autotick: bool = True,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    wait_scale: float = 1.0,
) -> Application:
    """The whole bot for one data folder. `autotick=False` lets tests drive time by hand;
    `wait_scale=0` lets them retry at once where the bot would pause before retrying a call."""
    hide_secret(config.telegram.token)  # every log record from here on, whoever handles it
    services = Services.open(config, clock)
    flows = FlowStore(
        services.db.data_dir, clock, Codec(_flow_state_types()), UserState, transient=TRANSIENT_STATE, health=services.db.health
    )
    builder = (
        ApplicationBuilder()
        .application_class(DurableApplication)
        .context_types(CONTEXT_TYPES)
        .defaults(DEFAULTS)
        .persistence(flows)
        .token(config.telegram.token)
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        # No overall throttle: a school bot sends far below Telegram's 30 messages a second, and a
        # throttle would delay every reply; a 429 is still retried, and group chats stay throttled.
        .rate_limiter(RetryingRateLimiter(overall_max_rate=0, max_retries=3, wait_scale=wait_scale))
        .post_init(on_start)
        .post_shutdown(on_stop)
    )
    builder = builder.request(request or HTTPXRequest(connection_pool_size=8, read_timeout=15, connect_timeout=10))
    builder = builder.get_updates_request(get_updates_request or HTTPXRequest(read_timeout=40, connect_timeout=10))
    application = builder.build()

    rt = Runtime(services, Delivery(application, services), Ticker(services))
    rt.ticker.add("delivery", lambda now: rt.delivery.flush())
    rt.ticker.add("outbox cleanup", lambda now: _prune_outbox(rt, now))
    application.bot_data["runtime"] = rt
    application.bot_data["autotick"] = autotick
    register_delivery(application, rt.delivery)
    for feature in FEATURES:
        rt.menu.extend(feature.COMMANDS)
        feature.register(application, rt)
    access.register_fallbacks(application)
    rt.ticker.add("held audit lines", lambda now: _write_held_audit(services, now))
    alarm = DiskAlarm(application.bot, services)
    application.bot_data["disk_alarm"] = alarm
    rt.ticker.add("disk alarm", alarm.check)  # last, so it sees the refusals of this tick's work
    application.add_error_handler(on_error)
    flows.timeouts.update(_conversation_timeouts(application))
    expire_overdue_steps(application, flows)  # after access's guards, so it runs first
    return application


def _flow_state_types() -> list[type]:
    """The records and enums the flows keep in per-user state: the only types conversations.json may hold."""
    return [kind for feature in FEATURES for kind in getattr(feature, "FLOW_STATE", ())]


def _conversation_timeouts(application: Application) -> dict[str, timedelta]:
    """Each conversation's timeout, so one left too long while the bot was down is not resumed."""
    timeouts: dict[str, timedelta] = {}
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConversationHandler) and handler.name and handler.conversation_timeout:
                timeout = handler.conversation_timeout
                timeouts[handler.name] = timeout if isinstance(timeout, timedelta) else timedelta(seconds=timeout)
    return timeouts


async def start(application: Application, *, poll: bool = True) -> None:
    """Start the bot as run_polling would: the one way the demo, the tests and the scripts start it.

    initialize() loads unfinished conversations and on_start catches up on what storage says is
    due; the Application then runs (its background sends are tracked and awaited at stop());
    `poll=False` leaves updates to the caller (the benchmarks hand them in one by one).
    """
    await application.initialize()
    await on_start(application)
    await application.start()
    if poll:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)


async def stop(application: Application) -> None:
    """Stop whatever start() started, in reverse: conversations are saved, the data folder released."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    await on_stop(application)


@asynccontextmanager
async def running(application: Application, *, poll: bool = True) -> AsyncIterator[Application]:
    """`async with running(app):` the bot runs inside the block and is stopped cleanly after it."""
    await start(application, poll=poll)
    try:
        yield application
    finally:
        await stop(application)


async def _prune_outbox(rt: Runtime, now: datetime) -> datetime:
    """Delivered messages are kept a while (their copies may still be edited), then forgotten."""
    rt.services.outbox.prune(now - OUTBOX_KEEP)
    return now + timedelta(days=1)


async def _write_held_audit(services: Services, now: datetime) -> datetime | None:
    """Audit lines the disk refused land as soon as it has room, even when nobody acts."""
    return None if services.write_held_audit() else now + AUDIT_RETRY


async def on_start(application: Application) -> None:
    """After initialize(): menus for everyone, then catch up on whatever storage says is due.

    run_polling calls this itself (post_init); the demo and the tests, which start the
    Application by hand, call it after initialize().
    """
    rt: Runtime = application.bot_data["runtime"]
    rt.services.consents.index()  # build the name index now, not on the first lookup
    await set_default_menu(application.bot)
    for member in rt.services.staff.active():
        if rt.services.staff.has_chat(member.user_id):
            await refresh_menu(application.bot, rt.menu, member.user_id, member.role)
    if application.bot_data["autotick"] and application.job_queue is not None:
        application.job_queue.run_repeating(_tick_job, interval=SAFETY_TICK, first=0.1, name="tick")


async def _tick_job(context: CallbackContext) -> None:
    """APScheduler wakes the ticker; the next wake-up is set from what storage says is due."""
    if not context.application.running:
        # Stopping: a tick started now would be cancelled by the scheduler's shutdown halfway
        # through (a logged CancelledError); the next start catches up from storage instead.
        return
    rt: Runtime = context.application.bot_data["runtime"]
    following = await rt.ticker.tick()
    queue = context.job_queue
    if following is None or queue is None:
        return
    delay = (following - rt.services.clock.now()).total_seconds()
    if delay < SAFETY_TICK.total_seconds():
        for job in queue.get_jobs_by_name("wake"):
            job.schedule_removal()
        queue.run_once(_tick_job, when=max(delay, 0.05), name="wake")


async def on_stop(application: Application) -> None:
    """After shutdown(): stop the photo worker and release the data folder (run_polling calls this as post_shutdown)."""
    PHOTO_WORKER.close()
    rt: Runtime = application.bot_data["runtime"]
    rt.services.close()
