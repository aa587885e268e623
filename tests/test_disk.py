"""A write that fails changes nothing, memory included; a full disk is told to the leaders once a spell.

Every repository is tried with a write that fails while encoding (a value the file format cannot
hold) and one that fails on the disk (ENOSPC, injected), and the full disk is also lived through
on a real 1 MB tmpfs when this machine lets the tests mount one.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.records.applications import Event
from bot.records.audit import AuditEntry
from bot.records.consent import Pupil
from bot.records.incidents import Ban
from bot.records.outbox import OutboxItem
from bot.roles import Role
from bot.services import Services
from handlers.errors import DISK_FULL, UNSTORABLE
from storage.atomic import DiskWriteFailed, UnstorableValue
from storage.audit import AuditLog
from storage.evidence import EvidenceStore
from tests.conftest import ADMIN, ADMIN2, DEPUTY, HEAD, OFFICE, SLT, SLT2, START, STRANGER, TOKEN, BotHarness, make_config

NOW = START
BIG = 18446744073709551616  # 2**64: what `/grant 18446744073709551616 office` once put in memory
LONE = "\ud800"  # a lone surrogate: Python holds it, UTF-8 cannot


@dataclass(frozen=True)
class Case:
    """One repository's write, with a value that can be stored and one that cannot."""

    write: Callable[[Services, Any], object]
    look: Callable[[Services], object]  # what the bot believes, read back through the repository
    good: Any
    bad: Any


def _outbox_item(chat_id: Any) -> OutboxItem:
    return OutboxItem(key=f"note:{chat_id}", chat_id=chat_id, text="Hello", created_at=NOW, next_attempt_at=NOW)


def _prepare_names(s: Services) -> None:
    s.staff.remember_name(ADMIN, "Ada Admin")


def _prepare_nudge(s: Services) -> None:
    s.moderation.record_nudge(date(2026, 11, 25), (ADMIN,), NOW)


CASES: dict[str, Case] = {
    # a new document (TinyDB inserts) and a change in place (TinyDB updates the cached document)
    "staff grant": Case(
        write=lambda s, v: s.staff.set_role(v, Role.OFFICE, HEAD, NOW),
        look=lambda s: sorted((m.user_id, m.role) for m in s.staff.active()),
        good=4242,
        bad=BIG,
    ),
    "staff name": Case(
        write=lambda s, v: s.staff.remember_name(ADMIN, v),
        look=lambda s: s.staff.get(ADMIN),
        good="Ada Lovelace",
        bad=LONE,
    ),
    "consents": Case(
        write=lambda s, v: s.consents.replace_register([Pupil("P1", v, "Smith")], ()),
        look=lambda s: s.consents.all(),
        good="Amelia",
        bad=LONE,
    ),
    "incidents": Case(
        write=lambda s, v: s.incidents.add_ban(Ban(1, "Troll", v, HEAD, "Helen Head", NOW)),
        look=lambda s: s.incidents.bans(),
        good="abusive comments",
        bad=LONE,
    ),
    "moderation": Case(
        write=lambda s, v: s.moderation.record_nudge(date(2026, 11, 25), (v,), NOW),
        look=lambda s: s.moderation.day(date(2026, 11, 25)),
        good=ADMIN2,
        bad=BIG,
    ),
    "applications": Case(
        write=lambda s, v: s.applications.add_event(Event(1, NOW, v, "Form recorded")),
        look=lambda s: s.applications.events(1),
        good=OFFICE,
        bad=BIG,
    ),
    "outbox": Case(
        write=lambda s, v: s.outbox.enqueue(_outbox_item(v)),
        look=lambda s: [(i.key, i.chat_id) for i in s.outbox.due(NOW + timedelta(days=1))],
        good=HEAD,
        bad=BIG,
    ),
    # strict: the caller undoes its change when the line is refused (a refused line is otherwise held,
    # tests/test_audit_held.py); a lone surrogate is written as "?", so only a non-text value is unstorable
    "audit": Case(
        write=lambda s, v: s.audit(HEAD, "grant", f"user {ADMIN}", detail=v, strict=True),
        look=lambda s: [e.detail for e in s.db.audit.newest_first()],
        good="admin -> office",
        bad=b"admin -> office",
    ),
}
PREPARE: dict[str, Callable[[Services], None]] = {
    "staff name": _prepare_names,
    "moderation": _prepare_nudge,
    "audit": lambda s: s.audit(HEAD, "staff list"),
}


