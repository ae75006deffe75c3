from django.contrib import admin
from django.urls import path

from cocotte.api import api
from cocotte.core import views as core_views

admin.site.site_header = "Cocotte"
admin.site.site_title = "Cocotte"
admin.site.index_title = "Administration du réseau"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health", core_views.health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
