"""The photo check: a photo whose caption lists the pupils in it (or /check's list), the destination
buttons, a verdict per pupil, and the buttons that say who an unconfirmed name is.
"""

from __future__ import annotations

from telegram import Message, Update

from bot.photo_check import MAX_PHOTO_NAMES, PhotoCheck
from bot.roles import Permission
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from bot.wording import plural
from handlers.common import Actor, Context, admit_numbered, answer, reply, show, staff_only
from handlers.consent.messages import photo_report
from handlers.consent.safety import start_safety_check
from handlers.consent.shared import HELD, MAX_NAMES_TEXT, photo_checks, pupil_by_token, remember


def destination_buttons(rt: Runtime, number: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(
        ((rt.services.config.consent.label(p), pack("con", "dest", number, p)),) for p in rt.services.config.consent.purposes
    )


async def ask_destination(
    update: Update, context: Context, text: str, photo: str, *, as_file: bool = False, size: int | None = None
) -> None:
    """Every name listed counts: ask where the photo will appear, or say why the list cannot be checked;
    then, for a photo, look at the picture itself (handlers/consent/safety.py)."""
    named, question = await _ask(update, context, text, photo)
    if photo:
        await start_safety_check(update, context, photo, named=named, as_file=as_file, size=size, question=question)


async def _ask(update: Update, context: Context, text: str, photo: str) -> tuple[int, Message]:
    """The destination question; how many names were listed (0 when none could be checked), and the reply."""
    if len(text) > MAX_NAMES_TEXT:
        return 0, await reply(update, f"That list is too long; send at most {MAX_NAMES_TEXT} characters.")
    names = photo_checks(context).names_in(text)
    if not names:
        return 0, await reply(update, "I found no pupils' names in that. To check consent, send the pupils' names, one per line.")
    if len(names) > MAX_PHOTO_NAMES:
        return 0, await reply(
            update, f"That is {len(names)} names; check at most {MAX_PHOTO_NAMES} at a time (split the photo's list)."
        )
    number = remember(context, "photo_checks", (names, photo))
    rt = runtime(context)
    question = await reply(
        update, f"{plural(len(names), 'pupil')} listed. Where will the photo appear?", destination_buttons(rt, number)
    )
    return len(names), question


@staff_only(Permission.CHECK_CONSENT, action="photo check")
async def photo_with_caption(update: Update, context: Context, actor: Actor) -> None:
    """A photo whose caption lists the pupils in it (compressed, or the original as a file): ask where it will
    appear, then look at the picture itself (handlers/consent/safety.py)."""
    message = update.effective_message
    assert message is not None and (message.photo or message.document)
    if message.photo:
        file_id, size, as_file = message.photo[-1].file_id, message.photo[-1].file_size, False
    else:
        assert message.document is not None
        file_id, size, as_file = message.document.file_id, message.document.file_size, True
    await ask_destination(update, context, message.caption or "", file_id, as_file=as_file, size=size)


async def choose_destination(update: Update, context: Context) -> None:
    """The destination tap: a verdict per pupil, one overall line, and buttons for any unconfirmed name."""
    press = await admit_numbered(update, context, Permission.CHECK_CONSENT, action="photo check")
    if press is None or len(press.callback.args) != 2:
        return
    number = press.number
    rt = runtime(context)
    pending = context.state.get("photo_checks", {}).pop(number, None)
    purpose = press.callback.args[1]
    if pending is None or purpose not in rt.services.config.consent.purposes:
        await answer(update, "This check has expired. Send the photo or /check again.")
        return
    names, photo = pending
    result = photo_checks(context).check(press.actor.user_id, names, purpose, photo)
    await answer(update)
    held = context.state.get(HELD, {}).get(photo)
    await show(update, *photo_report(rt, result, remember(context, "photo_reports", result), held))


async def confirm_name(update: Update, context: Context) -> None:
    """A tap under a photo report saying who an unconfirmed name is (or none of them): the report is updated."""
    press = await admit_numbered(update, context, Permission.CHECK_CONSENT, action="photo check")
    row = press.callback.int_arg(1) if press else None
    if press is None or row is None:
        return
    number = press.number
    rt = runtime(context)
    action, args = press.callback.action, press.callback.args
    chosen = pupil_by_token(rt, args[2]) if action == "fix" and len(args) == 3 else None
    reports = context.state.get("photo_reports", {})
    check: PhotoCheck | None = reports.get(number)
    updated = None
    if check is not None and (action == "fixno" or chosen is not None):
        updated = photo_checks(context).confirm(press.actor.user_id, check, row, chosen.pupil_id if chosen else None)
    if updated is None:
        await answer(update, "This check has changed or expired. Send the photo or /check again.")
        return
    reports[number] = updated
    await answer(update)
    await show(update, *photo_report(rt, updated, number, context.state.get(HELD, {}).get(updated.photo_file_id)))
