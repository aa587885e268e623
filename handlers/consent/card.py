"""/consent NAME: the verdict card for an exact name, "Did you mean ...?" buttons for anything fuzzier."""

from __future__ import annotations

from telegram import Update

from bot.roles import Permission
from bot.shell.ticker import runtime
from handlers.common import Actor, Context, admit_press, answer, command_args, reply, show, staff_only
from handlers.consent.messages import ask_pupil, no_record_card, verdict_card
from handlers.consent.shared import answered, asked, pupil_by_token, remember, service

MAX_QUERY = 100


@staff_only(Permission.CHECK_CONSENT, action="consent lookup")
async def consent(update: Update, context: Context, actor: Actor) -> None:
    """/consent NAME: the verdict card for an exact name; otherwise "Did you mean ...?" first."""
    query = command_args(context)
    if not query:
        await reply(update, "Usage: <code>/consent NAME</code>, for example <code>/consent Amelia Smith</code>.")
        return
    if len(query) > MAX_QUERY:
        await reply(update, f"That name is too long; type at most {MAX_QUERY} characters.")
        return
    rt = runtime(context)
    resolution = service(context).lookup(actor.user_id, query)
    if resolution.kind == "none":
        await reply(update, no_record_card(rt, query))
    elif resolution.kind == "one":
        await reply(update, verdict_card(rt, service(context).verdict_of(resolution.matches[0].pupil)))
    else:
        question = await reply(update, *ask_pupil(remember(context, "consent_asks", query), query, resolution))
        asked(context, question.chat_id, question.message_id)


async def pick_pupil(update: Update, context: Context) -> None:
    """A tap on the pupil the admin meant: now the verdict card."""
    press = await admit_press(update, context, Permission.CHECK_CONSENT, action="consent pick")
    if press is None or not press.callback.args:
        return
    rt = runtime(context)
    pupil = pupil_by_token(rt, press.callback.args[0])
    result = service(context).verdict_for(press.actor.user_id, pupil.pupil_id) if pupil else None
    if result is None:
        await answer(update, "That pupil is no longer in the register. Search again.")
        return
    await answer(update)
    await show(update, verdict_card(rt, result))
    _answered(update, context)


async def pick_none(update: Update, context: Context) -> None:
    """ "None of these": the name is nobody on the register, so the answer is no."""
    press = await admit_press(update, context, Permission.CHECK_CONSENT, action="consent pick")
    if press is None:
        return
    typed = context.state.get("consent_asks", {}).pop(press.number, None) if press.number is not None else None
    if typed is None:
        await answer(update, "This question has expired. Search again with /consent.")
        return
    service(context).none_of_these(press.actor.user_id)
    await answer(update)
    await show(update, no_record_card(runtime(context), typed))
    _answered(update, context)


def _answered(update: Update, context: Context) -> None:
    """The pressed question is answered: /cancel has nothing of it to end."""
    query = update.callback_query
    if query is not None and query.message is not None:
        answered(context, query.message.chat.id, query.message.message_id)
