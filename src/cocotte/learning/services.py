"""Trainings' changes of state: sittings (their rooms held through the booking engine), applications and their
decisions, the waiting list, the training contract, withdrawals and cancelled sessions.

Locking protocol (why a session's capacity is never exceeded and a freed place is offered once):
- every change that takes or frees a place runs in one transaction that first locks the **session row**
  (`SELECT … FOR UPDATE`; two sessions — a move — in the order of their ids). Everything that decides is then
  read under that lock: the places held (`Enrolment.HOLDING`), the waiting list, the enrolment's own status.
  On SQLite, transactions begin IMMEDIATE (settings): one writer at a time, same effect.
- a place freed under the lock is offered at once, in the same transaction, to the oldest on the waiting list
  (`_fill_places`): as many offers as free places, never more, whichever change freed them.
- the database backs the rest up: one live enrolment per person and session (a unique constraint).

A refusal raises a `LearningError` (a `cocotte.core.errors` kind, with a stable code) and the transaction rolls
back: nothing is half-written. E-mails are sent after commit (`_after_commit`): nothing for a rolled-back change.
"""

import contextlib
import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cocotte.accounts import permissions
from cocotte.accounts.models import Organisation, Role
from cocotte.billing import ledger
from cocotte.billing.models import Bill, Charge, RevenueType
from cocotte.bookings import services as engine
from cocotte.bookings.errors import BookingError
from cocotte.bookings.rules import System
from cocotte.core import errors, tasking
from cocotte.core.models import audit
from cocotte.core.timeutils import is_aware, local_date, zone

from . import access, halfdays, payments
from .models import Enrolment, Installment, Mark, Programme, Session, Sheet, Sitting

logger = logging.getLogger(__name__)

Status = Enrolment.Status
Funding = Enrolment.Funding
ENROLMENT_SOURCE = "learning.enrolment"


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


class LearningError(errors.DomainError):
    """A refusal of trainings' services: nothing was written."""


class Invalid(LearningError, errors.Invalid):
    pass


class Conflict(LearningError, errors.Conflict):
    pass


class Forbidden(LearningError, errors.Forbidden):
    pass


class NotFound(LearningError, errors.NotFound):
    pass


# ---------------------------------------------------------------------------------------------------------
# Small pieces
# ---------------------------------------------------------------------------------------------------------


def _locked_session(session: Session | int) -> Session:
    pk = session if isinstance(session, int) else session.pk
    try:
        # `of=("self",)`: only the session's row (ordering and select_related would lock the programme too).
        return Session.objects.select_for_update(of=("self",)).select_related("programme", "site").get(pk=pk)
    except Session.DoesNotExist:
        raise NotFound(_("Session introuvable.")) from None


def _locked_enrolment(enrolment: Enrolment) -> Enrolment:
    return (
        Enrolment.objects.select_for_update(of=("self",))
        .select_related("trainee", "session__programme", "session__site", "payer")
        .get(pk=enrolment.pk)
    )


def _check_staff(by, session) -> None:
    if not access.manages(by, session):
        raise Forbidden(_("Seule l’équipe du site gère cette session."))


_quiet = threading.local()


@contextlib.contextmanager
def muted():
    """No e-mail for the changes made inside (the demo's invented people)."""
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = False


def _after_commit(func, *args) -> None:
    """Have the task worker send the e-mail `func(*args)` once the change commits: nothing for a rolled-back
    change, and a slow mail server slows no page."""
    if getattr(_quiet, "on", False):
        return
    from . import emails

    tasking.enqueue_with(Enrolment, emails.send_later, func.__name__, emails.as_task_arguments(args))


def _notify(kind: str, enrolment_pk: int, **extra) -> None:
    from . import emails

    _after_commit(emails.send_enrolment_mail, kind, enrolment_pk, extra)


def held(session: Session) -> int:
    """Places held in the session (offered or accepted): read under the session's lock by the services."""
    return Enrolment.objects.filter(session=session, status__in=Enrolment.HOLDING).count()


def places_left(session: Session) -> int:
    return max(0, session.capacity - held(session))


def _refresh_dates(session: Session) -> None:
    bounds = Sitting.objects.filter(session=session).aggregate(first=Min("start"), last=Max("end"))
    session.starts_at, session.ends_at = bounds["first"], bounds["last"]
    Session.objects.filter(pk=session.pk).update(starts_at=session.starts_at, ends_at=session.ends_at)


def _check_times(start: datetime, end: datetime) -> None:
    if start is None or end is None or not is_aware(start) or not is_aware(end):
        raise Invalid(_("Précisez le début et la fin de la séance."), code="invalid_period")
    if end <= start:
        raise Invalid(_("La fin de la séance doit suivre son début."), code="invalid_period", field="end")


def _check_session_live(session: Session) -> None:
    if session.status in (Session.Status.CANCELLED, Session.Status.COMPLETED):
        raise Invalid(_("Cette session est annulée ou terminée."), code="session_closed")


def _check_trainer(trainer, session: Session) -> None:
    if trainer is None or not access.may_teach_at(trainer, session.site_id):
        raise Invalid(
            _("Cette personne n’est pas formatrice sur ce site : l’équipe doit d’abord lui donner ce rôle."),
            code="not_a_trainer",
            field="trainer",
        )


