"""The GraphQL HTTP view and the HTTP-level refusals, all answered as GraphQL-shaped JSON.

``PatronGraphQLView`` is strawberry's Django view with three changes:

- a request whose JSON (body, or the ``variables`` of a GET) is nested deeper than
  ``PATRON_GRAPHQL_MAX_JSON_DEPTH`` is refused with ``INVALID_INPUT`` before anything else runs
  (1,000 nested lists used to end in a RecursionError and an HTTP 500);
- strawberry's plain-text refusals (malformed JSON, no query, a mutation over GET, a method other
  than GET/POST) answer ``{"errors": [{"message": ..., "extensions": {"code": ...}}]}`` with the
  same status (codes ``BAD_REQUEST``, ``NOT_FOUND``, ``METHOD_NOT_ALLOWED``);
- GraphiQL is served only when ``settings.PATRON_GRAPHIQL`` is on (read per request), and it is
  the project's own build (``graphiql.html`` of the dashboard's Vite build, assets under
  /assets/), never strawberry's page that loads GraphiQL from a CDN: it works offline. Without
  the build, a self-contained page says how to build it and how to query with curl meanwhile.

``csrf_failure`` (Django's ``CSRF_FAILURE_VIEW``) answers ``CSRF_FAILED`` the same way on
/graphql/, and the ``handler400/403/404/500`` views of ``config.urls`` do so for the other
Django-level refusals there (``BAD_REQUEST``, ``PERMISSION_DENIED``, ``NOT_FOUND``,
``INTERNAL_ERROR`` with the request id); elsewhere (admin, dashboard) Django's own pages stay.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from strawberry.django.views import GraphQLView

from api_core.request_id import current_request_id

GRAPHQL_PREFIX = "/graphql"
_STATUS_CODES = {400: "BAD_REQUEST", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}

#: GraphiQL's page when the dashboard is not built: no script, style sheet or font from anywhere,
#: so it renders offline too. ``{endpoint}`` is this server's /graphql/ URL (escaped).
GRAPHIQL_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Patron: GraphiQL not built</title></head>
<body style="font-family: sans-serif; max-width: 44em; margin: 3em auto">
<h1>GraphiQL needs the dashboard build</h1>
<p>Patron's GraphQL API is up at this URL. Its GraphiQL is built with the dashboard (Node.js 20+
and npm), from the project's own packages, so that it works offline. Build it and restart the server:</p>
<pre>scripts/run          # installs and builds frontend/ when npm is available
# or by hand:
cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>Meanwhile, query the API with any HTTP client, for example:</p>
<pre>curl -G {endpoint} -H 'Accept: application/json' \\
  --data-urlencode 'query={{ shops(first: 5) {{ edges {{ node {{ id name }} }} }} }}'</pre>
</body></html>
"""


class RequestRefused(HTTPException):
    """An HTTP-level refusal with its GraphQL error code (and the input field at fault)."""

    def __init__(self, status_code: int, reason: str, *, code: str, field: str | None = None) -> None:
        """``code`` goes to ``extensions.code``, ``field`` to ``extensions.field``."""
        super().__init__(status_code, reason)
        self.code = code
        self.field = field


def graphql_error_response(
    message: str, *, code: str, status: int, field: str | None = None, **extensions: Any
) -> JsonResponse:
    """``{"data": null, "errors": [{"message", "extensions": {"code", ...}}]}`` with ``status``."""
    body_extensions: dict[str, Any] = {"code": code, **extensions}
    if field is not None:
        body_extensions["field"] = field
    return JsonResponse({"data": None, "errors": [{"message": message, "extensions": body_extensions}]}, status=status)


def json_depth_exceeds(value: object, limit: int) -> bool:
    """True when ``value`` (decoded JSON) nests lists/objects deeper than ``limit`` (iterative walk)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class PatronGraphQLView(GraphQLView):
    """strawberry's Django view with the JSON depth limit, JSON refusals and the GraphiQL switch."""

    def decode_json(self, data: str | bytes) -> object:
        """``json.loads`` with a nesting limit: too deep is ``INVALID_INPUT``, never a RecursionError."""
        limit = settings.PATRON_GRAPHQL_MAX_JSON_DEPTH
        refusal = RequestRefused(
            400,
            f"The request's JSON (its variables) is nested deeper than {limit} levels.",
            code="INVALID_INPUT",
            field="variables",
        )
        try:
            decoded = json.loads(data)
        except RecursionError:
            raise refusal from None
        if json_depth_exceeds(decoded, limit):
            raise refusal
        return decoded

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Run the operation; an HTTP-level refusal answers GraphQL-shaped JSON with its status."""
        try:
            return self.run(request=request)
        except RequestRefused as refusal:
            return graphql_error_response(
                refusal.reason, code=refusal.code, status=refusal.status_code, field=refusal.field
            )
        except HTTPException as refusal:
            code = _STATUS_CODES.get(refusal.status_code, "BAD_REQUEST")
            return graphql_error_response(refusal.reason, code=code, status=refusal.status_code)

    def render_graphql_ide(self, request: HttpRequest) -> HttpResponse:
        """GraphiQL when ``PATRON_GRAPHIQL`` is on; otherwise ``NOT_FOUND`` (JSON).

        The page is the dashboard build's ``graphiql.html`` (its hashed assets come from
        whitenoise); without a build, ``GRAPHIQL_NOT_BUILT`` with status 503, as for the dashboard.
        """
        if not settings.PATRON_GRAPHIQL:
            raise HTTPException(404, "GraphiQL is off on this server (PATRON_GRAPHIQL=1 turns it on).")
        try:
            response = HttpResponse(
                (Path(settings.PATRON_DASHBOARD_DIR) / "graphiql.html").read_bytes(),
                content_type="text/html; charset=utf-8",
            )
        except FileNotFoundError:
            endpoint = escape(request.build_absolute_uri(GRAPHQL_PREFIX + "/"))
            response = HttpResponse(
                GRAPHIQL_NOT_BUILT.format(endpoint=endpoint), content_type="text/html; charset=utf-8", status=503
            )
        # The page names the current hashed assets (and a build may appear): always revalidate.
        patch_cache_control(response, no_cache=True)
        return response


def _on_graphql(request: HttpRequest) -> bool:
    return request.path.startswith(GRAPHQL_PREFIX)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's ``CSRF_FAILURE_VIEW``: ``CSRF_FAILED`` (403) on /graphql/, Django's page elsewhere."""
    if _on_graphql(request):
        return graphql_error_response(
            "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value "
            "(a GET of /graphql/ sets the cookie).",
            code="CSRF_FAILED",
            status=403,
        )
    return django_csrf_failure(request, reason=reason)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: ``BAD_REQUEST`` on /graphql/ (e.g. a body over the upload limit)."""
    if _on_graphql(request):
        return graphql_error_response("Bad request.", code="BAD_REQUEST", status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler403``: ``PERMISSION_DENIED`` on /graphql/."""
    if _on_graphql(request):
        return graphql_error_response("Forbidden.", code="PERMISSION_DENIED", status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: ``NOT_FOUND`` under /graphql/."""
    if _on_graphql(request):
        return graphql_error_response("Not found.", code="NOT_FOUND", status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: ``INTERNAL_ERROR`` with the request id on /graphql/ (the log has the traceback)."""
    if _on_graphql(request):
        return graphql_error_response(
            "Internal error.", code="INTERNAL_ERROR", status=500, requestId=current_request_id()
        )
    return defaults.server_error(request)
