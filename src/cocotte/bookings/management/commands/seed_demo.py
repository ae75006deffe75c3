"""Demo data: the network of Hautes Terres Communauté, its two sites in Murat, accounts and bookings.

Idempotent: run it again and nothing is duplicated. `--bookings N` adds N generated bookings spread over
past and future years (bulk inserts), for benchmarks.
"""

import random
from datetime import date, time, timedelta

from allauth.account.models import EmailAddress
from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Organisation, Profile, Role
from cocotte.bookings import emails, services
from cocotte.bookings.errors import BookingError
from cocotte.bookings.models import Booking
from cocotte.core.timeutils import at_local, zone
from cocotte.spaces.models import Closure, Equipment, Network, OpeningHours, Resource, Site
from cocotte.spaces.opening import OpeningCalendar

DEMO_PASSWORD = "cocotte-demo"  # noqa: S105 — printed on purpose: demo accounts only
DEMO_NOTE = "démo"

R = Resource.Kind
U = Resource.Unit

SITES = [
    {
        "slug": "cocotte-numerique",
        "name": "La COcotte numérique",
        "description": "Second télécentre de Hautes Terres Communauté : open space, bureaux, salles de réunion "
        "et de visioconférence, espace de convivialité et Fablab.",
        "street": "Rue du Faubourg Notre-Dame",
        "opened_on": date(2019, 9, 2),
        "hours": {d: [(time(8, 30), time(18, 30))] for d in range(5)},
        "resources": [
            ("open-space", R.OPEN_SPACE, "Open space", 12, 12, U.HALF_DAY, 1, 2, 60, 2, False, []),
            ("poste-fenetre", R.DESK, "Poste Fenêtre", 1, 1, U.HALF_DAY, 1, 2, 60, 2, False, ["ecran"]),
            ("poste-volcan", R.DESK, "Poste Volcan", 1, 1, U.HALF_DAY, 1, 2, 60, 2, False, ["ecran"]),
            ("bureau-1", R.OFFICE, "Bureau 1", 2, 1, U.MONTH, 1, 12, 365, 720, True, []),
            ("bureau-2", R.OFFICE, "Bureau 2", 3, 1, U.MONTH, 1, 12, 365, 720, True, []),
            (
                "salle-plomb",
                R.MEETING_ROOM,
                "Salle du Plomb du Cantal",
                12,
                1,
                U.HALF_HOUR,
                1,
                20,
                90,
                24,
                False,
                ["ecran", "paperboard"],
            ),
            (
                "salle-visio",
                R.VISIO_ROOM,
                "Salle de visio Puy Mary",
                6,
                1,
                U.HALF_HOUR,
                1,
                16,
                90,
                24,
                False,
                ["ecran", "visio"],
            ),
            (
                "convivialite",
                R.COMMON_ROOM,
                "Espace de convivialité",
                30,
                1,
                U.HOUR,
                1,
                10,
                120,
                48,
                True,
                [],
            ),
            ("imprimante-3d", R.MACHINE, "Imprimante 3D", 1, 1, U.HALF_HOUR, 1, 16, 30, 12, False, []),
            ("decoupe-laser", R.MACHINE, "Découpeuse laser", 1, 1, U.HALF_HOUR, 1, 8, 30, 12, True, []),
        ],
    },
    {
        "slug": "telecentre-murat",
        "name": "Télécentre de Murat",
        "description": "Le premier télécentre de Hautes Terres Communauté, ouvert en 2007.",
        "street": "Place de l’Hôtel de Ville",
        "opened_on": date(2007, 3, 1),
        "hours": {d: [(time(9, 0), time(12, 30)), (time(13, 30), time(17, 30))] for d in range(5)},
        "resources": [
            ("open-space", R.OPEN_SPACE, "Open space", 6, 6, U.HALF_DAY, 1, 2, 60, 2, False, []),
            ("bureau-a", R.OFFICE, "Bureau A", 2, 1, U.MONTH, 1, 12, 365, 720, True, []),
            (
                "salle-reunion",
                R.MEETING_ROOM,
                "Salle de réunion",
                8,
                1,
                U.HALF_HOUR,
                1,
                16,
                90,
                24,
                False,
                ["ecran"],
            ),
        ],
    },
]

EQUIPMENT = {"ecran": "Écran", "paperboard": "Paperboard", "visio": "Kit de visioconférence"}

PEOPLE = [
    # email, first name, last name, status, commune, role
    ("admin@cocotte.test", "Camille", "Admin", Profile.Status.OTHER, "Murat", "admin"),
    ("equipe@cocotte.test", "Sophie", "Chargée de mission", Profile.Status.OTHER, "Murat", "staff:all"),
    (
        "telecentre@cocotte.test",
        "Marc",
        "Gestionnaire",
        Profile.Status.OTHER,
        "Murat",
        "staff:telecentre-murat",
    ),
    ("alice@cocotte.test", "Alice", "Martin", Profile.Status.TELEWORKER, "Allanche", "member"),
    ("bob@cocotte.test", "Bob", "Durand", Profile.Status.PROJECT_HOLDER, "Murat", "member"),
    ("chloe@cocotte.test", "Chloé", "Roux", Profile.Status.COMPANY, "Neussargues", "member"),
]


