"""The consent handlers, in the order PTB tries them: /consent and its buttons, the /check
conversation, the photo report's buttons, /checkpost, /expiring, a photo with a caption.
"""

from __future__ import annotations

from datetime import timedelta

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.photo_check import PhotoCheck, PhotoRow
from bot.photos.boxes import Box
from bot.records.consent import Pupil
from bot.roles import Permission
from bot.shell.ticker import Runtime
from handlers.consent.card import consent, pick_none, pick_pupil
from handlers.consent.check import NAMES, check_cancel, check_names, check_photo_offer, check_start, check_timeout
from handlers.consent.draft import checkpost
from handlers.consent.expiring import expiring, expiring_page, expiry_reminder_work
from handlers.consent.photo import choose_destination, confirm_name, photo_with_caption
from handlers.consent.safety import SafetyView, blur_press
from handlers.flows import dropping, durable_flow
from handlers.menu import MenuCommand

COMMANDS = (
    MenuCommand("consent", "Photo consent for a pupil: /consent NAME", Permission.CHECK_CONSENT),
    MenuCommand("check", "Check every pupil in a photo before uploading", Permission.CHECK_CONSENT),
    MenuCommand("checkpost", "Check a draft post: /checkpost TEXT", Permission.CHECK_POST),
    MenuCommand("expiring", "Consents ending in the next 30 days", Permission.VIEW_EXPIRING),
)

CHECK_TIMEOUT = timedelta(minutes=10)
# The records a person's open checks keep between messages (and across a restart, bot.shell.persistence).
FLOW_STATE = (PhotoCheck, PhotoRow, Pupil, SafetyView, Box)


def register(application: Application, rt: Runtime) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler(["consent", "perm"], consent))
    application.add_handler(CallbackQueryHandler(pick_pupil, pattern=r"^1:con:pick:"))
    application.add_handler(CallbackQueryHandler(pick_none, pattern=r"^1:con:none:"))
    check_flow = durable_flow(
        "consent_check",
        entry_points=[
            CommandHandler("check", check_start),
            CallbackQueryHandler(check_photo_offer, pattern=r"^1:con:photo$"),
        ],
        states={NAMES: [MessageHandler(filters.TEXT & ~filters.COMMAND & private, check_names)]},
        fallbacks=[CommandHandler("cancel", check_cancel)],
        timeout=CHECK_TIMEOUT,
        on_timeout=check_timeout,
        forget=dropping("check_photo"),
    )
    application.add_handler(check_flow)
    application.add_handler(CallbackQueryHandler(choose_destination, pattern=r"^1:con:dest:"))
    application.add_handler(CallbackQueryHandler(confirm_name, pattern=r"^1:con:(fix|fixno):"))
    application.add_handler(CommandHandler("checkpost", checkpost))
    application.add_handler(CommandHandler("expiring", expiring))
    application.add_handler(CallbackQueryHandler(expiring_page, pattern=r"^1:exp:page:"))
    # A photo with the pupils in its caption, compressed or as the original file (photo safety too).
    captioned = (filters.PHOTO | filters.Document.IMAGE) & filters.CAPTION & ~filters.FORWARDED
    application.add_handler(MessageHandler(private & captioned, photo_with_caption))
    application.add_handler(CallbackQueryHandler(blur_press, pattern=r"^1:ph:"))
    rt.ticker.add("consent expiry", expiry_reminder_work(rt))
