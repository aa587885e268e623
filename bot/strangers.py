"""How often the bot answers people who are not staff: once per window each, within a fixed memory.

A stranger can send a hundred thousand messages; each would otherwise cost a reply and an audit
line (an fsynced write). The gate lets one through per stranger per window and counts the rest,
so the next audit line says how many went unanswered. It remembers a bounded number of strangers:
when every remembered one is still inside its window, a new one is counted, not answered, so many
ids cannot grow the audit log or the memory either.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.wording import plural

REMEMBERED = 1000  # strangers tracked at once; far above what a school meets outside an attack


@dataclass
class _Seen:
    answered_at: datetime
    unanswered: int = 0


class StrangerGate:
    def __init__(self, window: timedelta, remembered: int = REMEMBERED) -> None:
        self.window = window
        self.remembered = remembered
        self._seen: OrderedDict[Hashable, _Seen] = OrderedDict()  # oldest answer first
        self._crowded_out = 0  # messages from strangers the gate had no room to remember

    def admit(self, key: Hashable, now: datetime) -> str | None:
        """None: leave this message unanswered and unaudited. Otherwise answer it and audit it
        with the returned detail (what went unanswered since this stranger's last answer).

        `key` is the stranger's id, or their id and what they try, when two kinds of answer each
        get their own window (the refusal, and the answer to a Request access tap)."""
        seen = self._seen.get(key)
        if seen is not None and now < seen.answered_at + self.window:
            seen.unanswered += 1
            return None
        if seen is None and len(self._seen) >= self.remembered:
            _, oldest = next(iter(self._seen.items()))
            if now < oldest.answered_at + self.window:
                self._crowded_out += 1
                return None
            self._seen.popitem(last=False)
        earlier = seen.unanswered if seen else 0
        self._seen.pop(key, None)
        self._seen[key] = _Seen(now)
        return self._detail(earlier)

    def release(self, key: Hashable) -> None:
        """The answer never reached them (Telegram failed): the next message is answered again."""
        self._seen.pop(key, None)

    def _detail(self, earlier: int) -> str:
        parts = []
        if earlier:
            parts.append(f"{plural(earlier, 'earlier message')} from them left unanswered")
        if self._crowded_out:
            parts.append(f"{plural(self._crowded_out, 'message')} from other strangers left unanswered (too many at once)")
            self._crowded_out = 0
        return "; ".join(parts)

    def __len__(self) -> int:
        return len(self._seen)
