"""Every GraphQL example in README.md and docs/api.md runs as written against a fresh demo database.

How the examples are found and run (keep the docs to this format):

- Every fenced block opened with ```` ```graphql ```` in ``DOCS`` is an example. A block holds
  one operation, or several *named* operations (GraphiQL then offers a choice); they run in
  document order, one after the other, on one test client, so a ``login`` mutation in a block
  logs in the operations after it. Each block gets a database of its own with the demo data as
  ``scripts/run`` loads it (``patron_demo --skip-samples``, ``demo_rewards``,
  ``demo_referrals``, ``demo_checkout``; the bundled samples hold no demo shop, so no example may name them).
- A block may be preceded (on the line right before the fence) by a marker, an HTML comment
  that Markdown does not render: ``<!-- example: login=owner error=PERMISSION_DENIED -->``.
  Its keys: ``login=`` one of ``LOGINS`` (the demo logins; anonymous without it);
  ``error=CODE`` the block shows a refusal on purpose: its last operation must answer ``CODE``,
  as a top-level ``extensions.code`` or as a payload error's ``code`` (the operations before it
  must succeed); ``vars=<JSON object>`` (last, may contain spaces) literal variable values.
  Any other key fails the test.
- Variables an operation declares and ``vars=`` does not give are the documented example
  variables (the table "Ids in the examples" in docs/api.md): ``_example_variables`` looks them
  up the way that table tells a reader to (the ``DemoIds`` and ``MyIds`` queries, and what
  ``patron_demo`` prints), and the table must document every variable an example uses.
- A block with a ```` ```json ```` block right after it, preceded by ``<!-- result -->``, shows
  the answer of its last operation: the real answer must have the same shape (the same keys
  all the way down, lists non-empty where the shown one is, the same JSON type of each value)
  and the shown values (in a list, those of its first item), except global ids.
- Queries and mutations must answer with ``data``, no ``errors`` and no payload
  ``errors`` / ``loyaltyErrors``, and every top-level field non-null. Subscription blocks are
  validated against the schema with graphql-core and their variables resolved like the others;
  README's live walk-through (its ``accountUpdated`` block and its ``orderEventRecord`` block)
  also runs over a WebSocket through the ASGI app, and its customer must be the demo login's.
- No example writes a global id literally (base64 of ``<Type>:<n>``), and every ``slug:`` it
  names is a demo shop's.

So a new ```` ```graphql ```` block that does not run against the demo fails this module.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client
from graphql import OperationDefinitionNode, OperationType, parse, print_ast, validate
from strawberry import relay

from config.asgi import application
from config.schema import schema
from loyalty.models import PointsEntry
from loyalty.services.orders import order_event_process
from marketplace.models import Customer, Order, OrderEvent
from tests.api.graphql import gql

pytestmark = [pytest.mark.django_db]

ROOT = Path(settings.BASE_DIR)
DOCS = ("README.md", "docs/api.md")
#: The demo logins (README, "Two commands") by marker name: username and password.
LOGINS = {
    "demo": ("demo", "demo-member-pass"),
    "demo2": ("demo2", "demo-friend-pass"),
    "owner": ("owner", "demo-owner-pass"),
    "cashier": ("cashier", "demo-cashier-pass"),
}
MARKER = re.compile(r"^<!--\s*example:(?P<body>.*?)-->\s*$")
RESULT_MARKER = re.compile(r"^<!--\s*result\s*-->\s*$")
DEMO_SLUGS = {"demo-coffee", "demo-books", "demo-bazaar"}
#: The example variables docs/api.md documents ("Ids in the examples"); _example_variables gives each.
EXAMPLE_VARIABLES = {
    "shopId", "bronzeId", "silverId", "goldId", "platinumId", "ruleId", "rewardId", "accountId", "code",
    "redemptionId", "eventId", "from", "to",
}  # fmt: skip


@dataclass
class Example:
    """One ```graphql block: where it is, its text, its marker's settings and its shown result."""

    doc: str
    line: int
    text: str
    login: str | None = None
    error: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    result: Any = None

    @property
    def name(self) -> str:
        """``<doc>:<line of the fence>``, the parametrized test's id."""
        return f"{self.doc}:{self.line}"


def _parse_marker(body: str, where: str) -> dict[str, Any]:
    """The settings of a marker's ``body`` (``key=value ...``, ``vars=`` last); unknown keys fail."""
    settings_: dict[str, Any] = {}
    body = body.strip()
    if "vars=" in body:
        body, raw = body.split("vars=", 1)
        try:
            settings_["variables"] = json.loads(raw)
        except json.JSONDecodeError as exc:  # pragma: no cover - a broken marker fails the test
            raise AssertionError(f"{where}: vars= is not a JSON object: {exc}") from exc
        assert isinstance(settings_["variables"], dict), f"{where}: vars= must be a JSON object"
    for item in body.split():
        key, _, value = item.partition("=")
        assert key in ("login", "error"), f"{where}: unknown marker setting {item!r}"
        assert value, f"{where}: {key}= needs a value"
        if key == "login":
            assert value in LOGINS, f"{where}: login={value} is not a demo login ({', '.join(LOGINS)})"
        settings_[key] = value
    return settings_


def extract_examples(doc: str, text: str) -> list[Example]:
    """The ```graphql blocks of ``text`` (file ``doc``) with their markers and shown results."""
    lines = text.splitlines()
    examples: list[Example] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = re.match(r"^(```+)\s*(\S*)", line)
        if not fence:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].startswith(fence.group(1)):
            end += 1
        body = "\n".join(lines[index + 1 : end])
        previous = lines[index - 1] if index else ""
        where = f"{doc}:{index + 1}"
        if fence.group(2) == "graphql":
            marker = MARKER.match(previous)
            settings_ = _parse_marker(marker.group("body"), where) if marker else {}
            examples.append(Example(doc=doc, line=index + 1, text=body, **settings_))
        elif fence.group(2) == "json" and RESULT_MARKER.match(previous):
            assert examples, f"{where}: <!-- result --> follows no graphql block"
            assert examples[-1].result is None, f"{where}: a second result for one graphql block"
            examples[-1].result = json.loads(body)
        else:
            assert not MARKER.match(previous), f"{where}: an example marker before a {fence.group(2)!r} block"
        index = end + 1
    return examples


def _all_examples() -> list[Example]:
    """The examples of every file in ``DOCS``, in file and document order."""
    return [example for doc in DOCS for example in extract_examples(doc, (ROOT / doc).read_text())]


EXAMPLES = _all_examples()


def _operations(example: Example) -> list[OperationDefinitionNode]:
    """The block's operations in document order (named when there are several)."""
    document = parse(example.text)
    operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
    assert len(operations) == len(document.definitions), f"{example.name}: fragments are not used in examples"
    if len(operations) > 1:
        assert all(op.name for op in operations), f"{example.name}: several operations in a block need names"
    return operations


