"""A sitting's half-days: the periods that attendance is signed for, one sheet each.

A day's morning ends at 13:00 in the site's zone and its afternoon begins there (`models.NOON`). A sitting
09:00–17:00 has two half-days, 09:00–13:00 and 13:00–17:00; a sitting 09:00–12:30 has one. The hours a
certificate counts are the attended half-days' own lengths, so that they add up to the sitting's.
"""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from cocotte.core.errors import Conflict
from cocotte.core.timeutils import at_local, local_date, zone

from .models import NOON, Sheet, Sitting


class SittingSigned(Conflict):
    code = "sitting_signed"


def split(start: datetime, end: datetime, timezone_name: str) -> list[tuple[str, datetime, datetime]]:
    """(half, start, end) of each half-day that [start, end) covers, in order. A sitting stays within a day."""
    tz = zone(timezone_name)
    noon = at_local(local_date(start, tz), NOON, tz)
    if end <= noon:
        return [(Sheet.Half.MORNING, start, end)]
    if start >= noon:
        return [(Sheet.Half.AFTERNOON, start, end)]
    return [(Sheet.Half.MORNING, start, noon), (Sheet.Half.AFTERNOON, noon, end)]


def plan_sheets(sitting: Sitting) -> list[Sheet]:
    """Make the sitting's sheets follow its times: created, resized, or removed while nobody has signed.

    Called by the sitting's services in their transaction, after the sitting is saved. A sheet that holds a
    signature or a decided mark is evidence: moving its sitting is refused (the caller rolls back)."""
    with transaction.atomic():  # a savepoint in the caller's transaction, or one of its own
        wanted = {
            half: (start, end)
            for half, start, end in split(sitting.start, sitting.end, sitting.session.site.timezone)
        }
        sheets = {sheet.half: sheet for sheet in Sheet.objects.select_for_update().filter(sitting=sitting)}
        for half, sheet in sheets.items():
            if wanted.get(half) == (sheet.start, sheet.end):
                continue
            if sheet.locked_at or sheet.trainer_signed_at or sheet.marks.exclude(state="expected").exists():
                raise SittingSigned(
                    _("Cette séance a déjà été émargée : elle ne peut plus être déplacée ni raccourcie.")
                )
            if half in wanted:
                sheet.start, sheet.end = wanted[half]
                sheet.save(update_fields=["start", "end"])
            else:
                sheet.marks.all().delete()
                sheet.delete()
        for half, (start, end) in wanted.items():
            if half not in sheets:
                sheets[half] = Sheet.objects.create(sitting=sitting, half=half, start=start, end=end)
        return [sheets[half] for half in wanted]