def _check_place(session: Session, room, outside_address: str) -> None:
    if room is None and not outside_address.strip():
        raise Invalid(
            _("Choisissez une salle ou indiquez une adresse extérieure."), code="no_place", field="room"
        )
    if room is not None and room.site_id != session.site_id:
        raise Invalid(_("La salle doit être sur le site de la session."), code="room_elsewhere", field="room")


def _hold_note(session: Session) -> str:
    return _("Formation : %(title)s — %(label)s") % {"title": session.programme.title, "label": session.label}


def _sheets_signed(sitting: Sitting) -> bool:
    return (
        Sheet.objects.filter(sitting=sitting)
        .filter(
            Q(locked_at__isnull=False)
            | Q(trainer_signed_at__isnull=False)
            | Q(pk__in=Mark.objects.exclude(state=Mark.State.EXPECTED).values("sheet_id"))
        )
        .exists()
    )


# ---------------------------------------------------------------------------------------------------------
# Sittings
# ---------------------------------------------------------------------------------------------------------


def add_sitting(
    session: Session,
    *,
    by,
    start: datetime,
    end: datetime,
    trainer,
    room=None,
    outside_address: str = "",
    module=None,
) -> Sitting:
    """A sitting of the session, its room booked through the engine, its attendance sheets planned: all or
    nothing (a room taken leaves no sitting, no sheet and no booking)."""
    _check_staff(by, session)
    _check_times(start, end)
    _check_place(session, room, outside_address)
    if module is not None and module.programme_id != session.programme_id:
        raise Invalid(_("Ce module n’appartient pas au programme."), code="module_elsewhere", field="module")
    with transaction.atomic():
        current = _locked_session(session)
        _check_session_live(current)
        _check_trainer(trainer, current)
        sitting = Sitting.objects.create(
            session=current,
            module=module,
            start=start,
            end=end,
            trainer=trainer,
            room=room,
            outside_address=outside_address.strip(),
        )
        if room is not None:
            with _about_room(room):
                sitting.booking = engine.book(
                    resource=room,
                    member=trainer,
                    by=by,
                    start=start,
                    end=end,
                    note=_hold_note(current),
                    held_for=f"learning.sitting:{sitting.pk}",
                )
            sitting.save(update_fields=["booking"])
        halfdays.plan_sheets(sitting)
        _refresh_dates(current)
        audit(by, "learning.sitting_added", sitting, start=start, end=end, room=getattr(room, "pk", None))
    session.starts_at, session.ends_at = current.starts_at, current.ends_at
    return sitting


@contextlib.contextmanager
def _about_room(room):
    """The engine's refusal of a sitting's room, said with the room's name and pointed at the room's field
    (« this slot is taken » alone does not say what is taken)."""
    try:
        yield
    except BookingError as error:
        raise type(error)(
            _("%(room)s : %(reason)s") % {"room": room.name, "reason": error.message},
            code=error.code,
            field="room",
            details=error.details,
        ) from error


_KEEP = object()


def _signed(sitting: Sitting) -> bool:
    """Whether any of the sitting's sheets holds a signature, a decided mark or a lock."""
    sheets = Sheet.objects.filter(sitting=sitting)
    return (
        sheets.filter(Q(locked_at__isnull=False) | Q(trainer_signed_at__isnull=False)).exists()
        or Mark.objects.filter(sheet__in=sheets).exclude(state=Mark.State.EXPECTED).exists()
    )


def move_sitting(
    sitting: Sitting,
    *,
    by,
    start: datetime | None = None,
    end: datetime | None = None,
    trainer=None,
    room=_KEEP,
    outside_address: str | None = None,
    module=_KEEP,
) -> Sitting:
    """Change a sitting's times, trainer, room or address; its room's booking follows through the engine
    (moved, taken, or released), and its sheets follow its times (refused once signed)."""
    session = sitting.session
    _check_staff(by, session)
    with transaction.atomic():
        current_session = _locked_session(session)
        _check_session_live(current_session)
        current = Sitting.objects.select_for_update(of=("self",)).select_related("booking").get(pk=sitting.pk)
        new_start = start or current.start
        new_end = end or current.end
        new_room = current.room if room is _KEEP else room
        new_address = current.outside_address if outside_address is None else outside_address.strip()
        new_trainer = trainer or current.trainer
        _check_times(new_start, new_end)
        _check_place(current_session, new_room, new_address)
        if trainer is not None:
            _check_trainer(new_trainer, current_session)
            if new_trainer.pk != current.trainer_id and _signed(current):
                # The sheets name their trainer and their seal covers it: a signed sitting keeps it.
                raise halfdays.SittingSigned(
                    _("Cette séance a déjà été émargée : son formateur ne peut plus changer.")
                )
        if module is not _KEEP and getattr(module, "pk", None) != current.module_id and _signed(current):
            raise halfdays.SittingSigned(
                _("Cette séance a déjà été émargée : son module ne peut plus changer.")
            )
        before = {"start": current.start.isoformat(), "end": current.end.isoformat(), "room": current.room_id}
        old_times = (current.start, current.end)
        booking = current.booking
        if booking is not None and booking.status not in booking.LIVE:
            booking = None
        if new_room is None:
            if booking is not None:
                engine.cancel(booking, by=by, reason=_("Séance de formation déplacée hors du site."))
            current.booking = None
        elif booking is None:
            with _about_room(new_room):
                current.booking = engine.book(
                    resource=new_room,
                    member=new_trainer,
                    by=by,
                    start=new_start,
                    end=new_end,
                    note=_hold_note(current_session),
                    held_for=f"learning.sitting:{current.pk}",
                )
        elif (booking.resource_id, booking.start, booking.end) != (new_room.pk, new_start, new_end):
            with _about_room(new_room):
                current.booking = engine.move(booking, by=by, start=new_start, end=new_end, resource=new_room)
        current.start, current.end = new_start, new_end
        current.room, current.outside_address, current.trainer = new_room, new_address, new_trainer
        if module is not _KEEP:
            if module is not None and module.programme_id != current_session.programme_id:
                raise Invalid(_("Ce module n’appartient pas au programme."), code="module_elsewhere")
            current.module = module
        current.save()
        current.session = current_session
        halfdays.plan_sheets(current)
        _refresh_dates(current_session)
        audit(by, "learning.sitting_moved", current, before=before, start=new_start, end=new_end)
        if old_times != (new_start, new_end) or before["room"] != current.room_id:
            from . import emails

            _after_commit(
                emails.send_sittings_changed,
                current_session.pk,
                "moved",
                old_times,
                (new_start, new_end),
            )
    return current


