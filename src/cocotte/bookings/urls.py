from django.urls import path

from . import views

app_name = "bookings"

urlpatterns = [
    path("reserver/<slug:site_slug>/", views.grid, name="grid"),
    path("reserver/<slug:site_slug>/<int:resource_id>/", views.book, name="book"),
    path("mes-reservations/", views.mine, name="mine"),
    path("mes-reservations/<int:booking_id>/deplacer/", views.move, name="move"),
    path("mes-reservations/<int:booking_id>/annuler/", views.cancel, name="cancel"),
    path("mes-reservations/<int:booking_id>/arrivee/", views.check_in, name="check_in"),
    path("mes-reservations/serie/<int:series_id>/annuler/", views.cancel_series, name="cancel_series"),
]
