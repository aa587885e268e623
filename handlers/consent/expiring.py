"""/expiring, and the yearly reminder to the office and the Head of the consents that end soon."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from telegram import Update

from bot.clock import local_day, local_moment
from bot.roles import Permission, Role
from bot.shell.ticker import Runtime, TimedWork
from bot.wording import plural, verb
from handlers.common import Actor, Context, paged, show
from handlers.consent.messages import expiring_lines
from handlers.consent.shared import service
from handlers.paging import page_of

REMINDER_TIME = time(9, 0)


async def show_expiring(update: Update, context: Context, actor: Actor, number: int) -> None:
    """/expiring: consents that end within 30 days, soonest first."""
    lines = expiring_lines(service(context).expiring(actor.user_id))
    if not lines:
        await show(update, "No consent ends in the next 30 days.")
        return
    page = page_of(lines, number, per_page=20)
    await show(update, "<b>Consents ending in the next 30 days</b>\n" + "\n".join(page.lines) + page.footer, page.buttons("exp"))


expiring, expiring_page = paged(Permission.VIEW_EXPIRING, "expiring consents", show_expiring)


def expiry_reminder_work(rt: Runtime) -> TimedWork:
    """Once a year, before the consent year ends, remind office and Head which consents end soon."""

    async def work(now: datetime) -> datetime:
        register = rt.services.register
        tz = rt.services.config.school.timezone
        day = register.expiry_reminder_day(local_day(now, tz).year)
        if day <= local_day(now, tz) <= day + timedelta(days=14) and now >= local_moment(day, REMINDER_TIME, tz):
            ending = register.ending_this_consent_year()
            lines = expiring_lines(ending)
            page = page_of(lines, 0, per_page=40)
            text = (
                f"<b>Photo consent: {plural(len(ending), 'form')} {verb(len(ending), 'ends', 'end')} soon</b>\n"
                "Ask parents for new forms before they lapse.\n"
                + "\n".join(page.lines)
                + (f"\n…and {len(lines) - len(page.lines)} more: see /expiring." if len(lines) > len(page.lines) else "")
            )
            for person in rt.services.staff.with_roles(Role.OFFICE, Role.HEAD):
                rt.delivery.post(f"expiry:{day.year}:{person}", person, text)
        following = register.next_expiry_check()
        if following <= local_day(now, tz):
            following = local_day(now, tz) + timedelta(days=1)
        return local_moment(following, REMINDER_TIME, tz)

    return work
