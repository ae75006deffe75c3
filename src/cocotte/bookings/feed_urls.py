"""Calendar feeds, under /calendrier/ (see cocotte.urls)."""

from django.urls import path

from . import feeds

app_name = "calendar"

urlpatterns = [
    # Before the resource feeds: a site whose slug is "membre" has no public feed.
    path("membre/<slug:key>.ics", feeds.member_feed, name="member"),
    path("<slug:site_slug>/<slug:resource_slug>.ics", feeds.resource_feed, name="resource"),
]
