"""Cocotte's URLs plus `bench/ping`: the smallest Django JSON view, the yardstick for the API's throughput.

The ping goes through the same middleware stack as the API but reads nothing from the database.
"""

from django.http import JsonResponse
from django.urls import path

from cocotte.urls import urlpatterns as cocotte_urlpatterns


def ping(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/ping", ping, name="bench-ping"), *cocotte_urlpatterns]
