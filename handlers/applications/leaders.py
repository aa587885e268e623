"""The leaders' side: the decision on a card, /pending and /application N."""

from __future__ import annotations

from telegram import Update

from bot.numbers import parse_number
from bot.records.applications import GroupApplication, NoteKind, Status
from bot.roles import Permission, allows
from bot.shell.ticker import runtime
from handlers import confirmations
from handlers.applications.messages import (
    already_decided,
    card_text,
    confirm_text,
    decision_buttons,
    history_text,
    recipients,
    waited_for,
)
from handlers.applications.notes import Step, carry_on, wait_for_note
from handlers.applications.notices import announce, close_pings, refresh_cards, tell_telegram
from handlers.common import (
    Actor,
    Context,
    admit_numbered,
    admit_press,
    answer,
    callback_of,
    command_args,
    h,
    paged,
    reply,
    show,
    staff_only,
)
from handlers.confirmations import Question, Reply
from handlers.paging import page_of

# The two decisions a second tap confirms: a rejection (the parent is told, and it cannot be
# undone) and an approval while a child is not found on the register.
CONFIRMED = ("approve", "reject")


async def decide(update: Update, context: Context) -> Step:
    """Approve or Reject on a card: Reject, and Approve with a child not on the register, ask once more.

    The question replaces this copy of the card (the other leaders' copies keep their buttons);
    a plain Approve decides at once. The first decision wins and every copy shows who decided.
    """
    callback = callback_of(update)
    approve = callback is not None and callback.action == "ok"
    action = "approve application" if approve else "reject application"
    press = await admit_numbered(update, context, Permission.DECIDE_APPLICATIONS, action=action)
    if press is None:
        return carry_on(context)
    rt = runtime(context)
    application = rt.services.application_desk.get(press.number)
    if application is None or application.status is not Status.PENDING:
        rt.services.audit(press.actor.user_id, action, f"application {press.number}", outcome="refused: already decided")
        await answer(update, already_decided(rt.services, application))
        return carry_on(context)
    if approve and not application.unmatched:
        return await _decide(update, context, press.actor, press.number, approve=True)
    what = "approve" if approve else "reject"
    question = Question(what, press.number, "", _basis(application), rt.services.clock.now())
    token = confirmations.ask(context, question)
    text, yes = confirm_text(rt.services, application, approve)
    await show(update, text, confirmations.buttons("app", token, yes))
    await answer(update)
    return carry_on(context)


def _basis(application: GroupApplication) -> str:
    """What a Yes relies on: still pending, with the same children (counts only: no names kept)."""
    return f"{application.status.value}:{len(application.children)}:{application.unmatched}"


async def confirm_decision(update: Update, context: Context) -> Step:
    """Yes, reject (or approve a child not on the register): once, in time, while the card still stands as asked."""
    press = await admit_press(update, context, Permission.DECIDE_APPLICATIONS, action="decide application")
    if press is None:
        return carry_on(context)
    rt = runtime(context)
    token = press.callback.args[0] if press.callback.args else ""
    said, question = confirmations.take(context, token, rt.services.clock.now(), CONFIRMED)
    if said is Reply.ANSWERED:
        await answer(update, "Already answered: nothing more changed.")
        return carry_on(context)
    if question is None:
        rt.services.audit(press.actor.user_id, "decide application", outcome="refused: not asked")
        await answer(update, "This button has expired: nothing changed.")
        return carry_on(context)
    number, approve = question.target, question.what == "approve"
    application = rt.services.application_desk.get(number)
    if application is None or application.status is not Status.PENDING:
        await answer(update, already_decided(rt.services, application) + " Nothing changed.")
        return carry_on(context)
    if said is Reply.EXPIRED or _basis(application) != question.basis:
        await show(update, card_text(rt.services, application), decision_buttons(number))
        why = "That question had expired" if said is Reply.EXPIRED else "The application changed meanwhile"
        await answer(update, f"{why}: nothing changed. Check the card and choose again.")
        return carry_on(context)
    try:
        return await _decide(update, context, press.actor, number, approve=approve)
    except Exception:
        confirmations.reopen(context, token)  # nothing was decided: the same Yes may be tapped again
        raise


async def cancel_decision(update: Update, context: Context) -> None:
    """Cancel under a Yes: the card comes back as it stands now, and nothing is decided."""
    press = await admit_press(update, context, Permission.DECIDE_APPLICATIONS, action="decide application")
    if press is None:
        return
    rt = runtime(context)
    question = confirmations.drop(context, press.callback.args[0] if press.callback.args else "")
    application = rt.services.application_desk.get(question.target) if question else None
    if question is None or application is None:
        await answer(update, "This button has expired: nothing changed.")
        return
    buttons = decision_buttons(application.number) if application.status is Status.PENDING else ()
    await show(update, card_text(rt.services, application), buttons)
    await answer(update)


async def _decide(update: Update, context: Context, actor: Actor, number: int, *, approve: bool) -> Step:
    """The decision itself: the first one wins; a rejection then waits a few minutes for the reason."""
    rt = runtime(context)
    action = "approve application" if approve else "reject application"
    decision = rt.services.application_desk.decide(number, actor.user_id, actor.name, approve)
    application = decision.application
    if not decision.won or application is None:
        rt.services.audit(actor.user_id, action, f"application {number}", outcome="refused: already decided")
        await answer(update, already_decided(rt.services, application))
        return carry_on(context)
    refresh_cards(rt, application)  # queued before any await: a lost answer must not leave stale cards
    close_pings(rt, application)
    tell_telegram(rt, application)
    await answer(update, "Approved." if approve else "Rejected.")  # "done", on the card being edited
    if approve:
        announce(rt, application)
        return carry_on(context)
    ask = (
        f"Why was application #{number} rejected? If you like, type a short reason: it is kept on the application "
        f"and sent with the outcome to {recipients(rt.services, application)}. Or tap Skip."
    )
    return await wait_for_note(update, context, NoteKind.REASON, number, ask, "Skip")


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
            state = f"waiting {waited_for(a.submitted_at or a.created_at, now)} for a decision"
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
        await reply(update, history_text(rt.services, application))
        return
    if actor.user_id not in application.recorded_by:
        refused = "refused: not recorded by them"
        rt.services.audit(actor.user_id, "view application", f"application {application.number}", outcome=refused)
        await reply(update, f"Application #{application.number} is for the senior leaders. You can see the forms you recorded.")
        return
    # The recorder sees the form they wrote and its outcome (which they are told anyway), not
    # the leaders' questions, the applicant's answers or the rest of the history.
    rt.services.audit(actor.user_id, "view application", f"application {application.number}", detail="recorder's view")
    await reply(update, card_text(rt.services, application))
