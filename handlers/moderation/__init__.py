"""The daily "moderate the page" nudge (policy 5.1) on the phone.

/rota, /checked, /moderation and the nudge's buttons (`duty`); the timed work that nudges,
reminds, tells the Head at the deadline and sends the weekly digest (`timed`). Every message is
built in `messages`, with `h()` escaping each name. The timed work asks the domain what is owed
and sends it through durable delivery with a key per day (or week), so nothing is lost and
nothing is sent twice. `wiring` registers it all.
"""

from handlers.moderation.wiring import COMMANDS, register

__all__ = ["COMMANDS", "register"]
