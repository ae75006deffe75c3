"""Who gets what, page by page: every page of the site × every persona, as one table.

Cells: "200", "400", "403", "404", "405"; "login" is a redirect to the login page; "→name" a redirect to that page.
Someone else's booking answers 404: it does not exist. The planner of a site one does not staff answers 403:
the site is public, its planner is the team's, and the page says so. The team's billing pages (runs, drafts,
credit notes) are the staff's of the operator's sites: 403 for members on the index, 404 on a run or draft. Bills (alice's invoice of Murat's operator,
paid by a transfer, `world.bills`): hers and the staff's of Murat (and root's), 404 for others; only she pays it
online (staff see it: 403).
Trainings (`world.activities`): anyone reads the catalogue, a programme and its results, and may file a
complaint; a member applies (the visitor is invited to log in); alice's enrolment, contract, offer, sheet
line, certificate and survey are hers (404 for others); the sites' team pages are the staff's (403 for
members, 404 for another site's staff on a session, sitting or complaint of Murat, 403 on closing a session);
the attendance sheet is its trainer's, its trainees' and the site's staff's (the printed sheet: not the
trainees'); a qualification is granted by its trainers and admins only. Events: anyone reads a public event,
the agenda and its feeds; a members-only event does not exist for visitors, a draft for anyone but its
site's team; a registration's link is its key (whoever holds it); the events' team pages are the site's staff's
(403 for others, another site's staff included, who may create events for their own site).
A refused POST (login, 400, 403, 404, 405) writes nothing; an accepted one that should write, wrote.
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
# Trainings: one's own trainings, the team's session page, the sheet, a closed session's certificates.
MY_TRAININGS, SESSION, SHEET = "→learning:mine", "→learning:staff_session", "→learning:sheet"
CERTIFICATES, GRANTS = "→learning:session_certificates", "→learning:qualification_grants"
# Events: the event's page (a visitor's registration waits for their address), one's registration, the team's.
EVENT, REGISTRATION, EVENT_TEAM = "→events:detail", "→events:registration", "→events:staff_event"

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
    ("check in",                     POST, "bookings:check_in",       LOGIN,    MINE,    NF,      MINE,    NF,      MINE),
    ("check in: GET",                GET,  "bookings:check_in",       LOGIN,    NA,      NA,      NA,      NA,      NA),
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
    ("mark arrival",                 POST, "planner:check_in",        LOGIN,    NF,      NF,      TEAM,    NF,      TEAM),
    ("mark arrival: GET",            GET,  "planner:check_in",        LOGIN,    NA,      NA,      NA,      NA,      NA),
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
    # trainings                      method URL name                  anonymous alice    bob      sophie   carol    root
    ("trainings",                    GET,  "learning:catalogue",      OK,       OK,      OK,      OK,      OK,      OK),
    ("programme",                    GET,  "learning:programme",      OK,       OK,      OK,      OK,      OK,      OK),
    ("results",                      GET,  "learning:results",        OK,       OK,      OK,      OK,      OK,      OK),
    ("apply: page",                  GET,  "learning:apply",          OK,       OK,      OK,      OK,      OK,      OK),
    ("apply: submit",                POST, "learning:apply",          OK,       BAD,     BAD,  MY_TRAININGS, MY_TRAININGS, MY_TRAININGS),
    ("my trainings",                 GET,  "learning:mine",           LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("contract: page",               GET,  "learning:contract",       LOGIN,    OK,      NF,      NF,      NF,      NF),
    ("contract: not agreed",         POST, "learning:contract",       LOGIN,    BAD,     NF,      NF,      NF,      NF),
    ("offer: page",                  GET,  "learning:offer",          LOGIN,    OK,      NF,      NF,      NF,      NF),
    ("offer: no answer",             POST, "learning:offer",          LOGIN,    BAD,     NF,      NF,      NF,      NF),
    ("withdraw: page",               GET,  "learning:withdraw",       LOGIN,    OK,      NF,      NF,      NF,      NF),
    ("withdraw",                     POST, "learning:withdraw",       LOGIN, MY_TRAININGS, NF,    NF,      NF,      NF),
    ("trainings team",               GET,  "learning:staff_index",    LOGIN,    FB,      FB,      OK,      OK,      OK),
    ("session: team",                GET,  "learning:staff_session",  LOGIN,    FB,      FB,      OK,      NF,      OK),
    ("add sitting: empty",           POST, "learning:staff_add_sitting", LOGIN, FB,      FB,      BAD,     NF,      BAD),
    ("add sitting: GET",             GET,  "learning:staff_add_sitting", LOGIN, NA,      NA,      NA,      NA,      NA),
    ("session settings: empty",      POST, "learning:staff_settings", LOGIN,    FB,      FB,      BAD,     NF,      BAD),
    ("cancel session: no reason",    POST, "learning:staff_cancel",   LOGIN,    FB,      FB,      BAD,     NF,      BAD),
    ("sitting: team",                GET,  "learning:staff_edit_sitting", LOGIN, FB,     FB,      OK,      NF,      OK),
    ("sitting: no day",              POST, "learning:staff_edit_sitting", LOGIN, FB,     FB,      BAD,     NF,      BAD),
    ("remove sitting",               POST, "learning:staff_remove_sitting", LOGIN, FB,   FB,      SESSION, NF,      SESSION),
    ("accept application",           POST, "learning:staff_decide",   LOGIN,    FB,      FB,      SESSION, NF,      SESSION),
    ("attendance",                   GET,  "learning:attendance",     LOGIN,    OK,      OK,      OK,      OK,      OK),
    ("sheet",                        GET,  "learning:sheet",          LOGIN,    OK,      NF,      OK,      NF,      OK),
    ("sheet: sign",                  POST, "learning:sheet_sign",     LOGIN,    SHEET,   NF,      NF,      NF,      NF),
    ("sheet: sign as trainer",       POST, "learning:sheet_trainer_sign", LOGIN, FB,     NF,      FB,      NF,      FB),
    ("sheet: close",                 POST, "learning:sheet_close",    LOGIN,    FB,      NF,      SHEET,   NF,      SHEET),
    ("sheet PDF",                    GET,  "learning:sheet_pdf",      LOGIN,    FB,      NF,      OK,      NF,      OK),
    ("sign on screen: empty",        POST, "learning:mark_sign",      LOGIN,    FB,      NF,      BAD,     NF,      BAD),
    ("absence: empty",               POST, "learning:mark_absence",   LOGIN,    FB,      NF,      BAD,     NF,      BAD),
    ("amend line: empty",            POST, "learning:mark_amend",     LOGIN,    FB,      NF,      BAD,     NF,      BAD),
    ("close session: page",          GET,  "learning:session_close",  LOGIN,    FB,      FB,      OK,      FB,      OK),
    ("close session: empty",         POST, "learning:session_close",  LOGIN,    FB,      FB,      BAD,     FB,      BAD),
    ("session certificates",         GET,  "learning:session_certificates", LOGIN, FB,   FB,      OK,      FB,      OK),
    ("record business: empty",       POST, "learning:record_business", LOGIN,   FB,      FB, CERTIFICATES, FB,  CERTIFICATES),
    ("certificate PDF",              GET,  "learning:certificate_pdf", LOGIN,   OK,      NF,      OK,      NF,      OK),
    ("survey",                       GET,  "learning:survey",         LOGIN,    OK,      NF,      NF,      NF,      NF),
    ("survey: empty",                POST, "learning:survey",         LOGIN,    BAD,     NF,      NF,      NF,      NF),
    ("complaint form",               GET,  "learning:complaint_new",  OK,       OK,      OK,      OK,      OK,      OK),
    ("complaint form: empty",        POST, "learning:complaint_new",  BAD,      BAD,     BAD,     BAD,     BAD,     BAD),
    ("complaints",                   GET,  "learning:complaints",     LOGIN,    FB,      FB,      OK,      OK,      OK),
    ("complaints CSV",               GET,  "learning:complaints_export", LOGIN, FB,      FB,      OK,      OK,      OK),
    ("complaint",                    GET,  "learning:complaint",      LOGIN,    NF,      NF,      OK,      NF,      OK),
    ("complaint: empty answer",      POST, "learning:complaint",      LOGIN,    NF,      NF,      BAD,     NF,      BAD),
    ("my qualifications",            GET,  "learning:my_qualifications", LOGIN, OK,      OK,      OK,      OK,      OK),
    ("qualifications",               GET,  "learning:qualification_grants", LOGIN, FB,   FB,      FB,      FB,      OK),
    ("grant: no holder",             POST, "learning:qualification_grants", LOGIN, FB,   FB,      FB,      FB,      BAD),
    ("change grant: empty",          POST, "learning:grant_change",   LOGIN,    FB,      FB,      FB,      FB,      GRANTS),
    # events                         method URL name                  anonymous alice    bob      sophie   carol    root
    ("events",                       GET,  "events:list",             OK,       OK,      OK,      OK,      OK,      OK),
    ("event",                        GET,  "events:detail",           OK,       OK,      OK,      OK,      OK,      OK),
    ("event: register",              POST, "events:detail",           EVENT, "409", REGISTRATION, REGISTRATION, REGISTRATION, REGISTRATION),
    ("members-only event",           GET,  "events:detail",           NF,       OK,      OK,      OK,      OK,      OK),
    ("draft event",                  GET,  "events:detail",           NF,       NF,      NF,      OK,      NF,      OK),
    ("event calendar file",          GET,  "events:ics_file",         OK,       OK,      OK,      OK,      OK,      OK),
    ("members-only calendar file",   GET,  "events:ics_file",         NF,       OK,      OK,      OK,      OK,      OK),
    ("registration",                 GET,  "events:registration",     OK,       OK,      OK,      OK,      OK,      OK),
    ("confirm address: page",        GET,  "events:confirm",          OK,       OK,      OK,      OK,      OK,      OK),
    ("accept offer: none",           POST, "events:accept",           REGISTRATION, REGISTRATION, REGISTRATION, REGISTRATION, REGISTRATION, REGISTRATION),
    ("accept offer: GET",            GET,  "events:accept",           NA,       NA,      NA,      NA,      NA,      NA),
    ("cancel registration",          POST, "events:cancel",           REGISTRATION, REGISTRATION, REGISTRATION, REGISTRATION, REGISTRATION, REGISTRATION),
    ("events team",                  GET,  "events:staff",            LOGIN,    FB,      FB,      OK,      OK,      OK),
    ("new event",                    GET,  "events:create",           LOGIN,    FB,      FB,      OK,      OK,      OK),
    ("new event: no title",          POST, "events:create",           LOGIN,    FB,      FB,      BAD,     BAD,     BAD),
    ("event: team",                  GET,  "events:staff_event",      LOGIN,    FB,      FB,      OK,      FB,      OK),
    ("edit event",                   GET,  "events:edit",             LOGIN,    FB,      FB,      OK,      FB,      OK),
    ("edit event: no title",         POST, "events:edit",             LOGIN,    FB,      FB,      BAD,     FB,      BAD),
    ("publish",                      POST, "events:publish",          LOGIN,    NF,      NF,  EVENT_TEAM,   NF,  EVENT_TEAM),
    ("cancel event: no reason",      POST, "events:cancel_event",     LOGIN,    FB,      FB,  EVENT_TEAM,   FB,  EVENT_TEAM),
    ("remove registration",          POST, "events:remove_registration", LOGIN, FB,      FB,  EVENT_TEAM,   FB,  EVENT_TEAM),
    ("door",                         GET,  "events:door",             LOGIN,    FB,      FB,      OK,      FB,      OK),
    ("registrations CSV",            GET,  "events:export",           LOGIN,    FB,      FB,      OK,      FB,      OK),
    ("scan",                         GET,  "events:scan",             LOGIN,    FB,      FB,      OK,      FB,      OK),
    ("agenda",                       GET,  "events:agenda",           OK,       OK,      OK,      OK,      OK,      OK),
    ("agenda: month",                GET,  "events:month",            OK,       OK,      OK,      OK,      OK,      OK),
    ("agenda: month 13",             GET,  "events:month",            NF,       NF,      NF,      NF,      NF,      NF),
    ("agenda feed",                  GET,  "events:ics",              OK,       OK,      OK,      OK,      OK,      OK),
    ("agenda Atom feed",             GET,  "events:atom",             OK,       OK,      OK,      OK,      OK,      OK),
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
    "apply: submit",
    "withdraw",
    "remove sitting",
    "accept application",
    "sheet: sign",
    "sheet: close",
    "event: register",
    "cancel registration",
    "publish",
    "remove registration",
}
# Accepted answers of those rows that write nothing: the visitor is shown how to log in first.
NOTHING_TO_WRITE = {("apply: submit", "anonymous")}

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
    "bookings:check_in": lambda w: [w.booking.pk],
    "planner:check_in": lambda w: [w.booking.pk],
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
    # trainings: alice's (tests/web/conftest.py, `Activities`)
    "learning:programme": lambda w: [w.activities.programme.slug],
    "learning:results": lambda w: [w.activities.programme.slug],
    "learning:apply": lambda w: [w.activities.session.pk],
    "learning:contract": lambda w: [w.activities.enrolment.pk],
    "learning:offer": lambda w: [w.activities.enrolment.pk],
    "learning:withdraw": lambda w: [w.activities.enrolment.pk],
    "learning:staff_session": lambda w: [w.activities.session.pk],
    "learning:staff_add_sitting": lambda w: [w.activities.session.pk],
    "learning:staff_settings": lambda w: [w.activities.session.pk],
    "learning:staff_cancel": lambda w: [w.activities.session.pk],
    "learning:staff_edit_sitting": lambda w: [w.activities.sitting.pk],
    "learning:staff_remove_sitting": lambda w: [w.activities.sitting.pk],
    "learning:staff_decide": lambda w: [w.activities.application.pk, "accepter"],
    "learning:sheet": lambda w: [w.activities.sheet.pk],
    "learning:sheet_sign": lambda w: [w.activities.sheet.pk],
    "learning:sheet_trainer_sign": lambda w: [w.activities.sheet.pk],
    "learning:sheet_close": lambda w: [w.activities.sheet.pk],
    "learning:sheet_pdf": lambda w: [w.activities.sheet.pk],
    "learning:mark_sign": lambda w: [w.activities.sheet.pk, w.activities.mark.pk],
    "learning:mark_absence": lambda w: [w.activities.sheet.pk, w.activities.mark.pk],
    "learning:mark_amend": lambda w: [w.activities.sheet.pk, w.activities.mark.pk],
    "learning:session_close": lambda w: [w.activities.running.pk],
    "learning:session_certificates": lambda w: [w.activities.completed.pk],
    "learning:record_business": lambda w: [w.activities.completed_enrolment.pk],
    "learning:certificate_pdf": lambda w: [w.activities.certificate.pk],
    "learning:survey": lambda w: [w.activities.completed_enrolment.pk, "chaud"],
    "learning:complaint": lambda w: [w.activities.complaint.pk],
    "learning:grant_change": lambda w: [w.activities.grant.pk],
    # events: the public forum, where alice holds a place
    "members-only event": lambda w: [w.activities.members_only.pk],
    "draft event": lambda w: [w.activities.draft.pk],
    "publish": lambda w: [w.activities.draft.pk],
    "agenda: month 13": lambda w: [w.day.year, 13],
    "events:detail": lambda w: [w.activities.forum.pk],
    "events:ics_file": lambda w: [w.activities.forum.pk],
    "members-only calendar file": lambda w: [w.activities.members_only.pk],
    "events:registration": lambda w: [w.activities.registration.token],
    "events:confirm": lambda w: [w.activities.registration.token],
    "events:accept": lambda w: [w.activities.registration.token],
    "events:cancel": lambda w: [w.activities.registration.token],
    "events:staff_event": lambda w: [w.activities.forum.pk],
    "events:edit": lambda w: [w.activities.forum.pk],
    "events:cancel_event": lambda w: [w.activities.forum.pk],
    "events:remove_registration": lambda w: [w.activities.forum.pk, w.activities.registration.pk],
    "events:door": lambda w: [w.activities.forum.pk],
    "events:export": lambda w: [w.activities.forum.pk],
    "events:scan": lambda w: [w.activities.registration.checkin_code],
    "events:month": lambda w: [w.day.year, w.day.month],
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
        "apply: submit": {
            "project": "Reprendre la boulangerie du village.",
            "prerequisites_met": "on",
            "funding": "self",
        },
        "contract: not agreed": {"name": "Alice Martin"},
        "sitting: no day": {"start": "09:00", "end": "12:00"},
        "sheet: sign": {"own-method": "typed", "own-typed_name": "Alice Martin"},
        "sheet: sign as trainer": {"trainer-method": "typed", "trainer-typed_name": "Sophie Chargée"},
        "grant: no holder": {"holder_email": ""},
        # A visitor gives a name and an address; a member registers in one click (the fields are the visitor's).
        "event: register": {"name": "Véra Visiteuse", "email": "vera@example.org"},
        "new event: no title": {"title": ""},
        "edit event: no title": {"title": ""},
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
    if name.startswith(("learning:", "events:")):
        world.activities  # noqa: B018 — the trainings and events, for their pages to show (and grant) something
    url = url_for(world, label, name)
    before = everyone(world)
    response = client.get(url) if method == GET else client.post(url, post_data(world, label))
    assert_answer(response, expected)
    if method == POST and (expected == LOGIN or expected.startswith("4")):
        assert everyone(world) == before, "a refused request wrote something"
    elif label in WRITES and (label, persona) not in NOTHING_TO_WRITE:
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
