"""Every message about an incident, built here once, with every piece of typed text escaped and
within Telegram's limits (1024 for a caption, 4096 for a text).
"""

from __future__ import annotations

import html
import re
from zoneinfo import ZoneInfo

from bot.clock import show_time
from bot.incidents import CATEGORIES, MAX_NOTE, OUTCOMES, ActionKind, Draft, action_kind, category, guidance
from bot.records.incidents import Action, Ban, Incident, IncidentState
from bot.records.outbox import Buttons
from bot.shell.callbacks import pack
from bot.wording import plural
from handlers.common import MAX_CAPTION, MAX_TEXT, clip, h
from handlers.incidents.shared import CATEGORY, NOTE, SCREENSHOTS
from handlers.paging import clip_text

NAME_CHARS = 40  # names inside an alert caption, which must stay within 1024 characters
ALERTED = "The Head Teacher has been alerted."
NOT_YET_ALERTED = "Alert saved; the Head has not received it yet — I keep trying and will tell SLT if it cannot get through."


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


def _origin_text(incident: Incident) -> str:
    origins = sorted({e.origin for e in incident.evidence if e.origin_type})
    if not origins:
        return ""
    shown = ", ".join(f"“{_name(o or 'unknown')}”" for o in origins[:2])
    return f" · forwarded from {shown}" + (" and others" if len(origins) > 2 else "")


def _status_line(incident: Incident, actions: list[Action], tz: ZoneInfo) -> str:
    if incident.state == IncidentState.CLOSED:
        closed = next((a for a in actions if a.kind == ActionKind.CLOSED.value), None)
        by = f" by {_name(closed.by_name)}" if closed else ""
        outcome = h(OUTCOMES.get(incident.outcome, incident.outcome))
        return f"🔒 Closed: {outcome}{by}, {show_time(incident.closed_at or incident.opened_at, tz)}"
    if incident.state == IncidentState.ACKNOWLEDGED and incident.acknowledged_at:
        return f"✅ Acknowledged by {_name(incident.acknowledged_name)}, {show_time(incident.acknowledged_at, tz)}"
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
        lines.append(f"✅ {what} — {_name(action.by_name)}, {show_time(action.at, tz)}" if names else f"✅ {what}")
    return lines


def alert_caption(incident: Incident, actions: list[Action], ban: Ban | None, tz: ZoneInfo, reminder: int = 0) -> str:
    """The Head's alert: reference, category, clause, reporter and note, within 1024 characters."""
    kind = category(incident.category)
    head = []
    if reminder:
        head.append(f"⏰ <b>Reminder {reminder}: not yet acknowledged</b>")
    head += [
        ("🚨 <b>URGENT</b> · " if incident.urgent else "⚠️ ") + f"<b>{incident.ref}</b> · misuse logged",
        f"{h(kind.label)}" + (f" (policy {kind.clause})" if kind.clause else ""),
        f"Logged by {_name(incident.reporter_name)}, {show_time(incident.opened_at, tz)}",
        f"{plural(len(incident.evidence), 'screenshot')}{_origin_text(incident)}",
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
    if incident.state == IncidentState.CLOSED:
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
    if incident.state == IncidentState.OPEN:
        rows.append((("Acknowledge", pack("inc", "ack", n)),))
    rows += [tuple(taps[i : i + 2]) for i in range(0, len(taps), 2)]
    return tuple(rows)


def _action_data(number: int, kind: ActionKind) -> str:
    return pack("inc", "ban", number) if kind is ActionKind.BANNED else pack("inc", "do", number, kind.value)


def receipt_text(incident: Incident, actions: list[Action], ban: Ban | None, tz: ZoneInfo, *, alerted: bool = False) -> str:
    """What the person who logged it keeps, in the flow's own message: the reference, what to do
    next, and progress. That the Head has the alert (`alerted`) is said once known; that they do
    not have it yet is a message apart (`NOT_YET_ALERTED`), worth a buzz.
    """
    kind = category(incident.category)
    lines = [f"📝 Logged as <b>{incident.ref}</b>: {h(kind.title)}" + (" — urgent." if incident.urgent else ".")]
    advice = guidance(kind)
    if advice and incident.state != IncidentState.CLOSED:
        lines += ["", *(h(line) for line in advice)]
    status = _status_line(incident, actions, tz)
    if alerted and incident.state == IncidentState.OPEN:
        status = f"⏳ {ALERTED} Not yet acknowledged."
    lines += ["", status, *_action_lines(actions, ban, tz)]
    return "\n".join(lines)


def receipt_buttons(incident: Incident, actions: list[Action]) -> Buttons:
    """The reporter's own next steps, by category; each disappears once recorded."""
    if incident.state == IncidentState.CLOSED:
        return ()
    kind = category(incident.category)
    done = {a.kind for a in actions}
    n = incident.number
    wanted: list[ActionKind] = []
    if kind.urgent:
        wanted.append(ActionKind.REMOVED)
    if kind.safeguarding:
        wanted += [ActionKind.CPOMS, ActionKind.PARENT]
    if kind.offers_ban:
        wanted += [ActionKind.BANNED, ActionKind.REPORTED]
    # The same words as on the Head's alert and in the record: one action, one label.
    taps = [(k.label, _action_data(n, k)) for k in wanted if k.value not in done]
    return tuple(tuple(taps[i : i + 2]) for i in range(0, len(taps), 2))


def record_text(incident: Incident, actions: list[Action], ban: Ban | None, intact: list[bool], tz: ZoneInfo) -> str:
    """The whole record for /incident N; the note gives way if everything else is long (4096 at most)."""
    kind = category(incident.category)
    head = [
        f"<b>{incident.ref}</b>" + (" · 🚨 urgent" if incident.urgent else ""),
        f"Category: {h(kind.label)}" + (f" (policy {kind.clause})" if kind.clause else ""),
        f"Logged by {h(clip(incident.reporter_name, 60))}, {show_time(incident.opened_at, tz)}",
        _status_line(incident, actions, tz),
    ]
    lines = ["", f"<b>Evidence</b> ({len(incident.evidence)}):"]
    for index, (item, ok) in enumerate(zip(incident.evidence, intact, strict=True), start=1):
        forwarded = ""
        if item.origin_type:
            sent = f" (sent {show_time(item.origin_date, tz)})" if item.origin_date else ""
            forwarded = f", forwarded from “{h(clip(item.origin or 'unknown', 60))}”{sent}"
        check = "✅ intact" if ok else "❌ stored copy missing or changed"
        lines.append(f"{index}. {item.kind}, {item.size:,} bytes{forwarded}\n   SHA-256 <code>{item.sha256}</code> {check}")
    done = _action_lines(actions, ban, tz)
    if done:
        lines += ["", "<b>Actions</b>", *done]
    if ban is not None:
        lines.append(f"Ban register: “{h(clip(ban.platform_name, 60))}”, {h(clip_text(ban.reason, 200))}")
    if incident.pings:
        lines.append(
            f"\nRe-sent to the Head {plural(incident.pings, 'time')}"
            + ("; the deputy and SLT were alerted." if incident.fallback_alerted else ".")
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
        + f"\n    {icon} {incident.state} · {show_time(incident.opened_at, tz)} · {h(clip(incident.reporter_name, 30))}"
    )


def ban_line(ban: Ban, tz: ZoneInfo) -> str:
    return (
        f"• <b>{h(clip_text(ban.platform_name, 60))}</b> — {h(clip_text(ban.reason, 200))}\n"
        f"    INC-{ban.number:04d} · banned by {h(clip(ban.by_name, 30))}, {show_time(ban.at, tz)}"
    )


def draft_view(state: str, draft: Draft, note: str = "") -> tuple[str, Buttons]:
    """The prompt and buttons for a step of the flow (shown again when a tap or answer was lost)."""
    cancel = ("Cancel", pack("log", "no"))
    shots = len(draft.screenshots)
    if state == SCREENSHOTS:
        if not shots:
            return (
                "<b>Log misuse</b>\nSend me the screenshot of the comment or post (several, if you need): a photo, "
                "a forwarded message with a photo, or an image file.\n/cancel stops at any time.",
                ((cancel,),),
            )
        more = "That is the most one incident can hold." if draft.full else "Send more, or tap Done."
        text = f"{note}Got {plural(shots, 'screenshot')}. {more}"
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
        f"• {plural(shots, 'screenshot')}" + (f" ({forwarded} forwarded)" if forwarded else ""),
        f"• {h(kind.title)}" + (" — urgent" if kind.urgent else ""),
        f"• Note: {h(draft.note)}" if draft.note else "• No note",
        "",
        "Confirm to log it and alert the Head Teacher. Send a new note to replace this one.",
    ]
    return "\n".join(lines), ((("Confirm", pack("log", "ok", draft.id)), cancel),)