def remove_sitting(sitting: Sitting, *, by) -> None:
    """Delete a sitting nobody signed for, and release its room."""
    session = sitting.session
    _check_staff(by, session)
    with transaction.atomic():
        current_session = _locked_session(session)
        current = Sitting.objects.select_for_update(of=("self",)).select_related("booking").get(pk=sitting.pk)
        if _sheets_signed(current):
            raise halfdays.SittingSigned(
                _("Cette séance a déjà été émargée : elle ne peut plus être supprimée.")
            )
        if current.booking is not None and current.booking.status in current.booking.LIVE:
            engine.cancel(current.booking, by=by, reason=_("Séance de formation supprimée."))
        Mark.objects.filter(sheet__sitting=current).delete()
        Sheet.objects.filter(sitting=current).delete()
        audit(by, "learning.sitting_removed", current, start=current.start.isoformat())
        removed = (current.pk, current.start, current.end)
        current.delete()
        _refresh_dates(current_session)
        from . import emails

        _after_commit(
            emails.send_sittings_changed, current_session.pk, "removed", removed[1:], None, removed[0]
        )


# ---------------------------------------------------------------------------------------------------------
# The session: its settings and its cancellation
# ---------------------------------------------------------------------------------------------------------


def update_session(session: Session, *, by, **fields) -> Session:
    """Change a session's label, status (planned ↔ open), capacity or enrolment dates. A raised capacity
    offers the new places to the waiting list; a capacity below the places held is refused."""
    _check_staff(by, session)
    allowed = {"label", "status", "capacity", "enrolment_opens", "enrolment_closes"}
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid(_("Champ inconnu : %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    with transaction.atomic():
        current = _locked_session(session)
        _check_session_live(current)
        if fields.get("status") not in (None, Session.Status.PLANNED, Session.Status.OPEN):
            raise Invalid(_("Une session s’annule avec son motif, depuis sa page."), code="invalid_status")
        capacity = fields.get("capacity", current.capacity)
        if capacity is None or capacity < 1:
            raise Invalid(_("Une session a au moins une place."), code="invalid_capacity", field="capacity")
        if capacity < held(current):
            raise Conflict(
                _(
                    "%(held)s places sont déjà prises ou proposées : la capacité ne peut pas descendre en dessous."
                )
                % {"held": held(current)},
                code="capacity_below_held",
                field="capacity",
            )
        for name, value in fields.items():
            setattr(current, name, value)
        if current.enrolment_opens and current.enrolment_closes <= current.enrolment_opens:
            raise Invalid(
                _("La clôture des candidatures doit suivre leur ouverture."), field="enrolment_closes"
            )
        current.save()
        audit(by, "learning.session_updated", current, **{k: str(v) for k, v in fields.items()})
        _fill_places(current)
    return current


def promote_waiting(session: Session) -> list[Enrolment]:
    """Offer the session's free places to its waiting list (after a change made outside the services: the
    admin's form)."""
    with transaction.atomic():
        return _fill_places(_locked_session(session))


class StillFilled(LearningError):
    code = "minimum_reached"


def cancel_session(session: Session, *, by, reason: str, only_if_underfilled: bool = False) -> Session:
    """Cancel a session (staff, or the scheduler for an under-filled one: `by` a `System`): its rooms released
    through the engine, its live enrolments cancelled, what was to be paid withdrawn or credited, everyone told."""
    if not isinstance(by, System):
        _check_staff(by, session)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Indiquez le motif de l’annulation : il est dit aux stagiaires."), field="reason")
    refunds: list[int] = []
    with transaction.atomic():
        current = _locked_session(session)
        _check_session_live(current)
        now = timezone.now()
        if only_if_underfilled and (
            Enrolment.objects.filter(session=current, status=Status.ACCEPTED).count()
            >= current.programme.min_trainees
        ):
            # Counted again under the lock: an acceptance committed since the job's look keeps it going.
            raise StillFilled(_("La session a atteint son minimum : elle est maintenue."))
        current.status = Session.Status.CANCELLED
        current.cancelled_at = now
        current.cancel_reason = reason
        current.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        for sitting in Sitting.objects.filter(session=current).select_related("booking__resource__site"):
            booking = sitting.booking
            # Rooms ahead go back to others; a sitting already held stays in the room's history.
            if booking is not None and booking.status in booking.LIVE and booking.end > now:
                # The scheduler acts for the team member who booked the room (the engine names a person).
                actor = by.decided_by if isinstance(by, System) else by
                actor = actor or booking.booked_by or sitting.trainer
                engine.cancel(booking, by=System(decided_by=actor, reason=reason), reason=reason)
        live = list(
            Enrolment.objects.select_for_update(of=("self",)).filter(
                session=current, status__in=Enrolment.LIVE
            )
        )
        for enrolment in live:
            enrolment.status = Status.CANCELLED
            enrolment.reason = reason
            enrolment.offer_expires_at = None
            enrolment.save(update_fields=["status", "reason", "offer_expires_at"])
            if _release_money(enrolment, everything=True, by=by):
                refunds.append(enrolment.pk)
        audit(
            by if not isinstance(by, System) else by.decided_by,
            "learning.session_cancelled",
            current,
            reason=reason,
            enrolments=[e.pk for e in live],
        )
        from . import emails

        for enrolment in live:
            _notify("session_cancelled", enrolment.pk, refund=enrolment.pk in refunds)
        _after_commit(emails.send_session_cancelled_to_staff, current.pk)
    return current


def _release_money(enrolment: Enrolment, *, everything: bool, by=None) -> bool:
    """Withdraw what the enrolment was to pay: installments not handed over (all of them, or only those not
    due yet), and lines handed over but not billed yet. A line billed already is credited: a draft credit note
    for an invoice, or a note for staff where the bill is a statement. Whether something billed needs a refund."""
    now = timezone.now()
    today = timezone.localdate()
    pending = Installment.objects.filter(
        enrolment=enrolment, handed_over_at__isnull=True, withdrawn_at__isnull=True
    )
    if not everything:
        pending = pending.filter(due_on__gt=today)
    pending.update(withdrawn_at=now)
    billed = False
    sources = []
    if everything:
        sources += [
            (payments.SOURCE, pk)
            for pk in Installment.objects.filter(
                enrolment=enrolment, handed_over_at__isnull=False, withdrawn_at__isnull=True
            ).values_list("pk", flat=True)
        ]
        sources.append((ENROLMENT_SOURCE, enrolment.pk))
    for source, source_id in sources:
        if ledger.withdraw(source, source_id):
            if source == payments.SOURCE:
                Installment.objects.filter(pk=source_id).update(withdrawn_at=now)
            continue
        charge = Charge.objects.filter(source=source, source_id=source_id).select_related("bill").first()
        if charge is None:
            continue
        billed = True
        _credit(charge, enrolment, by=by)
    return billed


def _credit(charge: Charge, enrolment: Enrolment, *, by) -> None:
    from cocotte.billing import issuing

    actor = by.decided_by if isinstance(by, System) else by
    bill = charge.bill
    if bill is not None and bill.kind == Bill.Kind.INVOICE and bill.is_issued:
        lines = list(bill.lines.filter(charge=charge))
        try:
            with transaction.atomic():
                credit = issuing.credit_note_for(
                    bill,
                    by=actor,
                    lines=lines or None,
                    note=_("Avoir : formation annulée (%(session)s).") % {"session": enrolment.session},
                )
            audit(actor, "learning.credit_note_drafted", enrolment, bill=bill.pk, credit_note=credit.pk)
            return
        except errors.DomainError:
            logger.warning("No credit note for bill %s (enrolment %s).", bill.pk, enrolment.pk)
    # A statement of a public-mode operator (or a bill that cannot be credited here): the team refunds it.
    audit(actor, "learning.refund_to_make", enrolment, charge=charge.pk, amount=str(charge.amount_excl_vat))


def money_to_return(session: Session) -> list[dict]:
    """What a cancelled session leaves the team to refund or credit: draft credit notes to issue, and lines of
    statements (public mode) to refund by hand. One query for each kind."""
    from django.contrib.contenttypes.models import ContentType

    from cocotte.core.models import AuditEntry

    ids = {e.pk: e for e in session.enrolments.select_related("trainee")}
    if not ids:
        return []
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Enrolment),
        object_id__in=list(ids),
        action__in=["learning.credit_note_drafted", "learning.refund_to_make"],
    ).order_by("at", "pk")
    return [
        {
            "enrolment": ids[entry.object_id],
            "credit_note": entry.data.get("credit_note"),
            "amount": entry.data.get("amount"),
            "kind": "credit_note" if entry.action == "learning.credit_note_drafted" else "refund",
        }
        for entry in entries
    ]


