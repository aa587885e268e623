"""Photo safety on the phone (policy 3.4, 4.4, 8.2): what a photo itself gives away, and a one-tap blur.

A photo with the pupils in its caption gets, besides the consent check, a look at the picture:
its location and camera details (a photo sent as a file gets a clean copy back; a compressed one
a tip that the gallery's original still has them), its faces counted against the pupils named,
and any pupil's name readable in it, on a preview with each face and name boxed and numbered.
"Blur N" and "Blur all not cleared" send back a copy with those regions hidden.

The pixels are read in the photo worker (bot/photos/worker.py), in a task of its own, so
everyone else's messages are answered meanwhile; settle() waits for these tasks (BACKGROUND).
No photo is kept: a button fetches the photo from Telegram again by its file id.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import Any

from telegram import InputFile, Message, Update
from telegram.error import TelegramError

from bot.photo_check import PhotoCheck
from bot.photos.boxes import Box
from bot.photos.picture import PhotoRejected, size_problem
from bot.photos.safety import PhotoSafety, SafetyReport
from bot.roles import Permission
from bot.shell.callbacks import pack
from bot.shell.delivery import keyboard
from bot.shell.ticker import runtime
from handlers.common import Context, admit_numbered, answer, h, reply
from handlers.consent.messages import photo_report
from handlers.consent.shared import HELD, KEEP_OPEN, remember

log = logging.getLogger(__name__)

BACKGROUND = "background_tasks"  # bot_data: tasks settle() waits for (emulator/settle.py)
SLOTS = "photo_slots"  # bot_data: how many photos may be in the bot's memory at once
AT_ONCE = 2  # one in the worker, one ready for it: ten 15 MB originals at once must not take the bot past its 150 MB
BLURRING = "photo_blurs"  # bot_data: the copies being made now, so a double tap (or thirty) makes one
CHECKS = "photo_safety"
MAX_BUTTONS = 20
PER_ROW = 5
CAPTION = 1024
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
TEXT = 4096
NOT_LOOKED_AT = (
    "⚠️ I could not look at the picture itself (Telegram's copy of it would not open), so its faces, any names "
    "written in it and its location were not checked. The consent check of the names listed stands."
)
_KINDS = {
    "pupil_full_name": "a pupil's full name",
    "pupil_similar_name": "a name very like a pupil's",
    "former_pupil_name": "a former pupil's name",
    "pupil_first_name": "a pupil's first name",
    "profanity": "offensive language",
    "phone": "a phone number",
    "email": "an e-mail address",
    "postcode": "a postcode",
}


@dataclass(frozen=True)
class SafetyView:
    """What a preview's buttons need: the check's reference, the photo's file id and its numbered regions."""

    reference: str
    file_id: str
    as_file: bool
    regions: tuple[Box, ...]
    faces: int
    blurred: tuple[int, ...] = ()


def photo_safety(context: Context) -> PhotoSafety:
    services = runtime(context).services
    return PhotoSafety(services.consents, services.audit, services.register.draft_policy)


def in_background(context: Context, work: Coroutine[Any, Any, None], update: Update) -> None:
    """Run `work` beside the update queue: a photo takes a second or two, and nobody else should wait for it."""
    task = context.application.create_task(work, update=update)
    tasks: set[asyncio.Task[None]] = context.bot_data.setdefault(BACKGROUND, set())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def start_safety_check(
    update: Update, context: Context, file_id: str, *, named: int, as_file: bool, size: int | None, question: Message
) -> None:
    """Look at the photo itself (in the background); a file too big to fetch is refused at once.

    `question` is the consent check's reply to the photo: a compressed photo that cannot be looked at
    says so there, not in a message of its own."""
    problem = size_problem(size) if size else None
    if problem:
        await reply(update, h(problem))
        return
    in_background(context, _check(update, context, file_id, named, as_file, question), update)


async def _check(update: Update, context: Context, file_id: str, named: int, as_file: bool, question: Message) -> None:
    user = update.effective_user
    assert user is not None
    try:
        async with _slot(context):  # fetched only when its turn comes: the photos queued wait as file ids
            data = await _download(context, file_id)
            report = await photo_safety(context).check(user.id, data, named=named, as_file=as_file)
    except PhotoRejected as refused:
        if as_file:
            await reply(update, h(str(refused)) + "\nNothing was kept.")
        else:  # Telegram makes every compressed photo a plain JPEG: this one would not open, or its check stalled
            await _not_looked_at(update, context, file_id, question)
        return
    await _hold_upload(context, file_id, report, question)
    chat = update.effective_chat
    assert chat is not None
    lines = _summary_lines(report, as_file)
    caption = _one_caption(lines, report) if report.regions else None
    if caption is None:  # no preview, or too much to say under one: the summary goes as a text of its own
        await reply(update, _whole_lines(lines, TEXT))
    if report.regions:
        view = SafetyView(report.reference, file_id, as_file, report.regions, len(report.faces))
        number = remember(context, CHECKS, view)
        await chat.send_photo(
            report.preview, caption=caption or _preview_caption(report), reply_markup=keyboard(_buttons(view, number))
        )
    if report.clean is not None:  # a file of its own: the copy the admin uploads
        await chat.send_document(
            InputFile(report.clean, filename=f"photo-clean.{report.clean_ext}"),
            caption="Clean copy: no location, camera or date details, turned the right way up. Upload this one.",
        )


