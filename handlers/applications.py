"""Parents' group applications on the phone (policy 1.3, 2.2).

Office staff record a paper form with /apply; a Telegram join request to the parents'
group becomes an application after the applicant names their child and agrees to the
code of conduct in a private chat. Every leader gets a card with Approve, Reject and Ask
for information; the first press wins and every copy shows who decided. The decision
reaches Telegram (approve/decline the join request) through a stored, retried path.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import datetime, timedelta

from telegram import Bot, Message, Update
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (
    Application as PtbApplication,
)
from telegram.ext import (
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.applications import (
    CONDUCT_REQUIRED,
    LEADER_PROMPT_WAIT,
    MAX_CHILDREN,
    MAX_CONTACT,
    MAX_FORM_REF,
    MAX_PARENT,
    MAX_RELATIONSHIP,
    Applications,
    Chase,
    Filed,
    Invalid,
    PaperForm,
    clean,
    parse_contact,
)
from bot.records.applications import Application, Child, Prompt, PromptKind, Source, Status
from bot.clock import show_time
from bot.numbers import parse_number
from bot.roles import Permission, Role, allows
from bot.services import Services
from bot.shell.callbacks import pack
from handlers.common import (
    MAX_TEXT,
    Actor,
    Context,
    admit,
    admit_press,
    answer,
    callback_of,
    clip,
    command_args,
    h,
    paged,
    reply,
    show,
    staff_only,
    stranger_gate,
    stranger_may_be_answered,
)
from bot.shell.delivery import retry_wait
from handlers.menu import MenuCommand
from handlers.paging import clip_text, page_of, utf16_len
from bot.shell.ticker import Runtime, TimedWork, runtime
from bot.records.outbox import Buttons

log = logging.getLogger(__name__)

COMMANDS = (
    MenuCommand("apply", "Record a paper application to the parents' group", Permission.RECORD_APPLICATION),
    MenuCommand("pending", "Parents' group applications waiting for a decision", Permission.RECORD_APPLICATION),
    MenuCommand("application", "One application and its history: /application N", Permission.RECORD_APPLICATION),
)

# /apply conversation states, in the order the form is filled in.
PARENT, RELATIONSHIP, CHILD, CONDUCT, FORM_REF, CONTACT, CONFIRM = (
    "parent", "relationship", "child", "conduct", "form_ref", "contact", "confirm"
)
APPLY_TIMEOUT = timedelta(minutes=30)
# A parent who blocked the bot, or whose join-request chat lapsed, is not retried for ever.
APPLICANT_WINDOW = timedelta(days=2)
RELATIONSHIPS = ("Mother", "Father", "Carer", "Grandparent")
DRAFT = "application_form"
MATCHES = "application_matches"  # (name as typed, pupil ids offered as buttons)
JOINS = "application_joins"


# ---- messages: every text this capability sends is built here, escaped here -------------


def _staff_name(services: Services, user_id: int) -> str:
    member = services.staff.get(user_id)
    return clip_text(member.name, 40) if member and member.name else f"user {user_id}"


def _when(services: Services, moment: datetime) -> str:
    return show_time(moment, services.config.school.timezone)


def _child_line(services: Services, child: Child) -> str:
    pupil = services.consents.get(child.pupil_id) if child.pupil_id else None
    if pupil is None:
        return f"• {h(clip_text(child.name, CHILD_UNITS))} ⚠️ <b>not found on the register</b>"
    form = f" ({h(pupil.class_name)})" if pupil.class_name else ""
    return f"• {h(pupil.full_name)}{form} ✅ on the register"


def _waited(since: datetime, now: datetime) -> str:
    hours = int((now - since).total_seconds() // 3600)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


def card_text(services: Services, application: Application) -> str:
    """The application as leaders see it; once decided, who decided and when."""
    a = application
    lines = [f"<b>Parents' group application #{a.number}</b>"]
    if a.recorded_by:
        recorders = ", ".join(h(_staff_name(services, uid)) for uid in a.recorded_by[:3])
        more = len(a.recorded_by) - 3
        recorders += f" and {more} other{'s' if more > 1 else ''}" if more > 0 else ""
        lines.append(f"📄 Paper form {h(a.form_ref)}, recorded by {recorders}")
    if a.applicant_id:
        handle = f" (@{h(a.applicant_username)})" if a.applicant_username else ""
        lines.append(f"📱 Telegram join request{handle}")
    relationship = f" ({h(a.relationship)})" if a.relationship else ""
    # A join requester's name is whatever they typed into Telegram: said so, never presented as checked.
    unverified = " <i>(their Telegram name, not checked)</i>" if a.source is Source.TELEGRAM else ""
    lines.append(f"Parent: <b>{h(clip_text(a.parent_name, CHILD_UNITS))}</b>{relationship}{unverified}")
    lines.append("Children:" if a.children else "Children: <i>not given yet</i>")
    lines += [_child_line(services, child) for child in a.children]
    lines.append(f"Code of conduct (policy 2.2): {'signed ✅' if a.conduct_signed else 'not signed ❌'}")
    if a.contact:
        lines.append(f"Contact: {h(a.contact)}")
    if a.phone:
        lines.append(f"Phone: {h(a.phone)}")
    if a.same_name_as and a.status is not Status.LINKED:
        lines.append(
            f"⚠️ <b>Same name as form #{a.same_name_as} — verify before approving.</b> Not linked to it: "
            "nothing the school wrote on that form (Telegram username, phone) matches this Telegram account."
        )
    if a.previous:
        earlier = services.application_desk.get(a.previous)
        lines.append(f"Applied before: #{a.previous}" + (f" ({earlier.status.value})" if earlier else ""))
    lines.append(f"Received {_when(services, a.submitted_at or a.created_at)}")
    if a.status in (Status.APPROVED, Status.REJECTED) and a.decided_at:
        mark, verb = ("✅", "Approved") if a.status is Status.APPROVED else ("❌", "Rejected")
        lines.append(f"\n{mark} <b>{verb}</b> by {h(_staff_name(services, a.decided_by))} at {_when(services, a.decided_at)}")
        if a.reason:
            lines.append(f"Reason: {h(clip_text(a.reason, REASON_UNITS))}")
    elif a.status is Status.LINKED:
        lines.append(f"\n🔗 Linked to application #{a.linked_to}")
    elif a.status is Status.COLLECTING:
        lines.append("\n<i>Waiting for the applicant's answers</i>")
    return "\n".join(lines)


# With every field at its longest (emoji count twice), a card stays well inside 4096 with a
# reminder's header above it: children and reasons are clipped by what Telegram counts.
CHILD_UNITS = 100
REASON_UNITS = 600


def decision_buttons(number: int) -> Buttons:
    return (
        (("Approve", pack("app", "ok", number)), ("Reject", pack("app", "no", number))),
        (("Ask for information", pack("app", "ask", number)),),
    )


def _school(services: Services) -> str:
    return h(services.config.school.name)


def ask_child_text(services: Services, name: str) -> str:
    return (
        f"Hello {h(name)}. Thank you for asking to join the parents' group of {_school(services)}.\n\n"
        "The senior leaders check every request (policy 1.3). Please reply with your child's full name "
        "(one per line if you have more than one child at the school).\n\n"
        "If you gave the school a paper form with your phone number on it, you can share your contact "
        "here instead (📎 → Contact → yourself)."
    )


def ask_conduct_text(services: Services) -> str:
    return (
        f"Thank you. Last step: the parents' group of {_school(services)} has a code of conduct (policy 2.2), "
        "which every member agrees to follow. Do you agree to follow it?"
    )


def conduct_buttons(number: int) -> Buttons:
    return ((("I agree", pack("apj", "yes", number)), ("I do not agree", pack("apj", "no", number))),)


CONDUCT_REFUSED = (
    "Without agreeing to the code of conduct (policy 2.2) your request cannot go to the senior leaders. "
    "If you change your mind, tap <b>I agree</b>."
)
WITH_LEADERS = "Thank you. Your request is with the senior leaders; I will tell you their decision here."


def applicant_status(services: Services, application: Application) -> tuple[str, Buttons]:
    """Where a join requester's application stands, and what they can do next."""
    if application.status is Status.COLLECTING and not application.children:
        return ask_child_text(services, application.parent_name), ()
    if application.status is Status.COLLECTING:
        return ask_conduct_text(services), conduct_buttons(application.number)
    return WITH_LEADERS, ()


