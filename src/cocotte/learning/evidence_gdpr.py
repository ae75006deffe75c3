"""Learning's evidence in a person's data (accounts.gdpr): what they signed and when, their certificates,
survey answers, the complaints they filed and their qualifications. Erasure keeps it all (SEAMS.md: training
evidence is kept for its legal period, under the name it was issued to); only the account is anonymised."""

from django.db.models import Q

from .models import Certificate, Complaint, Grant, Mark, SurveyResponse


def _at(value):
    return value.isoformat() if value else None


def export(user) -> dict:
    marks = Mark.objects.filter(enrolment__trainee=user).select_related("sheet__sitting__session__programme")
    return {
        "attendance": [
            {
                "programme": m.sheet.sitting.session.programme.title,
                "session": m.sheet.sitting.session.label,
                "half_day_start": _at(m.sheet.start),
                "half_day_end": _at(m.sheet.end),
                "state": m.state,
                "reason": m.reason,
                "method": m.method,
                "signed_name": m.signed_name,
                "signed_at": _at(m.signed_at),
            }
            for m in marks.order_by("sheet__start", "pk")
        ],
        "certificates": [
            {
                "number": c.number,
                "kind": c.kind,
                "hours_attended": str(c.hours_attended),
                "issued_at": _at(c.issued_at),
                "content": c.content,
            }
            for c in Certificate.objects.filter(enrolment__trainee=user).order_by("issued_at", "pk")
        ],
        "surveys": [
            {
                "session": r.enrolment.session_id,
                "kind": r.kind,
                "overall": r.overall,
                "content": r.content,
                "trainers": r.trainers,
                "organisation": r.organisation,
                "usefulness": r.usefulness,
                "would_recommend": r.would_recommend,
                "comments": r.comments,
                "submitted_at": _at(r.submitted_at),
            }
            for r in SurveyResponse.objects.filter(enrolment__trainee=user).select_related("enrolment")
        ],
        "complaints": [
            {
                "received_at": _at(c.received_at),
                "subject": c.subject,
                "description": c.description,
                "status": c.status,
                "response": c.response,
            }
            for c in Complaint.objects.filter(Q(author=user) | Q(author_email__iexact=user.email)).order_by(
                "received_at"
            )
        ],
        "qualifications": [
            {
                "qualification": g.qualification.name,
                "granted_on": _at(g.granted_on),
                "valid_until": _at(g.valid_until),
                "status": g.status,
                "by_training": g.enrolment_id is not None,
            }
            for g in Grant.objects.filter(holder=user)
            .select_related("qualification")
            .order_by("granted_on", "pk")
        ],
    }


def erase(user) -> None:
    """Nothing is erased: signatures, certificates, survey answers, complaints and grants are the provider's
    evidence (Qualiopi, the funders' audits) and keep the name they were made under."""
    return None
