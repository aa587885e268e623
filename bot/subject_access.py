"""Subject access: everything the bot holds about one pupil, and who looked at it (UK GDPR art. 15).

The Head (or a data-protection lead named in the config) finds the pupil as /consent does,
leavers included, then gets one report built from every store: the consent record, every
check and lookup that named the pupil (from the audit log, by pupil id), incidents whose
words name them (the note, the outcome, the actions taken), applications that list them or
name them in words, and every audit entry about them. A record that gives only the pupil's
first name may be about another child: it is listed apart, said so, never silently dropped.
The lookup itself is audited, so the next report shows it too.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.audit_view import Wording, actor_words, describe, pupils_named
from bot.auditing import Auditor
from bot.config import Config
from bot.consent import ConsentVerdict, verdict
from bot.exports import safe_cell
from bot.name_mentions import NameFinder
from bot.names import PupilIndex, Resolution, fold
from bot.records.applications import GroupApplication, Status
from bot.records.audit import SYSTEM, AuditEntry
from bot.records.consent import ConsentEvent, Pupil
from bot.records.incidents import Incident
from bot.register_import import event_what, event_when, event_who
from bot.roles import Role
from bot.staff import staff_name
from bot.wording import plural
from storage.applications import ApplicationRepository
from storage.audit import AuditLog
from storage.consents import ConsentRepository
from storage.incidents import IncidentRepository
from storage.staff import StaffRepository

CHECKS = ("consent lookup", "photo check", "draft check", "photo safety check")
RECORD_VIEWS = ("view incident", "view application")
VIEWS = b'"action":"view '  # the bytes every RECORD_VIEWS line holds (AuditEntry.to_json), to skip the rest undecoded
BLURS = b'"action":"photo blurred"'
LOOKUP_ACTIONS = (*CHECKS, *RECORD_VIEWS, "subject access", "register import")


@dataclass(frozen=True)
class PupilReport:
    pupil: Pupil
    verdict: ConsentVerdict
    checks: tuple[AuditEntry, ...]  # consent lookups, photo, photo-safety and draft checks that named the pupil
    incidents: tuple[Incident, ...]
    applications: tuple[GroupApplication, ...]
    first_name_incidents: tuple[Incident, ...]  # name only the pupil's first name: perhaps another child
    first_name_applications: tuple[GroupApplication, ...]
    entries: tuple[AuditEntry, ...]  # every audit entry about the pupil, oldest first
    viewers: tuple[tuple[int, int, datetime], ...]  # (staff id, times, last time), most recent first
    namesakes: tuple[str, ...] = ()  # ids of other pupils of the same name: a record naming it may be theirs
    history: tuple[ConsentEvent, ...] = ()  # the changes to their consent record, oldest first


def only_this_pupil(entry: AuditEntry, pupil_id: str) -> AuditEntry:
    """The entry with every other pupil's id replaced by "another pupil": a photo check of three
    children must not tell one child's parent the others' ids and consent answers."""
    target, detail = entry.target, entry.detail
    for other in set(pupils_named(entry)) - {pupil_id}:
        alone = re.compile(rf"(?<![\w-]){re.escape(other)}(?![\w-])")
        target, detail = alone.sub("another pupil", target), alone.sub("another pupil", detail)
    return replace(entry, target=target, detail=detail)


def others_hidden(text: str, pupil: Pupil, everyone: NameFinder) -> str:
    """The text with other pupils' full names (a near spelling too) replaced by "[another pupil]"."""
    for mention in reversed(everyone.mentions(text)):
        if mention.kind != "first" and pupil.pupil_id not in {p.pupil_id for p in mention.pupils}:
            text = text[: mention.start] + "[another pupil]" + text[mention.end :]
    return text


