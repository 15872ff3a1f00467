"""Vigil's URLs plus ``POST /bench/floor/``: one INSERT of the request body, committed, then 202."""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

FLOOR_TABLE = "bench_floor"


@csrf_exempt
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FLOOR_TABLE} (body) VALUES (%s)", [request.body.decode()])  # noqa: S608
    return HttpResponse(b'{"status": "success"}', status=202, content_type="application/json")


urlpatterns = [
    path("bench/floor/", floor),
    path("", include("config.urls")),
]

handler404 = "config.api.json_not_found"
