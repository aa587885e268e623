"""The Head's weekly digest comes with a picture: 12 weeks of incidents by category and of page checks."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image

from bot.digest_chart import CHECKED_COLOUR, MISSED_COLOUR, WEEKS, DigestSeries, figure, render, series
from bot.moderation import DayResult, DayStatus
from bot.records.incidents import Incident
from tests.conftest import ADMIN, HEAD, SLT, BotHarness
from tests.test_incidents import log_misuse

LONDON = ZoneInfo("Europe/London")
LAST = date(2026, 11, 29)  # a Sunday: the digest's last day


def incident(number: int, kind: str, day: date) -> Incident:
    return Incident(number, f"d{number}", kind, False, ADMIN, "Ada", "", datetime.combine(day, datetime.min.time(), UTC), ())


def some_weeks() -> DigestSeries:
    incidents = [incident(n, ("offensive", "pupil", "bullying")[n % 3], LAST - timedelta(days=3 * n)) for n in range(20)]
    incidents.append(incident(99, "other", LAST - timedelta(days=200)))  # before the 12 weeks: left out

    def result(day: date) -> DayResult:
        return DayResult(day, DayStatus.MISSED if day.weekday() == 2 else DayStatus.ON_TIME, None)

    return series(incidents, result, LAST - timedelta(days=60), LAST, LONDON)


def test_the_numbers_cover_twelve_weeks_and_only_tracked_days() -> None:
    data = some_weeks()
    assert len(data.weeks) == WEEKS and data.weeks[-1].first == date(2026, 11, 23) and data.weeks[0].first.weekday() == 0
    assert sum(sum(w.incidents.values()) for w in data.weeks) == 20
    assert set(data.categories) == {"Offensive comment", "Pupil named or described", "Bullying between pupils"}
    assert data.weeks[0].checked == 0 and data.weeks[0].missed == 0, "days before tracking began are neither"
    assert (data.weeks[-1].checked, data.weeks[-1].missed) == (6, 1)


def test_the_chart_has_a_bar_per_category_per_week_and_checked_and_missed_bars() -> None:
    data = some_weeks()
    fig = figure(data)
    incidents_axes, checks_axes = fig.axes
    assert len(incidents_axes.patches) == WEEKS * len(data.categories)
    assert len(checks_axes.patches) == WEEKS * 2
    assert len(incidents_axes.patches) + len(checks_axes.patches) == data.bars


def test_the_chart_is_a_phone_sized_picture_with_the_bars_drawn() -> None:
    png = render(some_weeks())
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    assert picture.size == (1080, 1350)
    colours = picture.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50, "not blank"

    def pixels_of(hex_colour: str) -> int:
        wanted = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        return sum(count for count, colour in colours if colour == wanted)

    assert pixels_of(CHECKED_COLOUR) > 10_000 and pixels_of(MISSED_COLOUR) > 2_000


def test_plotting_is_not_imported_at_start_up() -> None:
    code = "import sys, bot.__main__, bot.shell.app; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_the_scheduled_digest_is_the_chart_with_the_digest_as_its_caption(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "offensive")
    await log_misuse(bot, ADMIN, "pupil")
    await bot.advance(days=4, hours=21, minutes=31)  # Monday 07:31, after the digest's 07:30
    photos = [m for m in bot.emu.messages_to(HEAD) if m.photo and m.caption and "12 weeks" in m.caption]
    [chart] = photos
    assert chart.photo is not None
    picture = Image.open(io.BytesIO(bot.emu.files[chart.photo]))
    assert picture.size == (1080, 1350)
    assert "Weekly digest" in chart.plain and "2 opened" in chart.plain, "the digest is the chart's caption"
    assert not [m for m in bot.emu.messages_to(HEAD) if m.text and "Weekly digest" in m.text], "one message, not two"
    assert (bot.services.db.data_dir / "charts" / "digest-2026-11-30.png").exists()
    await bot.restart()
    await bot.advance(minutes=5)
    assert len([m for m in bot.emu.messages_to(HEAD) if m.photo and m.caption and "12 weeks" in m.caption]) == 1


async def test_digest_on_demand_for_the_head_only(bot: BotHarness) -> None:
    await log_misuse(bot, ADMIN, "bullying")
    [photo] = await bot.say(HEAD, "/digest")
    assert photo.photo and "12 weeks" in (photo.caption or "")
    assert Image.open(io.BytesIO(bot.emu.files[photo.photo])).size == (1080, 1350)
    assert "Weekly digest" in photo.plain and "1 opened" in photo.plain
    for reply in await bot.say(SLT, "/digest"):
        assert not reply.photo and "Weekly digest" not in reply.plain
    assert any(e.action == "read digest" and e.actor_id == HEAD for e in bot.audit())


def test_a_digest_too_long_for_a_caption_follows_the_chart_as_its_own_text() -> None:
    from handlers.moderation.timed import CHART_CAPTION, digest_messages

    short = "📊 <b>Weekly digest</b>\n• recorded the page check: 5 times"
    caption, text = digest_messages(short)
    assert caption.startswith(short) and "12 weeks" in caption and text == ""
    long = short + "\n• looked at an incident: 2 times" * 40
    assert digest_messages(long) == (CHART_CAPTION, long)
