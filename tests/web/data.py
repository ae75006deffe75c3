"""A site with as many resources, bookings, people and tokens as asked: to see that pages do not do more
queries, nor get much heavier, with more data."""

from datetime import timedelta

from cocotte.accounts.models import ApiToken
from cocotte.bookings import services
from cocotte.bookings.models import Block, Booking, BookingSeries
from cocotte.spaces.models import Equipment, Resource
from tests.helpers import day_ahead, paris

KINDS = [
    {"kind": Resource.Kind.MEETING_ROOM, "unit": Resource.Unit.HALF_HOUR, "seats": 8},
    {"kind": Resource.Kind.DESK, "unit": Resource.Unit.HALF_DAY},
    {"kind": Resource.Kind.OPEN_SPACE, "unit": Resource.Unit.HALF_DAY, "capacity": 3},
    {"kind": Resource.Kind.VISIO_ROOM, "unit": Resource.Unit.HOUR, "seats": 4},
    {"kind": Resource.Kind.OFFICE, "unit": Resource.Unit.MONTH, "requires_approval": True, "max_units": 12},
]


class DataSet:
    """Grows a site's data to the sizes asked, keeping every kind of thing the pages show present."""

    def __init__(self, site, make_resource, make_user, member):
        self.site, self.make_resource, self.make_user, self.member = site, make_resource, make_user, member
        self.day = day_ahead(7)  # the day the grid pages show
        self.resources: list[Resource] = []
        self.people = [member]
        self.per_resource: dict[int, int] = {}
        self.bookings = 0
        self.equipment = [
            Equipment.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
            for slug in ("ecran", "visio")
        ]

    def grow(self, *, resources: int, bookings: int, people: int, tokens: int):
        while len(self.people) < people:
            n = len(self.people)
            self.people.append(
                self.make_user(f"member{n}@example.org", first_name=f"Membre{n}", last_name="Test")
            )
        while len(self.resources) < resources:
            n = len(self.resources)
            resource = self.make_resource(
                self.site,
                f"ressource-{n}",
                name=f"Ressource {n}",
                description=f"Description de la ressource {n}.",
                **{"max_units": 24, **KINDS[n % len(KINDS)]},
            )
            resource.equipment.set(self.equipment[: 1 + n % 2])
            self.resources.append(resource)
        new = []
        while self.bookings < bookings:
            new.append(self._booking(self.bookings))
            self.bookings += 1
        services.load_history(new)
        Block.objects.bulk_create(
            Block(resource=r, start=paris(self.day, 19), end=paris(self.day, 20), reason=f"Ménage {r.pk}")
            for r in self.resources
            if not Block.objects.filter(resource=r).exists()
        )
        while self.member.api_tokens.count() < tokens:
            ApiToken.issue(self.member, name=f"jeton {self.member.api_tokens.count()}")

    def _booking(self, j: int) -> Booking:
        """Booking j: alice's (upcoming, some in a series; past; cancelled) and other people's (pending or not)."""
        resource = self.resources[j % len(self.resources)]
        k = self.per_resource.get(resource.pk, 0)
        self.per_resource[resource.pk] = k + 1
        category = j % 5
        other = self.people[1 + j % (len(self.people) - 1)] if len(self.people) > 1 else self.member
        if category == 2:  # past
            day = day_ahead(-40) + timedelta(days=k // 11)
        else:  # the week shown, then the following days
            day = self.day + timedelta(days=k // 11)
        start = paris(day, 8 + k % 11)
        booking = Booking(
            resource=resource,
            member=self.member if category in (0, 2, 3) else other,
            booked_by=self.member if category in (0, 2, 3) else other,
            start=start,
            end=start + timedelta(hours=1),
            status={1: Booking.Status.PENDING, 3: Booking.Status.CANCELLED}.get(
                category, Booking.Status.CONFIRMED
            ),
            staff_reason="Annulée par l’équipe" if category == 3 else "",
            note=f"Note {j}",
        )
        if category == 0 and j % 2 == 0:
            booking.series = BookingSeries.objects.create(
                resource=resource,
                member=self.member,
                booked_by=self.member,
                rrule="FREQ=WEEKLY;COUNT=2",
                first_start=booking.start,
                first_end=booking.end,
            )
        return booking
