"""The whole integration path against a running Patron, as a shop's system would walk it.

1. starts a webhook receiver on 127.0.0.1 (a free port) that verifies every delivery with the
   ``standardwebhooks`` library and answers 400 to a bad signature;
2. with the shop's API key: looks the shop up and adds a webhook endpoint pointing at the receiver
   (``points.earned``, ``member.enrolled``, ``tier.changed``);
3. records a delivered order for a new customer (``orderEventRecord``);
4. waits for the signed ``points.earned`` webhook of that customer and prints it;
5. reads the shop's event feed from where it stood before the order and checks that it holds
   exactly the events the webhooks brought (same ids, same bodies);
6. signs a member token for the customer (PyJWT) and reads their points as the member (``viewer``);
7. deletes the webhook endpoint.

Exit status 0 when every step worked; otherwise 1 with the step that failed. Only httpx, PyJWT,
standardwebhooks and the standard library are used. With ``scripts/run`` serving on :8000::

    export PATRON_API_KEY=$(.venv/bin/python manage.py api_key_create --shop demo-coffee \\
        --scope orders:write --scope webhooks:manage --scope events:read --quiet)
    .venv/bin/python manage.py member_token_issuer create storefront   # prints kid and secret
    .venv/bin/python samples/integration_demo.py --token-kid ptk_... --token-secret ...

docs/integrations.md explains each step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

#: The event types the demo's endpoint asks for.
EVENT_TYPES = ["points.earned", "member.enrolled", "tier.changed"]


class DemoFailure(Exception):
    """A step did not do what the integration expects; the message says which and why."""


# --- the webhook receiver -------------------------------------------------------------------


class Receiver:
    """Deliveries verified so far (by ``webhook-id``) and how many were refused for their signature."""

    def __init__(self) -> None:
        """An empty receiver; ``secret`` is set once the endpoint exists."""
        self.secret: str | None = None
        self.deliveries: dict[str, dict[str, Any]] = {}
        self.rejected = 0
        self.changed = threading.Condition()

    def accept(self, body: bytes, headers: dict[str, str]) -> bool:
        """Verify one delivery and record it; ``False`` (answer 400) when the signature does not verify."""
        if self.secret is None:
            return False
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            with self.changed:
                self.rejected += 1
            return False
        with self.changed:
            # Retries and redeliveries repeat the webhook-id: the first copy is the one kept.
            self.deliveries.setdefault(
                headers["webhook-id"], {"headers": headers, "body": body.decode(), "payload": payload}
            )
            self.changed.notify_all()
        return True

    def wait_for(self, condition: Any, timeout: float) -> bool:
        """Block until ``condition(deliveries)`` holds or ``timeout`` seconds pass; whether it holds."""
        with self.changed:
            return self.changed.wait_for(lambda: condition(self.deliveries), timeout=timeout)


def receiver_start(receiver: Receiver) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``receiver`` on 127.0.0.1 at a free port in a daemon thread; ``(server, its URL)``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            """Verify and record one delivery: 204, or 400 when its signature does not verify."""
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            ok = receiver.accept(body, headers)
            self.send_response(204 if ok else 400)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the demo prints what matters itself."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/patron-webhooks"


# --- talking to Patron --------------------------------------------------------------------


class Patron:
    """POSTs GraphQL to ``<base>/graphql/`` with a bearer credential (no cookie, no CSRF token)."""

    def __init__(self, base_url: str) -> None:
        """A client of the Patron at ``base_url``."""
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=15.0)
        self.last_response: httpx.Response | None = None

    def gql(self, bearer: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of one operation; ``DemoFailure`` on a refusal, an HTTP error or any GraphQL error."""
        try:
            response = self.http.post(
                "/graphql/",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {bearer}"},
            )
        except httpx.HTTPError as exc:
            raise DemoFailure(f"cannot reach Patron at {self.http.base_url} ({type(exc).__name__}: {exc})") from None
        self.last_response = response
        try:
            answer = response.json()
        except ValueError:
            raise DemoFailure(
                f"HTTP {response.status_code} and a body that is not JSON: {response.text[:200]}"
            ) from None
        errors = answer.get("errors") or []
        if response.status_code != 200 or errors:
            codes = ", ".join(f"{e.get('extensions', {}).get('code')}: {e.get('message')}" for e in errors)
            raise DemoFailure(f"HTTP {response.status_code}: {codes or response.text[:200]}")
        return answer["data"]


