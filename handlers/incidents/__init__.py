"""The misuse log on the phone: /log (aliases /misuse, /report), alerts to the Head, and their buttons.

/log is a conversation: screenshots, a category, an optional note, confirm (`flow`). A photo sent
outside any flow offers "Log misuse" or "Check consent" (`pictures`). Confirming saves the
incident and queues the Head's alert in the outbox in one step without an await, so neither is
lost and a second press finds the first. Leaders act on the alert with one tap; every copy of it
is edited to show what was done (`alerts`, `bans`). Re-pings, the fallback to the deputy and SLT,
and the "Head unreachable" warning come from the ticker, derived from what each incident stores
(`escalation`). `messages` builds every text; `views` the lists, the record and the export;
`wiring` registers it all.
"""

from handlers.incidents.wiring import COMMANDS, FLOW_STATE, register

__all__ = ["COMMANDS", "FLOW_STATE", "register"]
