from django.urls import path

from . import views

app_name = "spaces"

urlpatterns = [
    path("lieux/<slug:slug>/", views.site_page, name="site"),
]
