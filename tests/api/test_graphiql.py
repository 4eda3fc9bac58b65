"""GraphiQL at /graphql/ is the project's own build (frontend/dist/graphiql.html), so that it
works with no internet: nothing in the page comes from another host. Without a build, a
self-contained page says how to build it; with PATRON_GRAPHIQL off, there is no GraphiQL."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

# Not for the tests' sake: each response's end closes the old database connections.
pytestmark = [pytest.mark.django_db]

#: Like Vite's output: the page names its hashed assets by absolute path on this host.
GRAPHIQL_PAGE = (
    b"<!doctype html><html><head><title>Patron GraphiQL</title>"
    b'<script type="module" crossorigin src="/assets/graphiql-Ab1_x9Zq.js"></script>'
    b'<link rel="stylesheet" crossorigin href="/assets/graphiql-Cd2_y8Wr.css"></head>'
    b'<body><div id="graphiql">Loading GraphiQL\xe2\x80\xa6</div></body></html>'
)

URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")


def foreign_urls(page: str, host: str = "testserver") -> list[str]:
    """Every absolute URL (``http://``, ``https://``, protocol-relative) not on ``host``."""
    urls = URL.findall(page)
    return [url for url in urls if url.split("//", 1)[1].split("/", 1)[0] != host]


def open_graphiql(client: Client | None = None):
    """What a browser gets for /graphql/ (it asks for HTML)."""
    return (client or Client()).get("/graphql/", HTTP_ACCEPT="text/html")


@pytest.fixture
def graphiql_on(settings):
    """Development behaviour: scripts/run and the e2e server turn GraphiQL on."""
    settings.PATRON_GRAPHIQL = True
    return settings


@pytest.fixture
def built(graphiql_on, tmp_path):
    """A stand-in for `npm run build`'s output with its graphiql.html."""
    root = tmp_path / "dist"
    root.mkdir()
    (root / "index.html").write_bytes(b"<!doctype html><div id=root></div>")
    (root / "graphiql.html").write_bytes(GRAPHIQL_PAGE)
    graphiql_on.PATRON_DASHBOARD_DIR = root
    return root


@pytest.fixture
def not_built(graphiql_on, tmp_path):
    """No dashboard build at all (no npm on this machine)."""
    graphiql_on.PATRON_DASHBOARD_DIR = tmp_path / "no-dist"
    return graphiql_on.PATRON_DASHBOARD_DIR


def test_graphiql_is_the_built_page_with_nothing_from_another_host(built):
    # when a browser opens /graphql/
    response = open_graphiql()
    # then it gets the build's graphiql.html as it is, always revalidated (it names hashed assets)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.content == GRAPHIQL_PAGE
    assert "no-cache" in response["Cache-Control"]
    # and nothing in it points off this host (strawberry's own page loads GraphiQL from a CDN)
    assert foreign_urls(response.content.decode()) == []
    # and the CSRF cookie is set for the page's POSTs (config/urls.py wraps the view)
    assert "csrftoken" in response.cookies


def test_a_rebuilt_page_is_served_without_a_restart(built):
    # given GraphiQL was opened once
    assert open_graphiql().content == GRAPHIQL_PAGE
    # when the build changes
    (built / "graphiql.html").write_bytes(GRAPHIQL_PAGE.replace(b"Ab1_x9Zq", b"New12345"))
    # then the next visit gets the new page (read per request, like the dashboard's index.html)
    assert b"/assets/graphiql-New12345.js" in open_graphiql().content


def test_the_api_still_answers_json_at_the_same_url(built):
    response = Client().get("/graphql/", {"query": "{ __typename }"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"data": {"__typename": "Query"}}


def test_without_a_build_a_self_contained_page_says_how_to_build(not_built):
    # when a browser opens /graphql/ on a server whose dashboard was never built
    response = open_graphiql()
    # then a page (like the dashboard's: 503) says what to run
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert "no-cache" in response["Cache-Control"]
    page = response.content.decode()
    assert "GraphiQL needs the dashboard build" in page
    assert "scripts/run" in page
    assert "npm ci &amp;&amp; npm run build" in page
    # with no script, style sheet or image at all, and no URL off this host
    assert not re.search(r"<script|<link|<img|@import|url\(", page)
    assert foreign_urls(page) == []
    # and its curl example names this server's endpoint
    assert "curl -G http://testserver/graphql/" in page


def test_the_curl_example_of_the_fallback_page_works(not_built):
    # given the query the page suggests
    page = html.unescape(open_graphiql().content.decode())
    match = re.search(r"--data-urlencode 'query=(.+)'", page)
    assert match, page
    # when it is sent the way curl -G sends it
    response = Client().get("/graphql/", {"query": match.group(1)}, HTTP_ACCEPT="application/json")
    # then the API answers it anonymously
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["shops"]["edges"] == []


@pytest.mark.parametrize("present", [True, False], ids=["built", "not built"])
def test_graphiql_off_is_a_coded_not_found(settings, tmp_path, present):
    # given a server with GraphiQL off (production), built or not
    settings.PATRON_GRAPHIQL = False
    settings.PATRON_DASHBOARD_DIR = tmp_path
    if present:
        (tmp_path / "graphiql.html").write_bytes(GRAPHIQL_PAGE)
    # when a browser opens /graphql/
    response = open_graphiql()
    # then there is no page, but GraphQL-shaped JSON with NOT_FOUND
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
