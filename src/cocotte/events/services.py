"""Events' changes of state: every rule about places, rooms and check-in lives here.

Locking protocol (why the capacity is never exceeded): every change that takes or frees a place runs in one
transaction that first locks the event's row (`SELECT … FOR UPDATE`; on SQLite, transactions begin IMMEDIATE:
one writer at a time, same effect), then counts the places held (confirmed + offered) and decides from that
count. Two people asking for the last place queue on the row: the second one counts the first one's place.
A freed place is offered, under the same lock, to the oldest person waiting: as many offers as freed places,
also when two cancellations arrive at once (the second counts the first one's offer).

The rooms of an event are held through the booking engine (`held_for`), inside the event's transaction: a
conflict refuses the whole change with the engine's message, and nothing is half-saved.

E-mails are sent by the task worker once the transaction commits (`tasks.notify`): nothing is sent for a
change rolled back. Check-in is one conditional UPDATE (no lock, no count): two taps count once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cocotte.accounts import permissions
from cocotte.billing import issuing, ledger
from cocotte.billing.models import BillLine, Charge, RevenueType, SiteOperator
from cocotte.bookings import services as engine
from cocotte.bookings.errors import BookingError
from cocotte.bookings.models import Booking
from cocotte.bookings.schedule import busy_periods, find_conflict
from cocotte.core.models import audit
from cocotte.core.timeutils import local_date, zone

from . import tasks
from .errors import (
    AccountRequired,
    AlreadyCheckedIn,
    AlreadyRegistered,
    Closed,
    Forbidden,
    Full,
    InvalidEvent,
    NotExpected,
    NotFound,
    StaleLink,
    UnknownCode,
)
from .models import PENDING_HOURS, Event, Question, Registration

RESEND_MINUTES = 5  # a visitor's confirmation link goes out again at most this often

logger = logging.getLogger(__name__)

Status = Registration.Status
SOURCE = "events.registration"  # what billing's lines name as their source

EVENT_FIELDS = (
    "title",
    "description",
    "image",
    "image_alt",
    "outside_address",
    "start",
    "end",
    "audience",
    "price_excl_vat",
    "vat_rate",
    "capacity",
    "registration_opens",
    "registration_closes",
    "waiting_list",
    "offer_hours",
    "cancellation_hours",
)


# ---------------------------------------------------------------------------------------------------------
# Who may see and manage
# ---------------------------------------------------------------------------------------------------------


def manages(user, event) -> bool:
    """The team of the event's site (and admins)."""
    return permissions.is_member(user) and permissions.is_site_staff(user, event.site_id)


def may_see(user, event) -> bool:
    if manages(user, event):
        return True
    if event.status == Event.Status.DRAFT:
        return False
    return event.is_public or permissions.is_member(user)


def visible_events(user):
    """Published (and cancelled, to say so) events this user may see; drafts only for their team."""
    shown = Q(status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED])
    if not permissions.is_member(user):
        shown &= Q(audience=Event.Audience.PUBLIC)
    if permissions.is_admin(user):
        return Event.objects.all()
    staffed = permissions.staffed_site_ids(user) if permissions.is_member(user) else frozenset()
    if staffed:
        shown |= Q(site_id__in=staffed)
    return Event.objects.filter(shown)


def with_counts(events):
    """Annotate `held` (places taken: confirmed and offered) and `waiting`, in the same query."""
    return events.annotate(
        held=Count("registrations", filter=Q(registrations__status__in=Registration.HOLDING)),
        waiting=Count("registrations", filter=Q(registrations__status=Status.WAITLISTED)),
    )


def places_left(event) -> int:
    held = getattr(event, "held", None)
    if held is None:
        held = _held(event)
    return max(0, event.capacity - held)


def get_event_for(user, pk: int, *, counts: bool = True) -> Event:
    """The event if this user may see it, else NotFound (a members-only event is not shown to visitors).
    With `counts`, its places held and people waiting too (`with_counts`); a write counts under its lock."""
    events = Event.objects.select_related("site")
    event = (with_counts(events) if counts else events).filter(pk=pk).first()
    if event is None or not may_see(user, event):
        raise NotFound(_("Événement introuvable."))
    return event


