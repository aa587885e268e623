"""/audit: the Head reads the append-only audit log, newest first, a page at a time."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.clock import show_time
from bot.roles import Permission
from handlers.callbacks import pack
from handlers.common import Actor, Context, clip, h, paged, show
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


async def show_page(update: Update, context: Context, actor: Actor, number: int) -> None:
    """A page of the audit log, newest first; reading it is audited too."""
    rt = runtime(context)
    rt.services.audit(actor.user_id, "read audit log", f"page {number + 1}")
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


audit, audit_page = paged(Permission.VIEW_AUDIT, "read audit log", show_page)


def register(application: Application, rt: Runtime) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("audit", audit))
    application.add_handler(CallbackQueryHandler(audit_page, pattern=r"^1:aud:page:"))