def outcome_for_applicant(services: Services, application: Application) -> str:
    if application.status is Status.APPROVED:
        return (
            f"Good news: your request to join the parents' group of {_school(services)} has been approved. "
            "Welcome! Please follow the code of conduct you agreed to (policy 2.2)."
        )
    reason = f"\nReason: {h(application.reason)}" if application.reason else ""
    return (
        f"Sorry, your request to join the parents' group of {_school(services)} has not been approved.{reason}\n"
        "If you have any questions, please contact the school office."
    )


def outcome_for_recorder(services: Services, application: Application) -> str:
    verb = "approved" if application.status is Status.APPROVED else "rejected"
    reason = f"\nReason: {h(application.reason)}" if application.reason else ""
    return (
        f"Application #{application.number} ({h(application.parent_name)}), whose form you recorded, "
        f"was {verb} by {h(_staff_name(services, application.decided_by))}.{reason}"
    )


def _recipients(services: Services, application: Application, leaving_out: int = 0) -> str:
    """Who a reason or a question reaches, in words."""
    who = ["the applicant"] if application.applicant_id else []
    recorders = [
        uid for uid in application.recorded_by
        if uid != leaving_out and allows(services.staff.role_of(uid), Permission.RECORD_APPLICATION)
    ]  # someone whose access ended since recording the form is no longer told, so not named
    if recorders:
        who.append(", ".join(h(_staff_name(services, uid)) for uid in recorders) + " (recorded the form)")
    if who:
        return " and ".join(who)
    if leaving_out in application.recorded_by:
        return "nobody else (you recorded the form yourself)"
    return "nobody: whoever recorded the form no longer has access, so please contact the parent yourself"


def form_summary(services: Services, form: PaperForm) -> str:
    lines = [
        "<b>Check the form before it goes to the senior leaders</b>",
        f"Parent: <b>{h(form.parent_name)}</b> ({h(form.relationship)})",
        "Children:",
        *(_child_line(services, child) for child in form.children),
        "Code of conduct (policy 2.2): signed ✅",
        f"Form reference: {h(form.form_ref)}",
        f"Telegram username: {h(form.contact) if form.contact else '<i>none</i>'}",
        f"Phone: {h(form.phone) if form.phone else '<i>none</i>'}",
    ]
    return "\n".join(lines)


