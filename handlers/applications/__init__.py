"""Parents' group applications on the phone (policy 1.3, 2.2).

Office staff record a paper form with /apply; a Telegram join request to the parents'
group becomes an application after the applicant names their child and agrees to the
code of conduct in a private chat. Every leader gets a card with Approve, Reject and Ask
for information; the first press wins and every copy shows who decided. The decision
reaches Telegram (approve/decline the join request) through the outbox, like every message.

Modules: `messages` (every text, escaped), `notices` (posts what the domain says is owed:
cards, reminders, outcomes, Telegram's side of a decision), `form` (/apply), `private_chat`
(join requests, the applicant's answers), `notes` (a leader's typed reason or question, a
conversation), `leaders` (the decision, /pending, /application N) and `wiring` (the handlers,
in order).
"""

from handlers.applications.notices import send_cards
from handlers.applications.wiring import COMMANDS, FLOW_STATE, register

__all__ = ["COMMANDS", "FLOW_STATE", "register", "send_cards"]
