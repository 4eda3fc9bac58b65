"""ASGI entry point: HTTP (Django: GraphQL, GraphiQL, admin) and WebSocket GraphQL subscriptions.

WebSocket connections are authenticated when they open, from the session cookie
(``AuthMiddlewareStack``) or a bearer credential in ``connection_init``; the user is then fixed for
the connection's life, and a logout of that session closes the socket (``config.consumers``).

Outside debug mode the server refuses to start without ``PATRON_SECRET_KEY`` (scripts/run makes
one for the embedded default).
"""

import os
from urllib.parse import ParseResult

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

try:
    settings.SECRET_KEY  # noqa: B018 (Django raises on an empty key when it is read)
except ImproperlyConfigured:
    raise ImproperlyConfigured(
        "PATRON_SECRET_KEY is not set: set it to a long random value (docs/operations.md, "
        "'Production profile'); only PATRON_DEBUG=1 falls back to a development key."
    ) from None

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from config.consumers import SessionBoundGraphQLWSConsumer  # noqa: E402
from config.embedded import start_embedded_runtime  # noqa: E402
from config.metrics import WebSocketCounter  # noqa: E402
from config.schema import schema  # noqa: E402

# django-stubs type re_path()'s view as a Django view and types-channels want URLRouter's routes
# as its own URLPattern subclass; channels documents routing ASGI consumers through re_path.
websocket_urls = [re_path(r"^graphql/?$", SessionBoundGraphQLWSConsumer.as_asgi(schema=schema))]  # type: ignore[arg-type]


class PatronOriginValidator(OriginValidator):
    """Refuse browser sockets from foreign pages; allow sockets that send no ``Origin``.

    A browser always sends ``Origin`` on a WebSocket: it must be this site (``ALLOWED_HOSTS``) or a
    storefront listed in ``PATRON_CORS_ALLOWED_ORIGINS``, which stops other sites' pages from
    riding a member's session cookie. A client that sends none is not a browser (a shop's server
    with an API key): it holds its credentials itself, so there is nothing to hijack.
    """

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        """True without an ``Origin``; otherwise channels' pattern check."""
        return parsed_origin is None or bool(super().valid_origin(parsed_origin))


websocket_app = PatronOriginValidator(
    AuthMiddlewareStack(URLRouter(websocket_urls)),  # type: ignore[arg-type]
    [*settings.ALLOWED_HOSTS, *settings.CORS_ALLOWED_ORIGINS],
)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # WebSocketCounter: the open-connections gauge of /metrics (config.metrics).
        "websocket": WebSocketCounter(websocket_app),
    }
)

start_embedded_runtime()