def _disk_bytes(folder: Path) -> dict[str, str]:
    """What is on disk now: every file's hash (audit included)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("bot.lock",)
    }


def _enospc(*_: object, **__: object) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    opened = Services.open(make_config(tmp_path / "data"), FakeClock(NOW))
    yield opened
    opened.close()


@pytest.mark.parametrize("name", list(CASES))
def test_a_write_that_cannot_be_encoded_changes_nothing_and_the_next_write_works(
    name: str, services: Services, tmp_path: Path
) -> None:
    case = CASES[name]
    PREPARE.get(name, lambda s: None)(services)
    before, on_disk = case.look(services), _disk_bytes(tmp_path / "data")

    with pytest.raises(UnstorableValue):
        case.write(services, case.bad)

    assert case.look(services) == before  # memory is what the disk holds
    assert _disk_bytes(tmp_path / "data") == on_disk
    case.write(services, case.good)  # and the store is not wedged
    after = case.look(services)
    assert after != before
    services.close()
    reopened = Services.open(make_config(tmp_path / "data"), FakeClock(NOW))
    try:
        assert case.look(reopened) == after
    finally:
        reopened.close()


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("step", ["os.write", "os.fsync", "os.replace"])
def test_a_write_the_disk_refuses_changes_nothing_and_the_next_write_works(
    name: str, step: str, services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    PREPARE.get(name, lambda s: None)(services)
    before, on_disk = case.look(services), _disk_bytes(tmp_path / "data")
    module = "storage.audit" if name == "audit" else "storage.atomic"
    if name == "audit" and step == "os.replace":
        step = "os.write"

    with monkeypatch.context() as patch:
        patch.setattr(f"{module}.{step}", _enospc)
        with pytest.raises(DiskWriteFailed) as failed:
            case.write(services, case.good)
    assert failed.value.disk_full and services.db.health.disk_full

    assert case.look(services) == before
    assert _disk_bytes(tmp_path / "data") == on_disk  # no half line, no temporary file left behind
    case.write(services, case.good)
    after = case.look(services)
    assert after != before
    services.close()
    reopened = Services.open(make_config(tmp_path / "data"), FakeClock(NOW))
    try:
        assert case.look(reopened) == after
    finally:
        reopened.close()


def test_half_an_audit_line_on_a_full_disk_is_taken_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = AuditLog(tmp_path / "audit")
    first = AuditEntry(NOW, HEAD, "head", "grant", "user 1")
    log.append(first)
    real_write = os.write

    def half(fd: int, data: bytes) -> int:
        return real_write(fd, bytes(data)[: len(data) // 2])  # a full disk took only this much

    with monkeypatch.context() as patch:
        patch.setattr("storage.audit.os.write", half)
        with pytest.raises(OSError):
            log.append(AuditEntry(NOW, HEAD, "head", "grant", "user 2"))
    third = AuditEntry(NOW, HEAD, "head", "grant", "user 3")
    log.append(third)
    assert list(log.newest_first()) == [third, first]  # the next entry was not swallowed by half a line


# ---- evidence ---------------------------------------------------------------------------------


def test_a_truncated_read_only_evidence_file_is_replaced_instead_of_blocking_every_later_log(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    screenshot = b"\x89PNG" + os.urandom(5000)
    digest = hashlib.sha256(screenshot).hexdigest()
    stale = tmp_path / "evidence" / "INC-0001" / f"{digest[:16]}.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(screenshot[:1000])  # what a full disk left behind, before this fix
    stale.chmod(0o400)

    stored = store.keep("INC-0001", screenshot, ".png")

    assert stored.sha256 == digest and store.read(stored.path) == screenshot
    assert stat.S_IMODE(stale.stat().st_mode) == 0o400
    assert [p.name for p in stale.parent.iterdir()] == [stale.name]
    assert store.keep("INC-0001", screenshot, ".png") == stored  # a retry finds it


def test_evidence_on_a_refused_disk_leaves_no_file_under_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    screenshot = os.urandom(3000)
    with monkeypatch.context() as patch:
        patch.setattr("storage.atomic.os.write", _enospc)
        with pytest.raises(DiskWriteFailed):
            store.keep("INC-0002", screenshot, ".jpg")
    assert list((tmp_path / "evidence" / "INC-0002").iterdir()) == []
    assert store.health.disk_full and store.health.failures == 1
    stored = store.keep("INC-0002", screenshot, ".jpg")
    assert store.read(stored.path) == screenshot


# ---- a full disk, lived through by the whole bot -------------------------------------------------


class FullDisk:
    """Fills the data folder's disk and frees it again: a real tmpfs, or ENOSPC injected."""

    def __init__(self, folder: Path, fill: Callable[[], None], free: Callable[[], None]) -> None:
        self.folder = folder
        self.fill = fill
        self.free = free


def _mounted_tmpfs(where: Path) -> bool:
    where.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(where)], capture_output=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@pytest.fixture(params=["tmpfs", "injected"])
