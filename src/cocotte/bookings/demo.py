"""Demo data of bookings: two weeks of history (most of it checked in, a few no-shows) and three weeks ahead
at the demo's sites, an office rented for months, requests waiting for the team, and with `--bookings N`, N
generated bookings over past and future years (bulk inserts), for benchmarks (see `cocotte.core.seeding`).

Reads `sites` from spaces' demo and `people` from accounts'.
"""

from datetime import time, timedelta

from dateutil.relativedelta import relativedelta
from django.core.management.base import CommandError
from django.utils import timezone

from cocotte.core.timeutils import at_local, zone
from cocotte.spaces.models import Resource
from cocotte.spaces.opening import OpeningCalendar

from . import events, periods, services
from .errors import BookingError
from .models import Booking

DEMO_NOTE = "démo"

U = Resource.Unit


def add_arguments(parser):
    parser.add_argument(
        "--bookings", type=int, default=0, help="Ajouter N réservations réparties sur des années."
    )


def check(context):
    if context.options["bookings"] < 0:
        raise CommandError("--bookings doit être positif.")


def seed(context):
    sites, people, rng = context.shared["sites"], context.shared["people"], context.rng
    with events.muted():  # demo data: no confirmation e-mails nor reminders for invented people
        _demo_bookings(context, sites, people, rng)
    if count := context.options["bookings"]:
        added = generate_history(list(Resource.objects.filter(site__in=sites)), people, count, rng)
        context.write(f"{added} réservations générées.")


def _demo_bookings(context, sites, people, rng):
    """Two weeks of history and three weeks ahead, booked through the engine where the rules allow."""
    if Booking.objects.filter(note=DEMO_NOTE).exists():
        return
    members = [people[e] for e in ("alice@cocotte.test", "bob@cocotte.test", "chloe@cocotte.test")]
    staff = people["equipe@cocotte.test"]
    today = timezone.localdate()
    past, booked = [], 0
    for site in sites:
        tz = zone(site.timezone)
        calendar = OpeningCalendar.for_site(site, today - timedelta(15), today + timedelta(22))
        for resource in site.resources.all():
            for offset in range(-14, 22):
                day = today + timedelta(offset)
                span = calendar.day_span(day)
                if span is None or rng.random() < 0.45:
                    continue
                for start, end in _demo_slots(resource, day, span, tz, rng, calendar):
                    member = rng.choice(members)
                    if offset < 0:
                        # Most members tapped « Je suis arrivé·e » within a quarter of an hour; some never came.
                        arrived = (
                            start + timedelta(minutes=rng.randint(0, 15)) if rng.random() < 0.85 else None
                        )
                        past.append(
                            Booking(
                                resource=resource,
                                member=member,
                                booked_by=member,
                                start=start,
                                end=end,
                                note=DEMO_NOTE,
                                checked_in_at=arrived,
                                checked_in_by=member if arrived else None,
                            )
                        )
                        continue
                    try:
                        services.book(
                            resource=resource,
                            member=member,
                            by=staff,
                            start=start,
                            end=end,
                            note=DEMO_NOTE,
                        )
                        booked += 1
                    except BookingError:
                        pass  # taken or outside the rules today: a demo can skip it
    services.load_history(past)
    booked += _requests_and_rentals(sites, people, today)
    context.write(f"{booked + len(past)} réservations de démonstration.")


def _requests_and_rentals(sites, people, today):
    """An office rented for six months from next month, and requests waiting for the team's approval."""
    cocotte = sites[0]
    tz = zone(cocotte.timezone)
    first_of_next_month = today.replace(day=1) + relativedelta(months=1)
    office = cocotte.resources.get(slug="bureau-1")
    services.book(
        resource=office,
        member=people["chloe@cocotte.test"],
        by=people["equipe@cocotte.test"],
        start=at_local(first_of_next_month, time(0), tz),
        end=at_local(first_of_next_month + relativedelta(months=6), time(0), tz),
        note=DEMO_NOTE,
    )
    made = 1
    for slug, member in (("convivialite", "alice@cocotte.test"), ("decoupe-laser", "bob@cocotte.test")):
        resource = cocotte.resources.get(slug=slug)
        for offset in range(7, 14):
            day = today + timedelta(offset)
            if day.weekday() >= 5:
                continue
            try:
                services.book(
                    resource=resource,
                    member=people[member],
                    start=at_local(day, time(16, 0), tz),
                    end=at_local(day, time(17, 0), tz),
                    note=DEMO_NOTE,
                )
            except BookingError:
                continue
            made += 1
            break
    return made


