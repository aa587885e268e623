"""Every text the consent handlers show: verdict cards, "Did you mean ...?", photo and draft reports, expiring lists."""

from __future__ import annotations

from collections.abc import Sequence

from bot.clock import show_date
from bot.consent import ConsentVerdict
from bot.draft_check import DraftReport
from bot.names import Resolution, fold
from bot.photo_check import PhotoCheck
from bot.records.consent import Pupil
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime
from bot.wording import plural, verb
from handlers.common import clip, h
from handlers.consent.shared import pupil_token


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


def photo_report(
    rt: Runtime, check: PhotoCheck, number: int, held: str | None = None
) -> tuple[str, tuple[tuple[tuple[str, str], ...], ...]]:
    """Every name's verdict, the overall line, and buttons to confirm the first unconfirmed name.

    `held` is what the photo itself shows against an upload (photo safety: faces nobody named, a
    pupil's name readable in it): consent for the pupils named is then not enough (policy 4.4)."""
    lines = [f"<b>Photo check for the {purpose_label(rt, check.purpose)}</b>"]
    for row in check.rows:
        # 40 rows of at most ~80 characters each keep the report within Telegram's 4,096.
        name = h(clip(row.pupil.full_name, 40)) if row.pupil else f"“{h(clip(row.typed, 40))}”"
        lines.append(f"✅ {name}" if row.allowed else f"❌ {name} — {h(row.reason)}")
    lines.append("")
    if check.ok_to_upload and held:
        lines.append(
            f"⚠️ <b>Not yet</b>: every pupil named has consent for this, but {h(held)}. "
            "Upload the blurred copy, or name and check every child in it (4.4)."
        )
    elif check.ok_to_upload:
        lines.append("<b>OK to upload</b>: every pupil named has consent for this.")
    else:
        blocked = sum(not row.allowed for row in check.rows)
        named = plural(len(check.rows), "pupil")
        lines.append(f"<b>Do not upload</b>: {blocked} of {named} {verb(blocked, 'is')} not clear (policy 4.1).")
    pending = check.next_unconfirmed
    if pending is None:
        return "\n".join(lines), ()
    row = check.rows[pending]
    waiting = sum(r.unconfirmed for r in check.rows)
    lines.append(f"\n{plural(waiting, 'name')} not confirmed. {did_you_mean(row.typed, row.candidates)}")
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
        lines.append(f"{mark} {titles.get(finding.kind, 'To check')}: “{h(clip(finding.excerpt, 60))}” (policy {finding.clause})")
    if len(report.findings) > 30:
        lines.append(f"…and {len(report.findings) - 30} more.")
    return "\n".join(lines)


def expiring_lines(pupils: Sequence[Pupil]) -> list[str]:
    return [
        f"• {h(p.full_name)}{f' ({h(p.class_name)})' if p.class_name else ''} — ends {show_date(p.expires)}"
        for p in pupils
        if p.expires
    ]
