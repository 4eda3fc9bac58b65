"""The built dashboard (frontend/dist) served by the one web process: its files by whitenoise,
index.html for every client-side route, and a helpful page when it has not been built."""

from __future__ import annotations

import httpx
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.test import Client, override_settings

# Not for the tests' sake: each response's end closes the old database connections.
pytestmark = [pytest.mark.django_db]

INDEX = (
    b'<!doctype html><html><body><div id="root"></div>'
    b'<script type="module" src="/assets/index-Ab1_x9Zq.js"></script></body></html>'
)
ASSET = b"console.log('patron')"


@pytest.fixture
def dist(tmp_path):
    """A stand-in for `npm run build`'s output, made the served dashboard (whitenoise scans its
    root when the middleware is built, i.e. by each new test client)."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-Ab1_x9Zq.js").write_bytes(ASSET)
    (root / "favicon.svg").write_bytes(b"<svg/>")
    with override_settings(PATRON_DASHBOARD_DIR=root, WHITENOISE_ROOT=root):
        yield root


@pytest.mark.parametrize(
    "url",
    ["/", "/login", "/accounts/QWNjb3VudDox", "/console/x/tiers", "/console/demo/analytics", "/till/demo-coffee"],
)
def test_client_routes_get_index_html(dist, url):
    # when the browser opens (or reloads) a route of the React app
    response = Client().get(url)
    # then it gets the app's index.html, always revalidated, with the CSRF cookie for its POSTs
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.content == INDEX
    assert "no-cache" in response["Cache-Control"]
    assert "csrftoken" in response.cookies


def test_hashed_assets_come_from_whitenoise_cacheable_for_ever(dist):
    # when index.html's script is fetched
    response = Client().get("/assets/index-Ab1_x9Zq.js")
    # then whitenoise serves the file, immutable (its name changes with its content)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == ASSET
    assert "immutable" in response["Cache-Control"]
    response.close()
    # and a public file at the root is served too, but not for ever
    icon = Client().get("/favicon.svg")
    assert icon.status_code == 200
    assert "immutable" not in icon["Cache-Control"]
    icon.close()


@pytest.mark.parametrize("url", ["/assets/index-Old12345.js", "/favicon.ico", "/static/nothing.css"])
def test_missing_files_are_404_not_the_app(dist, url):
    assert Client().get(url).status_code == 404


@override_settings(PATRON_GRAPHIQL=True)  # development behaviour (scripts/run turns GraphiQL on)
def test_graphql_and_admin_keep_their_routes(dist):
    client = Client()
    # GraphQL still answers at /graphql/
    response = client.get("/graphql/", {"query": "{ __typename }"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"data": {"__typename": "Query"}}
    # GraphiQL too
    assert b"graphiql" in client.get("/graphql/", HTTP_ACCEPT="text/html").content.lower()
    # without the slash they are redirected, not swallowed by the app
    assert client.get("/graphql")["Location"] == "/graphql/"
    assert client.get("/admin")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 302  # to the admin's login


def test_only_reads_are_answered(dist):
    assert Client().post("/console/x/tiers").status_code == 405


def test_missing_build_gives_a_page_saying_how_to_build(tmp_path):
    missing = tmp_path / "no-dist"
    with override_settings(PATRON_DASHBOARD_DIR=missing, WHITENOISE_ROOT=None):
        response = Client().get("/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"npm run build" in response.content
    assert b"/graphql/" in response.content


# whitenoise's file iterator is synchronous; Django's ASGI handler reads it in a thread and says so.
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
async def test_served_under_asgi_like_daphne(dist):
    # given Django's ASGI handler (what daphne runs; built here so that it sees the test's dist)
    transport = httpx.ASGITransport(app=ASGIHandler())
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        # when the app's page and its script are fetched
        page = await client.get("/console/x/tiers")
        asset = await client.get("/assets/index-Ab1_x9Zq.js")
    # then both arrive through the ASGI path (whitenoise is a sync middleware that Django adapts)
    assert (page.status_code, page.content) == (200, INDEX)
    assert (asset.status_code, asset.content) == (200, ASSET)
    assert "immutable" in asset.headers["cache-control"]


def test_nobody_frames_the_dashboard_unless_storefront_origins_are_listed(dist, settings):
    closed = Client().get("/embed")
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example"]
    opened = Client().get("/embed")

    assert closed["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in closed
    assert "X-Frame-Options" not in opened
    assert opened["Content-Security-Policy"] == "frame-ancestors 'self' https://shop.example"
