"""Attacks on subject access, the readable audit, the digest chart and the exports (issue 14, points 3-6).

A data-protection lead looks for their command; a parent's request must find every record that
names the child, and say plainly which ones give only a first name; a governor reads the audit.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from matplotlib.text import Text

from bot.__main__ import main
from bot.applications import PaperForm
from bot.audit_view import Wording, describe
from bot.config import Config
from bot.digest_chart import CHARTS, WEEKS, DigestSeries, Week, figure, save_chart
from bot.incidents.vocabulary import CATEGORIES
from bot.records.applications import Child
from bot.records.audit import AuditEntry
from tests.conftest import ADMIN, HEAD, OFFICE, SLT, START, BotHarness, make_config
from tests.photo_samples import group_photo, jpeg, with_text
from tests.test_consent_bot import REGISTER, load
from tests.test_incidents import alerts_to, log_misuse


@pytest.fixture
def config(data_dir: Path) -> Config:
    """Olive from the office is the school's data-protection lead (a business manager, not a leader)."""
    return make_config(data_dir, roles={"data_protection_leads": [OFFICE]})


@pytest.fixture
async def school(bot: BotHarness) -> BotHarness:
    load(bot)
    for person in (ADMIN, HEAD, SLT, OFFICE):
        await bot.say(person, "/help")  # the bot knows their names
    return bot


def report_of(replies: list[Any]) -> str:
    return "\n".join(m.plain for m in replies if not m.document)


async def test_the_data_protection_lead_finds_pupil_in_their_menu_and_help_and_other_staff_do_not(school: BotHarness) -> None:
    [hello] = await school.say(OFFICE, "/start")
    assert "pupil" in {c["command"] for c in school.emu.commands_for(OFFICE)}, "the phone's command menu offers /pupil"
    assert "/pupil" in hello.plain and "Data protection" in hello.plain
    [help_page] = await school.say(OFFICE, "/help")
    assert "/pupil" in help_page.plain
    replies = await school.say(OFFICE, "/pupil Amelia Smith")
    assert "Everything held about Amelia Smith" in report_of(replies)
    await school.say(SLT, "/start")
    assert "pupil" not in {c["command"] for c in school.emu.commands_for(SLT)}
    [slt_help] = await school.say(SLT, "/help")
    await school.press(SLT, slt_help, "More commands ›")
    assert "/pupil" not in slt_help.plain and "/pupil" not in school.last(SLT).plain


async def test_a_record_giving_only_the_first_name_is_listed_apart_and_said_so(school: BotHarness) -> None:
    await log_misuse(school, ADMIN, "pupil", note="A parent wrote that Amelia was upset")
    await log_misuse(school, ADMIN, "offensive", note="nothing about any child")
    replies = await school.say(HEAD, "/pupil Amelia Smith")
    text = report_of(replies)
    assert "Incidents mentioning them (0)" in text
    assert "only the first name “Amelia”" in text and "may be about another child" in text
    assert "INC-0001" in text and "INC-0002" not in text
    rows = school.emu.files[replies[-1].document["file_id"]].decode("utf-8-sig")
    assert "incident naming only the first name" in rows and "INC-0001" in rows


async def test_a_ban_or_an_unmatched_child_that_names_the_pupil_is_found(school: BotHarness) -> None:
    await log_misuse(school, ADMIN, "offensive", note="abuse in the comments")
    alert = alerts_to(school, HEAD, "INC-0001")[0]
    await school.press(HEAD, alert, "User banned")
    await school.say(HEAD, "angry_dad_1975")
    await school.say(HEAD, "Threatened Noah Williams by name")
    desk = school.services.application_desk
    desk.record_paper(PaperForm("Jo Smyth", "Mother", [Child("Amelia Smyth")], conduct_signed=True), ADMIN, "Ada Admin")
    desk.record_paper(PaperForm("Kim Lee", "Aunt", [Child("amelia SMITH")], conduct_signed=True), ADMIN, "Ada Admin")
    noah = report_of(await school.say(HEAD, "/pupil Noah Williams"))
    assert "Incidents mentioning them (1)" in noah and "INC-0001" in noah
    amelia = report_of(await school.say(HEAD, "/pupil Amelia Smith"))
    named, first_only = amelia.split("only the first name")
    assert "applications naming them (1)" in named and "Kim Lee (Aunt)" in named
    assert "Jo Smyth (Mother)" in first_only, "a child written 'Amelia Smyth' may be her, or another Amelia"