def view_buttons(incident: Incident, actions: list[Action]) -> Buttons:
    """Under /incident N: Acknowledge while nobody has; then the alert's actions and Close."""
    if incident.state == IncidentState.OPEN:
        return ((("Acknowledge", pack("inc", "vack", incident.number)),),)
    return alert_buttons(incident, actions)


def ping_text(incident: Incident, actions: list[Action], tz: ZoneInfo) -> str:
    """A re-ping to someone who holds the alert: short, pointing to it; edited with the latest news
    once anyone acts, so no ping still says "waiting" for something already done."""
    ref = f"<b>{incident.ref}</b>"
    if incident.state == IncidentState.CLOSED:
        return f"🔒 {ref} is closed: {h(OUTCOMES.get(incident.outcome, incident.outcome))}. The alert above shows what was done."
    done = [a for a in actions if a.kind != ActionKind.CLOSED.value and action_kind(a.kind) is not None]
    latest = ""
    if done:
        kind = action_kind(done[-1].kind)
        assert kind is not None
        latest = f" Latest: {kind.label} — {_name(done[-1].by_name)}, {show_time(done[-1].at, tz)}."
    if incident.state == IncidentState.ACKNOWLEDGED and incident.acknowledged_at:
        who, when = _name(incident.acknowledged_name), show_time(incident.acknowledged_at, tz)
        return f"✅ {ref} was acknowledged by {who}, {when}.{latest} The alert above shows the rest."
    icon = "🚨" if incident.urgent else "⏰"
    kind_title = h(category(incident.category).title)
    return f"{icon} Still waiting for you: {ref} — {kind_title}.{latest} Tap Acknowledge on the alert above."


def not_yet_text(incident: Incident) -> str:
    return f"Logged as <b>{incident.ref}</b>. {NOT_YET_ALERTED}"


def reached_text(incident: Incident) -> str:
    return f"✅ <b>{incident.ref}</b> has now reached the Head Teacher."


def unreachable_text(incident: Incident, minutes: int) -> str:
    """In plain words: Telegram's own refusal text is for the log, never for staff."""
    return (
        f"⚠️ <b>{incident.ref}</b> — {h(category(incident.category).title)} — has not reached the Head Teacher "
        f"after {plural(minutes, 'minute')}. I keep trying; please tell the Head Teacher directly."
    )