def cancel_underfilled(now: datetime | None = None) -> list[int]:
    """The hourly job: cancel every open session whose first sitting is nearer than its programme's decision
    deadline with fewer accepted trainees than its minimum. Returns the cancelled sessions' ids."""
    now = now or timezone.now()
    candidates = (
        Session.objects.filter(status=Session.Status.OPEN, starts_at__gt=now)
        .select_related("programme")
        .annotate(accepted=Count("enrolments", filter=Q(enrolments__status=Status.ACCEPTED)))
    )
    cancelled = []
    for session in candidates:
        programme = session.programme
        if session.starts_at - now >= timedelta(days=programme.cancel_days_before):
            continue
        if session.accepted >= programme.min_trainees:
            continue
        reason = _(
            "Moins de %(min)s stagiaires inscrits %(days)s jours avant la première séance : la session n’est pas "
            "maintenue."
        ) % {"min": programme.min_trainees, "days": programme.cancel_days_before}
        try:
            cancel_session(
                session,
                by=System(decided_by=None, reason="under-filled"),
                reason=reason,
                only_if_underfilled=True,
            )
            cancelled.append(session.pk)
        except LearningError:
            continue  # cancelled meanwhile, or filled since the look
    return cancelled


# ---------------------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Application:
    project: str
    expectations: str = ""
    prerequisites_met: bool = False
    needs_adaptation: str = ""
    funding: str = Funding.SELF
    payer: Organisation | None = None


