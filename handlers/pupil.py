"""/pupil NAME: a subject access request answered — everything held about one pupil, and who looked.

For the Head and the configured data-protection leads, in a private chat only. Identity comes
first, as in /consent; then a readable summary (split into messages within Telegram's limit)
and the whole of it as a CSV file to keep with the request. The lookup is audited, so it shows
in the next answer about the same pupil.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from telegram import InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.audit_view import describe
from bot.clock import show_date, show_time
from bot.records.applications import GroupApplication
from bot.records.consent import Pupil
from bot.records.incidents import Incident
from bot.roles import Permission
from bot.shell.ticker import Runtime, runtime
from bot.staff import staff_name
from bot.subject_access import PupilReport
from handlers.common import Actor, Context, admit_press, answer, command_args, h, reply, staff_only
from handlers.menu import MenuCommand
from handlers.paging import clip_text, send_long
from handlers.pupil_pick import ask_which_pupil, find_pupil, picked_pupil, subject_access

# Shown to the Head by role; `register` adds the data-protection leads named in the config by id.
COMMANDS = (MenuCommand("pupil", "Everything held about one pupil, and who looked (subject access)", Permission.VIEW_AUDIT),)
USAGE = "Usage: <code>/pupil NAME</code>, for example <code>/pupil Amelia Smith</code>."
MAX_QUERY = 200
LISTED = 50  # entries of each section in the messages; the file has them all


async def _allowed(update: Update, context: Context, actor: Actor) -> bool:
    if subject_access(runtime(context)).may_use(actor.user_id):
        return True
    runtime(context).services.audit(actor.user_id, "subject access", outcome="refused: role")
    await reply(update, "Sorry, only the Head Teacher or the school's data-protection lead can do that.")
    return False


@staff_only(None, action="subject access")
async def pupil(update: Update, context: Context, actor: Actor) -> None:
    """/pupil NAME: the report for an exact name; otherwise "Did you mean ...?" first."""
    if not await _allowed(update, context, actor):
        return
    typed = command_args(context)
    if not typed or len(typed) > MAX_QUERY:
        await reply(update, USAGE)
        return
    rt = runtime(context)
    resolution = find_pupil(rt, actor, typed)
    if resolution.kind == "none":
        await reply(update, f"No pupil on the register, past or present, is called “{h(clip_text(typed, 60))}”.")
    elif resolution.kind == "one":
        await send_report(update, rt, actor, resolution.matches[0].pupil)
    else:
        await reply(update, *ask_which_pupil(context, "sar", typed, resolution))


async def pick(update: Update, context: Context) -> None:
    """A tap on the pupil meant: now the report (the role is checked again)."""
    press = await admit_press(update, context, None, action="subject access")
    if press is None or not await _allowed(update, context, press.actor):
        return
    if press.callback.action != "fu":
        await answer(update, "This button has expired. Type /pupil NAME again.")
        return
    rt = runtime(context)
    args = press.callback.args
    chosen = picked_pupil(context, rt, press.number, args[1] if len(args) > 1 else "")
    if chosen is None:
        await answer(update, "This question has expired. Type /pupil NAME again.")
        return
    await answer(update)
    await send_report(update, rt, press.actor, chosen)


async def send_report(update: Update, rt: Runtime, actor: Actor, chosen: Pupil) -> None:
    service = subject_access(rt)
    report = service.report(actor.user_id, chosen.pupil_id)
    if report is None:
        await reply(update, "That pupil is no longer in the register. Search again.")
        return
    await send_long(update, report_lines(rt, report))
    chat = update.effective_chat
    assert chat is not None
    today = rt.services.today().isoformat()
    await chat.send_document(
        document=InputFile(service.csv(report), filename=f"subject-access-{_in_a_filename(report.pupil.pupil_id)}-{today}.csv"),
        caption="Everything above, in full, as a spreadsheet (CSV) to keep with the request.",
    )


def _in_a_filename(pupil_id: str) -> str:
    """A register's id as a file name may hold it ("2019/045" is a folder on a PC): short, letters and digits."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", pupil_id)[:20].strip("-") or "pupil"