def full_disk(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FullDisk]:
    if request.param == "injected":
        full = False
        import storage.atomic

        real = storage.atomic.write_new_file

        def refusing(*args: Any, **kwargs: Any) -> None:
            if full:
                _enospc()
            real(*args, **kwargs)

        def fill() -> None:
            nonlocal full
            full = True

        def free() -> None:
            nonlocal full
            full = False

        for module in ("storage.atomic", "storage.evidence", "handlers.errors"):
            monkeypatch.setattr(f"{module}.write_new_file", refusing)
        yield FullDisk(tmp_path / "data", fill, free)
        return

    disk = tmp_path / "disk"
    if not _mounted_tmpfs(disk):
        pytest.skip("this machine does not let the tests mount a tmpfs; the injected variant covers it")
    filler = disk / "filler"

    def fill_up() -> None:
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC

    try:
        yield FullDisk(disk / "data", fill_up, lambda: filler.unlink())
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)


def _alarms(bot: BotHarness, user: int, words: str) -> list[str]:
    return [m.plain for m in bot.emu.messages_to(user) if words in m.plain]


async def test_a_full_disk_refuses_plainly_tells_the_leaders_once_and_then_that_it_can_save_again(
    emu: Any, clock: FakeClock, full_disk: FullDisk
) -> None:
    bot = BotHarness(emu, make_config(full_disk.folder), clock)
    await bot.start()
    try:
        leaders = (HEAD, DEPUTY, SLT, SLT2)
        moderation_file = full_disk.folder / "moderation.json"
        on_disk = moderation_file.read_bytes()
        full_disk.fill()

        [refused] = await bot.say(ADMIN, "/checked")
        assert refused.plain == DISK_FULL
        assert bot.services.moderation.day(clock.now().date()) is None  # memory says what the disk says
        assert moderation_file.read_bytes() == on_disk
        for leader in leaders:
            [alarm] = _alarms(bot, leader, "cannot save anything new")
            assert "disk is full" in alarm and str(full_disk.folder) in alarm
        assert not _alarms(bot, ADMIN, "cannot save anything new") and not _alarms(bot, OFFICE, "cannot save anything new")

        [again] = await bot.say(ADMIN2, "/checked")  # a second refusal in the same spell
        assert again.plain == DISK_FULL
        await bot.advance(minutes=5)
        assert all(len(_alarms(bot, leader, "cannot save anything new")) == 1 for leader in leaders)
        assert not any(_alarms(bot, leader, "✅ The school bot can save again") for leader in leaders)

        full_disk.free()
        [done] = await bot.say(ADMIN, "/checked")
        assert "Checked by Ada Admin" in done.plain
        await bot.advance(minutes=1)
        await bot.advance(minutes=1)
        for leader in leaders:
            assert len(_alarms(bot, leader, "✅ The school bot can save again")) == 1
        assert bot.services.moderation.day(clock.now().date()) is not None
    finally:
        await bot.stop()


