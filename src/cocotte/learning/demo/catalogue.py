"""The demo's catalogue: two programmes at La COcotte numérique (Murat, public mode), their sessions and
enrolments, a trainer.

- « Cycle création d’entreprise »: a session running now (three past sittings, three ahead), a finished one (all
  its sittings past, still open: `evidence` closes it and issues its certificates), an upcoming one open for
  applications, full, with a waiting list, a place offered and an application to decide;
- « Découpe laser, niveau 1 », granting the qualification of the same name (the Fablab will require it), with
  a session ahead.

Rooms are booked through the engine for sittings ahead; past sittings' rooms are written as history
(`load_history`, `held_for` set), on mornings the room was free. Bob, self-funded, signed his contract of the
running session five weeks ago: his installments are written and those due are handed to billing. Idempotent:
a second run finds the programmes and only fills `context.shared["learning"]`.
"""

from datetime import date, time, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from cocotte.accounts import permissions
from cocotte.accounts.models import Organisation, Role, User
from cocotte.bookings import services as engine
from cocotte.bookings.errors import BookingError
from cocotte.bookings.models import Booking
from cocotte.core.timeutils import at_local, zone

from .. import halfdays, payments, services
from ..models import Enrolment, Module, Programme, Qualification, Session, Sitting

CYCLE = "cycle-creation-entreprise"
LASER = "decoupe-laser-niveau-1"
TRAINER_EMAIL = "formateur@cocotte.test"
TRAINEES = [
    # email, first name, last name
    ("lea@cocotte.test", "Léa", "Fabre"),
    ("hugo@cocotte.test", "Hugo", "Vidal"),
    ("nina@cocotte.test", "Nina", "Bruel"),
    ("paul@cocotte.test", "Paul", "Cayrol"),
]
S = Enrolment.Status
F = Enrolment.Funding
MORNING = (time(9, 0), time(12, 30))
DAY = (time(9, 0), time(17, 0))


def _weekday(day: date, step: int) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=step)
    return day


def _person(email, first, last, password) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, password, first_name=first, last_name=last)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def seed(context) -> None:
    from cocotte.accounts.demo import DEMO_PASSWORD

    sites, people = context.shared["sites"], context.shared["people"]
    site = next(s for s in sites if s.slug == "cocotte-numerique")
    trainer = _person(TRAINER_EMAIL, "Théo", "Formateur", DEMO_PASSWORD)
    permissions.grant_role(trainer, Role.Name.TRAINER, site)
    for email, first, last in TRAINEES:
        people.setdefault(email, _person(email, first, last, DEMO_PASSWORD))
    qualification, _ = Qualification.objects.get_or_create(
        slug="decoupe-laser-1",
        defaults={
            "name": "Découpe laser, niveau 1",
            "description": "Utiliser seul la découpeuse laser du Fablab : matériaux, réglages, sécurité.",
        },
    )
    existing = Programme.objects.filter(slug=CYCLE).first()
    if existing is None:
        with transaction.atomic(), services.muted():
            shared = _build(context, site, people, trainer, qualification)
        context.write("Formations : 2 programmes, 4 sessions de démonstration.")
    else:
        sessions = {s.label: s for s in Session.objects.filter(programme__slug__in=[CYCLE, LASER])}
        shared = {
            "programme": existing,
            "laser_programme": Programme.objects.get(slug=LASER),
            "running": sessions["Automne 2026"],
            "finished": sessions["Printemps 2026"],
            "upcoming": sessions["Hiver 2027"],
            "laser": sessions["Laser — prochaine session"],
        }
    shared.update({"trainer": trainer, "qualification": qualification, "site": site})
    context.shared["learning"] = shared