def get_managed_event(user, pk: int) -> Event:
    event = Event.objects.select_related("site").filter(pk=pk).first()
    if event is None or not (may_see(user, event) or manages(user, event)):
        raise NotFound(_("Événement introuvable."))
    if not manages(user, event):
        raise Forbidden(_("Seule l’équipe du site gère cet événement."))
    return event


# ---------------------------------------------------------------------------------------------------------
# Small pieces
# ---------------------------------------------------------------------------------------------------------


def _lock(event_id: int) -> Event:
    """The event's row, locked for the rest of the transaction: the one lock of every change of places."""
    return Event.objects.select_for_update(of=("self",)).select_related("site").get(pk=event_id)


def _held(event) -> int:
    return Registration.objects.filter(event_id=event.pk, status__in=Registration.HOLDING).count()


def _someone_waits(event) -> bool:
    return Registration.objects.filter(event_id=event.pk, status=Status.WAITLISTED).exists()


def _notify(kind: str, registration_id: int, **extra) -> None:
    tasks.after_commit(kind, registration_id, **extra)


def _notify_event(kind: str, event_id: int, **extra) -> None:
    tasks.after_commit_event(kind, event_id, **extra)


def _language() -> str:
    """The language the person registered in: their e-mails are written in it."""
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def check_open(event: Event, now: datetime) -> None:
    """Refuse a registration the event does not take now."""
    if event.status == Event.Status.CANCELLED:
        raise Closed(_("Cet événement est annulé."))
    if event.status != Event.Status.PUBLISHED:
        raise Closed(_("Les inscriptions à cet événement ne sont pas ouvertes."))
    if event.start <= now:
        raise Closed(_("Cet événement a déjà commencé : les inscriptions sont closes."))
    if event.registration_opens and now < event.registration_opens:
        raise Closed(
            _("Les inscriptions ouvrent le %(when)s.")
            % {"when": timezone.localtime(event.registration_opens).strftime("%d/%m/%Y %H:%M")}
        )
    if now >= event.closes_at:
        raise Closed(_("Les inscriptions sont closes."))


def clean_answers(event: Event, answers: dict | None, questions=None) -> dict:
    """The answers keyed by question id (as text), checked: a required one given, a choice among the list."""
    answers = answers or {}
    questions = list(event.questions.all()) if questions is None else questions
    cleaned = {}
    for question in questions:
        value = answers.get(str(question.pk), answers.get(question.pk, ""))
        value = str(value or "").replace("\x00", "").strip()[:1000]
        if not value:
            if question.required:
                raise InvalidEvent(
                    _("Répondez à la question « %(question)s ».") % {"question": question.label},
                    code="answer_required",
                    field=f"q{question.pk}",
                )
            continue
        if question.kind == Question.Kind.CHOICE and value not in question.choice_list:
            raise InvalidEvent(
                _("Choisissez une réponse proposée à « %(question)s ».") % {"question": question.label},
                code="invalid_answer",
                field=f"q{question.pk}",
            )
        cleaned[str(question.pk)] = value
    return cleaned


def _operator(event):
    link = SiteOperator.objects.select_related("operator").filter(site_id=event.site_id).first()
    return link.operator if link else None


def _charge(registration: Registration, event: Event) -> None:
    """A priced place, once confirmed: its line goes to billing (the member's bill or statement)."""
    if not event.is_priced or registration.member_id is None:
        return
    operator = _operator(event)
    if operator is None:
        logger.warning("Event %s is priced but its site has no operator: nothing billed.", event.pk)
        return
    day = local_date(event.start, zone(event.site.timezone))
    ledger.hand_over(
        operator,
        registration.member,
        source=SOURCE,
        source_id=registration.pk,
        revenue_type=RevenueType.EVENT,
        label=_("%(event)s, le %(day)s") % {"event": event.title, "day": day.strftime("%d/%m/%Y")},
        service_date=day,
        quantity=Decimal("1"),
        unit="place",
        unit_price_excl_vat=event.price_excl_vat,
        vat_rate=event.vat_rate,
    )


