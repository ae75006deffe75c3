"""Cocotte's URLs plus two yardsticks for the API's throughput:

- `bench/ping`: the smallest Django JSON view. The same middleware stack as the API, no database.
- `bench/write` (POST, `Authorization: Bearer …`): the honest ceiling of a booking request. It authenticates the
  token as the API does (`ApiToken.authenticate`: one query, and its once-a-minute "last used" write) and
  inserts one row in a transaction, then answers 201 with the row's id: what any write through this stack
  must pay at least (a connection's round trips, an index insert, a commit that flushes the WAL), without the
  booking's rules, lock, conflict check and audit. The row goes to `bench_write`, a table of the benchmark's
  own (`ensure_write_table`, created by the throughput phase), never to Cocotte's tables.
"""

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cocotte.accounts.models import ApiToken
from cocotte.urls import urlpatterns as cocotte_urlpatterns

WRITE_TABLE = "bench_write"


def ping(request):
    return JsonResponse({"ok": True})


def ensure_write_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {WRITE_TABLE} "
            "(id bigserial PRIMARY KEY, user_id bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )


@csrf_exempt  # a token, not a session: as the API
@require_POST
def write(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = ApiToken.authenticate(token) if scheme.lower() == "bearer" and token else None
    if user is None:
        return JsonResponse({"detail": "token", "code": "invalid_token"}, status=401)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {WRITE_TABLE} (user_id) VALUES (%s) RETURNING id", [user.pk])  # noqa: S608
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id}, status=201)


urlpatterns = [
    path("bench/ping", ping, name="bench-ping"),
    path("bench/write", write, name="bench-write"),
    *cocotte_urlpatterns,
]