def _programmes(site, qualification):
    cycle = Programme.objects.create(
        site=site,
        title="Cycle création d’entreprise",
        slug=CYCLE,
        summary=(
            "Six matinées pour passer de l’idée au projet : étude de marché, statut, prévisionnel, financement. "
            "Un cycle agréé, animé par des professionnels de l’accompagnement, au cœur du Cantal."
        ),
        objectives=(
            "Vérifier la faisabilité de son projet ; construire son étude de marché ; choisir un statut "
            "juridique ; établir un prévisionnel financier sur trois ans ; présenter son projet à des financeurs."
        ),
        prerequisites="Avoir un projet de création ou de reprise d’entreprise, même au stade de l’idée.",
        audience="Porteurs de projet, demandeurs d’emploi, salariés en reconversion du territoire.",
        duration_hours=Decimal("21.00"),
        price_excl_vat=Decimal("600.00"),
        funding_notes=(
            "France Travail (AIF), Région Auvergne-Rhône-Alpes, OPCO de votre employeur, CPF, ou "
            "financement personnel échelonné."
        ),
        accessibility=(
            "Locaux de plain-pied, accessibles en fauteuil ; boucle magnétique ; supports en gros caractères "
            "sur demande. Prévenez-nous deux semaines avant la première séance pour toute adaptation."
        ),
        accessibility_contact="Sophie Chargée de mission — 04 71 20 00 00 — equipe@cocotte.test",
        assessment_method="Présentation orale du projet devant un jury de professionnels en dernière séance.",
        teaching_methods="Apports en groupe, ateliers pratiques sur son propre projet, rendez-vous individuels.",
        provider_name="Hautes Terres Communauté",
        provider_declaration="84150000015",
        provider_siret="20006663700014",
        min_trainees=3,
        cancel_days_before=7,
        offer_hours=48,
        published=True,
    )
    for position, (title, hours) in enumerate(
        [
            ("De l’idée au projet", "3.5"),
            ("Étude de marché", "3.5"),
            ("Statuts juridiques et protection sociale", "3.5"),
            ("Prévisionnel financier", "3.5"),
            ("Financer son projet", "3.5"),
            ("Présenter son projet", "3.5"),
        ],
        start=1,
    ):
        Module.objects.create(programme=cycle, position=position, title=title, hours=Decimal(hours))
    laser = Programme.objects.create(
        site=site,
        title="Découpe laser, niveau 1",
        slug=LASER,
        summary="Une matinée pour apprendre à utiliser seul la découpeuse laser du Fablab.",
        objectives="Préparer un fichier, choisir les matériaux permis, régler et lancer une découpe en sécurité.",
        prerequisites="Savoir utiliser un ordinateur.",
        audience="Membres du tiers-lieu, à partir de 16 ans.",
        duration_hours=Decimal("3.50"),
        price_excl_vat=Decimal("40.00"),
        accessibility="Fablab de plain-pied ; poste de travail réglable en hauteur.",
        accessibility_contact="Sophie Chargée de mission — equipe@cocotte.test",
        assessment_method="Une découpe réalisée seul, validée par le formateur.",
        teaching_methods="Démonstration puis pratique encadrée sur la machine.",
        provider_name="Hautes Terres Communauté",
        provider_declaration="84150000015",
        min_trainees=2,
        cancel_days_before=3,
        grants=qualification,
        published=True,
    )
    Module.objects.create(programme=laser, position=1, title="Sécurité et réglages", hours=Decimal("3.5"))
    return cycle, laser


def _free(room, start, end) -> bool:
    return not Booking.objects.live().filter(resource=room, start__lt=end, end__gt=start).exists()


def _past_sitting(session, room, trainer, staff, day: date, hours, module) -> Sitting:
    """A sitting in the past: its room's booking written as history, on the nearest earlier weekday the room
    was free (or outside the room, at the site's address, if none was)."""
    tz = zone(session.site.timezone)
    free = False
    for _attempt in range(30):
        day = _weekday(day, -1)
        start, end = at_local(day, hours[0], tz), at_local(day, hours[1], tz)
        if free := _free(room, start, end):
            break
        day -= timedelta(days=1)
    site = session.site
    sitting = Sitting.objects.create(
        session=session,
        module=module,
        start=start,
        end=end,
        trainer=trainer,
        room=room if free else None,
        outside_address="" if free else f"{site.street}, {site.postal_code} {site.city}",
    )
    if not free:
        halfdays.plan_sheets(sitting)
        return sitting
    booking = Booking(
        resource=room,
        member=trainer,
        booked_by=staff,
        start=start,
        end=end,
        status=Booking.Status.CONFIRMED,
        note=services._hold_note(session),
        held_for=f"learning.sitting:{sitting.pk}",
    )
    engine.load_history([booking])
    sitting.booking = Booking.objects.get(held_for=f"learning.sitting:{sitting.pk}")
    sitting.save(update_fields=["booking"])
    halfdays.plan_sheets(sitting)
    return sitting


