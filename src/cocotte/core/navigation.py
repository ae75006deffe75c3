"""The main menu, declared by the apps: core's base template names no app's URL.

Each app registers its entries from its AppConfig.ready():

    navigation.register(_("Mes réservations"), "bookings:mine", visible=permissions.is_member, order=20)

`visible` is a predicate on the user (anonymous included) saying who sees the entry; entries show in
`order`, then by URL name. `method="post"` makes the entry a button in a form with its CSRF token (logging
out). Registering the same URL name again replaces the entry, so a ready() run twice adds nothing.
Orders so far: 10 book (spaces), 20 my bookings, 25 my bills (billing), 30 the team's planner (bookings), 40 my profile, 80–90 log
in, sign up, log out (accounts).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


def everyone(user) -> bool:
    return True


def anonymous(user) -> bool:
    return not (user and user.is_authenticated)


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    visible: Callable[[object], bool] = everyone
    order: int = 100
    method: str = "get"


@dataclass(frozen=True)
class Item:
    """An entry as one page shows it: its label, its address, and whether it is a POST button."""

    label: str
    url: str
    method: str


_entries: dict[str, Entry] = {}


def register(label, url_name: str, *, visible=everyone, order: int = 100, method: str = "get") -> None:
    if method not in ("get", "post"):
        raise ValueError(f"method must be 'get' or 'post', not {method!r}")
    _entries[url_name] = Entry(label, url_name, visible, order, method)


def entries() -> list[Entry]:
    return sorted(_entries.values(), key=lambda e: (e.order, e.url_name))


def items_for(user) -> list[Item]:
    """What this user's menu shows, in order."""
    return [Item(e.label, reverse(e.url_name), e.method) for e in entries() if e.visible(user)]


# --- where a person lands after logging in ---------------------------------------------------------------

_landings: dict[str, tuple[int, Callable[[object], bool]]] = {}


def register_landing(url_name: str, *, visible: Callable[[object], bool], order: int = 100) -> None:
    """The page this person lands on after logging in, if `visible` says so; the lowest order wins
    (the team's planner before one's own bookings)."""
    _landings[url_name] = (order, visible)


def landing_for(user) -> str | None:
    for url_name, (_order, visible) in sorted(_landings.items(), key=lambda item: (item[1][0], item[0])):
        if visible(user):
            return reverse(url_name)
    return None
