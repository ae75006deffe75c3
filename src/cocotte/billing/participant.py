"""Billing inside the booking engine's transaction (its participant, `bookings.hooks`).

A booking made takes what its plans cover (`coverage.cover` on locked holdings: two bookings racing for a
card's last day cannot both take it) and leaves a pay-as-you-go **charge** for the rest. A booking moved is
covered again. A booking cancelled in time, refused, or cancelled because the site blocked its slot gives
everything back; one cancelled within its notice (only the team can, the engine refuses members) keeps its
credit and is charged the share of its price that the operator's rule for the resource kind says (100 %
without a rule). The price recorded is left on the booking as `booking.price` for the engine's answer.
"""

from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from cocotte.bookings.models import Booking, BookingEvent
from cocotte.core.money import cents
from cocotte.core.timeutils import local_date, zone

from . import ledger
from .coverage import as_quote, cover
from .models import CancellationRule, Charge, CreditUse, Holding, RevenueType

SOURCE = "bookings.booking"
Kind = BookingEvent.Kind


def participate(change) -> None:
    if change.kind in (Kind.BOOKED, Kind.SERIES_BOOKED):
        for booking in change.bookings:
            record(booking)
    elif change.kind == Kind.MOVED:
        for booking in change.bookings:
            release(booking)
            record(booking)
    elif change.kind in (Kind.CANCELLED, Kind.SERIES_CANCELLED):
        now = timezone.now()
        for booking in change.bookings:
            if now > booking.start - booking.resource.cancellation_notice:
                charge_late_cancellation(booking)
            else:
                release(booking)
    elif change.kind in (Kind.REFUSED, Kind.BLOCKED):
        for booking in change.bookings:
            release(booking)


def record(booking: Booking) -> None:
    if booking.held_for:
        booking.price = None
        return  # the house's own activity: a training or an event bills its places itself
    coverage = cover(booking.resource, booking.member, booking.start, booking.end, lock=True)
    booking.price = None if coverage is None else as_quote(coverage)
    if coverage is None:
        return
    day = local_date(booking.start, zone(booking.resource.site.timezone))
    month = day.replace(day=1)
    for part in coverage.parts:
        if part.holding is None or not part.credit:
            continue
        CreditUse.objects.create(holding=part.holding, booking=booking, amount=part.credit, month=month)
        if part.covered_by in ("card", "day_pass"):
            Holding.objects.filter(pk=part.holding.pk).update(days_left=F("days_left") - part.credit)
    if coverage.paid_units and coverage.line is not None:
        line = coverage.line
        ledger.hand_over(
            coverage.operator,
            booking.member,
            source=SOURCE,
            source_id=booking.pk,
            revenue_type=RevenueType.of_kind(booking.resource.kind),
            label=f"{line.label} — {booking.resource.name}",
            service_date=day,
            quantity=Decimal(coverage.paid_units),
            unit=booking.resource.unit,
            unit_price_excl_vat=line.amount_excl_vat,
            vat_rate=coverage.vat_rate,
        )


def release(booking: Booking) -> None:
    """Give back what the booking took: its card days, its included hours, its charge not yet billed."""
    for use in CreditUse.objects.filter(booking=booking).select_related("holding__plan"):
        if use.holding.plan.kind in ("card", "day_pass"):
            Holding.objects.filter(pk=use.holding_id).update(days_left=F("days_left") + use.amount)
        use.delete()
    ledger.withdraw(SOURCE, booking.pk)


def charge_late_cancellation(booking: Booking) -> None:
    """Within the notice: the credit stays taken, and the charge becomes the rule's share of the price."""
    rule = CancellationRule.objects.filter(
        operator__site_links__site_id=booking.resource.site_id, kind=booking.resource.kind
    ).first()
    percent = rule.percent if rule else Decimal("100")
    if percent == 0:
        release(booking)
        return
    charge = Charge.objects.filter(source=SOURCE, source_id=booking.pk, status=Charge.Status.OPEN).first()
    if charge is None or percent == 100:
        if charge is not None:
            charge.label = f"{charge.label} (annulation tardive)"
            charge.save(update_fields=["label"])
        return
    charge.unit_price_excl_vat = cents(charge.unit_price_excl_vat * percent / 100)
    charge.amount_excl_vat = cents(charge.quantity * charge.unit_price_excl_vat)
    charge.label = f"{charge.label} (annulation tardive, {percent.normalize():f} %)"
    charge.save(update_fields=["unit_price_excl_vat", "amount_excl_vat", "label"])
