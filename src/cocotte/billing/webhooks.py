"""The online payment providers' notifications: verified, applied once, answered at once.

Thin on purpose: the provider checks the notification (`verify`: signature and age, or PayFiP's web
service), `provider.settle` applies it under the payment's lock. No session and no CSRF token: the provider
is not a browser, and its signature is what authenticates it. Answers: 200 once applied (or already
applied: the provider stops retrying), 400 for a notification that cannot be trusted (nothing written), 404
for a provider or a payment we do not know.
"""

import logging

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import provider as providers

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def notify(request, provider: str):
    adapter = providers.provider_named(provider)
    if adapter is None:
        return HttpResponseNotFound("unknown provider")
    try:
        notification = adapter.verify(request.headers, request.body)
        payment = providers.settle(notification)
    except providers.NotificationError as error:
        logger.warning("Refused a %s payment notification: %s", provider, error)
        return HttpResponseBadRequest("refused")
    if payment is None:
        logger.warning("A %s notification names no payment we know: %s", provider, notification.reference)
        return HttpResponseNotFound("unknown payment")
    return HttpResponse("ok", content_type="text/plain")
