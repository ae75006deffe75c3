"""Who gets what, page by page: every page of the site × every persona, as one table.

Cells: "200", "400", "403", "404", "405"; "login" is a redirect to the login page; "→name" a redirect to that page.
Someone else's booking answers 404: it does not exist. The planner of a site one does not staff answers 403:
the site is public, its planner is the team's, and the page says so. The team's billing pages (runs, drafts,
credit notes) are the staff's of the operator's sites: 403 for members on the index, 404 on a run or draft. Bills (alice's invoice of Murat's operator,
paid by a transfer, `world.bills`): hers and the staff's of Murat (and root's), 404 for others; only she pays it
online (staff see it: 403).
A refused POST (login, 404, 405) writes nothing; an accepted one that should write, wrote.
"""

import pytest
from django.urls import URLResolver, get_resolver, reverse

from cocotte.accounts.models import User
from tests.helpers import day_ahead

from .conftest import PERSONAS, is_login_redirect, redirect_target, state

GET, POST = "GET", "POST"
OK, BAD, FB, NF, NA, LOGIN = "200", "400", "403", "404", "405", "login"
MINE, PROFILE, PLANNER, HOME = "→bookings:mine", "→accounts:profile", "→planner:site", "→home"
TEAM = "→planner:index"  # where the team lands once logged in
# Billing: a month's run, a draft, the member's plans, the team's billing index.
RUN, DRAFT, PLANS, STAFF = "→billing:run", "→billing:draft", "→billing:plans", "→billing:staff"
BILL = "→billing:bill"  # back to the bill, told why it cannot be paid online (here: no provider is set up)