def _refund(registration: Registration, *, by, always: bool, now: datetime) -> str:
    """Take back a cancelled place's line: withdrawn if not billed yet; credited (a draft credit note for
    staff to issue) if billed and `always` (the team cancelled). Says what happened: "", "withdrawn",
    "credited", "kept" (cancelled late: the place is due), "to_refund" (billed on a statement)."""
    event = registration.event
    if not event.is_priced or registration.member_id is None:
        return ""
    if not always and now > event.free_cancellation_until():
        return "kept"
    if ledger.withdraw(SOURCE, registration.pk):
        return "withdrawn"
    charge = Charge.objects.filter(source=SOURCE, source_id=registration.pk).select_related("bill").first()
    if charge is None or charge.bill is None:
        return ""
    lines = list(BillLine.objects.filter(charge=charge, bill=charge.bill))
    try:
        issuing.credit_note_for(charge.bill, by=by, lines=lines or None)
    except issuing.IssueError:
        audit(by, "events.refund_due", registration, bill=charge.bill_id)
        return "to_refund"
    return "credited"


def _take_place(registration: Registration, event: Event, now: datetime) -> None:
    registration.status = Status.CONFIRMED
    registration.confirmed_at = now
    registration.offer_expires_at = None
    registration.expires_at = None
    _charge(registration, event)


def _promote(event: Event, now: datetime) -> list[int]:
    """Offer each free place to the oldest person waiting (under the event's lock); their ids."""
    if event.status != Event.Status.PUBLISHED or event.start <= now:
        return []
    free = event.capacity - _held(event)
    if free <= 0:
        return []
    waiting = list(
        Registration.objects.filter(event_id=event.pk, status=Status.WAITLISTED).order_by(
            "waitlisted_at", "pk"
        )[:free]
    )
    deadline = min(now + timedelta(hours=event.offer_hours), event.start)
    for registration in waiting:
        registration.status = Status.OFFERED
        registration.offered_at = now
        registration.offer_expires_at = deadline
        registration.save(update_fields=["status", "offered_at", "offer_expires_at"])
        _notify("offered", registration.pk)
    return [r.pk for r in waiting]


# ---------------------------------------------------------------------------------------------------------
# Registering
# ---------------------------------------------------------------------------------------------------------


def _check_not_registered(event: Event, *, member=None, email: str) -> None:
    live = Registration.objects.filter(event_id=event.pk, status__in=Registration.LIVE)
    who = Q(email=email)
    if member is not None:
        who |= Q(member=member)
    existing = live.filter(who).only("status").first()
    if existing is None:
        return
    if existing.status == Status.PENDING:
        raise AlreadyRegistered(
            _(
                "Une inscription attend déjà la confirmation de cette adresse : cliquez sur le lien reçu par e-mail."
            )
        )
    raise AlreadyRegistered(_("Cette personne est déjà inscrite à cet événement."))


def register(event: Event, *, member, answers=None, by=None) -> Registration:
    """A member's registration, in one click: a place if one is left, else the waiting list (if any)."""
    by = by or member
    if not permissions.is_member(member):
        raise AccountRequired(_("Connectez-vous pour vous inscrire."))
    if by.pk != member.pk and not manages(by, event):
        raise Forbidden(_("On ne s’inscrit que soi-même."))
    now = timezone.now()
    with transaction.atomic():
        event = _lock(event.pk)
        check_open(event, now)
        answers = clean_answers(event, answers)
        email = member.email.strip().lower()
        _check_not_registered(event, member=member, email=email)
        registration = Registration(
            event=event,
            member=member,
            name=member.get_full_name() or member.email,
            email=email,
            answers=answers,
            language=_language(),
        )
        if _held(event) < event.capacity and not _someone_waits(event):
            registration.status = Status.CONFIRMED
            registration.confirmed_at = now
        elif event.waiting_list:
            registration.status = Status.WAITLISTED
            registration.waitlisted_at = now
        else:
            raise Full(_("Cet événement est complet."))
        registration.save(force_insert=True)
        if registration.status == Status.CONFIRMED:
            _charge(registration, event)
        audit(by, "events.registered", registration, event=event.pk, status=registration.status)
        _notify(registration.status, registration.pk)
    return registration