def _history_text(services: Services, application: Application) -> str:
    """The card and as much recent history as fits in one message (measured as Telegram does)."""
    card = card_text(services, application)
    events = services.application_desk.history(application.number)
    lines = [f"• {_when(services, e.at)}: {h(clip_text(e.text, 300))}" for e in events]
    room = MAX_TEXT - utf16_len(card) - len("\n\nHistory\n")
    kept: list[str] = []
    for line in reversed(lines):  # the newest first in, the oldest first out
        room -= utf16_len(line) + 1
        if room < 0:
            break
        kept.insert(0, line)
    return card + "\n\n<b>History</b>\n" + "\n".join(kept) if kept else card


# ---- sending cards and outcomes ----------------------------------------------------------


def send_cards(rt: Runtime, application: Application) -> None:
    """Every leader (SLT, the deputy, the Head) gets a card; all copies form one thread."""
    text = card_text(rt.services, application)
    n = application.number
    for leader in rt.services.staff.with_roles(Role.HEAD, Role.DEPUTY, Role.SLT):
        rt.delivery.post(f"app:{n}:card:{leader}", leader, text, decision_buttons(n), thread=f"app:{n}")


def refresh_cards(rt: Runtime, application: Application) -> None:
    """Show the application as it stands now on every copy (with buttons while it is pending)."""
    buttons = decision_buttons(application.number) if application.status is Status.PENDING else ()
    rt.delivery.edit_thread(f"app:{application.number}", card_text(rt.services, application), buttons)


def announce(rt: Runtime, application: Application) -> None:
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


# ---- /apply: recording a paper form --------------------------------------------------------


def _draft(context: Context) -> PaperForm:
    data = context.user_data if context.user_data is not None else {}
    return data.setdefault(DRAFT, PaperForm())