def _demo_slots(resource, day, span, tz, rng, calendar):
    if resource.unit == U.MONTH:
        return []
    if resource.unit in (U.HALF_DAY, U.DAY):
        # The site's real half-days and day (a morning before the lunch break, an afternoon after it).
        choices = list(periods.unit_periods(resource, calendar, day).values())
        if not choices:
            return []
        count = rng.randint(1, resource.capacity) if resource.capacity > 1 else 1
        return [rng.choice(choices) for _ in range(count)]
    hour = rng.randint(9, 15)
    start = at_local(day, time(hour, 0), tz)
    return [(start, start + timedelta(hours=rng.choice([1, 1.5, 2])))]


def generate_history(resources, people, count: int, rng) -> int:
    """Add `count` conflict-free bookings over past and future years, packed into weekdays, in bulk.

    About one booking in five lies in the future. Days around today are left to the demo's own bookings.
    """
    members = list(people.values())
    sites = {r.site_id: r.site for r in resources}
    per_day = {r.pk: _slots_per_day(r) for r in resources}
    per_weekday = sum(per_day.values()) or 1
    # Public holidays, year-end closures and the days kept clear around today take about one weekday in
    # twelve: plan for them, so that the count is reached within the span.
    weekdays_needed = int(count / per_weekday * 1.15) + 1
    days_needed = weekdays_needed * 7 // 5 + 14
    today = timezone.localdate()
    future = max(30, days_needed // 5)
    first_day = today - timedelta(days_needed - future + 40)
    last_day = today + timedelta(future + 40)
    keep_clear = (today - timedelta(16), today + timedelta(40))
    calendars = {pk: OpeningCalendar.for_site(site, first_day, last_day) for pk, site in sites.items()}
    # What is already booked (the demo's own bookings, an office rented for months): generated slots go around.
    taken: dict[int, list[tuple]] = {}
    for resource_id, start, end in (
        Booking.objects.live().filter(resource__in=resources).values_list("resource_id", "start", "end")
    ):
        taken.setdefault(resource_id, []).append((start, end))
    batch, added = [], 0
    day = first_day
    while added < count and day <= last_day:
        if keep_clear[0] <= day <= keep_clear[1]:
            day += timedelta(1)
            continue
        for resource in resources:
            calendar = calendars[resource.site_id]
            for start, end in _history_slots(resource, day, calendar):
                if any(s < end and start < e for s, e in taken.get(resource.pk, ())):
                    continue
                member = members[rng.randrange(len(members))]
                status = Booking.Status.CANCELLED if rng.random() < 0.08 else Booking.Status.CONFIRMED
                batch.append(
                    Booking(
                        resource=resource,
                        member=member,
                        booked_by=member,
                        start=start,
                        end=end,
                        status=status,
                    )
                )
                added += 1
                if added >= count:
                    break
            if added >= count:
                break
        if len(batch) >= 20000:
            services.load_history(batch, batch_size=5000)
            batch = []
        day += timedelta(1)
    services.load_history(batch, batch_size=5000)
    return added


def _slots_per_day(resource) -> int:
    if resource.unit == U.MONTH:
        return 0
    if resource.unit in (U.HALF_DAY, U.DAY):
        return 2 * resource.capacity
    return 8


def _history_slots(resource, day, calendar):
    """Back-to-back bookings filling the day's opening: hour-long for rooms, half-days for desks."""
    if resource.unit == U.MONTH:
        if day.day != 1:
            return []
        tz = calendar.tz
        return [(at_local(day, time(0), tz), at_local(day + relativedelta(months=1), time(0), tz))]
    span = calendar.day_span(day)
    if span is None:
        return []
    if resource.unit in (U.HALF_DAY, U.DAY):
        parts = periods.unit_periods(resource, calendar, day)
        halves = periods.smallest_periods(parts)
        return [h for h in halves for _ in range(resource.capacity)]
    slots = []
    for opens, closes in calendar.day_intervals(day):
        start = opens
        while start + timedelta(hours=1) <= closes and len(slots) < 8:
            slots.append((start, start + timedelta(hours=1)))
            start += timedelta(hours=1)
    return slots
