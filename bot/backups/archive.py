"""The encrypted archive: a gzip'ed tar of the data folder, sealed with AES-256-GCM from `cryptography`.

Layout: MAGIC | format | key id | nonce | ciphertext | tag. The header is authenticated with the
ciphertext, so no byte of either can change without decryption failing. GCM is used through
`cryptography`'s streaming interface so an archive of any size is written and checked in blocks;
no plaintext read back is trusted (or written anywhere but a private folder) before its tag is.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from storage.atomic import FILE_MODE, fsync_dir

MAGIC = b"SBBACKUP"
FORMAT = 1
NONCE_BYTES = 12
KEY_ID_BYTES = 8
HEADER_BYTES = len(MAGIC) + 1 + KEY_ID_BYTES + NONCE_BYTES
TAG_BYTES = 16
BLOCK = 1024 * 1024


class KeyProblem(Exception):
    """The key file is missing, unreadable or not a key: the sentence says which and what to do."""


class ArchiveRefused(Exception):
    """An archive restore will not use (wrong key, damaged, newer): nothing was changed."""


def create_key_file(path: Path) -> None:
    """Write a new random key readable by its owner only; an existing key is never overwritten."""
    key = base64.urlsafe_b64encode(os.urandom(32)) + b"\n"
    if path.is_dir():
        raise KeyProblem(f"{path} is a folder: set backup.key_file to a file's path in it, e.g. {path / 'backup.key'}.")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyProblem(f"{path} already exists: it may be the key of existing backups, so it is left as it is.") from None
    except OSError as exc:
        raise KeyProblem(
            f"Cannot write the backup key {path} ({exc.strerror}): create the folder {path.parent} first, "
            "writable by the bot's user, or set backup.key_file to a path in one that is."
        ) from None
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)  # whatever the umask


def read_key(path: Path | None) -> bytes:
    if path is None:
        raise KeyProblem("No backup key: set backup.key_file (create one with: python -m bot backup-key).")
    try:
        text = path.read_bytes().strip()
    except FileNotFoundError:
        raise KeyProblem(f"The backup key {path} does not exist: create it with python -m bot backup-key.") from None
    except OSError as exc:
        raise KeyProblem(f"Cannot read the backup key {path} ({exc.strerror}).") from None
    try:
        key = base64.urlsafe_b64decode(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyProblem(f"{path} is not a backup key (make one with: python -m bot backup-key).")
    return key


def key_id(key: bytes) -> bytes:
    """A short fingerprint of the key, kept in each archive so a wrong key is named as such."""
    return hashlib.sha256(b"school-bot backup key\0" + key).digest()[:KEY_ID_BYTES]


class _Sealer:
    """A write-only file object: what tarfile writes is encrypted on its way to the archive."""

    def __init__(self, out: BinaryIO, update: Callable[[bytes], bytes]) -> None:
        self.out = out
        self.update = update

    def write(self, data: bytes) -> int:
        self.out.write(self.update(bytes(data)))
        return len(data)

    def flush(self) -> None:
        self.out.flush()


def write_archive(dest: Path, key: bytes, fill: Callable[[tarfile.TarFile], None]) -> int:
    """Write an archive whose tar `fill` makes: to a temporary name, fsynced and read back with the key,
    then renamed into place. Returns its size. On any failure the partial file is removed: a full
    backup disk is left as it was, and a file under an archive's name is always a checked one.
    """
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    nonce = os.urandom(NONCE_BYTES)
    header = MAGIC + bytes([FORMAT]) + key_id(key) + nonce
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header)
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as out:
            out.write(header)
            with tarfile.open(fileobj=_Sealer(out, encryptor.update), mode="w|gz") as tar:  # type: ignore[call-overload]
                fill(tar)
            out.write(encryptor.finalize())
            out.write(encryptor.tag)
            out.flush()
            os.fsync(out.fileno())
        open_archive(tmp, key, None)  # it reads back with the key before it takes an archive's name
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest.stat().st_size


def open_archive(path: Path, key: bytes, out: BinaryIO | None) -> None:
    """Decrypt `path` into `out` (None: only check it), raising ArchiveRefused with the reason.

    The caller must not use what was written to `out` unless this returns: the tag is checked last.
    """
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below; a missing file is told apart first
    except OSError as exc:
        raise ArchiveRefused(f"Cannot read {path} ({exc.strerror}).") from None
    with f:
        header = f.read(HEADER_BYTES)
        if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
            raise ArchiveRefused(f"{path.name} is not a backup made by this bot.")
        if header[len(MAGIC)] > FORMAT:
            raise ArchiveRefused(f"{path.name} was made by a newer version of the bot: upgrade the bot, then restore.")
        if header[len(MAGIC) + 1 : len(MAGIC) + 1 + KEY_ID_BYTES] != key_id(key):
            raise ArchiveRefused(
                f"{path.name} was made with a different key than backup.key_file: "
                "use the key file that was configured when it was made."
            )
        size = f.seek(0, os.SEEK_END)
        remaining = size - HEADER_BYTES - TAG_BYTES
        if remaining < 0:
            raise ArchiveRefused(f"{path.name} is damaged (cut short).")
        f.seek(size - TAG_BYTES)
        tag = f.read(TAG_BYTES)
        f.seek(HEADER_BYTES)
        nonce = header[-NONCE_BYTES:]
        decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(header)
        while remaining:
            block = f.read(min(BLOCK, remaining))
            if not block:
                raise ArchiveRefused(f"{path.name} is damaged (cut short).")
            remaining -= len(block)
            plain = decryptor.update(block)
            if out is not None:
                out.write(plain)
        try:
            tail = decryptor.finalize()
        except InvalidTag:
            raise ArchiveRefused(f"{path.name} is damaged or has been altered: it fails its integrity check.") from None
        if out is not None:
            out.write(tail)