def register_visitor(event: Event, *, name: str, email: str, answers=None) -> Registration:
    """A visitor's registration: it holds no place until they click the link e-mailed to them."""
    name = " ".join(str(name or "").replace("\x00", "").split())[:200]
    email = str(email or "").strip().lower()
    if not name:
        raise InvalidEvent(_("Indiquez votre nom."), code="name_required", field="name")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidEvent(
            _("Indiquez une adresse e-mail valide."), code="email_required", field="email"
        ) from None
    now = timezone.now()
    with transaction.atomic():
        event = _lock(event.pk)
        check_open(event, now)
        if not event.is_public:
            raise AccountRequired(
                _("Cet événement est réservé aux membres : connectez-vous pour vous inscrire.")
            )
        if event.is_priced:
            raise AccountRequired(
                _(
                    "Une place payante est facturée à un compte : créez votre compte (gratuit) ou connectez-vous."
                )
            )
        answers = clean_answers(event, answers)
        waiting = Registration.objects.filter(event_id=event.pk, email=email, status=Status.PENDING).first()
        if waiting is not None:
            return _send_link_again(waiting, now)
        _check_not_registered(event, email=email)
        if _held(event) >= event.capacity and not event.waiting_list:
            raise Full(_("Cet événement est complet."))
        registration = Registration.objects.create(
            event=event,
            name=name,
            email=email,
            answers=answers,
            language=_language(),
            status=Status.PENDING,
            expires_at=now + timedelta(hours=PENDING_HOURS),
        )
        audit(None, "events.registered", registration, event=event.pk, status=registration.status)
        _notify("confirm_address", registration.pk)
    return registration


def _send_link_again(registration: Registration, now: datetime) -> Registration:
    """The visitor registers again while their link waits: the link goes out again (its 24 hours start
    anew), at most once in RESEND_MINUTES, so that a form sent twice, or by someone else, floods no mailbox."""
    if registration.expires_at is None or registration.expires_at <= now + timedelta(
        hours=PENDING_HOURS, minutes=-RESEND_MINUTES
    ):
        registration.expires_at = now + timedelta(hours=PENDING_HOURS)
        registration.save(update_fields=["expires_at"])
        _notify("confirm_address", registration.pk)
    return registration


def by_token(token: str) -> Registration:
    registration = (
        Registration.objects.select_related("event__site", "member").filter(token=str(token)[:32]).first()
    )
    if registration is None:
        raise UnknownCode(_("Ce lien ne correspond à aucune inscription."))
    return registration


def confirm_address(token: str) -> Registration:
    """The visitor clicked the link: a place if one is left, else the waiting list."""
    now = timezone.now()
    with transaction.atomic():
        found = by_token(token)
        event = _lock(found.event_id)
        registration = Registration.objects.select_for_update(of=("self",)).get(pk=found.pk)
        registration.event = event
        if registration.status != Status.PENDING:
            if registration.status in (Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED):
                raise StaleLink(_("Votre adresse est déjà confirmée."), code="already_confirmed")
            raise StaleLink(_("Cette inscription n’est plus valable : inscrivez-vous à nouveau."))
        if registration.expires_at and registration.expires_at <= now:
            raise StaleLink(_("Ce lien a expiré (24 heures) : inscrivez-vous à nouveau."), code="expired")
        check_open(event, now)
        if _held(event) < event.capacity and not _someone_waits(event):
            _take_place(registration, event, now)
        elif event.waiting_list:
            registration.status = Status.WAITLISTED
            registration.waitlisted_at = now
            registration.expires_at = None
        else:
            raise Full(_("Désolés : l’événement est devenu complet avant votre confirmation."))
        registration.save(
            update_fields=["status", "confirmed_at", "waitlisted_at", "expires_at", "offer_expires_at"]
        )
        audit(None, "events.address_confirmed", registration, status=registration.status)
        _notify(registration.status, registration.pk)
    return registration


def accept_offer(registration: Registration, *, by=None) -> Registration:
    """Take the place offered, before its deadline."""
    now = timezone.now()
    with transaction.atomic():
        event = _lock(registration.event_id)
        current = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
        current.event = event
        _check_owner(current, by)
        if current.status == Status.CONFIRMED:
            raise StaleLink(_("Votre place est déjà confirmée."), code="already_confirmed")
        if current.status != Status.OFFERED or (current.offer_expires_at and current.offer_expires_at <= now):
            raise StaleLink(_("Cette place n’est plus proposée : le délai pour l’accepter est passé."))
        _take_place(current, event, now)
        current.save(update_fields=["status", "confirmed_at", "offer_expires_at", "expires_at"])
        audit(by, "events.offer_accepted", current)
        _notify("confirmed", current.pk)
    return current


