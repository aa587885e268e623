"""Issue 14's backups, retention and /status, attacked: a hand-made archive with the right key, a crash
in the middle of a purge, a restart after a failed backup, a year of weekly lists, silly config values.

Each test here failed on the code as first built and passes now.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

import storage.evidence
from bot.__main__ import main
from bot.backups import Backups
from bot.backups import archive as backup_archive
from bot.backups.archive import create_key_file, read_key, write_archive
from bot.clock import FakeClock
from bot.config import Config, load_config
from bot.shell.callbacks import pack
from storage.database import SCHEMA_VERSION
from storage.restore_marker import RestoreUnfinished
from tests.conftest import ADMIN, HEAD, BotHarness, make_config
from tests.test_backup import as_backed_up, everything, made_backup, tree, write_config
from tests.test_incidents import log_misuse
from tests.test_retention import CHECK, OLD, closed_incident, previews_to


def forged_archive(path: Path, key_file: Path, members: list[tuple[str, bytes]], listed: bool = False) -> Path:
    """An archive as an insider with the key could make it: any member names, a list of files that is
    empty or (`listed`) names each member with its true size and SHA-256, as a real backup's does."""
    files = {
        name.removeprefix("files/"): {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in (members if listed else [])
    }

    def fill(tar: tarfile.TarFile) -> None:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        manifest = orjson.dumps({"format": 1, "schema_version": SCHEMA_VERSION, "files": files})
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))

    write_archive(path, read_key(key_file), fill)
    return path


# ---- restore: nothing is ever written outside the data folder ------------------------------------


