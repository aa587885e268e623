"""Start, help, and staff access: /grant, /revoke, /staff, and strangers' access requests."""

from __future__ import annotations

import uuid

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.clock import show_time
from bot.roles import GRANTABLE, Permission, Role, parse_role
from bot.staff import StaffAccess
from handlers.callbacks import pack
from handlers.common import (
    Actor,
    Context,
    admit_press,
    answer,
    command_args,
    h,
    is_private,
    paged,
    paginate,
    refuse_stranger,
    reply,
    show,
    staff_only,
)
from handlers.menu import MenuCommand, commands_for, refresh_menu
from handlers.runtime import Runtime, runtime

COMMANDS = (
    MenuCommand("help", "What I can do for you", None),
    MenuCommand("staff", "Who has access, by role", Permission.MANAGE_STAFF),
    MenuCommand("grant", "Give someone a role: /grant ID ROLE", Permission.MANAGE_STAFF),
    MenuCommand("revoke", "Remove someone's access: /revoke ID", Permission.MANAGE_STAFF),
)

GRANT_USAGE = (
    "Usage: <code>/grant ID ROLE</code>, where ROLE is one of "
    + ", ".join(f"<code>{r.value}</code>" for r in GRANTABLE)
    + ". People see their id when they first message me."
)


async def start(update: Update, context: Context) -> None:
    """A first hello: staff see what they can do; strangers see the polite refusal."""
    user = update.effective_user
    if user is None:
        return
    rt = runtime(context)
    role = rt.services.staff.role_of(user.id)
    if role is None:
        rt.services.audit(user.id, "start", outcome="refused: not staff")
        await refuse_stranger(update, context)
        return
    await refresh_menu(context.bot, rt.menu, user.id, role)
    await help_command(update, context)


@staff_only(private=False)
async def help_command(update: Update, context: Context, actor: Actor) -> None:
    """Lists the commands this person's role allows."""
    rt = runtime(context)
    lines = [f"<b>{h(rt.services.config.school.name)}: social media assistant</b>", f"You are {actor.role.title}.", ""]
    lines += [f"/{c.command} — {h(c.description)}" for c in commands_for(rt.menu, actor.role)]
    await reply(update, "\n".join(lines))


@staff_only(Permission.MANAGE_STAFF)
async def grant(update: Update, context: Context, actor: Actor) -> None:
    """SLT or Head gives someone a role by Telegram id."""
    args = context.args or []
    role = parse_role(args[1]) if len(args) == 2 else None
    if len(args) != 2 or not args[0].isdigit() or role is None or int(args[0]) <= 0:
        await reply(update, GRANT_USAGE)
        return
    await _apply_grant(update, context, actor, int(args[0]), role)


async def _apply_grant(update: Update, context: Context, actor: Actor, target: int, role: Role) -> None:
    rt = runtime(context)
    result = StaffAccess(rt.services).grant(actor.user_id, target, role)
    if result.ok:  # told before the reply: a lost reply must not leave the person untold
        _tell_person(rt, target, f"You now have access as {role.title}. Send /help to see what you can do.")
    await reply(update, h(result.message))
    if result.ok:
        await refresh_menu_if_seen(context, target, role)


@staff_only(Permission.MANAGE_STAFF)
async def revoke(update: Update, context: Context, actor: Actor) -> None:
    """SLT or Head removes someone's access."""
    arg = command_args(context)
    if not arg.isdigit() or int(arg) <= 0:
        await reply(update, "Usage: <code>/revoke ID</code> (see /staff for ids).")
        return
    rt = runtime(context)
    result = StaffAccess(rt.services).revoke(actor.user_id, int(arg))
    await reply(update, h(result.message))
    if result.ok:
        await refresh_menu_if_seen(context, int(arg), None)


async def show_staff(update: Update, context: Context, actor: Actor, number: int) -> None:
    """Everyone with access, grouped by role, a page at a time."""
    members = sorted(runtime(context).services.staff.active(), key=lambda m: (list(Role).index(m.role), m.name))
    lines = [f"• {h(m.name or 'not yet seen')} — <code>{m.user_id}</code> — {m.role.title}" for m in members if m.role]
    page = paginate(lines, number, per_page=15)
    await show(update, "<b>Staff with access</b>\n" + "\n".join(page.lines) + page.footer, page.buttons("staff"))


staff_list, staff_page = paged(Permission.MANAGE_STAFF, "staff list", show_staff)


