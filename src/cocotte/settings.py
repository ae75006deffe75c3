"""Settings, read from environment variables, with embedded defaults that just work.

Without any variable, Cocotte runs on an SQLite file in the data folder, sends email to the console and
queues background tasks in the database. A variable with an unexpected value stops the start-up with a
message saying which one (a typo in production must not silently fall back to a default).
See docs/DEPLOYMENT.md for the production checklist.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("COCOTTE_DATA_DIR", BASE_DIR.parent.parent / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the data folder."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")


def envorigin(name: str, default: str) -> str:
    """A web origin, scheme and host (and port), without a trailing slash: https://reservations.example.org."""
    value = os.environ.get(name, default).strip().rstrip("/")
    parts = urlsplit(value)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.netloc
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise ImproperlyConfigured(
            f"{name} must be a scheme and a host, such as https://cocotte.example.org, not {value!r}"
        )
    return value


# The platform's name and its public address, as members know them: every e-mail names the one and links to
# the other (allauth's sign-up, login code and password reset through accounts.adapter, the booking e-mails,
# the calendar feeds' UIDs), whatever host a request came through (a proxy, "testserver", 127.0.0.1).
COCOTTE_SITE_NAME = os.environ.get("COCOTTE_SITE_NAME", "Cocotte").strip() or "Cocotte"
if "SITE_URL" in os.environ and "COCOTTE_PUBLIC_URL" not in os.environ:
    raise ImproperlyConfigured("SITE_URL is now called COCOTTE_PUBLIC_URL: rename the variable.")
COCOTTE_PUBLIC_URL = envorigin("COCOTTE_PUBLIC_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "ninja",  # serves the API docs' scripts itself instead of from a CDN
    "django_tasks",
    "django_tasks_db",
    "cocotte.core",
    "cocotte.accounts",
    "cocotte.spaces",
    "cocotte.bookings",
    "cocotte.billing",
    "cocotte.learning",
    "cocotte.events",
    # After our apps, so that our templates (allauth/layouts/…) take precedence over allauth's own.
    "allauth",
    "allauth.account",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "cocotte.core.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "cocotte.urls"
WSGI_APPLICATION = "cocotte.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cocotte.core.context_processors.platform",
                "cocotte.accounts.context_processors.roles",
            ],
        },
    },
]

# Database: SQLite in the data folder unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'cocotte.sqlite3'}"),
        # A new PostgreSQL connection per request costs ~15 ms (docs/PERFORMANCE.md): keep them a minute.
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # BEGIN IMMEDIATE takes the write lock when a transaction starts: the booking engine's check and
        # insert then run one writer at a time, which is how SQLite serialises them (PostgreSQL has row
        # locks and an exclusion constraint instead). Waiting writers queue for up to `timeout` seconds.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests on a file, not in memory: concurrency tests open one connection per thread.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "cocotte.accounts.backends.RoleBackend",  # the staff of a site may use the admins that apps open to them
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "bookings:mine"

# Accounts (django-allauth): the email is the login, verified before first use.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True  # a code sent by email, for those without a password manager
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "cocotte.accounts.forms.SignupForm"
# Names the site (subjects "[Cocotte] …") and links to COCOTTE_PUBLIC_URL in allauth's e-mails, which without
# django.contrib.sites named the request's host.
ACCOUNT_ADAPTER = "cocotte.accounts.adapter.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if envbool("SECURE", False) else "http"
# Login attempts are rate-limited (allauth's defaults, stated here so that they are seen and kept).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}

# What the privacy notice and the terms say, and who answers for personal data (DOMAIN.md, GDPR).
# Processes rendering a billing run's PDFs (one per core; 1 renders in the calling process).
COCOTTE_BILLING_WORKERS = envint("COCOTTE_BILLING_WORKERS", 2)
# Online payment (billing.provider). Without a checkout URL, payments go to no real provider (demo, tests) and a
# development secret signs them; with one, the shared secret is required (refused at start-up otherwise).
COCOTTE_PAYMENT_CHECKOUT_URL = os.environ.get("COCOTTE_PAYMENT_CHECKOUT_URL", "").strip()
COCOTTE_PAYMENT_SECRET = os.environ.get("COCOTTE_PAYMENT_SECRET", "").strip()
if COCOTTE_PAYMENT_CHECKOUT_URL and not COCOTTE_PAYMENT_SECRET:
    raise ImproperlyConfigured(
        "COCOTTE_PAYMENT_CHECKOUT_URL needs COCOTTE_PAYMENT_SECRET, the provider's shared secret."
    )
