"""The SPA entry page and a health check."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Tubelet</title>
<body style="font-family:sans-serif;background:#111;color:#eee;padding:3em">
<h1>Tubelet</h1><p>The web app has not been built. Run <code>make frontend</code>
(or <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>) and reload.</p>
<p>The API is at <a style="color:#8cf" href="/api/me">/api/</a>.</p></body>"""


@ensure_csrf_cookie
def spa_index(request: HttpRequest, **_: object) -> HttpResponse:
    index = settings.FRONTEND_DIST / "index.html"
    if not index.exists():
        return HttpResponse(_NOT_BUILT, status=503)
    response = HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
