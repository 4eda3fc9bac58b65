"""Liveness and readiness of the web process (docs/operations.md, "Health and metrics").

``/healthz`` answers 200 as long as the process serves requests (it touches nothing else);
``/readyz`` answers 200 when the database and the broker answer, else 503 with the failing
checks, so that a load balancer stops sending traffic to a web process that cannot serve it.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from marketplace.health import checks_for


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database and broker reachable (503 and the failing checks otherwise)."""
    results = checks_for("web")
    ok = not any(results.values())
    body = {"status": "ok" if ok else "unavailable", "checks": {k: v or "ok" for k, v in results.items()}}
    return JsonResponse(body, status=200 if ok else 503)
