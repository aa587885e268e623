"""Start, help, and staff access on the phone.

/start and /help, and SLT's /grant, /revoke and /staff (`staff`); a stranger's "Request access"
and the leaders' decision on it (`requests`); what nothing else understood, and the check that a
flow already under way ends when its user's access is revoked or lowered (`guards`). `wiring`
registers it all, the guards after every other feature.
"""

from handlers.access.wiring import COMMANDS, FLOW_STATE, register, register_fallbacks

__all__ = ["COMMANDS", "FLOW_STATE", "register", "register_fallbacks"]