def _check_owner(registration: Registration, by) -> None:
    """`by` None: the person holding the e-mailed link. Otherwise their account, or the site's team."""
    if by is None:
        return
    if registration.member_id == getattr(by, "pk", None) or manages(by, registration.event):
        return
    email = (getattr(by, "email", "") or "").lower()
    if registration.member_id is None and email and registration.email == email and permissions.is_member(by):
        return
    raise Forbidden(_("Cette inscription n’est pas la vôtre."))


@dataclass
class Cancellation:
    registration: Registration
    refund: str  # see _refund
    promoted: list[int]


def cancel_registration(registration: Registration, *, by=None, reason: str = "") -> Cancellation:
    """Cancelled by its person (`by` their account, or None for the e-mailed link) or by the team; a place
    freed is offered to the oldest person waiting."""
    now = timezone.now()
    with transaction.atomic():
        event = _lock(registration.event_id)
        current = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
        current.event = event
        _check_owner(current, by)
        if not current.is_live:
            raise StaleLink(_("Cette inscription est déjà annulée."), code="not_live")
        if current.checked_in_at:
            raise InvalidEvent(_("Cette personne est déjà arrivée : l’inscription ne s’annule plus."))
        if event.end <= now:
            raise Closed(_("Cet événement est passé."))
        held = current.holds_place
        by_team = by is not None and current.member_id != by.pk and current.email != (by.email or "").lower()
        current.status = Status.CANCELLED
        current.cancelled_at = now
        current.save(update_fields=["status", "cancelled_at"])
        refund = _refund(current, by=by, always=by_team, now=now) if held else ""
        promoted = _promote(event, now) if held else []
        audit(by, "events.cancelled", current, by_team=by_team, reason=reason, refund=refund)
        _notify("cancelled", current.pk, by_team=by_team, reason=reason, refund=refund)
    return Cancellation(current, refund, promoted)


def expire_due(now: datetime | None = None) -> dict[str, int]:
    """The scheduler's sweep: unconfirmed addresses after 24 h, offers past their deadline (the next person
    waiting is offered the place). Safe to run again, on two hosts at once."""
    now = now or timezone.now()
    stale = Registration.objects.filter(status=Status.PENDING, expires_at__lte=now).update(
        status=Status.EXPIRED
    )
    offers = 0
    event_ids = set(
        Registration.objects.filter(status=Status.OFFERED, offer_expires_at__lte=now).values_list(
            "event_id", flat=True
        )
    )
    for event_id in sorted(event_ids):
        with transaction.atomic():
            event = _lock(event_id)
            due = list(
                Registration.objects.select_for_update(of=("self",)).filter(
                    event_id=event_id, status=Status.OFFERED, offer_expires_at__lte=now
                )
            )
            for registration in due:
                registration.status = Status.EXPIRED
                registration.save(update_fields=["status"])
                audit(None, "events.offer_expired", registration)
                _notify("offer_expired", registration.pk)
            offers += len(due)
            _promote(event, now)
    return {"unconfirmed": stale, "offers": offers}


# ---------------------------------------------------------------------------------------------------------
# Check-in at the door
# ---------------------------------------------------------------------------------------------------------


def by_checkin_code(code: str, *, by) -> Registration:
    """The registration a QR code names, for the team of its event's site (one query, on an index)."""
    registration = Registration.objects.select_related("event").filter(checkin_code=str(code)[:32]).first()
    if registration is None:
        raise UnknownCode(_("Code inconnu : ce QR code ne correspond à aucune inscription."))
    if not manages(by, registration.event):
        raise Forbidden(_("Seule l’équipe du site enregistre les arrivées."))
    return registration


def check_in(registration: Registration, *, by, now: datetime | None = None) -> Registration:
    """Mark the person arrived: one conditional UPDATE, so that two taps (two phones) count once."""
    now = now or timezone.now()
    if not manages(by, registration.event):
        raise Forbidden(_("Seule l’équipe du site enregistre les arrivées."))
    if registration.checked_in_at:
        raise _already(registration)
    if registration.event.status == Event.Status.CANCELLED:
        raise Closed(_("Cet événement est annulé."))
    if registration.status != Status.CONFIRMED:
        raise NotExpected(
            _("%(name)s n’a pas de place confirmée (%(status)s).")
            % {"name": registration.name, "status": registration.get_status_display()}
        )
    updated = Registration.objects.filter(
        pk=registration.pk, status=Status.CONFIRMED, checked_in_at__isnull=True
    ).update(checked_in_at=now, checked_in_by=by)
    if not updated:
        registration.refresh_from_db(fields=["checked_in_at", "status"])
        raise _already(registration)
    registration.checked_in_at, registration.checked_in_by_id = now, by.pk
    return registration


