"""Photo consent (policy 4.1, 4.2, 4.4) and the draft-post check (3.4, 5.3, 8.2) on the phone.

/consent NAME gives the verdict card for an exact name, and asks "Did you mean ...?"
with buttons for anything fuzzier; a photo with a caption listing pupils (or /check and
a list of names) gives a verdict per pupil for a chosen destination, each unconfirmed
name resolved from buttons under the report; /checkpost checks a draft.
"""

from __future__ import annotations

import functools
import hashlib
import re
import warnings
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.clock import local_day, local_moment, show_date
from bot.consent import ConsentVerdict
from bot.draft_check import DraftReport
from bot.names import PupilIndex, Resolution, fold
from bot.photo_check import MAX_PHOTO_NAMES, PhotoCheck, PhotoChecks, PhotoRow
from bot.records.consent import Pupil
from bot.register import RegisterService
from bot.roles import Permission, Role
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime, TimedWork, runtime
from handlers.common import (
    Actor,
    Context,
    admit,
    admit_press,
    answer,
    clip,
    command_args,
    h,
    paged,
    reply,
    show,
    staff_only,
)
from handlers.menu import MenuCommand
from handlers.paging import page_of

COMMANDS = (
    MenuCommand("consent", "Photo consent for a pupil: /consent NAME", Permission.CHECK_CONSENT),
    MenuCommand("check", "Check every pupil in a photo before uploading", Permission.CHECK_CONSENT),
    MenuCommand("checkpost", "Check a draft post: /checkpost TEXT", Permission.CHECK_POST),
    MenuCommand("expiring", "Consents ending in the next 30 days", Permission.VIEW_EXPIRING),
)

MAX_QUERY = 100
MAX_NAMES_TEXT = 2000
NAMES = 1  # /check conversation: waiting for the list of names
_COMMAND = re.compile(r"^/\w+(?:@\w+)?")
CHECK_TIMEOUT = timedelta(minutes=10)
REMINDER_TIME = time(9, 0)
NEXT_NUMBER = "consent_next_number"


KEEP_OPEN = 20  # questions and reports per person whose buttons still work
# The records a person's open checks keep between messages (and across a restart, bot.shell.persistence).
FLOW_STATE = (PhotoCheck, PhotoRow, Pupil)


def service(context: Context) -> RegisterService:
    return runtime(context).services.register


def photo_checks(context: Context) -> PhotoChecks:
    return runtime(context).services.photo_checks


def remember(context: Context, store: str, value: object) -> int:
    """Keep what a question's buttons need under a new number, dropping the oldest beyond KEEP_OPEN.

    The numbers go on from the person's kept state, so a button from before a restart never
    finds a newer question under its number.
    """
    kept = context.state.setdefault(store, {})
    number = context.state.get(NEXT_NUMBER, 1)
    context.state[NEXT_NUMBER] = number + 1
    kept[number] = value
    for old in list(kept)[:-KEEP_OPEN]:
        del kept[old]
    return number


def pupil_token(pupil: Pupil) -> str:
    """A short stand-in for a pupil in callback data (ids may hold any character).

    It covers the names as well as the id: a button offering "Amelia Smith" must not
    clear whoever holds her id after the next import (schools' exports reuse ids).
    """
    names = "\x00".join((pupil.pupil_id, pupil.first_name, pupil.preferred_name, pupil.last_name))
    return hashlib.sha256(names.encode()).hexdigest()[:12]


def pupil_by_token(rt: Runtime, token: str) -> Pupil | None:
    return _tokens(rt.services.consents.index()).get(token)


@functools.lru_cache(maxsize=2)
def _tokens(index: PupilIndex) -> dict[str, Pupil]:
    """Token → pupil for the current register (the index is rebuilt, and so this, on each import)."""
    return {pupil_token(pupil): pupil for pupil in index.pupils}


# ---- rendering -------------------------------------------------------------------------------
def purpose_label(rt: Runtime, purpose: str) -> str:
    return h(rt.services.config.consent.label(purpose))


def pupil_title(pupil: Pupil) -> str:
    also = f" ({h(pupil.first_name)})" if pupil.preferred_name and fold(pupil.preferred_name) != fold(pupil.first_name) else ""
    form = f" — {h(pupil.class_name)}" if pupil.class_name else ""
    return f"<b>{h(pupil.full_name)}</b>{also}{form}"


def verdict_card(rt: Runtime, result: ConsentVerdict) -> str:
    assert result.pupil is not None
    lines = [pupil_title(result.pupil)]
    for item in result.purposes:
        mark = "✅" if item.allowed else "❌"
        reason = f" — {h(item.reason)}" if not item.allowed else ""
        lines.append(f"{mark} {purpose_label(rt, item.purpose)}{reason}")
    lines.append("")
    lines.append("Upload only where ✅ (policy 4.1). A ❌ means the pupil must not appear.")
    return "\n".join(lines)


