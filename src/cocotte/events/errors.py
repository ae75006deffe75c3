"""What the events' services say when they refuse: a message for people, a stable code for programs.

Each is one of core's kinds (its HTTP status in the API); nothing is written when one is raised."""

from cocotte.core import errors


class EventError(errors.DomainError):
    """A refusal of the events' services: nothing was written."""


class InvalidEvent(EventError, errors.Invalid):
    pass


class Closed(EventError, errors.Conflict):
    """Registration is not open (not yet, no longer, the event is past or cancelled)."""

    code = "closed"


class AlreadyRegistered(EventError, errors.Conflict):
    code = "already_registered"


class Full(EventError, errors.Conflict):
    """No place left, and no waiting list."""

    code = "full"


class AccountRequired(EventError, errors.Forbidden):
    """A priced place is billed to an account: visitors sign up first."""

    code = "account_required"


class Forbidden(EventError, errors.Forbidden):
    pass


class NotFound(EventError, errors.NotFound):
    pass


class UnknownCode(EventError, errors.NotFound):
    """A link or a QR code that names no registration (mistyped, forged, or of an erased person)."""

    code = "unknown_code"


class AlreadyCheckedIn(EventError, errors.Conflict):
    code = "already_checked_in"

    def __init__(self, message, *, at, **kwargs):
        super().__init__(message, **kwargs)
        self.at = at


class NotExpected(EventError, errors.Conflict):
    """A check-in of a registration that holds no place (cancelled, waiting, unconfirmed)."""

    code = "not_expected"


class StaleLink(EventError, errors.Conflict):
    """A link used already or for a registration that moved on (a reused confirmation, an offer expired)."""

    code = "stale_link"