async def request_access(update: Update, context: Context) -> None:
    """A stranger taps "Request access": SLT and the Head get a card to decide."""
    user = update.effective_user
    if user is None or update.callback_query is None:
        return
    rt = runtime(context)
    if rt.services.staff.role_of(user.id) is not None:
        await answer(update, "You already have access. Send /help.")
        return
    request = StaffAccess(rt.services).request_access(user.id, user.full_name, user.username or "")
    if request is None:
        await answer(update, "Your request is already with the senior leaders.")
        return
    who = h(user.full_name) + (f" (@{h(user.username)})" if user.username else "")
    card = (
        f"<b>Access request</b>\n{who}\nTelegram id <code>{user.id}</code>\n"
        f"Asked {show_time(request.requested_at, rt.services.config.school.timezone)}"
    )
    buttons = (
        (("Make admin", pack("acc", "ok", user.id, "admin")), ("Make office", pack("acc", "ok", user.id, "office"))),
        (("Decline", pack("acc", "no", user.id)),),
    )
    for leader in rt.services.staff.with_roles(Role.HEAD, Role.DEPUTY, Role.SLT):
        rt.delivery.post(
            f"access:{user.id}:{request.requested_at.timestamp()}:{leader}",
            leader,
            card,
            buttons,
            thread=f"access:{user.id}",
        )
    # Answered after the cards are queued: a lost answer must not lose the request (a second tap
    # finds it "already with the senior leaders").
    await answer(update, "Request sent.")
    await show(update, "Thank you. Your request has been sent to the senior leaders; I will tell you their decision.")


async def decide_request(update: Update, context: Context) -> None:
    """SLT or Head presses Make admin / Make office / Decline on an access request card."""
    press = await admit_press(update, context, Permission.MANAGE_STAFF, action="decide access request")
    target = press.number if press else None
    if press is None or target is None:
        return
    actor, callback = press.actor, press.callback
    rt = runtime(context)
    pending = rt.services.staff.pending_request(target)
    if pending is None:
        last = rt.services.staff.last_request(target)
        decider = rt.services.staff.get(last.decided_by) if last else None
        await answer(update, f"Already decided by {decider.name if decider else 'someone else'}.")
        return
    access = StaffAccess(rt.services)
    role = parse_role(callback.args[1]) if callback.action == "ok" and len(callback.args) > 1 else None
    if callback.action == "ok" and role in (Role.ADMIN, Role.OFFICE):
        result = access.grant(actor.user_id, target, role)
        if not result.ok:
            await answer(update, result.message)
            return
        outcome = f"made {role.title}"
        _tell_person(rt, target, f"Your access request was approved: you are now {role.title}. Send /help.")
        await refresh_menu_if_seen(context, target, role)
    elif callback.action == "no":
        access.decline_request(actor.user_id, target)
        outcome = "declined"
        _tell_person(rt, target, "Sorry, your access request was declined.")
    else:
        await answer(update, "This button has expired.")
        return
    when = show_time(rt.services.clock.now(), rt.services.config.school.timezone)
    rt.delivery.edit_thread(
        f"access:{target}",
        f"<b>Access request</b>\n{h(pending.name)} — <code>{target}</code>\n"
        f"✔️ {outcome.capitalize()} by {h(actor.name)} at {when}",
    )
    await answer(update, "Done.")  # after every card is queued for its edit: a lost answer loses nothing


async def refresh_menu_if_seen(context: Context, user_id: int, role: Role | None) -> None:
    """Telegram has no chat with someone who never wrote to the bot; their menu is set at /start."""
    rt = runtime(context)
    if rt.services.staff.has_chat(user_id):
        await refresh_menu(context.bot, rt.menu, user_id, role)


def _tell_person(rt: Runtime, user_id: int, text: str) -> None:
    rt.delivery.post(f"tell:{user_id}:{uuid.uuid4().hex}", user_id, h(text))


async def unknown_message(update: Update, context: Context) -> None:
    """Anything no feature understood: strangers get the refusal, staff a pointer to /help."""
    if not is_private(update) or update.effective_user is None:
        return  # never chatter in groups
    rt = runtime(context)
    if rt.services.staff.role_of(update.effective_user.id) is None:
        rt.services.audit(update.effective_user.id, "message", outcome="refused: not staff")
        await refuse_stranger(update, context)
        return
    await reply(update, "Sorry, I didn't understand that. Send /help to see what I can do.")


async def expired_button(update: Update, context: Context) -> None:
    """A button nobody recognises (old, forged or truncated data): nothing changes."""
    user = update.effective_user
    if user is not None:
        runtime(context).services.audit(user.id, "button", outcome="refused: unknown button")
    await answer(update, "This button has expired. Please send the command again.")


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """Registered after every feature, so they only see what nothing else handled."""
    application.add_handler(MessageHandler(filters.ALL, unknown_message))
    application.add_handler(CallbackQueryHandler(expired_button))


def register(application: Application, rt: Runtime) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("grant", grant))
    application.add_handler(CommandHandler("revoke", revoke))
    application.add_handler(CommandHandler("staff", staff_list))
    application.add_handler(CallbackQueryHandler(staff_page, pattern=r"^1:staff:page:"))
    application.add_handler(CallbackQueryHandler(request_access, pattern=r"^1:acc:req$"))
    application.add_handler(CallbackQueryHandler(decide_request, pattern=r"^1:acc:(ok|no):"))
