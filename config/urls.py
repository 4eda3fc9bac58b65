"""HTTP routes: GraphQL (and GraphiQL) at /graphql/, the Django admin at /admin/."""

from django.contrib import admin
from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie
from strawberry.django.views import GraphQLView

from config.schema import schema

urlpatterns = [
    path("admin/", admin.site.urls),
    # Session-authenticated mutations stay CSRF-protected; GraphiQL sends the token from the
    # cookie that this view sets on GET.
    path("graphql/", ensure_csrf_cookie(GraphQLView.as_view(schema=schema, graphql_ide="graphiql"))),
]
