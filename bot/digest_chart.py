"""The weekly digest's picture: 12 weeks of incidents by category and of page checks, on a phone.

The numbers are plain data (`series`), so tests and the digest text can read them; the picture
is drawn by matplotlib, imported only when a chart is drawn (never at start-up: it costs about
half a second and 30 MB), with the Agg backend (no display, safe off the main thread). It is
1080 px wide with large type, the width a phone shows a photo at without scaling it down.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.incidents.vocabulary import category
from bot.moderation import DayResult, DayStatus, Moderation
from bot.records.incidents import Incident
from storage.atomic import atomic_write_bytes, ensure_private_dir
from storage.incidents import IncidentRepository

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WEEKS = 12
CHARTS = "charts"  # the data folder's sub-folder for digest charts
# Charts hold only counts; kept as long as the outbox keeps a sent message, then deleted as the next is saved
# (a message still waiting for an older one goes as text with a note, as for any picture that cannot be read).
KEEP_CHARTS = timedelta(days=60)
WIDTH_PX, HEIGHT_PX, DPI = 1080, 1350, 100
CHECKED_COLOUR, MISSED_COLOUR = "#2e7d32", "#c62828"
_PALETTE = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#546e7a", "#9e9d24")


@dataclass(frozen=True)
class Week:
    first: date
    incidents: dict[str, int]  # category label -> incidents opened that week
    checked: int  # moderation days checked (on time or late)
    missed: int  # moderation days not checked by the deadline


@dataclass(frozen=True)
class DigestSeries:
    weeks: tuple[Week, ...]
    categories: tuple[str, ...]  # every category with an incident in the period, most frequent first

    @property
    def bars(self) -> int:
        """How many bars the chart draws: one per category per week, and checked and missed per week."""
        return len(self.weeks) * (len(self.categories) + 2)


def series(
    incidents: Iterable[Incident],
    result: Callable[[date], DayResult],
    first_tracked: date | None,
    last: date,
    tz: ZoneInfo,
    weeks: int = WEEKS,
) -> DigestSeries:
    """The 12 weeks ending with `last` (the digest's last day), oldest first."""
    starts = [last - timedelta(days=7 * (weeks - n) - 1) for n in range(weeks)]
    counts: list[Counter[str]] = [Counter() for _ in starts]
    totals: Counter[str] = Counter()
    for incident in incidents:
        day = incident.opened_at.astimezone(tz).date()
        offset = (day - starts[0]).days
        if 0 <= offset < 7 * weeks:
            label = category(incident.category).label
            counts[offset // 7][label] += 1
            totals[label] += 1
    built = []
    for first, week_counts in zip(starts, counts, strict=True):
        statuses = Counter(
            result(first + timedelta(days=n)).status
            for n in range(7)
            if first_tracked is not None and first + timedelta(days=n) >= first_tracked
        )
        built.append(
            Week(first, dict(week_counts), statuses[DayStatus.ON_TIME] + statuses[DayStatus.LATE], statuses[DayStatus.MISSED])
        )
    ordered = tuple(label for label, _ in sorted(totals.items(), key=lambda item: (-item[1], item[0])))
    return DigestSeries(tuple(built), ordered)


def chart_series(incidents: IncidentRepository, duty: Moderation, last: date, tz: ZoneInfo) -> DigestSeries:
    """The digest's 12 weeks from what the bot holds: incidents as logged, days as the duty judges them."""
    return series(incidents.all(), duty.result, duty.first_tracked_day(), last, tz)


def save_chart(data_dir: Path, day: date, png: bytes) -> str:
    """Keep the week's chart in the data folder (the outbox sends it from there, after a restart too)
    and delete those older than KEEP_CHARTS; returns its path under the folder."""
    folder = ensure_private_dir(data_dir / CHARTS)
    atomic_write_bytes(folder / f"digest-{day.isoformat()}.png", png)
    for old in folder.glob("digest-*.png"):
        try:
            drawn = date.fromisoformat(old.stem.removeprefix("digest-"))
        except ValueError:
            continue  # not one of ours: left alone
        if drawn < day - KEEP_CHARTS:
            old.unlink(missing_ok=True)
    return f"{CHARTS}/digest-{day.isoformat()}.png"


def figure(data: DigestSeries) -> Figure:
    """The chart as a matplotlib Figure (not yet drawn): incidents stacked by category above, checks below."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    top, bottom = fig.subplots(2, 1)
    labels = [f"{w.first.day}/{w.first.month}" for w in data.weeks]
    positions = list(range(len(data.weeks)))
    base = [0] * len(data.weeks)
    for index, name in enumerate(data.categories):
        heights = [w.incidents.get(name, 0) for w in data.weeks]
        top.bar(positions, heights, bottom=base, label=name, color=_PALETTE[index % len(_PALETTE)])
        base = [b + h for b, h in zip(base, heights, strict=True)]
    top.set_title("Incidents logged each week", fontsize=30, pad=16)
    for position, total in zip(positions, base, strict=True):
        if total:  # the week's total over its bar: a huge week stays readable, a small one is not lost
            top.text(position, total, str(total), ha="center", va="bottom", fontsize=20)
    if data.categories:
        # Under the week labels, two columns: above the bars it hid a tall week behind seven categories.
        top.legend(fontsize=20, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=1, frameon=False)
    else:
        top.text(0.5, 0.5, "No incidents in these 12 weeks", ha="center", va="center", fontsize=24, transform=top.transAxes)
    top.set_ylim(0, max(max(base, default=0) * 1.15, 3))
    width = 0.4
    bottom.bar([p - width / 2 for p in positions], [w.checked for w in data.weeks], width, label="checked", color=CHECKED_COLOUR)
    bottom.bar([p + width / 2 for p in positions], [w.missed for w in data.weeks], width, label="missed", color=MISSED_COLOUR)
    bottom.set_title("Page moderation days: checked and missed", fontsize=30, pad=16)
    if any(w.checked or w.missed for w in data.weeks):
        bottom.legend(fontsize=22, loc="upper left", frameon=False, ncol=2)
    else:
        text = "No page checks recorded in these 12 weeks"
        bottom.text(0.5, 0.5, text, ha="center", va="center", fontsize=24, transform=bottom.transAxes)
    bottom.set_ylim(0, 9)
    for axes in (top, bottom):
        axes.set_xlim(-0.6, len(positions) - 0.4)  # both charts' weeks one above the other, bars or none
        axes.set_xticks(positions, labels, fontsize=20, rotation=45)
        axes.tick_params(axis="y", labelsize=22)
        axes.yaxis.get_major_locator().set_params(integer=True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    bottom.set_xlabel("week beginning", fontsize=22)
    fig.tight_layout(h_pad=3)
    return fig


def render(data: DigestSeries) -> bytes:
    """The chart as a PNG, drawn off-screen."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figure(data)
    canvas: Any = FigureCanvasAgg(fig)
    out = io.BytesIO()
    canvas.print_png(out)
    return out.getvalue()