def report_lines(rt: Runtime, report: PupilReport) -> list[str]:
    """The summary: who the pupil is, their consent and its history, checks, incidents, applications, who looked, the audit."""
    tz = rt.services.config.school.timezone
    wording = subject_access(rt).wording()
    pupil = report.pupil

    def when(moment: datetime) -> str:
        return show_time(moment, tz)

    left = " — <i>left the school</i>" if pupil.left else ""
    lines = [
        f"<b>Everything held about {h(clip_text(pupil.full_name, 60))}</b> ({h(clip_text(pupil.class_name, 20))}, "
        f"id {h(clip_text(pupil.pupil_id, 20))}){left}",
        "",
        "<b>Consent record</b>",
        f"Form returned: {show_date(pupil.form_date) if pupil.form_date else 'no form'}; "
        f"expires: {show_date(pupil.expires) if pupil.expires else 'never'}; "
        f"withdrawn: {show_date(pupil.withdrawn) if pupil.withdrawn else 'no'}",
    ]
    for item in report.verdict.purposes:
        reason = f" — {h(item.reason)}" if not item.allowed else ""
        lines.append(f"{'✅' if item.allowed else '❌'} {h(wording.purpose(item.purpose))}{reason}")
    history = subject_access(rt).history_lines(report)
    lines += ["", f"<b>Consent history</b> ({len(history)}, newest first)"]
    lines += [f"{h(day)} — {h(clip_text(what, 300))} ({h(clip_text(who, 60))})" for _, day, what, who in history[:LISTED]] or [
        "No change recorded since the bot began keeping this history."
    ]
    if len(history) > LISTED:
        lines.append(f"<i>…the {len(history) - LISTED} older changes are in the file.</i>")
    lines += ["", f"<b>Checks that named them</b> ({len(report.checks)})"]
    lines += [f"{when(e.at)} {h(clip_text(describe(e, wording), 200))}" for e in report.checks[-LISTED:]] or ["None."]
    if report.namesakes:
        others = h(clip_text(", ".join(report.namesakes), 200))
        lines += ["", f"⚠️ Another pupil has the same name ({others}): an incident or application below may be about them."]
    lines += ["", f"<b>Incidents mentioning them</b> ({len(report.incidents)})"]
    lines += [_incident(i, when) for i in report.incidents[-LISTED:]] or ["None."]
    lines += ["", f"<b>Parents' group applications naming them</b> ({len(report.applications)})"]
    lines += [_application(a, when) for a in report.applications[-LISTED:]] or ["None."]
    if report.first_name_incidents or report.first_name_applications:
        first = h(clip_text(pupil.preferred_name or pupil.first_name, 40))
        lines += [
            "",
            f"<b>Records that give only the first name “{first}”</b> "
            f"({len(report.first_name_incidents) + len(report.first_name_applications)}): "
            "they may be about another child of that name; read them before including them.",
        ]
        lines += [_incident(i, when) for i in report.first_name_incidents[-LISTED:]]
        lines += [_application(a, when) for a in report.first_name_applications[-LISTED:]]
    lines += ["", "<b>Who looked at this pupil</b>"]
    lines += [
        f"{h(clip_text(staff_name(rt.services.staff, who), 40))}: {times} time{'s' if times != 1 else ''}, last {when(at)}"
        for who, times, at in report.viewers
    ] or ["Nobody."]
    lines += ["", f"<b>Audit entries about them</b> ({len(report.entries)}, newest last)"]
    lines += [f"{when(e.at)} {h(clip_text(describe(e, wording), 200))}" for e in report.entries[-LISTED:]]
    if len(report.entries) > LISTED:
        lines.append(f"<i>…the {len(report.entries) - LISTED} older entries are in the file.</i>")
    return lines


def _incident(incident: Incident, when: Callable[[datetime], str]) -> str:
    return f"{incident.ref} {when(incident.opened_at)} — {incident.state.value}: {h(clip_text(incident.note, 120))}"


def _application(application: GroupApplication, when: Callable[[datetime], str]) -> str:
    parent, relationship = h(clip_text(application.parent_name, 40)), h(clip_text(application.relationship, 20))
    who = f"{parent} ({relationship})" if relationship else parent
    return f"#{application.number} {when(application.created_at)} — {who}, {application.status.value}"


def register(application: Application, rt: Runtime) -> None:
    leads = frozenset(rt.services.config.roles.data_protection_leads)
    rt.menu[:] = [replace(c, people=leads) if c in COMMANDS else c for c in rt.menu]
    application.add_handler(CommandHandler("pupil", pupil))
    application.add_handler(CallbackQueryHandler(pick, pattern=r"^1:sar:"))