# --- the demo database and the example variables ----------------------------------------------


@dataclass
class Demo:
    """What the demo commands printed, parsed: shop ids by slug, the member's id, the period."""

    shop_ids: dict[str, str]
    member_external_id: str
    period: tuple[str, str]
    output: str


def load_demo() -> Demo:
    """Load the demo as ``scripts/run`` does (without the samples) and parse ``patron_demo``'s output."""
    out = io.StringIO()
    call_command("patron_demo", "--skip-samples", stdout=out)
    call_command("demo_rewards", stdout=out)
    call_command("demo_referrals", stdout=out)
    call_command("demo_checkout", stdout=out)
    output = out.getvalue()
    shops = re.search(r"^Demo shop ids \(shopId\): (.+)$", output, re.M)
    member = re.search(r"^Demo member customer externalId: (\S+) ", output, re.M)
    period = re.search(r"^Demo analytics period .*: from (\S+) to (\S+)$", output, re.M)
    assert shops, output
    assert member, output
    assert period, output
    shop_ids = dict(pair.split(" ") for pair in shops.group(1).split(", "))
    return Demo(shop_ids, member.group(1), (period.group(1), period.group(2)), output)


def _client(login: str | None) -> Client:
    """A test client logged in as demo login ``login`` (a ``LOGINS`` key); anonymous for ``None``."""
    client = Client()
    if login is not None:
        username, password = LOGINS[login]
        assert client.login(username=username, password=password), login
    return client


