"""/apply: office staff record a paper form, step by step, before it goes to the senior leaders."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ConversationHandler

from bot.applications import (
    CONDUCT_REQUIRED,
    MAX_CHILDREN,
    MAX_CONTACT,
    MAX_FORM_REF,
    MAX_PARENT,
    MAX_RELATIONSHIP,
    Invalid,
    PaperForm,
    clean,
    parse_contact,
)
from bot.records.applications import Child, Status
from bot.records.outbox import Buttons
from bot.roles import Permission
from bot.shell.callbacks import pack
from bot.shell.ticker import runtime
from bot.wording import plural
from handlers.applications.messages import WITH_LEADERS, child_line, form_summary, text_of
from handlers.applications.notices import APPLICANT_WINDOW, refresh_cards, send_cards
from handlers.common import Actor, Context, admit, answer, callback_of, clip, drop_buttons, h, reply, show, staff_only

# /apply conversation states, in the order the form is filled in.
PARENT, RELATIONSHIP, CHILD, CONDUCT, FORM_REF, CONTACT, CONFIRM = (
    "parent",
    "relationship",
    "child",
    "conduct",
    "form_ref",
    "contact",
    "confirm",
)
APPLY_TIMEOUT = timedelta(minutes=30)
RELATIONSHIPS = ("Mother", "Father", "Carer", "Grandparent")
DRAFT = "application_form"
MATCHES = "application_matches"  # (name as typed, pupil ids offered as buttons)
PROMPT = "application_form_prompt"  # (chat, message) of the step whose buttons are live


def _draft(context: Context) -> PaperForm:
    data = context.user_data if context.user_data is not None else {}
    return data.setdefault(DRAFT, PaperForm())


def _forget(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
        context.user_data.pop(MATCHES, None)


async def _retire(context: Context) -> None:
    """The last step's buttons come off its message: the form has moved on (or ended)."""
    kept = context.state.pop(PROMPT, None)
    if isinstance(kept, tuple) and len(kept) == 2:
        await drop_buttons(context.bot, *kept)


def _keep(context: Context, update: Update, buttons: Buttons, message_id: int | None = None) -> None:
    """Remember the message whose buttons are now the live ones; one shown without buttons has none to retire."""
    chat, message = update.effective_chat, update.effective_message
    shown = message_id if message_id is not None else (message.message_id if message else 0)
    if chat is None or not shown or context.user_data is None:
        return
    if buttons:
        context.user_data[PROMPT] = (chat.id, shown)
    elif context.state.get(PROMPT) == (chat.id, shown):
        context.state.pop(PROMPT, None)


async def _step(update: Update, context: Context, text: str, buttons: Buttons = ()) -> None:
    """The next step as a new message; the step before loses its buttons."""
    await _retire(context)
    sent = await reply(update, text, buttons)
    _keep(context, update, buttons, sent.message_id)


async def _shown(update: Update, context: Context, text: str, buttons: Buttons = ()) -> None:
    """The next step in place of the tapped message (its buttons become the live ones)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is not None and message is not None and context.state.get(PROMPT) != (chat.id, message.message_id):
        await _retire(context)  # a tap on an older step's message: the newer step's buttons go
    await show(update, text, buttons)
    _keep(context, update, buttons)


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
        _draft(context).parent_name = clean(text_of(update), MAX_PARENT, "parent's full name")
    except Invalid as problem:
        await reply(update, h(problem))
        return PARENT
    buttons = (tuple((label, pack("apf", "rel", i)) for i, label in enumerate(RELATIONSHIPS)),)
    await _step(update, context, "Step 2 of 6: their <b>relationship</b> to the child. Tap one, or type another.", buttons)
    return RELATIONSHIP


async def relationship_typed(update: Update, context: Context) -> str:
    try:
        relationship = clean(text_of(update), MAX_RELATIONSHIP, "relationship")
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
    await _step(update, context, f"{h(relationship)}. Step 3 of 6: the <b>child's name</b> (one child at a time).")
    return CHILD


async def child_typed(update: Update, context: Context) -> str:
    """A child's name is typed: matches on the register are offered as buttons to choose from."""
    form = _draft(context)
    if len(form.children) >= MAX_CHILDREN:
        await _step(update, context, f"An application can name at most {MAX_CHILDREN} children.", _more_buttons())
        return CHILD
    try:
        name = clean(text_of(update), 100, "child's name")
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
    await _step(update, context, text, tuple(rows))
    return CHILD


def _more_buttons() -> Buttons:
    return ((("Add another child", pack("apf", "more")), ("That's all", pack("apf", "done"))),)


