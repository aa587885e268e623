"""A parent asks "when did the school record my child's photo consent, and who changed it?": /pupil answers
with the consent record's history — each import's changes, when (school time), by whom and how."""

from __future__ import annotations

import csv
import errno
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest

from bot.clock import FakeClock
from bot.config import Config
from bot.services import Services
from storage.atomic import DiskWriteFailed
from tests.conftest import HEAD, OFFICE, BotHarness, make_config, raw_config
from tests.test_import_bot import ROWS, load, send_file
from tests.test_import_bot import csv as register_csv
from tests.test_import_cli import run, toml

SEP_7 = datetime(2026, 9, 7, 7, 40, tzinfo=UTC)  # Monday, 08:40 in London (summer time)
OCT_1 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
OCT_20 = datetime(2026, 10, 20, 16, 5, tzinfo=UTC)
NOV_2 = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)  # Monday, 09:15 in London (GMT again)

AMELIA_NO_GROUP = "P001,Amelia,Smith,,Year 4,yes,no,no,2025-09-05,,"
NOAH_WITHDRAWN = "P004,Noah,Williams,,Year 5,yes,yes,yes,2025-09-05,,2026-10-01"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(SEP_7)


@pytest.fixture
def config(data_dir: Path) -> Config:
    """Pupils who left are kept 12 months."""
    return make_config(data_dir, retention={"left_pupil_months": 12})


async def office_imports(bot: BotHarness, rows: list[str]) -> None:
    """The office sends the export on a phone and confirms the preview."""
    [*_, preview] = await send_file(bot, OFFICE, register_csv(*rows))
    await bot.press(OFFICE, preview, "Confirm")
    assert "Register loaded" in bot.last(OFFICE).plain


async def pupil_report(bot: BotHarness, name: str) -> tuple[str, list[dict[str, str]]]:
    """The Head's /pupil summary as text, and the history rows of its CSV."""
    *summary, document = await bot.say(HEAD, f"/pupil {name}")
    assert all(len(m.text) <= 4096 for m in summary)
    data = bot.emu.files[document.document["file_id"]]
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    return "\n".join(m.plain for m in summary), [r for r in rows if r["section"] == "consent history"]


def the_year(bot: BotHarness) -> list[list[str]]:
    """September's register; October: Amelia's group refused, Noah withdrawn; Amelia leaves; Amelia is back."""
    september = list(ROWS)
    october = [AMELIA_NO_GROUP if r.startswith("P001") else NOAH_WITHDRAWN if r.startswith("P004") else r for r in ROWS]
    gone = [r for r in october if not r.startswith("P001")]
    return [september, october, gone, october]


async def test_each_change_is_shown_newest_first_with_who_and_when_and_in_the_file(bot: BotHarness) -> None:
    await bot.say(HEAD, "/help")
    september, october, gone, back = the_year(bot)
    await office_imports(bot, september)
    bot.clock.set(OCT_1)
    await office_imports(bot, october)
    bot.clock.set(OCT_20)
    load(bot, register_csv(*gone))  # python -m bot import, from the command line
    bot.clock.set(NOV_2)
    await office_imports(bot, back)

    text, rows = await pupil_report(bot, "Amelia Smith")
    expected = [
        "Mon 2 Nov 2026 09:15 — back on roll (import by Olive Office)",
        "Tue 20 Oct 2026 17:05 — marked as left the school (import from the command line)",
        "Thu 1 Oct 2026 13:00 — consent withdrawn for parents' private group (import by Olive Office)",
        "Mon 7 Sep 2026 08:40 — form recorded: Facebook page ✅, parents' private group ✅, press and publicity ❌; "
        "form dated 5 Sep 2025 (import by Olive Office)",
    ]
    assert "Consent history (4, newest first)" in text
    positions = [text.index(line) for line in expected]
    assert positions == sorted(positions), "newest first"
    assert [(r["when"], r["who"], r["what"]) for r in rows] == [
        ("2026-11-02 09:15", "import by Olive Office", "back on roll"),
        ("2026-10-20 17:05", "import from the command line", "marked as left the school"),
        ("2026-10-01 13:00", "import by Olive Office", "consent withdrawn for parents' private group"),
        ("2026-09-07 08:40", "import by Olive Office", expected[-1].split(" — ")[1].removesuffix(" (import by Olive Office)")),
    ]
    assert rows[0]["reference"] == f"user {OFFICE}; via telegram" and rows[1]["reference"] == "user 0; via cli"

    noah, _ = await pupil_report(bot, "Noah Williams")
    assert "Thu 1 Oct 2026 13:00 — consent withdrawn for every purpose from 1 Oct 2026 (import by Olive Office)" in noah
    assert "Consent history (2, newest first)" in noah, "Noah did not leave: nothing else changed for him"

    for entry in bot.audit():
        assert "Amelia" not in entry.target + entry.detail + entry.outcome, "no pupil name in the audit"


async def test_an_unchanged_re_import_and_a_class_move_add_nothing(bot: BotHarness, data_dir: Path) -> None:
    await office_imports(bot, list(ROWS))
    stored = (data_dir / "consents.json").read_bytes().count(b'"at"')
    bot.clock.set(OCT_1)
    await office_imports(bot, list(ROWS))
    moved = [r.replace("Year 3", "Year 4") for r in ROWS]  # a new school year: classes, not consent
    await office_imports(bot, moved)
    assert (data_dir / "consents.json").read_bytes().count(b'"at"') == stored == len(ROWS)
    text, rows = await pupil_report(bot, "Amelia Smith")
    assert "Consent history (1, newest first)" in text and len(rows) == 1


