"""Personal data in a post (policy 8.2): phone numbers, e-mail addresses and postcodes.

Read as a reader reads them: look-alike letters as digits ("O77OO 9OO123"), addresses
spelt out to dodge a filter ("jo [at] example [dot] com"), any case of postcode. The
school's own contacts are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from bot.text_normal import Normalised

PersonalDataKind = Literal["phone", "email", "postcode"]

# UK numbers: 07xxx xxxxxx, 01xxx xxxxxx, 020 xxxx xxxx, (01632) xxxxxx, +44 (0)7xxx...,
# with spaces, dots, dashes (Word's en dash too) or underscores between groups.
_SEP = r"[ \t.\-–—_]"
_PHONE = re.compile(
    rf"(?<![\w+])(?:(?:\+|00)44{_SEP}?(?:\(0\){_SEP}?)?|\(?0{_SEP}{{0,3}})[1-9](?:{_SEP}{{0,3}}\)?{_SEP}?\d){{8,9}}(?!\d)"
)
# Every digit typed apart counting up ("0 1 2 3 4 5 6 7 8 9") is counting, not a phone number.
_COUNTING = "0123456789"
_DIGITS_APART = re.compile(rf"\d(?:{_SEP}+\d)+")
# "jo.smith @ gmail.com": an @ with spaces is an address when the name before it has a dot,
# digit, underscore or plus, or the domain is a personal mail provider ("Tickets @ eventbrite.com" is not).
_EMAIL = re.compile(
    r"(?<![\w.+-])(?:[\w.+-]+@|[\w+-]*[\d._+][\w.+-]*[ \t]?@[ \t]?|[\w.+-]+[ \t]?@[ \t]?(?=(?:gmail|googlemail|hotmail|"
    r"outlook|live|yahoo|icloud|me|aol|btinternet|sky|talktalk|virginmedia|protonmail|proton)\.))"
    r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b"
)
# An address written to dodge a filter: "jo [at] example [dot] com", "jo(at)example.co.uk", "jo at example dot com",
# "jo[@]example.com", "jo@example[.]com", "jo@example dot com". A plain " at " counts only with a spelt-out
# dot after it ("see you at the hall.co-op" is no address).
_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+|\.)"
_SPELT_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+)"
_TLD = r"(?:com|org|net|uk|ie|edu|gov|info|io|me|biz|co)\b"
_SPELT_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]+(?:\s*[\[({{<]\s*(?:at|@)\s*[\])}}>]\s*((?:[A-Za-z0-9-]+{_DOT})+{_TLD})"
    rf"|\s+at\s+((?:[A-Za-z0-9-]+{_DOT})*[A-Za-z0-9-]+{_SPELT_DOT}(?:[A-Za-z0-9-]+{_DOT})*{_TLD})"
    rf"|\s*@\s*((?:[A-Za-z0-9-]+{_DOT})*[A-Za-z0-9-]+{_SPELT_DOT}(?:[A-Za-z0-9-]+{_DOT})*{_TLD}))",
    re.IGNORECASE,
)
# Digits written with look-alike letters ("O77OO 9OO123"): read as a reader reads a phone number.
_AS_DIGITS = str.maketrans("OoIl|", "00111")
# Any case ("m1 1ae"); the inward letters never use CIKMOV.
_POSTCODE = re.compile(r"\b(?:([A-Z]{1,2})[0-9][A-Z0-9]?|GIR) ?[0-9][ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
# Royal Mail's postcode areas (and the Crown dependencies'): "KS2 3rd" is a key stage, not a postcode.
_POSTCODE_AREAS = frozenset(
    """AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC
    EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M
    ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW
    SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE""".split()
)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)", re.IGNORECASE)


def find_personal_data(
    seen: Normalised, phone_numbers: Iterable[str] = (), email_domains: Iterable[str] = (), postcodes: Iterable[str] = ()
) -> list[tuple[PersonalDataKind, int, int]]:
    """Phone numbers, e-mail addresses and postcodes (spans of the original text), except the school's own.

    The school's own numbers, e-mail domains and postcodes are never flagged: a post may
    always say how to reach the school.
    """
    own_phones = {_phone_digits(number) for number in phone_numbers}
    own_domains = tuple(domain.lower().lstrip("@") for domain in email_domains)
    own_postcodes = {_postcode_key(code) for code in postcodes}
    found: list[tuple[PersonalDataKind, int, int]] = []
    digits = seen.text.translate(_AS_DIGITS)  # same length: offsets hold
    for match in _PHONE.finditer(digits):
        written = seen.text[match.start() : match.end()]
        counting = _DIGITS_APART.fullmatch(written) is not None and _phone_digits(written) in _COUNTING
        if sum(char.isdigit() for char in written) >= 6 and not counting and _phone_digits(match.group()) not in own_phones:
            found.append(("phone", *seen.span(*match.span())))
    for pattern in (_EMAIL, _SPELT_EMAIL):
        for match in pattern.finditer(seen.text):
            written_domain = next(group for group in match.groups() if group)
            domain = re.sub(_DOT, ".", written_domain, flags=re.IGNORECASE).lower()
            if not any(domain == own or domain.endswith("." + own) for own in own_domains):
                found.append(("email", *seen.span(*match.span())))
    for match in _POSTCODE.finditer(seen.text):
        code = match.group()
        area = (match.group(1) or "GIR").upper()
        looks_ordinal = not code.isupper() and _ORDINAL.fullmatch(code[-3:]) is not None  # "b1 2nd"
        if area in _POSTCODE_AREAS and not looks_ordinal and _postcode_key(code) not in own_postcodes:
            found.append(("postcode", *seen.span(*match.span())))
    return found


def _phone_digits(number: str) -> str:
    """A UK number as its national digits: "+44 (0)1632 960000" -> "01632960000"."""
    digits = re.sub(r"\D", "", number.replace("(0)", ""))
    for prefix in ("0044", "44"):
        if digits.startswith(prefix) and number.lstrip().startswith(("+", "00")):
            return "0" + digits[len(prefix) :]
    return digits


def _postcode_key(code: str) -> str:
    return re.sub(r"\s", "", code).upper()