#: The lookups docs/api.md, "Ids in the examples", tells a reader to run (anonymous, and as demo).
DEMO_IDS = """
query DemoIds {
  shop(slug: "demo-coffee") {
    id name
    program { tiers { id name } earningRules { id name } }
    rewards { id name pointsCost }
  }
}
"""
MY_IDS = """
query MyIds {
  viewer {
    accounts(first: 20) { edges { node { id shop { slug } } } }
    redemptions(first: 20, status: ISSUED) { edges { node { id code shop { slug } } } }
  }
}
"""


def _example_variables(demo: Demo) -> dict[str, Any]:
    """The documented example variables, looked up in this database through the API.

    Shapes: global ids and codes as strings, ``from`` / ``to`` as ``YYYY-MM-DD``.
    """
    public = gql(Client(), DEMO_IDS)
    assert "errors" not in public, public
    coffee = public["data"]["shop"]
    # What the demo prints is what the API answers.
    assert demo.shop_ids["demo-coffee"] == coffee["id"]
    tiers = {tier["name"]: tier["id"] for tier in coffee["program"]["tiers"]}
    rules = {rule["name"]: rule["id"] for rule in coffee["program"]["earningRules"]}
    rewards = {reward["name"]: reward["id"] for reward in coffee["rewards"]}
    mine = gql(_client("demo"), MY_IDS)
    assert "errors" not in mine, mine
    accounts = {
        edge["node"]["shop"]["slug"]: edge["node"]["id"] for edge in mine["data"]["viewer"]["accounts"]["edges"]
    }
    codes = [
        edge["node"]
        for edge in mine["data"]["viewer"]["redemptions"]["edges"]
        if edge["node"]["shop"]["slug"] == "demo-coffee"
    ]
    assert codes, mine
    # No parked event exists in the demo: the retry example uses a processed one (documented).
    processed = OrderEvent.objects.filter(order__shop__slug="demo-coffee").order_by("pk").first()
    assert processed is not None
    values = {
        "shopId": coffee["id"],
        "bronzeId": tiers["Bronze"],
        "silverId": tiers["Silver"],
        "goldId": tiers["Gold"],
        "platinumId": tiers["Platinum"],
        "ruleId": rules["Black Friday: triple points"],
        "rewardId": rewards["Free espresso"],
        "accountId": accounts["demo-coffee"],
        "code": codes[0]["code"],
        "redemptionId": codes[0]["id"],
        "eventId": _global_id("OrderEvent", processed.pk),
        "from": demo.period[0],
        "to": demo.period[1],
    }
    assert set(values) == EXAMPLE_VARIABLES
    return values


def _global_id(type_name: str, pk: int) -> str:
    """The relay global id of ``type_name`` row ``pk``, as the API gives it."""
    return str(relay.GlobalID(type_name, str(pk)))


# --- checking answers -------------------------------------------------------------------------


def _payload_errors(data: Any) -> list[dict]:
    """Every entry of a non-empty ``errors`` / ``loyaltyErrors`` list anywhere in ``data``."""
    found: list[dict] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("errors", "loyaltyErrors") and isinstance(value, list):
                found.extend(value)
            else:
                found.extend(_payload_errors(value))
    elif isinstance(data, list):
        for item in data:
            found.extend(_payload_errors(item))
    return found


def assert_same_shape(actual: Any, shown: Any, path: str = "", exact: bool = True) -> None:
    """``actual`` is what the doc shows in ``shown``.

    The same keys all the way down and the same JSON type of each value; lists non-empty where
    the shown one is, every item like the shown first one. Where ``exact`` (everywhere but list
    items after the first) scalars must also be equal, except global ids, which differ between
    databases.
    """
    if isinstance(shown, dict):
        assert isinstance(actual, dict), f"{path}: {actual!r} is not an object"
        assert set(actual) == set(shown), f"{path}: keys {sorted(actual)} != shown {sorted(shown)}"
        for key, value in shown.items():
            assert_same_shape(actual[key], value, f"{path}.{key}", exact)
    elif isinstance(shown, list):
        assert isinstance(actual, list), f"{path}: {actual!r} is not a list"
        if shown:
            assert actual, f"{path}: empty, the doc shows items"
            for index, item in enumerate(actual):
                assert_same_shape(item, shown[0], f"{path}[{index}]", exact and index == 0)
    elif shown is None:
        assert actual is None, f"{path}: {actual!r}, the doc shows null"
    else:
        assert type(actual) is type(shown), f"{path}: {actual!r} is not like the shown {shown!r}"
        if exact and not (isinstance(shown, str) and _is_global_id(shown)):
            assert actual == shown, f"{path}: {actual!r}, the doc shows {shown!r}"


