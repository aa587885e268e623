"""The photo safety check as staff use it: what a photo gives away, checked against the register, audited.

The pixels are read in the photo worker (bot/photos/worker.py); here the words found in the
picture are checked like a draft post (bot/draft_check.py: a pupil's full name blocks, a first
name warns), faces are counted against the pupils named, and each check and each blurred copy is
audited under the check's reference: a digest of the photo, so the audit shows which check led
to which copy without keeping any image. Nothing here keeps a photo, a face or the words read.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.auditing import Auditor
from bot.draft_check import DraftPolicy, Finding, check_draft, named_pupil_ids
from bot.names import PupilIndex
from bot.photos import analysis
from bot.photos.boxes import Box
from bot.photos.metadata import Metadata
from bot.photos.text import TextLine
from bot.photos.worker import WORKER, PhotoWorker
from bot.wording import plural, verb
from storage.consents import ConsentRepository

FACES_CLAUSE = "4.4"
LOCATION_CLAUSE = "8.2"


@dataclass(frozen=True)
class TextFinding:
    """Something in the picture's text that the draft check flags, and where it is."""

    finding: Finding
    box: Box


@dataclass(frozen=True)
class SafetyReport:
    """One photo's check: numbered regions are the faces first, then the flagged text."""

    reference: str
    metadata: Metadata
    faces: tuple[Box, ...]
    text: tuple[TextFinding, ...]
    named: int
    preview: bytes
    clean: bytes | None
    clean_ext: str
    size: tuple[int, int]  # the photo's width and height, upright

    @property
    def regions(self) -> tuple[Box, ...]:
        return self.faces + tuple(found.box for found in self.text)

    @property
    def unnamed_faces(self) -> int:
        return max(0, len(self.faces) - self.named)

    @property
    def verdict(self) -> Literal["ok", "warn", "block"]:
        severities = {found.finding.severity for found in self.text}
        if "block" in severities:
            return "block"
        return "warn" if severities or self.unnamed_faces or self.metadata.location else "ok"

    def against_upload(self) -> str | None:
        """Why the photo itself stops an upload that consent alone would allow (policy 4.4, 3.4), or None.

        Faces beyond the pupils named may be children nobody checked; a pupil's full name readable in the
        picture identifies them. Either holds the upload until they are blurred (or named and checked)."""
        reasons = []
        if self.unnamed_faces:
            reasons.append(
                f"I can see {plural(len(self.faces), 'face')} and {plural(self.named, 'pupil')} {verb(self.named, 'is')} named"
            )
        if self.verdict == "block":
            reasons.append("a pupil's full name can be read in it")
        return " and ".join(reasons) or None


def reference_of(data: bytes) -> str:
    """The check's reference in the audit: the same photo always gives the same one, and it shows nothing of it."""
    return "ph-" + hashlib.sha256(data).hexdigest()[:12]


def text_findings(lines: Sequence[TextLine], policy_check: DraftChecker) -> tuple[TextFinding, ...]:
    """Each line read as a draft post; a full name split over two lines one above the other counts too.

    A name printed twice (a certificate and a badge) is boxed twice: each copy must be blurred."""
    found: list[TextFinding] = []
    seen: set[tuple[str, str, Box]] = set()

    def add(finding: Finding, box: Box) -> None:
        key = (finding.kind, finding.excerpt.casefold(), box)
        if key not in seen:
            seen.add(key)
            found.append(TextFinding(finding, box))

    alone: list[set[str]] = []
    for line in lines:
        findings = policy_check(line.text)
        alone.append({finding.excerpt.casefold() for finding in findings if finding.kind == "pupil_full_name"})
        for finding in findings:
            add(finding, line.box)
    # Every pair, not only neighbours in reading order: on a page of two columns the line under a
    # badge's first name is read after the line beside it.
    for (at, upper), (below, lower) in itertools.permutations(enumerate(lines), 2):
        if not _stacked(upper.box, lower.box):
            continue
        both = _union(upper.box, lower.box)
        for finding in policy_check(f"{upper.text} {lower.text}"):
            if finding.kind == "pupil_full_name" and finding.excerpt.casefold() not in alone[at] | alone[below]:
                add(finding, both)
    return tuple(found)


