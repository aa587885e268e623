"""Loading the consent register (policy 4.1) from the MIS export on the phone.

A CSV document is validated and previewed, naming who is new, changed and leaving,
withdrawn consent first; nothing is saved until the sender taps Confirm, and removing
more than a fifth of the register takes a second, explicit tap. Consent an import takes
away is announced to the page team, who may have photos of those pupils already posted.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.clock import show_date
from bot.records.outbox import Buttons
from bot.register import MassRemovalRefused, PendingImport, RegisterChanged, RegisterService, WithdrawalNotice
from bot.register_import import ImportPreview, ParsedRegister, narrowed_line, preview_sections
from bot.roles import Permission
from bot.services import Services
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, runtime
from bot.wording import plural, verb
from handlers.common import MAX_TEXT, Actor, Context, admit_numbered, answer, clip, h, paginate, reply, show, staff_only
from handlers.menu import MenuCommand

COMMANDS = (MenuCommand("import", "Load the consent register from a CSV file", Permission.IMPORT_REGISTER),)

LINE_CHARS = 300  # one pupil's line, before escaping: long names never break a message
_numbers = itertools.count(1)
Post = Callable[[str, int, str], object]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    """An import preview waiting for Confirm, and the messages its buttons are on (taken away once it is over)."""

    pending: PendingImport
    message_ids: tuple[int, ...]


def service(context: Context) -> RegisterService:
    return runtime(context).services.register


def split_message(lines: Sequence[str], reserve: int = 0) -> list[str]:
    """Lines joined into as few messages as Telegram's 4096 characters allow, split between lines."""
    per_page, chars = max(len(lines), 1), MAX_TEXT - reserve
    count = paginate(lines, 0, per_page, chars).count
    return ["\n".join(paginate(lines, number, per_page, chars).lines) for number in range(count)]


def import_report(parsed: ParsedRegister, preview: ImportPreview | None, label: Callable[[str], str]) -> list[str]:
    """The validation report and preview, as one or more messages (names only ever go to a private chat)."""
    if parsed.fatal:
        lines = ["❌ <b>This file cannot be loaded.</b> Nothing was changed."]
        lines += [f"• {h(clip(problem, LINE_CHARS))}" for problem in parsed.fatal[:10]]
    else:
        assert preview is not None
        lines = [
            "<b>Consent register: preview</b>",
            f"New pupils: {len(preview.new):,}",
            f"Changed: {len(preview.changed):,}",
            f"Unchanged: {len(preview.unchanged):,}",
            f"Leaving (missing from this file, will be marked as left): {len(preview.leaving):,}",
        ]
        for section in preview_sections(preview, label):
            warn = "⚠️ " if section.title.startswith(("Consent withdrawn", "Withdrawal removed")) else ""
            lines.append(f"\n{warn}<b>{h(section.title)}</b>")
            lines += [f"• {h(clip(line, LINE_CHARS))}" for line in section.lines]
            if section.more:
                lines.append(f"…and {section.more:,} more.")
    if parsed.rejected:
        rejected = len(parsed.rejected)
        lines.append(f"\n<b>{plural(rejected, 'row')} rejected</b> (fix {_them(rejected)} in the export):")
        for row in parsed.rejected[:15]:
            who = f" (pupil {h(clip(row.pupil_id, 30))})" if row.pupil_id else ""
            lines.append(f"• line {row.line_no}{who}: {h(clip(row.reason, LINE_CHARS))}")
        if len(parsed.rejected) > 15:
            lines.append(f"…and {len(parsed.rejected) - 15:,} more.")
    if preview is not None and not preview.can_confirm:
        lines.append("\n❌ Rows of pupils already in the register were rejected; fix them before loading.")
    elif preview is not None and preview.mass_removal:
        lines.append(
            f"\n⚠️ <b>{len(preview.leaving):,} of the {plural(preview.on_roll, 'pupil')} on roll would be marked as left</b>, "
            "more than a fifth of the register. If this file is not the whole register (one class, a filtered "
            "export, the wrong file), tap Cancel."
        )
    elif preview is not None:
        lines.append("\nNothing is saved until you tap <b>Confirm</b>.")
    return split_message(lines)


