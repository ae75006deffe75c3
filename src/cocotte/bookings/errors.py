"""What the booking engine says when it refuses: a message for people and a stable code for programs.

Each error is one of core's kinds (cocotte.core.errors), which carries its HTTP status: the API maps them
without a table of the engine's errors. `except BookingError` catches the engine's refusals only.
"""

from cocotte.core import errors


class BookingError(errors.DomainError):
    """A refusal of the booking engine: nothing was written."""


class InvalidBooking(BookingError, errors.Invalid):
    """The request breaks a rule of the resource or of the calendar."""


class Conflict(BookingError, errors.Conflict):
    """The slot is taken (by a booking, a full pooled space, or a block)."""


class Forbidden(BookingError, errors.Forbidden):
    pass


class NotFound(BookingError, errors.NotFound):
    pass


class DatabaseBusy(BookingError, errors.Busy):
    """The database stayed locked by other writers for too long (SQLite under a burst): try again."""