def register_at_door(event: Event, *, by, name: str, email: str = "") -> Registration:
    """Someone who did not register comes in: the team registers them, arrived, if a place is left (the
    capacity is the room's: it holds at the door too). Without an e-mail, they are recorded under an address
    of the reserved `.invalid` domain (RFC 2606), which no message can reach."""
    name = " ".join(str(name or "").replace("\x00", "").split())[:200]
    email = str(email or "").strip().lower()
    if not name:
        raise InvalidEvent(_("Indiquez le nom de la personne."), code="name_required", field="name")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidEvent(
                _("Indiquez une adresse e-mail valide, ou aucune."), code="email_required", field="email"
            ) from None
    now = timezone.now()
    with transaction.atomic():
        event = _lock(event.pk)
        if not manages(by, event):
            raise Forbidden(_("Seule l’équipe du site enregistre les arrivées."))
        if event.status != Event.Status.PUBLISHED:
            raise Closed(_("Cet événement n’est pas ouvert."))
        if event.end <= now:
            raise Closed(_("Cet événement est terminé."))
        if _held(event) >= event.capacity:
            raise Full(_("Toutes les places sont prises : la capacité est atteinte."))
        registration = Registration(event=event, name=name, status=Status.CONFIRMED, confirmed_at=now)
        registration.email = email or f"sur-place-{registration.token[:12].lower()}@accueil.invalid"
        _check_not_registered(event, email=registration.email)
        registration.checked_in_at, registration.checked_in_by = now, by
        registration.language = _language()
        registration.save(force_insert=True)
        audit(by, "events.registered_at_door", registration, event=event.pk)
    return registration


def _already(registration: Registration) -> AlreadyCheckedIn:
    at = timezone.localtime(registration.checked_in_at)
    return AlreadyCheckedIn(
        _("%(name)s : déjà enregistré à %(time)s.")
        % {"name": registration.name, "time": at.strftime("%H:%M")},
        at=at,
    )


def undo_check_in(registration: Registration, *, by) -> Registration:
    if not manages(by, registration.event):
        raise Forbidden(_("Seule l’équipe du site enregistre les arrivées."))
    Registration.objects.filter(pk=registration.pk).update(checked_in_at=None, checked_in_by=None)
    audit(by, "events.check_in_undone", registration)
    registration.checked_in_at = None
    return registration


# ---------------------------------------------------------------------------------------------------------
# The team's events
# ---------------------------------------------------------------------------------------------------------


def parse_questions(text: str) -> list[dict]:
    """Questions as staff write them, one a line: « * » first for a required one, choices after « | »
    (« * Déjeunerez-vous sur place ? | Oui | Non »)."""
    questions = []
    for line in (text or "").splitlines():
        line = line.replace("\x00", "").strip()
        if not line:
            continue
        required = line.startswith("*")
        parts = [p.strip() for p in line.lstrip("*").split("|")]
        label, choices = parts[0], [c for c in parts[1:] if c]
        if not label:
            raise InvalidEvent(
                _("Une question sans intitulé : « %(line)s ».") % {"line": line}, field="questions"
            )
        questions.append(
            {
                "label": label[:200],
                "kind": Question.Kind.CHOICE if choices else Question.Kind.TEXT,
                "choices": "\n".join(choices),
                "required": required,
            }
        )
    return questions


def questions_text(event: Event) -> str:
    lines = []
    for q in event.questions.all():
        line = ("* " if q.required else "") + q.label
        if q.kind == Question.Kind.CHOICE:
            line += " | " + " | ".join(q.choice_list)
        lines.append(line)
    return "\n".join(lines)


