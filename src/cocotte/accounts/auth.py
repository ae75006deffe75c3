"""How API callers say who they are: a personal token (`Authorization: Bearer …`) or the web session."""

from django.contrib.auth.models import AnonymousUser
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, django_auth

from .models import ApiToken


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.authenticate(token)
        if user is None:
            # A wrong or revoked token is an error, not a visit: do not fall back to anonymous access.
            raise AuthenticationError(message="invalid_token")
        request.user = user
        return user


def anonymous(request):
    """Last resort for endpoints open to visitors: an anonymous caller (names and ids stay hidden)."""
    return AnonymousUser()


member_auth = [BearerToken(), django_auth]
public_auth = [BearerToken(), django_auth, anonymous]
