"""docs/integrations.md cannot drift from the API it documents.

- every ```` ```graphql ```` block validates against the schema (graphql-core ``parse`` +
  ``validate``), and so do the operations of ``samples/integration_demo.py``, which the guide
  presents as the whole path in one script;
- every event type, API-key scope and credential refusal code the code knows is in the guide;
- its two Python snippets work as printed: the signature check accepts a delivery signed as
  Patron signs it (and refuses a tampered one), and the three minting lines make a token Patron
  accepts.

The blocks are found by their fences, so a new block is checked without touching this file.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings
from graphql import parse, validate
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from config.schema import schema
from marketplace.errors import CredentialErrorCode
from marketplace.models import EventType
from marketplace.permissions import KEY_SCOPES
from marketplace.services.member_tokens import member_token_claims, member_token_issuer_create

ROOT = Path(settings.BASE_DIR)
GUIDE = ROOT / "docs" / "integrations.md"
SAMPLE = ROOT / "samples" / "integration_demo.py"


def _fenced(language: str) -> list[tuple[int, str]]:
    """``(line number, text)`` of every fenced block of ``language`` in the guide."""
    text = GUIDE.read_text()
    fence = re.compile(rf"^```{language}\n(.*?)^```", re.MULTILINE | re.DOTALL)
    return [(text.count("\n", 0, match.start()) + 1, match.group(1)) for match in fence.finditer(text)]


GRAPHQL_BLOCKS = _fenced("graphql")
PYTHON_BLOCKS = [block for _, block in _fenced("python")]


def _sample() -> ModuleType:
    """``samples/integration_demo.py`` loaded as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("integration_demo", SAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _validation_errors(document: str) -> list[str]:
    return [error.message for error in validate(schema._schema, parse(document))]


def test_the_guide_shows_each_part_of_the_api():
    """The blocks exist (a broken fence would make the validation test vacuous) and cover each part."""
    joined = "\n".join(block for _, block in GRAPHQL_BLOCKS)
    assert len(GRAPHQL_BLOCKS) >= 10
    for operation in (
        "apiKeyCreate",
        "apiKeyRotate",
        "apiKeyRevoke",
        "orderEventRecord",
        "webhookEndpointCreate",
        "webhookEndpointUpdate",
        "webhookSecretRotate",
        "webhookRedeliver",
        "webhookEndpointDelete",
        "events(",
        "viewer",
        "accountUpdated",
    ):
        assert operation in joined, operation


@pytest.mark.parametrize(("line", "block"), GRAPHQL_BLOCKS, ids=[f"line-{line}" for line, _ in GRAPHQL_BLOCKS])
def test_every_graphql_block_validates_against_the_schema(line, block):
    """Each block parses and fits the schema as written (types, fields, arguments, variables)."""
    assert _validation_errors(block) == [], f"docs/integrations.md line {line}"


def test_the_sample_scripts_operations_validate_against_the_schema():
    """Every GraphQL operation of samples/integration_demo.py fits the schema."""
    sample = _sample()
    operations = {
        name: value
        for name, value in vars(sample).items()
        if name.isupper() and isinstance(value, str) and value.lstrip().startswith(("query", "mutation", "{"))
    }
    assert {"SHOP", "ENDPOINT_CREATE", "ORDER", "FEED", "VIEWER", "ENDPOINT_DELETE"} <= set(operations)
    for name, document in operations.items():
        assert _validation_errors(document) == [], name


def test_every_event_type_scope_and_refusal_code_is_documented():
    """What the code can send or refuse with is in the guide, so a new one cannot go undocumented."""
    guide = GUIDE.read_text()
    for event_type in EventType.values:
        assert f"| `{event_type}` |" in guide, f"event type {event_type} missing from the types table"
    for scope in KEY_SCOPES:
        assert f"| `{scope.value}` |" in guide, f"scope {scope.value} missing from the scopes table"
    for code in CredentialErrorCode:
        assert f"`{code.value}`" in guide, f"refusal code {code.value} undocumented"


def test_the_verification_snippet_accepts_patrons_signature_and_refuses_a_forgery():
    """The guide's receiver code, run as printed, verifies a delivery signed as Patron signs it."""
    (snippet,) = [block for block in PYTHON_BLOCKS if "verify(" in block]
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    namespace: dict = {"ENDPOINT_SECRET": secret}
    exec(snippet, namespace)  # the documented code itself, not a copy of it
    body = b'{"data":{"points":25},"timestamp":"2026-12-01T12:00:00+00:00","type":"points.earned"}'
    now = dt.datetime.now(dt.UTC)
    headers = {
        "webhook-id": "evt_0123",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id="evt_0123", timestamp=now, data=body.decode()),
    }
    assert namespace["receive"](body, headers)["type"] == "points.earned"
    with pytest.raises(WebhookVerificationError):
        namespace["receive"](body.replace(b"25", b"2500"), headers)


@pytest.mark.django_db
def test_the_minting_snippet_makes_a_token_patron_accepts():
    """The guide's three minting lines, run as printed with an issued secret, pass Patron's checks."""
    (snippet,) = [block for block in PYTHON_BLOCKS if "jwt.encode" in block]
    issuer = member_token_issuer_create(name="docs")
    namespace: dict = {"customer_id": "docs-customer-1", "ISSUER_SECRET": issuer.secret, "ISSUER_KID": issuer.key_id}
    exec(snippet, namespace)
    claims = member_token_claims(namespace["token"])
    assert claims["sub"] == "docs-customer-1"
    assert claims["aud"] == settings.PATRON_MEMBER_TOKEN_AUDIENCE
