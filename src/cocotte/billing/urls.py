from django.urls import path

from . import staff, views, webhooks

app_name = "billing"

urlpatterns: list = [
    path("paiement/notification/<str:provider>", webhooks.notify, name="payment_webhook"),
    # Members: their bills and their organisations', each bill, its PDF, their receipts, paying online.
    path("", views.mine, name="mine"),
    path("pieces/<int:pk>/", views.bill, name="bill"),
    path("pieces/<int:pk>/pdf", views.bill_pdf, name="bill_pdf"),
    path("pieces/<int:pk>/payer", views.pay, name="pay"),
    path("recus/<int:pk>/pdf", views.receipt_pdf, name="receipt_pdf"),
    path("formules/", views.plans, name="plans"),
    path("formules/<int:pk>/resilier", views.cancel_plan, name="cancel_plan"),
    # The team: months billed, their drafts reviewed line by line, then issued; credit notes.
    path("equipe/", staff.index, name="staff"),
    path("equipe/mois/<int:run_id>/", staff.run, name="run"),
    path("equipe/mois/<int:run_id>/emettre", staff.issue, name="run_issue"),
    path("equipe/brouillons/<int:bill_id>/", staff.draft, name="draft"),
    path("equipe/brouillons/<int:bill_id>/emettre", staff.issue_draft, name="draft_issue"),
    path("equipe/brouillons/<int:bill_id>/abandonner", staff.discard, name="draft_discard"),
    path("equipe/lignes/<int:line_id>/", staff.line, name="line"),
    path("equipe/pieces/<int:bill_id>/avoir", staff.credit_note, name="credit_note"),
    path("equipe/envois/<int:transmission_id>/relancer", staff.send_again, name="send_again"),
]
