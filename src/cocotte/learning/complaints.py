"""The complaints register (Qualiopi indicator 31): anyone files one, the site's staff answer it, record the
action taken and close it. Filing acknowledges it by e-mail and tells the site's staff (after commit)."""

import csv
import functools
import io

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocotte.accounts import permissions
from cocotte.core.errors import Conflict, Forbidden, Invalid
from cocotte.core.models import audit

from .models import Complaint, Programme, Session

Status = Complaint.Status


class ComplaintError(Invalid):
    code = "complaint"


def site_of(complaint: Complaint) -> int | None:
    if complaint.session_id:
        return complaint.session.site_id
    if complaint.programme_id:
        return complaint.programme.site_id
    return None


def may_handle(user, complaint: Complaint) -> bool:
    """The staff of the complaint's site (any site's staff for a complaint about no programme), admins."""
    site_id = site_of(complaint)
    if site_id is None:
        return permissions.is_any_site_staff(user)
    return permissions.is_site_staff(user, site_id)


def visible_to(user):
    """The register as this person may read it."""
    rows = Complaint.objects.select_related("programme", "session", "answered_by")
    if permissions.is_admin(user):
        return rows
    from django.db.models import Q

    sites = permissions.staffed_site_ids(user)
    if not sites:
        return rows.none()
    return rows.filter(
        Q(session__site_id__in=sites)
        | Q(session__isnull=True, programme__site_id__in=sites)
        | Q(session__isnull=True, programme__isnull=True)
    )


def file_complaint(
    *,
    name: str,
    email: str,
    subject: str,
    description: str,
    programme: Programme | None = None,
    session: Session | None = None,
    author=None,
) -> Complaint:
    name, subject, description = (name or "").strip(), (subject or "").strip(), (description or "").strip()
    if not name:
        raise ComplaintError(_("Indiquez votre nom."), field="author_name")
    if not subject:
        raise ComplaintError(_("Indiquez l’objet de la réclamation."), field="subject")
    if not description:
        raise ComplaintError(_("Décrivez votre réclamation."), field="description")
    if session is not None and programme is not None and session.programme_id != programme.pk:
        raise ComplaintError(_("Cette session n’est pas une session de ce programme."), field="session")
    if session is not None and programme is None:
        programme = session.programme
    with transaction.atomic():
        complaint = Complaint.objects.create(
            author=author if permissions.is_member(author) else None,
            author_name=name[:200],
            author_email=email,
            subject=subject[:200],
            description=description,
            programme=programme,
            session=session,
        )
        audit(author, "learning.complaint.filed", complaint)
        from . import evidence_tasks

        transaction.on_commit(
            functools.partial(evidence_tasks.complaint_received.enqueue, complaint.pk), robust=True
        )
    return complaint


def _locked_open(complaint: Complaint, by, closed_message: str) -> Complaint:
    """The complaint's row, locked for this transaction, once `by` may handle it and it is still open."""
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("programme", "session")
        .get(pk=complaint.pk)
    )
    if not may_handle(by, complaint):
        raise Forbidden(_("Seule l’équipe du site traite cette réclamation."))
    if complaint.status == Status.CLOSED:
        raise Conflict(closed_message, code="closed")
    return complaint


def answer(
    complaint: Complaint, *, by, response: str, action_taken: str = "", close: bool = False
) -> Complaint:
    response = (response or "").strip()
    if not response:
        raise ComplaintError(_("Rédigez la réponse apportée."), field="response")
    with transaction.atomic():
        complaint = _locked_open(complaint, by, _("Cette réclamation est close."))
        complaint.response = response
        complaint.action_taken = (action_taken or "").strip()
        complaint.status = Status.CLOSED if close else Status.ANSWERED
        complaint.answered_at = complaint.answered_at or timezone.now()
        complaint.answered_by = by
        complaint.save(update_fields=["response", "action_taken", "status", "answered_at", "answered_by"])
        audit(by, "learning.complaint.answered", complaint, status=complaint.status)
    return complaint


def close(complaint: Complaint, *, by) -> Complaint:
    with transaction.atomic():
        complaint = _locked_open(complaint, by, _("Cette réclamation est déjà close."))
        if not complaint.response:
            raise ComplaintError(_("Répondez à la réclamation avant de la clore."), field="response")
        complaint.status = Status.CLOSED
        complaint.save(update_fields=["status"])
        audit(by, "learning.complaint.closed", complaint)
    return complaint


CSV_COLUMNS = (
    "numero",
    "recue_le",
    "statut",
    "nom",
    "email",
    "programme",
    "session",
    "objet",
    "reclamation",
    "reponse",
    "action_amelioration",
    "repondue_le",
)


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    for c in rows:
        writer.writerow(
            [
                c.pk,
                timezone.localtime(c.received_at).strftime("%Y-%m-%d %H:%M"),
                c.get_status_display(),
                _cell(c.author_name),
                _cell(c.author_email),
                _cell(c.programme.title if c.programme else ""),
                _cell(c.session.label if c.session else ""),
                _cell(c.subject),
                _cell(c.description),
                _cell(c.response),
                _cell(c.action_taken),
                timezone.localtime(c.answered_at).strftime("%Y-%m-%d %H:%M") if c.answered_at else "",
            ]
        )
    return "\ufeff" + out.getvalue()  # a BOM: spreadsheets then read the accents right
