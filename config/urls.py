"""HTTP routes: GraphQL (and GraphiQL) at /graphql/, the Django admin at /admin/, and the
dashboard's index.html for every other path (its built files are served by whitenoise)."""

from django.contrib import admin
from django.urls import path, re_path
from django.views.decorators.csrf import ensure_csrf_cookie

from config.dashboard import dashboard
from config.health import healthz, readyz
from config.metrics import metrics_view
from config.schema import schema
from config.views import PatronGraphQLView
from engagement.api.views import click_view, unsubscribe_view

urlpatterns = [
    path("admin/", admin.site.urls),
    # Operations (docs/operations.md, "Health and metrics"): liveness, readiness, Prometheus.
    path("healthz", healthz),
    path("readyz", readyz),
    path("metrics", metrics_view),
    # Session-authenticated mutations stay CSRF-protected; GraphiQL (when PATRON_GRAPHIQL is on)
    # sends the token from the cookie that this view sets on GET. Refusals answer GraphQL JSON.
    # A message's unsubscribe link (docs/engagement.md): no login, GET asks, POST unsubscribes.
    path("engagement/unsubscribe/<str:token>", unsubscribe_view, name="engagement-unsubscribe"),
    path("engagement/r/<str:token>", click_view, name="engagement-click"),
    path("graphql/", ensure_csrf_cookie(PatronGraphQLView.as_view(schema=schema, graphql_ide="graphiql"))),
    # Last: client-side routes of the dashboard. The server's own prefixes are left out so that
    # /graphql or /admin without the slash still get Django's redirect, and a missing /static/
    # or /assets/ file a 404.
    re_path(r"^(?!(?:graphql|admin|static|assets|healthz|readyz|metrics|engagement)(?:/|$))(?P<path>.*)$", dashboard),
]

# Django-level refusals on /graphql/ answer GraphQL-shaped JSON (config.views); Django's pages elsewhere.
handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
