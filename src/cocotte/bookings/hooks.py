"""Where other apps plug into the booking engine, which never names them.

Three kinds of extension, each registered by name in an app's `AppConfig.ready()` (registering a name
again replaces it: a module reloaded in tests does not run twice):

- **rules** (`register_rule`): run inside the engine's lock, after its own checks, on the resource row read
  under that lock. A rule refuses by raising a `BookingError` (e.g. `InvalidBooking`, `Conflict`); its
  return value is ignored. Rules only read: a rule that writes would write for a booking that may still be
  refused by the next one. The Fablab's qualifications are a rule.
- **participants** (`register_participant`): run inside the engine's transaction once the booking rows are
  written, with the change (`Change`). They write their own rows (billing takes a card's days); raising a
  `BookingError` refuses the whole change, and nothing of it is kept. A participant that prices what it
  records leaves the price on the booking as `booking.price` (the quote's shape): the API answers with it.
- **a quote provider** (`register_quote_provider`): asked what a proposal would cost, before the member
  confirms (the booking page, the API's answers); it returns a plain dict (`amount_excl_vat`, `vat`,
  `total`, `currency`, `covered_by`, `lines`) or None when it has no price. Billing registers one.
- **subscribers** (`subscribe`): run after commit by the task worker, once per recorded event
  (`models.BookingEvent`, see `events`), never for a rolled-back change. They send e-mails, schedule
  reminders, tell another app. A subscriber that fails is retried by the next sweep; one that succeeded is
  never called again for that event.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Proposal:
    """What a rule is asked about: a period of a resource for a member, booked or moved to."""

    action: str  # "book" or "move"
    resource: object  # the Resource row read under the lock
    member: object
    by: object  # the user who asks, or a `services.System` actor
    start: datetime
    end: datetime
    booking: object | None = None  # the booking being moved


@dataclass(frozen=True)
class Change:
    """What a participant is told inside the transaction: the event kind and the rows it concerns."""

    kind: str  # a BookingEvent.Kind value
    bookings: list = field(default_factory=list)
    by: object = None
    data: dict = field(default_factory=dict)


_rules: dict[str, Callable[[Proposal], None]] = {}
_quote_providers: dict[str, Callable[[Proposal], dict | None]] = {}
_participants: dict[str, Callable[[Change], None]] = {}
_subscribers: dict[str, Callable[[object], None]] = {}


def register_rule(name: str, rule: Callable[[Proposal], None]) -> None:
    _rules[name] = rule


def register_quote_provider(name: str, provider: Callable[[Proposal], dict | None]) -> None:
    _quote_providers[name] = provider


def quote(proposal: Proposal) -> dict | None:
    """What the proposal would cost, from the first provider that prices it; None when none does."""
    for provider in _quote_providers.values():
        if (price := provider(proposal)) is not None:
            return price
    return None


def register_participant(name: str, participant: Callable[[Change], None]) -> None:
    _participants[name] = participant


def subscribe(name: str, subscriber: Callable[[object], None]) -> None:
    """`subscriber(event)` receives a committed `BookingEvent`. `name` is what deliveries are recorded under:
    keep it stable, or events already handled would be handled again."""
    _subscribers[name] = subscriber


def unregister(name: str) -> None:
    """Remove a rule, participant, quote provider or subscriber (tests)."""
    for registry in (_rules, _participants, _quote_providers, _subscribers):
        registry.pop(name, None)


def run_rules(proposal: Proposal) -> None:
    for rule in _rules.values():
        rule(proposal)


def run_participants(change: Change) -> None:
    for participant in _participants.values():
        participant(change)


def subscribers() -> dict[str, Callable[[object], None]]:
    return dict(_subscribers)
