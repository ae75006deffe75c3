"""How API callers say who they are: a personal token (`Authorization: Bearer …`) or the web session."""

from django.contrib.auth.models import AnonymousUser
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from ninja.utils import check_csrf

from .models import ApiToken


class CsrfFailed(Exception):
    """A caller logged in by the web session sent a write without the CSRF token."""


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.authenticate(token)
        if user is None:
            # A wrong or revoked token is an error, not a visit: do not fall back to anonymous access.
            raise AuthenticationError(message="invalid_token")
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The web session. CSRF is checked only when the session does log someone in.

    django-ninja checks CSRF first, so a caller without any credentials got « CSRF check Failed » (403)
    on every write instead of « authentication required » (401). CSRF protects cookie-authenticated
    requests only: without a logged-in session there is nothing to protect, and the caller is told to log in.
    """

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise CsrfFailed
        return user


def anonymous(request):
    """Last resort for endpoints open to visitors: an anonymous caller (names and ids stay hidden)."""
    return AnonymousUser()


django_auth = SessionAuth()
member_auth = [BearerToken(), django_auth]
public_auth = [BearerToken(), django_auth, anonymous]