async def test_a_draft_check_that_named_the_pupil_is_in_their_report_by_id_only(school: BotHarness) -> None:
    await school.say(ADMIN, "/checkpost Well done Amelia Smith for the race!")
    await school.say(ADMIN, "/checkpost Lovely sunny day at school")
    text = report_of(await school.say(HEAD, "/pupil Amelia Smith"))
    assert "Ada Admin checked a draft post naming P001: must change before posting" in text
    assert "Ada Admin: 1 time" in text, "a draft check is a look at the pupil too"
    [entry] = [e for e in school.audit() if e.action == "draft check" and "P001" in e.detail]
    assert "Amelia" not in entry.detail + entry.target, "the audit names pupils by id only"
    [page] = await school.say(HEAD, "/audit")
    assert "checked a draft post: nothing to change" in page.plain and "(block)" not in page.plain


def test_refusals_read_as_english_not_internal_keys() -> None:
    wording = Wording(lambda uid: "Sam Leader", lambda key: key, ZoneInfo("Europe/London"))
    for action, words in (
        ("subject access", "tried to look up everything held about a pupil"),
        ("consent lookup", "tried to look up a pupil's consent"),
        ("rota change", "tried to change the moderation rota"),
        ("photo blur", "tried to blur a photo"),
    ):
        entry = AuditEntry(START, SLT, "slt", action, outcome="refused: role")
        assert f"Sam Leader {words}: refused (not allowed for their role)" == describe(entry, wording)


async def test_an_absurd_year_is_refused_kindly_and_from_alone_runs_on_to_today(school: BotHarness) -> None:
    for command in ("/audit from 01/01/2026 to 31/12/9999", "/audit to 01/01/0001"):
        [answer] = await school.say(HEAD, command)
        assert "is not a date" in answer.plain and "went wrong" not in answer.plain
    [answer] = await school.say(SLT, "/export incidents 01/01/2026 31/12/9999")
    assert "is not a date" in answer.plain and not answer.document
    await school.say(ADMIN, "/consent Amelia Smith")
    [page] = await school.say(HEAD, "/audit from 24/11/2026")
    assert "from Tue 24 Nov 2026" in page.plain or "from 24 Nov 2026" in page.plain
    assert "Ada Admin checked the consent of P001" in page.plain, "today is after the 24th: it is in the range"
    [none_yet] = await school.say(HEAD, "/audit to 24/11/2026")
    assert "up to" in none_yet.plain and "P001" not in none_yet.plain


def test_the_command_line_never_writes_an_export_into_the_data_folder(tmp_path: Path, capsys: Any) -> None:
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    settings = f'[telegram]\ntoken = "123:abc"\n[roles]\nhead = [1001]\n[storage]\ndata_dir = "{data}"\n'
    config.write_text(settings, encoding="utf-8")
    assert main(["--config", str(config), "export", "incidents", "--out", str(tmp_path / "first.csv")]) == 0
    staff = data / "staff.json"
    before = staff.read_bytes()
    assert main(["--config", str(config), "export", "audit", "--out", str(staff)]) == 1
    assert staff.read_bytes() == before, "the bot's staff file is untouched"
    assert "inside the bot's data folder" in capsys.readouterr().err


def test_a_tall_week_and_every_category_leave_the_chart_readable() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    labels = tuple(c.label for c in CATEGORIES)
    weeks = tuple(
        Week(date(2026, 9, 7) + timedelta(days=7 * n), {label: 9 if n < 3 else 1 for label in labels}, 5, 0) for n in range(WEEKS)
    )
    fig = figure(DigestSeries(weeks, labels))
    FigureCanvasAgg(fig).draw()
    incidents_axes, checks_axes = fig.axes
    listed = incidents_axes.get_legend()
    assert listed is not None
    legend = listed.get_window_extent()
    hidden = [bar for bar in incidents_axes.patches if bar.get_window_extent().overlaps(legend)]
    assert not hidden, "no week's bar is hidden behind the list of categories"
    assert incidents_axes.get_xlim() == checks_axes.get_xlim(), "each week's two bars stand one above the other"
    assert {t.get_text() for t in incidents_axes.texts} >= {"63", "7"}, "each week's total is written over its bar"
    empty = figure(DigestSeries(tuple(Week(w.first, {}, 0, 0) for w in weeks), ()))
    assert any("No page checks" in t.get_text() for t in empty.axes[1].texts), "an empty chart says why it is empty"


