"""Photo consent (policy 4.1, 4.2, 4.4) and the draft-post check (3.4, 5.3, 8.2) on the phone.

/consent NAME gives the verdict card for an exact name, and asks "Did you mean ...?" with
buttons for anything fuzzier (`card`); a photo with a caption listing pupils (`photo`), or
/check and a list of names (`check`), gives a verdict per pupil for a chosen destination, each
unconfirmed name resolved from buttons under the report; /checkpost checks a draft (`draft`);
/expiring and the yearly reminder list the consents ending soon (`expiring`). `messages`
builds every text; `shared` keeps what a question's buttons need; `wiring` registers it all.
"""

from handlers.consent.wiring import COMMANDS, FLOW_STATE, register

__all__ = ["COMMANDS", "FLOW_STATE", "register"]