def test_a_forged_archive_with_the_right_key_never_writes_outside_the_data_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "files/" then an absolute path: joined to a folder, that is the absolute path itself."""
    data_dir, backups, key = tmp_path / "data", tmp_path / "backups", tmp_path / "backup.key"
    backups.mkdir()
    outside = tmp_path / "outside"
    create_key_file(key)
    config = write_config(tmp_path / "config.toml", data_dir, backups, key)
    archive = forged_archive(backups / "school-bot-20261125-020000Z.backup", key, [(f"files/{outside}/planted", b"owned")])
    assert main(["--config", str(config), "restore", str(archive)]) == 1
    err = capsys.readouterr().err
    assert "outside the data folder" in err and "Nothing was changed" in err
    assert not outside.exists(), "nothing was written outside the data folder"


def test_a_forged_archive_naming_one_file_twice_or_as_a_file_and_a_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, backups, key = tmp_path / "data", tmp_path / "backups", tmp_path / "backup.key"
    backups.mkdir()
    create_key_file(key)
    config = write_config(tmp_path / "config.toml", data_dir, backups, key)
    data_dir.mkdir()
    (data_dir / "staff.json").write_bytes(b'{"staff": {}}')
    before = everything(data_dir)
    for members, said in (
        ([("files/staff.json", b"{}"), ("files/staff.json", b"{}")], "twice"),
        ([("files/evidence", b"x"), ("files/evidence/INC-0001/a.png", b"x")], "as a file and as a folder"),
    ):
        archive = forged_archive(tmp_path / "forged.backup", key, members)
        assert main(["--config", str(config), "restore", str(archive)]) == 1
        err = capsys.readouterr().err
        assert said in err and "Nothing was changed" in err
        archive.unlink()
        after = everything(data_dir)
        after.pop("bot.lock", None)
        assert after == before


# ---- retention ---------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OLD)


@pytest.fixture
def config(data_dir: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    """With the parameter "backups": to tmp_path/backups (the folder and the key made here)."""
    if getattr(request, "param", None) != "backups":
        return make_config(data_dir)
    (tmp_path / "backups").mkdir()
    create_key_file(tmp_path / "backup.key")
    return make_config(data_dir, backup={"folder": str(tmp_path / "backups"), "key_file": str(tmp_path / "backup.key")})


def preview_id(message: object) -> int:
    return int(dict(message.buttons)["Delete these records"].rsplit(":", 1)[1])  # type: ignore[attr-defined]


async def test_screenshots_a_crash_left_behind_mid_purge_go_with_the_next_list_and_nothing_else_does(
    bot: BotHarness, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for user in (HEAD, ADMIN):
        await bot.say(user, "/help")
    old = await closed_incident(bot, OLD)
    bot.clock.set(CHECK)
    [preview] = await bot.say(HEAD, "/retention")
    folder = data_dir / "evidence" / f"INC-{old:04d}"
    assert [p for p in folder.iterdir()]

    def power_cut(self: object, ref: str) -> int:
        raise KeyboardInterrupt("the power went: the records were written, the files not yet deleted")

    with monkeypatch.context() as patch:
        patch.setattr(storage.evidence.EvidenceStore, "remove", power_cut)
        with pytest.raises(KeyboardInterrupt):
            bot.services.retention.answer(HEAD, preview_id(preview), True)
    await bot.restart()
    assert bot.services.incidents.get(old) is None and folder.is_dir(), "the crash left screenshots no record points to"

    current = await log_misuse(bot, ADMIN)  # open, not due: its screenshots stay
    being_logged = data_dir / "evidence" / f"INC-{current.number + 1:04d}"  # a /log copying its screenshots now
    being_logged.mkdir()
    (being_logged / "shot.png").write_bytes(b"png")
    bot.clock.set(CHECK + timedelta(days=1))
    [reply] = await bot.say(HEAD, "/retention")
    assert reply.plain == "Nothing is past its retention period today."
    assert not folder.exists(), "the next list finished the purge the Head had confirmed"
    assert (data_dir / "evidence" / f"INC-{current.number:04d}").is_dir() and being_logged.is_dir()
    [entry] = [e for e in bot.audit() if e.action == "retention purge finished"]
    assert entry.detail.startswith("1 screenshot of 1 incident deleted before")


async def test_a_year_of_weekly_lists_keeps_one_in_meta_json_and_no_old_button_ever_deletes(
    bot: BotHarness, data_dir: Path
) -> None:
    for user in (HEAD, ADMIN):
        await bot.say(user, "/help")
    number = await closed_incident(bot, OLD)
    bot.clock.set(CHECK)
    [first] = await bot.say(HEAD, "/retention")
    first_delete = dict(first.buttons)["Delete these records"]
    ids = []
    for _ in range(52):
        bot.clock.advance(days=7)
        await bot.tick()
        ids.append(preview_id(previews_to(bot, HEAD)[-1]))
    weekly = previews_to(bot, HEAD)[1:]
    assert len(weekly) == 52
    previews = orjson.loads((data_dir / "meta.json").read_bytes())["retention_previews"]
    assert list(previews) == [str(ids[-1])], "only the list that can still be answered"
    assert not [m for m in (first, *weekly[:-1]) if m.buttons], "and only it still has buttons"

    answer = await bot.press(HEAD, first, data=first_delete)  # a tap from a phone that had not caught up
    assert "out of date" in answer["text"]
    answer = await bot.press(HEAD, weekly[-1], data=pack("ret", "ok", ids[-2]))
    assert "out of date" in answer["text"]
    assert bot.services.incidents.get(number) is not None

    last = preview_id(weekly[-1])
    await bot.press(HEAD, weekly[-1], "Cancel")
    await bot.restart()
    [again] = await bot.say(HEAD, "/retention")
    assert preview_id(again) > last, "an id is never given twice, across a restart"


# ---- the backup's outcome outlives a restart -----------------------------------------------------


@pytest.mark.parametrize("config", ["backups"], indirect=True)
async def test_last_nights_failed_backup_is_still_on_status_after_a_restart(
    bot: BotHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.say(HEAD, "/help")
    bot.clock.set(datetime(2024, 1, 11, 2, 0, tzinfo=UTC))
    await bot.tick()
    assert len(list((tmp_path / "backups").iterdir())) == 1

    def full(self: object, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(backup_archive._Sealer, "write", full)
        bot.clock.set(datetime(2024, 1, 12, 2, 0, tzinfo=UTC))
        await bot.tick()
    [told] = [m.plain for m in bot.emu.messages_to(HEAD) if "backup failed" in m.plain]
    assert "the backup disk is full." in told and ".." not in told
    await bot.restart()
    [status] = await bot.say(HEAD, "/status")
    assert "02:00 failed: the backup disk is full." in status.plain
    assert "is the NAS or USB disk mounted there?" in status.plain, "here both are on one disk, as under an unmounted NAS"
    assert "02:00 (" in line(status.plain, "Last backup:"), "the night before's"

    (tmp_path / "backups").rename(tmp_path / "unplugged")  # the USB disk taken away
    [status] = await bot.say(HEAD, "/status")
    assert "02:00 (" in line(status.plain, "Last backup:"), "not 'none yet': it is on the disk taken away"
    (tmp_path / "unplugged").rename(tmp_path / "backups")
    await bot.advance(hours=1)  # the hourly retry works: the failure is no longer shown
    [status] = await bot.say(HEAD, "/status")
    assert "failed" not in status.plain and "03:00" in line(status.plain, "Last backup:")


def line(text: str, start: str) -> str:
    [found] = [row for row in text.splitlines() if row.startswith(start)]
    return found


# ---- silly retention periods ----------------------------------------------------------------------


def test_check_config_names_a_retention_period_too_long_to_count_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """99,999,999 months back is before the year 1: every weekly check and /status would fail on it."""
    config = tmp_path / "config.toml"
    write_config(config, tmp_path / "data", tmp_path / "backups", tmp_path / "backup.key")
    text = config.read_text(encoding="utf-8").replace("[backup]", "[retention]\nleft_pupil_months = 99999999\n\n[backup]")
    config.write_text(text, encoding="utf-8")
    assert main(["--config", str(config), "check-config"]) == 1
    assert "retention.left_pupil_months: must be at most 1,200, not 99,999,999" in capsys.readouterr().err


# ---- a careless set-up ----------------------------------------------------------------------------


def test_a_backup_folder_inside_the_data_folder_or_a_key_beside_the_backups_is_named_and_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Inside the data folder each backup would hold every one before it (growing night after night),
    and the failing disk would take both; a key among the backups opens them for whoever reads them."""
    data_dir = tmp_path / "data"
    inside = data_dir / "backups"
    inside.mkdir(parents=True)
    key = tmp_path / "backup.key"
    create_key_file(key)
    config = write_config(tmp_path / "config.toml", data_dir, inside, key)
    assert main(["--config", str(config), "backup"]) == 1
    assert "is inside the data folder" in capsys.readouterr().err
    assert list(inside.iterdir()) == [], "no backup was written"
    assert main(["--config", str(config), "check-config"]) == 1
    assert "backup.folder: the backup folder" in capsys.readouterr().err

    nas = tmp_path / "nas"
    nas.mkdir()
    key.rename(nas / "backup.key")
    config = write_config(tmp_path / "config.toml", data_dir, nas, nas / "backup.key")
    assert main(["--config", str(config), "check-config"]) == 1
    assert "is in the backup folder, so whoever can read the backups can open them" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root, as in the README's set-up")
