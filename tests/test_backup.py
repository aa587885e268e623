"""Backups and restore, as the school's business manager and the Head meet them.

A backup is taken by the command line while the bot serves a busy hour, then restored into an
empty folder: what comes back is the data folder exactly as it stood at one instant of that hour.
A restore refuses (and changes nothing) with a wrong key, a tampered archive, a newer schema, or
while the bot runs.
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import os
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

import bot.shell.persistence
import storage.atomic
from bot.__main__ import main
from bot.backups import snapshot
from bot.backups.snapshot import kept
from bot.config import Config
from storage.database import SCHEMA_VERSION
from tests.conftest import ADMIN, ADMIN2, HEAD, SLT, BotHarness, make_config, raw_config
from tests.test_incidents import log_misuse, screenshot_bytes

restore_module = importlib.import_module("bot.backups.restore")  # the module; bot.backups.restore is its function


def toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def write_config(path: Path, data_dir: Path, backups: Path, key: Path, **sections: dict[str, Any]) -> Path:
    raw = raw_config(data_dir, backup={"folder": str(backups), "key_file": str(key)}, **sections)
    path.write_text(
        "\n".join(f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items()) for name, table in raw.items()),
        encoding="utf-8",
    )
    return path


def tree(folder: Path) -> dict[str, bytes]:
    """Every file a backup keeps, by its path under the folder."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and kept(relative):
            found[relative] = path.read_bytes()
    return found


def as_backed_up(restored: dict[str, bytes]) -> dict[str, bytes]:
    """A restored folder's files without the one audit line the restore adds after putting them back
    ("backup restored"): what remains is compared byte for byte with what was backed up."""
    found = dict(restored)
    lines = [(name, data) for name, data in found.items() if name.startswith("audit/") and b'"action":"backup restored"' in data]
    assert len(lines) == 1, "the restore is in the audit log, once"
    name, data = lines[0]
    kept, _, last = data.rstrip(b"\n").rpartition(b"\n")
    assert b'"action":"backup restored"' in last, "as its last line"
    if kept:
        found[name] = kept + b"\n"
    else:
        del found[name]
    return found


