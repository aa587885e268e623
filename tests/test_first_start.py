"""Setting the bot up for a school, as the README tells a newcomer: every refusal one clear sentence with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.atomic import DataDirNotWritable, ensure_private_dir
from storage.database import data_folder_problems


@pytest.mark.parametrize("read_only", ["", "audit"])
def test_check_config_names_a_read_only_data_folder_and_its_fix_as_start_up_does(tmp_path: Path, read_only: str) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "audit").mkdir(parents=True)
    (data_dir / read_only).chmod(0o500)
    try:
        with pytest.raises(DataDirNotWritable) as refused:
            ensure_private_dir(data_dir / read_only)

        assert data_folder_problems(data_dir) == [str(refused.value)]
        assert "make it writable (chmod u+w" in str(refused.value)
    finally:
        (data_dir / read_only).chmod(0o700)