def _future_sitting(session, room, trainer, staff, day: date, hours, module) -> Sitting:
    """A sitting ahead, its room booked through the engine, on the first weekday from `day` it is free."""
    tz = zone(session.site.timezone)
    for _attempt in range(20):
        day = _weekday(day, 1)
        try:
            return services.add_sitting(
                session,
                by=staff,
                start=at_local(day, hours[0], tz),
                end=at_local(day, hours[1], tz),
                trainer=trainer,
                room=room,
                module=module,
            )
        except BookingError:
            day += timedelta(days=1)
    return services.add_sitting(
        session,
        by=staff,
        start=at_local(day, hours[0], tz),
        end=at_local(day, hours[1], tz),
        trainer=trainer,
        outside_address=f"{session.site.street}, {session.site.postal_code} {session.site.city}",
        module=module,
    )


def _enrol(
    session, trainee, funding, *, applied, payer=None, status=S.ACCEPTED, by=None, **fields
) -> Enrolment:
    """An enrolment of a session already under way (history, written as it was decided then)."""
    enrolment = Enrolment.objects.create(
        session=session,
        trainee=trainee,
        funding=funding,
        payer=payer,
        status=status,
        project=fields.pop("project", "Créer mon activité sur le territoire."),
        prerequisites_met=True,
        decided_by=by,
        decided_at=applied + timedelta(days=2),
        **fields,
    )
    Enrolment.objects.filter(pk=enrolment.pk).update(applied_at=applied)
    return enrolment


