from django.urls import path

from . import planner

app_name = "planner"

urlpatterns = [
    path("planning/", planner.index, name="index"),
    path("planning/<slug:site_slug>/", planner.site, name="site"),
    path("planning/<slug:site_slug>/indisponibilite/", planner.block, name="block"),
    path("demandes/<int:booking_id>/valider/", planner.approve, name="approve"),
    path("demandes/<int:booking_id>/refuser/", planner.refuse, name="refuse"),
    path("reservations/<int:booking_id>/arrivee/", planner.check_in, name="check_in"),
]