def no_record_card(rt: Runtime, query: str) -> str:
    lines = [f"<b>No consent record</b> for “{h(clip(query, 60))}”: treat as NO (policy 4.1)."]
    lines += [f"❌ {purpose_label(rt, p)} — not found" for p in rt.services.config.consent.purposes]
    return "\n".join(lines)


def pupil_label(pupil: Pupil) -> str:
    """A pupil on a button: the name staff know and the class (buttons are plain text)."""
    return clip(f"{pupil.full_name} ({pupil.class_name})" if pupil.class_name else pupil.full_name, 60)


def pupil_named(pupil: Pupil) -> str:
    return f"<b>{h(clip(pupil.full_name, 60))}</b>" + (f" ({h(clip(pupil.class_name, 20))})" if pupil.class_name else "")


def did_you_mean(typed: str, candidates: Sequence[Pupil]) -> str:
    """The question before any verdict on a near name: the typed name, then the likeliest pupil."""
    others = ", or another pupil below" if len(candidates) > 1 else ""
    return f"You typed “{h(clip(typed, 60))}”.\nDid you mean {pupil_named(candidates[0])}{others}?"


def ask_pupil(number: int, typed: str, resolution: Resolution) -> tuple[str, tuple[tuple[tuple[str, str], ...], ...]]:
    candidates = [m.pupil for m in resolution.matches]
    text = did_you_mean(typed, candidates) + "\nNo answer until you confirm: tap the pupil you meant, or None of these."
    if resolution.more:
        text += "\nMore pupils match: type more of the name to narrow it down."
    buttons = tuple(((pupil_label(p), pack("con", "pick", pupil_token(p))),) for p in candidates)
    return text, (*buttons, (("None of these", pack("con", "none", number)),))


def photo_report(rt: Runtime, check: PhotoCheck, number: int) -> tuple[str, tuple[tuple[tuple[str, str], ...], ...]]:
    """Every name's verdict, the overall line, and buttons to confirm the first unconfirmed name."""
    lines = [f"<b>Photo check for the {purpose_label(rt, check.purpose)}</b>"]
    for row in check.rows:
        # 40 rows of at most ~80 characters each keep the report within Telegram's 4,096.
        name = h(clip(row.pupil.full_name, 40)) if row.pupil else f"“{h(clip(row.typed, 40))}”"
        lines.append(f"✅ {name}" if row.allowed else f"❌ {name} — {h(row.reason)}")
    lines.append("")
    if check.ok_to_upload:
        lines.append("<b>OK to upload</b>: every pupil named has consent for this.")
    else:
        blocked = sum(not row.allowed for row in check.rows)
        lines.append(f"<b>Do not upload</b>: {blocked} of {len(check.rows)} pupils are not clear (policy 4.1).")
    pending = check.next_unconfirmed
    if pending is None:
        return "\n".join(lines), ()
    row = check.rows[pending]
    waiting = sum(r.unconfirmed for r in check.rows)
    lines.append(f"\n{waiting} name(s) not confirmed. {did_you_mean(row.typed, row.candidates)}")
    if row.more:
        lines.append("More pupils match: if the pupil is not below, tap None of these and check again with the full name.")
    buttons = tuple(((pupil_label(p), pack("con", "fix", number, pending, pupil_token(p))),) for p in row.candidates)
    return "\n".join(lines), (*buttons, (("None of these", pack("con", "fixno", number, pending)),))


def draft_report(report: DraftReport) -> str:
    titles = {
        "pupil_full_name": "Pupil's full name",
        "pupil_first_name": "Pupil's first name",
        "pupil_similar_name": "Looks like a pupil's full name, spelled differently",
        "former_pupil_name": "Full name of a pupil who has left",
        "profanity": "Offensive language",
        "phone": "Phone number",
        "email": "E-mail address",
        "postcode": "Postcode",
    }
    verdicts = {
        "ok": "✅ <b>Looks fine to post.</b> Nothing in it breaks the policy.",
        "warn": "⚠️ <b>Check before posting.</b>",
        "block": "❌ <b>Do not post this as it is.</b>",
    }
    lines = [verdicts[report.verdict]]
    for finding in report.findings[:30]:
        mark = "❌" if finding.severity == "block" else "⚠️"
        lines.append(
            f"{mark} {titles.get(finding.kind, finding.kind)}: “{h(clip(finding.excerpt, 60))}” (policy {finding.clause})"
        )
    if len(report.findings) > 30:
        lines.append(f"…and {len(report.findings) - 30} more.")
    return "\n".join(lines)