def _run(client: Client, example: Example, operation: OperationDefinitionNode, variables: dict[str, Any]) -> dict:
    """POST one operation of the block (the whole block, selected by name, as GraphiQL sends it)."""
    declared = {definition.variable.name.value for definition in operation.variable_definitions or ()}
    values = {name: variables[name] for name in declared}
    body = {"query": example.text, "variables": values}
    if operation.name:
        body["operationName"] = operation.name.value
    response = client.post("/graphql/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, (example.name, response.content)
    return response.json()


def _error_codes(answer: dict) -> set[str]:
    """Every ``extensions.code`` of the top-level errors and every payload error ``code`` of ``answer``."""
    codes = {error.get("extensions", {}).get("code") for error in answer.get("errors") or ()}
    return codes | {error.get("code") for error in _payload_errors(answer.get("data"))}


# --- the tests --------------------------------------------------------------------------------


def test_the_docs_hold_the_examples_this_module_runs():
    """The extraction finds every block (a broken fence or tag would otherwise pass silently)."""
    for doc in DOCS:
        text = (ROOT / doc).read_text()
        fences = len(re.findall(r"^```graphql\s*$", text, re.M))
        assert fences == len([example for example in EXAMPLES if example.doc == doc])
        # Another spelling of the tag would escape this module.
        assert not re.search(r"^```\s*(gql|GraphQL|graphqls)\s*$", text, re.M), doc
    assert len(EXAMPLES) >= 20
    assert any(example.error for example in EXAMPLES)
    assert any(example.result for example in EXAMPLES)


def test_every_example_variable_is_documented_and_no_global_id_is_hard_coded():
    """Ids come from the documented lookups: the table names each variable; no literal global id."""
    guide = (ROOT / "docs/api.md").read_text()
    table = guide.split("## Ids in the examples", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"`\$(\w+)`", table)) == EXAMPLE_VARIABLES
    for example in EXAMPLES:
        for operation in _operations(example):
            for definition in operation.variable_definitions or ():
                name = definition.variable.name.value
                assert name in example.variables or f"`${name}`" in table, (example.name, name)
        for literal in re.findall(r'"([A-Za-z0-9+/]{6,}={0,2})"', example.text):
            assert not _is_global_id(literal), (example.name, literal)
        for slug in re.findall(r'slug:\s*"([^"]+)"', example.text):
            assert slug in DEMO_SLUGS, (example.name, slug)


def _is_global_id(literal: str) -> bool:
    """Whether ``literal`` is a relay global id (base64 of ``<Type>:<number>``)."""
    try:
        decoded = base64.b64decode(literal, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return re.fullmatch(r"[A-Z][A-Za-z]+:\d+", decoded) is not None


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.name)
def test_example_runs_against_the_demo(example: Example):
    """The block runs as written: its operations answer data (or its marked error code)."""
    demo = load_demo()
    variables = {**_example_variables(demo), **example.variables}
    operations = _operations(example)
    client = _client(example.login)
    for index, operation in enumerate(operations):
        last = index == len(operations) - 1
        if operation.operation == OperationType.SUBSCRIPTION:
            errors = validate(schema._schema, parse(print_ast(operation)))
            assert errors == [], (example.name, errors)
            for definition in operation.variable_definitions or ():
                assert definition.variable.name.value in variables, example.name
            assert example.error is None, f"{example.name}: refusals of subscriptions are not run here"
            continue
        answer = _run(client, example, operation, variables)
        if example.error and last:
            assert example.error in _error_codes(answer), (example.name, answer)
            continue
        assert "errors" not in answer, (example.name, answer)
        data = answer["data"]
        assert data, (example.name, answer)
        assert all(value is not None for value in data.values()), (example.name, answer)
        assert _payload_errors(data) == [], (example.name, answer)
        if last and example.result is not None:
            assert_same_shape(answer, example.result, example.name)


