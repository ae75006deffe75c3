"""What the evidence partials show, loaded in a constant number of queries whatever the page holds.

`_evidence_for_enrolment.html` is included once per enrolment by the trainee's space: `evidence_of` loads the
marks (with their sheets), certificates and qualification grants of **all** that trainee's enrolments on its
first call, and keeps them on the request for the next ones (three queries a page, however many enrolments,
half-days or certificates). `_evidence_for_session.html` lists the session's sheets in one query
(`sheets_of`), however many sittings and trainees.
"""

from dataclasses import dataclass, field

from django import template

from ..models import Certificate, Grant, Mark, Sheet

register = template.Library()


@dataclass
class Evidence:
    marks: list = field(default_factory=list)
    certificates: list = field(default_factory=list)
    grants: list = field(default_factory=list)


def _load(trainee_id: int) -> dict[int, Evidence]:
    found: dict[int, Evidence] = {}
    marks = (
        Mark.objects.filter(enrolment__trainee_id=trainee_id)
        .select_related("sheet")
        .order_by("sheet__start", "pk")
    )
    for mark in marks:
        found.setdefault(mark.enrolment_id, Evidence()).marks.append(mark)
    for certificate in Certificate.objects.filter(enrolment__trainee_id=trainee_id).order_by("-kind", "pk"):
        found.setdefault(certificate.enrolment_id, Evidence()).certificates.append(certificate)
    grants = Grant.objects.filter(holder_id=trainee_id, enrolment__isnull=False).select_related(
        "qualification"
    )
    for grant in grants:
        found.setdefault(grant.enrolment_id, Evidence()).grants.append(grant)
    return found


@register.simple_tag(takes_context=True)
def evidence_of(context, enrolment) -> Evidence:
    request = context.get("request")
    cache = getattr(request, "_learning_evidence", None)
    if cache is None:
        cache = {}
        if request is not None:
            request._learning_evidence = cache
    if enrolment.trainee_id not in cache:
        cache[enrolment.trainee_id] = _load(enrolment.trainee_id)
    return cache[enrolment.trainee_id].get(enrolment.pk) or Evidence()


@register.simple_tag
def sheets_of(session) -> list[Sheet]:
    return list(Sheet.objects.filter(sitting__session=session).order_by("start", "pk"))