def _them(count: int) -> str:
    return "it" if count == 1 else "them"


def confirm_buttons(preview: ImportPreview, number: int) -> Buttons:
    """Confirm and Cancel; when most of the register would leave, the Confirm button says so."""
    leaving = len(preview.leaving)
    label = f"⚠️ Confirm: {plural(leaving, 'pupil')} {verb(leaving, 'leaves', 'leave')}" if preview.mass_removal else "Confirm"
    return (((label, pack("con", "imp", number)), ("Cancel", pack("con", "impno", number))),)


def mass_removal_question(preview: ImportPreview, number: int) -> tuple[str, Buttons]:
    """The second, explicit question before most of the register is marked as left."""
    leaving = len(preview.leaving)
    text = (
        f"⚠️ <b>Remove {leaving:,} of the {plural(preview.on_roll, 'pupil')} on roll?</b>\n"
        "They will be marked as left, and every consent check will answer ❌ for them until a file "
        f"lists them again. Tap <b>Yes, remove {plural(leaving, 'pupil')}</b> only if they really have left."
    )
    return text, (
        ((f"Yes, remove {plural(leaving, 'pupil')}", pack("con", "impall", number)),),
        (("Cancel", pack("con", "impno", number)),),
    )


def withdrawal_messages(services: Services, notice: WithdrawalNotice, by: str) -> list[str]:
    """The page team's message: whose consent an import took away, for where, and what to check (policy 4.1)."""
    label = services.config.consent.label
    day = show_date(services.today())
    lost = {purpose for entry in notice.narrowed for purpose in entry.purposes}
    places = [label(purpose) for purpose in services.config.consent.purposes if purpose in lost]
    count = len(notice.narrowed)
    header = (
        "⚠️ <b>Photo consent withdrawn or narrowed</b>\n"
        f"The consent register loaded {h(by)} on {day} takes consent away from {plural(count, 'pupil')}:"
    )
    footer = (
        f"Policy 4.1: check where {'these pupils' if count != 1 else 'this pupil'} may already appear "
        f"({h(', '.join(places))}) and take down any photo of them."
    )
    lines = [f"• {h(clip(narrowed_line(entry, label), LINE_CHARS))}" for entry in notice.narrowed]
    parts = split_message(lines, reserve=len(header) + len(footer) + 40)
    return [
        f"{header}{f' (part {n} of {len(parts)})' if len(parts) > 1 else ''}\n{part}\n\n{footer}"
        for n, part in enumerate(parts, start=1)
    ]


def send_withdrawal_notice(post: Post, services: Services, notice: WithdrawalNotice, by: str) -> None:
    """One message (in parts if long) to each recipient's private chat, through the durable outbox."""
    parts = withdrawal_messages(services, notice, by)
    for person in notice.recipients:
        for number, text in enumerate(parts, start=1):
            post(f"consent-withdrawn:{notice.reference}:{person}:{number}", person, text)


@staff_only(Permission.IMPORT_REGISTER)
async def import_help(update: Update, context: Context, actor: Actor) -> None:
    """/import: how to send the register."""
    purposes = runtime(context).services.config.consent.purposes
    columns = ", ".join(
        [
            "pupil_id",
            "first_name",
            "last_name",
            "preferred_name",
            "class",
            *(f"consent_{p}" for p in purposes),
            "form_date",
            "expires",
            "withdrawn",
        ]
    )
    await reply(
        update,
        "Send the consent register as a <b>CSV file</b> (UTF-8, comma or semicolon separated) with these "
        f"columns:\n<code>{h(columns)}</code>\nDates as 31/07/2026 or 2026-07-31. "
        "You will see a preview before anything is saved.",
    )