def expiring_lines(pupils: Sequence[Pupil]) -> list[str]:
    return [
        f"• {h(p.full_name)}{f' ({h(p.class_name)})' if p.class_name else ''} — ends {show_date(p.expires)}"
        for p in pupils
        if p.expires
    ]


# ---- consent lookup --------------------------------------------------------------------------
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
        await reply(update, *ask_pupil(remember(context, "consent_asks", query), query, resolution))


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


# ---- photo check -----------------------------------------------------------------------------
def destination_buttons(rt: Runtime, number: int) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(
        ((rt.services.config.consent.label(p), pack("con", "dest", number, p)),) for p in rt.services.config.consent.purposes
    )


async def ask_destination(update: Update, context: Context, text: str, photo: str) -> None:
    """Every name listed counts: ask where the photo will appear, or say why the list cannot be checked."""
    if len(text) > MAX_NAMES_TEXT:
        await reply(update, f"That list is too long; send at most {MAX_NAMES_TEXT} characters.")
        return
    names = photo_checks(context).names_in(text)
    if not names:
        await reply(update, "I found no names. Send the pupils' names, one per line.")
        return
    if len(names) > MAX_PHOTO_NAMES:
        await reply(update, f"That is {len(names)} names; check at most {MAX_PHOTO_NAMES} at a time (split the photo's list).")
        return
    number = remember(context, "photo_checks", (names, photo))
    rt = runtime(context)
    await reply(update, f"{len(names)} pupil(s) listed. Where will the photo appear?", destination_buttons(rt, number))


@staff_only(Permission.CHECK_CONSENT, action="photo check")
async def photo_with_caption(update: Update, context: Context, actor: Actor) -> None:
    """A photo whose caption lists the pupils in it: ask where it will appear."""
    message = update.effective_message
    assert message is not None and message.photo
    await ask_destination(update, context, message.caption or "", message.photo[-1].file_id)