def managed_organisations(user) -> list[Organisation]:
    ids = permissions.scope_ids(user, [Role.Name.ORGANISATION_MANAGER], "accounts")
    return list(Organisation.objects.filter(pk__in=ids).order_by("name")) if ids else []


def enrolment_open(session: Session, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        session.status == Session.Status.OPEN
        and session.programme.published
        and (session.enrolment_opens is None or session.enrolment_opens <= now)
        and now < session.enrolment_closes
        and (session.starts_at is None or session.starts_at > now)
    )


def _check_open(session: Session, now: datetime) -> None:
    if session.status == Session.Status.CANCELLED:
        raise Invalid(_("Cette session est annulée."), code="cancelled")
    if session.starts_at is not None and session.starts_at <= now:
        raise Invalid(
            _("Cette session a déjà commencé : il n’est plus possible de s’y inscrire."), code="past"
        )
    if not enrolment_open(session, now):
        raise Invalid(_("Les candidatures ne sont pas ouvertes pour cette session."), code="closed")


def apply(session: Session, *, trainee, application: Application) -> Enrolment:
    """A member applies to a session. Staff decide; a session already full puts the person on its waiting
    list straight away (oldest first), where staff may still refuse them."""
    if not permissions.is_member(trainee):
        raise Forbidden(_("Connectez-vous pour candidater."), code="unauthenticated")
    project = (application.project or "").strip()
    if not project:
        raise Invalid(_("Décrivez votre projet en quelques lignes."), code="project_missing", field="project")
    if not application.prerequisites_met:
        raise Invalid(
            _("Confirmez que vous remplissez les prérequis de la formation."),
            code="prerequisites_not_met",
            field="prerequisites_met",
        )
    if application.funding not in Funding.values:
        raise Invalid(_("Financement inconnu."), code="invalid_funding", field="funding")
    free_programme = session.programme.price_excl_vat <= 0
    if application.funding == Funding.FREE and not free_programme:
        raise Invalid(
            _("Cette formation est payante : choisissez qui la finance."),
            code="invalid_funding",
            field="funding",
        )
    payer = application.payer
    if payer is not None:
        if application.funding != Funding.EMPLOYER:
            raise Invalid(
                _("Une organisation ne paie que pour un financement par l’employeur ou l’organisation."),
                field="payer",
            )
        if payer.pk not in {o.pk for o in managed_organisations(trainee)}:
            raise Forbidden(_("Vous ne gérez pas cette organisation."), field="payer")
    now = timezone.now()
    with transaction.atomic():
        current = _locked_session(session)
        _check_open(current, now)
        if Enrolment.objects.filter(session=current, trainee=trainee, status__in=Enrolment.LIVE).exists():
            raise Conflict(_("Vous avez déjà candidaté à cette session."), code="already_enrolled")
        waiting = places_left(current) == 0 or _queue(current).exists()
        try:
            with transaction.atomic():
                enrolment = Enrolment.objects.create(
                    session=current,
                    trainee=trainee,
                    status=Status.WAITLISTED if waiting else Status.APPLIED,
                    waitlisted_at=now if waiting else None,
                    funding=Funding.FREE if free_programme else application.funding,
                    payer=None if free_programme else payer,
                    project=project,
                    expectations=(application.expectations or "").strip(),
                    prerequisites_met=True,
                    needs_adaptation=(application.needs_adaptation or "").strip(),
                )
        except IntegrityError:
            raise Conflict(_("Vous avez déjà candidaté à cette session."), code="already_enrolled") from None
        audit(trainee, "learning.applied", enrolment, session=current.pk, status=enrolment.status)
        from . import emails

        _notify("waitlisted" if waiting else "application_received", enrolment.pk)
        _after_commit(emails.send_application_to_staff, enrolment.pk)
    return enrolment


def _queue(session: Session):
    return Enrolment.objects.filter(session=session, status=Status.WAITLISTED).order_by("waitlisted_at", "pk")


def _fill_places(session: Session) -> list[Enrolment]:
    """Offer the free places of a session (locked by the caller) to the oldest on its waiting list: one offer
    per free place. Nothing is offered for a session closed, cancelled or already begun."""
    now = timezone.now()
    if session.status != Session.Status.OPEN or (session.starts_at is not None and session.starts_at <= now):
        return []
    free = session.capacity - held(session)
    if free <= 0:
        return []
    offered = list(_queue(session).select_for_update(of=("self",))[:free])
    expires = now + timedelta(hours=session.programme.offer_hours)
    if session.starts_at is not None:
        expires = min(expires, session.starts_at)
    for enrolment in offered:
        enrolment.status = Status.OFFERED
        enrolment.offer_expires_at = expires
        enrolment.save(update_fields=["status", "offer_expires_at"])
        audit(None, "learning.place_offered", enrolment, expires=expires.isoformat())
        _notify("place_offered", enrolment.pk)
    return offered