@staff_only(Permission.IMPORT_REGISTER, action="register import")
async def register_file(update: Update, context: Context, actor: Actor) -> None:
    """A CSV document: validate it, preview the changes, and wait for Confirm."""
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    services = runtime(context).services
    limit_kb = services.config.consent.max_file_kb
    name = (document.file_name or "").lower()
    if not (name.endswith(".csv") or name.endswith(".txt") or (document.mime_type or "").startswith("text/")):
        await reply(update, "That is not a CSV file. Export the register from the MIS as CSV and send it again.")
        return
    if (document.file_size or 0) > limit_kb * 1024:
        await reply(update, f"That file is too big: the limit is {limit_kb} KB. Nothing was changed.")
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    parsed, preview = service(context).prepare_import(actor.user_id, data)
    await retire_imports(update, context)  # a new file replaces a preview still waiting: one Confirm in the chat
    buttons: Buttons = ()
    number = next(_numbers)
    if preview is not None and preview.can_confirm:
        buttons = confirm_buttons(preview, number)
    *parts, last = import_report(parsed, preview, services.config.consent.label)
    for part in parts:
        await reply(update, part)
    shown = await reply(update, last, buttons)
    if buttons and preview is not None:
        context.state.setdefault("imports", {})[number] = Waiting(PendingImport(parsed, preview), (shown.message_id,))


async def retire_imports(update: Update, context: Context, keep: int = 0) -> int:
    """Drop this person's import previews still waiting for Confirm and take their buttons away (all but
    the message `keep`, which the caller shows anew); how many there were."""
    imports: dict[int, Waiting] = context.state.pop("imports", {})
    chat = update.effective_chat
    for waiting in imports.values():
        for message_id in waiting.message_ids:
            if chat is None or message_id == keep:
                continue
            try:
                await context.bot.edit_message_reply_markup(chat.id, message_id, reply_markup=None)
            except TelegramError as error:  # deleted meanwhile, or already without buttons
                log.info("an old import preview's buttons could not be removed (%s)", type(error).__name__)
    return len(imports)


async def cancel_import(update: Update, context: Context) -> bool:
    """/cancel while an import preview waits for Confirm: cancelled, its buttons gone, the register unchanged."""
    if not await retire_imports(update, context):
        return False
    await reply(update, "Import cancelled. The register is unchanged.")
    return True


async def confirm_import(update: Update, context: Context) -> None:
    """Confirm, Yes-remove or Cancel under an import preview; only the person who sent the file can confirm it."""
    press = await admit_numbered(update, context, Permission.IMPORT_REGISTER, action="register import confirm")
    if press is None:
        return
    actor, callback, number = press.actor, press.callback, press.number
    imports: dict[int, Waiting] = context.state.get("imports", {})
    waiting = imports.get(number)
    if waiting is None:
        await answer(update, "This preview has expired or was already used. Send the file again.")
        return
    pending = waiting.pending
    await answer(update)
    query = update.callback_query
    tapped = query.message.message_id if query and query.message else 0
    if callback.action == "imp" and pending.preview.mass_removal:
        asked = await reply(update, *mass_removal_question(pending.preview, number))
        imports[number] = Waiting(pending, (*waiting.message_ids, asked.message_id))
        return
    await retire_imports(update, context, keep=tapped)  # the tapped message shows the outcome; the others lose their buttons
    if callback.action == "impno":
        await show(update, "Import cancelled. The register is unchanged.")
        return
    rt = runtime(context)
    try:
        done = service(context).commit_import(actor.user_id, pending, allow_mass_removal=callback.action == "impall")
    except (RegisterChanged, MassRemovalRefused):
        await show(update, "The register changed since the preview. Send the file again.")
        return
    notice = service(context).withdrawal_notice(actor.user_id, done)
    if notice is not None:
        send_withdrawal_notice(rt.delivery.post, rt.services, notice, f"by {actor.name}")
    total = len(rt.services.consents.index().pupils)
    told = f"\n⚠️ Consent withdrawn or narrowed for {len(done.narrowed):,}: the page team has been told." if notice else ""
    await show(
        update,
        f"✅ <b>Register loaded.</b> {len(done.new):,} new, {len(done.changed):,} changed, "
        f"{len(done.unchanged):,} unchanged, {len(done.leaving):,} marked as left. {plural(total, 'pupil')} on roll.{told}",
    )


def register(application: Application, rt: Runtime) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("import", import_help))
    application.add_handler(CallbackQueryHandler(confirm_import, pattern=r"^1:con:(imp|impno|impall):"))
    application.add_handler(MessageHandler(private & filters.Document.ALL & ~filters.Document.IMAGE, register_file))