def test_old_digest_charts_are_deleted_as_a_new_one_is_saved(tmp_path: Path) -> None:
    today = date(2026, 11, 30)
    for age in (7, 56, 61, 400):
        save_chart(tmp_path, today - timedelta(days=age), b"png")
    (tmp_path / CHARTS / "notes.png").write_bytes(b"someone else's")
    assert save_chart(tmp_path, today, b"png") == "charts/digest-2026-11-30.png"
    kept = sorted(p.name for p in (tmp_path / CHARTS).iterdir())
    assert kept == ["digest-2026-10-05.png", "digest-2026-11-23.png", "digest-2026-11-30.png", "notes.png"]


async def test_two_pupils_of_one_name_in_one_class_are_told_apart_and_their_reports_say_so(bot: BotHarness) -> None:
    load(bot, REGISTER + "P009,Amelia,Smith,,Year 3,yes,no,no,2025-09-05,,\n")
    await log_misuse(bot, ADMIN, "pupil", note="Amelia Smith was named in a comment")
    for command in ("/pupil Amelia Smith", "/audit pupil amelia smith"):
        [ask] = await bot.say(HEAD, command)
        labels = [label for label, _ in ask.buttons]
        assert labels == ["Amelia Smith (Year 3, P001)", "Amelia Smith (Year 3, P009)"], "one button per child, told apart"
    await bot.press(HEAD, ask, "Amelia Smith (Year 3, P009)")
    [ask] = await bot.say(HEAD, "/pupil Amelia Smith")
    await bot.press(HEAD, ask, "Amelia Smith (Year 3, P009)")
    report = [m for m in bot.emu.messages_to(HEAD) if m.text and "Everything held" in m.text][-1].plain
    assert "id P009" in report and "INC-0001" in report
    assert "Another pupil has the same name (P001)" in report, "the incident may be about the other Amelia Smith"


@pytest.mark.parametrize(
    ("action", "outcome", "words"),
    [
        ("incident_log step", "refused: access changed", "go on with a misuse report: refused (their access had changed)"),
        ("decide application", "refused: not asked", "tried to decide an application: refused (the question was someone else's)"),
        ("button", "refused: unknown button", "tried to use a button: refused (an old or unknown button)"),
        ("some_new_action", "refused: role", "tried to some new action: refused"),
        ("some_new_action", "ok", "Sam Leader some new action"),
    ],
)
def test_conversation_steps_and_refusal_reasons_read_without_internal_keys(action: str, outcome: str, words: str) -> None:
    wording = Wording(lambda uid: "Sam Leader", lambda key: key, ZoneInfo("Europe/London"))
    sentence = describe(AuditEntry(START, SLT, "slt", action, outcome=outcome), wording)
    assert words in sentence and "_" not in sentence


async def test_who_looked_counts_whoever_opened_an_incident_or_application_that_names_the_pupil(school: BotHarness) -> None:
    await log_misuse(school, ADMIN, "pupil", note="A parent posted Amelia Smith's photo")
    await log_misuse(school, ADMIN, "offensive", note="nothing about any child")
    await school.say(SLT, "/incident 1")
    await school.say(SLT, "/incident 2")
    text = report_of(await school.say(HEAD, "/pupil Amelia Smith"))
    assert "Sam Leader: 1 time" in text, "Sam opened the record that names her"
    assert "Sam Leader looked at INC-0001" in text and "INC-0002" not in text


async def test_an_export_too_large_for_telegram_asks_for_a_shorter_range(school: BotHarness, monkeypatch: Any) -> None:
    for n in range(40):
        school.services.audit(SLT, "consent lookup", f"P{n:03d}", outcome="one", detail="page:yes")
    monkeypatch.setattr("handlers.exports.MAX_DOCUMENT", 2_000)  # a year of a big school's audit, scaled down
    [answer] = await school.say(HEAD, "/export audit")
    assert "more than Telegram lets a bot send" in answer.plain and "shorter date range" in answer.plain
    assert not answer.document
    [small] = await school.say(SLT, "/export incidents")
    assert small.document, "a file within the limit still goes"


async def test_the_data_protection_lead_is_pointed_to_pupil_when_they_mistype_it(school: BotHarness) -> None:
    [answer] = await school.say(OFFICE, "/pupl Amelia Smith")
    assert "Did you mean /pupil?" in answer.plain
    [plain] = await school.say(OFFICE, "hello")
    assert "/pupil" in plain.plain, "their everyday commands include it"