class DraftChecker:
    """The draft check's findings for one piece of text, against the register as it is now."""

    def __init__(self, index: PupilIndex, policy: DraftPolicy) -> None:
        self.index = index
        self.policy = policy

    def __call__(self, text: str) -> tuple[Finding, ...]:
        return check_draft(text, self.index, self.policy).findings


class PhotoSafety:
    """Checks photos for metadata, faces nobody named and names in the picture; blurs chosen regions."""

    def __init__(self, register: ConsentRepository, audit: Auditor, policy: DraftPolicy, worker: PhotoWorker = WORKER) -> None:
        self.register = register
        self.audit = audit
        self.policy = policy
        self.worker = worker

    async def check(self, actor_id: int, data: bytes, *, named: int, as_file: bool) -> SafetyReport:
        """Read the photo (PhotoRejected when it cannot be), check its words, draw the preview, audit the check."""
        reference = reference_of(data)
        try:
            seen = await self.worker.run(analysis.analyse, data, as_file)
        except ValueError:  # PhotoRejected: the audit says a photo was refused, not what it was
            self.audit(actor_id, "photo safety check", reference, outcome="refused: unreadable photo")
            raise
        flagged = text_findings(seen.text, DraftChecker(self.register.index(), self.policy))
        preview = await self.worker.run(analysis.preview, seen.work, seen.factor, seen.faces, [t.box for t in flagged])
        report = SafetyReport(
            reference, seen.metadata, seen.faces, flagged, named, preview, seen.clean, seen.clean_ext, (seen.width, seen.height)
        )
        metadata = [name for name in ("location", "camera", "owner", "serial", "taken") if getattr(seen.metadata, name)]
        pupils = named_pupil_ids((t.finding for t in flagged), self.register.index())
        self.audit(
            actor_id,
            "photo safety check",
            reference,
            outcome=report.verdict,
            detail=(
                f"faces {len(seen.faces)}; named {named}; text {','.join(sorted({t.finding.kind for t in flagged})) or 'none'}; "
                f"metadata {','.join(metadata) or 'none'}{'; clean copy sent' if seen.clean is not None else ''}"
                f"{'; pupils ' + ','.join(pupils) if pupils else ''}"
            ),
        )
        return report

    async def blur(
        self, actor_id: int, data: bytes, check_reference: str, regions: Sequence[Box], numbers: Sequence[int]
    ) -> bytes:
        """The photo with the numbered regions hidden and no metadata; audited under the check that offered them."""
        try:
            copy = await self.worker.run(analysis.blurred, data, [regions[number - 1] for number in numbers])
        except ValueError:
            self.audit(actor_id, "photo blurred", check_reference, outcome="refused: unreadable photo")
            raise
        self.audit(
            actor_id,
            "photo blurred",
            check_reference,
            detail=f"regions {','.join(map(str, numbers))} of {len(regions)}; from photo safety check {check_reference}",
        )
        return copy


def _stacked(upper: Box, lower: Box) -> bool:
    """Two lines one just above the other and side by side, as a name printed on two lines of a badge."""
    gap = lower.y - (upper.y + upper.h)
    overlap = min(upper.x + upper.w, lower.x + lower.w) - max(upper.x, lower.x)
    return -upper.h // 2 <= gap <= max(upper.h, lower.h) and overlap > 0


def _union(a: Box, b: Box) -> Box:
    left, top = min(a.x, b.x), min(a.y, b.y)
    return Box(left, top, max(a.x + a.w, b.x + b.w) - left, max(a.y + a.h, b.y + b.h) - top)