def _decide(enrolment: Enrolment, *, by, allowed: tuple) -> tuple[Session, Enrolment]:
    _check_staff(by, enrolment.session)
    current_session = _locked_session(enrolment.session_id)
    current = _locked_enrolment(enrolment)
    if current.status not in allowed:
        raise Conflict(
            _("Cette candidature a déjà été traitée (%(status)s).")
            % {"status": current.get_status_display()},
            code="already_decided",
        )
    return current_session, current


def _hand_over_employer(enrolment: Enrolment, session: Session) -> None:
    """One line to the payer organisation for an employer-funded place, once it is accepted."""
    if enrolment.funding != Funding.EMPLOYER or enrolment.payer_id is None:
        return
    price = session.programme.price_excl_vat
    operator = payments.operator_for(session.site_id)
    if operator is None or price <= 0:
        return
    tz = zone(session.site.timezone)
    ledger.hand_over(
        operator,
        enrolment.payer,
        source=ENROLMENT_SOURCE,
        source_id=enrolment.pk,
        revenue_type=RevenueType.TRAINING,
        label=_("Formation %(programme)s — %(session)s : %(trainee)s")
        % {
            "programme": session.programme.title,
            "session": session.label,
            "trainee": enrolment.trainee.get_full_name() or enrolment.trainee.email,
        },
        service_date=local_date(session.starts_at, tz) if session.starts_at else timezone.localdate(),
        quantity=1,
        unit="forfait",
        unit_price_excl_vat=price,
        vat_rate=session.programme.vat_rate,
    )


def _take_place(enrolment: Enrolment, session: Session, *, by) -> None:
    enrolment.status = Status.ACCEPTED
    enrolment.offer_expires_at = None
    if by is not None:
        enrolment.decided_by, enrolment.decided_at = by, timezone.now()
    enrolment.save(update_fields=["status", "offer_expires_at", "decided_by", "decided_at"])
    _hand_over_employer(enrolment, session)


def accept(enrolment: Enrolment, *, by) -> Enrolment:
    """Staff accept an application: a place if one is free, else the waiting list (oldest first)."""
    with transaction.atomic():
        session, current = _decide(enrolment, by=by, allowed=(Status.APPLIED,))
        _check_session_live(session)
        if places_left(session) > 0 and not _queue(session).exists():
            _take_place(current, session, by=by)
            kind = "accepted"
        else:
            current.status = Status.WAITLISTED
            current.waitlisted_at = timezone.now()
            current.decided_by, current.decided_at = by, timezone.now()
            current.save(update_fields=["status", "waitlisted_at", "decided_by", "decided_at"])
            kind = "waitlisted"
        audit(by, "learning.accepted", current, status=current.status)
        _notify(kind, current.pk)
    return current


