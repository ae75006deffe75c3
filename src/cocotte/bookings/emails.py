"""The booking engine's e-mails: one small function per kind, one template trio per kind.

Each kind has `bookings/emails/<kind>_subject.txt`, `<kind>.txt` and `<kind>.html`. A message is written
in its reader's language (Profile.language), with dates and times in the site's zone, the way French users
write them: « mardi 8 décembre 2026, de 10 h 00 à 11 h 30 ». Every string is translatable, French msgids.

The engine never calls this module: it records events (`events`), and `notifications` — a subscriber the
task worker runs after commit — calls the `on_*` functions at the end of this module with primary keys;
they re-read what was committed.
"""

import contextlib
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cocotte.core.formats import describe_deadline, describe_period, format_day
from cocotte.core.mail import tidy_text
from cocotte.core.timeutils import zone

from . import rules
from .models import Booking, BookingSeries

logger = logging.getLogger(__name__)

Status = Booking.Status


# ---------------------------------------------------------------------------------------------------------
# Language, zone, dates
# ---------------------------------------------------------------------------------------------------------


def language_of(user) -> str:
    """The member's language for e-mails: their profile's, else the site's default (French)."""
    profile = getattr(user, "profile", None)  # accounts made in bulk may have none
    language = getattr(profile, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@contextlib.contextmanager
def speaking_to(member, site):
    """Render in the member's language and the site's time zone."""
    with translation.override(language_of(member)), timezone.override(zone(site.timezone)):
        yield


# ---------------------------------------------------------------------------------------------------------
# Building and sending
# ---------------------------------------------------------------------------------------------------------


def _manage_url() -> str:
    """Where members see their bookings; the home page until that page exists."""
    try:
        path = reverse("bookings:mine")
    except NoReverseMatch:
        path = "/"
    return settings.COCOTTE_PUBLIC_URL + path


def _booking_context(booking: Booking) -> dict:
    local_start = timezone.localtime(booking.start)
    return {
        "booking": booking,
        "resource": booking.resource,
        "site": booking.resource.site,
        "member": booking.member,
        "when": describe_period(booking.start, booking.end),
        "day": format_day(local_start.date()),
        "pending": booking.status == Status.PENDING,
        "booked_by_team": booking.booked_by_id not in (None, booking.member_id),
        # Said only while it is ahead: an e-mail never promises a deadline already passed.
        "deadline": _deadline_ahead(booking),
    }


def _deadline_ahead(booking: Booking) -> str:
    deadline = rules.change_deadline(booking)
    return describe_deadline(deadline) if deadline > timezone.now() else ""


def _ics(booking: Booking) -> tuple[str, bytes, str]:
    """The booking as a one-event calendar: REQUEST while live, CANCEL once cancelled or refused."""
    from .ical import booking_ics, booking_ics_method  # ical imports the engine, which imports this module

    # RFC 6047 (iMIP): the part's content type repeats the calendar's METHOD.
    return (
        f"reservation-{booking.pk}.ics",
        booking_ics(booking),
        f"text/calendar; method={booking_ics_method(booking)}",
    )


def make_message(kind: str, member, site, context: dict, ics=None) -> EmailMultiAlternatives:
    """The message of one kind, rendered in the active language and zone (see `speaking_to`)."""
    context = {
        **context,
        "member": member,
        "site": site,
        "site_url": settings.COCOTTE_PUBLIC_URL,
        "manage_url": _manage_url(),
        "operator_name": settings.COCOTTE_OPERATOR_NAME,
        **{k: v for k, v in context.items() if k in ("manage_url", "manage_label")},
    }
    subject = render_to_string(f"bookings/emails/{kind}_subject.txt", context)
    context["subject"] = " ".join(subject.split())
    message = EmailMultiAlternatives(
        subject=context["subject"],
        body=tidy_text(render_to_string(f"bookings/emails/{kind}.txt", context)),
        to=[member.email],
        reply_to=[site.email] if site.email else None,
        headers={"Auto-Submitted": "auto-generated"},  # RFC 3834: no out-of-office replies, please
    )
    message.attach_alternative(render_to_string(f"bookings/emails/{kind}.html", context), "text/html")
    if ics is not None:
        message.attach(*ics)
    return message


def _send(kind: str, booking: Booking, context: dict | None = None, *, ics: bool = False):
    """One message about one booking, to its member."""
    site = booking.resource.site
    with speaking_to(booking.member, site):
        full = {**_booking_context(booking), **(context or {})}
        message = make_message(kind, booking.member, site, full, ics=_ics(booking) if ics else None)
        message.send()
    return message


# ---------------------------------------------------------------------------------------------------------
# One function per kind
# ---------------------------------------------------------------------------------------------------------


def send_booking_confirmed(booking: Booking):
    """Booked and confirmed at once, with the .ics for the member's calendar."""
    return _send("booking_confirmed", booking, ics=True)


def send_request_received(booking: Booking):
    """A request on a resource that needs the team's approval: the slot is held, the answer will follow."""
    return _send("request_received", booking)


def send_request_approved(booking: Booking):
    return _send("request_approved", booking, {"reason": booking.staff_reason}, ics=True)


def send_request_refused(booking: Booking):
    return _send("request_refused", booking, {"reason": booking.staff_reason})


def send_booking_moved(
    booking: Booking, *, previous_start, previous_end, previous_resource=None, by_team=False
):
    """Moved (maybe to another resource); the updated .ics replaces the event in the member's calendar."""
    with speaking_to(booking.member, booking.resource.site):
        previous_when = describe_period(previous_start, previous_end)
    context = {
        "previous_when": previous_when,
        "previous_resource": previous_resource if previous_resource != booking.resource else None,
        "by_team": by_team,
    }
    return _send("booking_moved", booking, context, ics=True)


def send_booking_cancelled(booking: Booking, *, reason: str = "", by_team: bool = False):
    """Cancelled by the member, or by the team (with its reason: a block, a closure…); the .ics cancels it."""
    return _send("booking_cancelled", booking, {"reason": reason, "by_team": by_team}, ics=True)


def send_request_to_review(booking: Booking, staff_member, *, occurrences: int = 1):
    """To one of the site's staff: a request waits for their answer (in their language, not the member's)."""
    site = booking.resource.site
    with speaking_to(staff_member, site):
        planner_url = settings.COCOTTE_PUBLIC_URL + reverse("planner:site", args=[site.slug])
        context = {
            **_booking_context(booking),
            "requester": booking.member.get_full_name() or booking.member.email,
            "occurrences": occurrences,
            "planner_url": planner_url,
        }
        # The layout's link leads staff to the planner, not to "my bookings".
        message = make_message(
            "request_to_review",
            staff_member,
            site,
            {**context, "manage_url": planner_url, "manage_label": _("Ouvrir le planning")},
        )
        message.send()
    return message


def send_reminder(booking: Booking):
    """The day before. Sent through `tasks.remind`, which makes sure it goes out once."""
    return _send("reminder", booking)


def send_series_booked(series: BookingSeries, bookings, skipped):
    """One message for a whole series: the occurrences booked, and those skipped with why.

    `skipped` holds (start, end, reason) for each occurrence that could not be booked."""
    site = series.resource.site
    bookings = sorted(bookings, key=lambda b: b.start)
    with speaking_to(series.member, site):
        first = bookings[0].start if bookings else series.first_start
        context = {
            "series": series,
            "resource": series.resource,
            "day": format_day(timezone.localtime(first).date()),
            "booked": [describe_period(b.start, b.end) for b in bookings],
            "skipped": [
                {"when": describe_period(start, end), "reason": reason}
                for start, end, reason in sorted(skipped, key=lambda s: s[0])
            ],
            "pending": any(b.status == Status.PENDING for b in bookings),
            "booked_by_team": series.booked_by_id not in (None, series.member_id),
        }
        message = make_message("series_booked", series.member, site, context)
        message.send()
    return message


def send_series_cancelled(series: BookingSeries, cancelled, kept, *, by_team: bool = False):
    """One message for a series' cancellation. `kept` holds (booking, reason) for each occurrence that
    could not be cancelled (already started, past the deadline)."""
    site = series.resource.site
    with speaking_to(series.member, site):
        context = {
            "series": series,
            "resource": series.resource,
            "cancelled": [describe_period(b.start, b.end) for b in sorted(cancelled, key=lambda b: b.start)],
            "kept": [
                {"when": describe_period(b.start, b.end), "reason": reason}
                for b, reason in sorted(kept, key=lambda k: k[0].start)
            ],
            "by_team": by_team,
        }
        message = make_message("series_cancelled", series.member, site, context)
        message.send()
    return message


# ---------------------------------------------------------------------------------------------------------
# After commit: the engine hands over primary keys and plain values; these re-read what was committed.
# ---------------------------------------------------------------------------------------------------------


def _bookings(pks):
    """The bookings an e-mail is about; those the house holds for its own activity are told by that app."""
    return (
        Booking.objects.select_related("resource__site", "member__profile")
        .filter(pk__in=pks, held_for="")
        .order_by("start")
    )


def _booking(pk) -> Booking | None:
    return _bookings([pk]).first()


def _series(pk) -> BookingSeries | None:
    return BookingSeries.objects.select_related("resource__site", "member__profile").filter(pk=pk).first()


# The kind of message follows what happened (the status committed, passed along); what it shows is re-read.


def on_booked(pk: int, status: str) -> None:
    booking = _booking(pk)
    if booking is None:
        return
    if status == Status.CONFIRMED:
        send_booking_confirmed(booking)
    elif status == Status.PENDING:
        send_request_received(booking)


def on_decided(pk: int, status: str) -> None:
    booking = _booking(pk)
    if booking is None:
        return
    if status == Status.CONFIRMED:
        send_request_approved(booking)
    elif status == Status.REFUSED:
        send_request_refused(booking)


def on_moved(
    pk: int, previous_start, previous_end, previous_resource_id: int, *, by_team: bool = False
) -> None:
    booking = _booking(pk)
    if booking is None or not booking.is_live:
        return
    previous_resource = booking.resource
    if previous_resource_id != booking.resource_id:
        from cocotte.spaces.models import Resource

        previous_resource = Resource.objects.filter(pk=previous_resource_id).first()
    send_booking_moved(
        booking,
        previous_start=previous_start,
        previous_end=previous_end,
        previous_resource=previous_resource,
        by_team=by_team,
    )


def on_cancelled(pk: int, *, reason: str = "", by_team: bool = False) -> None:
    booking = _booking(pk)
    if booking is not None and booking.status == Status.CANCELLED:
        send_booking_cancelled(booking, reason=reason, by_team=by_team)


def on_series_booked(series_pk: int, booking_pks, skipped) -> None:
    series = _series(series_pk)
    if series is not None:
        send_series_booked(series, list(_bookings(booking_pks)), skipped)


def on_series_cancelled(series_pk: int, cancelled_pks, kept, *, by_team: bool = False) -> None:
    """`kept` holds (booking pk, reason) pairs."""
    series = _series(series_pk)
    if series is None or not cancelled_pks:  # nothing was cancelled: the caller said why, no mail
        return
    reasons = dict(kept)
    kept_bookings = [(b, reasons[b.pk]) for b in _bookings(reasons)]
    send_series_cancelled(series, list(_bookings(cancelled_pks)), kept_bookings, by_team=by_team)
