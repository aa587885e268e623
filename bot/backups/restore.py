"""Putting a backup back: only with the bot stopped, only after every check has passed.

The archive is decrypted and unpacked into a private folder inside the data folder, and checked
(key, integrity, each file against the manifest, schema version, every data file readable)
before anything of the data folder is touched. Then the files in use are moved aside into
`replaced-before-restore-<time>` (nothing is deleted) and the restored ones moved in, all while
holding the data folder's lock, so the bot cannot start halfway through.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shutil
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import orjson

from bot.backups.archive import BLOCK, ArchiveRefused, open_archive
from bot.backups.service import FILES, MANIFEST, schema_of
from bot.backups.snapshot import LOCK_FILE, REPLACED_PREFIX, kept
from bot.records.audit import SYSTEM, AuditEntry
from storage.atomic import ensure_private_dir, fsync_dir
from storage.audit import AuditLog
from storage.database import SCHEMA_VERSION, data_folder_problems
from storage.lock import DataDirLock
from storage.restore_marker import STAGING, SwapPlan, read_plan, unfinished, write_plan
from storage.restore_marker import clear as clear_plan


@dataclass(frozen=True)
class RestoreReport:
    made_at: str
    bot_version: str
    schema_version: int
    files: int
    evidence_files: int
    audit_months: int
    records: dict[str, int]  # data file -> records in it
    set_aside: Path | None  # where the files it replaced are kept (None: the folder was empty)


class RestoreInterrupted(Exception):
    """The disk refused a move halfway through the swap: the sentence says where every file is."""


def restore(archive: Path, key: bytes, data_dir: Path, now: datetime) -> RestoreReport:
    """Check `archive` and make it the data folder; DataDirLocked while the bot runs, ArchiveRefused
    (nothing changed) when any check fails, RestoreInterrupted if the disk fails the swap itself."""
    data_dir = ensure_private_dir(data_dir)
    lock = DataDirLock(data_dir)
    lock.acquire()  # refuses while the bot runs: before anything else is done
    staging = data_dir / STAGING
    keep_staging = False
    try:
        shutil.rmtree(staging, ignore_errors=True)
        try:
            ensure_private_dir(staging)
            manifest = _unpack(archive, key, staging)
        except OSError as exc:
            raise ArchiveRefused(
                f"{archive.name} could not be unpacked beside the data folder ({_reason(exc)}): free space on that disk."
            ) from None
        restored = staging / "files"
        problems = data_folder_problems(restored)
        if problems:
            raise ArchiveRefused(f"{archive.name} holds a damaged data file: {problems[0]}")
        meta = restored / "meta.json"
        schema = schema_of(meta.read_bytes() if meta.exists() else None)
        if schema > SCHEMA_VERSION:  # the data file itself, whatever the manifest says
            raise ArchiveRefused(f"{archive.name} holds data of schema {schema}, newer than this bot knows: upgrade the bot.")
        try:
            plan = _plan(data_dir, now)
        except OSError as exc:
            raise ArchiveRefused(f"{archive.name} could not be put in place ({_reason(exc)}): free space on that disk.") from None
        try:
            aside = _swap(data_dir, restored, plan)
        except OSError as exc:
            keep_staging = True
            raise RestoreInterrupted(
                f"The restore stopped while moving files ({_reason(exc)}). The files it was replacing are in "
                f"{data_dir / plan.aside}, the restored files not yet moved are in {restored}: the bot will not "
                "start on this folder; run the restore again once the disk is healthy, and it finishes the job."
            ) from None
        _audit(data_dir, archive, manifest, aside, now)
        return _report(manifest, data_dir, aside)
    finally:
        if not keep_staging:
            shutil.rmtree(staging, ignore_errors=True)
        lock.release()


def _audit(data_dir: Path, archive: Path, manifest: dict[str, object], aside: Path | None, now: datetime) -> None:
    """One line in the restored audit log: the trail a governor reads says the records were put back,
    from which backup, and where the replaced ones are, not only what a backup held."""
    log = AuditLog(data_dir / "audit")
    kept_in = f"; the files it replaced are in {aside.name}" if aside else ""
    entry = AuditEntry(now, SYSTEM, "system", "backup restored", archive.name, detail=f"made {manifest.get('made_at')}{kept_in}")
    try:
        with contextlib.suppress(OSError):  # the restore itself is done; a full disk costs only this line
            log.append(entry)
    finally:
        log.close()


def _reason(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno else type(exc).__name__


def _unpack(archive: Path, key: bytes, staging: Path) -> dict[str, object]:
    plain = staging / "archive.tar.gz"
    with open(os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        open_archive(archive, key, out)  # key and integrity: ArchiveRefused before anything is read
    files = staging / "files"
    ensure_private_dir(files)
    manifest: dict[str, object] | None = None
    seen: dict[str, tuple[int, str]] = {}
    try:
        with tarfile.open(plain, "r:gz") as tar:
            for member in tar:
                source = _member_file(tar, member, archive)
                if member.name == MANIFEST:
                    manifest = orjson.loads(source.read())
                    continue
                relative = _safe_name(member.name, archive)
                if relative in seen:
                    raise ArchiveRefused(f"{archive.name} holds {member.name} twice.")
                target = files / relative
                if not target.resolve().is_relative_to(files.resolve()):
                    raise ArchiveRefused(f"{archive.name} holds an entry outside the data folder ({member.name}).")
                try:
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except (FileExistsError, NotADirectoryError):  # "evidence" as a file, then "evidence/x"
                    raise ArchiveRefused(f"{archive.name} holds {member.name} as a file and as a folder.") from None
                digest = hashlib.sha256()
                with open(fd, "wb") as out:
                    while block := source.read(BLOCK):
                        digest.update(block)
                        out.write(block)
                seen[relative] = (member.size, digest.hexdigest())
    except OSError as exc:
        if exc.errno:
            raise  # the disk, not the archive: the caller says so
        raise ArchiveRefused(f"{archive.name} could not be unpacked ({type(exc).__name__}).") from None
    except (tarfile.TarError, EOFError, orjson.JSONDecodeError) as exc:
        raise ArchiveRefused(f"{archive.name} could not be unpacked ({type(exc).__name__}).") from None
    listing = manifest.get("files") if isinstance(manifest, dict) else None
    if manifest is None or not isinstance(listing, dict) or not all(isinstance(e, dict) for e in listing.values()):
        raise ArchiveRefused(f"{archive.name} has no list of its files.")
    listed = {name: (entry.get("size"), entry.get("sha256")) for name, entry in listing.items()}
    if listed != seen:
        raise ArchiveRefused(f"{archive.name} does not hold the files its list names: it is incomplete.")
    schema = manifest.get("schema_version")
    if not isinstance(schema, int) or schema > SCHEMA_VERSION:
        raise ArchiveRefused(
            f"{archive.name} was made by a newer version of the bot (data schema {schema}, this bot knows "
            f"{SCHEMA_VERSION}): upgrade the bot, then restore."
        )
    return manifest


def _member_file(tar: tarfile.TarFile, member: tarfile.TarInfo, archive: Path) -> IO[bytes]:
    if not member.isfile():
        raise ArchiveRefused(f"{archive.name} holds something other than plain files ({member.name}).")
    extracted = tar.extractfile(member)
    if extracted is None:
        raise ArchiveRefused(f"{archive.name} holds an unreadable entry ({member.name}).")
    return extracted


def _safe_name(name: str, archive: Path) -> str:
    """The data-folder path of an archive entry; anything that could land outside it is refused.

    Only the names a backup writes pass: "files/" and plain names joined by single slashes. A name
    spelled any other way ("files//etc/x", "files/./x", "files/a/../..") is refused whole, never
    tidied up: joined to a folder, "/etc/x" would be /etc/x.
    """
    relative = name[len(FILES) :] if name.startswith(FILES) else ""
    parts = relative.split("/")
    if not relative or any(part in ("", ".", "..") or "\\" in part or "\0" in part for part in parts):
        raise ArchiveRefused(f"{archive.name} holds an entry outside the data folder ({name}).")
    if not kept(relative):
        raise ArchiveRefused(f"{archive.name} holds an entry a backup never has ({name}).")
    return relative


def _plan(data_dir: Path, now: datetime) -> SwapPlan:
    """What the swap moves where, written down before anything moves (storage.restore_marker): the
    plan of a restore that was stopped halfway, or a new one with a folder name not used before."""
    if unfinished(data_dir):
        plan = read_plan(data_dir)
        if plan is not None and plan.aside.startswith(REPLACED_PREFIX):
            return plan
    base = f"{REPLACED_PREFIX}{now.astimezone(UTC):%Y%m%d-%H%M%S}"
    aside = next(name for n in itertools.count(1) if not (data_dir / (name := base if n == 1 else f"{base}-{n}")).exists())
    plan = SwapPlan(aside, tuple(sorted(p.name for p in data_dir.iterdir() if kept(p.name))))
    write_plan(data_dir, plan)
    return plan


def _swap(data_dir: Path, restored: Path, plan: SwapPlan) -> Path | None:
    """Move what was in use aside, then the restored files in; renames on one disk. Run again after
    a stop, it moves aside only what was not moved yet (an original is never moved twice, so never
    over its own copy), drops what the stopped run had already moved in (the archive holds it), and
    goes on. Returns the folder the files in use went to (None: the folder held nothing)."""
    aside = data_dir / plan.aside
    for name in plan.in_use:
        if not kept(name) or (aside / name).exists() or not (data_dir / name).exists():
            continue  # moved aside before the stop (or not a name a restore moves)
        aside.mkdir(mode=0o700, exist_ok=True)
        os.replace(data_dir / name, aside / name)
    if aside.is_dir():
        fsync_dir(aside)
    for path in data_dir.iterdir():
        if not kept(path.name):
            continue
        if path.is_dir() and not path.is_symlink():  # moved in by the stopped run: the original is aside
            shutil.rmtree(path)
        else:
            path.unlink()
    for path in sorted(restored.iterdir()):
        os.replace(path, data_dir / path.name)
    fsync_dir(data_dir)
    clear_plan(data_dir)
    return aside if aside.is_dir() else None


def _report(manifest: dict[str, object], data_dir: Path, aside: Path | None) -> RestoreReport:
    files = manifest["files"]
    assert isinstance(files, dict)
    records: dict[str, int] = {}
    for name in sorted(files):
        if "/" not in name and name.endswith(".json") and name != LOCK_FILE:
            tables = orjson.loads((data_dir / name).read_bytes())
            records[name.removesuffix(".json")] = sum(len(t) for t in tables.values() if isinstance(t, dict))
    return RestoreReport(
        made_at=str(manifest.get("made_at", "")),
        bot_version=str(manifest.get("bot_version", "")),
        schema_version=int(str(manifest.get("schema_version", 0))),
        files=len(files),
        evidence_files=sum(1 for name in files if name.startswith("evidence/")),
        audit_months=sum(1 for name in files if name.startswith("audit/")),
        records=records,
        set_aside=aside,
    )