def _enospc(*_: Any) -> NoReturn:
    raise OSError(errno.ENOSPC, "No space left on device")


async def test_an_import_the_disk_refuses_changes_neither_the_register_nor_any_history(
    bot: BotHarness, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await office_imports(bot, list(ROWS))
    on_disk = (data_dir / "consents.json").read_bytes()
    bot.clock.set(OCT_1)
    with monkeypatch.context() as patch, pytest.raises(DiskWriteFailed):
        patch.setattr("storage.atomic.os.replace", _enospc)
        load(bot, register_csv(*the_year(bot)[1]))  # python -m bot import on a full disk
    assert (data_dir / "consents.json").read_bytes() == on_disk, "one write: all of the import or none of it"
    consents = bot.services.consents
    assert consents.get("P004").withdrawn is None and len(consents.history("P004")) == 1
    await bot.restart()
    assert bot.services.consents.get("P004").withdrawn is None
    text, rows = await pupil_report(bot, "Noah Williams")
    assert "Consent history (1, newest first)" in text and "withdrawn for every purpose" not in text and len(rows) == 1


async def test_the_purge_of_a_leaver_takes_their_history_and_only_theirs(bot: BotHarness, data_dir: Path) -> None:
    await bot.say(HEAD, "/help")
    bot.clock.set(datetime(2024, 1, 10, 10, 0, tzinfo=UTC))
    load(bot, register_csv(*ROWS))
    load(bot, register_csv(*(r for r in ROWS if not r.startswith("P001"))))  # Amelia leaves
    [nothing_yet] = await bot.say(HEAD, "/retention")  # the check notes who it sees as left from now on
    assert nothing_yet.plain == "Nothing is past its retention period today."
    assert len(bot.services.consents.history("P001")) == 2
    bot.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    [preview] = await bot.say(HEAD, "/retention")
    assert "• 1 pupil who left the school" in preview.plain
    await bot.press(HEAD, preview, "Delete these records")
    consents = bot.services.consents
    assert consents.get("P001") is None and consents.history("P001") == ()
    assert len(consents.history("P002")) == 1, "the others' histories stay"
    assert b'"P001"' not in (data_dir / "consents.json").read_bytes()
    await bot.restart()
    assert bot.services.consents.history("P001") == ()


async def test_pupils_on_the_register_before_the_upgrade_get_one_entry_saying_the_history_began(bot: BotHarness) -> None:
    await bot.say(HEAD, "/help")
    parsed, _ = bot.services.register.prepare_import(0, register_csv(*ROWS))
    bot.services.consents.replace_register(parsed.pupils, ())  # as an older bot stored it: no history
    bot.services.db.file("meta").table("meta").update({"schema_version": 2}, doc_ids=[1])
    await bot.restart()
    text, rows = await pupil_report(bot, "Amelia Smith")
    assert (
        "— on the register when this history began (earlier changes were not kept): Facebook page ✅, "
        "parents' private group ✅, press and publicity ❌; form dated 5 Sep 2025 (when the bot began keeping this history)"
    ) in text
    assert len(rows) == 1
    bot.clock.set(OCT_1)
    await office_imports(bot, the_year(bot)[1])
    text, rows = await pupil_report(bot, "Amelia Smith")
    assert "Consent history (2, newest first)" in text and len(rows) == 2


async def test_years_of_changes_fit_telegrams_limit_and_the_file_has_every_one(bot: BotHarness) -> None:
    await bot.say(HEAD, "/help")
    for week in range(60):  # a parent changing their mind about the press every week
        bot.clock.set(datetime(2026, 9, 7, 8, 0, tzinfo=UTC) + timedelta(weeks=week))
        amelia = f"P001,Amelia,Smith,,Year 3,yes,yes,{'no' if week % 2 == 0 else 'yes'},2025-09-05,,"
        load(bot, register_csv(amelia, *ROWS[1:]))
    text, rows = await pupil_report(bot, "Amelia Smith")
    assert "Consent history (60, newest first)" in text and "…the 10 older changes are in the file." in text
    assert "form recorded" not in text and len(rows) == 60, "the oldest ten are in the file only"
    assert rows[0]["what"] == "consent given for press and publicity" and rows[-1]["what"].startswith("form recorded")


def test_the_command_line_import_is_recorded_as_such(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(toml(raw_config(data_dir)))
    run(config_file, list(ROWS), "--yes", capsys=capsys)
    code, out = run(config_file, [r for r in ROWS if not r.startswith("P001")], "--yes", capsys=capsys)
    assert code == 0 and "Amelia" not in out
    services = Services.open(make_config(data_dir), FakeClock(SEP_7))
    try:
        recorded, left = services.consents.history("P001")
        assert (recorded.via, left.via, left.actor_id) == ("cli", "cli", 0)
        assert [c.kind for c in left.changes] == ["left"] and recorded.changes[0].kind == "recorded"
        assert len(services.consents.history("P002")) == 1, "unchanged the second time: nothing added"
    finally:
        services.close()