async def _hold_upload(context: Context, file_id: str, report: SafetyReport, question: Message) -> None:
    """What the photo shows against uploading it goes into the consent verdict: kept for the destination tap
    still to come, and put into a verdict already shown (the consent question, edited into it)."""
    held = report.against_upload()
    if held is None:
        return
    kept = context.state.setdefault(HELD, {})
    kept[file_id] = held
    for old in list(kept)[:-KEEP_OPEN]:  # the photos whose questions can still be answered
        del kept[old]
    reports: dict[int, PhotoCheck] = context.state.get("photo_reports", {})
    for number, check in reports.items():
        if check.photo_file_id == file_id and check.ok_to_upload:
            text, buttons = photo_report(runtime(context), check, number, held)
            with contextlib.suppress(TelegramError):  # deleted, or the network: the preview below says it too
                await question.edit_text(text, reply_markup=keyboard(buttons))


async def _not_looked_at(update: Update, context: Context, file_id: str, question: Message) -> None:
    """Add to the consent check's reply that the picture itself was not looked at; a new message only if
    its destination was already chosen (that reply is now the consent report, which must stay)."""
    waiting = any(pending[1] == file_id for pending in context.state.get("photo_checks", {}).values())
    if question.reply_markup is not None and not waiting:
        await reply(update, NOT_LOOKED_AT)
        return
    try:
        await question.edit_text(f"{question.text_html}\n\n{NOT_LOOKED_AT}", reply_markup=question.reply_markup)
    except TelegramError as error:  # the message was deleted meanwhile: say it anyway
        log.info("the photo check's reply could not be edited (%s)", type(error).__name__)
        await reply(update, NOT_LOOKED_AT)


async def blur_press(update: Update, context: Context) -> None:
    """ "Blur N" or "Blur all not cleared" under a preview: a copy with those regions hidden (and those chosen before)."""
    press = await admit_numbered(update, context, Permission.CHECK_CONSENT, action="photo blur")
    if press is None:
        return
    views = context.state.get(CHECKS, {})
    view: SafetyView | None = views.get(press.number)
    everything = tuple(range(1, len(view.regions) + 1)) if view else ()
    if press.callback.action == "all" and len(press.callback.args) == 1:
        chosen = everything
    else:
        region = press.callback.int_arg(1) if len(press.callback.args) == 2 else None
        chosen = (region,) if region is not None else ()
    if view is None or not chosen or not set(chosen) <= set(everything):
        await answer(update, "This preview has expired or changed. Send the photo again.")
        return
    before, view = view, replace(view, blurred=tuple(sorted(set(view.blurred) | set(chosen))))
    making: set[tuple[int, str, tuple[int, ...]]] = context.bot_data.setdefault(BLURRING, set())
    copy = (press.actor.user_id, view.reference, view.blurred)
    if copy in making:  # the same copy is on its way: another tap adds nothing
        await answer(update, "Blurring…")
        return
    views[press.number] = view
    await answer(update, "Blurring…")
    query = update.callback_query
    # A second tap on a number already blurred sends the copy again and leaves the keyboard as it is.
    if view != before and query is not None and isinstance(query.message, Message) and query.message.caption:
        # The caption goes again with the new keyboard: PTB sends its default parse_mode with an edit of the
        # keyboard alone, which the Bot API refuses for editMessageReplyMarkup.
        await query.message.edit_caption(query.message.caption_html, reply_markup=keyboard(_buttons(view, press.number)))
    making.add(copy)
    in_background(context, _blur(update, context, view, press.actor.user_id), update)


async def _blur(update: Update, context: Context, view: SafetyView, actor_id: int) -> None:
    try:
        await _send_blurred(update, context, view, actor_id)
    finally:  # taps for this copy count again once it is sent (or refused)
        context.bot_data.get(BLURRING, set()).discard((actor_id, view.reference, view.blurred))


async def _send_blurred(update: Update, context: Context, view: SafetyView, actor_id: int) -> None:
    try:
        async with _slot(context):
            data = await _download(context, view.file_id)
            copy = await photo_safety(context).blur(actor_id, data, view.reference, view.regions, view.blurred)
    except PhotoRejected as refused:
        await reply(update, h(str(refused)))
        return
    caption = f"{_numbers(view.blurred)} blurred, no metadata: ready to upload."
    chat = update.effective_chat
    assert chat is not None
    if view.as_file:
        await chat.send_document(InputFile(copy, filename="photo-blurred.jpg"), caption=caption)
    else:
        await chat.send_photo(copy, caption=caption)


