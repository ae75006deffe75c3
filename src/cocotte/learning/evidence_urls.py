"""The evidence pages, under /formations/ (included by urls.py, app namespace `learning`)."""

from django.urls import path

from . import evidence_views as views

urlpatterns = [
    path("emargement/", views.attendance_index, name="attendance"),
    path("emargement/<int:pk>/", views.sheet, name="sheet"),
    path("emargement/<int:pk>/signer/", views.sign_own, name="sheet_sign"),
    path("emargement/<int:pk>/formateur/", views.sign_as_trainer, name="sheet_trainer_sign"),
    path("emargement/<int:pk>/cloturer/", views.close_sheet, name="sheet_close"),
    path("emargement/<int:pk>/pdf/", views.sheet_pdf, name="sheet_pdf"),
    path("emargement/<int:pk>/presence/<int:mark_pk>/signer/", views.sign_on_screen, name="mark_sign"),
    path("emargement/<int:pk>/presence/<int:mark_pk>/absence/", views.mark_absence, name="mark_absence"),
    path("emargement/<int:pk>/presence/<int:mark_pk>/corriger/", views.amend_mark, name="mark_amend"),
    path("cloture/<int:pk>/", views.close_session, name="session_close"),
    path("cloture/<int:pk>/certificats/", views.session_certificates, name="session_certificates"),
    path("inscriptions/<int:pk>/devenir/", views.record_business, name="record_business"),
    path("certificats/<int:pk>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    path("questionnaire/<int:pk>/<str:kind>/", views.survey, name="survey"),
    path("reclamation/", views.complaint_new, name="complaint_new"),
    path("reclamations/", views.complaint_register, name="complaints"),
    path("reclamations/export.csv", views.complaint_export, name="complaints_export"),
    path("reclamations/<int:pk>/", views.complaint, name="complaint"),
    path("mes-qualifications/", views.my_qualifications, name="my_qualifications"),
    path("qualifications/", views.qualification_grants, name="qualification_grants"),
    path("qualifications/accordees/<int:pk>/", views.change_grant, name="grant_change"),
    path("<slug:slug>/resultats/", views.programme_results, name="results"),
]
