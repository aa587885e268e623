"""Durable delivery: the outbox, and every decision on what Telegram refuses.

- `outbox`: `Delivery`, which saves messages before sending them, sends what is due, edits every
  copy of a thread, and turns each refusal into one decision; `register` hears who can be reached again.
- `sending`: the Bot API calls and their fallbacks (photo → document → text; HTML → plain text).
- `recipients`: who may still receive an item (role gating) and people Telegram will not let us reach.
- `joins`: join-request decisions (approve, decline), each of Telegram's answers ending one way.
- `outcomes`: what becomes of an item after a try (sent, retried, given up), and delivery's audit lines.
- `limiter`: `RetryingRateLimiter`, which every Bot API call passes through.
"""

from bot.shell.delivery.joins import JoinListener
from bot.shell.delivery.limiter import RetryingRateLimiter
from bot.shell.delivery.outbox import Delivery, register
from bot.shell.delivery.outcomes import retry_wait
from bot.shell.delivery.sending import keyboard, picture_refused

__all__ = ["Delivery", "JoinListener", "RetryingRateLimiter", "keyboard", "picture_refused", "register", "retry_wait"]