def _build(context, site, people, trainer, qualification) -> dict:
    staff = people["equipe@cocotte.test"]
    room = site.resources.get(slug="salle-plomb")
    cycle, laser = _programmes(site, qualification)
    modules = list(cycle.modules.order_by("position"))
    now = timezone.now()
    today = timezone.localdate()

    # A session running now: three mornings past, three ahead, one a week.
    running = Session.objects.create(
        programme=cycle,
        site=site,
        label="Automne 2026",
        status=Session.Status.OPEN,
        capacity=8,
        enrolment_opens=now - timedelta(days=60),
        enrolment_closes=now - timedelta(days=25),
    )
    for n, weeks in enumerate((-3, -2, -1)):
        _past_sitting(running, room, trainer, staff, today + timedelta(weeks=weeks), MORNING, modules[n])
    for n, weeks in enumerate((1, 2, 3), start=3):
        _future_sitting(running, room, trainer, staff, today + timedelta(weeks=weeks), MORNING, modules[n])
    services._refresh_dates(running)
    coop = Organisation.objects.filter(name="Coop des Volcans").first()
    applied = now - timedelta(days=40)
    bob = _enrol(
        running,
        people["bob@cocotte.test"],
        F.SELF,
        applied=applied,
        by=staff,
        project="Ouvrir une épicerie de produits locaux en vrac à Murat.",
        expectations="Construire un prévisionnel crédible pour ma banque.",
        contract_signed_at=applied + timedelta(days=3),
        contract_signed_name="Bob Durand",
    )
    bob.contract_text = services.contract_text(bob)
    bob.contract_text_hash = services.text_hash(bob.contract_text)
    bob.save(update_fields=["contract_text", "contract_text_hash"])
    payments.build_installments(bob)
    chloe = _enrol(running, people["chloe@cocotte.test"], F.EMPLOYER, applied=applied, by=staff, payer=coop)
    services._hand_over_employer(chloe, running)  # one line to the Coop, as at acceptance
    _enrol(running, people["lea@cocotte.test"], F.PUBLIC, applied=applied, by=staff, needs_adaptation="")
    _enrol(running, people["hugo@cocotte.test"], F.CPF, applied=applied, by=staff)
    payments.hand_over_due(today)  # bob's first installments, due since the end of his withdrawal period

    # A finished session, its sittings all past (evidence closes it and issues the certificates).
    finished = Session.objects.create(
        programme=cycle,
        site=site,
        label="Printemps 2026",
        status=Session.Status.OPEN,
        capacity=8,
        enrolment_opens=now - timedelta(days=200),
        enrolment_closes=now - timedelta(days=150),
    )
    for n in range(6):
        _past_sitting(
            finished, room, trainer, staff, today - timedelta(days=140 - 7 * n), MORNING, modules[n]
        )
    services._refresh_dates(finished)
    long_ago = now - timedelta(days=170)
    for email, funding in (
        ("alice@cocotte.test", F.PUBLIC),
        ("lea@cocotte.test", F.CPF),
        ("paul@cocotte.test", F.FREE),
    ):
        _enrol(finished, people[email], funding, applied=long_ago, by=staff)

    # An upcoming session, open: full, with a waiting list, a place offered and an application to decide.
    upcoming = Session.objects.create(
        programme=cycle,
        site=site,
        label="Hiver 2027",
        status=Session.Status.OPEN,
        capacity=3,
        enrolment_opens=now - timedelta(days=10),
        enrolment_closes=now + timedelta(days=40),
    )
    for n, days in enumerate((45, 52, 59, 66, 73, 80)):
        _future_sitting(upcoming, room, trainer, staff, today + timedelta(days=days), MORNING, modules[n])

    def apply(email, funding=F.SELF, **fields):
        return services.apply(
            upcoming,
            trainee=people[email],
            application=services.Application(
                project=fields.pop("project", "Reprendre une activité artisanale."),
                prerequisites_met=True,
                funding=funding,
                **fields,
            ),
        )

    first = [
        apply("alice@cocotte.test", F.SELF, project="Lancer un service de secrétariat à distance."),
        apply("nina@cocotte.test", F.PUBLIC, project="Créer une ferme pédagogique."),
        apply("hugo@cocotte.test", F.CPF, project="Devenir photographe indépendant."),
        apply("paul@cocotte.test", F.PUBLIC, project="Ouvrir un gîte de randonnée."),
    ]
    apply("chloe@cocotte.test", F.EMPLOYER, project="Former l’équipe de la coopérative.")  # for the team
    accepted = [services.accept(e, by=staff) for e in first]  # three places: Paul goes on the waiting list
    services.sign_contract(accepted[0], by=people["alice@cocotte.test"], name="Alice Martin", agreed=True)
    apply("lea@cocotte.test", F.PUBLIC, project="Créer une recyclerie.")  # full: the waiting list, after Paul
    services.withdraw(
        accepted[2], by=people["hugo@cocotte.test"]
    )  # Paul, first in line, is offered the place

    # The laser training, a morning in three weeks.
    laser_session = Session.objects.create(
        programme=laser,
        site=site,
        label="Laser — prochaine session",
        status=Session.Status.OPEN,
        capacity=4,
        enrolment_opens=now - timedelta(days=5),
        enrolment_closes=now + timedelta(days=18),
    )
    _future_sitting(laser_session, room, trainer, staff, today + timedelta(days=22), MORNING, None)
    services.apply(
        laser_session,
        trainee=people["bob@cocotte.test"],
        application=services.Application(
            project="Découper les étiquettes en bois de mon épicerie.", prerequisites_met=True, funding=F.SELF
        ),
    )
    for session in (running, finished, upcoming, laser_session):
        session.refresh_from_db()
    return {
        "programme": cycle,
        "laser_programme": laser,
        "running": running,
        "finished": finished,
        "upcoming": upcoming,
        "laser": laser_session,
    }
