"""Registers every handler of the applications capability, in the order they must be tried."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatJoinRequestHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.applications import LEADER_NOTE_WAIT, PaperForm
from bot.records.applications import Child, LeaderNote, NoteKind
from bot.roles import Permission
from bot.shell.ticker import Runtime
from handlers.applications.answers import (
    ANSWER,
    ANSWER_WAIT,
    ANSWERING,
    answer_cancelled,
    answer_press,
    answer_timed_out,
    answer_typed,
)
from handlers.applications.form import (
    APPLY_TIMEOUT,
    CHILD,
    CONDUCT,
    CONFIRM,
    CONTACT,
    FORM_REF,
    MATCHES,
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
from handlers.applications.form import DRAFT as FORM_DRAFT
from handlers.applications.form import PROMPT as FORM_PROMPT
from handlers.applications.leaders import (
    cancel_decision,
    confirm_decision,
    decide,
    pending,
    pending_page,
    show_application,
)
from handlers.applications.notes import (
    KEPT,
    NOTE,
    ask_press,
    cancel_note,
    drop_question,
    note_over,
    note_timed_out,
    note_typed,
    redo_press,
    send_press,
    skip_reason,
)
from handlers.applications.notices import chasing_work, on_join_answer
from handlers.applications.private_chat import (
    FromApplicant,
    SharedOwnContact,
    applicant_conduct,
    applicant_text,
    join_request,
    shared_contact,
)
from handlers.flows import dropping, durable_flow
from handlers.menu import MenuCommand

# The records a half-filled /apply and a leader's reason or question keep across a restart (bot.shell.persistence).
FLOW_STATE = (PaperForm, Child, LeaderNote, NoteKind)

COMMANDS = (
    MenuCommand("apply", "Record a paper application to the parents' group", Permission.RECORD_APPLICATION),
    MenuCommand("pending", "Parents' group applications waiting for a decision", Permission.RECORD_APPLICATION),
    MenuCommand("application", "One application and its history: /application N", Permission.RECORD_APPLICATION),
)


def register(application: Application, rt: Runtime) -> None:
    typed = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    form = durable_flow(
        "application_form",
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
        },
        fallbacks=[
            CommandHandler("cancel", apply_cancel),
            CallbackQueryHandler(apply_cancel, pattern=r"^1:apf:cancel$"),
        ],
        timeout=APPLY_TIMEOUT,
        on_timeout=apply_timeout,
        forget=dropping(FORM_DRAFT, MATCHES, FORM_PROMPT),
    )
    # A leader's reason (after Reject) or question (Ask for information): typed, shown back, sent on Send.
    # Approve, Reject (its Yes) and Ask enter it from any card; a press that starts nothing leaves a note as it was.
    note = durable_flow(
        "application_note",
        entry_points=[
            CallbackQueryHandler(decide, pattern=r"^1:app:(ok|no):"),
            CallbackQueryHandler(confirm_decision, pattern=r"^1:app:sure:"),
            CallbackQueryHandler(ask_press, pattern=r"^1:app:ask:"),
        ],
        states={
            NOTE: [
                MessageHandler(typed, note_typed),
                CallbackQueryHandler(send_press, pattern=r"^1:app:send:"),
                CallbackQueryHandler(redo_press, pattern=r"^1:app:redo:"),
            ],
        },
        fallbacks=[
            CallbackQueryHandler(skip_reason, pattern=r"^1:app:skip:"),
            CallbackQueryHandler(drop_question, pattern=r"^1:app:drop:"),
            CommandHandler("cancel", cancel_note),
        ],
        timeout=LEADER_NOTE_WAIT,
        on_timeout=note_timed_out,
        forget=dropping(KEPT),
    )
    # Whoever recorded a paper form answers a leader's question: Answer, then the typed answer.
    office_answer = durable_flow(
        "application_answer",
        entry_points=[CallbackQueryHandler(answer_press, pattern=r"^1:app:reply:")],
        states={ANSWER: [MessageHandler(typed, answer_typed)]},
        fallbacks=[
            CallbackQueryHandler(answer_cancelled, pattern=r"^1:app:unreply:"),
            CommandHandler("cancel", answer_cancelled),
        ],
        timeout=ANSWER_WAIT,
        on_timeout=answer_timed_out,
        forget=dropping(ANSWERING),
    )
    application.add_handler(form)
    application.add_handler(note)
    application.add_handler(office_answer)
    # The note's buttons once it has ended: Skip still skips until the outcome goes; the rest say so.
    application.add_handler(CallbackQueryHandler(skip_reason, pattern=r"^1:app:skip:"))
    application.add_handler(CallbackQueryHandler(drop_question, pattern=r"^1:app:drop:"))
    application.add_handler(CallbackQueryHandler(note_over, pattern=r"^1:app:(send|redo):"))
    application.add_handler(CallbackQueryHandler(cancel_decision, pattern=r"^1:app:unsure:"))
    application.add_handler(CallbackQueryHandler(answer_cancelled, pattern=r"^1:app:unreply:"))
    application.add_handler(ChatJoinRequestHandler(join_request))
    application.add_handler(MessageHandler(typed & FromApplicant(rt.services), applicant_text))
    application.add_handler(CallbackQueryHandler(applicant_conduct, pattern=r"^1:apj:(yes|no):"))
    own_contact = filters.CONTACT & filters.ChatType.PRIVATE & SharedOwnContact(rt.services)
    application.add_handler(MessageHandler(own_contact, shared_contact))
    application.add_handler(CommandHandler("pending", pending))
    application.add_handler(CallbackQueryHandler(pending_page, pattern=r"^1:apl:page:"))
    application.add_handler(CommandHandler("application", show_application))
    rt.delivery.on_join_answer(on_join_answer(rt))
    rt.ticker.add("applications", chasing_work(rt))
