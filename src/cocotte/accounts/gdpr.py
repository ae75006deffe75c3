"""A person's data, as the GDPR lets them ask for it (art. 15 and 20) and have it erased (art. 17).

Each app registers its part in `AppConfig.ready()`: what it exports for a person (plain JSON data) and how it
erases them. Erasing anonymises, it does not delete: what the law makes the platform keep — issued invoices,
statements, training evidence — stays unchanged for its legal period, under the name it was issued to
(DOMAIN.md); a booking's row stays, counted in the place's figures, but no longer says who.

`accounts` registers the account itself, last: the other parts run first, while the person is still there.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone


@dataclass(frozen=True)
class Part:
    name: str
    export: Callable  # (user) -> JSON-serialisable data
    erase: Callable  # (user) -> None, inside the erasure's transaction
    order: int


_parts: dict[str, Part] = {}


def register(name: str, *, export: Callable, erase: Callable, order: int = 100) -> None:
    """Add (or replace) an app's part: `name` is the key of its data in the export."""
    _parts[name] = Part(name, export, erase, order)


def parts() -> list[Part]:
    return sorted(_parts.values(), key=lambda part: (part.order, part.name))


def export(user) -> dict:
    """Everything the platform holds on the person, part by part."""
    return {
        "exported_at": timezone.now().isoformat(),
        **{part.name: part.export(user) for part in parts()},
    }


@transaction.atomic
def erase(user, *, by=None) -> None:
    """Anonymise the person everywhere, all parts or none. Their account can no longer be used."""
    from cocotte.core.models import audit

    for part in reversed(parts()):  # the account's own part last (registered with the lowest order)
        part.erase(user)
    audit(by or user, "account.erased", user)


# --- the account's own part ------------------------------------------------------------------------------


def _export_account(user) -> dict:
    profile = getattr(user, "profile", None)
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "profile": {
            "status": profile.status,
            "organisation": profile.organisation.name if profile.organisation else None,
            "phone": profile.phone,
            "commune": profile.commune,
            "billing_address": profile.billing_address,
            "language": profile.language,
        }
        if profile
        else None,
        "consents": [
            {"document": c.document, "version": c.version, "accepted_at": c.accepted_at.isoformat()}
            for c in user.consents.order_by("accepted_at")
        ],
        "roles": [
            {"role": r.role, "scope": r.scope_app_label or None, "scope_id": r.scope_id}
            for r in user.roles.order_by("granted_at")
        ],
        "api_tokens": [
            {"name": t.name, "created_at": t.created_at.isoformat(), "revoked": t.revoked_at is not None}
            for t in user.api_tokens.order_by("created_at")
        ],
    }


def _erase_account(user) -> None:
    from allauth.account.models import EmailAddress

    from .models import Profile, new_calendar_key

    now = timezone.now()
    user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
    user.roles.all().delete()
    EmailAddress.objects.filter(user=user).delete()
    Profile.objects.filter(user=user).update(
        phone="", commune="", billing_address="", organisation=None, calendar_key=new_calendar_key()
    )
    user.consents.update(ip_address=None)  # the consent stays as evidence; the address goes
    user.email = f"supprime-{user.pk}-{secrets.token_hex(4)}@invalid"  # unique, and reaches nobody
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()


register("account", export=_export_account, erase=_erase_account, order=0)