def _check_event(fields: dict, rooms, site) -> None:
    if fields["end"] <= fields["start"]:
        raise InvalidEvent(_("La fin doit suivre le début."), code="end_before_start", field="end")
    if not rooms and not fields.get("outside_address"):
        raise InvalidEvent(
            _("Choisissez au moins une salle du site, ou indiquez une adresse extérieure."),
            code="no_place",
            field="rooms",
        )
    for room in rooms:
        if room.site_id != site.pk:
            raise InvalidEvent(_("Les salles doivent être celles du site de l’événement."), field="rooms")
    opens, closes = fields.get("registration_opens"), fields.get("registration_closes")
    if opens and closes and closes <= opens:
        raise InvalidEvent(
            _("La clôture des inscriptions doit suivre leur ouverture."), field="registration_closes"
        )
    if closes and closes > fields["end"]:
        raise InvalidEvent(
            _("Les inscriptions ferment au plus tard à la fin de l’événement."), field="registration_closes"
        )
    if fields.get("image") and not fields.get("image_alt"):
        raise InvalidEvent(
            _("Décrivez l’image pour qui ne la voit pas (texte alternatif)."), field="image_alt"
        )


def room_bookings(event: Event) -> list[Booking]:
    return list(Booking.objects.live().filter(held_for=event.held_for).select_related("resource__site"))


def _book_rooms(rooms, start, end, *, by, held_for: str) -> None:
    """Hold the rooms through the engine, all or nothing. A refusal names the room at fault (a forum books
    several: « this slot is taken » alone does not say which one) and points at the rooms' field."""
    try:
        engine.book_many([(room, start, end) for room in rooms], member=by, by=by, held_for=held_for)
    except BookingError as error:
        room = _refused_room(rooms, start, end)
        if room is None:
            raise
        raise type(error)(
            _("%(room)s : %(reason)s") % {"room": room.name, "reason": error.message},
            code=error.code,
            field="rooms",
            details=error.details,
        ) from error


def _refused_room(rooms, start, end):
    """The first of the rooms that the engine would refuse for [start, end) (read only: no lock, no write)."""
    busy = busy_periods([room.pk for room in rooms], start, end)
    for room in rooms:
        if find_conflict(room, start, end, busy.get(room.pk, [])) is not None:
            return room
    return None


def create_event(*, by, site, rooms=(), questions=(), **fields) -> Event:
    """A draft event; its rooms booked through the engine for its whole time, all or nothing."""
    if not permissions.is_site_staff(by, site.pk):
        raise Forbidden(_("Seule l’équipe du site crée ses événements."))
    rooms = list(rooms)
    fields = {k: v for k, v in fields.items() if k in EVENT_FIELDS}
    _check_event(fields, rooms, site)
    with transaction.atomic():
        event = Event.objects.create(site=site, created_by=by, **fields)
        event.rooms.set(rooms)
        if rooms:
            _book_rooms(rooms, event.start, event.end, by=by, held_for=event.held_for)
        Question.objects.bulk_create(
            Question(event=event, position=i, **q) for i, q in enumerate(questions, 1)
        )
        audit(by, "events.created", event, rooms=[r.pk for r in rooms])
    return event


def update_event(event: Event, *, by, rooms=None, questions=None, **fields) -> Event:
    """Change an event; its rooms' bookings moved, released or made to match, all or nothing. Registrants
    are told when its time or place changes."""
    now = timezone.now()
    with transaction.atomic():
        current = _lock(event.pk)
        if not manages(by, current):
            raise Forbidden(_("Seule l’équipe du site modifie cet événement."))
        if current.status == Event.Status.CANCELLED:
            raise InvalidEvent(_("Cet événement est annulé : il ne se modifie plus."))
        before = {"start": current.start, "end": current.end, "address": current.outside_address}
        old_rooms = {r.pk: r for r in current.rooms.all()}
        for name, value in fields.items():
            if name in EVENT_FIELDS:
                setattr(current, name, value)
        new_rooms = list(old_rooms.values()) if rooms is None else list(rooms)
        _check_event({f: getattr(current, f) for f in EVENT_FIELDS}, new_rooms, current.site)
        if current.capacity < _held(current):
            raise InvalidEvent(
                _("%(held)s places sont déjà prises : la capacité ne peut descendre en dessous.")
                % {"held": _held(current)},
                field="capacity",
            )
        current.save()
        new_ids = {r.pk for r in new_rooms}
        moved = (current.start, current.end) != (before["start"], before["end"])
        for booking in room_bookings(current):
            if booking.resource_id not in new_ids:
                engine.cancel(booking, by=by, reason=_("Événement modifié"))
            elif moved:
                engine.move(booking, by=by, start=current.start, end=current.end)
        booked = {b.resource_id for b in room_bookings(current)}
        to_book = [r for r in new_rooms if r.pk not in booked]
        if to_book:
            _book_rooms(to_book, current.start, current.end, by=by, held_for=current.held_for)
        current.rooms.set(new_rooms)
        if questions is not None:
            current.questions.all().delete()
            Question.objects.bulk_create(
                Question(event=current, position=i, **q) for i, q in enumerate(questions, 1)
            )
        changed_place = set(old_rooms) != new_ids or before["address"] != current.outside_address
        audit(
            by,
            "events.updated",
            current,
            before={k: str(v) for k, v in before.items()},
            rooms=sorted(new_ids),
        )
        if current.status == Event.Status.PUBLISHED and (moved or changed_place):
            _notify_event(
                "changed",
                current.pk,
                previous_start=before["start"].isoformat(),
                previous_end=before["end"].isoformat(),
            )
        _promote(current, now)  # a capacity raised offers its new places
    return current


