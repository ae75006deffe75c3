from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from cocotte.api import api
from cocotte.core import views as core_views
from cocotte.spaces import views as spaces_views

admin.site.site_header = "Cocotte"
admin.site.site_title = "Cocotte"
admin.site.index_title = "Administration du réseau"

urlpatterns = [
    path("", spaces_views.home, name="home"),
    path("", include("cocotte.spaces.urls")),
    path("", include("cocotte.bookings.urls")),
    path("equipe/", include("cocotte.bookings.planner_urls")),
    path("calendrier/", include("cocotte.bookings.feed_urls")),
    path("facturation/", include("cocotte.billing.urls")),
    path("formations/", include("cocotte.learning.urls")),
    path("", include("cocotte.events.urls")),
    path("profil/", include("cocotte.accounts.urls")),
    path("comptes/", include("allauth.urls")),
    path("langue/", set_language, name="set_language"),
    path(
        "accessibilite/",
        core_views.static_page,
        {"template": "core/accessibility.html"},
        name="accessibility",
    ),
    path("confidentialite/", core_views.static_page, {"template": "core/privacy.html"}, name="privacy"),
    path("conditions/", core_views.static_page, {"template": "core/terms.html"}, name="terms"),
    path("health", core_views.health, name="health"),
    path("media/<path:path>", core_views.public_media, name="public_media"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