class Command(BaseCommand):
    help = "Crée les données de démonstration (idempotent) ; --bookings N ajoute N réservations générées."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bookings", type=int, default=0, help="Ajouter N réservations réparties sur des années."
        )
        parser.add_argument(
            "--seed", type=int, default=2007, help="Graine du hasard, pour des données reproductibles."
        )

    def handle(self, *args, bookings, seed, **options):
        if bookings < 0:
            raise CommandError("--bookings doit être positif.")
        rng = random.Random(seed)  # noqa: S311 — reproducible demo data, not secrets
        with transaction.atomic():
            sites = self._sites()
            people = self._people(sites)
        with emails.muted():  # demo data: no confirmation e-mails nor reminders for invented people
            self._demo_bookings(sites, people, rng)
        if bookings:
            added = generate_history(list(Resource.objects.filter(site__in=sites)), people, bookings, rng)
            self.stdout.write(f"{added} réservations générées.")
        self._print_accounts()

    def _sites(self):
        network, _ = Network.objects.get_or_create(
            slug="hautes-terres",
            defaults={
                "name": "Tiers-lieux de Hautes Terres Communauté",
                "operator": "Hautes Terres Communauté",
            },
        )
        equipment = {
            slug: Equipment.objects.get_or_create(slug=slug, defaults={"name": name})[0]
            for slug, name in EQUIPMENT.items()
        }
        sites = []
        for spec in SITES:
            site, created = Site.objects.get_or_create(
                slug=spec["slug"],
                defaults={
                    "network": network,
                    "name": spec["name"],
                    "description": spec["description"],
                    "street": spec["street"],
                    "postal_code": "15300",
                    "city": "Murat",
                    "email": f"{spec['slug']}@cocotte.test",
                    "opened_on": spec["opened_on"],
                },
            )
            if created:
                OpeningHours.objects.bulk_create(
                    OpeningHours(site=site, weekday=day, opens=o, closes=c)
                    for day, intervals in spec["hours"].items()
                    for o, c in intervals
                )
                year = timezone.localdate().year
                Closure.objects.create(
                    site=site,
                    start_date=date(year, 12, 24),
                    end_date=date(year + 1, 1, 1),
                    reason="Fêtes de fin d’année",
                )
            for position, row in enumerate(spec["resources"]):
                slug, kind, name, seats, capacity, unit, min_u, max_u, ahead, notice, approval, equip = row
                resource, _ = Resource.objects.get_or_create(
                    site=site,
                    slug=slug,
                    defaults={
                        "kind": kind,
                        "name": name,
                        "seats": seats,
                        "capacity": capacity,
                        "unit": unit,
                        "min_units": min_u,
                        "max_units": max_u,
                        "max_advance_days": ahead,
                        "cancellation_notice_hours": notice,
                        "requires_approval": approval,
                        "position": position,
                    },
                )
                resource.equipment.add(*(equipment[e] for e in equip))
            sites.append(site)
        return sites

    def _people(self, sites):
        User = get_user_model()
        coop, _ = Organisation.objects.get_or_create(name="Coop des Volcans", defaults={"siren": "732829320"})
        people = {}
        for email, first, last, status, commune, role in PEOPLE:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email,
                    DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                    is_superuser=role == "admin",
                    is_staff=role != "member",
                )
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                Profile.objects.filter(user=user).update(
                    status=status,
                    commune=commune,
                    organisation=coop if status == Profile.Status.COMPANY else None,
                )
            if role.startswith("staff:"):
                for site in sites:
                    if role == "staff:all" or role == f"staff:{site.slug}":
                        permissions.grant_role(user, Role.Name.SITE_STAFF, site)
            people[email] = user
        return people

    def _demo_bookings(self, sites, people, rng):
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
                    for start, end in _demo_slots(resource, day, span, tz, rng):
                        member = rng.choice(members)
                        if offset < 0:
                            past.append(
                                Booking(
                                    resource=resource,
                                    member=member,
                                    booked_by=member,
                                    start=start,
                                    end=end,
                                    note=DEMO_NOTE,
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
        booked += self._requests_and_rentals(sites, people, today)
        self.stdout.write(f"{booked + len(past)} réservations de démonstration.")

    def _requests_and_rentals(self, sites, people, today):
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

    def _print_accounts(self):
        self.stdout.write(self.style.SUCCESS(f"\nComptes de démonstration (mot de passe : {DEMO_PASSWORD})"))
        for email, first, last, _status, _commune, role in PEOPLE:
            self.stdout.write(f"  {email:<26} {first} {last} — {role}")


def _demo_slots(resource, day, span, tz, rng):
    opens, closes = span
    if resource.unit == U.MONTH:
        return []
    if resource.unit in (U.HALF_DAY, U.DAY):
        split = at_local(day, time(13, 0), tz)
        choices = (
            [(opens, split), (split, closes), (opens, closes)]
            if resource.unit == U.HALF_DAY
            else [(opens, closes)]
        )
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
        split = at_local(day, calendar.site.half_day_split, calendar.tz)
        halves = [(span[0], split), (split, span[1])] if span[0] < split < span[1] else [span]
        return [h for h in halves for _ in range(resource.capacity)]
    slots = []
    for opens, closes in calendar.day_intervals(day):
        start = opens
        while start + timedelta(hours=1) <= closes and len(slots) < 8:
            slots.append((start, start + timedelta(hours=1)))
            start += timedelta(hours=1)
    return slots