def publish(event: Event, *, by) -> Event:
    with transaction.atomic():
        current = _lock(event.pk)
        if not manages(by, current):
            raise Forbidden(_("Seule l’équipe du site publie cet événement."))
        if current.status != Event.Status.DRAFT:
            raise InvalidEvent(_("Seul un brouillon se publie."), code="not_draft")
        if current.end <= timezone.now():
            raise InvalidEvent(_("Cet événement est passé."), code="past")
        current.status = Event.Status.PUBLISHED
        current.save(update_fields=["status", "updated_at"])
        audit(by, "events.published", current)
    return current


def cancel_event(event: Event, *, by, reason: str) -> Event:
    """Cancel the event: its rooms released, every live registration cancelled (their paid places taken back
    or credited) and everyone told."""
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise InvalidEvent(
            _("Dites aux inscrits pourquoi l’événement est annulé."), code="reason_required", field="reason"
        )
    now = timezone.now()
    with transaction.atomic():
        current = _lock(event.pk)
        if not manages(by, current):
            raise Forbidden(_("Seule l’équipe du site annule cet événement."))
        if current.status == Event.Status.CANCELLED:
            raise InvalidEvent(_("Cet événement est déjà annulé."), code="already_cancelled")
        for booking in room_bookings(current):
            engine.cancel(booking, by=by, reason=reason)
        current.status = Event.Status.CANCELLED
        current.cancel_reason = reason
        current.save(update_fields=["status", "cancel_reason", "updated_at"])
        live = list(
            Registration.objects.select_for_update(of=("self",))
            .select_related("member")
            .filter(event=current, status__in=Registration.LIVE)
        )
        for registration in live:
            held = registration.holds_place
            registration.event = current
            registration.status = Status.CANCELLED
            registration.cancelled_at = now
            registration.save(update_fields=["status", "cancelled_at"])
            if held:
                _refund(registration, by=by, always=True, now=now)
            _notify("event_cancelled", registration.pk, reason=reason)
        audit(by, "events.event_cancelled", current, reason=reason, registrations=len(live))
    return current


# ---------------------------------------------------------------------------------------------------------
# The door's lists
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Door:
    expected: int
    arrived: int
    late: list[Registration]
    people: list[Registration]


def door(event: Event, *, query: str = "", now: datetime | None = None, limit: int = 200) -> Door:
    """Who is expected and who arrived (counts), the late-comers after the start, and the people found by
    name or e-mail (all confirmed ones without a search, arrivals last). Three queries."""
    now = now or timezone.now()
    confirmed = Registration.objects.filter(event_id=event.pk, status=Status.CONFIRMED)
    counts = confirmed.aggregate(
        expected=Count("pk"), arrived=Count("pk", filter=Q(checked_in_at__isnull=False))
    )
    people = confirmed.only("pk", "name", "email", "checked_in_at", "checkin_code", "status", "event_id")
    query = " ".join(query.replace("\x00", "").split())[:100]
    for word in query.split():
        people = people.filter(Q(name__icontains=word) | Q(email__icontains=word))
    people = list(people.order_by(F("checked_in_at").asc(nulls_first=True), "name", "pk")[:limit])
    late = []
    if event.start <= now:
        late = list(
            confirmed.filter(checked_in_at__isnull=True)
            .only("pk", "name", "email", "checkin_code", "event_id")
            .order_by("name", "pk")[:limit]
        )
    return Door(counts["expected"], counts["arrived"], late, people)