class SubjectAccess:
    """Finds a pupil (leavers too) and gathers what is held about them; both steps audited."""

    def __init__(
        self,
        consents: ConsentRepository,
        incidents: IncidentRepository,
        applications: ApplicationRepository,
        staff: StaffRepository,
        log: AuditLog,
        audit: Auditor,
        config: Config,
        today: Callable[[], date],
    ) -> None:
        self.consents = consents
        self.incidents = incidents
        self.applications = applications
        self.staff = staff
        self.log = log
        self.audit = audit
        self.config = config
        self.today = today

    def may_use(self, user_id: int) -> bool:
        """The Head, or a data-protection lead named in the config who is still staff."""
        role = self.staff.role_of(user_id)
        return role is Role.HEAD or (role is not None and user_id in self.config.roles.data_protection_leads)

    def find(self, actor_id: int, query: str) -> Resolution:
        """The consent matcher over every pupil the register holds, leavers included (they have data too)."""
        everyone = self.consents.all()
        index = PupilIndex(replace(p, left=False) for p in everyone)
        resolution = index.resolve(query)
        by_id = {p.pupil_id: p for p in everyone}
        matches = tuple(replace(m, pupil=by_id[m.pupil.pupil_id]) for m in resolution.matches)
        target = matches[0].pupil.pupil_id if resolution.kind == "one" else f"{len(matches)} matches"
        self.audit(actor_id, "subject access search", target, outcome=resolution.kind)
        return replace(resolution, matches=matches)

    def pupil(self, pupil_id: str) -> Pupil | None:
        return self.consents.get(pupil_id)

    def report(self, actor_id: int, pupil_id: str) -> PupilReport | None:
        """Everything held about the pupil; the request is audited first, so it is in the report too."""
        pupil = self.consents.get(pupil_id)
        if pupil is None:
            return None
        self.audit(actor_id, "subject access", pupil.pupil_id)
        finder = NameFinder([replace(pupil, left=False)])

        def named(texts: list[str]) -> str:
            """ "full" when a text names the pupil (a near spelling too), "first" when only their first name."""
            kinds = {m.kind for text in texts for m in finder.mentions(text)}
            return "full" if kinds & {"full", "near"} else "first" if "first" in kinds else ""

        actions: dict[int, list[str]] = {}
        for action in self.incidents.all_actions():
            actions.setdefault(action.number, []).append(action.detail)
        for ban in self.incidents.bans():
            actions.setdefault(ban.number, []).extend((ban.platform_name, ban.reason))
        incidents: dict[str, list[Incident]] = {"full": [], "first": [], "": []}
        for incident in sorted(self.incidents.all(), key=lambda i: i.number):
            incidents[named([incident.note, incident.outcome, *actions.get(incident.number, [])])].append(incident)
        applications: dict[str, list[GroupApplication]] = {"full": [], "first": [], "": []}
        for application in sorted(self.applications.with_status(*Status), key=lambda a: a.number):
            texts = [child.name for child in application.children if not child.pupil_id] + [application.reason]
            found = "full" if pupil.pupil_id in application.pupil_ids() else named(texts)
            applications[found].append(application)
        # Opening an incident or application that names the pupil is looking at them too, though
        # its audit entry names only the record.
        records = {i.ref for i in incidents["full"]} | {f"application {a.number}" for a in applications["full"]}
        about = [e for _, e in self.log.walk_back(needle=pupil.pupil_id.encode()) if pupil.pupil_id in pupils_named(e)]
        if records:
            about += [e for _, e in self.log.walk_back(needle=VIEWS) if e.action in RECORD_VIEWS and e.target in records]
        photos = {e.target for e in about if e.action == "photo safety check"}
        if photos:  # the blurring of a photo whose check read the pupil's name
            about += [e for _, e in self.log.walk_back(needle=BLURS) if e.action == "photo blurred" and e.target in photos]
        ordered = sorted(reversed(about), key=lambda e: e.at)  # oldest first; the log's order kept within a second
        entries = tuple(only_this_pupil(e, pupil.pupil_id) for e in ordered)
        checks = tuple(e for e in entries if e.action in CHECKS and e.actor_id != SYSTEM)
        looked = [e for e in entries if e.action in LOOKUP_ACTIONS and e.actor_id != SYSTEM]
        times = Counter(e.actor_id for e in looked)
        last: dict[int, datetime] = {}
        for entry in looked:
            last[entry.actor_id] = entry.at
        viewers = tuple(sorted(((who, times[who], at) for who, at in last.items()), key=lambda v: v[2], reverse=True))
        everyone = NameFinder(self.consents.all())
        today = self.today()
        return PupilReport(
            pupil,
            verdict(pupil, self.config.consent.purposes, today),
            checks,
            tuple(replace(i, note=others_hidden(i.note, pupil, everyone)) for i in incidents["full"]),
            tuple(applications["full"]),
            tuple(replace(i, note=others_hidden(i.note, pupil, everyone)) for i in incidents["first"]),
            tuple(applications["first"]),
            entries,
            viewers,
            tuple(
                p.pupil_id
                for p in self.consents.all()
                if p.pupil_id != pupil.pupil_id and fold(p.full_name) == fold(pupil.full_name)
            ),
            self.consents.history(pupil.pupil_id),
        )

    def wording(self) -> Wording:
        config = self.config
        return Wording(lambda uid: staff_name(self.staff, uid), config.consent.label, config.school.timezone)

    def history_lines(self, report: PupilReport) -> list[tuple[ConsentEvent, str, str, str]]:
        """Each change to the consent record, newest first: (the change, when, what, who) in plain English."""
        wording = self.wording()
        return [
            (event, event_when(event, wording.tz), event_what(event, wording.purpose), event_who(event, wording.name_of))
            for event in reversed(report.history)
        ]

    def csv(self, report: PupilReport) -> bytes:
        """The whole report as one spreadsheet-safe CSV (UTF-8 with BOM), raw ids included for checking."""
        wording = self.wording()
        tz = self.config.school.timezone
        pupil = report.pupil

        def when(moment: datetime | None) -> str:
            return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

        rows: list[list[str]] = [
            ["section", "when", "who", "what", "reference"],
            ["pupil", "", "", f"{pupil.full_name} ({pupil.first_name} {pupil.last_name})", pupil.pupil_id],
            ["pupil", "", "", f"class {pupil.class_name}" + ("; left the school" if pupil.left else ""), pupil.pupil_id],
            [
                "consent",
                pupil.form_date.isoformat() if pupil.form_date else "",
                "",
                "form returned" if pupil.form_date else "no form",
                f"expires {pupil.expires or 'never'}; withdrawn {pupil.withdrawn or 'no'}",
            ],
        ]
        if report.namesakes:
            same = "other pupils of the same name: records naming it may be theirs"
            rows.append(["pupil", "", "", same, " ".join(report.namesakes)])
        for item in report.verdict.purposes:
            rows.append(["consent", "", "", f"{wording.purpose(item.purpose)}: {'yes' if item.allowed else 'no'}", item.reason])
        for event, _, change, by in self.history_lines(report):
            rows.append(["consent history", when(event.at), by, change, f"user {event.actor_id}; via {event.via}"])
        for entry in report.checks:
            rows.append(["check", when(entry.at), actor_words(entry, wording), describe(entry, wording), entry.detail])
        for incident in report.incidents:
            rows.append(["incident", when(incident.opened_at), incident.reporter_name, incident.note, incident.ref])
        for incident in report.first_name_incidents:
            rows.append(
                [
                    "incident naming only the first name",
                    when(incident.opened_at),
                    incident.reporter_name,
                    incident.note,
                    incident.ref,
                ]
            )
        for section, applications in (
            ("application", report.applications),
            ("application naming only the first name", report.first_name_applications),
        ):
            for application in applications:
                rows.append(
                    [
                        section,
                        when(application.created_at),
                        application.parent_name,
                        f"{application.relationship} — {application.status.value}",
                        f"application {application.number}",
                    ]
                )
        for who, times, at in report.viewers:
            rows.append(["looked at by", when(at), staff_name(self.staff, who), plural(times, "time"), f"user {who}"])
        for entry in report.entries:
            rows.append(
                [
                    "audit",
                    when(entry.at),
                    actor_words(entry, wording),
                    describe(entry, wording),
                    f"user {entry.actor_id}; {entry.action}; {entry.target}; {entry.outcome}; {entry.detail}",
                ]
            )
        out = io.StringIO()
        writer = csv.writer(out)
        for row in rows:
            writer.writerow([safe_cell(cell) for cell in row])
        return out.getvalue().encode("utf-8-sig")
