"""The public results of a programme, as Qualiopi asks them published (indicator 2): satisfaction, completion
rate and businesses created, each with the period covered and the number of trainees it counts.

Shown whatever the number: a legal publication, not open data (SEAMS.md). Counted over the programme's
closed sessions only, in a constant number of queries (three aggregates).
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Max, Min, Q
from django.utils import timezone

from .models import Enrolment, Programme, Session, SurveyResponse


@dataclass(frozen=True)
class Results:
    first_day: date | None
    last_day: date | None
    sessions: int
    trainees: int
    answers: int
    satisfaction_mean: Decimal | None  # of `overall`, 1–5
    satisfied_share: Decimal | None  # % answering 4 or 5
    completed: int
    completion_rate: Decimal | None  # %
    outcomes_known: int  # trainees whose outcome was recorded
    businesses_created: int
    business_rate: Decimal | None  # % of the trainees


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def results_of(programme: Programme) -> Results:
    closed = Session.objects.filter(programme=programme, status=Session.Status.COMPLETED)
    span = closed.aggregate(
        sessions=Count("pk", distinct=True), first=Min("sittings__start"), last=Max("sittings__end")
    )
    trainees = Enrolment.objects.filter(
        session__programme=programme,
        session__status=Session.Status.COMPLETED,
        status=Enrolment.Status.ACCEPTED,
    ).aggregate(
        total=Count("pk"),
        completed=Count("pk", filter=Q(completed=True)),
        known=Count("pk", filter=Q(business_created__isnull=False)),
        created=Count("pk", filter=Q(business_created=True)),
    )
    survey = SurveyResponse.objects.filter(
        kind=SurveyResponse.Kind.HOT,
        enrolment__session__programme=programme,
        enrolment__session__status=Session.Status.COMPLETED,
    ).aggregate(answers=Count("pk"), mean=Avg("overall"), satisfied=Count("pk", filter=Q(overall__gte=4)))
    mean = survey["mean"]
    return Results(
        first_day=timezone.localtime(span["first"]).date() if span["first"] else None,
        last_day=timezone.localtime(span["last"]).date() if span["last"] else None,
        sessions=span["sessions"],
        trainees=trainees["total"],
        answers=survey["answers"],
        satisfaction_mean=Decimal(str(mean)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if mean is not None
        else None,
        satisfied_share=_share(survey["satisfied"], survey["answers"]),
        completed=trainees["completed"],
        completion_rate=_share(trainees["completed"], trainees["total"]),
        outcomes_known=trainees["known"],
        businesses_created=trainees["created"],
        business_rate=_share(trainees["created"], trainees["total"]),
    )
