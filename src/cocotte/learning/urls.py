from django.urls import path

from . import evidence_urls, views

app_name = "learning"

# Catalogue, enrolment and the team's sessions here; attendance, certificates, surveys, complaints and results in
# evidence_urls.
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("programme/<slug:slug>/", views.programme, name="programme"),
    path("session/<int:pk>/candidater/", views.apply, name="apply"),
    path("mes-formations/", views.mine, name="mine"),
    path("inscription/<int:pk>/contrat/", views.contract, name="contract"),
    path("inscription/<int:pk>/place/", views.offer, name="offer"),
    path("inscription/<int:pk>/desistement/", views.withdraw, name="withdraw"),
    path("equipe/", views.staff_index, name="staff_index"),
    path("equipe/session/<int:pk>/", views.staff_session, name="staff_session"),
    path("equipe/session/<int:pk>/seances/", views.staff_add_sitting, name="staff_add_sitting"),
    path("equipe/session/<int:pk>/reglages/", views.staff_settings, name="staff_settings"),
    path("equipe/session/<int:pk>/annulation/", views.staff_cancel, name="staff_cancel"),
    path("equipe/seance/<int:pk>/", views.staff_edit_sitting, name="staff_edit_sitting"),
    path("equipe/seance/<int:pk>/suppression/", views.staff_remove_sitting, name="staff_remove_sitting"),
    path("equipe/inscription/<int:pk>/<str:action>/", views.staff_decide, name="staff_decide"),
    *evidence_urls.urlpatterns,
]
