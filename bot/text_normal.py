"""Text as a reader sees it: what the draft check reads before looking for names, contact details and words.

A post can look like "Amelia Smith" on screen while its characters say something else:
a soft hyphen or zero-width space inside the name, a Cyrillic "А", mathematical bold
letters, a right-to-left override that shows "htims" as "smith", #AmeliaSmith. The
normalised text undoes all of that, and keeps, for every character, where it came from
in the original, so a finding quotes what the admin actually wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Letters that look like Latin ones (Unicode's confusables for the scripts a UK school meets).
_CONFUSABLES = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ԁ": "d",
    "һ": "h",
    "ԛ": "q",
    "ԝ": "w",
    "ү": "y",
    "ӏ": "l",
    "ɡ": "g",
    "А": "A",
    "В": "B",
    "Е": "E",
    "Ё": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "У": "Y",
    "Х": "X",
    "Ѕ": "S",
    "І": "I",
    "Ї": "I",
    "Ј": "J",
    "Ү": "Y",
    "Ԛ": "Q",
    "Ԝ": "W",
    "Ӏ": "I",
    # Greek
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
    "α": "a",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ϲ": "c",
    "ϳ": "j",
    # Latin letters that Unicode does not decompose into a base letter plus an accent
    "ı": "i",
    "ɑ": "a",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    # Armenian
    "օ": "o",
    "ս": "u",
    "հ": "h",
    # "Fancy text" generators: small capitals (ꜰᴜᴄᴋ, ᴀᴍᴇʟɪᴀ), f with a hook
    "ᴀ": "a",
    "ʙ": "b",
    "ᴄ": "c",
    "ᴅ": "d",
    "ᴇ": "e",
    "ꜰ": "f",
    "ɢ": "g",
    "ʜ": "h",
    "ɪ": "i",
    "ᴊ": "j",
    "ᴋ": "k",
    "ʟ": "l",
    "ᴍ": "m",
    "ɴ": "n",
    "ᴏ": "o",
    "ᴘ": "p",
    "ʀ": "r",
    "ꜱ": "s",
    "ᴛ": "t",
    "ᴜ": "u",
    "ᴠ": "v",
    "ᴡ": "w",
    "ʏ": "y",
    "ᴢ": "z",
    "ƒ": "f",
    # Full stops of other scripts, as in "jo@example。com"
    "。": ".",
}
# Negative circled and negative squared capitals (🅐, 🅰), which Unicode does not decompose.
_CONFUSABLES.update({chr(first + k): chr(ord("A") + k) for first in (0x1F150, 0x1F170) for k in range(26)})
_RLO, _PDF = "\u202e", "\u202c"
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # Hangul fillers, braille blank
# Invisible marks that are not format characters (Cf): the combining grapheme joiner, Khmer's
# inherent vowels, Mongolian variation selectors. Each shows as nothing inside a word.
_INVISIBLE_MARKS = frozenset("\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# A #hashtag or @handle (not the @ of an e-mail address): its CamelCase words are read apart.
_TAG = re.compile(r"(?<![\w.+-])[#@][^\W_]\w*")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_HELD = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True)
class Normalised:
    """The text a reader sees, with where each of its characters came from in the original."""

    original: str
    text: str
    starts: tuple[int, ...]  # starts[i]: offset in `original` of the character text[i] came from
    ends: tuple[int, ...]  # ends[i]: the end of that character (or of the characters it came from)
    # Where `text` differs from the original, as (start, end) in `text`, in order: what a
    # second reading needs to look at again.
    changed: tuple[tuple[int, int], ...] = ()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The part of the original that text[start:end] came from."""
        if end <= start:
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        # Usually starts[start] and ends[end - 1]; a right-to-left override reverses the order.
        return min(self.starts[start:end]), max(self.ends[start:end])

    def quote(self, start: int, end: int) -> str:
        """What the admin wrote where text[start:end] is."""
        first, last = self.span(start, end)
        return self.original[first:last]


def normalise(original: str) -> Normalised:
    """Compatibility forms, no invisible characters, no accents, Latin look-alikes, overrides undone, tags split."""
    if _RLO in original:
        text, starts, ends = _reader_letters(_undo_overrides(original))
        changed = [(0, len(text))]
    else:
        text, starts, ends, changed = _plain_reader_letters(original)
    text, starts, ends, cuts = _split_tags(text, starts, ends)
    if cuts:  # each inserted space shifts what follows it
        changed = [(start + sum(cut <= start for cut in cuts), end + sum(cut < end for cut in cuts)) for start, end in changed]
        changed = sorted(changed + [(cut + k, cut + k + 1) for k, cut in enumerate(cuts)])
    return Normalised(original, text, tuple(starts), tuple(ends), tuple(changed))