def refuse(enrolment: Enrolment, *, by, reason: str) -> Enrolment:
    """Staff refuse an application, a person on the waiting list or one offered a place, with a reason told
    to the person. An offered place goes to the next on the list."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Indiquez le motif du refus : il est dit à la personne."), field="reason")
    with transaction.atomic():
        session, current = _decide(
            enrolment, by=by, allowed=(Status.APPLIED, Status.WAITLISTED, Status.OFFERED)
        )
        current.status = Status.REFUSED
        current.reason = reason
        current.offer_expires_at = None
        current.decided_by, current.decided_at = by, timezone.now()
        current.save(update_fields=["status", "reason", "offer_expires_at", "decided_by", "decided_at"])
        audit(by, "learning.refused", current, reason=reason)
        _notify("refused", current.pk)
        _fill_places(session)
    return current


def move(enrolment: Enrolment, *, by, to: Session) -> Enrolment:
    """Staff move a person to another session of the same programme: a new enrolment there (a place if one is
    free, else its waiting list), the old one marked moved; its place, if it held one, goes to the next."""
    _check_staff(by, enrolment.session)
    _check_staff(by, to)
    if to.pk == enrolment.session_id:
        raise Invalid(_("Choisissez une autre session."), code="same_session", field="session")
    if to.programme_id != enrolment.session.programme_id:
        raise Invalid(
            _("Une personne ne peut être transférée que vers une session du même programme."), field="session"
        )
    now = timezone.now()
    with transaction.atomic():
        first, second = sorted([enrolment.session_id, to.pk])
        locked = {first: _locked_session(first), second: _locked_session(second)}
        source, target = locked[enrolment.session_id], locked[to.pk]
        current = _locked_enrolment(enrolment)
        if current.status not in Enrolment.LIVE:
            raise Conflict(_("Cette inscription n’est plus active."), code="already_decided")
        _check_session_live(target)
        if target.starts_at is not None and target.starts_at <= now:
            raise Invalid(_("Cette session a déjà commencé."), code="past", field="session")
        if Enrolment.objects.filter(
            session=target, trainee=current.trainee, status__in=Enrolment.LIVE
        ).exists():
            raise Conflict(_("Cette personne est déjà inscrite à l’autre session."), code="already_enrolled")
        was_holding = current.status in Enrolment.HOLDING
        _release_money(current, everything=True, by=by)
        current.status = Status.MOVED
        current.offer_expires_at = None
        current.decided_by, current.decided_at = by, now
        current.save(update_fields=["status", "offer_expires_at", "decided_by", "decided_at"])
        moved = Enrolment.objects.create(
            session=target,
            trainee=current.trainee,
            funding=current.funding,
            payer=current.payer,
            project=current.project,
            expectations=current.expectations,
            prerequisites_met=current.prerequisites_met,
            needs_adaptation=current.needs_adaptation,
            status=Status.WAITLISTED,
            waitlisted_at=now,
        )
        Enrolment.objects.filter(pk=current.pk).update(moved_to=moved)
        if places_left(target) > 0 and not _queue(target).exclude(pk=moved.pk).exists():
            _take_place(moved, target, by=by)
        audit(by, "learning.moved", current, to=moved.pk, status=moved.status)
        _notify("moved", moved.pk)
        if was_holding:
            _fill_places(source)
    return moved


# ---------------------------------------------------------------------------------------------------------
# The trainee's own actions
# ---------------------------------------------------------------------------------------------------------


def _check_trainee(by, enrolment: Enrolment) -> None:
    if not access.is_trainee(by, enrolment):
        raise Forbidden(_("Seule la personne inscrite peut le faire."))


def confirm_offer(enrolment: Enrolment, *, by) -> Enrolment:
    """The person offered a freed place takes it, before its deadline."""
    _check_trainee(by, enrolment)
    with transaction.atomic():
        session = _locked_session(enrolment.session_id)
        current = _locked_enrolment(enrolment)
        if current.status != Status.OFFERED:
            raise Conflict(_("Aucune place ne vous est proposée pour cette session."), code="no_offer")
        if current.offer_expires_at is not None and current.offer_expires_at <= timezone.now():
            raise Conflict(_("Le délai pour confirmer cette place est dépassé."), code="offer_expired")
        _take_place(current, session, by=None)
        audit(by, "learning.offer_confirmed", current)
        _notify("accepted", current.pk)
    return current


def decline_offer(enrolment: Enrolment, *, by) -> Enrolment:
    _check_trainee(by, enrolment)
    with transaction.atomic():
        session = _locked_session(enrolment.session_id)
        current = _locked_enrolment(enrolment)
        if current.status != Status.OFFERED:
            raise Conflict(_("Aucune place ne vous est proposée pour cette session."), code="no_offer")
        current.status = Status.WITHDRAWN
        current.offer_expires_at = None
        current.reason = _("Place proposée déclinée.")
        current.save(update_fields=["status", "offer_expires_at", "reason"])
        audit(by, "learning.offer_declined", current)
        _fill_places(session)
    return current


def expire_offers(now: datetime | None = None) -> int:
    """The 15-minute job: offers past their deadline lapse (the person is told) and go to the next in line."""
    now = now or timezone.now()
    session_ids = set(
        Enrolment.objects.filter(status=Status.OFFERED, offer_expires_at__lte=now).values_list(
            "session_id", flat=True
        )
    )
    expired = 0
    for session_id in sorted(session_ids):
        with transaction.atomic():
            session = _locked_session(session_id)
            lapsed = list(
                Enrolment.objects.select_for_update(of=("self",)).filter(
                    session=session, status=Status.OFFERED, offer_expires_at__lte=now
                )
            )
            for enrolment in lapsed:
                enrolment.status = Status.WITHDRAWN
                enrolment.reason = _("Place proposée non confirmée dans le délai.")
                enrolment.save(update_fields=["status", "reason"])
                audit(None, "learning.offer_expired", enrolment)
                _notify("offer_expired", enrolment.pk)
            expired += len(lapsed)
            _fill_places(session)
    return expired


def withdraw(enrolment: Enrolment, *, by) -> Enrolment:
    """The person withdraws (or staff withdraw them). Within the contract's withdrawal period it costs nothing:
    every installment is withdrawn; after it, the installments not yet due are. A held place goes to the next."""
    if not (access.is_trainee(by, enrolment) or access.manages(by, enrolment.session)):
        raise Forbidden(_("Seule la personne inscrite ou l’équipe du site peut le faire."))
    with transaction.atomic():
        session = _locked_session(enrolment.session_id)
        current = _locked_enrolment(enrolment)
        if current.status not in Enrolment.LIVE:
            raise Conflict(_("Cette inscription n’est plus active."), code="not_live")
        now = timezone.now()
        if session.ends_at is not None and session.ends_at <= now:
            raise Invalid(_("Cette session est terminée."), code="past")
        in_period = current.contract_signed_at is None or now < current.withdrawal_ends_at
        _release_money(current, everything=in_period or (session.starts_at or now) > now, by=by)
        current.status = Status.WITHDRAWN
        current.offer_expires_at = None
        current.save(update_fields=["status", "offer_expires_at"])
        audit(by, "learning.withdrawn", current, within_withdrawal_period=in_period)
        _fill_places(session)
    return current


# ---------------------------------------------------------------------------------------------------------
# The training contract (self-funded trainees, L6353-3 to L6353-7)
# ---------------------------------------------------------------------------------------------------------


def needs_contract(enrolment: Enrolment) -> bool:
    return (
        enrolment.funding == Funding.SELF
        and enrolment.status == Status.ACCEPTED
        and enrolment.contract_signed_at is None
        and enrolment.session.programme.price_excl_vat > 0
    )


def contract_text(enrolment: Enrolment) -> str:
    """The contract as the trainee reads and signs it, in French (the language of the contract)."""
    session = enrolment.session
    tz = zone(session.site.timezone)
    sittings = list(session.sittings.order_by("start"))
    today = timezone.localdate(timezone=tz)
    parts = payments.schedule(
        session.programme.price_excl_vat,
        signed_on=today,
        first_day=local_date(session.starts_at, tz) if session.starts_at else today,
        last_day=local_date(session.ends_at, tz) if session.ends_at else today,
    )
    with translation.override("fr"), timezone.override(tz):
        return render_to_string(
            "learning/contract.txt",
            {
                "enrolment": enrolment,
                "session": session,
                "programme": session.programme,
                "sittings": sittings,
                "parts": parts,
                "withdrawal_days": 10,
            },
        ).strip()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sign_contract(enrolment: Enrolment, *, by, name: str, agreed: bool, shown_hash: str = "") -> Enrolment:
    """The trainee signs their contract: typed name and consent, timestamped, the hash of the text kept; the
    payment schedule is written (nothing due within the withdrawal period)."""
    _check_trainee(by, enrolment)
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Saisissez vos nom et prénom pour signer."), code="name_missing", field="name")
    if not agreed:
        raise Invalid(_("Cochez la case pour accepter le contrat."), code="not_agreed", field="agreed")
    with transaction.atomic():
        _locked_session(enrolment.session_id)
        current = _locked_enrolment(enrolment)
        if current.contract_signed_at is not None:
            raise Conflict(_("Ce contrat est déjà signé."), code="already_signed")
        if not needs_contract(current):
            raise Invalid(_("Cette inscription n’a pas de contrat à signer."), code="no_contract")
        text = contract_text(current)
        digest = text_hash(text)
        if shown_hash and shown_hash != digest:
            raise Conflict(
                _("Le contrat a changé pendant votre lecture (dates ou prix) : relisez-le avant de signer."),
                code="contract_changed",
            )
        current.contract_signed_at = timezone.now()
        current.contract_signed_name = name[:200]
        current.contract_text_hash = digest
        current.contract_text = text
        current.save(
            update_fields=[
                "contract_signed_at",
                "contract_signed_name",
                "contract_text_hash",
                "contract_text",
            ]
        )
        payments.build_installments(current)
        audit(by, "learning.contract_signed", current, hash=digest)
    return current


# ---------------------------------------------------------------------------------------------------------
# Reading, for pages and the API
# ---------------------------------------------------------------------------------------------------------


def upcoming_sessions(now: datetime | None = None):
    """Sessions of published programmes that people may still apply to or wait for, soonest first, each with
    `held_places` (one query)."""
    now = now or timezone.now()
    return (
        Session.objects.filter(
            programme__published=True,
            status=Session.Status.OPEN,
            starts_at__gt=now,
        )
        .select_related("programme", "site")
        .annotate(held_places=Count("enrolments", filter=Q(enrolments__status__in=Enrolment.HOLDING)))
        .order_by("starts_at", "pk")
    )


def get_programme(slug: str) -> Programme:
    try:
        return Programme.objects.select_related("site", "grants").get(slug=slug, published=True)
    except Programme.DoesNotExist:
        raise NotFound(_("Formation introuvable.")) from None


# ---------------------------------------------------------------------------------------------------------
# GDPR (accounts.gdpr): a person's enrolments and contracts are exported; erasure leaves them as they are
# ---------------------------------------------------------------------------------------------------------


def gdpr_export(user) -> list[dict]:
    rows = (
        Enrolment.objects.filter(trainee=user)
        .select_related("session__programme", "session__site", "payer")
        .prefetch_related("installments")
        .order_by("applied_at", "pk")
    )
    return [
        {
            "id": e.pk,
            "programme": e.session.programme.title,
            "session": e.session.label,
            "site": e.session.site.name,
            "starts_at": e.session.starts_at.isoformat() if e.session.starts_at else None,
            "status": e.status,
            "funding": e.funding,
            "payer": e.payer.name if e.payer else None,
            "project": e.project,
            "expectations": e.expectations,
            "needs_adaptation": e.needs_adaptation,
            "applied_at": e.applied_at.isoformat(),
            "reason": e.reason,
            "contract": {
                "signed_at": e.contract_signed_at.isoformat(),
                "signed_name": e.contract_signed_name,
                "text_sha256": e.contract_text_hash,
            }
            if e.contract_signed_at
            else None,
            "installments": [
                {
                    "due_on": i.due_on.isoformat(),
                    "amount_excl_vat": str(i.amount_excl_vat),
                    "handed_over": i.handed_over_at is not None,
                    "withdrawn": i.withdrawn_at is not None,
                }
                for i in e.installments.all()
            ],
        }
        for e in rows
    ]


def gdpr_erase(user) -> None:
    """Enrolments, contracts and installments are training evidence kept for their legal periods (SEAMS.md):
    erasing an account leaves them unchanged; they keep the name they were made under."""
    return None
