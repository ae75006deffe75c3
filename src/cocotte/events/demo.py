"""Demo data of events (see `cocotte.core.seeding`): at La COcotte numérique, Murat,

- the yearly **Forum du télétravail**, today: about sixty registrations of members and visitors, a third of
  them already checked in at the door (the rest are the late-comers' list);
- its next edition, open for registration, in several rooms booked through the engine;
- a members-only **meetup** of the teleworkers' network;
- a priced **workshop** (Fablab), full, with a waiting list.

Idempotent: an event already there (by its title) is left as it is. No e-mail goes out (`tasks.muted`).
"""

from datetime import time, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from cocotte.bookings.errors import BookingError
from cocotte.core.timeutils import at_local, zone
from cocotte.spaces.models import Resource

from . import services, tasks
from .models import Event, Registration

SITE = "cocotte-numerique"
FIRST_NAMES = [
    "Léa", "Hugo", "Manon", "Louis", "Camille", "Jules", "Inès", "Arthur", "Zoé", "Lucas", "Jade", "Nathan",
    "Louise", "Théo", "Emma", "Paul", "Chloé", "Gabriel", "Alice", "Raphaël", "Lina", "Tom", "Rose", "Noé",
]  # fmt: skip
LAST_NAMES = [
    "Aubier", "Bouniol", "Chabrier", "Delpuech", "Esquirol", "Fabre", "Gineste", "Issartel", "Lacombe",
    "Malroux", "Nozières", "Pagès", "Roudil", "Salat", "Teyssier", "Vidal",
]  # fmt: skip
FORUM = "Forum du télétravail"


def _at(day, hour, minute=0, tz=None):
    return at_local(day, time(hour, minute), tz)


def _create(staff, site, rooms, **fields) -> Event:
    """Through the services; with the rooms if the engine takes them, else at the fallback address."""
    fallback = fields.pop("fallback_address")
    if rooms:
        try:
            return services.create_event(by=staff, site=site, rooms=rooms, **fields)
        except BookingError:
            pass  # a demo booking holds one of the rooms then: the event goes next door
    return services.create_event(by=staff, site=site, outside_address=fallback, **fields)


def _rooms(site, kinds, count):
    return list(
        Resource.objects.filter(site=site, kind__in=kinds, is_active=True).order_by("-seats", "pk")[:count]
    )


def _visitors(rng, count, prefix):
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        yield f"{first} {last}", f"{prefix}-{i}.{slugify(last)}@visiteurs.cocotte.test"


def seed(context):
    sites = {s.slug: s for s in context.shared["sites"]}
    site = sites.get(SITE) or context.shared["sites"][0]
    people = context.shared["people"]
    staff = people["equipe@cocotte.test"]
    members = [u for e, u in people.items() if e not in ("admin@cocotte.test", "equipe@cocotte.test")]
    rng, tz = context.rng, zone(site.timezone)
    today = timezone.localdate(timezone=tz)
    meeting = (Resource.Kind.MEETING_ROOM, Resource.Kind.VISIO_ROOM, Resource.Kind.COMMON_ROOM)
    with tasks.muted():
        made = [
            _forum_today(staff, site, members, rng, tz, today),
            _forum_next(staff, site, members, rng, tz, today, _rooms(site, meeting, 3)),
            _meetup(staff, site, members, tz, today, _rooms(site, meeting, 1)),
            _workshop(staff, site, members, rng, tz, today),
        ]
    made = [e for e in made if e is not None]
    if made:
        context.write(f"{len(made)} événements de démonstration créés.")


def _exists(title) -> bool:
    return Event.objects.filter(title=title).exists()


