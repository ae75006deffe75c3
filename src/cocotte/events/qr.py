"""The check-in QR code: the URL that a staff phone opens with its own camera (views.scan)."""

import segno
from django.conf import settings
from django.urls import reverse


def checkin_url(registration) -> str:
    return settings.COCOTTE_PUBLIC_URL + reverse("events:scan", args=[registration.checkin_code])


def svg(registration, *, title: str = "") -> str:
    """An inline SVG for a page (no XML declaration), dark on white, with a quiet zone."""
    code = segno.make(checkin_url(registration), error="m")
    return code.svg_inline(scale=5, dark="#1f1f1f", light="#ffffff", title=title or None, svgclass="qr")


def png(registration) -> bytes:
    """A PNG for e-mails: mail clients show PNG inline, most of them not SVG."""
    import io

    out = io.BytesIO()
    segno.make(checkin_url(registration), error="m").save(out, kind="png", scale=6, border=4)
    return out.getvalue()