async def child_chosen(update: Update, context: Context) -> str:
    """A match is chosen (or the typed name kept, flagged as not on the register)."""
    callback = callback_of(update)
    typed, offered = context.state.get(MATCHES, ("", []))
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
    listed = "\n".join(child_line(runtime(context).services, c) for c in form.children)
    await _shown(update, context, f"Children so far:\n{listed}\n\nAnother child on this form?", _more_buttons())
    return CHILD


async def child_more(update: Update, context: Context) -> str:
    await answer(update)
    await _shown(update, context, "Type the next child's name.")
    return CHILD


async def children_done(update: Update, context: Context) -> str:
    await answer(update)
    if not _draft(context).children:
        await _shown(update, context, "Please type at least one child's name first.")
        return CHILD
    await _shown(
        update, context, "Step 4 of 6: has the parent <b>signed the code of conduct</b> (policy 2.2)?", _conduct_question()
    )
    return CONDUCT


def _conduct_question() -> Buttons:
    return ((("Yes, signed", pack("apf", "signed")), ("No", pack("apf", "unsigned"))),)


async def conduct(update: Update, context: Context) -> str:
    """Signed: carry on. Not signed: the form cannot be submitted, and the bot says why."""
    callback = callback_of(update)
    await answer(update)
    if callback is None or callback.action != "signed":
        await _shown(
            update,
            context,
            h(CONDUCT_REQUIRED) + "\n\nWhen it is signed, tap <b>Yes, signed</b>; or send /cancel.",
            ((("Yes, signed", pack("apf", "signed")), ("Cancel", pack("apf", "cancel"))),),
        )
        return CONDUCT
    _draft(context).conduct_signed = True
    await _shown(update, context, "Code of conduct signed ✅\nStep 5 of 6: the <b>form reference</b> (as written on the form).")
    return FORM_REF


async def form_ref(update: Update, context: Context) -> str:
    try:
        _draft(context).form_ref = clean(text_of(update), MAX_FORM_REF, "form reference")
    except Invalid as problem:
        await reply(update, h(problem))
        return FORM_REF
    await _step(
        update,
        context,
        "Step 6 of 6 (optional): the parent's <b>Telegram username</b> (like @name) and/or <b>phone number</b>, "
        "as written on the form. Only these link the parent's own Telegram join request to this form; "
        "a matching name never does.",
        ((("Skip", pack("apf", "skip")),),),
    )
    return CONTACT


async def contact_typed(update: Update, context: Context) -> str:
    form = _draft(context)
    try:
        form.contact, form.phone = parse_contact(clean(text_of(update), MAX_CONTACT, "contact"))
    except Invalid as problem:
        await _step(update, context, h(problem), ((("Skip", pack("apf", "skip")),),))
        return CONTACT
    return await _confirm(update, context)


async def contact_skipped(update: Update, context: Context) -> str:
    await answer(update)
    form = _draft(context)
    form.contact, form.phone = "", ""
    return await _confirm(update, context)


async def _confirm(update: Update, context: Context) -> str:
    buttons = ((("Submit", pack("apf", "submit")), ("Cancel", pack("apf", "cancel"))),)
    await _step(update, context, form_summary(runtime(context).services, _draft(context)), buttons)
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
        await _shown(update, context, h(problem))
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
    unmatched = application.unmatched
    if unmatched:
        text += f"\n⚠️ {plural(unmatched, 'child')} not found on the register: flagged for the senior leaders."
    await _shown(update, context, text + "\nI will tell you their decision.")
    return ConversationHandler.END


async def apply_cancel(update: Update, context: Context) -> int:
    """/cancel (or the Cancel button): nothing is saved."""
    _forget(context)
    if update.effective_user:
        runtime(context).services.audit(update.effective_user.id, "cancel application form")
    await answer(update)
    if update.callback_query is None:  # /cancel typed: the step it leaves keeps no buttons
        await _retire(context)
    await _shown(update, context, "Cancelled: nothing was saved. Send /apply to start again.")
    return ConversationHandler.END


async def apply_timeout(update: Update, context: Context) -> None:
    """No answer for a while: the half-filled form is dropped, and the person is told."""
    _forget(context)
    if update.effective_user:
        runtime(context).services.audit(update.effective_user.id, "application form timed out")
    minutes = int(APPLY_TIMEOUT.total_seconds() // 60)
    await _retire(context)
    await reply(
        update,
        f"The application form timed out after {minutes} minutes without an answer; nothing was saved. "
        "Send /apply to start again.",
    )
