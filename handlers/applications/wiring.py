"""Registers every handler of the applications capability, in the order they must be tried."""

from __future__ import annotations

import warnings

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.applications import PaperForm
from bot.records.applications import Child
from bot.roles import Permission
from bot.shell.ticker import Runtime
from handlers.applications.form import (
    APPLY_TIMEOUT,
    CHILD,
    CONDUCT,
    CONFIRM,
    CONTACT,
    FORM_REF,
    PARENT,
    RELATIONSHIP,
    apply_cancel,
    apply_start,
    apply_timeout,
    child_chosen,
    child_more,
    child_typed,
    children_done,
    conduct,
    contact_skipped,
    contact_typed,
    form_ref,
    parent_name,
    relationship_chosen,
    relationship_typed,
    submit,
)
from handlers.applications.leaders import (
    ask_press,
    decide,
    drop_question,
    pending,
    pending_page,
    show_application,
    skip_reason,
)
from handlers.applications.notices import chasing_work, on_join_answer
from handlers.applications.private_chat import (
    AwaitedText,
    SharedOwnContact,
    applicant_conduct,
    join_request,
    redo_press,
    send_press,
    shared_contact,
    typed_text,
)
from handlers.menu import MenuCommand

# The records a half-filled /apply keeps between messages and across a restart (bot.shell.persistence).
FLOW_STATE = (PaperForm, Child)

COMMANDS = (
    MenuCommand("apply", "Record a paper application to the parents' group", Permission.RECORD_APPLICATION),
    MenuCommand("pending", "Parents' group applications waiting for a decision", Permission.RECORD_APPLICATION),
    MenuCommand("application", "One application and its history: /application N", Permission.RECORD_APPLICATION),
)


def register(application: Application, rt: Runtime) -> None:
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
            persistent=True,
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
    own_contact = filters.CONTACT & filters.ChatType.PRIVATE & SharedOwnContact(rt.services)
    application.add_handler(MessageHandler(own_contact, shared_contact))
    application.add_handler(CommandHandler("pending", pending))
    application.add_handler(CallbackQueryHandler(pending_page, pattern=r"^1:apl:page:"))
    application.add_handler(CommandHandler("application", show_application))
    rt.delivery.on_join_answer(on_join_answer(rt))
    rt.ticker.add("applications", chasing_work(rt))
