from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("calendrier/renouveler/", views.renew_calendar, name="renew_calendar"),
    path("jetons/", views.create_token, name="create_token"),
    path("jetons/<int:token_id>/revoquer/", views.revoke_token, name="revoke_token"),
    path("mes-donnees/", views.my_data, name="my_data"),
    path("supprimer/", views.delete_account, name="delete_account"),
]
