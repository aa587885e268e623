"""Parents' group applications (policy 1.3, 2.2): paper forms and Telegram join requests, decided by SLT.

A parent joins the private group only after signing the code of conduct and a senior
leader approving them. The first decision wins; a repeat by the same person is linked to
the application already open instead of reaching SLT twice. Everything that is due later
(reminders, the Head's notice, Telegram's approve/decline) is derived from what is stored.

The desk is one object made of its parts, each a module: `rules` (limits, typed text, who is
the same person, results), `store` (what the parts share), `filing` (paper forms, join requests,
linking), `deciding` (the decision, reasons, questions, answers), `chasing` (what is owed later).
"""

from bot.applications.chasing import Chasing
from bot.applications.deciding import Deciding
from bot.applications.filing import Filing
from bot.applications.rules import (
    CONDUCT_REQUIRED,
    LEADER_NOTE_WAIT,
    MAX_CHILDREN,
    MAX_CONTACT,
    MAX_FORM_REF,
    MAX_PARENT,
    MAX_RELATIONSHIP,
    Filed,
    Invalid,
    PaperForm,
    clean,
    parse_contact,
)

__all__ = [
    "CONDUCT_REQUIRED",
    "LEADER_NOTE_WAIT",
    "MAX_CHILDREN",
    "MAX_CONTACT",
    "MAX_FORM_REF",
    "MAX_PARENT",
    "MAX_RELATIONSHIP",
    "Applications",
    "Filed",
    "Invalid",
    "PaperForm",
    "clean",
    "parse_contact",
]


class Applications(Filing, Deciding, Chasing):
    """Every step of an application, each stored and audited before anyone is told."""
