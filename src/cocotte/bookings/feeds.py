"""iCalendar feeds: thin views over `bookings.ical`.

The member's feed is found by its secret key alone (calendar apps send no credentials): no cache may keep
it, and a renewed key makes the old address answer 404. The resource's feed is public and shows no names.
"""

import hashlib

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import quote_etag
from django.views.decorators.http import require_GET

from cocotte.accounts.models import Profile
from cocotte.spaces.models import Resource

from . import ical

CONTENT_TYPE = "text/calendar; charset=utf-8"


def _calendar_response(request, body: bytes, filename: str, **cache) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["ETag"] = quote_etag(hashlib.sha256(body).hexdigest()[:32])
    patch_cache_control(response, **cache)
    # Calendar apps poll: an unchanged feed is answered 304 with its headers, without the body.
    return get_conditional_response(request, etag=response["ETag"], response=response)


@require_GET
def member_feed(request, key: str):
    profile = Profile.objects.select_related("user").filter(calendar_key=key, user__is_active=True).first()
    if profile is None:
        raise Http404
    with translation.override(profile.language):
        body = ical.member_calendar(profile.user)
    response = _calendar_response(request, body, "cocotte.ics", private=True, no_store=True, max_age=0)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def resource_feed(request, site_slug: str, resource_slug: str):
    resource = (
        Resource.objects.select_related("site")
        .filter(site__slug=site_slug, slug=resource_slug, is_active=True, site__is_active=True)
        .first()
    )
    if resource is None:
        raise Http404
    # French first, and the same feed for every calendar app whatever language its servers ask for.
    with translation.override(settings.LANGUAGE_CODE):
        body = ical.resource_calendar(resource)
    return _calendar_response(request, body, f"{site_slug}-{resource_slug}.ics", public=True, max_age=300)
