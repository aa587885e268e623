"""/audit: the Head reads the append-only audit log, newest first, a page at a time."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.clock import show_time
from bot.roles import Permission
from handlers.callbacks import pack
from handlers.common import Actor, Context, admit, answer, callback_of, clip, h, show, staff_only
from handlers.menu import MenuCommand
from handlers.runtime import Runtime, runtime
from storage.audit import AuditEntry

COMMANDS = (MenuCommand("audit", "Read the audit log of sensitive actions", Permission.VIEW_AUDIT),)
PAGE_SIZE = 15


def entry_line(rt: Runtime, entry: AuditEntry) -> str:
    member = rt.services.staff.get(entry.actor_id)
    who = member.name if member and member.name else f"id {entry.actor_id}"
    outcome = "" if entry.outcome == "ok" else f" → {h(clip(entry.outcome, 60))}"
    target = f" · {h(clip(entry.target, 60))}" if entry.target else ""
    detail = f"\n   <i>{h(clip(entry.detail, 120))}</i>" if entry.detail else ""
    return (
        f"{show_time(entry.at, rt.services.config.school.timezone)} · {h(clip(who, 40))} ({h(entry.actor_role)})\n"
        f"   {h(entry.action)}{target}{outcome}{detail}"
    )


async def show_page(update: Update, context: Context, number: int) -> None:
    rt = runtime(context)
    entries, older = rt.services.db.audit.page(number, PAGE_SIZE)
    if not entries:
        await show(update, "The audit log has no entries here.")
        return
    nav: list[tuple[str, str]] = []
    if number > 0:
        nav.append(("‹ Newer", pack("aud", "page", number - 1)))
    if older:
        nav.append(("Older ›", pack("aud", "page", number + 1)))
    text = f"<b>Audit log</b> (page {number + 1}, newest first)\n\n" + "\n".join(entry_line(rt, e) for e in entries)
    await show(update, text, (tuple(nav),) if nav else ())


@staff_only(Permission.VIEW_AUDIT, action="read audit log")
async def audit(update: Update, context: Context, actor: Actor) -> None:
    """/audit: the newest entries first."""
    runtime(context).services.audit(actor.user_id, "read audit log")
    await show_page(update, context, 0)


async def audit_page(update: Update, context: Context) -> None:
    """Older or newer entries."""
    actor = await admit(update, context, Permission.VIEW_AUDIT, action="read audit log")
    callback = callback_of(update)
    if actor is None or callback is None:
        return
    await answer(update)
    await show_page(update, context, max(callback.int_arg(0) or 0, 0))


def register(application: Application, rt: Runtime) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("audit", audit))
    application.add_handler(CallbackQueryHandler(audit_page, pattern=r"^1:aud:page:"))
