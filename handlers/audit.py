"""/audit: the Head reads the append-only audit log, newest first, a page at a time.

A page reads only its own entries from the end of the log (storage.audit reads backwards
in blocks), so it costs the same with a million entries as with a hundred. Page buttons
carry where the page starts and where page 1 started (its anchor): entries appended while
the Head reads do not shift the pages they are turning.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.clock import show_time
from bot.records.audit import AuditEntry
from bot.roles import Permission
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from bot.staff import staff_name
from handlers.common import Actor, Context, admit_press, answer, h, show, staff_only
from handlers.menu import MenuCommand
from handlers.paging import clip_text
from storage.audit import Cursor

COMMANDS = (MenuCommand("audit", "Read the audit log of sensitive actions", Permission.VIEW_AUDIT),)
# Each line is at most ~300 UTF-16 units (every field clipped below), so 12 always fit in 4096.
PAGE_SIZE = 12


def entry_line(rt: Runtime, entry: AuditEntry) -> str:
    who = staff_name(rt.services.staff, entry.actor_id)
    outcome = "" if entry.outcome == "ok" else f" → {h(clip_text(entry.outcome, 40))}"
    target = f" · {h(clip_text(entry.target, 50))}" if entry.target else ""
    detail = f"\n   <i>{h(clip_text(entry.detail, 100))}</i>" if entry.detail else ""
    return (
        f"{show_time(entry.at, rt.services.config.school.timezone)} · "
        f"{h(clip_text(who, 30))} ({h(clip_text(entry.actor_role, 8))})\n"
        f"   {h(clip_text(entry.action, 40))}{target}{outcome}{detail}"
    )


async def show_page(
    update: Update, context: Context, actor: Actor, number: int, start: Cursor | None, anchor: Cursor | None
) -> None:
    """A page of the audit log, newest first; reading it is audited too."""
    rt = runtime(context)
    log = rt.services.db.audit
    if start is None or anchor is None or start > anchor:  # the command, or an old-style button
        anchor = log.newest()
        start, number = anchor, 0
    rt.services.audit(actor.user_id, "read audit log", f"page {number + 1}")
    entries, older = log.page_before(start, PAGE_SIZE)
    if not entries:
        await show(update, "The audit log has no entries here.")
        return
    nav: list[tuple[str, str]] = []
    if number > 0:
        newer = log.newer_than(start, anchor, PAGE_SIZE)
        nav.append(("‹ Newer", pack("aud", "page", number - 1, newer.pack(), anchor.pack())))
    if older is not None:
        nav.append(("Older ›", pack("aud", "page", number + 1, older.pack(), anchor.pack())))
    text = f"<b>Audit log</b> (page {number + 1}, newest first)\n\n" + "\n".join(entry_line(rt, e) for e in entries)
    await show(update, text, (tuple(nav),) if nav else ())


@staff_only(Permission.VIEW_AUDIT, action="read audit log")
async def audit(update: Update, context: Context, actor: Actor) -> None:
    await show_page(update, context, actor, 0, None, None)


async def audit_page(update: Update, context: Context) -> None:
    """‹ Newer / Older ›: the page the button names, counted from the anchor it carries."""
    press = await admit_press(update, context, Permission.VIEW_AUDIT, action="read audit log")
    if press is None:
        return
    args = press.callback.args
    number = press.number or 0
    start = Cursor.parse(args[1]) if len(args) > 2 else None
    anchor = Cursor.parse(args[2]) if len(args) > 2 else None
    await answer(update)
    await show_page(update, context, press.actor, number, start, anchor)


def register(application: Application, rt: Runtime) -> None:
    application.add_handler(CommandHandler("audit", audit))
    application.add_handler(CallbackQueryHandler(audit_page, pattern=r"^1:aud:page:"))