def payload_ok(payload: dict[str, Any], what: str) -> dict[str, Any]:
    """``payload`` if its ``errors`` list is empty; ``DemoFailure`` naming the refusal otherwise."""
    if payload.get("errors"):
        refusals = "; ".join(f"{e['code']} ({e.get('field')}): {e['message']}" for e in payload["errors"])
        raise DemoFailure(f"{what} refused: {refusals}")
    return payload


SHOP = "query Shop($slug: String!) { shop(slug: $slug) { id name currency } }"

ENDPOINT_CREATE = """
mutation AddEndpoint($input: WebhookEndpointCreateInput!) {
  webhookEndpointCreate(input: $input) { endpoint { id url eventTypes secret } errors { field code message } }
}"""

ENDPOINT_DELETE = """
mutation RemoveEndpoint($id: ID!) { webhookEndpointDelete(id: $id) { deletedId errors { field code message } } }
"""

FEED = """
query Feed($slug: String!, $after: String, $first: Int!, $types: [String!]) {
  shop(slug: $slug) {
    events(after: $after, first: $first, types: $types) {
      edges { cursor node { id type occurredAt data position } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

ORDER = """
mutation Deliver($key: String!, $input: OrderEventRecordInput!) {
  orderEventRecord(idempotencyKey: $key, input: $input) {
    replayed order { externalId status goodsAmount } errors { field code message }
  }
}"""

VIEWER = """
query Me {
  viewer {
    displayName
    accounts(first: 50) { edges { node {
      shop { slug name } pointsAvailable pointsPending lifetimePoints tier { name }
    } } }
  }
}"""


def feed_read(
    patron: Patron, key: str, slug: str, after: str | None, page_size: int = 100
) -> tuple[list[dict[str, Any]], str | None]:
    """Every event of the shop's feed after ``after`` (all pages), and the cursor to continue from."""
    events: list[dict[str, Any]] = []
    while True:
        variables = {"slug": slug, "after": after, "first": page_size, "types": EVENT_TYPES}
        shop = patron.gql(key, FEED, variables)["shop"]
        page = shop["events"]
        events += [edge["node"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return events, after


def of_customer(event_data: dict[str, Any], customer: str) -> bool:
    """Whether an event body is about ``customer`` (the shop's external id)."""
    return (event_data.get("member") or {}).get("customerExternalId") == customer


# --- the walk-through -----------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    """Every step of the demo, printing one line per step; raises ``DemoFailure`` at the first that fails."""
    run_id = uuid.uuid4().hex[:10]
    customer = f"integration-demo-{run_id}"
    patron = Patron(args.base_url)
    receiver = Receiver()
    server, hook_url = receiver_start(receiver)
    endpoint_id: str | None = None
    step = "[1] starting the webhook receiver"
    try:
        print(f"[1] webhook receiver listening on {hook_url}")

        step = "[2] looking up the shop with the API key"
        shop = patron.gql(args.api_key, SHOP, {"slug": args.shop_slug})["shop"]
        if shop is None:
            raise DemoFailure(f"no shop with slug {args.shop_slug!r}")
        limits = patron.last_response.headers if patron.last_response is not None else {}
        print(
            f"[2] API key accepted: shop {shop['name']} ({shop['id']}, {shop['currency']}); "
            f"rate limit {limits.get('RateLimit-Limit')}, {limits.get('RateLimit-Remaining')} left"
        )

        step = "[2] creating the webhook endpoint"
        created = payload_ok(
            patron.gql(
                args.api_key,
                ENDPOINT_CREATE,
                {
                    "input": {
                        "shopId": shop["id"],
                        "url": hook_url,
                        "eventTypes": EVENT_TYPES,
                        "description": f"samples/integration_demo.py run {run_id}",
                    }
                },
            )["webhookEndpointCreate"],
            "webhookEndpointCreate",
        )["endpoint"]
        endpoint_id = created["id"]
        receiver.secret = created["secret"]
        print(f"    webhook endpoint {endpoint_id} created for {', '.join(created['eventTypes'])}")

        step = "[2] checking the receiver refuses a forged delivery"
        # A forged delivery must be refused: the receiver checks signatures, not just shapes.
        forged = httpx.post(
            hook_url,
            content=b'{"type":"points.earned","timestamp":"2026-01-01T00:00:00+00:00","data":{}}',
            headers={
                "webhook-id": "evt_forged",
                "webhook-timestamp": str(int(time.time())),
                "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            },
        )
        if forged.status_code != 400:
            raise DemoFailure(f"the receiver answered {forged.status_code} to a forged delivery, not 400")
        receiver.rejected = 0

        step = "[2] reading the event feed's position"
        _, cursor = feed_read(patron, args.api_key, args.shop_slug, None)
        print(f"    event feed read up to cursor {cursor}")

        step = "[3] recording the order"
        occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat(timespec="seconds")
        order = payload_ok(
            patron.gql(
                args.api_key,
                ORDER,
                {
                    "key": f"integration-demo-{run_id}:delivered",
                    "input": {
                        "shopId": shop["id"],
                        "orderId": f"INTEGRATION-DEMO-{run_id}",
                        "status": "DELIVERED",
                        "currency": shop["currency"],
                        "occurredAt": occurred,
                        "customer": {"externalId": customer, "displayName": "Integration Demo"},
                        "lines": [{"quantity": 2, "unitPrice": "12.50", "description": "Demo item"}],
                    },
                },
            )["orderEventRecord"],
            "orderEventRecord",
        )["order"]
        print(f"[3] order {order['externalId']} recorded {order['status']} ({order['goodsAmount']}) for {customer}")

        step = "[4] waiting for the points.earned webhook"

        def order_earning(deliveries: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
            # The order's earning (kind "earn"); a welcome bonus is a points.earned of kind "bonus".
            return next(
                (
                    d
                    for d in deliveries.values()
                    if d["payload"]["type"] == "points.earned"
                    and d["payload"]["data"].get("kind") == "earn"
                    and of_customer(d["payload"]["data"], customer)
                ),
                None,
            )

        started = time.monotonic()
        if not receiver.wait_for(lambda d: order_earning(d) is not None, args.wait):
            raise DemoFailure(f"no signed points.earned webhook for {customer}'s order within {args.wait:.0f} s")
        hook = order_earning(receiver.deliveries)
        assert hook is not None
        print(f"[4] signed points.earned webhook of the order verified after {time.monotonic() - started:.1f} s:")
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            print(f"    {name}: {hook['headers'][name]}")
        print(f"    {hook['body']}")

        step = "[5] comparing the event feed with the webhooks"
        deadline = time.monotonic() + args.wait
        while True:
            # Pages of 2, so that catching up follows `after` from page to page as after an outage.
            events, _ = feed_read(patron, args.api_key, args.shop_slug, cursor, page_size=2)
            fed = {e["id"]: e for e in events if of_customer(e["data"], customer)}
            if hook["headers"]["webhook-id"] in fed or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        # Every event in the feed is delivered too (its delivery is created when it is published).
        if not receiver.wait_for(lambda d: set(fed) <= set(d), max(1.0, deadline - time.monotonic())):
            missing = sorted(set(fed) - set(receiver.deliveries))
            raise DemoFailure(f"the feed holds events no webhook brought within {args.wait:.0f} s: {missing}")
        hooked = {
            uid: d["payload"] for uid, d in receiver.deliveries.items() if of_customer(d["payload"]["data"], customer)
        }
        if set(hooked) != set(fed):
            raise DemoFailure(
                f"feed and webhooks differ: only in the feed {sorted(set(fed) - set(hooked))}, "
                f"only in webhooks {sorted(set(hooked) - set(fed))}"
            )
        for uid, event in fed.items():
            if event["type"] != hooked[uid]["type"] or event["data"] != hooked[uid]["data"]:
                raise DemoFailure(f"event {uid} differs between the feed and its webhook")
        kinds = ", ".join(sorted(e["type"] for e in fed.values()))
        print(f"[5] feed after the cursor holds the same {len(fed)} event(s) as the webhooks: {kinds}")

        step = "[6] reading the member's points with a member token"
        now = int(time.time())
        token = jwt.encode(
            {"sub": customer, "aud": args.token_audience, "exp": now + 600, "name": "Integration Demo"},
            args.token_secret,
            algorithm="HS256",
            headers={"kid": args.token_kid},
        )
        viewer = patron.gql(token, VIEWER)["viewer"]
        accounts = [edge["node"] for edge in viewer["accounts"]["edges"]]
        account = next((a for a in accounts if a["shop"]["slug"] == args.shop_slug), None)
        if account is None:
            raise DemoFailure(f"the member token of {customer} shows no account in {args.shop_slug}")
        earned_points = hook["payload"]["data"]["points"]
        if account["pointsAvailable"] + account["pointsPending"] < earned_points:
            raise DemoFailure(f"the member's account holds fewer points than the webhook announced: {account}")
        tier = (account["tier"] or {}).get("name") or "no tier"
        print(
            f"[6] member token accepted: {viewer['displayName']} holds {account['pointsAvailable']} available + "
            f"{account['pointsPending']} pending points in {account['shop']['name']} ({tier})"
        )
    except DemoFailure as exc:
        raise DemoFailure(f"{step}: {exc}") from None
    finally:
        if endpoint_id is not None:
            try:
                deleted = patron.gql(args.api_key, ENDPOINT_DELETE, {"id": endpoint_id})["webhookEndpointDelete"]
                payload_ok(deleted, "webhookEndpointDelete")
                print(f"[7] webhook endpoint {endpoint_id} deleted")
            except DemoFailure as exc:
                raise DemoFailure(f"[7] deleting webhook endpoint {endpoint_id}: {exc}") from None
        server.shutdown()
        server.server_close()
    if receiver.rejected:
        raise DemoFailure(f"{receiver.rejected} delivery(ies) from Patron failed signature verification")


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options, with the secrets also taken from the environment."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Patron's URL (default: %(default)s)")
    parser.add_argument("--api-key", default=os.environ.get("PATRON_API_KEY"), help="ptn_... (env PATRON_API_KEY)")
    parser.add_argument("--shop-slug", default="demo-coffee", help="the key's shop (default: %(default)s)")
    parser.add_argument(
        "--token-kid", default=os.environ.get("PATRON_TOKEN_KID"), help="member-token issuer kid (env PATRON_TOKEN_KID)"
    )
    parser.add_argument(
        "--token-secret",
        default=os.environ.get("PATRON_TOKEN_SECRET"),
        help="member-token issuer secret (env PATRON_TOKEN_SECRET)",
    )
    parser.add_argument(
        "--token-audience",
        default=os.environ.get("PATRON_TOKEN_AUDIENCE", "patron"),
        help="the 'aud' Patron expects (env PATRON_TOKEN_AUDIENCE, default %(default)s)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="seconds to wait for the webhook and the feed (default %(default)s; the embedded default needs ~2)",
    )
    args = parser.parse_args(argv)
    missing = [
        flag
        for flag, value in (
            ("--api-key", args.api_key),
            ("--token-kid", args.token_kid),
            ("--token-secret", args.token_secret),
        )
        if not value
    ]
    if missing:
        parser.error(f"missing {', '.join(missing)} (see the module docstring or docs/integrations.md)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 on success, 1 (with the reason on stderr) on the first failure."""
    args = arguments(argv)
    # Progress lines and the failure (stderr) come out in order even when piped (CI logs).
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    try:
        run(args)
    except DemoFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print("OK: API key, webhooks, event feed and member token all work")
    return 0


if __name__ == "__main__":
    sys.exit(main())
