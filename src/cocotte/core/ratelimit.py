"""Counting attempts in a time window, in the cache: wrong passwords, and what a visitor can make the platform
send (a complaint's acknowledgement, a registration's confirmation link) so that a script cannot turn it into a
mailer. Counts are atomic where the cache is shared (Redis); with the local-memory cache they are per process.
"""

from django.core.cache import cache


def count(key: str, window_seconds: int) -> int:
    """One more attempt under `key` in its window; how many there have been."""
    cache.add(key, 0, window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, window_seconds)
        return 1


def client_key(request, action: str) -> str:
    """The key of an action by the client behind a request (its address)."""
    return f"ratelimit:{action}:{request.META.get('REMOTE_ADDR', '')}"


def exceeded(request, action: str, *, limit: int, window_seconds: int) -> bool:
    """Count this request's attempt at `action`: whether the client went beyond `limit` in the window."""
    return count(client_key(request, action), window_seconds) > limit
