"""Parents' group applications on the phone (policy 1.3, 2.2).

Office staff record a paper form with /apply; a Telegram join request to the parents'
group becomes an application after the applicant names their child and agrees to the
code of conduct in a private chat. Every leader gets a card with Approve, Reject and Ask
for information; Reject (and Approve for a child not on the register) asks once more on the card;
the first decision wins and every copy shows who decided. The decision
reaches Telegram (approve/decline the join request) through the outbox, like every message.

Modules: `messages` (every text, escaped), `notices` (posts what the domain says is owed:
cards, reminders, outcomes, Telegram's side of a decision), `form` (/apply), `private_chat`
(join requests, the applicant's answers), `notes` (a leader's typed reason or question, a
conversation), `answers` (the office's answer to a question about a form it recorded), `leaders`
(the decision and its confirmation, /pending, /application N), `tidy` (buttons off a step that is
over) and `wiring` (the handlers, in order).
"""

from handlers.applications.notices import send_cards
from handlers.applications.wiring import COMMANDS, FLOW_STATE, register

__all__ = ["COMMANDS", "FLOW_STATE", "register", "send_cards"]