async def test_a_value_that_cannot_be_stored_is_refused_plainly_and_the_next_change_works(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The class behind `/grant 18446744073709551616 office`: whatever lets such a value through, the
    write is refused, nothing of it stays in memory, and later staff changes are saved and audited."""
    real = bot.services.staff.set_role

    def as_typed(user_id: int, role: Role | None, by: int, now: datetime, name: str = "") -> None:
        real(BIG, role, by, now, name)

    await bot.say(STRANGER, "/start")
    with monkeypatch.context() as patch:
        patch.setattr(bot.services.staff, "set_role", as_typed)
        told = await _staff_change(bot, f"/grant {STRANGER} office")
    assert told[-1] == UNSTORABLE
    assert bot.services.staff.get(BIG) is None and bot.services.staff.role_of(STRANGER) is None

    await _staff_change(bot, f"/revoke {ADMIN}")  # the revocation the old bug lost
    await _staff_change(bot, f"/grant {STRANGER} office")
    assert bot.services.staff.role_of(STRANGER) is Role.OFFICE and bot.services.staff.role_of(ADMIN) is None
    await bot.restart()
    assert bot.services.staff.role_of(STRANGER) is Role.OFFICE and bot.services.staff.role_of(ADMIN) is None
    changes = [(e.action, e.target) for e in bot.audit() if e.action in ("grant", "revoke") and e.outcome == "ok"]
    assert changes == [("revoke", f"user {ADMIN}"), ("grant", f"user {STRANGER}")]


async def _staff_change(bot: BotHarness, command: str) -> list[str]:
    """The Head types a staff change (and presses "Yes" if asked to confirm): what the Head is told."""
    mark = bot.emu.mark()
    await bot.say(HEAD, command)
    told = [m.plain for m in bot.emu.since(mark, HEAD)]
    asked = bot.last(HEAD)
    yes = [label for label, _ in asked.buttons if label.startswith("Yes")] if asked else []
    if yes:
        mark = bot.emu.mark()
        answer = await bot.press(HEAD, asked, yes[0])
        told += [m.plain for m in bot.emu.since(mark, HEAD)]
        if answer and answer.get("text"):
            told.append(answer["text"])
    return told


def test_a_first_start_on_a_full_disk_is_one_plain_sentence(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    if not _mounted_tmpfs(disk):
        pytest.skip("this machine does not let the tests mount a tmpfs")
    try:
        with open(disk / "filler", "wb") as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        config = tmp_path / "config.toml"
        config.write_text(
            f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "http://127.0.0.1:9/bot"\n'
            f'[school]\nname = "Example School"\n[roles]\nhead = [{HEAD}]\n[storage]\ndata_dir = "{disk / "data"}"\n'
        )
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Could not save to {disk / 'data' / 'meta.json'} while starting (No space left on device): "
        "free space on that disk or make it writable, then start the bot again."
    ]


def test_a_full_disk_under_the_log_file_prints_no_logging_tracebacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    from bot.logsafe import setup_logging

    root = logging.getLogger()
    loggers = [root, logging.getLogger("httpx"), logging.getLogger("apscheduler")]
    handlers, levels = root.handlers[:], [logger.level for logger in loggers]
    try:
        setup_logging(TOKEN, tmp_path / "bot.log")
        log_file = next(h for h in root.handlers if isinstance(h, logging.FileHandler))
        monkeypatch.setattr(log_file.stream, "write", _enospc)
        logging.getLogger("bot.shell.ticker").error("Timed work %r failed; it will be tried again", "delivery")
        log_file.close()
    finally:
        root.handlers[:] = handlers
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    err = capsys.readouterr().err
    assert "Timed work 'delivery' failed" in err  # the journal still has the line
    assert "Logging error" not in err and "Traceback" not in err
    assert stat.S_IMODE((tmp_path / "bot.log").stat().st_mode) == 0o600


async def test_misuse_logged_on_a_full_disk_is_refused_then_logged_with_its_screenshot_once_there_is_room(
    emu: Any, clock: FakeClock, full_disk: FullDisk
) -> None:
    """Seen: a full disk left a cut-short, read-only screenshot that blocked every later /log of it."""
    from bot.incidents import category

    bot = BotHarness(emu, make_config(full_disk.folder), clock)
    await bot.start()
    try:
        screenshot = b"\xff\xd8\xff\xe0" + os.urandom(20000) + b"\xff\xd9"
        await bot.say(ADMIN, "/log")
        bot.emu.send_photo(ADMIN, screenshot)
        await bot.settle()
        step = bot.last(ADMIN)
        await bot.press(ADMIN, step, "Done")
        await bot.press(ADMIN, step, category("offensive").title)
        await bot.press(ADMIN, step, "Skip")
        full_disk.fill()

        refused = await bot.press(ADMIN, step, "Confirm")
        assert refused is not None and refused["text"] == DISK_FULL
        assert bot.services.incidents.count() == 0
        # Only the draft's own copy, saved when the screenshot arrived: no incident's evidence, no partial file.
        assert [p.parent.name[:6] for p in (full_disk.folder / "evidence").rglob("*") if p.is_file()] == ["draft-"]

        full_disk.free()
        logged = await bot.press(ADMIN, step, "Confirm")
        assert logged is not None and "INC-0001" in logged["text"]
        [evidence] = bot.services.incidents.get(1).evidence
        assert bot.services.incidents.evidence.intact(evidence)
        assert (full_disk.folder / evidence.path).read_bytes() == screenshot
    finally:
        await bot.stop()


async def test_a_press_answered_before_its_save_failed_is_still_told_in_its_chat(
    emu: Any, clock: FakeClock, full_disk: FullDisk
) -> None:
    """The import's Confirm answers the press first; when the save then fails, the apology cannot be the
    press's alert any more, so it comes as a message: the office must never think the register loaded."""
    from tests.test_consent_bot import REGISTER

    bot = BotHarness(emu, make_config(full_disk.folder), clock)
    await bot.start()
    try:
        mark = bot.emu.mark()
        bot.emu.send_document(OFFICE, REGISTER.encode(), "register.csv", "text/csv")
        await bot.settle()
        [preview] = [m for m in bot.emu.since(mark, OFFICE) if "Confirm" in str(m.buttons)]
        full_disk.fill()
        mark = bot.emu.mark()
        await bot.press(OFFICE, preview, "Confirm")
        said = [m.plain for m in bot.emu.since(mark, OFFICE)]
        assert DISK_FULL in said and not any("Register loaded" in text for text in said)
        assert bot.services.consents.index().pupils == ()  # memory says what the disk says: nothing loaded
    finally:
        await bot.stop()
