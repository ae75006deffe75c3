"""allauth's e-mails (sign-up verification, login code, password reset, notices) name the platform and link to its
public address, as the booking e-mails do.

Without django.contrib.sites, allauth names the site after the request's host ("testserver", "127.0.0.1:8000",
the name of the machine behind the proxy) and builds its links from that host. The platform's name and address
are settings (COCOTTE_SITE_NAME, COCOTTE_PUBLIC_URL): this adapter hands them to allauth's templates in place of
the request's. (Installing django.contrib.sites instead would copy them into a database row that a data
migration writes once and the environment no longer governs; and allauth still builds its links from the
request's host whenever there is a request.)
"""

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from cocotte.core import navigation


@dataclass(frozen=True)
class PublicSite:
    """What allauth's templates read of `current_site`: its name and its domain."""

    name: str
    domain: str


def public_site() -> PublicSite:
    return PublicSite(name=settings.COCOTTE_SITE_NAME, domain=urlsplit(settings.COCOTTE_PUBLIC_URL).netloc)


def on_public_address(url: str) -> str:
    """The same page at the public address: "http://testserver/comptes/x/" → "https://cocotte.example.org/comptes/x/"."""
    public = urlsplit(settings.COCOTTE_PUBLIC_URL)
    parts = urlsplit(url)
    if not parts.netloc and not url.startswith("/"):
        return url  # not an address (a code, a name)
    return urlunsplit((public.scheme, public.netloc, parts.path, parts.query, parts.fragment))


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # A `next` address wins (allauth reads it before asking here); else the page the apps gave this
        # person (core.navigation: the team lands on its planner), else LOGIN_REDIRECT_URL.
        return navigation.landing_for(request.user) or super().get_login_redirect_url(request)

    def format_email_subject(self, subject: str) -> str:
        prefix = app_settings.EMAIL_SUBJECT_PREFIX  # ACCOUNT_EMAIL_SUBJECT_PREFIX, when one is set
        if prefix is None:
            prefix = f"[{settings.COCOTTE_SITE_NAME}] "
        return prefix + str(subject)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Every link allauth puts in an e-mail's context is named "…_url" (activate_url, password_reset_url,
        # signup_url…): each is moved to the public address, whichever e-mail it is.
        context = {
            **{
                key: on_public_address(value) if key.endswith("_url") and isinstance(value, str) else value
                for key, value in context.items()
            },
            "current_site": public_site(),
        }
        super().send_mail(template_prefix, email, context)