# fmt: off
ROWS = [
    # label                          method URL name                  anonymous alice    bob      sophie   carol    root
    ("home",                         GET,  "home",                    OK,       OK,      OK,      OK,      OK,      OK),
    ("home: POST",                   POST, "home",                    NA,       NA,      NA,      NA,      NA,      NA),
    ("site page",                    GET,  "spaces:site",             OK,       OK,      OK,      OK,      OK,      OK),
    ("site page: POST",              POST, "spaces:site",             NA,       NA,      NA,      NA,      NA,      NA),
    ("grid",                         GET,  "bookings:grid",           OK,       OK,      OK,      OK,      OK,      OK),
    ("grid: POST",                   POST, "bookings:grid",           NA,       NA,      NA,      NA,      NA,      NA),
    ("book: page",                   GET,  "bookings:book",           LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("book: check",                  POST, "bookings:book",           LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("book: confirm",                POST, "bookings:book",           LOGIN,    MINE,    MINE,    MINE,    MINE,    MINE),
    ("my bookings",                  GET,  "bookings:mine",           LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("my bookings: POST",            POST, "bookings:mine",           LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("move: page",                   GET,  "bookings:move",           LOGIN,    OK,      NF,      OK,      NF,      OK),
    ("move: submit",                 POST, "bookings:move",           LOGIN,    MINE,    NF,      MINE,    NF,      MINE),
    ("cancel: page",                 GET,  "bookings:cancel",         LOGIN,    OK,      NF,      OK,      NF,      OK),
    ("cancel: submit",               POST, "bookings:cancel",         LOGIN,    MINE,    NF,      MINE,    NF,      MINE),
    ("cancel series: page",          GET,  "bookings:cancel_series",  LOGIN,    OK,      NF,      OK,      NF,      OK),
    ("cancel series: submit",        POST, "bookings:cancel_series",  LOGIN,    MINE,    NF,      MINE,    NF,      MINE),
    ("profile: page",                GET,  "accounts:profile",        LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("profile: submit",              POST, "accounts:profile",        LOGIN,    PROFILE, PROFILE, PROFILE, PROFILE, PROFILE),
    ("my data",                      GET,  "accounts:my_data",        LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("my data: POST",                POST, "accounts:my_data",        LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("delete account: page",         GET,  "accounts:delete_account", LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("delete account: wrong pass",   POST, "accounts:delete_account", LOGIN,    BAD,     BAD,     BAD,     BAD,     BAD),
    ("renew calendar",               POST, "accounts:renew_calendar", LOGIN,    PROFILE, PROFILE, PROFILE, PROFILE, PROFILE),
    ("renew calendar: GET",          GET,  "accounts:renew_calendar", LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("create token",                 POST, "accounts:create_token",   LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("create token: GET",            GET,  "accounts:create_token",   LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("revoke token",                 POST, "accounts:revoke_token",   LOGIN,    PROFILE, NF,      NF,      NF,      NF),
    ("revoke token: confirm page",   GET,  "accounts:revoke_token",   LOGIN,    OK,      NF,      NF,      NF,      NF),
    ("planner index",                GET,  "planner:index",           LOGIN,    FB,      FB,      OK,      OK,      OK),
    ("planner: murat",               GET,  "planner:site",            LOGIN,    FB,      FB,      OK,      FB,      OK),
    ("planner: allanche",            GET,  "planner:site",            LOGIN,    FB,      FB,      FB,      OK,      OK),
    ("block",                        POST, "planner:block",           LOGIN,    FB,      FB,      PLANNER, FB,      PLANNER),
    ("block: GET",                   GET,  "planner:block",           LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("approve",                      POST, "planner:approve",         LOGIN,    NF,      NF,      PLANNER, NF,      PLANNER),
    ("approve: GET",                 GET,  "planner:approve",         LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("refuse",                       POST, "planner:refuse",          LOGIN,    NF,      NF,      PLANNER, NF,      PLANNER),
    ("refuse: GET",                  GET,  "planner:refuse",          LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("accessibility",                GET,  "accessibility",           OK,       OK,      OK,      OK,      OK,      OK),
    ("privacy",                      GET,  "privacy",                 OK,       OK,      OK,      OK,      OK,      OK),
    ("terms",                        GET,  "terms",                   OK,       OK,      OK,      OK,      OK,      OK),
    ("terms: POST",                  POST, "terms",                   NA,       NA,      NA,      NA,      NA,      NA),
    ("health",                       GET,  "health",                  OK,       OK,      OK,      OK,      OK,      OK),
    ("language",                     POST, "set_language",            HOME,     HOME,    HOME,    HOME,    HOME,    HOME),
    ("member feed",                  GET,  "calendar:member",         OK,       OK,      OK,      OK,      OK,      OK),
    ("member feed: unknown key",     GET,  "calendar:member",         NF,       NF,      NF,      NF,      NF,      NF),
    ("member feed: POST",            POST, "calendar:member",         NA,       NA,      NA,      NA,      NA,      NA),
    ("resource feed",                GET,  "calendar:resource",       OK,       OK,      OK,      OK,      OK,      OK),
    ("resource feed: unknown",       GET,  "calendar:resource",       NF,       NF,      NF,      NF,      NF,      NF),
    ("login",                        GET,  "account_login",           OK,       MINE,    MINE,    TEAM,    TEAM,    TEAM),
    ("signup",                       GET,  "account_signup",          OK,       MINE,    MINE,    TEAM,    TEAM,    TEAM),
    ("my bills",                     GET,  "billing:mine",            LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("my bills: POST",               POST, "billing:mine",            LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("bill",                         GET,  "billing:bill",            LOGIN,    OK,      NF,      OK,      NF,      OK),
    ("bill: POST",                   POST, "billing:bill",            LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("bill PDF",                     GET,  "billing:bill_pdf",        LOGIN,    OK,      NF,      OK,      NF,      OK),
    ("receipt PDF",                  GET,  "billing:receipt_pdf",     LOGIN,    OK,      NF,      OK,      NF,      OK),
    ("pay online",                   POST, "billing:pay",             LOGIN,    BILL,    NF,      FB,      NF,      FB),
    ("pay online: GET",              GET,  "billing:pay",             LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("payment webhook: unknown",     POST, "billing:payment_webhook", NF,       NF,      NF,      NF,      NF,      NF),
    ("payment webhook: GET",         GET,  "billing:payment_webhook", NA,       NA,      NA,      NA,      NA,      NA),
    ("my plans",                     GET,  "billing:plans",           LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("my plans: no plan",            POST, "billing:plans",           LOGIN,    BAD,     BAD,     BAD,     BAD,     BAD),
    ("cancel plan",                  POST, "billing:cancel_plan",     LOGIN,    PLANS,   NF,      NF,      NF,      NF),
    ("cancel plan: GET",             GET,  "billing:cancel_plan",     LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("billing runs",                 GET,  "billing:staff",           LOGIN,    FB,      FB,      OK,      OK,      OK),
    ("billing runs: bad month",      POST, "billing:staff",           LOGIN,    FB,      FB,      BAD,     BAD,     BAD),
    ("billing run",                  GET,  "billing:run",             LOGIN,    NF,      NF,      OK,      NF,      OK),
    ("billing run: POST",            POST, "billing:run",             LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("issue run: unconfirmed",       POST, "billing:run_issue",       LOGIN,    NF,      NF,      RUN,     NF,      RUN),
    ("issue run: GET",               GET,  "billing:run_issue",       LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("draft",                        GET,  "billing:draft",           LOGIN,    NF,      NF,      OK,      NF,      OK),
    ("draft: bad line",              POST, "billing:draft",           LOGIN,    NF,      NF,      BAD,     NF,      BAD),
    ("issue draft",                  POST, "billing:draft_issue",     LOGIN,    NF,      NF,      RUN,     NF,      RUN),
    ("issue draft: GET",             GET,  "billing:draft_issue",     LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("discard draft",                POST, "billing:draft_discard",   LOGIN,    NF,      NF,      RUN,     NF,      RUN),
    ("discard draft: GET",           GET,  "billing:draft_discard",   LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("draft line",                   GET,  "billing:line",            LOGIN,    NF,      NF,      OK,      NF,      OK),
    ("draft line: bad",              POST, "billing:line",            LOGIN,    NF,      NF,      BAD,     NF,      BAD),
    ("send again",                   POST, "billing:send_again",      LOGIN,    NF,      NF,      STAFF,   NF,      STAFF),
    ("send again: GET",              GET,  "billing:send_again",      LOGIN,    NA,      NA,      NA,      NA,      NA),
    ("credit note",                  POST, "billing:credit_note",     LOGIN,    NF,      NF,      DRAFT,   NF,      DRAFT),
    ("credit note: GET",             GET,  "billing:credit_note",     LOGIN,    NA,      NA,      NA,      NA,      NA),
]
# fmt: on

# Accepted POSTs of these rows change the database (and refused ones must not).
WRITES = {
    "cancel plan",
    "send again",
    "issue draft",
    "discard draft",
    "credit note",
    "book: confirm",
    "move: submit",
    "cancel: submit",
    "cancel series: submit",
    "profile: submit",
    "renew calendar",
    "create token",
    "revoke token",
    "block",
    "approve",
    "refuse",
}

# The URL's arguments, by label first, else by URL name.
ARGS = {
    "planner: allanche": lambda w: [w.other_site.slug],
    "member feed: unknown key": lambda w: {"key": "x" * 43},
    "resource feed: unknown": lambda w: {"site_slug": w.site.slug, "resource_slug": "nope"},
    "spaces:site": lambda w: [w.site.slug],
    "bookings:grid": lambda w: [w.site.slug],
    "bookings:book": lambda w: [w.site.slug, w.room.pk],
    "bookings:move": lambda w: [w.booking.pk],
    "bookings:cancel": lambda w: [w.booking.pk],
    "bookings:cancel_series": lambda w: [w.series.pk],
    "accounts:revoke_token": lambda w: [w.token.pk],
    "planner:site": lambda w: [w.site.slug],
    "planner:block": lambda w: [w.site.slug],
    "planner:approve": lambda w: [w.pending.pk],
    "planner:refuse": lambda w: [w.pending.pk],
    "calendar:member": lambda w: {"key": w.alice.profile.calendar_key},
    "calendar:resource": lambda w: {"site_slug": w.site.slug, "resource_slug": w.room.slug},
    "billing:bill": lambda w: [w.bills.invoice.pk],
    "billing:bill_pdf": lambda w: [w.bills.invoice.pk],
    "billing:pay": lambda w: [w.bills.invoice.pk],
    "billing:receipt_pdf": lambda w: [w.bills.payment.pk],
    "billing:payment_webhook": lambda w: ["nope"],
    "billing:cancel_plan": lambda w: [w.bills.subscription.pk],
    "billing:run": lambda w: [w.bills.draft.run_id],
    "billing:run_issue": lambda w: [w.bills.draft.run_id],
    "billing:draft": lambda w: [w.bills.draft.pk],
    "billing:draft_issue": lambda w: [w.bills.draft.pk],
    "billing:draft_discard": lambda w: [w.bills.draft.pk],
    "billing:line": lambda w: [w.bills.draft.lines.get().pk],
    "billing:credit_note": lambda w: [w.bills.invoice.pk],
    "billing:send_again": lambda w: [w.bills.failed.pk],
}


def url_for(world, label, name):
    args = ARGS.get(label) or ARGS.get(name)
    if args is None:
        return reverse(name)
    value = args(world)
    return reverse(name, kwargs=value) if isinstance(value, dict) else reverse(name, args=value)


def post_data(world, label):
    day = world.day.isoformat()
    slot = {"date": day, "start_time": "09:00", "end_time": "10:00"}
    return {
        "book: check": {**slot, "step": "check"},
        "book: confirm": {**slot, "step": "confirm"},
        "move: submit": {"date": day, "start_time": "16:00", "end_time": "17:00"},
        "profile: submit": {
            "first_name": "Prénom",
            "last_name": "Nom",
            "status": "teleworker",
            "organisation": "",
            "commune": "Murat",
            "phone": "04 71 20 00 00",
            "language": "fr",
        },
        "create token": {"name": "script"},
        "delete account: wrong pass": {"confirmation": "pas le bon"},
        "block": {  # the planner's block form has the prefix "block"
            "block-resource": world.room.pk,
            "block-date": day_ahead(30).isoformat(),
            "block-kind": "maintenance",
            "block-reason": "Peinture",
        },
        "refuse": {"reason": "Le bureau est déjà promis."},
        "billing runs: bad month": {"operator": "", "month": "janvier"},
        "my plans: no plan": {"plan": ""},
        "draft: bad line": {"label": "", "quantity": "-1"},
        "draft line: bad": {"label": "Salle", "quantity": "abc", "unit_price": "1", "vat_rate": "20"},
        "language": {"language": "fr", "next": "/"},
    }.get(label, {})


def everyone(world) -> tuple:
    """The state, plus everyone's names, calendar keys and phones (a profile POST changes the poster's)."""
    people = User.objects.order_by("pk").values_list("first_name", "profile__calendar_key", "profile__phone")
    return (state(world), tuple(people))


def assert_answer(response, expected):
    if expected == LOGIN:
        assert is_login_redirect(response), (response.status_code, response.get("Location"))
    elif expected.startswith("→"):
        assert response.status_code == 302, response.status_code
        assert redirect_target(response) == expected[1:], response.url
    else:
        assert response.status_code == int(expected)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_permission_matrix(world, login, row, persona):
    label, method, name, *cells = row
    expected = dict(zip(PERSONAS, cells, strict=True))[persona]
    client = login(world.persona(persona))
    url = url_for(world, label, name)
    before = everyone(world)
    response = client.get(url) if method == GET else client.post(url, post_data(world, label))
    assert_answer(response, expected)
    if method == POST and expected in (LOGIN, BAD, FB, NF, NA):
        assert everyone(world) == before, "a refused request wrote something"
    elif label in WRITES:
        assert everyone(world) != before, "an accepted request wrote nothing"


EXCLUDED = ("admin/", "api/", "comptes/", "static/", "media/")


def project_pages():
    """(route, URL name) of every page of the urlconf, but the admin, the API, allauth's and static files."""
    found = []

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if route.startswith(EXCLUDED):
                continue
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, ns)
            else:
                found.append((route, namespace + (pattern.name or "<no name>")))

    walk(get_resolver().url_patterns)
    return found


def test_every_page_of_the_urlconf_has_a_row_in_the_matrix():
    covered = {row[2] for row in ROWS}
    pages = project_pages()
    assert len(pages) > 20  # the walk found the pages
    missing = [f"{route} ({name})" for route, name in pages if name not in covered]
    assert not missing, "pages without a row in the permission matrix: " + ", ".join(missing)


def test_the_matrix_has_one_cell_per_persona_and_unique_labels():
    assert all(len(row) == 3 + len(PERSONAS) for row in ROWS)
    assert len({row[0] for row in ROWS}) == len(ROWS)
