"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every page a test reaches is checked with axe-core (helpers.check_a11y). The browser is the system's
/usr/bin/chromium, never one downloaded by `playwright install`. Without it these tests are skipped, except
in CI (COCOTTE_STRICT=1) where they fail.
"""

import os
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.test import Client

from tests.billing.conftest import private_operator  # noqa: F401 — billing's fixture, for the money flows

# Playwright's sync API runs an event loop in the test thread; Django refuses database access from a thread
# with a running loop unless told it is fine (it is: the loop only drives the browser).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
STRICT = os.environ.get("COCOTTE_STRICT") == "1"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package (never `playwright install`)."
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(browser, live_server, settings):
    """Open a page in a fresh browser context (no cookie shared between tests); options go to the context."""
    settings.COCOTTE_PUBLIC_URL = live_server.url  # where the e-mails' links lead, as in production
    contexts = []

    def make(**options):
        options.setdefault("locale", "fr-FR")
        options.setdefault("timezone_id", "Europe/Paris")
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def logged_in(live_server, settings):
    """Give a page the session of a persona, without the login form (tests/e2e/test_member.py uses the
    form; the other flows start logged in, which is faster)."""

    def log_in(page, user):
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        return page

    return log_in


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """allauth counts logins and sign-ups in the cache, which lives as long as the test process."""
    cache.clear()


@pytest.fixture
def verified():
    """A persona whose address is verified, as allauth requires before logging in (whether or not the shared
    make_user already records it)."""

    def make(user):
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        return user

    return make
