"""/export KIND [FROM TO]: a CSV file of incidents, applications, the audit log or moderation days.

SLT and the Head export incidents, applications and moderation; the audit log, which says who
looked at which pupil, only whoever may read it (the Head). Plain /export is the incidents, as
it always was. Dates may be typed the UK way (31/10/2026).
"""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.date_range import BadRange, parse_range
from bot.exports import KINDS, Exports
from bot.roles import Permission, allows
from bot.shell.ticker import Runtime, runtime
from bot.wording import plural, when
from handlers.common import Actor, Context, command_args, h, reply, staff_only
from handlers.menu import MenuCommand
from handlers.paging import clip_text

COMMANDS = (MenuCommand("export", "Incidents, applications, audit or moderation as CSV", Permission.VIEW_INCIDENTS),)
USAGE = (
    "<b>/export KIND [FROM TO]</b>: a spreadsheet (CSV) of <code>incidents</code>, <code>applications</code>, "
    "<code>moderation</code> or <code>audit</code> (Head only), e.g. <code>/export incidents 01/09/2026 31/12/2026</code>."
)

MAX_DOCUMENT = 50_000_000  # the largest file a bot may send (Bot API sendDocument)
ROWS = {
    "incidents": ("incident", "incidents"),
    "applications": ("application", "applications"),
    "audit": ("audit entry", "audit entries"),
    "moderation": ("day", "days"),
}


def exports(rt: Runtime) -> Exports:
    """The export service over this bot's stores (it keeps nothing of its own)."""
    s = rt.services
    return Exports(s.incidents, s.applications, s.staff, s.db.audit, s.moderation_duty, s.audit, s.config, s.today)


@staff_only(Permission.VIEW_INCIDENTS, action="export")
async def export(update: Update, context: Context, actor: Actor) -> None:
    """/export [KIND] [FROM TO]: the file, with how many rows and as of when."""
    rt = runtime(context)
    words = command_args(context).split()
    kind = words[0].lower() if words else "incidents"
    if kind not in KINDS:
        await reply(update, f"I cannot export “{h(clip_text(kind, 30))}”.\n{USAGE}")
        return
    if kind == "audit" and not allows(actor.role, Permission.VIEW_AUDIT):
        rt.services.audit(actor.user_id, "export audit", outcome="refused: role")
        await reply(update, "Sorry, only the Head Teacher can export the audit log.")
        return
    try:
        days = parse_range(words[1:])
    except BadRange as exc:
        await reply(update, f"{h(str(exc))}\n{USAGE}")
        return
    done = exports(rt).build(actor.user_id, kind, days)
    if len(done.data) > MAX_DOCUMENT:
        megabytes = len(done.data) / 1_000_000
        await reply(
            update,
            f"That file would be {megabytes:,.0f} MB, more than Telegram lets a bot send (50 MB). Export a shorter date range, "
            f"or ask whoever runs the bot for <code>python -m bot export {kind}</code> on the server.",
        )
        return
    chat = update.effective_chat
    assert chat is not None
    now, tz = rt.services.clock.now(), rt.services.config.school.timezone
    one, many = ROWS[kind]
    await chat.send_document(
        document=InputFile(done.data, filename=done.filename),
        caption=f"{plural(done.rows, one, many)}, {h(days.describe())}, as of {when(now, now, tz)}.",
    )


def register(application: Application, rt: Runtime) -> None:
    application.add_handler(CommandHandler("export", export))
