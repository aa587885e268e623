"""Identity before anything about a pupil, for /pupil and /audit pupil: as /consent asks it.

An exact name goes straight on; anything fuzzier asks "Did you mean ...?" with a button per
candidate. Leavers are found too (the school still holds their data). A button carries a
question number and a place in it; the pupil's id and names are kept in the person's state and
checked against the register when tapped, so a button cannot reach a child an import has since
given that id to.
"""

from __future__ import annotations

from bot.names import Resolution
from bot.records.consent import Pupil
from bot.records.outbox import Buttons
from bot.shell.callbacks import pack
from bot.shell.ticker import Runtime
from bot.subject_access import SubjectAccess
from handlers.common import Actor, Context, h
from handlers.paging import clip_text

PICKS = "pupil_picks"
NEXT_PICK = "pupil_next_pick"
KEEP_PICKS = 10


def subject_access(rt: Runtime) -> SubjectAccess:
    """The subject access service over this bot's stores (it keeps nothing of its own)."""
    s = rt.services
    return SubjectAccess(s.consents, s.incidents, s.applications, s.staff, s.db.audit, s.audit, s.config, s.today)


def find_pupil(rt: Runtime, actor: Actor, typed: str) -> Resolution:
    return subject_access(rt).find(actor.user_id, typed)


def _names(pupil: Pupil) -> list[str]:
    return [pupil.pupil_id, pupil.first_name, pupil.preferred_name, pupil.last_name]


def ask_which_pupil(context: Context, feature: str, typed: str, resolution: Resolution) -> tuple[str, Buttons]:
    """ "Did you mean ...?" with a button per candidate; nothing is shown about anyone until one is tapped."""
    picks: dict[int, list[list[str]]] = context.state.setdefault(PICKS, {})
    number = int(context.state.get(NEXT_PICK, 1))
    context.state[NEXT_PICK] = number + 1
    candidates = [m.pupil for m in resolution.matches]
    picks[number] = [_names(p) for p in candidates]
    for old in list(picks)[:-KEEP_PICKS]:
        del picks[old]
    text = f"You typed “{h(clip_text(typed, 60))}”. Did you mean one of these? Tap the pupil you meant."
    if resolution.more:
        text += "\nMore pupils match: type more of the name to narrow it down."
    labels = [_label(p) for p in candidates]
    # Two children of the same name in the same class: the pupil id tells the buttons apart.
    labels = [_label(p, with_id=labels.count(label) > 1) for p, label in zip(candidates, labels, strict=True)]
    buttons = tuple(((label, pack(feature, "fu", number, index)),) for index, label in enumerate(labels))
    return text, buttons


def _label(pupil: Pupil, *, with_id: bool = False) -> str:
    details = [pupil.class_name] if pupil.class_name else []
    details += ["left"] if pupil.left else []
    details += [clip_text(pupil.pupil_id, 20)] if with_id else []
    shown = f" ({', '.join(details)})" if details else ""
    return clip_text(pupil.full_name, 60 - len(shown)) + shown


def picked_pupil(context: Context, rt: Runtime, number: int | None, index: str) -> Pupil | None:
    """The pupil a "Did you mean" button names, if the register still holds that very child."""
    picks = context.state.get(PICKS, {})
    kept = picks.get(number) if number is not None else None
    if not kept or not index.isdigit() or int(index) >= len(kept):
        return None
    names = kept[int(index)]
    pupil = rt.services.consents.get(names[0])
    return pupil if pupil is not None and _names(pupil) == list(names) else None
