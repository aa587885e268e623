"""Issue 14's backups, retention and /status, attacked: a hand-made archive with the right key, a crash
in the middle of a purge, a restart after a failed backup, a year of weekly lists, silly config values.

Each test here failed on the code as first built and passes now.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import orjson
import pytest

from bot.__main__ import main
from bot.backups.archive import create_key_file, read_key, write_archive
from storage.database import SCHEMA_VERSION
from tests.test_backup import everything, write_config


def forged_archive(path: Path, key_file: Path, members: list[tuple[str, bytes]]) -> Path:
    """An archive as an insider with the key could make it: any member names, an empty list of files."""

    def fill(tar: tarfile.TarFile) -> None:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        manifest = orjson.dumps({"format": 1, "schema_version": SCHEMA_VERSION, "files": {}})
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
