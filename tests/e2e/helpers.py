"""What the browser tests share: axe-core on every page, and logging in through the real form."""

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

PASSWORD = "a-long-password-1"  # the one tests/conftest.py's make_user gives every persona
AXE = Axe()
BLOCKING = {"serious", "critical"}
PHONE_WIDTH = 480
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}  # context options


def field(scope, label: str):
    """The form field labelled exactly `label` (Django adds « : » to labels; get_by_label alone matches
    substrings, and « De » is in « Nombre de fois »)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\W*$"))


def check_a11y(page: Page) -> None:
    """Run axe-core on the page shown; fail with every serious or critical violation, where and why.

    On a phone-sized screen, also check reflow (WCAG 1.4.10): the page itself never scrolls sideways; a wide
    table scrolls inside its own region."""
    page.wait_for_load_state("load")
    problems = []
    for violation in AXE.run(page).response["violations"]:
        if violation.get("impact") in BLOCKING:
            problems.append(
                f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"
            )
            for node in violation["nodes"][:5]:
                problems.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
                problems.append(f"      {' '.join(node.get('failureSummary', '').split())}")
    viewport = page.viewport_size
    if viewport and viewport["width"] <= PHONE_WIDTH:
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            problems.append(f"- reflow: the page is {overflow}px wider than the {viewport['width']}px screen")
    if problems:
        raise AssertionError("\n".join([f"Accessibility problems on {page.url}:", *problems]))


def visit(page: Page, url: str) -> None:
    """Open a page (relative to the live server), check it answered and is accessible."""
    response = page.goto(url)
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    check_a11y(page)


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in with email and password on allauth's form; land on « Mes réservations »."""
    visit(page, "/comptes/login/")
    field(page, "Courriel").fill(email)
    field(page, "Mot de passe").fill(password)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url("**/mes-reservations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes réservations")
    check_a11y(page)
