"""A site with as many resources, bookings, people, tokens, events and training sessions as asked: to see that
pages do not do more queries, nor get much heavier, with more data."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import ApiToken, Role
from cocotte.bookings import services
from cocotte.bookings.models import Block, Booking, BookingSeries
from cocotte.events import services as events
from cocotte.events.models import Event
from cocotte.learning import services as learning
from cocotte.learning.models import Module, Programme, Session
from cocotte.spaces.models import Equipment, Resource
from tests.helpers import day_ahead, paris

HALL = "Salle des fêtes, 15300 Murat"  # events and sittings held outside: the rooms' bookings stay the grid's

KINDS = [
    {"kind": Resource.Kind.MEETING_ROOM, "unit": Resource.Unit.HALF_HOUR, "seats": 8},
    {"kind": Resource.Kind.DESK, "unit": Resource.Unit.HALF_DAY},
    {"kind": Resource.Kind.OPEN_SPACE, "unit": Resource.Unit.HALF_DAY, "capacity": 3},
    {"kind": Resource.Kind.VISIO_ROOM, "unit": Resource.Unit.HOUR, "seats": 4},
    {"kind": Resource.Kind.OFFICE, "unit": Resource.Unit.MONTH, "requires_approval": True, "max_units": 12},
]


class DataSet:
    """Grows a site's data to the sizes asked, keeping every kind of thing the pages show present."""

    def __init__(self, site, make_resource, make_user, member, staff=None):
        self.site, self.make_resource, self.make_user, self.member = site, make_resource, make_user, member
        self.staff = staff  # who creates the events and the sittings
        self.events: list[Event] = []
        self.sessions: list[Session] = []
        self._programme = None
        self._trainer = None
        self.day = day_ahead(7)  # the day the grid pages show
        self.resources: list[Resource] = []
        self.people = [member]
        self.per_resource: dict[int, int] = {}
        self.bookings = 0
        self.equipment = [
            Equipment.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
            for slug in ("ecran", "visio")
        ]

    def grow(
        self, *, resources: int, bookings: int, people: int, tokens: int, events: int = 0, sessions: int = 0
    ):
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
        while len(self.events) < events:
            self.events.append(self._event(len(self.events)))
        while len(self.sessions) < sessions:
            self.sessions.append(self._session(len(self.sessions)))

    @property
    def programme(self) -> Programme:
        """The published programme every session is of, with its modules."""
        if self._programme is None:
            self._programme = Programme.objects.create(
                site=self.site,
                title="Cycle création d’entreprise",
                slug="cycle-creation",
                objectives="Construire et valider son projet de création d’entreprise.",
                prerequisites="Avoir un projet de création ou de reprise.",
                audience="Porteurs de projet du territoire.",
                duration_hours=Decimal("15.00"),
                price_excl_vat=Decimal("600.00"),
                accessibility="Locaux de plain-pied.",
                assessment_method="Présentation du projet en fin de cycle.",
                published=True,
            )
            for position, title in enumerate(("Étude de marché", "Prévisionnel", "Statuts"), 1):
                Module.objects.create(programme=self._programme, position=position, title=title, hours=5)
            self._trainer = self.make_user("theo@example.org", first_name="Théo", last_name="Formateur")
            permissions.grant_role(self._trainer, Role.Name.TRAINER, self.site)
        return self._programme

    def _event(self, n: int) -> Event:
        """Event n, from day 1 on: every other one for members only, with up to four people registered."""
        start = paris(day_ahead(1 + n % 28), 18)
        event = events.create_event(
            by=self.staff,
            site=self.site,
            title=f"Rencontre {n}",
            description=f"Rencontre numéro {n}, ouverte à tous les curieux.",
            start=start,
            end=start + timedelta(hours=2),
            capacity=10,
            audience=Event.Audience.MEMBERS if n % 2 else Event.Audience.PUBLIC,
            outside_address=HALL,
            registration_opens=timezone.now() - timedelta(days=1),
        )
        event = events.publish(event, by=self.staff)
        for person in self.people[1 : 1 + n % 5]:
            events.register(event, member=person)
        return event

    def _session(self, n: int) -> Session:
        """Session n of the programme: two sittings from day 2, up to three applications."""
        programme = self.programme
        first = day_ahead(2 + 2 * (n % 14))
        session = Session.objects.create(
            programme=programme,
            site=self.site,
            label=f"Session {n}",
            status=Session.Status.OPEN,
            capacity=8,
            enrolment_opens=timezone.now() - timedelta(days=1),
            enrolment_closes=paris(first - timedelta(days=1), 18),
        )
        for day in (first, first + timedelta(days=1)):
            learning.add_sitting(
                session,
                by=self.staff,
                start=paris(day, 9),
                end=paris(day, 12, 30),
                trainer=self._trainer,
                outside_address=HALL,
            )
        for person in self.people[1 : 1 + n % 4]:
            application = learning.Application(project=f"Projet {n}", prerequisites_met=True)
            learning.apply(session, trainee=person, application=application)
        return session

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
