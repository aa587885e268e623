"""Screenshots kept as evidence: files, one folder per incident, written once and then read-only."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bot.records.incidents import Evidence
from storage.atomic import DiskHealth, DiskWriteFailed, ensure_private_dir, fsync_dir, write_new_file

log = logging.getLogger(__name__)

EVIDENCE_MODE = 0o400  # read-only: stored evidence is never modified


@dataclass(frozen=True)
class StoredFile:
    path: str
    sha256: str
    size: int


class EvidenceConflict(Exception):
    """A file already stored under this name holds different bytes; it is never overwritten."""


class EvidenceStore:
    """Screenshots as files, one folder per incident, written once and then read-only.

    Files are named by their SHA-256, so storing the same screenshot again (a retry after
    a crash) finds the file already there, and different bytes can never replace it. Each is
    written to a temporary name, fsynced and renamed, so a full disk or a crash never leaves
    a truncated file under the real name; one left by an older version (its bytes no longer
    match its name) is replaced by the good copy instead of blocking every later /log.
    """

    def __init__(self, evidence_dir: Path, health: DiskHealth | None = None) -> None:
        self.root = evidence_dir
        self.health = health or DiskHealth()

    def keep(self, ref: str, data: bytes, suffix: str) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        name = f"{digest[:16]}{suffix}"
        stored = StoredFile(f"{self.root.name}/{ref}/{name}", digest, len(data))
        folder = self._folder(ref)
        path = folder / name
        existing = _digest_of(path)
        if existing == digest:
            return stored
        if existing is not None and existing.startswith(digest[:16]):
            raise EvidenceConflict(f"{ref}/{name} exists with different content")
        if existing is not None:
            log.warning("Evidence %s/%s did not match its name (cut short?); replaced by the copy received now", ref, name)
        try:
            ensure_private_dir(folder)
            tmp = folder / f".{name}.tmp"
            write_new_file(tmp, data, EVIDENCE_MODE)
            os.replace(tmp, path)
            fsync_dir(folder)
        except OSError as exc:
            self.health.failed(exc)
            raise DiskWriteFailed(path, exc) from exc
        return stored

    def read(self, path: str) -> bytes:
        return self.file(path).read_bytes()

    def remove(self, ref: str) -> int:
        """Delete an incident's evidence folder (the retention purge); how many files it held."""
        folder = self._folder(ref)
        count = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        shutil.rmtree(folder, ignore_errors=True)
        fsync_dir(self.root)
        return count

    def discard(self, folder: str) -> None:
        """Remove a draft's waiting screenshots; an incident's evidence folder goes only with it (forget)."""
        if not folder.startswith("draft-"):
            return
        try:
            shutil.rmtree(self._folder(folder), ignore_errors=True)
        except ValueError:
            log.warning("A draft's folder name leaves the evidence folder; nothing was removed")

    def drafts(self) -> list[str]:
        """The folders of drafts' waiting screenshots (draft-<id>), as discard() takes them."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.name.startswith("draft-") and p.is_dir())

    def file(self, path: str) -> Path:
        """Where a stored file is; a path that leads out of the evidence folder is refused (ValueError).

        Paths come back from kept flow state (conversations.json): a damaged or hand-edited one
        must never make the bot read, copy or delete anything else on the machine.
        """
        root = Path(os.path.normpath(self.root))
        full = Path(os.path.normpath(root.parent / path))
        if not full.is_relative_to(root) or full == root:
            raise ValueError("an evidence path outside the evidence folder")
        return full

    def within(self, path: str, folder: str) -> bool:
        """Whether a stored file lies directly in this folder of the evidence folder (a draft's, say)."""
        try:
            return self.file(path).parent == Path(os.path.normpath(self._folder(folder)))
        except ValueError:
            return False

    def _folder(self, name: str) -> Path:
        """One folder directly inside the evidence folder (an incident's, or a draft's)."""
        if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
            raise ValueError("an evidence folder name outside the evidence folder")
        return self.root / name

    def intact(self, evidence: Evidence) -> bool:
        """True when the stored copy still has the SHA-256 recorded when it was received."""
        try:
            return hashlib.sha256(self.read(evidence.path)).hexdigest() == evidence.sha256
        except OSError:
            return False


def _digest_of(path: Path) -> str | None:
    """The SHA-256 of a stored file, or None when there is none (or it cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
