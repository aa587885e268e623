"""Loading the consent register (policy 4.1) from the MIS export on the phone.

A CSV document is validated and previewed; nothing is saved until the sender taps Confirm.
"""

from __future__ import annotations

import itertools

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.register import PendingImport, RegisterService
from bot.register_import import ImportPreview, ParsedRegister
from bot.roles import Permission
from handlers.callbacks import pack
from handlers.common import Actor, Context, admit_press, answer, clip, h, reply, show, staff_only
from handlers.menu import MenuCommand
from handlers.runtime import Runtime, runtime

COMMANDS = (
    MenuCommand("import", "Load the consent register from a CSV file", Permission.IMPORT_REGISTER),
)

_numbers = itertools.count(1)


def service(context: Context) -> RegisterService:
    return RegisterService(runtime(context).services)


def import_report(parsed: ParsedRegister, preview: ImportPreview | None) -> str:
    if parsed.fatal:
        lines = ["❌ <b>This file cannot be loaded.</b> Nothing was changed."]
        lines += [f"• {h(clip(problem, 300))}" for problem in parsed.fatal[:10]]
    else:
        assert preview is not None
        lines = [
            "<b>Consent register: preview</b>",
            f"New pupils: {len(preview.new)}",
            f"Changed: {len(preview.changed)}",
            f"Unchanged: {len(preview.unchanged)}",
            f"Leaving (missing from this file, will be marked as left): {len(preview.leaving)}",
        ]
    if parsed.rejected:
        lines.append(f"\n<b>{len(parsed.rejected)} rows rejected</b> (fix them in the export):")
        for row in parsed.rejected[:15]:
            lines.append(f"• line {row.line_no}: {h(clip(row.reason, 150))}")
        if len(parsed.rejected) > 15:
            lines.append(f"…and {len(parsed.rejected) - 15} more.")
    if preview is not None and not preview.can_confirm:
        lines.append("\n❌ Rows of pupils already in the register were rejected; fix them before loading.")
    elif preview is not None:
        lines.append("\nNothing is saved until you tap <b>Confirm</b>.")
    return "\n".join(lines)


@staff_only(Permission.IMPORT_REGISTER)
async def import_help(update: Update, context: Context, actor: Actor) -> None:
    """/import: how to send the register."""
    purposes = runtime(context).services.config.consent.purposes
    columns = ", ".join(["pupil_id", "first_name", "last_name", "preferred_name", "class",
                         *(f"consent_{p}" for p in purposes), "form_date", "expires", "withdrawn"])
    await reply(
        update,
        "Send the consent register as a <b>CSV file</b> (UTF-8, comma or semicolon separated) with these "
        f"columns:\n<code>{h(columns)}</code>\nYou will see a preview before anything is saved.",
    )


@staff_only(Permission.IMPORT_REGISTER, action="register import")
async def register_file(update: Update, context: Context, actor: Actor) -> None:
    """A CSV document: validate it, preview the changes, and wait for Confirm."""
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    limit_kb = runtime(context).services.config.consent.max_file_kb
    name = (document.file_name or "").lower()
    if not (name.endswith(".csv") or name.endswith(".txt") or (document.mime_type or "").startswith("text/")):
        await reply(update, "That is not a CSV file. Export the register from the MIS as CSV and send it again.")
        return
    if (document.file_size or 0) > limit_kb * 1024:
        await reply(update, f"That file is too big: the limit is {limit_kb} KB. Nothing was changed.")
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    parsed, preview = service(context).prepare_import(actor.user_id, data)
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    if preview is not None and preview.can_confirm:
        number = next(_numbers)
        context.user_data.setdefault("imports", {})[number] = PendingImport(parsed, preview)
        buttons = ((("Confirm", pack("con", "imp", number)), ("Cancel", pack("con", "impno", number))),)
    await reply(update, import_report(parsed, preview), buttons)


async def confirm_import(update: Update, context: Context) -> None:
    """Confirm or Cancel under an import preview; only the person who sent the file can confirm it."""
    press = await admit_press(update, context, Permission.IMPORT_REGISTER, action="register import confirm")
    number = press.number if press else None
    if press is None or number is None:
        return
    actor, callback = press.actor, press.callback
    pending: PendingImport | None = context.user_data.get("imports", {}).pop(number, None)
    if pending is None:
        await answer(update, "This preview has expired or was already used. Send the file again.")
        return
    await answer(update)
    if callback.action == "impno":
        await show(update, "Import cancelled. The register is unchanged.")
        return
    try:
        done = service(context).commit_import(actor.user_id, pending)
    except ValueError:
        await show(update, "The register changed since the preview. Send the file again.")
        return
    total = len(runtime(context).services.consents.index().pupils)
    await show(
        update,
        f"✅ <b>Register loaded.</b> {len(done.new)} new, {len(done.changed)} changed, "
        f"{len(done.unchanged)} unchanged, {len(done.leaving)} marked as left. {total} pupils on roll.",
    )


def register(application: Application, rt: Runtime) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("import", import_help))
    application.add_handler(CallbackQueryHandler(confirm_import, pattern=r"^1:con:(imp|impno):"))
    application.add_handler(MessageHandler(private & filters.Document.ALL & ~filters.Document.IMAGE, register_file))
