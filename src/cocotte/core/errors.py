"""What an app says when it refuses: a message for people, a stable code for programs, and the HTTP status the
API answers with. Every app's errors derive from these kinds, so that the API maps them without knowing the app:
a new app's `Conflict` answers 409 with no line added to the API's error handler.

Raise them from services; nothing may be written when one is raised (the transaction is rolled back).
"""


class DomainError(Exception):
    """A refusal. `code` is stable (API clients test it); `message` is for people; `field` names the input at
    fault, if one is; `details` lists what is in the way (the API answers them as `conflicts`)."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, details=None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.field = field
        self.details = details or []

    def headers(self) -> dict[str, str]:
        """HTTP headers that the API adds to its answer."""
        return {}


class Invalid(DomainError):
    """The request breaks a rule: asking again the same way will fail again."""


class Conflict(DomainError):
    """What was asked is taken or clashes with something that exists."""

    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Busy(DomainError):
    """Nothing was wrong with the request: the service (the database) was too busy. Try again shortly."""

    status = 503
    code = "busy"
    retry_after = 1  # seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
