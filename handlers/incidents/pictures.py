"""Pictures Telegram sends: what one is before it is downloaded, where a forwarded one came from,
and a photo sent outside any flow (offered as "Log misuse" or "Check consent").
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import (
    Message,
    MessageOrigin,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)

from bot.incidents import Origin, Screenshot
from bot.records.incidents import EvidenceKind
from bot.roles import Permission
from bot.shell.callbacks import pack
from bot.shell.ticker import runtime
from handlers.common import Context, admit, clip, reply

OFFERS_KEPT = 5  # photos sent outside a flow that can still be logged with "Log misuse"
OFFERS = "incident_photos"


@dataclass(frozen=True)
class Picture:
    """A photo or image file as Telegram described it, before it is downloaded."""

    file_id: str
    unique_id: str
    kind: EvidenceKind
    mime_type: str
    suffix: str
    size: int
    origin: Origin | None


_SUFFIXES = {"jpeg": ".jpg", "jpg": ".jpg", "png": ".png", "gif": ".gif", "webp": ".webp", "heic": ".heic"}


def picture_in(message: Message) -> Picture | None:
    """The largest size of a photo, or an image sent as a file; None for anything else."""
    if message.photo:
        biggest = message.photo[-1]
        return Picture(
            biggest.file_id,
            biggest.file_unique_id,
            EvidenceKind.PHOTO,
            "image/jpeg",
            ".jpg",
            biggest.file_size or 0,
            _origin(message),
        )
    document = message.document
    mime_type = (document.mime_type or "") if document else ""
    if document is None or not mime_type.startswith("image/"):
        return None
    suffix = _SUFFIXES.get(mime_type.split("/", 1)[1].split(";")[0].lower(), ".img")
    return Picture(
        document.file_id,
        document.file_unique_id,
        EvidenceKind.DOCUMENT,
        mime_type,
        suffix,
        document.file_size or 0,
        _origin(message),
    )


def _origin(message: Message) -> Origin | None:
    """Where a forwarded screenshot came from: kept as evidence (policy asks who posted it)."""
    origin: MessageOrigin | None = message.forward_origin
    if origin is None:
        return None
    if isinstance(origin, MessageOriginUser):
        user = origin.sender_user
        name = user.full_name + (f" (@{user.username})" if user.username else "")
    elif isinstance(origin, MessageOriginHiddenUser):
        name = origin.sender_user_name
    elif isinstance(origin, MessageOriginChat):
        name = origin.sender_chat.effective_name or ""
    elif isinstance(origin, MessageOriginChannel):
        name = origin.chat.effective_name or ""
    else:
        name = ""
    return Origin(str(origin.type), clip(name, 200), origin.date)  # a plain string: flow state is saved as JSON


async def fetch_screenshot(context: Context, picture: Picture, draft_id: str) -> Screenshot:
    """Download the picture and save it at once as a file of the draft (the draft keeps where it is)."""
    file = await context.bot.get_file(picture.file_id)
    data = bytes(await file.download_as_bytearray())
    return runtime(context).services.incident_log.take_screenshot(
        draft_id, data, picture.file_id, picture.unique_id, picture.kind, picture.mime_type, picture.suffix, picture.origin
    )


async def offer_photo(update: Update, context: Context) -> None:
    """A screenshot with no flow running: offer to log it as misuse, or to check consent for it."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="photo received")
    message = update.effective_message
    if actor is None or message is None or context.user_data is None:
        return
    picture = picture_in(message)
    if picture is None:
        return
    offers: dict[int, Picture] = context.user_data.setdefault(OFFERS, {})
    offers[message.message_id] = picture
    for old in sorted(offers)[:-OFFERS_KEPT]:
        offers.pop(old, None)
    context.user_data["last_photo"] = picture.file_id  # the consent feature's "Check consent" reads it
    await reply(
        update,
        "What would you like to do with this picture?",
        ((("Log misuse", pack("log", "with", message.message_id)), ("Check consent", pack("con", "photo"))),),
    )
