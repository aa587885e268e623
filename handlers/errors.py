"""The last line of defence: log the failure (ids only, no token), tell the user briefly."""

from __future__ import annotations

from telegram import Update
from telegram.error import Forbidden, NetworkError

from handlers.common import Context, log_update_error, reply

# Not "nothing was saved": a handler may fail after its change was saved (the answer to the tap was
# lost); trying again then says so ("Already decided by ...", "Already logged as ...").
SORRY = "Something went wrong. Please try again in a moment: if it had already gone through, I will say so."


async def on_error(update: object, context: Context) -> None:
    """Never a traceback to the user: a short apology, and the details in the log."""
    error = context.error
    assert error is not None
    log_update_error(update, error)
    if not isinstance(update, Update) or update.effective_chat is None or isinstance(error, Forbidden):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(SORRY, show_alert=True)
        else:
            await reply(update, SORRY)
    except (NetworkError, Forbidden):
        pass  # Telegram is unreachable or the user blocked the bot: the log has it all