def test_check_config_names_a_key_the_bots_user_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's step run as root: the key is root's, readable by root only; check-config (as root)
    read it fine, and every night the bot's user could not."""
    data_dir, backups, key = tmp_path / "data", tmp_path / "backups", tmp_path / "backup.key"
    data_dir.mkdir()
    backups.mkdir()
    os.chown(data_dir, 4242, 4242)  # the bot's user owns its data folder
    create_key_file(key)  # made by root
    config = write_config(tmp_path / "config.toml", data_dir, backups, key)
    assert main(["--config", str(config), "check-config"]) == 1
    assert "belongs to root, but the bot runs as 4242 (who owns the data folder) and cannot read it: chown 4242" in (
        capsys.readouterr().err
    )
    os.chown(key, 4242, 4242)
    assert main(["--config", str(config), "check-config"]) == 0


# ---- a restore stopped halfway ---------------------------------------------------------------------


async def test_a_restore_killed_halfway_stops_the_bot_starting_and_run_again_finishes_keeping_every_original(
    bot: BotHarness, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    places = {"backups": tmp_path / "backups", "key": tmp_path / "backup.key"}
    places["backups"].mkdir()
    path, archive = await made_backup(bot, data_dir, places, tmp_path)
    backed_up = tree(data_dir)
    await log_misuse(bot, ADMIN)  # the day goes on after the backup
    await bot.stop()
    originals = tree(data_dir)
    assert originals != backed_up

    real_replace = os.replace
    moves: list[str] = []

    def killed_on_the_fourth_move(src: Any, dst: Any) -> None:
        if not str(src).endswith(".tmp"):  # a move of the swap, not an atomic write's rename
            moves.append(str(src))
            if len(moves) == 4:
                raise KeyboardInterrupt("killed")
        real_replace(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", killed_on_the_fourth_move)
        with pytest.raises(KeyboardInterrupt):
            main(["--config", str(path), "restore", str(archive)])
    assert tree(data_dir) not in (originals, backed_up), "half of each"
    capsys.readouterr()
    assert main(["--config", str(path), "check-config"]) == 1
    assert "did not finish" in capsys.readouterr().err
    with pytest.raises(RestoreUnfinished):
        await bot.start()  # a bot started on half of each would take the missing files for a new school
    bot.app = None
    assert main(["--config", str(path), "backup"]) == 1, "nor is half of each backed up as a good backup"
    assert "a restore into the data folder is under way or did not finish" in capsys.readouterr().err
    assert [p.name for p in places["backups"].iterdir()] == [archive.name]

    assert main(["--config", str(path), "restore", str(archive)]) == 0
    assert as_backed_up(tree(data_dir)) == backed_up
    [aside] = [p for p in data_dir.iterdir() if p.name.startswith("replaced-before-restore-")]
    assert tree(aside) == originals, "every file it replaced, once, as it was"
    assert f"kept in {aside}" in capsys.readouterr().out
    await bot.start()
    assert bot.services.staff.role_of(HEAD) is not None


def test_a_restore_reads_the_schema_from_the_data_itself_not_only_from_the_archives_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A list saying schema 2 around a meta.json of schema 99: the bot would refuse to start on what
    the restore had already put in place."""
    data_dir, key = tmp_path / "data", tmp_path / "backup.key"
    create_key_file(key)
    config = write_config(tmp_path / "config.toml", data_dir, tmp_path, key)
    meta = orjson.dumps({"meta": {"1": {"schema_version": 99}}})
    archive = forged_archive(tmp_path / "forged.backup", key, [("files/meta.json", meta)], listed=True)
    assert main(["--config", str(config), "restore", str(archive)]) == 1
    assert "schema 99, newer than this bot knows" in capsys.readouterr().err
    assert not (data_dir / "meta.json").exists()


def test_another_schools_archive_on_a_shared_nas_is_never_taken_for_ours_nor_rotated_away(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, backups, key = tmp_path / "data", tmp_path / "nas", tmp_path / "backup.key"
    backups.mkdir()
    data_dir.mkdir()
    create_key_file(key)
    create_key_file(tmp_path / "their.key")
    theirs = [
        forged_archive(backups / f"school-bot-{day}-020000Z.backup", tmp_path / "their.key", [])
        for day in ("20200101", "20991231")  # one older than any we keep, one "newer" than ours
    ]
    config = write_config(tmp_path / "config.toml", data_dir, backups, key)
    text = config.read_text(encoding="utf-8")
    keep_one = "[backup]\nkeep_daily = 1\nkeep_weekly = 0\nkeep_monthly = 0\n"
    config.write_text(text.replace("[backup]\n", keep_one), encoding="utf-8")
    assert main(["--config", str(config), "backup"]) == 0
    assert main(["--config", str(config), "backup"]) == 0  # a second the same day: the first of ours goes
    out = capsys.readouterr().out
    assert all(t.name not in out for t in theirs) and all(t.exists() for t in theirs), "theirs left alone"
    ours = [p for p in backups.iterdir() if p not in theirs]
    assert len(ours) == 1
    backups_of = Backups(load_config(config).backup, data_dir, ZoneInfo("Europe/London"), FakeClock(OLD))
    last = backups_of.last_good()
    assert last is not None and last.path == ours[0], "not the other school's archive dated 2099"


async def test_a_delete_button_from_before_a_restore_never_acts_on_a_list_made_after_it(
    bot: BotHarness, data_dir: Path, tmp_path: Path
) -> None:
    """The restored meta.json knows no list made since the backup: a new one must not take the id
    of one still on the Head's phone."""
    for user in (HEAD, ADMIN):
        await bot.say(user, "/help")
    number = await closed_incident(bot, OLD)
    bot.clock.set(CHECK)
    backups, key = tmp_path / "backups", tmp_path / "backup.key"
    backups.mkdir()
    create_key_file(key)
    config = write_config(tmp_path / "config.toml", data_dir, backups, key)
    assert main(["--config", str(config), "backup"]) == 0
    [on_the_phone] = await bot.say(HEAD, "/retention")  # not answered: the school restores a backup instead
    await bot.stop()
    [archive] = backups.iterdir()
    assert main(["--config", str(config), "restore", str(archive)]) == 0
    await bot.start()
    bot.clock.advance(days=7)
    await bot.tick()
    [weekly] = previews_to(bot, HEAD)[1:]
    assert preview_id(weekly) != preview_id(on_the_phone)

    answer = await bot.press(HEAD, on_the_phone, "Delete these records")
    assert "out of date" in answer["text"]
    assert bot.services.incidents.get(number) is not None, "only the list under the button tapped deletes"


async def test_a_restore_killed_while_unpacking_leaves_no_decrypted_copy_once_the_bot_starts(
    bot: BotHarness, data_dir: Path
) -> None:
    await bot.stop()
    staging = data_dir / ".restore-staging" / "files"  # as a SIGKILL during the unpacking leaves it
    staging.mkdir(parents=True)
    (staging / "consents.json").write_bytes(b'{"pupils": {"1": {"first_name": "Amelia"}}}')
    await bot.start()
    assert not (data_dir / ".restore-staging").exists()


async def test_a_restore_is_in_the_audit_log_a_governor_reads_and_status_reminds_of_what_it_replaced(
    bot: BotHarness, data_dir: Path, tmp_path: Path
) -> None:
    places = {"backups": tmp_path / "backups", "key": tmp_path / "backup.key"}
    places["backups"].mkdir()
    path, archive = await made_backup(bot, data_dir, places, tmp_path)
    await bot.stop()
    assert main(["--config", str(path), "restore", str(archive)]) == 0
    await bot.start()
    [entry] = [e for e in bot.audit() if e.action == "backup restored"]
    assert entry.target == archive.name and "the files it replaced are in replaced-before-restore-" in entry.detail
    [status] = await bot.say(HEAD, "/status")  # they hold older records, out of retention's reach
    aside = entry.detail.rsplit(" ", 1)[1]
    assert f"Files a restore replaced are still kept in the data folder ({aside}): once all is well, delete them" in status.plain


def test_backup_key_in_a_folder_that_is_not_there_or_given_as_a_folder_says_so_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    config = write_config(tmp_path / "config.toml", tmp_path / "data", backups, tmp_path / "keys" / "backup.key")
    assert main(["--config", str(config), "backup-key"]) == 1  # was a FileNotFoundError traceback
    assert f"create the folder {tmp_path / 'keys'} first" in capsys.readouterr().err
    (tmp_path / "keys").mkdir()
    config = write_config(tmp_path / "config.toml", tmp_path / "data", backups, tmp_path / "keys")
    assert main(["--config", str(config), "backup-key"]) == 1
    assert "is a folder: set backup.key_file to a file's path in it" in capsys.readouterr().err
    assert list((tmp_path / "keys").iterdir()) == []


async def test_a_damaged_restore_note_never_moves_the_data_folder_itself(bot: BotHarness, data_dir: Path, tmp_path: Path) -> None:
    places = {"backups": tmp_path / "backups", "key": tmp_path / "backup.key"}
    places["backups"].mkdir()
    path, archive = await made_backup(bot, data_dir, places, tmp_path)
    await bot.stop()
    originals = tree(data_dir)
    (data_dir / ".restore-unfinished.json").write_bytes(
        orjson.dumps({"aside": "replaced-before-restore-1", "in_use": ["", ".", "..", *{n.split("/")[0] for n in originals}]})
    )
    assert main(["--config", str(path), "restore", str(archive)]) == 0
    assert tree(data_dir / "replaced-before-restore-1") == originals
    await bot.start()
