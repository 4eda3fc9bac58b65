"""HTTP routes: GraphQL (and GraphiQL) at /graphql/, the Django admin at /admin/, and the
dashboard's index.html for every other path (its built files are served by whitenoise)."""

from django.contrib import admin
from django.urls import path, re_path
from django.views.decorators.csrf import ensure_csrf_cookie
from strawberry.django.views import GraphQLView

from config.dashboard import dashboard
from config.schema import schema

urlpatterns = [
    path("admin/", admin.site.urls),
    # Session-authenticated mutations stay CSRF-protected; GraphiQL sends the token from the
    # cookie that this view sets on GET.
    path("graphql/", ensure_csrf_cookie(GraphQLView.as_view(schema=schema, graphql_ide="graphiql"))),
    # Last: client-side routes of the dashboard. The server's own prefixes are left out so that
    # /graphql or /admin without the slash still get Django's redirect, and a missing /static/
    # or /assets/ file a 404.
    re_path(r"^(?!(?:graphql|admin|static|assets)(?:/|$))(?P<path>.*)$", dashboard),
]
