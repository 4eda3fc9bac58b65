"""Smoke test of a running main job (embedded default): the API answers, logins work, and an
order recorded over HTTP is turned into points by the in-process worker.

Usage: python scripts/smoke_embedded.py http://127.0.0.1:8765   (exit status 0 = healthy)
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import sys
import time
import urllib.parse
import urllib.request


class Session:
    """A cookie-keeping GraphQL client that sends Django's CSRF token like a browser."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, query: str) -> dict:
        url = f"{self.base}/graphql/?" + urllib.parse.urlencode({"query": query})
        with self.opener.open(url, timeout=10) as response:
            return json.load(response)

    def post(self, query: str, variables: dict | None = None) -> dict:
        token = next((c.value for c in self.jar if c.name == "csrftoken"), "")
        request = urllib.request.Request(
            f"{self.base}/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
        )
        with self.opener.open(request, timeout=10) as response:
            return json.load(response)


def wait_until_up(base: str, seconds: int = 240) -> Session:
    """Poll the API until it answers (the main job installs and imports first)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            session = Session(base)
            session.get("{ shops(first: 1) { totalCount } }")
            return session
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def main(base: str) -> None:
    session = wait_until_up(base)
    shops = session.get("{ shops(first: 100) { totalCount edges { node { slug id currency } } } }")["data"]["shops"]
    assert shops["totalCount"] >= 3, shops
    login = (
        "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { username errors { code } } }"
    )
    assert session.post(login, {"u": "demo", "p": "demo-member-pass"})["data"]["login"]["errors"] == []
    viewer = session.post(
        "{ viewer { accounts(first: 20) { totalCount edges { node { pointsPending shop { slug } } } } } }"
    )
    accounts = viewer["data"]["viewer"]["accounts"]
    assert accounts["totalCount"] >= 3, viewer
    codes = session.post("{ viewer { redemptions(first: 10) { edges { node { code shop { slug } } } } } }")
    redeemed_in = {edge["node"]["shop"]["slug"] for edge in codes["data"]["viewer"]["redemptions"]["edges"]}
    assert len(redeemed_in) >= 2, codes
    print(
        f"smoke: {shops['totalCount']} shops; demo member has {accounts['totalCount']} accounts "
        f"and codes in {len(redeemed_in)} shops"
    )

    owner = Session(base)
    owner.get("{ shops(first: 1) { totalCount } }")
    assert owner.post(login, {"u": "owner", "p": "demo-owner-pass"})["data"]["login"]["errors"] == []
    coffee = next(s["node"] for s in shops["edges"] if s["node"]["slug"] == "demo-coffee")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")
    record = """mutation($input: OrderEventRecordInput!, $key: String!) {
      orderEventRecord(input: $input, idempotencyKey: $key) { order { status } errors { code message } } }"""
    result = owner.post(
        record,
        {
            "key": f"smoke-{stamp}",
            "input": {
                "shopId": coffee["id"],
                "orderId": f"SMOKE-{stamp}",
                "status": "DELIVERED",
                "currency": coffee["currency"],
                "occurredAt": dt.datetime.now(dt.UTC).isoformat(),
                "customer": {"externalId": "demo-member-1"},
                "lines": [{"quantity": 1, "unitPrice": "10.00"}],
            },
        },
    )
    assert result["data"]["orderEventRecord"]["errors"] == [], result
    before = next(a["node"]["pointsPending"] for a in accounts["edges"] if a["node"]["shop"]["slug"] == "demo-coffee")
    for _ in range(30):  # the in-process worker posts the points shortly after the commit
        after = session.post("{ viewer { accounts(first: 20) { edges { node { pointsPending shop { slug } } } } } }")
        pending = next(
            a["node"]["pointsPending"]
            for a in after["data"]["viewer"]["accounts"]["edges"]
            if a["node"]["shop"]["slug"] == "demo-coffee"
        )
        if pending > before:
            print(f"smoke: worker posted {pending - before} points for the delivered order")
            return
        time.sleep(1)
    raise SystemExit("smoke: the embedded worker did not post the order's points")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
