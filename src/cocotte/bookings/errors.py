"""What the booking engine says when it refuses: a message for people and a stable code for programs."""


class BookingError(Exception):
    """A refusal: nothing was written. `code` is stable (API clients test it); `message` is for people."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, details=None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.field = field
        self.details = details or []


class InvalidBooking(BookingError):
    """The request breaks a rule of the resource or of the calendar."""


class Conflict(BookingError):
    """The slot is taken (by a booking, a full pooled space, or a block)."""

    code = "conflict"


class Forbidden(BookingError):
    code = "forbidden"


class NotFound(BookingError):
    code = "not_found"


class DatabaseBusy(BookingError):
    """The database stayed locked by other writers for too long (SQLite under a burst): try again."""

    code = "busy"