def test_the_live_example_names_the_demo_members_customer_and_its_order_reaches_the_demo_login():
    """README's live walk-through: the order it records is for the demo login's customer.

    The README records an order for the customer ``patron_demo`` prints; processing it (what the
    worker does after commit) earns points on the account that ``accountUpdated`` of login
    ``demo`` watches, so the subscription fires for the reader logged in as ``demo``.
    """
    demo = load_demo()
    customer = Customer.objects.get(user__username=LOGINS["demo"][0])
    assert demo.member_external_id == customer.external_id
    readme = [example for example in EXAMPLES if example.doc == "README.md"]
    live = [example for example in readme if "orderEventRecord" in example.text]
    assert len(live) == 1, [example.text for example in live]
    assert f'"{customer.external_id}"' in live[0].text, live[0].text
    assert any("accountUpdated" in example.text for example in readme)
    # Every customer an example names is a demo customer (the docs' prose names demo-member-1/2).
    for example in EXAMPLES:
        for external_id in re.findall(r'externalId:\s*"([^"]+)"', example.text):
            assert Customer.objects.filter(external_id=external_id, is_demo=True).exists(), (example.name, external_id)
    variables = {**_example_variables(demo), **live[0].variables}
    (operation,) = _operations(live[0])
    answer = _run(_client(live[0].login), live[0], operation, variables)
    assert "errors" not in answer, answer
    assert _payload_errors(answer["data"]) == [], answer
    order = Order.objects.get(external_id=answer["data"]["orderEventRecord"]["order"]["externalId"])
    assert order.customer == customer
    before = PointsEntry.objects.filter(account__customer=customer).count()
    order_event_process(event_id=order.events.get().pk, broadcast=False)
    assert PointsEntry.objects.filter(account__customer=customer).count() == before + 1


def _session_cookie(login: str) -> bytes:
    """The ``Cookie`` header of a session of demo login ``login``."""
    client = _client(login)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _record_and_process(example: Example) -> dict:
    """Run README's order example as written, then process its event as the worker does (broadcasting)."""
    variables = {**_example_variables(load_demo()), **example.variables}
    (operation,) = _operations(example)
    answer = _run(_client(example.login), example, operation, variables)
    order = Order.objects.get(external_id=answer["data"]["orderEventRecord"]["order"]["externalId"])
    order_event_process(event_id=order.events.get().pk)  # broadcasts after its transaction commits
    return answer


@pytest.mark.django_db(transaction=True)
async def test_the_readme_live_example_fires_on_the_demo_logins_socket():
    """README's subscription, open as ``demo``, receives the points of README's order (as ``owner``)."""
    readme = [example for example in EXAMPLES if example.doc == "README.md"]
    (subscription,) = [example for example in readme if "accountUpdated" in example.text]
    (deliver,) = [example for example in readme if "orderEventRecord" in example.text]
    try:
        await sync_to_async(load_demo)()
        assert subscription.login is not None
        cookie = await sync_to_async(_session_cookie)(subscription.login)
        headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)]
        communicator = WebsocketCommunicator(
            application, "/graphql/", headers=headers, subprotocols=["graphql-transport-ws"]
        )
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        await communicator.send_json_to({"type": "connection_init"})
        assert (await communicator.receive_json_from(timeout=5))["type"] == "connection_ack"
        await communicator.send_json_to(
            {"id": "1", "type": "subscribe", "payload": {"query": subscription.text, "variables": {}}}
        )
        await asyncio.sleep(0.3)  # let the resolver join its channel group before the event is sent

        answer = await sync_to_async(_record_and_process)(deliver)

        assert answer["data"]["orderEventRecord"]["errors"] == []
        message = await communicator.receive_json_from(timeout=10)
        assert message["type"] == "next", message
        update = message["payload"]["data"]["accountUpdated"]
        assert update["kind"] == "earn"
        assert update["points"] == 27  # floor(2 x 12.50 x 1.1): the demo member is Silver there
        assert update["account"]["shop"] == {"name": "Demo Coffee Roasters"}
        await communicator.disconnect()
    finally:
        # asgiref's sync thread keeps a connection that would block dropping the test database.
        await sync_to_async(connections.close_all)()
