"""The misuse log on the phone: /log (aliases /misuse, /report), alerts to the Head, and their buttons.

/log is a conversation: screenshots, a category, an optional note, confirm. A photo sent
outside any flow offers "Log misuse" or "Check consent". Confirming saves the incident and
queues the Head's alert in the outbox in one step without an await, so neither is lost and
a second press finds the first. Leaders act on the alert with one tap; every copy of it
is edited to show what was done. Re-pings, the fallback to the deputy and SLT, and the
"Head unreachable" warning come from the ticker, derived from what each incident stores.
"""

from __future__ import annotations

import html
import io
import logging
import re
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import (
    InputFile,
    Message,
    MessageOrigin,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter
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

from bot.clock import show_time
from bot.incidents import (
    BAN_CLAUSE,
    CATEGORIES,
    MAX_NOTE,
    MAX_PLATFORM_NAME,
    MAX_REASON,
    MAX_SCREENSHOT_BYTES,
    MAX_SCREENSHOTS,
    OUTCOMES,
    ActionKind,
    ActionResult,
    Draft,
    IncidentLog,
    Origin,
    Ping,
    Screenshot,
    action_kind,
    category,
    guidance,
    is_category,
    parse_ref,
)
from bot.roles import Permission, Role, allows
from bot.shell.callbacks import pack
from handlers.common import (
    MAX_CAPTION,
    MAX_TEXT,
    Actor,
    Context,
    admit,
    admit_press,
    answer,
    callback_of,
    clip,
    command_args,
    h,
    paged,
    reply,
    show,
    staff_only,
)
from bot.shell.delivery import keyboard, picture_refused
from handlers.menu import MenuCommand
from handlers.paging import clip_text, page_of, send_long, split_html
from bot.shell.ticker import Runtime, runtime
from bot.records.incidents import Action, Ban, Incident
from bot.records.outbox import Buttons

log = logging.getLogger(__name__)

COMMANDS = (
    MenuCommand("log", "Log misuse with a screenshot", Permission.LOG_MISUSE),
    MenuCommand("incidents", "Incidents, open ones first", Permission.VIEW_INCIDENTS),
    MenuCommand("incident", "One incident and its evidence: /incident 42", Permission.VIEW_INCIDENTS),
    MenuCommand("bans", "The ban register", Permission.VIEW_INCIDENTS),
    MenuCommand("export", "Incidents as a spreadsheet (CSV)", Permission.VIEW_INCIDENTS),
)

# Conversation states, named for what the bot is waiting for.
SCREENSHOTS, CATEGORY, NOTE, CONFIRM = "screenshots", "category", "note", "confirm"
BAN_NAME, BAN_REASON = "ban name", "ban reason"
FLOW_TIMEOUT = timedelta(minutes=15)
NAME_CHARS = 40  # names inside an alert caption, which must stay within 1024 characters
OFFERS_KEPT = 5  # photos sent outside a flow that can still be logged with "Log misuse"
DRAFT = "incident_draft"
OFFERS = "incident_photos"
BAN = "incident_ban"
BAN_RECORD = "incident_ban_record"  # the /incident N record a ban was begun under, redrawn when it is saved
ALERT_WAIT = 5.0  # seconds the reporter's Confirm waits to learn whether the Head has the alert
REACHED_CHECK = timedelta(minutes=1)  # how often to look whether a late alert got through
ALERTED = "The Head Teacher has been alerted."
NOT_YET_ALERTED = (
    "Alert saved; the Head has not received it yet — I keep trying and will tell SLT if it cannot get through."
)


def alert_thread(number: int) -> str:
    """Every copy of an incident's alert (Head, re-pings, deputy and SLT) is edited together."""
    return f"inc:{number}"


def receipt_thread(number: int) -> str:
    return f"inc:{number}:mine"


# ---- messages: built here, once, with every piece of typed text escaped -------------------


def _shown(html_text: str) -> int:
    """How long Telegram measures our HTML: the text without tags, in UTF-16 code units."""
    plain = html.unescape(_TAG.sub("", html_text))
    return len(plain.encode("utf-16-le")) // 2


_TAG = re.compile(r"</?[a-z][^>]*>")


def _fit(text: str, budget: int) -> str:
    """`text` escaped, clipped with … so that Telegram counts at most `budget` units for it."""
    if _shown(h(text)) <= budget:
        return h(text)
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _shown(h(text[:middle] + "…")) <= budget:
            low = middle
        else:
            high = middle - 1
    return h(text[:low] + "…") if low else ""


def _name(text: str) -> str:
    return h(clip(text, NAME_CHARS))


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return show_time(moment, tz)


def _origin_text(incident: Incident) -> str:
    origins = sorted({e.origin for e in incident.evidence if e.origin_type})
    if not origins:
        return ""
    shown = ", ".join(f"“{_name(o or 'unknown')}”" for o in origins[:2])
    return f" · forwarded from {shown}" + (" and others" if len(origins) > 2 else "")


def _status_line(incident: Incident, actions: list[Action], tz: ZoneInfo) -> str:
    if incident.state == "closed":
        closed = next((a for a in actions if a.kind == ActionKind.CLOSED.value), None)
        by = f" by {_name(closed.by_name)}" if closed else ""
        outcome = h(OUTCOMES.get(incident.outcome, incident.outcome))
        return f"🔒 Closed: {outcome}{by}, {_when(incident.closed_at or incident.opened_at, tz)}"
    if incident.state == "acknowledged" and incident.acknowledged_at:
        return f"✅ Acknowledged by {_name(incident.acknowledged_name)}, {_when(incident.acknowledged_at, tz)}"
    return "⏳ Not yet acknowledged"


def _action_lines(actions: list[Action], ban: Ban | None, tz: ZoneInfo, *, names: bool = True) -> list[str]:
    lines = []
    for action in actions:
        kind = action_kind(action.kind)
        if kind is None or kind is ActionKind.CLOSED:
            continue
        what = kind.label
        if kind is ActionKind.BANNED and ban is not None:
            what += f": “{_name(ban.platform_name)}”"
        lines.append(f"✔️ {what} — {_name(action.by_name)}, {_when(action.at, tz)}" if names else f"✔️ {what}")
    return lines


def alert_caption(
    incident: Incident, actions: list[Action], ban: Ban | None, tz: ZoneInfo, reminder: int = 0
) -> str:
    """The Head's alert: reference, category, clause, reporter and note, within 1024 characters."""
    kind = category(incident.category)
    head = []
    if reminder:
        head.append(f"⏰ <b>Reminder {reminder}: not yet acknowledged</b>")
    head += [
        ("🚨 <b>URGENT</b> · " if incident.urgent else "⚠️ ") + f"<b>{incident.ref}</b> · misuse logged",
        f"{h(kind.label)}" + (f" (policy {kind.clause})" if kind.clause else ""),
        f"Logged by {_name(incident.reporter_name)}, {_when(incident.opened_at, tz)}",
        f"{len(incident.evidence)} screenshot{'s' if len(incident.evidence) != 1 else ''}{_origin_text(incident)}",
    ]
    tail = [_status_line(incident, actions, tz)]
    detailed = _action_lines(actions, ban, tz)
    if _shown("\n".join(head + tail + detailed)) > MAX_CAPTION - 120:
        detailed = _action_lines(actions, ban, tz, names=False)  # /incident shows who and when
    tail += detailed
    if not incident.note:
        return "\n".join(head + tail)
    label = "Note: "
    budget = MAX_CAPTION - _shown("\n".join(head + tail)) - _shown(label) - 2
    note = _fit(incident.note, budget) or f"see /incident {incident.number}"
    return "\n".join([*head, f"{label}{note}", *tail])


def alert_buttons(incident: Incident, actions: list[Action]) -> Buttons:
    """Acknowledge until someone does, then the actions not yet recorded, and Close."""
    if incident.state == "closed":
        return ()
    n = incident.number
    done = {a.kind for a in actions}
    kinds = [ActionKind.REMOVED, ActionKind.BANNED, ActionKind.REPORTED]
    kind = category(incident.category)
    if kind.safeguarding:
        kinds += [ActionKind.CPOMS, ActionKind.PARENT]
    elif kind.key == "parent":
        kinds.append(ActionKind.PARENT)
    taps = [(k.label, _action_data(n, k)) for k in kinds if k.value not in done]
    taps.append(("Close", pack("inc", "close", n)))
    rows: list[tuple[tuple[str, str], ...]] = []
    if incident.state == "open":
        rows.append((("Acknowledge", pack("inc", "ack", n)),))
    rows += [tuple(taps[i : i + 2]) for i in range(0, len(taps), 2)]
    return tuple(rows)


def _action_data(number: int, kind: ActionKind) -> str:
    return pack("inc", "ban", number) if kind is ActionKind.BANNED else pack("inc", "do", number, kind.value)


def receipt_text(incident: Incident, actions: list[Action], ban: Ban | None, tz: ZoneInfo) -> str:
    """What the person who logged it keeps: the reference, what to do next, and progress.

    Whether the Head has the alert is said apart (`ALERTED`, `NOT_YET_ALERTED`), only once known.
    """
    kind = category(incident.category)
    lines = [f"📝 Logged as <b>{incident.ref}</b>: {h(kind.title)}" + (" (urgent)." if incident.urgent else ".")]
    advice = guidance(kind)
    if advice and incident.state != "closed":
        lines += ["", *(h(line) for line in advice)]
    lines += ["", _status_line(incident, actions, tz), *_action_lines(actions, ban, tz)]
    return "\n".join(lines)


def receipt_buttons(incident: Incident, actions: list[Action]) -> Buttons:
    """The reporter's own next steps, by category; each disappears once recorded."""
    if incident.state == "closed":
        return ()
    kind = category(incident.category)
    done = {a.kind for a in actions}
    n = incident.number
    wanted: list[tuple[str, ActionKind]] = []
    if kind.urgent:
        wanted.append(("Deleted", ActionKind.REMOVED))
    if kind.safeguarding:
        wanted += [("Logged on CPOMS", ActionKind.CPOMS), ("Parents informed", ActionKind.PARENT)]
    if kind.offers_ban:
        wanted += [("User banned", ActionKind.BANNED), ("Reported externally", ActionKind.REPORTED)]
    taps = [(label, _action_data(n, k)) for label, k in wanted if k.value not in done]
    return tuple(tuple(taps[i : i + 2]) for i in range(0, len(taps), 2))


def record_text(
    incident: Incident, actions: list[Action], ban: Ban | None, intact: list[bool], tz: ZoneInfo
) -> str:
    """The whole record for /incident N; the note gives way if everything else is long (4096 at most)."""
    kind = category(incident.category)
    head = [
        f"<b>{incident.ref}</b>" + (" · 🚨 urgent" if incident.urgent else ""),
        f"Category: {h(kind.label)}" + (f" (policy {kind.clause})" if kind.clause else ""),
        f"Logged by {h(clip(incident.reporter_name, 60))}, {_when(incident.opened_at, tz)}",
        _status_line(incident, actions, tz),
    ]
    lines = ["", f"<b>Evidence</b> ({len(incident.evidence)}):"]
    for index, (item, ok) in enumerate(zip(incident.evidence, intact, strict=True), start=1):
        forwarded = ""
        if item.origin_type:
            sent = f" (sent {_when(item.origin_date, tz)})" if item.origin_date else ""
            forwarded = f", forwarded from “{h(clip(item.origin or 'unknown', 60))}”{sent}"
        check = "✅ intact" if ok else "❌ stored copy missing or changed"
        lines.append(
            f"{index}. {item.kind}, {item.size:,} bytes{forwarded}\n"
            f"   SHA-256 <code>{item.sha256}</code> {check}"
        )
    done = _action_lines(actions, ban, tz)
    if done:
        lines += ["", "<b>Actions</b>", *done]
    if ban is not None:
        lines.append(f"Ban register: “{h(clip(ban.platform_name, 60))}”, {h(clip_text(ban.reason, 200))}")
    if incident.pings:
        lines.append(
            f"\nRe-sent to the Head {incident.pings} time{'s' if incident.pings != 1 else ''}"
            + ("; the deputy and SLT were alerted." if incident.leaders_alerted else ".")
        )
    if incident.note:
        budget = MAX_TEXT - _shown("\n".join(head + lines)) - 10
        head.append(f"Note: {_fit(incident.note, budget)}")
    return "\n".join(head + lines)


def listing_line(incident: Incident, tz: ZoneInfo) -> str:
    kind = category(incident.category)
    icon = {"open": "⏳", "acknowledged": "✅", "closed": "🔒"}.get(incident.state, "")
    return (
        f"<b>{incident.ref}</b> {'🚨 ' if incident.urgent else ''}{h(kind.label)}"
        + (f" ({kind.clause})" if kind.clause else "")
        + f"\n    {icon} {incident.state} · {_when(incident.opened_at, tz)} · {h(clip(incident.reporter_name, 30))}"
    )


def ban_line(ban: Ban, tz: ZoneInfo) -> str:
    return (
        f"• <b>{h(clip_text(ban.platform_name, 60))}</b> — {h(clip_text(ban.reason, 200))}\n"
        f"    INC-{ban.number:04d} · banned by {h(clip(ban.by_name, 30))}, {_when(ban.at, tz)}"
    )


def draft_view(state: str, draft: Draft, note: str = "") -> tuple[str, Buttons]:
    """The prompt and buttons for a step of the flow (shown again when a tap or answer was lost)."""
    cancel = ("Cancel", pack("log", "no"))
    shots = len(draft.screenshots)
    if state == SCREENSHOTS:
        if not shots:
            return (
                "<b>Log misuse</b>\nSend me the screenshot(s) of the comment or post: a photo, a "
                "forwarded message with a photo, or an image file.\n/cancel stops at any time.",
                ((cancel,),),
            )
        more = "That is the most one incident can hold." if draft.full else "Send more, or tap Done."
        text = f"{note}Got {shots} screenshot{'s' if shots != 1 else ''}. {more}"
        return text, ((("Done", pack("log", "done")), cancel),)
    if state == CATEGORY:
        rows = tuple(((c.title, pack("log", "cat", c.key)),) for c in CATEGORIES)
        return f"{note}What kind of misuse is it?", (*rows, (cancel,))
    if state == NOTE:
        kind = category(draft.category)
        return (
            f"{note}{h(kind.title)}.\nAdd a short note if it helps (where it was posted, what happened), "
            f"up to {MAX_NOTE} characters, or tap Skip.",
            ((("Skip", pack("log", "skip")), cancel),),
        )
    kind = category(draft.category)
    forwarded = sum(1 for s in draft.screenshots if s.origin)
    lines = [
        f"{note}<b>Ready to log</b>",
        f"• {shots} screenshot{'s' if shots != 1 else ''}" + (f" ({forwarded} forwarded)" if forwarded else ""),
        f"• {h(kind.title)}" + (" — urgent" if kind.urgent else ""),
        f"• Note: {h(draft.note)}" if draft.note else "• No note",
        "",
        "Confirm to log it and alert the Head Teacher. Send a new note to replace this one.",
    ]
    return "\n".join(lines), ((("Confirm", pack("log", "ok", draft.id)), cancel),)


# ---- small helpers ------------------------------------------------------------------------


def _tz(rt: Runtime) -> ZoneInfo:
    return rt.services.config.school.timezone


def _log(context: Context) -> IncidentLog:
    return runtime(context).services.incident_log


async def _say(update: Update, text: str, buttons: Buttons = ()) -> None:
    """Show a step of a flow. The step is already recorded: if the network loses the prompt,
    the person taps or sends again and sees it then, so a lost prompt is not an error."""
    try:
        await show(update, text, buttons)
    except (NetworkError, RetryAfter) as exc:
        log.warning("Prompt for update %s not delivered (%s); the step is kept", update.update_id, type(exc).__name__)


def _draft(context: Context) -> Draft | None:
    draft = (context.user_data or {}).get(DRAFT)
    return draft if isinstance(draft, Draft) else None


def _keep_draft(context: Context, draft: Draft) -> None:
    assert context.user_data is not None
    context.user_data[DRAFT] = draft


def _forget_draft(context: Context, draft_id: str | None = None) -> None:
    draft = _draft(context)
    if context.user_data is not None and draft is not None and (draft_id is None or draft.id == draft_id):
        context.user_data.pop(DRAFT, None)


@dataclass(frozen=True)
class Picture:
    """A photo or image file as Telegram described it, before it is downloaded."""

    file_id: str
    unique_id: str
    kind: str  # photo or document
    mime_type: str
    suffix: str
    size: int
    origin: Origin | None


_SUFFIXES = {"jpeg": ".jpg", "jpg": ".jpg", "png": ".png", "gif": ".gif", "webp": ".webp", "heic": ".heic"}


def _picture(message: Message) -> Picture | None:
    """The largest size of a photo, or an image sent as a file; None for anything else."""
    if message.photo:
        biggest = message.photo[-1]
        return Picture(
            biggest.file_id, biggest.file_unique_id, "photo", "image/jpeg", ".jpg", biggest.file_size or 0, _origin(message)
        )
    document = message.document
    mime_type = (document.mime_type or "") if document else ""
    if document is None or not mime_type.startswith("image/"):
        return None
    suffix = _SUFFIXES.get(mime_type.split("/", 1)[1].split(";")[0].lower(), ".img")
    return Picture(
        document.file_id, document.file_unique_id, "document", mime_type, suffix, document.file_size or 0, _origin(message)
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
    return Origin(origin.type, clip(name, 200), origin.date)


async def _screenshot(context: Context, picture: Picture) -> Screenshot:
    file = await context.bot.get_file(picture.file_id)
    return Screenshot(
        data=bytes(await file.download_as_bytearray()),
        file_id=picture.file_id,
        file_unique_id=picture.unique_id,
        kind=picture.kind,
        mime_type=picture.mime_type,
        suffix=picture.suffix,
        received_at=runtime(context).services.clock.now(),
        origin=picture.origin,
    )


# ---- the /log flow --------------------------------------------------------------------------


def _new_draft(context: Context, actor: Actor) -> Draft:
    rt = runtime(context)
    draft = Draft(uuid.uuid4().hex[:12], actor.user_id, rt.services.clock.now())
    _keep_draft(context, draft)
    rt.services.audit(actor.user_id, "log misuse: start", f"draft {draft.id}")
    return draft


async def start_log(update: Update, context: Context) -> str | int:
    """/log, /misuse or /report: asks for the screenshots."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="log misuse")
    if actor is None:
        return ConversationHandler.END
    draft = _new_draft(context, actor)
    await _say(update, *draft_view(SCREENSHOTS, draft))
    return SCREENSHOTS


async def start_from_button(update: Update, context: Context) -> str | int:
    """"Found a problem, log it" under the moderation nudge: the same flow, in a new message."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="log misuse")
    if actor is None:
        return ConversationHandler.END
    draft = _new_draft(context, actor)
    await answer(update)
    try:
        await reply(update, *draft_view(SCREENSHOTS, draft))
    except (NetworkError, RetryAfter):
        log.warning("Log prompt for update %s not delivered; the flow is open", update.update_id)
    return SCREENSHOTS


async def start_with_photo(update: Update, context: Context) -> str | int:
    """"Log misuse" under a photo sent outside any flow: the flow starts with that screenshot."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="log misuse")
    callback = callback_of(update)
    if actor is None or callback is None:
        return ConversationHandler.END
    offers = (context.user_data or {}).get(OFFERS, {})
    offered: Picture | None = offers.get(callback.int_arg(0))
    if offered is None:
        await answer(update, "That photo is no longer with me. Please send it again.")
        return ConversationHandler.END
    shot = await _screenshot(context, offered)
    draft, _ = _new_draft(context, actor).add(shot)
    _keep_draft(context, draft)
    runtime(context).services.audit(actor.user_id, "log misuse: screenshot", f"draft {draft.id}", detail=f"sha256 {shot.sha256}")
    await answer(update)
    await _say(update, *draft_view(SCREENSHOTS, draft))
    return SCREENSHOTS


def _screenshot_adder(state: str) -> Callable[[Update, Context], Awaitable[str | int | None]]:
    """A picture sent at any step joins the draft; the person stays on the step they were at."""

    async def add_screenshot(update: Update, context: Context) -> str | int | None:
        """Adds a screenshot (sent, forwarded or as an image file) to the incident being logged."""
        message = update.effective_message
        draft = _draft(context)
        if message is None or draft is None:
            return ConversationHandler.END
        picture = _picture(message)
        if picture is None:
            return None
        if picture.size > MAX_SCREENSHOT_BYTES:
            await _say(update, "That file is too big for me to keep (20 MB at most). Please send a screenshot.")
            return None
        if draft.full:
            await _say(update, *draft_view(state, draft, f"I can keep {MAX_SCREENSHOTS} screenshots per incident.\n"))
            return None
        shot = await _screenshot(context, picture)
        draft, added = draft.add(shot)
        _keep_draft(context, draft)
        if added:
            runtime(context).services.audit(
                draft.reporter_id, "log misuse: screenshot", f"draft {draft.id}", detail=f"sha256 {shot.sha256}"
            )
        note = "" if added else "I already have that screenshot. "
        if state != SCREENSHOTS:
            note = note or f"Added: {len(draft.screenshots)} screenshots.\n"
        await _say(update, *draft_view(state, draft, note))
        return state

    return add_screenshot


async def screenshots_done(update: Update, context: Context) -> str | int | None:
    """Done with screenshots: choose the category."""
    draft = _draft(context)
    if draft is None:
        return ConversationHandler.END
    if not draft.screenshots:
        await answer(update, "Please send a screenshot first.")
        return None
    await answer(update)
    await _say(update, *draft_view(CATEGORY, draft))
    return CATEGORY


async def choose_category(update: Update, context: Context) -> str | int | None:
    """A category is chosen: ask for the optional note."""
    draft = _draft(context)
    callback = callback_of(update)
    if draft is None or callback is None:
        return ConversationHandler.END
    key = callback.args[0] if callback.args else ""
    if not is_category(key):
        await answer(update, "This button has expired. Please send the command again.")
        return None
    draft = replace(draft, category=key)
    _keep_draft(context, draft)
    runtime(context).services.audit(
        draft.reporter_id, "log misuse: category", f"draft {draft.id}", detail=category(key).clause or key
    )
    await answer(update)
    await _say(update, *draft_view(NOTE, draft))
    return NOTE


async def take_note(update: Update, context: Context) -> str | int | None:
    """The note, typed: capped in length, then the summary to confirm."""
    draft = _draft(context)
    message = update.effective_message
    if draft is None or message is None or not is_category(draft.category):
        return ConversationHandler.END
    text = (message.text or "").strip()
    if len(text) > MAX_NOTE:
        await _say(
            update,
            f"That note is {len(text):,} characters; please keep it under {MAX_NOTE:,} "
            "(the full story can go on CPOMS). Send a shorter note, or tap Skip.",
            ((("Skip", pack("log", "skip")), ("Cancel", pack("log", "no"))),),
        )
        return NOTE
    draft = replace(draft, note=text)
    _keep_draft(context, draft)
    runtime(context).services.audit(draft.reporter_id, "log misuse: note", f"draft {draft.id}", detail=f"{len(text)} chars")
    await _say(update, *draft_view(CONFIRM, draft))
    return CONFIRM


async def skip_note(update: Update, context: Context) -> str | int | None:
    """No note: straight to the summary."""
    draft = _draft(context)
    if draft is None or not is_category(draft.category):
        return ConversationHandler.END
    await answer(update)
    await _say(update, *draft_view(CONFIRM, draft))
    return CONFIRM


async def want_screenshot(update: Update, context: Context) -> None:
    """Text while screenshots are expected: say what is needed."""
    draft = _draft(context)
    if draft is not None:
        await _say(update, *draft_view(SCREENSHOTS, draft, "Please send the screenshot as a photo or an image file. "))


async def want_category(update: Update, context: Context) -> None:
    """Text while a category is expected: show the buttons again."""
    draft = _draft(context)
    if draft is not None:
        await _say(update, *draft_view(CATEGORY, draft, "Please choose with a button. "))


async def confirm(update: Update, context: Context) -> str | int | None:
    """Confirm: the incident is saved and the Head's alert queued, once per draft."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="confirm incident")
    callback = callback_of(update)
    if actor is None or callback is None or not callback.args:
        return ConversationHandler.END
    rt = runtime(context)
    incidents = rt.services.incident_log
    draft_id = callback.args[0]
    existing = incidents.by_draft(draft_id)
    if existing is not None:
        if existing.reporter_id != actor.user_id:
            rt.services.audit(actor.user_id, "confirm incident", existing.ref, outcome="refused: not the reporter")
            await answer(update, "Sorry, this button is not for you.")
            return None
        rt.services.audit(actor.user_id, "confirm incident", existing.ref, outcome="already logged")
        _forget_draft(context, draft_id)
        await answer(update, f"Already logged as {existing.ref}.")
        return ConversationHandler.END
    draft = _draft(context)
    if draft is None or draft.id != draft_id or not draft.ready:
        await answer(update, "This summary is out of date: nothing was logged from it. Send /log to start again.")
        return None if draft is not None else ConversationHandler.END
    incident, _ = incidents.confirm(draft, actor.name)
    raise_alert(rt, incidents, incident)
    _post_receipt(rt, incidents, incident)
    _forget_draft(context, draft_id)
    await answer(update, f"Logged as {incident.ref}.")
    await rt.delivery.wait(ALERT_WAIT)
    if head_has_alert(rt, incident):
        await _say(update, f"Logged as <b>{incident.ref}</b>. {ALERTED}")
    else:  # durable: the follow-up is sent once the alert gets through (escalation_work)
        rt.delivery.post(
            not_yet_key(incident.number),
            actor.user_id,
            f"Logged as <b>{incident.ref}</b>. {NOT_YET_ALERTED}",
            needs=Permission.LOG_MISUSE,
        )
    return ConversationHandler.END


async def cancel_flow(update: Update, context: Context) -> int:
    """/cancel or the Cancel button: nothing is logged."""
    draft = _draft(context)
    if draft is not None and update.effective_user is not None:
        runtime(context).services.audit(update.effective_user.id, "log misuse: cancel", f"draft {draft.id}")
    _forget_draft(context)
    await answer(update)
    await _say(update, "Cancelled: nothing was logged. Send /log to start again.")
    return ConversationHandler.END


async def flow_timed_out(update: Update, context: Context) -> None:
    """No answer for a while: the draft is dropped and the person is told (durably)."""
    draft = _draft(context)
    _forget_draft(context)
    if draft is None:
        return
    rt = runtime(context)
    rt.services.audit(draft.reporter_id, "log misuse: timed out", f"draft {draft.id}")
    minutes = int(FLOW_TIMEOUT.total_seconds() // 60)
    rt.delivery.post(
        f"log:timeout:{draft.id}",
        draft.reporter_id,
        f"The misuse log timed out after {minutes} minutes without an answer, so nothing was logged. "
        "Send /log to start again.",
    )


async def flow_over(update: Update, context: Context) -> None:
    """A button of a flow that has ended (logged, cancelled, timed out, or the bot restarted)."""
    if await admit(update, context, Permission.LOG_MISUSE, action="log misuse") is None:
        return  # a stranger (or office staff) pressing copied data is refused and audited, not told about logs
    await answer(update, "This log has ended. Send /log to start again.")


# ---- a photo sent outside any flow ----------------------------------------------------------


async def offer_photo(update: Update, context: Context) -> None:
    """A screenshot with no flow running: offer to log it as misuse, or to check consent for it."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="photo received")
    message = update.effective_message
    if actor is None or message is None or context.user_data is None:
        return
    picture = _picture(message)
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


# ---- alerts and their buttons ---------------------------------------------------------------


def _alert_photo(incident: Incident) -> str:
    """A photo goes by its Telegram file id; an image sent as a file goes as the stored copy."""
    first = incident.evidence[0]
    return first.file_id if first.kind == "photo" else first.path


def _heads(rt: Runtime) -> list[int]:
    return rt.services.staff.with_roles(Role.HEAD)


def head_has_alert(rt: Runtime, incident: Incident) -> bool:
    """True once a copy of the alert has reached a Head (or someone has already acted on it)."""
    if incident.state != "open":
        return True
    heads = set(_heads(rt))
    return any(c.state == "sent" and c.chat_id in heads for c in rt.delivery.thread_copies(alert_thread(incident.number)))


def not_yet_key(number: int) -> str:
    return f"inc:{number}:notyet"


def _photo_note(incident: Incident) -> str:
    return f"📎 The screenshot could not be attached here: /incident {incident.number} shows the record."


def _leaders(rt: Runtime) -> list[int]:
    """The fallback: the deputy and SLT."""
    return rt.services.staff.with_roles(Role.DEPUTY, Role.SLT)


def raise_alert(rt: Runtime, incidents: IncidentLog, incident: Incident) -> None:
    """Queue the alert for every Head (and the fallback if configured to start there), once."""
    caption = alert_caption(incident, [], None, _tz(rt))
    buttons = alert_buttons(incident, [])
    people = _heads(rt) + (_leaders(rt) if incident.leaders_alerted else [])
    for person in dict.fromkeys(people):
        rt.delivery.post(
            f"inc:{incident.number}:alert:{person}",
            person,
            caption,
            buttons,
            photo=_alert_photo(incident),
            thread=alert_thread(incident.number),
            needs=Permission.ACT_ON_ALERTS,
            photo_note=_photo_note(incident),
        )
    incidents.mark_alert_posted(incident.number)


def _post_receipt(rt: Runtime, incidents: IncidentLog, incident: Incident) -> None:
    rt.delivery.post(
        f"inc:{incident.number}:receipt",
        incident.reporter_id,
        receipt_text(incident, [], None, _tz(rt)),
        receipt_buttons(incident, []),
        thread=receipt_thread(incident.number),
        needs=Permission.LOG_MISUSE,
    )


def refresh(rt: Runtime, incidents: IncidentLog, number: int) -> None:
    """Show the incident as it stands now on every copy of its alert and on the reporter's receipt."""
    incident = incidents.get(number)
    if incident is None:
        return
    actions = incidents.actions(number)
    ban = incidents.ban_for(number)
    tz = _tz(rt)
    rt.delivery.edit_thread(alert_thread(number), alert_caption(incident, actions, ban, tz), alert_buttons(incident, actions))
    rt.delivery.edit_thread(receipt_thread(number), receipt_text(incident, actions, ban, tz), receipt_buttons(incident, actions))


async def _settled(update: Update, context: Context, result: ActionResult, done_text: str) -> None:
    """After a button's decision is saved: update every copy, then tell the person who tapped."""
    rt = runtime(context)
    tz = _tz(rt)
    if result.status == "missing" or result.incident is None:
        await answer(update, "There is no such incident.")
    elif result.status == "refused":
        await answer(update, "Sorry, only the Head Teacher, the deputy and SLT (or the person who logged it) can do that.")
    elif result.status == "already":
        incident = result.incident
        if result.action is not None and result.action.kind == ActionKind.CLOSED.value:
            earlier = result.action
            text = f"{incident.ref} is already closed: {earlier.detail}, by {earlier.by_name}, {_when(earlier.at, tz)}."
        elif result.action is not None:
            kind = action_kind(result.action.kind)
            what = kind.label if kind else result.action.kind
            text = f"Already recorded: {what} by {result.action.by_name}, {_when(result.action.at, tz)}."
        elif incident.state == "closed":
            text = f"{incident.ref} is already closed."
        else:
            when = _when(incident.acknowledged_at or incident.opened_at, tz)
            text = f"Already acknowledged by {incident.acknowledged_name}, {when}."
        await answer(update, text)
    else:
        refresh(rt, rt.services.incident_log, result.incident.number)
        await answer(update, done_text)


def _tracked(rt: Runtime, number: int, message: Message) -> bool:
    """A copy of the alert or of the receipt: `refresh` keeps those up to date through the outbox."""
    copies = rt.delivery.thread_copies(alert_thread(number)) + rt.delivery.thread_copies(receipt_thread(number))
    return any(c.chat_id == message.chat_id and c.message_id == message.message_id for c in copies)


def _pressed_record(update: Update, rt: Runtime, actor: Actor, number: int) -> Message | None:
    """The /incident N record a button was pressed on: nothing else keeps that message up to date.

    The record is text that the outbox does not track, and only leaders are shown its buttons; a
    photo is an alert whose outbox copy was forgotten after OUTBOX_KEEP.
    """
    query = update.callback_query
    message = query.message if query else None
    if not isinstance(message, Message) or message.text is None or _tracked(rt, number, message):
        return None
    return message if allows(actor.role, Permission.ACT_ON_ALERTS) else None


def _record_view(rt: Runtime, number: int) -> tuple[str, Buttons] | None:
    """The record as it now stands: its last part (a long record is sent in parts) and its buttons."""
    incidents = rt.services.incident_log
    incident = incidents.get(number)
    if incident is None:
        return None
    actions = incidents.actions(number)
    intact = [incidents.evidence_intact(e) for e in incident.evidence]
    record = record_text(incident, actions, incidents.ban_for(number), intact, _tz(rt))
    return split_html(record.split("\n"))[-1], view_buttons(incident, actions)


async def _redraw_record(update: Update, context: Context, actor: Actor, number: int) -> None:
    """A tap on the /incident N record: show the record as it now stands."""
    rt = runtime(context)
    view = _record_view(rt, number) if _pressed_record(update, rt, actor, number) else None
    if view is not None:
        await show(update, *view)


async def acknowledge(update: Update, context: Context) -> None:
    """Acknowledge: stops the re-pings and shows on every copy who acknowledged and when."""
    actor = await admit(update, context, Permission.ACT_ON_ALERTS, action="acknowledge incident")
    callback = callback_of(update)
    number = callback.int_arg(0) if callback else None
    if actor is None:
        return
    if number is None:
        await answer(update, "This button has expired.")
        return
    result = _log(context).acknowledge(number, actor.user_id, actor.name)
    await _settled(update, context, result, "Acknowledged. The reminders have stopped.")


async def record_action(update: Update, context: Context) -> None:
    """Comment removed, reported externally, parent contacted, logged on CPOMS: recorded once."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="incident action")
    callback = callback_of(update)
    if actor is None:
        return
    number = callback.int_arg(0) if callback else None
    kind = action_kind(callback.args[1]) if callback and len(callback.args) > 1 else None
    if number is None or kind is None or kind in (ActionKind.BANNED, ActionKind.CLOSED):
        await answer(update, "This button has expired.")
        return
    result = _log(context).record_action(number, kind, actor.user_id, actor.name)
    await _settled(update, context, result, f"Recorded: {kind.label}.")
    await _redraw_record(update, context, actor, number)


async def ask_outcome(update: Update, context: Context) -> None:
    """Close: choose an outcome on this copy (nothing changes until one is chosen)."""
    actor = await admit(update, context, Permission.ACT_ON_ALERTS, action="close incident")
    callback = callback_of(update)
    if actor is None:
        return
    incidents = _log(context)
    incident = incidents.get(callback.int_arg(0) or 0) if callback else None
    if incident is None:
        await answer(update, "There is no such incident.")
        return
    if incident.state == "closed":
        await answer(update, f"{incident.ref} is already closed.")
        return
    n = incident.number
    rows = tuple(((label, pack("inc", "shut", n, key)),) for key, label in OUTCOMES.items())
    caption = alert_caption(incident, incidents.actions(n), incidents.ban_for(n), _tz(runtime(context)))
    await answer(update)
    await _say(update, caption, (*rows, (("« Back", pack("inc", "back", n)),)))


async def back_to_alert(update: Update, context: Context) -> None:
    """« Back from the outcome choice: the alert as it stands."""
    if await admit(update, context, Permission.ACT_ON_ALERTS, action="view incident alert") is None:
        return
    callback = callback_of(update)
    incidents = _log(context)
    incident = incidents.get(callback.int_arg(0) or 0) if callback else None
    if incident is None:
        await answer(update, "There is no such incident.")
        return
    actions = incidents.actions(incident.number)
    await answer(update)
    await _say(
        update,
        alert_caption(incident, actions, incidents.ban_for(incident.number), _tz(runtime(context))),
        alert_buttons(incident, actions),
    )


async def close_incident(update: Update, context: Context) -> None:
    """An outcome chosen: the incident is closed, once, and every copy says so."""
    actor = await admit(update, context, Permission.ACT_ON_ALERTS, action="close incident")
    callback = callback_of(update)
    if actor is None:
        return
    number = callback.int_arg(0) if callback else None
    outcome = callback.args[1] if callback and len(callback.args) > 1 else ""
    if number is None or outcome not in OUTCOMES:
        await answer(update, "This button has expired.")
        return
    result = _log(context).close(number, outcome, actor.user_id, actor.name)
    await _settled(update, context, result, f"Closed: {OUTCOMES[outcome]}.")
    await _redraw_record(update, context, actor, number)


# ---- the ban flow -----------------------------------------------------------------------------


async def start_ban(update: Update, context: Context) -> str | int:
    """User banned: ask who (their name on the platform) for the ban register."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="ban")
    callback = callback_of(update)
    if actor is None or context.user_data is None:
        return ConversationHandler.END
    incidents = _log(context)
    incident = incidents.get(callback.int_arg(0) or 0) if callback else None
    if incident is None:
        await answer(update, "There is no such incident.")
        return ConversationHandler.END
    if not incidents.may_record(actor.user_id, incident, ActionKind.BANNED):
        runtime(context).services.audit(actor.user_id, "ban", incident.ref, outcome="refused")
        await answer(update, "Sorry, only the Head Teacher, the deputy and SLT (or the person who logged it) can do that.")
        return ConversationHandler.END
    ban = incidents.ban_for(incident.number)
    if ban is not None:
        when = _when(ban.at, _tz(runtime(context)))
        await answer(update, f"Already recorded: “{ban.platform_name}” banned by {ban.by_name}, {when}.")
        return ConversationHandler.END
    context.user_data[BAN] = (incident.number, "")
    record = _pressed_record(update, runtime(context), actor, incident.number)
    context.user_data[BAN_RECORD] = (record.chat_id, record.message_id) if record else None
    await answer(update)
    await _ban_prompt(
        update,
        f"<b>Ban for {incident.ref}</b>\nWho was banned? Send their name exactly as the platform shows it.",
    )
    return BAN_NAME


async def _ban_prompt(update: Update, text: str, buttons: Buttons = ()) -> None:
    """A new message (the tap may have come from a photo alert that must stay as it is)."""
    try:
        await reply(update, text, (*buttons, (("Cancel", pack("inc", "banno")),)))
    except (NetworkError, RetryAfter):
        log.warning("Ban prompt for update %s not delivered; the step is kept", update.update_id)


async def ban_name(update: Update, context: Context) -> str | int:
    """The offender's platform name: then the reason."""
    pending = (context.user_data or {}).get(BAN)
    message = update.effective_message
    if pending is None or message is None or context.user_data is None:
        return ConversationHandler.END
    name = (message.text or "").strip()
    if not name or len(name) > MAX_PLATFORM_NAME:
        await _ban_prompt(update, f"Please send their name on the platform, up to {MAX_PLATFORM_NAME} characters.")
        return BAN_NAME
    number = pending[0]
    context.user_data[BAN] = (number, name)
    incident = _log(context).get(number)
    kind = category(incident.category if incident else "other")
    await _ban_prompt(
        update,
        f"Why was “{h(name)}” banned? Tap to use the incident's category, or type a reason.",
        ((((kind.title)[:60], pack("inc", "why", number)),),),
    )
    return BAN_REASON


async def ban_reason(update: Update, context: Context) -> str | int | None:
    """The reason (typed, or the incident's category): the ban is recorded once."""
    actor = await admit(update, context, Permission.LOG_MISUSE, action="ban")
    pending = (context.user_data or {}).get(BAN)
    if actor is None or pending is None or context.user_data is None:
        return ConversationHandler.END
    number, name = pending
    callback = callback_of(update)
    if callback is not None and callback.int_arg(0) != number:
        await answer(update, "That button belongs to another ban. Type the reason, or tap the latest button.")
        return None
    incidents = _log(context)
    incident = incidents.get(number)
    if incident is None:
        return ConversationHandler.END
    kind = category(incident.category)
    if update.callback_query:
        reason = f"{kind.title}, policy {BAN_CLAUSE}"
    else:
        reason = ((update.effective_message.text if update.effective_message else "") or "").strip()
        if not reason or len(reason) > MAX_REASON:
            await _ban_prompt(update, f"Please type the reason in up to {MAX_REASON} characters.")
            return None
    result = incidents.record_ban(number, name, reason, actor.user_id, actor.name)
    context.user_data.pop(BAN, None)
    await _settled(update, context, result, "Ban recorded.")
    if result.status == "done":
        try:
            await reply(update, f"Recorded: “{h(name)}” is in the ban register for {incident.ref}. /bans shows it.")
            await _redraw_ban_record(context, number)
        except (NetworkError, RetryAfter):
            log.warning("Ban confirmation for update %s not delivered; the ban is saved", update.update_id)
    return ConversationHandler.END


async def _redraw_ban_record(context: Context, number: int) -> None:
    """A ban begun under /incident N: that record now shows the ban (the questions came as new messages)."""
    where = (context.user_data or {}).pop(BAN_RECORD, None)
    view = _record_view(runtime(context), number) if where else None
    if where is None or view is None:
        return
    text, buttons = view
    chat_id, message_id = where
    try:
        await context.bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML, reply_markup=keyboard(buttons)
        )
    except BadRequest as exc:
        if not any(known in exc.message.lower() for known in ("not modified", "not found")):  # or deleted meanwhile
            raise


async def cancel_ban(update: Update, context: Context) -> int:
    """/cancel or Cancel during the ban questions: nothing is recorded."""
    if context.user_data is not None:
        context.user_data.pop(BAN, None)
    await answer(update)
    try:
        await reply(update, "Cancelled: no ban was recorded.")
    except (NetworkError, RetryAfter):
        pass  # nothing was saved, and the person can see the flow stopped
    return ConversationHandler.END


async def ban_timed_out(update: Update, context: Context) -> None:
    """The ban questions went unanswered: nothing is recorded, and the person is told."""
    if context.user_data is not None and context.user_data.pop(BAN, None) is not None and update.effective_user:
        runtime(context).delivery.post(
            f"ban:timeout:{update.update_id}",
            update.effective_user.id,
            "The ban questions timed out, so no ban was recorded. Tap User banned again when ready.",
        )


async def ban_over(update: Update, context: Context) -> None:
    """A button of ban questions that have ended."""
    if await admit(update, context, Permission.LOG_MISUSE, action="ban") is None:
        return
    await answer(update, "These questions have ended. Tap User banned again if needed.")


# ---- lists, the record, the export ----------------------------------------------------------


async def show_incidents(update: Update, context: Context, actor: Actor, number: int) -> None:
    """/incidents: open ones first, a page at a time."""
    rt = runtime(context)
    incidents = rt.services.incident_log.listing(actor.user_id)
    if not incidents:
        await show(update, "No incidents have been logged.")
        return
    page = page_of([listing_line(i, _tz(rt)) for i in incidents], number, per_page=10)
    waiting = sum(1 for i in incidents if i.state != "closed")
    await show(
        update,
        f"<b>Incidents</b> ({waiting} not closed, {len(incidents)} in all)\n" + "\n".join(page.lines) + page.footer
        + "\n\n/incident N shows one with its evidence.",
        page.buttons("inc"),
    )


@staff_only(Permission.VIEW_INCIDENTS)
async def show_incident(update: Update, context: Context, actor: Actor) -> None:
    """/incident N: the record, then the stored evidence itself."""
    rt = runtime(context)
    number = parse_ref(command_args(context))
    if number is None:
        await reply(update, "Usage: <code>/incident 42</code> or <code>/incident INC-0042</code>. /incidents lists them.")
        return
    incidents = rt.services.incident_log
    incident = incidents.view(number, actor.user_id)
    if incident is None:
        await reply(update, f"There is no incident INC-{number:04d}.")
        return
    intact = [incidents.evidence_intact(e) for e in incident.evidence]
    actions = incidents.actions(number)
    # A Head who lost the alert acts from here: Acknowledge first, then the actions (each press role-checked).
    buttons = view_buttons(incident, actions) if allows(actor.role, Permission.ACT_ON_ALERTS) else ()
    # Every line of the record is whole HTML, so a record too long for one message splits between lines.
    record = record_text(incident, actions, incidents.ban_for(number), intact, _tz(rt))
    await send_long(update, record.split("\n"), buttons)
    chat = update.effective_chat
    assert chat is not None
    total = len(incident.evidence)
    for index, (item, ok) in enumerate(zip(incident.evidence, intact, strict=True), start=1):
        caption = f"{incident.ref} · screenshot {index} of {total}"
        if ok:
            stored = rt.services.incidents.evidence.file(item.path)
            try:
                await chat.send_photo(photo=stored, caption=caption)
            except BadRequest as exc:  # too big, too long or too thin for a photo: the file itself
                if not picture_refused(exc):
                    raise
                await chat.send_document(document=stored, caption=caption)
        elif item.kind == "photo":
            await chat.send_photo(photo=item.file_id, caption=caption + " (Telegram's copy)")


def view_buttons(incident: Incident, actions: list[Action]) -> Buttons:
    """Under /incident N: Acknowledge while nobody has; then the alert's actions and Close."""
    if incident.state == "open":
        return ((("Acknowledge", pack("inc", "vack", incident.number)),),)
    return alert_buttons(incident, actions)


async def acknowledge_from_record(update: Update, context: Context) -> None:
    """Acknowledge under /incident N: as on the alert, then the record offers the actions."""
    press = await admit_press(update, context, Permission.ACT_ON_ALERTS, action="acknowledge incident")
    number = press.number if press else None
    if press is None or number is None:
        return
    result = _log(context).acknowledge(number, press.actor.user_id, press.actor.name)
    await _settled(update, context, result, "Acknowledged. The reminders have stopped.")
    await _redraw_record(update, context, press.actor, number)


async def show_bans(update: Update, context: Context, actor: Actor, number: int) -> None:
    """/bans: the ban register, newest first, a page at a time."""
    rt = runtime(context)
    bans = rt.services.incident_log.bans(actor.user_id)
    if not bans:
        await show(update, "The ban register is empty.")
        return
    page = page_of([ban_line(b, _tz(rt)) for b in bans], number, per_page=10)
    await show(update, f"<b>Ban register</b> ({len(bans)})\n" + "\n".join(page.lines) + page.footer, page.buttons("bans"))


list_incidents, incidents_page = paged(Permission.VIEW_INCIDENTS, "list incidents", show_incidents)
list_bans, bans_page = paged(Permission.VIEW_INCIDENTS, "list bans", show_bans)


@staff_only(Permission.VIEW_INCIDENTS)
async def export(update: Update, context: Context, actor: Actor) -> None:
    """/export: every incident as a CSV file."""
    rt = runtime(context)
    count, table = rt.services.incident_log.export_csv(actor.user_id)
    chat = update.effective_chat
    assert chat is not None
    now = rt.services.clock.now()
    await chat.send_document(
        # utf-8-sig: Excel then reads names with accents correctly
        document=InputFile(io.BytesIO(table.encode("utf-8-sig")), filename=f"incidents-{now.astimezone(_tz(rt)).date()}.csv"),
        caption=f"{count} incident{'s' if count != 1 else ''}, as of {_when(now, _tz(rt))}.",
    )


# ---- escalation: derived from storage on every tick --------------------------------------------


def _post_ping(rt: Runtime, incidents: IncidentLog, ping: Ping) -> None:
    """A fresh copy (so the phone rings again) for each Head without one still waiting to go out."""
    incident = ping.incident
    number = incident.number
    caption = alert_caption(incident, incidents.actions(number), incidents.ban_for(number), _tz(rt), reminder=ping.number)
    buttons = alert_buttons(incident, incidents.actions(number))
    waiting = {c.chat_id for c in rt.delivery.thread_copies(alert_thread(number)) if c.state == "pending"}
    people = [p for p in _heads(rt) if p not in waiting]
    if ping.leaders_join:
        people += _leaders(rt)
    for person in dict.fromkeys(people):
        rt.delivery.post(
            f"inc:{number}:ping:{ping.number}:{person}",
            person,
            caption,
            buttons,
            photo=_alert_photo(incident),
            thread=alert_thread(number),
            needs=Permission.ACT_ON_ALERTS,
            photo_note=_photo_note(incident),
        )


def _tell_unreachable(rt: Runtime, incident: Incident) -> None:
    """In plain words: Telegram's own refusal text is for the log, never for staff."""
    minutes = rt.services.config.escalation.unreachable_minutes
    kind = category(incident.category)
    text = (
        f"⚠️ <b>{incident.ref}</b> ({h(kind.title)}) has not reached the Head Teacher after {minutes} minutes. "
        "I keep trying; please tell the Head Teacher directly."
    )
    for person in dict.fromkeys([incident.reporter_id, *_leaders(rt)]):
        rt.delivery.post(f"inc:{incident.number}:unreachable:{person}", person, text, needs=Permission.LOG_MISUSE)


def _tell_reached(rt: Runtime, incident: Incident) -> None:
    """The reporter was told the Head did not have the alert yet: one short follow-up when they do."""
    key = f"inc:{incident.number}:reached"
    if rt.services.outbox.by_key(key) is None:
        rt.delivery.post(
            key, incident.reporter_id, f"✅ <b>{incident.ref}</b> has now reached the Head Teacher.", needs=Permission.LOG_MISUSE
        )


def escalation_work(rt: Runtime) -> Callable[[datetime], Awaitable[datetime | None]]:
    """Re-pings, fallback and the unreachable warning, all derived from what incidents store."""

    async def work(now: datetime) -> datetime | None:
        incidents = rt.services.incident_log
        for incident in incidents.needing_alert():
            raise_alert(rt, incidents, incident)
        for ping in incidents.due_pings(now):
            _post_ping(rt, incidents, ping)
            incidents.record_ping(ping, now)
        heads = set(_heads(rt))
        wake: list[datetime] = []
        for incident in incidents.unacknowledged():
            if incident.next_ping_at is not None:
                wake.append(incident.next_ping_at)
            if rt.services.outbox.by_key(not_yet_key(incident.number)) is not None:
                if head_has_alert(rt, incident):
                    _tell_reached(rt, incident)
                else:
                    wake.append(now + REACHED_CHECK)
            if incident.unreachable_told:
                continue
            copies = [c for c in rt.delivery.thread_copies(alert_thread(incident.number)) if c.chat_id in heads]
            if any(c.state == "sent" for c in copies):
                continue
            deadline = incidents.unreachable_at(incident)
            if now < deadline:
                wake.append(deadline)
            elif incidents.note_unreachable(incident):
                _tell_unreachable(rt, incident)
        return min(wake, default=None)

    return work


# ---- wiring -------------------------------------------------------------------------------------


def register(application: Application, rt: Runtime) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    picture = private & (filters.PHOTO | filters.Document.IMAGE)
    typed = private & filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():
        # PTB warns that button steps are tracked per user, not per message: that is what we want.
        warnings.simplefilter("ignore", PTBUserWarning)
        log_flow = ConversationHandler(
            entry_points=[
                CommandHandler(["log", "misuse", "report"], start_log),
                CallbackQueryHandler(start_from_button, pattern=r"^1:log:start$"),
                CallbackQueryHandler(start_with_photo, pattern=r"^1:log:with:\d+$"),
            ],
            states={
                SCREENSHOTS: [
                    MessageHandler(picture, _screenshot_adder(SCREENSHOTS)),
                    CallbackQueryHandler(screenshots_done, pattern=r"^1:log:done$"),
                    MessageHandler(typed, want_screenshot),
                ],
                CATEGORY: [
                    CallbackQueryHandler(choose_category, pattern=r"^1:log:cat:"),
                    CallbackQueryHandler(screenshots_done, pattern=r"^1:log:done$"),
                    MessageHandler(picture, _screenshot_adder(CATEGORY)),
                    MessageHandler(typed, want_category),
                ],
                NOTE: [
                    MessageHandler(typed, take_note),
                    CallbackQueryHandler(skip_note, pattern=r"^1:log:skip$"),
                    CallbackQueryHandler(choose_category, pattern=r"^1:log:cat:"),
                    MessageHandler(picture, _screenshot_adder(NOTE)),
                ],
                CONFIRM: [
                    CallbackQueryHandler(confirm, pattern=r"^1:log:ok:"),
                    CallbackQueryHandler(skip_note, pattern=r"^1:log:skip$"),
                    MessageHandler(typed, take_note),
                    MessageHandler(picture, _screenshot_adder(CONFIRM)),
                ],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, flow_timed_out)],
            },
            fallbacks=[
                CommandHandler("cancel", cancel_flow),
                CallbackQueryHandler(cancel_flow, pattern=r"^1:log:no$"),
            ],
            allow_reentry=True,
            conversation_timeout=FLOW_TIMEOUT,
            name="incident_log",
        )
        ban_flow = ConversationHandler(
            entry_points=[CallbackQueryHandler(start_ban, pattern=r"^1:inc:ban:")],
            states={
                BAN_NAME: [MessageHandler(typed, ban_name)],
                BAN_REASON: [
                    CallbackQueryHandler(ban_reason, pattern=r"^1:inc:why:"),
                    MessageHandler(typed, ban_reason),
                ],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, ban_timed_out)],
            },
            fallbacks=[
                CommandHandler("cancel", cancel_ban),
                CallbackQueryHandler(cancel_ban, pattern=r"^1:inc:banno$"),
            ],
            allow_reentry=True,
            conversation_timeout=FLOW_TIMEOUT,
            name="incident_ban",
        )
    application.add_handler(log_flow)
    application.add_handler(ban_flow)
    application.add_handler(CallbackQueryHandler(confirm, pattern=r"^1:log:ok:"))  # a late second press
    application.add_handler(CallbackQueryHandler(flow_over, pattern=r"^1:log:"))
    application.add_handler(CallbackQueryHandler(ban_over, pattern=r"^1:inc:(why|banno)"))
    # A caption on a photo that is not forwarded is a consent check (handlers/consent.py).
    loose_picture = (filters.PHOTO & (~filters.CAPTION | filters.FORWARDED)) | filters.Document.IMAGE
    application.add_handler(MessageHandler(private & loose_picture, offer_photo))
    application.add_handler(CallbackQueryHandler(acknowledge, pattern=r"^1:inc:ack:"))
    application.add_handler(CallbackQueryHandler(acknowledge_from_record, pattern=r"^1:inc:vack:"))
    application.add_handler(CallbackQueryHandler(record_action, pattern=r"^1:inc:do:"))
    application.add_handler(CallbackQueryHandler(ask_outcome, pattern=r"^1:inc:close:"))
    application.add_handler(CallbackQueryHandler(close_incident, pattern=r"^1:inc:shut:"))
    application.add_handler(CallbackQueryHandler(back_to_alert, pattern=r"^1:inc:back:"))
    application.add_handler(CallbackQueryHandler(incidents_page, pattern=r"^1:inc:page:"))
    application.add_handler(CallbackQueryHandler(bans_page, pattern=r"^1:bans:page:"))
    application.add_handler(CommandHandler("incidents", list_incidents))
    application.add_handler(CommandHandler("incident", show_incident))
    application.add_handler(CommandHandler("bans", list_bans))
    application.add_handler(CommandHandler("export", export))
    rt.ticker.add("escalation", escalation_work(rt))
