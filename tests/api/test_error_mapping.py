"""One error mapping: domain refusals become payload errors in ``api_core.errors`` only.

Covers the decorator (a refusal becomes the payload's errors and nothing else is caught), the
match of codes by value with its INVALID_INPUT fallback, and the deprecated ``errors`` of the
loyalty payloads, which carry the same refusals as ``loyaltyErrors``.
"""

from __future__ import annotations

import enum

import pytest
import strawberry

from api_core.errors import PayloadError, handle_domain_errors
from loyalty.errors import LoyaltyError, LoyaltyErrorCode
from loyalty.models import Tier
from marketplace.errors import DomainError, OrderError, OrderErrorCode
from rewards.errors import RewardError, RewardErrorCode
from tests.api.graphql import gid, gql, login
from tests.factories import shop_with_program, staff


class _Codes(enum.Enum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"


class _NoFallback(enum.Enum):
    NOT_FOUND = "NOT_FOUND"


@strawberry.type
class _Error(PayloadError):
    codes = _Codes
    code: str


@strawberry.type
class _StrictError(PayloadError):
    codes = _NoFallback
    code: str


@strawberry.type
class _Payload:
    value: int | None = None
    errors: list[_Error] = strawberry.field(default_factory=list)


def test_a_refusal_becomes_the_payloads_errors_with_its_field():
    @handle_domain_errors(_Payload, _Error)
    def refuse() -> _Payload:
        raise LoyaltyError(LoyaltyErrorCode.NOT_FOUND, "No such tier.", "id")

    payload = refuse()
    assert payload.value is None
    assert [(e.code, e.field, e.message) for e in payload.errors] == [(_Codes.NOT_FOUND, "id", "No such tier.")]


def test_success_passes_through():
    @handle_domain_errors(_Payload, _Error)
    def succeed() -> _Payload:
        return _Payload(value=3)

    assert succeed() == _Payload(value=3, errors=[])


def test_a_code_the_type_lacks_is_reported_as_invalid_input():
    # a lower app's refusal surfacing through a higher app's mutation
    error = _Error.from_domain(OrderError(OrderErrorCode.CURRENCY_MISMATCH, "Wrong currency.", "currency"))
    assert (error.code, error.field) == (_Codes.INVALID_INPUT, "currency")


def test_without_an_invalid_input_code_the_refusal_is_not_hidden():
    with pytest.raises(RewardError):
        _StrictError.from_domain(RewardError(RewardErrorCode.OUT_OF_STOCK, "Gone.", None))


def test_only_domain_errors_are_caught():
    @handle_domain_errors(_Payload, _Error)
    def bug() -> _Payload:
        raise KeyError("a bug, not a refusal")

    with pytest.raises(KeyError):
        bug()
    assert issubclass(LoyaltyError, DomainError)


TIER_UPDATE = """
mutation($id: ID!) {
  tierUpdate(id: $id, input: {multiplier: "99"}) {
    tier { id }
    loyaltyErrors { code field message }
    errors { code field message }
  }
}
"""


@pytest.mark.django_db
def test_loyalty_payloads_report_loyalty_errors_and_the_deprecated_errors_alike():
    # given a tier and its shop's owner
    shop = shop_with_program()
    tier = Tier.objects.filter(program=shop.program).order_by("position").last()
    before = list(Tier.all_objects.filter(program=shop.program).order_by("pk").values())
    # when the owner sets a multiplier out of range
    body = gql(login(staff(shop)), TIER_UPDATE, {"id": gid("Tier", tier.pk)})
    # then both lists hold the one coded refusal, and nothing changed
    payload = body["data"]["tierUpdate"]
    assert payload["tier"] is None
    assert payload["loyaltyErrors"] == payload["errors"]
    assert [(e["code"], e["field"]) for e in payload["loyaltyErrors"]] == [("INVALID_INPUT", "multiplier")]
    assert list(Tier.all_objects.filter(program=shop.program).order_by("pk").values()) == before


def test_the_schema_marks_the_old_errors_deprecated():
    from config.schema import schema

    for name in ("TierPayload", "ProgramUpdatePayload", "EarningRulePayload"):
        fields = schema._schema.type_map[name].fields
        assert fields["errors"].deprecation_reason
        assert str(fields["loyaltyErrors"].type) == "[LoyaltyError!]!"
        assert str(fields["errors"].type) == "[LedgerError!]!"