def _forget(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
        context.user_data.pop(MATCHES, None)


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message else ""


@staff_only(Permission.RECORD_APPLICATION, action="apply")
async def apply_start(update: Update, context: Context, actor: Actor) -> str:
    """Office staff start recording a paper form: first the parent's full name."""
    _forget(context)
    _draft(context)
    await reply(
        update,
        "<b>Recording a parents' group application</b> (policy 1.3)\n"
        "Step 1 of 6: the parent's <b>full name</b>, as written on the form.\n\n"
        "Send /cancel at any time to stop; nothing is saved until you submit.",
    )
    return PARENT


async def parent_name(update: Update, context: Context) -> str:
    """The parent's name is typed; next, how they are related to the child."""
    try:
        _draft(context).parent_name = clean(_text(update), MAX_PARENT, "parent's full name")
    except Invalid as problem:
        await reply(update, h(problem))
        return PARENT
    buttons = (tuple((label, pack("apf", "rel", i)) for i, label in enumerate(RELATIONSHIPS)),)
    await reply(update, "Step 2 of 6: their <b>relationship</b> to the child. Tap one, or type another.", buttons)
    return RELATIONSHIP


async def relationship_typed(update: Update, context: Context) -> str:
    try:
        relationship = clean(_text(update), MAX_RELATIONSHIP, "relationship")
    except Invalid as problem:
        await reply(update, h(problem))
        return RELATIONSHIP
    return await _set_relationship(update, context, relationship)


async def relationship_chosen(update: Update, context: Context) -> str:
    callback = callback_of(update)
    index = callback.int_arg(0) if callback else None
    await answer(update)
    if index is None or not 0 <= index < len(RELATIONSHIPS):
        return RELATIONSHIP
    return await _set_relationship(update, context, RELATIONSHIPS[index])


async def _set_relationship(update: Update, context: Context, relationship: str) -> str:
    _draft(context).relationship = relationship
    await reply(update, f"{h(relationship)}. Step 3 of 6: the <b>child's name</b> (one child at a time).")
    return CHILD


async def child_typed(update: Update, context: Context) -> str:
    """A child's name is typed: matches on the register are offered as buttons to choose from."""
    form = _draft(context)
    if len(form.children) >= MAX_CHILDREN:
        await reply(update, f"An application can name at most {MAX_CHILDREN} children.", _more_buttons())
        return CHILD
    try:
        name = clean(_text(update), 100, "child's name")
    except Invalid as problem:
        await reply(update, h(problem))
        return CHILD
    rt = runtime(context)
    resolution = rt.services.consents.index().resolve(name)
    pupils = [match.pupil for match in resolution.matches]
    if context.user_data is not None:
        context.user_data[MATCHES] = (name, [p.pupil_id for p in pupils])
    rows: list[tuple[tuple[str, str], ...]] = [
        ((clip(p.full_name + (f" ({p.class_name})" if p.class_name else ""), 60), pack("apf", "pick", i)),)
        for i, p in enumerate(pupils)
    ]
    rows.append((("Not on the register: flag it", pack("apf", "keep")),))
    if not pupils:
        text = f"No pupil on the register matches “{h(name)}”. Type the name again, or keep it flagged for the senior leaders."
    else:
        text = f"Which pupil is “{h(name)}”? Tap the right one."
        if resolution.more:
            text += " More pupils match: type more of the name to narrow it down."
    await reply(update, text, tuple(rows))
    return CHILD


def _more_buttons() -> Buttons:
    return ((("Add another child", pack("apf", "more")), ("That's all", pack("apf", "done"))),)


async def child_chosen(update: Update, context: Context) -> str:
    """A match is chosen (or the typed name kept, flagged as not on the register)."""
    callback = callback_of(update)
    typed, offered = (context.user_data or {}).get(MATCHES, ("", []))
    await answer(update)
    if callback is None or not typed:
        return CHILD
    form = _draft(context)
    if callback.action == "pick":
        index = callback.int_arg(0)
        if index is None or not 0 <= index < len(offered):
            return CHILD
        child = Child(typed, offered[index])
    else:
        child = Child(typed)
    if context.user_data is not None:
        context.user_data.pop(MATCHES, None)
    if child.key not in {c.key for c in form.children} and len(form.children) < MAX_CHILDREN:
        form.children.append(child)
    listed = "\n".join(_child_line(runtime(context).services, c) for c in form.children)
    await show(update, f"Children so far:\n{listed}\n\nAnother child on this form?", _more_buttons())
    return CHILD


async def child_more(update: Update, context: Context) -> str:
    await answer(update)
    await show(update, "Type the next child's name.")
    return CHILD


async def children_done(update: Update, context: Context) -> str:
    await answer(update)
    if not _draft(context).children:
        await show(update, "Please type at least one child's name first.")
        return CHILD
    await show(update, "Step 4 of 6: has the parent <b>signed the code of conduct</b> (policy 2.2)?", _conduct_question())
    return CONDUCT


def _conduct_question() -> Buttons:
    return ((("Yes, signed", pack("apf", "signed")), ("No", pack("apf", "unsigned"))),)


async def conduct(update: Update, context: Context) -> str:
    """Signed: carry on. Not signed: the form cannot be submitted, and the bot says why."""
    callback = callback_of(update)
    await answer(update)
    if callback is None or callback.action != "signed":
        await show(
            update,
            h(CONDUCT_REQUIRED) + "\n\nWhen it is signed, tap <b>Yes, signed</b>; or send /cancel.",
            ((("Yes, signed", pack("apf", "signed")), ("Cancel", pack("apf", "cancel"))),),
        )
        return CONDUCT
    _draft(context).conduct_signed = True
    await show(update, "Code of conduct signed ✅\nStep 5 of 6: the <b>form reference</b> (as written on the form).")
    return FORM_REF


async def form_ref(update: Update, context: Context) -> str:
    try:
        _draft(context).form_ref = clean(_text(update), MAX_FORM_REF, "form reference")
    except Invalid as problem:
        await reply(update, h(problem))
        return FORM_REF
    await reply(
        update,
        "Step 6 of 6 (optional): the parent's <b>Telegram username</b> (like @name) and/or <b>phone number</b>, "
        "as written on the form. Only these link the parent's own Telegram join request to this form; "
        "a matching name never does.",
        ((("Skip", pack("apf", "skip")),),),
    )
    return CONTACT


async def contact_typed(update: Update, context: Context) -> str:
    form = _draft(context)
    try:
        form.contact, form.phone = parse_contact(clean(_text(update), MAX_CONTACT, "contact"))
    except Invalid as problem:
        await reply(update, h(problem), ((("Skip", pack("apf", "skip")),),))
        return CONTACT
    return await _confirm(update, context)


async def contact_skipped(update: Update, context: Context) -> str:
    await answer(update)
    form = _draft(context)
    form.contact, form.phone = "", ""
    return await _confirm(update, context)


async def _confirm(update: Update, context: Context) -> str:
    buttons = ((("Submit", pack("apf", "submit")), ("Cancel", pack("apf", "cancel"))),)
    await reply(update, form_summary(runtime(context).services, _draft(context)), buttons)
    return CONFIRM


async def submit(update: Update, context: Context) -> str | int:
    """Submit: the form is stored (or linked to the same parent's open application) and SLT get cards."""
    actor = await admit(update, context, Permission.RECORD_APPLICATION, action="record application")
    if actor is None:
        _forget(context)
        return ConversationHandler.END
    await answer(update)
    rt = runtime(context)
    try:
        filed = rt.services.application_desk.record_paper(_draft(context), actor.user_id, actor.name)
    except Invalid as problem:
        await show(update, h(problem))
        return CONFIRM
    _forget(context)
    application = filed.application
    if filed.submitted:
        send_cards(rt, application)
        if filed.linked and application.applicant_id:  # the form answered what the join requester had not
            rt.delivery.post(
                f"app:{application.number}:form-linked", application.applicant_id, WITH_LEADERS, give_up_after=APPLICANT_WINDOW
            )
    if filed.refreshed:
        refresh_cards(rt, application)
    for flagged in filed.flagged:
        if flagged.status is Status.PENDING:
            refresh_cards(rt, flagged)
    if filed.linked:
        text = (
            f"This is the same parent as application #{application.number}, which is still open, "
            "so I linked the form to it instead of creating a duplicate."
        )
    else:
        text = f"Application #{application.number} recorded and sent to the senior leaders."
    flagged = application.unmatched
    if flagged:
        text += f"\n⚠️ {flagged} child{'ren' if flagged > 1 else ''} not found on the register: flagged for the senior leaders."
    await show(update, text + "\nI will tell you their decision.")
    return ConversationHandler.END


async def apply_cancel(update: Update, context: Context) -> int:
    """/cancel (or the Cancel button): nothing is saved."""
    _forget(context)
    if update.effective_user:
        runtime(context).services.audit(update.effective_user.id, "cancel application form")
    await answer(update)
    await show(update, "Cancelled: nothing was saved. Send /apply to start again.")
    return ConversationHandler.END


async def apply_timeout(update: Update, context: Context) -> None:
    """No answer for a while: the half-filled form is dropped, and the person is told."""
    _forget(context)
    if update.effective_user:
        runtime(context).services.audit(update.effective_user.id, "application form timed out")
    minutes = int(APPLY_TIMEOUT.total_seconds() // 60)
    await reply(update, f"The application form timed out after {minutes} minutes without an answer; nothing was saved. Send /apply to start again.")


# ---- Telegram join requests and the applicant's private chat -------------------------------


async def join_request(update: Update, context: Context) -> None:
    """A parent asks to join the parents' group: an application, and questions in a private chat."""
    request = update.chat_join_request
    rt = runtime(context)
    group = rt.services.config.applications.group_chat_id
    if request is None or not group or request.chat.id != group:
        return  # not the parents' group: not ours to decide
    user = request.from_user
    joined = rt.services.application_desk.receive_join_request(user.id, user.full_name, user.username or "", request.chat.id)
    application = joined.application
    n = application.number
    # Telegram lets the bot write to a join requester through user_chat_id while the request is pending.
    if joined.kind == "linked":
        refresh_cards(rt, application)
        rt.delivery.post(f"app:{n}:join:{update.update_id}", request.user_chat_id, WITH_LEADERS, give_up_after=APPLICANT_WINDOW)
        return
    if joined.kind == "again" and stranger_gate(context).admit((user.id, "join"), rt.services.clock.now()) is None:
        return  # withdrawing and asking again in a loop: told where things stand once per window
    text, buttons = applicant_status(rt.services, application)
    rt.delivery.post(f"app:{n}:join:{update.update_id}", request.user_chat_id, text, buttons, give_up_after=APPLICANT_WINDOW)


async def applicant_conduct(update: Update, context: Context) -> None:
    """The applicant taps I agree / I do not agree to the code of conduct."""
    user = update.effective_user
    callback = callback_of(update)
    number = callback.int_arg(0) if callback else None
    if user is None or callback is None or number is None:
        return
    rt = runtime(context)
    filed = rt.services.application_desk.applicant_conduct(number, user.id, agrees=callback.action == "yes")
    if filed is None:
        if rt.services.staff.role_of(user.id) is not None:
            rt.services.audit(user.id, "applicant code of conduct", f"application {number}", outcome="refused: not theirs")
        elif not stranger_may_be_answered(update, context, "applicant code of conduct", "refused: not theirs", kind="button"):
            return  # a stranger's forged presses: answered and audited once per window, like their messages
        await answer(update, "This button is no longer active.")
        return
    if filed.unchanged:  # a double tap or a flood: nothing stored, nothing audited, nothing edited
        collecting = filed.application.status is Status.COLLECTING
        await answer(update, "Already noted." if collecting else "This button is no longer active.")
        return
    # The cards are queued before any await: the application is already pending, and a lost
    # answer must not leave it without a card (a second tap finds it no longer collecting).
    _after_filing(rt, filed)
    await answer(update)
    if callback.action != "yes":
        await show(update, CONDUCT_REFUSED, ((("I agree", pack("apj", "yes", number)),),))
        return
    await show(update, WITH_LEADERS)


def _after_filing(rt: Runtime, filed: Filed) -> None:
    """Cards for what has just reached the leaders, or fresh copies of what changed."""
    if filed.submitted:
        send_cards(rt, filed.application)
    if filed.refreshed:
        refresh_cards(rt, filed.application)
    if filed.folded is not None:
        refresh_cards(rt, filed.folded)


class SharedOwnContact(filters.MessageFilter):
    """A join requester shares their own contact (Telegram vouches for the number being theirs)."""

    def __init__(self, services: Services) -> None:
        super().__init__(name="join requester's own contact")
        self.services = services

    def filter(self, message: Message) -> bool:
        user, contact = message.from_user, message.contact
        if user is None or contact is None or contact.user_id != user.id:
            return False
        return self.services.application_desk.open_for_applicant(user.id) is not None


async def shared_contact(update: Update, context: Context) -> None:
    """A join requester's own phone number: it links them to a paper form with that number on it."""
    message = update.effective_message
    if message is None or message.contact is None or update.effective_user is None:
        return
    rt = runtime(context)
    filed = rt.services.application_desk.applicant_phone(update.effective_user.id, message.contact.phone_number)
    if filed is None:
        return
    _after_filing(rt, filed)
    if filed.linked:
        await reply(update, WITH_LEADERS)
        return
    text, buttons = applicant_status(rt.services, filed.application)
    await reply(update, text, buttons)


class AwaitedText(filters.MessageFilter):
    """Matches a private text the applications flow is waiting for (checked against storage)."""

    def __init__(self, services: Services) -> None:
        super().__init__(name="awaited application text")
        self.services = services

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and self.services.application_desk.wants_text(user.id)


async def typed_text(update: Update, context: Context) -> None:
    """Text someone was asked for: a reason, a question, an applicant's child or answer."""
    user = update.effective_user
    if user is None:
        return
    rt = runtime(context)
    apps = rt.services.application_desk
    prompt = apps.awaiting(user.id)
    try:
        if prompt is not None and prompt.kind in (PromptKind.REASON, PromptKind.QUESTION):
            await _preview(update, context)
        elif prompt is not None and prompt.kind is PromptKind.ANSWER:
            await _answer_typed(update, context)
        else:
            await _applicant_typed(update, context)
    except Invalid as problem:
        if _applicant_may_be_answered(update, context, "refused: invalid text"):
            await reply(update, h(problem))


def _applicant_may_be_answered(update: Update, context: Context, outcome: str) -> bool:
    """An applicant is not staff: like a stranger, answered (and audited) once per window, so a flood
    of messages cannot flood the replies, the audit log, or Telegram's rate limit meant for alerts."""
    user = update.effective_user
    if user is None:
        return False
    if runtime(context).services.staff.role_of(user.id) is not None:
        return True
    return stranger_may_be_answered(update, context, "applicant message", outcome, kind="applicant")


async def _applicant_typed(update: Update, context: Context) -> None:
    user = update.effective_user
    assert user is not None
    rt = runtime(context)
    apps = rt.services.application_desk
    application = apps.applicant_children(user.id, _text(update))
    if application is not None:
        await reply(update, ask_conduct_text(rt.services), conduct_buttons(application.number))
        return
    own = apps.open_for_applicant(user.id)
    if own is not None and _applicant_may_be_answered(update, context, "status shown"):
        text, buttons = applicant_status(rt.services, own)
        await reply(update, text, buttons)


async def _answer_typed(update: Update, context: Context) -> None:
    rt = runtime(context)
    assert update.effective_user is not None
    answered = rt.services.application_desk.answer(update.effective_user.id, _text(update))
    if answered is None:
        return
    application, asker = answered
    n = application.number
    # The leader who asked; if they may no longer decide (revoked or lowered since), every leader.
    still_leader = allows(rt.services.staff.role_of(asker), Permission.DECIDE_APPLICATIONS)
    for leader in [asker] if still_leader else rt.services.staff.with_roles(Role.HEAD, Role.DEPUTY, Role.SLT):
        rt.delivery.post(
            f"app:{n}:answer:{update.update_id}:{leader}",
            leader,
            f"The applicant for application #{n} ({h(application.parent_name)}) replied:\n{h(_text(update).strip())}",
            needs=Permission.DECIDE_APPLICATIONS,  # checked again right before it goes
        )
    await reply(update, "Thank you. I have passed your answer to the senior leaders.")


async def _preview(update: Update, context: Context) -> None:
    """A leader's typed reason or question is shown back: nothing leaves the school until Send."""
    actor = await admit(update, context, Permission.DECIDE_APPLICATIONS, action="application prompt")
    if actor is None:
        return
    rt = runtime(context)
    apps = rt.services.application_desk
    prompt = apps.draft(actor.user_id, _text(update))
    if prompt is None:
        return
    application = apps.get(prompt.number)
    assert application is not None
    minutes = int(LEADER_PROMPT_WAIT.total_seconds() // 60)
    what = "reason" if prompt.kind is PromptKind.REASON else "question"
    cancel = pack("app", "redo" if prompt.kind is PromptKind.REASON else "drop", prompt.number)
    await reply(
        update,
        f"Send this {what} about application #{prompt.number} to "
        f"{_recipients(rt.services, application, leaving_out=actor.user_id)}?\n\n"
        f"<blockquote>{h(prompt.draft)}</blockquote>\n\nTap <b>Send</b> within {minutes} minutes, or Cancel.",
        ((("Send", pack("app", "send", prompt.number)), ("Cancel", cancel)),),
    )


async def send_press(update: Update, context: Context) -> None:
    """Send under a previewed reason or question: only now does it reach the parent or the office."""
    press = await admit_press(update, context, Permission.DECIDE_APPLICATIONS, action="application prompt")
    number = press.number if press else None
    if press is None or number is None:
        return
    rt = runtime(context)
    prompt = rt.services.application_desk.ready_to_send(press.actor.user_id, number)
    if prompt is None:  # sent already (a double tap), cancelled, or the few minutes ran out
        await answer(update, "Nothing to send: it was sent already, cancelled, or the time ran out.")
        return
    await answer(update)
    if prompt.kind is PromptKind.REASON:
        await _send_reason(update, rt, press.actor, prompt)
    else:
        await _send_question(update, rt, press.actor, prompt)


async def redo_press(update: Update, context: Context) -> None:
    """Cancel under a previewed reason: not sent; the leader may type it again or tap Skip."""
    press = await admit_press(update, context, Permission.DECIDE_APPLICATIONS, action="application reason")
    number = press.number if press else None
    if press is None or number is None:
        return
    prompt = runtime(context).services.application_desk.retype(press.actor.user_id, number)
    await answer(update)
    if prompt is None:
        await show(update, "Not sent.")
        return
    minutes = int(LEADER_PROMPT_WAIT.total_seconds() // 60)
    await show(
        update,
        f"Not sent. Type the reason again within {minutes} minutes, or tap Skip to send the outcome without one.",
        ((("Skip", pack("app", "skip", number)),),),
    )


async def _send_reason(update: Update, rt: Runtime, actor: Actor, prompt: Prompt) -> None:
    number = prompt.number
    application = rt.services.application_desk.give_reason(number, actor.user_id, prompt.draft)
    if application is None:
        await show(update, "That application's outcome has already been sent.")
        return
    refresh_cards(rt, application)
    announce(rt, application)
    await show(update, f"Reason recorded on application #{number}, and the outcome sent.")


async def _send_question(update: Update, rt: Runtime, actor: Actor, prompt: Prompt) -> None:
    number = prompt.number
    application = rt.services.application_desk.ask(number, actor.user_id, actor.name, prompt.draft)
    if application is None:
        await show(update, f"Application #{number} has already been decided; the question was not sent.")
        return
    question = h(prompt.draft)
    who = h(actor.name)
    key = f"app:{number}:ask:{int(prompt.asked_at.timestamp())}"
    if application.applicant_id:
        rt.delivery.post(
            key,
            application.applicant_id,
            f"A question from the senior leaders of {_school(rt.services)} about your request to join the "
            f"parents' group:\n\n{question}\n\nPlease reply here.",
            give_up_after=APPLICANT_WINDOW,
        )
    for recorder in application.recorded_by:
        if recorder != actor.user_id:
            rt.delivery.post(
                f"{key}:{recorder}",
                recorder,
                f"{who} asks about application #{number} ({h(application.parent_name)}), whose form you recorded:\n\n"
                f"{question}\n\nPlease find out from the parent and let {who} know.",
                needs=Permission.RECORD_APPLICATION,  # never to office staff revoked since recording it
            )
    await show(update, f"Question sent to {_recipients(rt.services, application, leaving_out=actor.user_id)}.")


# ---- the decision -----------------------------------------------------------------------------


def _already(services: Services, application: Application | None) -> str:
    if application is None:
        return "This button has expired."
    if application.status is Status.LINKED:
        return f"This application was linked to #{application.linked_to}."
    if application.decided_by:
        return f"Already decided by {_staff_name(services, application.decided_by)}."
    return "This application is not ready for a decision."


async def decide(update: Update, context: Context) -> None:
    """Approve or Reject on a card: the first press wins and every copy shows who decided."""
    callback = callback_of(update)
    number = callback.int_arg(0) if callback else None
    approve = callback is not None and callback.action == "ok"
    action = "approve application" if approve else "reject application"
    actor = await admit(update, context, Permission.DECIDE_APPLICATIONS, action=action)
    if actor is None or number is None:
        return
    rt = runtime(context)
    decision = rt.services.application_desk.decide(number, actor.user_id, actor.name, approve)
    application = decision.application
    if not decision.won or application is None:
        rt.services.audit(actor.user_id, action, f"application {number}", outcome="refused: already decided")
        await answer(update, _already(rt.services, application))
        return
    refresh_cards(rt, application)  # queued before any await: a lost answer must not leave stale cards
    await answer(update, "Approved." if approve else "Rejected.")
    await context.application.bot_data[JOINS].flush()
    if approve:
        announce(rt, application)
        return
    await reply(
        update,
        f"You rejected application #{number}. If you like, type a short reason: it is kept on the application "
        f"and sent with the outcome to {_recipients(rt.services, application)}. Or tap Skip.",
        ((("Skip", pack("app", "skip", number)),),),
    )


async def skip_reason(update: Update, context: Context) -> None:
    """Skip on the reason prompt: the rejection is announced without a reason."""
    press = await admit_press(update, context, Permission.DECIDE_APPLICATIONS, action="application reason")
    number = press.number if press else None
    if press is None or number is None:
        return
    rt = runtime(context)
    application = rt.services.application_desk.skip_reason(number, press.actor.user_id)
    if application is None:
        await answer(update, "This button is no longer active.")
        return
    if not application.outcome_told:
        announce(rt, application)
    await answer(update)
    await show(update, f"No reason given. The outcome of application #{number} has been sent.")


async def ask_press(update: Update, context: Context) -> None:
    """Ask for information: the leader types a question, relayed to the applicant or the recorder."""
    press = await admit_press(update, context, Permission.DECIDE_APPLICATIONS, action="ask for information")
    number = press.number if press else None
    if press is None or number is None:
        return
    actor = press.actor
    rt = runtime(context)
    apps = rt.services.application_desk
    current = apps.get(number)
    if current is not None and not current.applicant_id and set(current.recorded_by) <= {actor.user_id}:
        await answer(update, "There is nobody to relay a question to: you recorded this form yourself.")
        return
    application = apps.expect_question(number, actor.user_id)
    if application is None:
        await answer(update, _already(rt.services, current))
        return
    await answer(update)
    await reply(
        update,
        f"What would you like to ask about application #{number}? Type your question: it goes to "
        f"{_recipients(rt.services, application, leaving_out=actor.user_id)}.",
        ((("Cancel", pack("app", "drop", number)),),),
    )


async def drop_question(update: Update, context: Context) -> None:
    actor = await admit(update, context, Permission.DECIDE_APPLICATIONS, action="ask for information")
    if actor is None:
        return
    runtime(context).services.application_desk.drop_prompt(actor.user_id)
    await answer(update)
    await show(update, "No question sent.")


# ---- /pending and /application N ----------------------------------------------------------


async def show_pending(update: Update, context: Context, actor: Actor, number: int) -> None:
    """Applications still waiting: for a decision, or for the applicant's answers."""
    services = runtime(context).services
    services.audit(actor.user_id, "list pending applications", f"page {number + 1}")
    now = services.clock.now()
    lines = []
    leader = allows(actor.role, Permission.DECIDE_APPLICATIONS)
    for a in services.application_desk.open_applications():
        if not leader and actor.user_id not in a.recorded_by:
            continue  # office staff and admins see the forms they recorded; the rest is for SLT
        if a.status is Status.PENDING:
            state = f"waiting {_waited(a.submitted_at or a.created_at, now)} for a decision"
        else:
            state = "waiting for the applicant's answers"
        flag = " ⚠️ child not on the register" if a.unmatched else ""
        source = "📄" if a.recorded_by else "📱"
        lines.append(f"{source} <b>#{a.number}</b> {h(a.parent_name)}: {state}{flag}")
    if not lines:
        mine = "" if leader else " among the forms you recorded"
        await show(update, f"No parents' group applications are waiting{mine}. 🎉")
        return
    page = page_of(lines, number, per_page=10)
    text = "<b>Parents' group applications waiting</b>\n" + "\n".join(page.lines) + page.footer
    text += "\n\nSend <code>/application N</code> for one application and its history."
    await show(update, text, page.buttons("apl"))


pending, pending_page = paged(Permission.RECORD_APPLICATION, "list pending applications", show_pending)


@staff_only(Permission.RECORD_APPLICATION, action="view application")
async def show_application(update: Update, context: Context, actor: Actor) -> None:
    """/application N: the application as leaders see it, with its history."""
    rt = runtime(context)
    arg = command_args(context).lstrip("#")
    number = parse_number(arg, maximum=99_999_999)
    if number is None:
        await reply(update, "Usage: <code>/application N</code>, where N is a number from /pending.")
        return
    application = rt.services.application_desk.get(number)
    if application is None:
        await reply(update, f"There is no application #{number}. /pending lists the ones waiting.")
        return
    if allows(actor.role, Permission.DECIDE_APPLICATIONS):
        rt.services.audit(actor.user_id, "view application", f"application {application.number}")
        await reply(update, _history_text(rt.services, application))
        return
    if actor.user_id not in application.recorded_by:
        rt.services.audit(actor.user_id, "view application", f"application {application.number}", outcome="refused: not recorded by them")
        await reply(update, f"Application #{application.number} is for the senior leaders. You can see the forms you recorded.")
        return
    # The recorder sees the form they wrote and its outcome (which they are told anyway), not
    # the leaders' questions, the applicant's answers or the rest of the history.
    rt.services.audit(actor.user_id, "view application", f"application {application.number}", detail="recorder's view")
    await reply(update, card_text(rt.services, application))


# ---- Telegram's side of a decision, and chasing -------------------------------------------


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

    async def _send(self, apps: Applications, application: Application) -> None:
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
        waited = _waited(a.submitted_at or a.created_at, services.clock.now())
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


# ---- wiring -----------------------------------------------------------------------------------


def register(application: PtbApplication, rt: Runtime) -> None:  # type: ignore[type-arg]
    joins = JoinRequests(application.bot, rt.services)
    application.bot_data[JOINS] = joins
    typed = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # PTB warns that buttons are tracked per chat and user, not per message: that is what we want.
        warnings.simplefilter("ignore", PTBUserWarning)
        form = ConversationHandler(
            entry_points=[CommandHandler("apply", apply_start)],
            states={
                PARENT: [MessageHandler(typed, parent_name)],
                RELATIONSHIP: [
                    MessageHandler(typed, relationship_typed),
                    CallbackQueryHandler(relationship_chosen, pattern=r"^1:apf:rel:"),
                ],
                CHILD: [
                    MessageHandler(typed, child_typed),
                    CallbackQueryHandler(child_chosen, pattern=r"^1:apf:(pick|keep)"),
                    CallbackQueryHandler(child_more, pattern=r"^1:apf:more$"),
                    CallbackQueryHandler(children_done, pattern=r"^1:apf:done$"),
                ],
                CONDUCT: [CallbackQueryHandler(conduct, pattern=r"^1:apf:(signed|unsigned)$")],
                FORM_REF: [MessageHandler(typed, form_ref)],
                CONTACT: [
                    MessageHandler(typed, contact_typed),
                    CallbackQueryHandler(contact_skipped, pattern=r"^1:apf:skip$"),
                ],
                CONFIRM: [CallbackQueryHandler(submit, pattern=r"^1:apf:submit$")],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, apply_timeout)],
            },
            fallbacks=[
                CommandHandler("cancel", apply_cancel),
                CallbackQueryHandler(apply_cancel, pattern=r"^1:apf:cancel$"),
            ],
            conversation_timeout=APPLY_TIMEOUT,
            allow_reentry=True,
            name="application_form",
        )
    application.add_handler(form)
    application.add_handler(ChatJoinRequestHandler(join_request))
    application.add_handler(MessageHandler(typed & AwaitedText(rt.services), typed_text))
    application.add_handler(CallbackQueryHandler(applicant_conduct, pattern=r"^1:apj:(yes|no):"))
    application.add_handler(CallbackQueryHandler(decide, pattern=r"^1:app:(ok|no):"))
    application.add_handler(CallbackQueryHandler(ask_press, pattern=r"^1:app:ask:"))
    application.add_handler(CallbackQueryHandler(skip_reason, pattern=r"^1:app:skip:"))
    application.add_handler(CallbackQueryHandler(drop_question, pattern=r"^1:app:drop:"))
    application.add_handler(CallbackQueryHandler(send_press, pattern=r"^1:app:send:"))
    application.add_handler(CallbackQueryHandler(redo_press, pattern=r"^1:app:redo:"))
    application.add_handler(MessageHandler(filters.CONTACT & filters.ChatType.PRIVATE & SharedOwnContact(rt.services), shared_contact))
    application.add_handler(CommandHandler("pending", pending))
    application.add_handler(CallbackQueryHandler(pending_page, pattern=r"^1:apl:page:"))
    application.add_handler(CommandHandler("application", show_application))
    rt.ticker.add("applications", chasing_work(rt, joins))

