"""Every text the applications capability sends, built and escaped here."""

from __future__ import annotations

import html
from datetime import datetime

from telegram import Update

from bot.applications import PaperForm
from bot.clock import show_time
from bot.records.applications import Child, GroupApplication, JoinAction, Source, Status
from bot.records.outbox import Buttons
from bot.roles import Permission, allows
from bot.services import Services
from bot.shell.callbacks import pack
from bot.staff import staff_name
from bot.wording import plural, plural_form, verb
from handlers.common import MAX_TEXT, h
from handlers.paging import clip_text, utf16_len

NAME_UNITS = 40  # a Telegram name can be 128 characters; cards show the first 40


def shown_at(services: Services, moment: datetime) -> str:
    return show_time(moment, services.config.school.timezone)


def child_line(services: Services, child: Child) -> str:
    pupil = services.consents.get(child.pupil_id) if child.pupil_id else None
    if pupil is None:
        return f"• {h(clip_text(child.name, CHILD_UNITS))} ⚠️ <b>not found on the register</b>"
    form = f" ({h(pupil.class_name)})" if pupil.class_name else ""
    return f"• {h(pupil.full_name)}{form} ✅ on the register"


def waited_for(since: datetime, now: datetime) -> str:
    hours = int((now - since).total_seconds() // 3600)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return plural(hours, "hour")
    return plural(hours // 24, "day")


def card_text(services: Services, application: GroupApplication) -> str:
    """The application as leaders see it; once decided, who decided and when."""
    a = application
    lines = [f"<b>Parents' group application #{a.number}</b>"]
    if a.recorded_by:
        recorders = ", ".join(h(clip_text(staff_name(services.staff, uid), NAME_UNITS)) for uid in a.recorded_by[:3])
        more = len(a.recorded_by) - 3
        recorders += f" and {plural(more, 'other')}" if more > 0 else ""
        lines.append(f"📄 Paper form {h(a.form_ref)}, recorded by {recorders}")
    if a.applicant_id:
        handle = f" (@{h(a.applicant_username)})" if a.applicant_username else ""
        lines.append(f"📱 Telegram join request{handle}")
    relationship = f" ({h(a.relationship)})" if a.relationship else ""
    # A join requester's name is whatever they typed into Telegram: said so, never presented as checked.
    unverified = " <i>(their Telegram name, not checked)</i>" if a.source is Source.TELEGRAM else ""
    lines.append(f"Parent: <b>{h(clip_text(a.parent_name, CHILD_UNITS))}</b>{relationship}{unverified}")
    lines.append("Children:" if a.children else "Children: <i>not given yet</i>")
    lines += [child_line(services, child) for child in a.children]
    lines.append(f"Code of conduct (policy 2.2): {'signed ✅' if a.conduct_signed else 'not signed ❌'}")
    if a.contact:
        lines.append(f"Contact: {h(a.contact)}")
    if a.phone:
        lines.append(f"Phone: {h(a.phone)}")
    if a.same_name_as and a.status is not Status.LINKED:
        lines.append(
            f"⚠️ <b>Same name as form #{a.same_name_as} — verify before approving.</b> Not linked to it: "
            "nothing the school wrote on that form (Telegram username, phone) matches this Telegram account."
        )
    if a.previous:
        earlier = services.application_desk.get(a.previous)
        lines.append(f"Applied before: #{a.previous}" + (f" ({earlier.status.value})" if earlier else ""))
    lines.append(f"Received {shown_at(services, a.submitted_at or a.created_at)}")
    if a.status in (Status.APPROVED, Status.REJECTED) and a.decided_at:
        mark, verb = ("✅", "Approved") if a.status is Status.APPROVED else ("❌", "Rejected")
        by = h(clip_text(staff_name(services.staff, a.decided_by), NAME_UNITS))
        lines.append(f"\n{mark} <b>{verb}</b> by {by} at {shown_at(services, a.decided_at)}")
        if a.reason:
            lines.append(f"Reason: {h(clip_text(a.reason, REASON_UNITS))}")
    elif a.status is Status.LINKED:
        lines.append(f"\n🔗 Linked to application #{a.linked_to}")
    elif a.status is Status.COLLECTING:
        lines.append("\n<i>Waiting for the applicant's answers</i>")
    return "\n".join(lines)


# With every field at its longest (emoji count twice), a card stays well inside 4096 with a
# reminder's header above it: children and reasons are clipped by what Telegram counts.
CHILD_UNITS = 100
REASON_UNITS = 600


def decision_buttons(number: int) -> Buttons:
    return (
        (("Approve", pack("app", "ok", number)), ("Reject", pack("app", "no", number))),
        (("Ask for information", pack("app", "ask", number)),),
    )


def confirm_text(services: Services, application: GroupApplication, approve: bool) -> tuple[str, str]:
    """The card with the question a second tap answers, and the label of its Yes."""
    n, card = application.number, card_text(services, application)
    if not approve:
        told = "the parent is told" if application.applicant_id else "whoever recorded the form is told"
        return card + f"\n\n<b>Reject application #{n}?</b> This cannot be undone: {told}.", "Yes, reject"
    missing = application.unmatched
    children = plural(missing, "child")
    text = (
        card + f"\n\n<b>Approve application #{n}?</b> ⚠️ {children} {verb(missing, 'is')} not found on the register: "
        "approve only if you know who the parent is."
    )
    return text, f"Yes, approve — {plural_form(missing, 'child')} not on the register"


def school_name(services: Services) -> str:
    return h(services.config.school.name)


def ask_child_text(services: Services, name: str) -> str:
    return (
        f"Hello {h(name)}. Thank you for asking to join the parents' group of {school_name(services)}.\n\n"
        "The senior leaders check every request (policy 1.3). Please reply with your child's full name "
        "(one per line if you have more than one child at the school).\n\n"
        "If you gave the school a paper form with your phone number on it, you can share your contact "
        "here instead (📎 → Contact → yourself)."
    )


# What applicants read when the school has not put its own code of conduct in the config: the
# group rules of the social media policy, in a parent's words (clause 2.2, never its text).
DEFAULT_CONDUCT = (
    "• Be kind and respectful: nothing offensive, abusive or threatening.\n"
    "• Do not post photos, videos or names of other people's children.\n"
    "• Do not share what is posted in the group outside it.\n"
    "• Raise worries about a child, a parent or the staff with the school office, not in the group.\n"
    "• The school may remove posts, and members who break these rules."
)


def conduct_text(services: Services) -> str:
    """The code of conduct as the applicant reads it before agreeing: the school's text and/or link, or the summary."""
    config = services.config.applications
    text, url = config.code_of_conduct, config.code_of_conduct_url
    shown = f"<blockquote expandable>{h(text or DEFAULT_CONDUCT)}</blockquote>" if text or not url else ""
    link = f'\nRead it in full: <a href="{html.escape(url)}">{h(url)}</a>' if url else ""
    return f"<b>The code of conduct of the parents' group</b> (policy 2.2)\n{shown}{link}"


def ask_conduct_text(services: Services) -> str:
    return (
        f"Thank you. Last step: every member of the parents' group of {school_name(services)} agrees to follow "
        f"its code of conduct. Please read it:\n\n{conduct_text(services)}\n\nDo you agree to follow it?"
    )


def conduct_buttons(number: int) -> Buttons:
    return ((("I agree", pack("apj", "yes", number)), ("I do not agree", pack("apj", "no", number))),)


def conduct_refused_text(services: Services) -> str:
    """After "I do not agree": the code stays in view under the one button left, so nothing is agreed unseen."""
    return (
        "Without agreeing to the code of conduct your request cannot go to the senior leaders. "
        f"If you change your mind, tap <b>I agree</b>.\n\n{conduct_text(services)}"
    )


def conduct_agreed_text(services: Services, at: datetime) -> str:
    """What the code of conduct message keeps once agreed to: the code itself, so the applicant can read it again."""
    return f"{conduct_text(services)}\n\n✅ You agreed on {shown_at(services, at)}."


WITH_LEADERS = "Thank you. Your request is with the senior leaders; I will tell you their decision here."


def applicant_status(services: Services, application: GroupApplication) -> tuple[str, Buttons]:
    """Where a join requester's application stands, and what they can do next."""
    if application.status is Status.COLLECTING and not application.children:
        return ask_child_text(services, application.parent_name), ()
    if application.status is Status.COLLECTING:
        return ask_conduct_text(services), conduct_buttons(application.number)
    return WITH_LEADERS, ()


def outcome_for_applicant(services: Services, application: GroupApplication) -> str:
    if application.status is Status.APPROVED:
        return (
            f"Good news: your request to join the parents' group of {school_name(services)} has been approved. "
            "Welcome! Please follow the code of conduct you agreed to (policy 2.2)."
        )
    reason = f"\nReason: {h(application.reason)}" if application.reason else ""
    return (
        f"Sorry, your request to join the parents' group of {school_name(services)} has not been approved.{reason}\n"
        "If you have any questions, please contact the school office."
    )


def reminder_text(services: Services, application: GroupApplication) -> str:
    waited = waited_for(application.submitted_at or application.created_at, services.clock.now())
    return f"⏰ <b>Reminder</b>: this application has waited {waited} for a decision.\n\n" + card_text(services, application)


def head_notice_text(services: Services, application: GroupApplication) -> str:
    waited = "⏰ <b>For the Head Teacher</b>: this application has waited over a week for a decision.\n\n"
    return waited + card_text(services, application)


def ping_text(services: Services, application: GroupApplication, *, head: bool = False) -> str:
    """A reminder to a leader who already holds the card: two lines pointing to it, not another copy.
    Edited once someone decides, so no ping still says "waiting" for a decision already taken."""
    a = application
    name = h(clip_text(a.parent_name, NAME_UNITS))
    if a.status in (Status.APPROVED, Status.REJECTED) and a.decided_at:
        mark, done = ("✅", "approved") if a.status is Status.APPROVED else ("❌", "rejected")
        by = h(clip_text(staff_name(services.staff, a.decided_by), NAME_UNITS))
        return f"{mark} Application #{a.number} ({name}) was {done} by {by}, {shown_at(services, a.decided_at)}."
    who = "<b>For the Head Teacher</b>: application" if head else "<b>Reminder</b>: application"
    waited = "over a week" if head else waited_for(a.submitted_at or a.created_at, services.clock.now())
    return (
        f"⏰ {who} #{a.number} ({name}) has waited {waited} for a decision.\n"
        "Approve, Reject or Ask for information on its card above."
    )


def nudge_text(services: Services, application: GroupApplication) -> tuple[str, Buttons]:
    text, buttons = applicant_status(services, application)
    return "A reminder about your request to join the parents' group.\n\n" + text, buttons


def join_refused_text(application: GroupApplication, detail: str) -> str:
    """Telegram would not carry out a decision on a join request: a leader does it by hand."""
    verb = "approve" if application.join_action is JoinAction.APPROVE else "decline"
    return (
        f"⚠️ <b>Telegram refused to {verb} the join request</b> of application #{application.number} "
        f"({h(application.parent_name)}): {h(clip_text(detail, 200))}\n"
        f"The decision stands. Please {verb} the request by hand in the parents' group "
        "(group info → Members → Join requests); the bot may no longer be an admin there."
    )


def outcome_for_recorder(services: Services, application: GroupApplication) -> str:
    approved = application.status is Status.APPROVED
    mark, verb = ("✅", "approved") if approved else ("❌", "rejected")
    reason = f"\nReason: {h(application.reason)}" if application.reason else ""
    return (
        f"{mark} Application #{application.number} ({h(application.parent_name)}), whose form you recorded, "
        f"was {verb} by {h(clip_text(staff_name(services.staff, application.decided_by), NAME_UNITS))}.{reason}"
    )


def recipients(services: Services, application: GroupApplication, leaving_out: int = 0) -> str:
    """Who a reason or a question reaches, in words."""
    who = ["the applicant"] if application.applicant_id else []
    recorders = [
        uid
        for uid in application.recorded_by
        if uid != leaving_out and allows(services.staff.role_of(uid), Permission.RECORD_APPLICATION)
    ]  # someone whose access ended since recording the form is no longer told, so not named
    if recorders:
        who.append(
            ", ".join(h(clip_text(staff_name(services.staff, uid), NAME_UNITS)) for uid in recorders) + " (recorded the form)"
        )
    if who:
        return " and ".join(who)
    if leaving_out in application.recorded_by:
        return "nobody else (you recorded the form yourself)"
    return "nobody: whoever recorded the form no longer has access, so please contact the parent yourself"


def form_summary(services: Services, form: PaperForm) -> str:
    lines = [
        "<b>Check the form before it goes to the senior leaders</b>",
        f"Parent: <b>{h(form.parent_name)}</b> ({h(form.relationship)})",
        "Children:",
        *(child_line(services, child) for child in form.children),
        "Code of conduct (policy 2.2): signed ✅",
        f"Form reference: {h(form.form_ref)}",
        f"Telegram username: {h(form.contact) if form.contact else '<i>none</i>'}",
        f"Phone: {h(form.phone) if form.phone else '<i>none</i>'}",
    ]
    return "\n".join(lines)


def history_text(services: Services, application: GroupApplication) -> str:
    """The card and as much recent history as fits in one message (measured as Telegram does)."""
    card = card_text(services, application)
    events = services.application_desk.history(application.number)
    lines = [f"• {shown_at(services, e.at)}: {h(clip_text(e.text, 300))}" for e in events]
    room = MAX_TEXT - utf16_len(card) - len("\n\nHistory\n")
    kept: list[str] = []
    for line in reversed(lines):  # the newest first in, the oldest first out
        room -= utf16_len(line) + 1
        if room < 0:
            break
        kept.insert(0, line)
    return card + "\n\n<b>History</b>\n" + "\n".join(kept) if kept else card


def text_of(update: Update) -> str:
    """The text someone just sent ("" for anything else)."""
    message = update.effective_message
    return (message.text or "") if message else ""


def already_decided(services: Services, application: GroupApplication | None) -> str:
    """Why a card's button does nothing now: expired, linked, decided (by whom), or not ready."""
    if application is None:
        return "This button has expired."
    if application.status is Status.LINKED:
        return f"This application was linked to #{application.linked_to}."
    if application.decided_by:
        return f"Already decided by {clip_text(staff_name(services.staff, application.decided_by), NAME_UNITS)}."
    return "This application is not ready for a decision."