def _slot(context: Context) -> asyncio.Semaphore:
    slots: asyncio.Semaphore = context.bot_data.setdefault(SLOTS, asyncio.Semaphore(AT_ONCE))
    return slots


async def _download(context: Context, file_id: str) -> bytes:
    file = await context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


def _one_caption(lines: list[str], report: SafetyReport) -> str | None:
    """The whole summary and the preview's key as one caption (one message for one photo), or None when
    they do not fit in Telegram's 1,024 characters."""
    caption = "\n".join(lines) + "\n\n" + _preview_caption(report)
    return caption if _shown(caption) <= CAPTION else None


def _shown(html_text: str) -> int:
    """How long Telegram measures our HTML: the text without tags, in UTF-16 code units."""
    return len(html.unescape(_TAG.sub("", html_text)).encode("utf-16-le")) // 2


def _summary_lines(report: SafetyReport, as_file: bool) -> list[str]:
    """The whole finding in plain words: location and camera, faces against names, names in the picture."""
    meta = report.metadata
    lines = ["<b>Photo safety</b>"]
    if meta.location:
        lines.append(
            f"📍 This photo carries its location: {h(meta.location)}. Anyone who saves it can see where it was taken (8.2)."
        )
    details = [
        f"{label}: {h(value)}"
        for label, value in (
            ("camera", meta.camera),
            ("owner", meta.owner),
            ("serial number", meta.serial),
            ("taken", meta.taken),
        )
        if value
    ]
    if details:
        lines.append("📷 It also says " + "; ".join(details) + ".")
    if meta.other:
        lines.append("It carries " + ", ".join(h(item) for item in meta.other) + " too.")
    if meta.found:
        lines.append("A clean copy without any of this follows.")
    elif as_file:
        lines.append("No location or camera details in this file.")
    else:
        lines.append(
            "Tip: Telegram removed this photo's location and camera details when it was sent compressed, but the original "
            "in your phone's gallery still has them. Send the original as a file to check it and get a clean copy."
        )
    lines.append(_faces_line(report))
    first_text = len(report.faces) + 1
    for number, found in enumerate(report.text, start=first_text):
        mark = "⛔" if found.finding.severity == "block" else "⚠️"
        what = _KINDS.get(found.finding.kind, "something to check")
        verb = "must be blurred or cropped out" if found.finding.severity == "block" else "check it is meant to be seen"
        where = found.box.place(*report.size)
        lines.append(
            f"{mark} Box {number} ({where}): {what}, ‹{h(found.finding.excerpt)}›, can be read in the photo "
            f"({found.finding.clause}): {verb}."
        )
    return lines


def _whole_lines(lines: list[str], limit: int) -> str:
    """As many whole lines as fit (a line cut short could end inside an HTML tag or entity, which Telegram refuses)."""
    room = limit - 100  # for the closing line, and emoji counting double in Telegram's measure
    kept: list[str] = []
    for at, line in enumerate(lines):
        if sum(len(part) + 1 for part in kept) + len(line) > room:
            return "\n".join([*kept, f"… and {len(lines) - at} more (see the numbers on the preview)."])
        kept.append(line)
    return "\n".join(kept)


def _faces_line(report: SafetyReport) -> str:
    faces, named = len(report.faces), report.named
    seen = f"I can see {_count(faces, 'face', 'faces')}; {_count(named, 'pupil is', 'pupils are')} named."
    if faces > named:
        return f"{seen} Every pupil in the photo must be checked (4.4)."
    return seen


def _preview_caption(report: SafetyReport) -> str:
    faces = len(report.faces)
    parts = []
    if faces:
        parts.append(f"faces 1–{faces} (yellow)" if faces > 1 else "face 1 (yellow)")
    if report.text:
        first, last = faces + 1, faces + len(report.text)
        parts.append(f"text {first}–{last} (red)" if last > first else f"text {first} (red)")
    caption = " and ".join(parts).capitalize() + ". Tap a number to blur it; you get a copy to upload."
    if len(report.regions) > MAX_BUTTONS:
        caption += f" Only the first {MAX_BUTTONS} have buttons; Blur all hides every one."
    return caption[:CAPTION]


def _buttons(view: SafetyView, number: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    numbered = [
        (f"✓ {region}" if region in view.blurred else f"Blur {region}", pack("ph", "blur", number, region))
        for region in range(1, min(len(view.regions), MAX_BUTTONS) + 1)
    ]
    rows = [tuple(numbered[at : at + PER_ROW]) for at in range(0, len(numbered), PER_ROW)]
    rows.append((("Blur all not cleared", pack("ph", "all", number)),))
    return tuple(rows)


def _count(number: int, one: str, many: str) -> str:
    return f"1 {one}" if number == 1 else f"{number} {many}"


def _numbers(numbers: tuple[int, ...]) -> str:
    if len(numbers) == 1:
        return f"Box {numbers[0]}"
    return "Boxes " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
