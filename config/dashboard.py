"""The dashboard's single page: index.html of the Vite build for every client-side route.

Whitenoise (settings ``WHITENOISE_ROOT``) serves the build's files themselves; whatever path is
left — ``/``, ``/login``, ``/accounts/…``, ``/console/…``, ``/till/…`` — is a route of the React
router, so the browser gets index.html and the app picks the page. Storefront origins listed in
``PATRON_CORS_ALLOWED_ORIGINS`` may frame it (``/embed``, docs/integrations.md).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Patron: dashboard not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The dashboard is not built</h1>
<p>Patron's API is up: <a href="/graphql/">/graphql/</a> (GraphiQL).</p>
<p>The dashboard needs Node.js 20+ and npm. Build it and restart the server:</p>
<pre>scripts/run          # installs and builds frontend/ when npm is available
# or by hand:
cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</pre>
</body></html>
"""


@require_safe
@ensure_csrf_cookie  # the app's first POST then finds the csrftoken cookie already set
def dashboard(request: HttpRequest, path: str = "") -> HttpResponse:
    """index.html for a client-side route, or a page saying how to build the dashboard."""
    # A missing file (an old asset, /favicon.ico) is a 404, not the app's HTML under a .js name.
    if "." in path.rsplit("/", 1)[-1]:
        raise Http404(path)
    try:
        html = (Path(settings.PATRON_DASHBOARD_DIR) / "index.html").read_bytes()
    except FileNotFoundError:
        return HttpResponse(NOT_BUILT, status=503)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # index.html names the current hashed assets: always revalidate it, unlike the assets.
    patch_cache_control(response, no_cache=True)
    allow_storefront_frames(response)
    return response


def allow_storefront_frames(response: HttpResponse) -> None:
    """Let the listed storefront origins frame the dashboard (the member view embedded with a token).

    With ``PATRON_CORS_ALLOWED_ORIGINS`` set, the page answers ``Content-Security-Policy:
    frame-ancestors 'self' <origins>`` instead of ``X-Frame-Options: DENY`` (which cannot name
    origins); with none set, Django's DENY stays and nobody may frame it (clickjacking).
    """
    origins = settings.CORS_ALLOWED_ORIGINS
    if origins:
        response.xframe_options_exempt = True
        response["Content-Security-Policy"] = "frame-ancestors 'self' " + " ".join(origins)
