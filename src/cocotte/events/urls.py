"""Events' pages, mounted at the site's root: `evenements/…` and `agenda/…`."""

from django.urls import path

from . import agenda, views

app_name = "events"

urlpatterns = [
    path("evenements/", views.event_list, name="list"),
    path("evenements/<int:pk>/", views.detail, name="detail"),
    path("evenements/<int:pk>/evenement.ics", views.calendar_file, name="ics_file"),
    path("evenements/inscription/<str:token>/", views.registration, name="registration"),
    path("evenements/inscription/<str:token>/confirmer/", views.confirm, name="confirm"),
    path("evenements/inscription/<str:token>/accepter/", views.accept, name="accept"),
    path("evenements/inscription/<str:token>/annuler/", views.cancel, name="cancel"),
    path("evenements/equipe/", views.staff_list, name="staff"),
    path("evenements/equipe/nouveau/", views.create, name="create"),
    path("evenements/<int:pk>/equipe/", views.staff_event, name="staff_event"),
    path("evenements/<int:pk>/modifier/", views.edit, name="edit"),
    path("evenements/<int:pk>/publier/", views.publish, name="publish"),
    path("evenements/<int:pk>/annuler/", views.cancel_event, name="cancel_event"),
    path(
        "evenements/<int:pk>/inscrits/<int:registration_id>/annuler/",
        views.remove_registration,
        name="remove_registration",
    ),
    path("evenements/<int:pk>/accueil/", views.door, name="door"),
    path("evenements/<int:pk>/inscriptions.csv", views.export, name="export"),
    path("evenements/qr/<str:code>/", views.scan, name="scan"),
    path("agenda/", agenda.agenda, name="agenda"),
    path("agenda/<int:year>/<int:month>/", agenda.month, name="month"),
    path("agenda.ics", agenda.ics_feed, name="ics"),
    path("agenda.atom", agenda.AtomFeed(), name="atom"),
]