def held_letter_readings(word: str) -> tuple[str, ...]:
    """What a word with letters held down could be: "fuuuck" -> fuuck, fuck; "goood" -> good, god.

    Each run of three or more of one letter is read as two and as one; a word without
    such a run has no other reading.
    """
    runs = list(_HELD.finditer(word))[:4]
    if not runs:
        return ()
    readings = [""]
    done = 0
    for run in runs:
        letter = run.group(1)
        readings = [reading + word[done : run.start()] + held for reading in readings for held in (letter * 2, letter)]
        done = run.end()
    return tuple(reading + word[done:] for reading in readings)


def _undo_overrides(original: str) -> list[tuple[int, str]]:
    """Characters with their offsets, in the order a reader sees them: a right-to-left override shows its run reversed."""
    chars = list(enumerate(original))
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(chars):
        if chars[i][1] != _RLO:
            out.append(chars[i])
            i += 1
            continue
        end = i + 1
        while end < len(chars) and chars[end][1] not in (_PDF, "\n"):
            end += 1
        out.extend(reversed(chars[i + 1 : end]))
        i = end
    return out


def _plain_reader_letters(original: str) -> tuple[str, list[int], list[int], list[tuple[int, int]]]:
    """_reader_letters for text in its own order, touching only the non-ASCII characters (most posts have few)."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    changed = []
    done = 0
    for run in _NON_ASCII.finditer(original):
        pieces.append(original[done : run.start()])
        starts.extend(range(done, run.start()))
        ends.extend(range(done + 1, run.start() + 1))
        at = len(starts)
        for offset in range(run.start(), run.end()):
            for letter in _as_seen(original[offset]):
                pieces.append(letter)
                starts.append(offset)
                ends.append(offset + 1)
        changed.append((at, len(starts)))
        done = run.end()
    pieces.append(original[done:])
    starts.extend(range(done, len(original)))
    ends.extend(range(done + 1, len(original) + 1))
    return "".join(pieces), starts, ends, changed


def _reader_letters(chars: list[tuple[int, str]]) -> tuple[str, list[int], list[int]]:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for offset, char in chars:
        for letter in _as_seen(char):
            pieces.append(letter)
            starts.append(offset)
            ends.append(offset + 1)
    return "".join(pieces), starts, ends


@lru_cache(maxsize=4096)
def _as_seen(char: str) -> str:
    """One character as a reader takes it: "" for invisible ones, "A" for a bold or Cyrillic A, "e" for "é"."""
    if (
        unicodedata.category(char) == "Cf"
        or char in _INVISIBLE_MARKS
        or "\ufe00" <= char <= "\ufe0f"
        or "\U000e0100" <= char <= "\U000e01ef"
    ):
        return ""  # zero-width spaces and joiners, soft hyphens, direction marks, variation selectors
    if char in _BLANK_LETTERS:
        return " "  # letters that show as nothing, used as spaces that filters do not see
    if char.isdecimal() and not char.isascii():
        return str(unicodedata.decimal(char))  # "٠٧٧٠٠" (Arabic-Indic), "०७७००" (Devanagari) are digits to a reader
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(_CONFUSABLES.get(part, part) for part in decomposed if not unicodedata.combining(part))


def _split_tags(text: str, starts: list[int], ends: list[int]) -> tuple[str, list[int], list[int], list[int]]:
    """#AmeliaSmith and @WellDoneYear6 read as their words; an inserted space belongs to the letter after it.

    Also returns where the spaces went in (offsets in the text before).
    """
    cuts = [cut.start() for tag in _TAG.finditer(text) for cut in _CAMEL.finditer(text, tag.start() + 1, tag.end())]
    if not cuts:
        return text, starts, ends, cuts
    pieces = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    done = 0
    for cut in cuts:
        pieces += [text[done:cut], " "]
        new_starts += [*starts[done:cut], starts[cut]]
        new_ends += [*ends[done:cut], starts[cut]]
        done = cut
    pieces.append(text[done:])
    new_starts += starts[done:]
    new_ends += ends[done:]
    return "".join(pieces), new_starts, new_ends, cuts
