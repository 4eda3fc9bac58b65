"""ASGI entry point: HTTP (Django: GraphQL, GraphiQL, admin) and WebSocket GraphQL subscriptions.

WebSocket connections are authenticated when they open, from the session cookie
(``AuthMiddlewareStack``); the user is then fixed for the connection's life.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402
from strawberry.channels import GraphQLWSConsumer  # noqa: E402

from config.embedded import start_embedded_runtime  # noqa: E402
from config.schema import schema  # noqa: E402

# django-stubs type re_path()'s view as a Django view and types-channels want URLRouter's routes
# as its own URLPattern subclass; channels documents routing ASGI consumers through re_path.
websocket_urls = [re_path(r"^graphql/?$", GraphQLWSConsumer.as_asgi(schema=schema))]  # type: ignore[arg-type]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urls))),  # type: ignore[arg-type]
    }
)

start_embedded_runtime()