def everything(folder: Path) -> dict[str, bytes]:
    """Every file, the lock and hidden files included: "nothing was touched" means this is unchanged."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    backups = tmp_path / "backups"
    backups.mkdir()
    return {"backups": backups, "key": tmp_path / "backup.key", "fresh": tmp_path / "fresh"}


@pytest.fixture
def config(data_dir: Path, tmp_path: Path) -> Config:
    return make_config(data_dir, backup={"folder": str(tmp_path / "backups"), "key_file": str(tmp_path / "backup.key")})


def only_archive(backups: Path) -> Path:
    [archive] = [p for p in backups.iterdir() if p.suffix == ".backup"]
    return archive


class WriteHistory:
    """Every version of every data file the bot writes, in the order it wrote them."""

    def __init__(self, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.data_dir = data_dir
        self.lock = threading.Lock()
        self.versions: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
        self.count = 0
        for name, data in tree(data_dir).items():
            if _is_data_file(name):
                self.versions[name].append((0, data))
        real = storage.atomic.atomic_write_bytes

        def recording(path: Path, payload: bytes) -> None:
            real(path, payload)
            with self.lock:
                self.count += 1
                self.versions[path.relative_to(data_dir).as_posix()].append((self.count, payload))

        monkeypatch.setattr(storage.atomic, "atomic_write_bytes", recording)
        monkeypatch.setattr(bot.shell.persistence, "atomic_write_bytes", recording)

    def instants_matching(self, restored: dict[str, bytes]) -> set[int]:
        """The moments (write counts) at which every data file held exactly what `restored` holds."""
        moments = set(range(self.count + 1))
        for name in set(self.versions) | {n for n in restored if _is_data_file(n)}:
            history = self.versions.get(name, [])
            fits: set[int] = set()
            if name not in restored:
                fits |= set(range(history[0][0] if history else self.count + 1))
            for i, (since, data) in enumerate(history):
                until = history[i + 1][0] if i + 1 < len(history) else self.count + 1
                if restored.get(name) == data:
                    fits |= set(range(since, until))
            moments &= fits
        return moments


def _is_data_file(name: str) -> bool:
    return "/" not in name and name.endswith(".json")


async def busy_hour(bot: BotHarness, rounds: int) -> None:
    """Staff at work: misuse logged with screenshots (the incident, then its alert to the Head: two files
    written one after the other), lookups, the staff list, a /log begun and cancelled."""
    for round_ in range(rounds):
        bot.emu.send_text(ADMIN2, f"/consent Pupil {round_}")
        bot.emu.send_text(SLT, "/staff")
        await log_misuse(bot, ADMIN)
        bot.emu.send_text(ADMIN2, "/log")
        bot.emu.send_photo(ADMIN2, screenshot_bytes())
        bot.emu.send_text(ADMIN2, "/cancel")


# ---- making one, and putting it back ------------------------------------------------------------


async def test_a_backup_taken_during_a_busy_hour_restores_the_folder_as_it_was_at_one_instant(
    bot: BotHarness, data_dir: Path, places: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path / "config.toml", data_dir, places["backups"], places["key"])
    assert main(["--config", str(path), "backup-key"]) == 0
    assert places["key"].stat().st_mode & 0o777 == 0o600
    await bot.say(HEAD, "/help")
    history = WriteHistory(data_dir, monkeypatch)

    work = asyncio.create_task(busy_hour(bot, 25))
    while history.count < 20 and not work.done():  # the hour is under way
        await asyncio.sleep(0.01)
    made = await asyncio.to_thread(main, ["--config", str(path), "backup"])  # beside the running bot
    await work
    await bot.settle()
    assert made == 0
    live = tree(data_dir)

    fresh = write_config(tmp_path / "fresh.toml", places["fresh"], places["backups"], places["key"])
    assert main(["--config", str(fresh), "restore", str(only_archive(places["backups"]))]) == 0
    restored = as_backed_up(tree(places["fresh"]))

    moments = history.instants_matching(restored)
    assert moments, "every data file as it stood at one and the same moment"
    assert max(moments) >= 20, "a moment after the hour was under way (some states recur: a /log begun and cancelled)"
    for name, data in restored.items():
        if name.startswith("audit/"):
            assert live[name].startswith(data), "the audit log up to that moment"
        elif name.startswith("evidence/draft-"):
            assert live.get(name, data) == data  # a draft's screenshot, gone once its /log was cancelled
        elif name.startswith("evidence/"):
            assert live[name] == data
    incidents = orjson.loads(restored.get("incidents.json", b"{}"))
    for doc in incidents.get("incidents", {}).values():
        for evidence in doc.get("evidence", []):
            assert evidence["path"] in restored, "every screenshot an incident names came back with it"


async def test_restore_brings_back_byte_for_byte_what_was_backed_up_and_keeps_what_it_replaced(
    bot: BotHarness, data_dir: Path, places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path / "config.toml", data_dir, places["backups"], places["key"])
    main(["--config", str(path), "backup-key"])
    await busy_hour(bot, 3)
    await bot.settle()
    await bot.stop()
    before = tree(data_dir)
    assert main(["--config", str(path), "backup"]) == 0
    assert "Backup written" in capsys.readouterr().out

    (data_dir / "staff.json").write_bytes(b'{"staff": {}}')  # a mistake after the backup
    assert main(["--config", str(path), "restore", str(only_archive(places["backups"]))]) == 0
    out = capsys.readouterr().out
    assert "Restored the backup made" in out and "kept in" in out
    after = as_backed_up(tree(data_dir))
    assert after == before
    [aside] = [p for p in data_dir.iterdir() if p.name.startswith("replaced-before-restore-")]
    assert (aside / "staff.json").read_bytes() == b'{"staff": {}}', "the replaced files are kept, not deleted"
    await bot.start()  # the bot starts on the restored folder
    assert bot.services.staff.role_of(HEAD) is not None


# ---- refusals: nothing is touched ---------------------------------------------------------------


async def made_backup(bot: BotHarness, data_dir: Path, places: dict[str, Path], tmp_path: Path) -> tuple[Path, Path]:
    path = write_config(tmp_path / "config.toml", data_dir, places["backups"], places["key"])
    main(["--config", str(path), "backup-key"])
    await busy_hour(bot, 2)
    await bot.settle()
    assert main(["--config", str(path), "backup"]) == 0
    return path, only_archive(places["backups"])


async def test_restore_refuses_while_the_bot_runs_and_touches_nothing(
    bot: BotHarness, data_dir: Path, places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, archive = await made_backup(bot, data_dir, places, tmp_path)
    capsys.readouterr()
    before = everything(data_dir)
    assert main(["--config", str(path), "restore", str(archive)]) == 1
    assert "The bot is running" in capsys.readouterr().err
    assert everything(data_dir) == before


@pytest.mark.parametrize("problem", ["wrong key", "tampered", "cut short", "not a backup"])
async def test_restore_refuses_a_wrong_key_or_a_damaged_archive_and_touches_nothing(
    bot: BotHarness,
    data_dir: Path,
    places: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    problem: str,
) -> None:
    path, archive = await made_backup(bot, data_dir, places, tmp_path)
    await bot.stop()
    if problem == "wrong key":
        places["key"].unlink()
        main(["--config", str(path), "backup-key"])
    elif problem == "tampered":
        data = bytearray(archive.read_bytes())
        data[len(data) // 2] ^= 0x01
        archive.write_bytes(bytes(data))
    elif problem == "cut short":
        archive.write_bytes(archive.read_bytes()[:-100])
    else:
        archive.write_bytes(b"PK\x03\x04 a zip file")
    capsys.readouterr()
    before = everything(data_dir)
    assert main(["--config", str(path), "restore", str(archive)]) == 1
    err = capsys.readouterr().err
    expected = {
        "wrong key": "different key",
        "tampered": "damaged or has been altered",
        "cut short": "damaged or has been altered",
        "not a backup": "not a backup made by this bot",
    }[problem]
    assert expected in err and "Nothing was changed" in err
    after = everything(data_dir)
    after.pop("bot.lock"), before.pop("bot.lock")  # the restore took the lock to check the bot is stopped
    assert after == before


async def test_restore_refuses_a_backup_of_a_newer_schema(
    bot: BotHarness, data_dir: Path, places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path / "config.toml", data_dir, places["backups"], places["key"])
    main(["--config", str(path), "backup-key"])
    await bot.stop()
    meta = orjson.loads((data_dir / "meta.json").read_bytes())
    current = (data_dir / "meta.json").read_bytes()
    meta["meta"]["1"]["schema_version"] = SCHEMA_VERSION + 1
    (data_dir / "meta.json").write_bytes(orjson.dumps(meta))  # as a newer bot would have left it
    assert main(["--config", str(path), "backup"]) == 0
    (data_dir / "meta.json").write_bytes(current)
    capsys.readouterr()
    before = everything(data_dir)
    assert main(["--config", str(path), "restore", str(only_archive(places["backups"]))]) == 1
    assert "newer version of the bot" in capsys.readouterr().err
    after = everything(data_dir)
    after.pop("bot.lock"), before.pop("bot.lock")
    assert after == before


def test_backup_key_is_never_overwritten(places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path / "config.toml", tmp_path / "data", places["backups"], places["key"])
    assert main(["--config", str(path), "backup-key"]) == 0
    key = places["key"].read_bytes()
    assert main(["--config", str(path), "backup-key"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert places["key"].read_bytes() == key
    assert os.stat(places["key"]).st_mode & 0o077 == 0, "nobody but its owner can read the key"


def test_an_action_landing_midway_through_the_copy_is_never_half_in_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: an action that saves an incident and then its alert runs just after the copy read
    the incident file and before it read the outbox: the snapshot has both old or both new, never a mix."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("incidents.json", "outbox.json"):
        storage.atomic.atomic_write_bytes(folder / name, b'{"version": 1}')
    real_open = open
    acted: list[bool] = []

    def open_then_act(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened = real_open(path, *args, **kwargs)
        if Path(path).name == "incidents.json" and not acted:
            acted.append(True)
            for name in ("incidents.json", "outbox.json"):  # the bot's action, between two reads of the copy
                storage.atomic.atomic_write_bytes(folder / name, b'{"version": 2}')
        return opened

    monkeypatch.setattr(snapshot, "open", open_then_act, raising=False)
    taken = snapshot.take(folder)
    assert acted
    assert taken.held["incidents.json"] == taken.held["outbox.json"] == b'{"version": 2}'


def test_check_config_names_what_would_make_tonights_backup_fail(
    places: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path / "config.toml", tmp_path / "data", tmp_path / "usb-disk", places["key"])
    assert main(["--config", str(path), "check-config"]) == 1
    err = capsys.readouterr().err
    assert "is not there (is the NAS or USB disk connected?)" in err
    assert "python -m bot backup-key" in err, "no key yet: how to make one"

    path = write_config(tmp_path / "config.toml", tmp_path / "data", places["backups"], places["key"])
    main(["--config", str(path), "backup-key"])
    places["key"].chmod(0o644)
    assert main(["--config", str(path), "check-config"]) == 1
    assert f"can be read by other users: chmod 600 {places['key']}" in capsys.readouterr().err
    places["key"].chmod(0o600)
    assert main(["--config", str(path), "check-config"]) == 0


async def test_restore_refuses_when_the_disk_has_no_room_to_unpack_and_touches_nothing(
    bot: BotHarness,
    data_dir: Path,
    places: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, archive = await made_backup(bot, data_dir, places, tmp_path)
    await bot.stop()
    real_open_archive = restore_module.open_archive

    def disk_full_halfway(archive: Path, key: bytes, out: Any) -> None:
        out.write(b"the first bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(restore_module, "open_archive", disk_full_halfway)
    capsys.readouterr()
    before = everything(data_dir)
    assert main(["--config", str(path), "restore", str(archive)]) == 1
    err = capsys.readouterr().err
    assert "could not be unpacked beside the data folder (No space left on device)" in err and "Nothing was changed" in err
    after = everything(data_dir)
    after.pop("bot.lock"), before.pop("bot.lock")
    assert after == before
    monkeypatch.setattr(restore_module, "open_archive", real_open_archive)
    assert main(["--config", str(path), "restore", str(archive)]) == 0, "with room, the same archive restores"
