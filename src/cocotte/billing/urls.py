from django.urls import path

from . import webhooks

app_name = "billing"

urlpatterns: list = [
    path("paiement/notification/<str:provider>", webhooks.notify, name="payment_webhook"),
]
