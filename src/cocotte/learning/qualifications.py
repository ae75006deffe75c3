"""Qualifications: who holds what, since when, granted by whom — valid on every site, never deleted.

A grant is made by a completed training (`granted_by` None, `enrolment` set: `certificates.close_session`
calls `grant`) or by hand by a person holding the trainer role over the qualification (`access.may_grant`).
It then lives by its status: *expired* (its `valid_until` passed: the daily `expire_due`), *suspended*
(a trainer's decision, may be lifted by a new grant), *revoked*. The history stays: `Grant.delete` and its
queryset's `delete` raise (models.py), and the admin offers no deletion.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.core.errors import Conflict, Forbidden, Invalid
from cocotte.core.models import audit

from . import access
from .models import Grant, Qualification

Status = Grant.Status


class QualificationError(Invalid):
    code = "qualification"


def _valid_until(qualification: Qualification, granted_on: date, valid_until: date | None) -> date | None:
    if valid_until is not None:
        if valid_until <= granted_on:
            raise QualificationError(
                _("La date de fin de validité doit suivre la date d’attribution."), field="valid_until"
            )
        return valid_until
    if qualification.valid_for_months:
        from dateutil.relativedelta import relativedelta

        return granted_on + relativedelta(months=qualification.valid_for_months)
    return None


def grant(
    qualification: Qualification,
    holder,
    *,
    by=None,
    enrolment=None,
    site,
    valid_until: date | None = None,
    today: date | None = None,
) -> Grant:
    """Grant the qualification to `holder`: by a person who may grant it (`by`), or by a completed training
    (`enrolment`, `by` None). A holder who already holds it actively keeps that grant (returned as is)."""
    today = today or timezone.localdate()
    if by is None and enrolment is None:
        raise QualificationError(_("Une qualification est accordée par une personne ou par une formation."))
    if by is not None and not access.may_grant(by, qualification):
        raise Forbidden(_("Vous n’êtes pas habilité à accorder cette qualification."))
    if enrolment is not None and (enrolment.trainee_id != holder.pk or not enrolment.completed):
        raise QualificationError(
            _("Seule une formation terminée par son stagiaire accorde sa qualification.")
        )
    if by is not None and by.pk == holder.pk:
        raise QualificationError(_("On ne s’accorde pas une qualification à soi-même."), field="holder")
    until = _valid_until(qualification, today, valid_until)
    with transaction.atomic():
        # The holder's grants of this qualification, locked: two grants at once make one.
        current = (
            Grant.objects.select_for_update()
            .filter(qualification=qualification, holder=holder, status=Status.ACTIVE)
            .order_by("-granted_on", "-pk")
        )
        for existing in current:
            if existing.valid_until is None or existing.valid_until >= today:
                return existing
        made = Grant.objects.create(
            qualification=qualification,
            holder=holder,
            granted_by=by,
            enrolment=enrolment,
            site=site,
            granted_on=today,
            valid_until=until,
        )
        audit(by, "learning.grant.granted", made, holder=holder.pk, qualification=qualification.pk)
    return made


def _change(grant_: Grant, *, by, status: str, reason: str, action: str) -> Grant:
    reason = (reason or "").strip()
    if not reason:
        raise QualificationError(_("Indiquez le motif."), field="reason")
    with transaction.atomic():
        grant_ = (
            Grant.objects.select_for_update(of=("self",)).select_related("qualification").get(pk=grant_.pk)
        )
        if not access.may_grant(by, grant_.qualification):
            raise Forbidden(_("Vous n’êtes pas habilité à changer cette qualification."))
        if grant_.status == Status.REVOKED:
            raise Conflict(_("Cette qualification a été retirée : accordez-la à nouveau."), code="revoked")
        if grant_.status == status:
            raise Conflict(_("La qualification est déjà dans cet état."), code="unchanged")
        before = grant_.status
        grant_.status, grant_.status_reason, grant_.status_changed_at = status, reason, timezone.now()
        grant_.save(update_fields=["status", "status_reason", "status_changed_at"])
        audit(by, action, grant_, before=before, after=status, reason=reason)
    return grant_


def suspend(grant_: Grant, *, by, reason: str) -> Grant:
    return _change(grant_, by=by, status=Status.SUSPENDED, reason=reason, action="learning.grant.suspended")


def revoke(grant_: Grant, *, by, reason: str) -> Grant:
    return _change(grant_, by=by, status=Status.REVOKED, reason=reason, action="learning.grant.revoked")


def expire_due(today: date | None = None) -> int:
    """The daily job: active grants whose `valid_until` has passed become expired. Returns how many."""
    today = today or timezone.localdate()
    return Grant.objects.filter(status=Status.ACTIVE, valid_until__lt=today).update(
        status=Status.EXPIRED, status_changed_at=timezone.now(), status_reason=_("Date de validité dépassée.")
    )


def holds(user, qualification: Qualification, *, on: date | None = None) -> bool:
    """Whether `user` holds the qualification on that day (today by default): an active grant, in date."""
    on = on or timezone.localdate()
    if not getattr(user, "pk", None):
        return False
    return (
        Grant.objects.filter(
            qualification=qualification, holder=user, status=Status.ACTIVE, granted_on__lte=on
        )
        .exclude(valid_until__lt=on)
        .exists()
    )


def grants_of(user):
    """Every grant a person holds or held, newest first (their space shows them all, with their status)."""
    return Grant.objects.filter(holder=user).select_related("qualification", "site", "granted_by")


def grantable_by(user):
    """The qualifications this person may grant by hand."""
    return [q for q in Qualification.objects.all() if access.may_grant(user, q)]