async def test_a_name_read_in_a_photo_puts_its_safety_check_in_that_pupils_report(school: BotHarness) -> None:
    photo = jpeg(with_text(group_photo(3, 2, 420), "Amelia Smith", (40, 700), 40))
    mark = school.emu.mark()
    school.emu.send_photo(ADMIN, photo, caption="Noah Williams")
    await school.settle()
    [preview] = [m for m in school.emu.since(mark, ADMIN) if m.photo and m.buttons]
    await school.press(ADMIN, preview, "Blur 1")
    [entry] = [e for e in school.audit() if e.action == "photo safety check"]
    assert "pupils P001" in entry.detail and "Amelia" not in entry.detail, "by id, never by name"
    text = report_of(await school.say(HEAD, "/pupil Amelia Smith"))
    assert "Ada Admin checked a photo's metadata, faces and visible names: must change before posting" in text
    assert "(the name of P001 can be read in it)" in text
    assert "Ada Admin blurred parts of a photo" in text, "the photo's blurring is part of the same story"


async def test_a_report_never_tells_one_parent_another_childs_id_or_consent(school: BotHarness) -> None:
    [ask] = await school.say(ADMIN, "/check\nAmelia Smith\nNoah Williams")
    await school.press(ADMIN, ask, "Facebook page")
    await school.say(ADMIN, "/checkpost Amelia Smith and Noah Williams won the race")
    school.services.application_desk.record_paper(
        PaperForm("Jo Smith", "Mother", [Child("Amelia Smith", "P001"), Child("Noah Williams", "P004")], conduct_signed=True),
        ADMIN,
        "Ada Admin",
    )
    replies = await school.say(HEAD, "/pupil Amelia Smith")
    text = report_of(replies)
    assert "photo of P001 ✅, another pupil ❌" in text
    rows = school.emu.files[replies[-1].document["file_id"]].decode("utf-8-sig")
    assert "P004" not in text and "P004" not in rows, "Noah's id and his answer stay out of Amelia's report"
    assert school.services.db.audit and any("P004" in e.detail for e in school.audit()), "the audit itself keeps them"


async def test_an_incident_note_in_a_report_hides_the_other_childrens_names(school: BotHarness) -> None:
    await log_misuse(school, ADMIN, "pupil", note="A parent named Amelia Smith and Noah Williams in a comment")
    replies = await school.say(HEAD, "/pupil Amelia Smith")
    text = report_of(replies)
    assert "A parent named Amelia Smith and [another pupil] in a comment" in text
    rows = school.emu.files[replies[-1].document["file_id"]].decode("utf-8-sig")
    assert "Noah" not in text and "Noah" not in rows
    assert "Noah Williams" in school.services.incidents.get(1).note, "the incident itself is unchanged"


async def test_the_report_file_is_named_safely_whatever_the_registers_ids_look_like(bot: BotHarness) -> None:
    load(bot, REGISTER + "2019/0045 ../../etc/passwd a long one,Kit,Marlowe,,Year 6,yes,no,no,2025-09-05,,\n")
    replies = await bot.say(HEAD, "/pupil Kit Marlowe")
    name = replies[-1].document["file_name"]
    assert name.startswith("subject-access-2019-0045-etc-passwd") and name.endswith("-2026-11-25.csv")
    assert "/" not in name and ".." not in name


def test_every_word_on_the_chart_is_large_enough_to_read_on_a_phone() -> None:
    labels = tuple(c.label for c in CATEGORIES)
    weeks = tuple(Week(date(2026, 9, 7) + timedelta(days=7 * n), {labels[0]: n}, 5, 2) for n in range(WEEKS))
    fig = figure(DigestSeries(weeks, labels[:1]))
    texts = [t for t in fig.findobj(Text) if t.get_text().strip()]
    assert texts and min(float(t.get_fontsize()) for t in texts) >= 20, "1080 px shown ~360 points wide: 20 pt reads as ~9 points"


def test_an_export_to_a_place_it_cannot_be_written_is_refused_before_it_is_audited(tmp_path: Path, capsys: Any) -> None:
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    settings = f'[telegram]\ntoken = "123:abc"\n[roles]\nhead = [1001]\n[storage]\ndata_dir = "{data}"\n'
    config.write_text(settings, encoding="utf-8")
    assert main(["--config", str(config), "export", "incidents", "--out", str(tmp_path / "first.csv")]) == 0
    audit_lines = sum(len(p.read_bytes().splitlines()) for p in (data / "audit").glob("*.jsonl"))
    for out in (tmp_path / "no such folder" / "x.csv", tmp_path):
        assert main(["--config", str(config), "export", "audit", "--out", str(out)]) == 1
        assert "cannot write the file there" in capsys.readouterr().err
    assert sum(len(p.read_bytes().splitlines()) for p in (data / "audit").glob("*.jsonl")) == audit_lines