# PayFiP (public mode): the régie's client number at the DGFiP, and T (test) or X (production).
COCOTTE_PAYFIP_NUMCLI = os.environ.get("COCOTTE_PAYFIP_NUMCLI", "").strip()
COCOTTE_PAYFIP_MODE = os.environ.get("COCOTTE_PAYFIP_MODE", "T").strip() or "T"
# E-invoicing (billing.einvoicing): the API of the operator's approved platform (plateforme agréée), over HTTPS,
# and its bearer token. Without a URL, invoices to businesses go by e-mail, and their transmission says so.
COCOTTE_EINVOICING_URL = os.environ.get("COCOTTE_EINVOICING_URL", "").strip().rstrip("/")
COCOTTE_EINVOICING_TOKEN = os.environ.get("COCOTTE_EINVOICING_TOKEN", "").strip()
if COCOTTE_EINVOICING_URL and urlsplit(COCOTTE_EINVOICING_URL).scheme != "https":
    raise ImproperlyConfigured("COCOTTE_EINVOICING_URL must be an https:// address.")
if COCOTTE_EINVOICING_URL and not COCOTTE_EINVOICING_TOKEN:
    raise ImproperlyConfigured(
        "COCOTTE_EINVOICING_URL needs COCOTTE_EINVOICING_TOKEN, the platform's API token."
    )
COCOTTE_TERMS_VERSION = os.environ.get("COCOTTE_TERMS_VERSION", "2026-11")
COCOTTE_PRIVACY_VERSION = os.environ.get("COCOTTE_PRIVACY_VERSION", "2026-11")
COCOTTE_DPO_CONTACT = os.environ.get("COCOTTE_DPO_CONTACT", "dpo@hautesterres.fr")
COCOTTE_OPERATOR_NAME = os.environ.get("COCOTTE_OPERATOR_NAME", "Hautes Terres Communauté")

# French first, English second. Times are stored in UTC and shown in each site's zone (Europe/Paris).
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Files only a permission-checked view serves (cocotte.core.files): never under MEDIA_ROOT, no URL.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "private", "base_url": None},
    },
}
WHITENOISE_USE_FINDERS = True  # serve app static files without a collectstatic step in the demo
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if email_url := os.environ.get("EMAIL_URL"):
    # smtp://user:password@host:587 — the usual way to hand mail settings to a container.
    from urllib.parse import unquote

    parts = urlsplit(email_url)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = parts.hostname or "localhost"
    EMAIL_PORT = parts.port or 587
    EMAIL_HOST_USER = unquote(parts.username or "")
    EMAIL_HOST_PASSWORD = unquote(parts.password or "")
    EMAIL_USE_TLS = parts.scheme in {"smtp+tls", "smtp"} and EMAIL_PORT == 587
    EMAIL_USE_SSL = parts.scheme == "smtps"
# The sender of every e-mail. The default's domain is reserved (RFC 6761): set a real one in production, from
# a domain whose SPF and DKIM records let the mail server send for it.
_sender_name = COCOTTE_SITE_NAME.replace("\\", "").replace('"', "")
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", f'"{_sender_name}" <ne-pas-repondre@cocotte.localhost>'
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Security. Behind HTTPS (SECURE=true) cookies are secure and HSTS is sent; check with `cocotte check --deploy`.
SECURE = envbool("SECURE", False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and envbool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Preloading HSTS into browsers is hard to undo: the operator opts in with SECURE_HSTS_PRELOAD=true.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
if envbool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint logs each rendering step at INFO: a billing run would print thousands of lines.
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# The booking engine: how many occurrences one recurring request may create.
COCOTTE_MAX_SERIES_OCCURRENCES = envint("COCOTTE_MAX_SERIES_OCCURRENCES", 260)