def _forum_today(staff, site, members, rng, tz, today):
    title = f"{FORUM} {today.year}"
    if _exists(title):
        return None
    now = timezone.now()
    # Registered before the day: the event is created ahead, people register, then it is today's.
    start = _at(today + timedelta(days=1), 9, tz=tz)
    event = _create(
        staff,
        site,
        [],
        title=title,
        description=(
            "La journée du télétravail en Hautes Terres : témoignages de télétravailleurs et d’employeurs, "
            "ateliers (outils collaboratifs, droit du télétravail, ergonomie), visite des tiers-lieux du "
            "réseau et déjeuner partagé."
        ),
        start=start,
        end=start + timedelta(hours=8),
        capacity=80,
        waiting_list=True,
        registration_opens=now - timedelta(days=30),
        fallback_address="Salle polyvalente, place du Balat, 15300 Murat",
        questions=[
            {
                "label": "Votre situation",
                "kind": "choice",
                "choices": "Salarié·e en télétravail\nIndépendant·e\nEmployeur\nÉlu·e\nAutre",
                "required": True,
            },
            {
                "label": "Déjeunerez-vous sur place ?",
                "kind": "choice",
                "choices": "Oui\nNon",
                "required": False,
            },
        ],
    )
    services.publish(event, by=staff)
    questions = list(event.questions.all())
    situations = questions[0].choice_list
    registrations = []
    for member in members:
        registrations.append(
            services.register(event, member=member, answers={str(questions[0].pk): rng.choice(situations)})
        )
    for name, email in _visitors(rng, 60 - len(members), "forum"):
        visitor = services.register_visitor(
            event, name=name, email=email, answers={str(questions[0].pk): rng.choice(situations)}
        )
        if rng.random() < 0.9:
            registrations.append(services.confirm_address(visitor.token))
    # The day has come: the forum began at 9:00 this morning (or an hour ago, if the demo is seeded early).
    start_today = min(_at(today, 9, tz=tz), now - timedelta(hours=1))
    # It ends at 17:00, or on the hour two hours from now when the demo is seeded in the evening.
    late = (now + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    end_today = max(start_today + timedelta(hours=8), late)
    Event.objects.filter(pk=event.pk).update(start=start_today, end=end_today)
    event.refresh_from_db()
    for registration in registrations[: len(registrations) * 2 // 3]:
        if registration.status == Registration.Status.CONFIRMED:
            registration.event = event
            arrived = start_today + timedelta(minutes=rng.randint(0, 50))
            services.check_in(registration, by=staff, now=min(arrived, now))
    return event


def _forum_next(staff, site, members, rng, tz, today, rooms):
    year = today.year + 1
    title = f"{FORUM} {year}"
    if _exists(title):
        return None
    day = today + timedelta(days=45)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    fields = {
        "title": title,
        "description": "La prochaine édition du forum : programme en cours, inscrivez-vous pour être tenu·e au courant.",
        "capacity": 100,
        "waiting_list": True,
        "registration_opens": timezone.now() - timedelta(days=1),
        "fallback_address": "Salle polyvalente, place du Balat, 15300 Murat",
    }
    event = None
    for offset in range(0, 30):  # a day when the rooms are free (the demo's bookings hold some)
        candidate = day + timedelta(days=offset)
        if candidate.weekday() >= 5:
            continue
        try:
            event = services.create_event(
                by=staff,
                site=site,
                rooms=rooms,
                start=_at(candidate, 9, tz=tz),
                end=_at(candidate, 17, tz=tz),
                **{k: v for k, v in fields.items() if k != "fallback_address"},
            )
            break
        except BookingError:
            continue
    if event is None:
        event = _create(staff, site, [], start=_at(day, 9, tz=tz), end=_at(day, 17, tz=tz), **fields)
    services.publish(event, by=staff)
    for member in members[:2]:
        services.register(event, member=member)
    return event


def _meetup(staff, site, members, tz, today, rooms):
    title = "Apéro des télétravailleurs"
    if _exists(title):
        return None
    day = today + timedelta(days=9)
    while day.weekday() != 3:  # a Thursday
        day += timedelta(days=1)
    event = _create(
        staff,
        site,
        rooms,
        title=title,
        description="Le rendez-vous mensuel du réseau des télétravailleurs : présentations croisées et entraide.",
        start=_at(day, 17, tz=tz),
        end=_at(day, 18, 30, tz=tz),
        audience=Event.Audience.MEMBERS,
        capacity=20,
        waiting_list=False,
        registration_opens=timezone.now() - timedelta(days=3),
        fallback_address="Café de la Gare, 15300 Murat",
    )
    services.publish(event, by=staff)
    for member in members[:3]:
        services.register(event, member=member)
    return event


def _workshop(staff, site, members, rng, tz, today):
    title = "Atelier découverte de l’impression 3D"
    if _exists(title):
        return None
    day = today + timedelta(days=16)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    event = _create(  # at the Fablab, among its machines: no room to book
        staff,
        site,
        [],
        title=title,
        description="Deux heures pour modéliser et imprimer une première pièce. Matériel et filament fournis.",
        start=_at(day, 14, tz=tz),
        end=_at(day, 16, tz=tz),
        capacity=max(1, len(members) - 2),
        waiting_list=True,
        offer_hours=24,
        price_excl_vat=Decimal("25.00"),
        vat_rate=Decimal("20.00"),
        registration_opens=timezone.now() - timedelta(days=5),
        fallback_address="Fablab de La COcotte numérique, rue du Faubourg Notre-Dame, 15300 Murat",
    )
    services.publish(event, by=staff)
    for member in members:
        services.register(event, member=member)
    return event