@staff_only(Permission.CHECK_CONSENT)
async def check_start(update: Update, context: Context, actor: Actor) -> int | None:
    """/check with names on its line and below it, or /check alone (then the names come next)."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=1) if message else []
    if len(parts) == 2:
        await ask_destination(update, context, parts[1], "")
        return ConversationHandler.END
    context.state["check_photo"] = ""
    await reply(update, "Send the pupils' names, one per line. /cancel to stop.")
    return NAMES


async def check_photo_offer(update: Update, context: Context) -> int | None:
    """ "Check consent" under a photo sent without a caption: ask for the names."""
    if await admit(update, context, Permission.CHECK_CONSENT, action="check photo") is None:
        return None
    context.state["check_photo"] = context.state.get("last_photo", "")
    await answer(update)
    await reply(update, "Who is in the photo? Send the pupils' names, one per line. /cancel to stop.")
    return NAMES


@staff_only(Permission.CHECK_CONSENT)
async def check_names(update: Update, context: Context, actor: Actor) -> int:
    message = update.effective_message
    assert message is not None
    if len(message.text or "") > MAX_NAMES_TEXT:
        await reply(update, f"That list is too long; send at most {MAX_NAMES_TEXT} characters.")
        return NAMES
    await ask_destination(update, context, message.text or "", context.state.pop("check_photo", ""))
    return ConversationHandler.END


async def check_cancel(update: Update, context: Context) -> int:
    context.state.pop("check_photo", None)
    await reply(update, "Stopped. Nothing was checked.")
    return ConversationHandler.END


async def check_timeout(update: Update, context: Context) -> None:
    context.state.pop("check_photo", None)
    if update.effective_chat:
        await reply(update, "The consent check timed out. Send /check to start again.")


async def choose_destination(update: Update, context: Context) -> None:
    """The destination tap: a verdict per pupil, one overall line, and buttons for any unconfirmed name."""
    press = await admit_press(update, context, Permission.CHECK_CONSENT, action="photo check")
    number = press.number if press else None
    if press is None or number is None or len(press.callback.args) != 2:
        return
    rt = runtime(context)
    pending = context.state.get("photo_checks", {}).pop(number, None)
    purpose = press.callback.args[1]
    if pending is None or purpose not in rt.services.config.consent.purposes:
        await answer(update, "This check has expired. Send the photo or /check again.")
        return
    names, photo = pending
    result = photo_checks(context).check(press.actor.user_id, names, purpose, photo)
    await answer(update)
    await show(update, *photo_report(rt, result, remember(context, "photo_reports", result)))


async def confirm_name(update: Update, context: Context) -> None:
    """A tap under a photo report saying who an unconfirmed name is (or none of them): the report is updated."""
    press = await admit_press(update, context, Permission.CHECK_CONSENT, action="photo check")
    number, row = (press.number, press.callback.int_arg(1)) if press else (None, None)
    if press is None or number is None or row is None:
        return
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
    await show(update, *photo_report(rt, updated, number))


# ---- draft post check ------------------------------------------------------------------------
@staff_only(Permission.CHECK_POST, action="draft check")
async def checkpost(update: Update, context: Context, actor: Actor) -> None:
    """/checkpost TEXT, or /checkpost as a reply to the draft."""
    message = update.effective_message
    assert message is not None
    # Everything after the command, exactly as typed: a draft pasted on the next line keeps its first word.
    text = _COMMAND.sub("", message.text or "", count=1).strip()
    quoted = message.reply_to_message
    if not text and quoted is not None:
        text = quoted.text or quoted.caption or ""
    if not text:
        await reply(update, "Usage: <code>/checkpost TEXT</code>, or reply to your draft with <code>/checkpost</code>.")
        return
    await reply(update, draft_report(service(context).check_draft(actor.user_id, text)))


# ---- expiring consents -----------------------------------------------------------------------
async def show_expiring(update: Update, context: Context, actor: Actor, number: int) -> None:
    """/expiring: consents that end within 30 days, soonest first."""
    lines = expiring_lines(service(context).expiring(actor.user_id))
    if not lines:
        await show(update, "No consent ends in the next 30 days.")
        return
    page = page_of(lines, number, per_page=20)
    await show(update, "<b>Consents ending in the next 30 days</b>\n" + "\n".join(page.lines) + page.footer, page.buttons("exp"))


expiring, expiring_page = paged(Permission.VIEW_EXPIRING, "expiring consents", show_expiring)


def expiry_reminder_work(rt: Runtime) -> TimedWork:
    """Once a year, before the consent year ends, remind office and Head which consents end soon."""

    async def work(now: datetime) -> datetime:
        register = rt.services.register
        tz = rt.services.config.school.timezone
        day = register.expiry_reminder_day(local_day(now, tz).year)
        if day <= local_day(now, tz) <= day + timedelta(days=14) and now >= local_moment(day, REMINDER_TIME, tz):
            ending = register.ending_this_consent_year()
            lines = expiring_lines(ending)
            page = page_of(lines, 0, per_page=40)
            text = (
                f"<b>Photo consent: {len(ending)} form(s) end soon</b>\nAsk parents for new forms before they lapse.\n"
                + "\n".join(page.lines)
                + (f"\n…and {len(lines) - len(page.lines)} more: see /expiring." if len(lines) > len(page.lines) else "")
            )
            for person in rt.services.staff.with_roles(Role.OFFICE, Role.HEAD):
                rt.delivery.post(f"expiry:{day.year}:{person}", person, text)
        following = register.next_expiry_check()
        if following <= local_day(now, tz):
            following = local_day(now, tz) + timedelta(days=1)
        return local_moment(following, REMINDER_TIME, tz)

    return work


def register(application: Application, rt: Runtime) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler(["consent", "perm"], consent))
    application.add_handler(CallbackQueryHandler(pick_pupil, pattern=r"^1:con:pick:"))
    application.add_handler(CallbackQueryHandler(pick_none, pattern=r"^1:con:none:"))
    with warnings.catch_warnings():
        # PTB warns that a button entry point is tracked per user, not per message: that is what we want.
        warnings.simplefilter("ignore", PTBUserWarning)
        check_flow = ConversationHandler(
            entry_points=[
                CommandHandler("check", check_start),
                CallbackQueryHandler(check_photo_offer, pattern=r"^1:con:photo$"),
            ],
            states={
                NAMES: [MessageHandler(filters.TEXT & ~filters.COMMAND & private, check_names)],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, check_timeout)],
            },
            fallbacks=[CommandHandler("cancel", check_cancel)],
            conversation_timeout=CHECK_TIMEOUT,
            name="consent_check",
            persistent=True,
        )
    application.add_handler(check_flow)
    application.add_handler(CallbackQueryHandler(choose_destination, pattern=r"^1:con:dest:"))
    application.add_handler(CallbackQueryHandler(confirm_name, pattern=r"^1:con:(fix|fixno):"))
    application.add_handler(CommandHandler("checkpost", checkpost))
    application.add_handler(CommandHandler("expiring", expiring))
    application.add_handler(CallbackQueryHandler(expiring_page, pattern=r"^1:exp:page:"))
    application.add_handler(MessageHandler(private & filters.PHOTO & filters.CAPTION & ~filters.FORWARDED, photo_with_caption))
    rt.ticker.add("consent expiry", expiry_reminder_work(rt))
