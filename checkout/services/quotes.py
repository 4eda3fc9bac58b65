"""Quote a basket and commit the quote: the till's and the shop checkout's two calls (capability ``checkout:use``).

:func:`checkout_quote` prices a basket (``checkout.pricing``) for a member or a guest, adds the
points the order would earn on what is paid in money (``loyalty.services.rules.earning_quote``, the
function the worker earns with), stores the quote for ``PATRON_CHECKOUT_QUOTE_MINUTES`` and returns
it with a signed token. :func:`checkout_commit` takes the token and, in one transaction, prices the
stored input again under row locks (the account, then promotions with usage limits, then the
coupons, each in key order: the order the return hook takes them in too), refuses with QUOTE_STALE
when anything that decides the money changed, and otherwise records the uses, counts the coupons
and spends the points from the lots that expire first: exactly once per idempotency key and quote.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from checkout import pricing
from checkout.errors import CheckoutError, CheckoutErrorCode, NotAppliedReason
from checkout.events import commit_event_record
from checkout.models import CheckoutCommit, CheckoutQuote, Coupon, Promotion, PromotionUse
from checkout.services.coupons import coupon_code_normalise
from checkout.services.promotions import require
from crm.selectors import segment_members
from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.errors import LoyaltyError
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, SourceType
from loyalty.reasons import Reason
from loyalty.services.ledger import Movement, account_lock, points_spend
from loyalty.services.rules import QuoteLine, earning_quote, member_segments_of, program_rules
from marketplace.models import Category, Customer, Shop
from marketplace.money import decimal_places
from marketplace.permissions import Capability
from marketplace.throttle import ThrottleUnavailable, throttle_hit

MAX_LINES = 200
MAX_COUPONS = 10
MAX_QUANTITY = 10_000
MAX_POINTS = 1_000_000_000_000
_TOKEN_SALT = "patron.checkout.quote"
#: Unknown coupon codes allowed per minute: per caller (staff member or API key), per shop.
COUPON_GUESS_RATES = ("30/minute", "120/minute")


def quote_minutes() -> int:
    """How long a quote can be committed: ``PATRON_CHECKOUT_QUOTE_MINUTES`` (default 15)."""
    return int(getattr(settings, "PATRON_CHECKOUT_QUOTE_MINUTES", 15))


@dataclass(frozen=True, kw_only=True)
class LineInput:
    """A basket line as given: units, unit price (shop currency) and optional product and category."""

    quantity: int
    unit_price: Decimal
    product_id: str | None = None
    category_slug: str | None = None
    brand: str | None = None


@dataclass(frozen=True, kw_only=True)
class QuoteInput:
    """What to price: the shop, the buyer (customer external id; ``None`` for a guest), the basket,
    coupon codes as typed, points to spend and the payment type (free text the shop defines)."""

    shop_id: int
    lines: list[LineInput]
    customer_external_id: str | None = None
    coupon_codes: list[str] = field(default_factory=list)
    points_to_spend: int = 0
    payment_type: str = ""


@dataclass(frozen=True)
class CommitResult:
    """The commit, and whether this call only replayed an earlier one with the same key."""

    commit: CheckoutCommit
    replayed: bool


def _invalid(message: str, field_name: str) -> CheckoutError:
    return CheckoutError(CheckoutErrorCode.INVALID_INPUT, message, field_name)


def _validate(data: QuoteInput, quantum: Decimal) -> None:
    """INVALID_INPUT on the first field out of range (money in the currency's minor unit)."""
    if not 1 <= len(data.lines) <= MAX_LINES:
        raise _invalid(f"A basket has 1 to {MAX_LINES} lines.", "lines")
    places = max(0, -quantum.as_tuple().exponent)  # type: ignore[operator]  # finite by construction
    for index, line in enumerate(data.lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise _invalid(f"Quantities are 1 to {MAX_QUANTITY}.", f"lines.{index}.quantity")
        price = line.unit_price
        if not price.is_finite() or price < 0 or price >= Decimal("1e10") or decimal_places(price) > places:
            raise _invalid(
                f"A unit price is zero or more with at most {places} decimals in this currency.",
                f"lines.{index}.unitPrice",
            )
        for name, text in (("productId", line.product_id), ("categorySlug", line.category_slug), ("brand", line.brand)):
            if text is not None and (not text.strip() or len(text) > 120):
                raise _invalid("Ids are 1 to 120 characters, or null.", f"lines.{index}.{name}")
    if len(data.coupon_codes) > MAX_COUPONS or any(not 1 <= len(code.strip()) <= 64 for code in data.coupon_codes):
        raise _invalid(f"Up to {MAX_COUPONS} coupon codes of 1 to 64 characters.", "couponCodes")
    if not 0 <= data.points_to_spend <= MAX_POINTS:
        raise _invalid("Points to spend are 0 or more.", "pointsToSpend")
    if len(data.payment_type) > 40:
        raise _invalid("A payment type is at most 40 characters.", "paymentType")


def _input_json(data: QuoteInput) -> dict[str, Any]:
    """The input as stored on the quote (and read back by the commit)."""
    return {
        "customerId": data.customer_external_id,
        "lines": [
            {
                "quantity": line.quantity,
                "unitPrice": str(line.unit_price),
                "productId": line.product_id,
                "categorySlug": line.category_slug,
                "brand": line.brand,
            }
            for line in data.lines
        ],
        "couponCodes": [coupon_code_normalise(code) for code in data.coupon_codes],
        "pointsToSpend": data.points_to_spend,
        "paymentType": data.payment_type,
    }


def _rule(promotion: Promotion, uses: int, member_uses: int) -> pricing.PromotionRule:
    """The pricing snapshot of ``promotion`` (its ``tiers`` prefetched) with its current uses."""
    return pricing.PromotionRule(
        id=promotion.pk,
        name=promotion.name,
        kind=promotion.kind,
        value=promotion.value,
        buy_quantity=promotion.buy_quantity,
        get_quantity=promotion.get_quantity,
        free_product_id=promotion.free_product_id,
        product_ids=frozenset(promotion.product_ids),
        category_slugs=frozenset(promotion.category_slugs),
        brands=frozenset(promotion.brands),
        tier_ids=frozenset(tier.pk for tier in promotion.tiers.all()),
        segment_ids=frozenset(segment.pk for segment in promotion.segments.all()),
        payment_types=frozenset(promotion.payment_types),
        minimum_amount=promotion.minimum_amount,
        starts_at=promotion.starts_at,
        ends_at=promotion.ends_at,
        weekdays=frozenset(promotion.weekdays),
        hour_from=promotion.hour_from,
        hour_to=promotion.hour_to,
        priority=promotion.priority,
        stacking=promotion.stacking,
        usage_limit=promotion.usage_limit,
        usage_limit_per_member=promotion.usage_limit_per_member,
        active=promotion.active,
        uses=uses,
        member_uses=member_uses,
    )


def _live_uses(**filters: Any) -> QuerySet[PromotionUse]:
    return PromotionUse.objects.filter(released_at__isnull=True, **filters)


def _counts(rows: QuerySet[PromotionUse], key: str) -> dict[int, int]:
    return {row[key]: row["n"] for row in rows.values(key).annotate(n=Count("id"))}


@dataclass
class _Snapshot:
    """Everything :func:`pricing.price` needs, loaded for one basket (locked when committing)."""

    shop: Shop
    program: LoyaltyProgram | None
    customer: Customer | None
    account: MemberAccount | None
    coupons: dict[str, Coupon]
    priced: pricing.Priced


def _load(shop: Shop, stored: dict[str, Any], at: dt.datetime, *, lock: bool = False) -> _Snapshot:
    """Load the member, promotions and coupons the stored input names, and price it at ``at``.

    With ``lock`` (a commit, inside its transaction) it takes the row locks first: the member's
    account, then the promotions with usage limits, then the coupons, each in key order. Raises
    NOT_FOUND for an unknown customer id.
    """
    program = LoyaltyProgram.objects.filter(shop=shop).first()
    customer = None
    if stored["customerId"]:
        customer = Customer.objects.filter(external_id=stored["customerId"]).first()
        if customer is None:
            raise CheckoutError(CheckoutErrorCode.NOT_FOUND, "No customer with this id.", "customerId")
    account = None
    if customer is not None and program is not None:
        accounts = MemberAccount.objects.select_related("tier").filter(customer=customer, program=program)
        if lock:
            account_lock(account_ids=list(accounts.values_list("pk", flat=True))).first()  # then read with its tier
        account = accounts.first()
    codes = list(dict.fromkeys(stored["couponCodes"]))
    coupon_rows = Coupon.objects.filter(shop=shop, code__in=codes).select_related("promotion")
    automatic = Promotion.objects.filter(shop=shop, active=True, requires_coupon=False)
    if lock:
        promotion_ids = set(automatic.values_list("pk", flat=True)) | set(
            coupon_rows.values_list("promotion_id", flat=True)
        )
        limited = Promotion.objects.filter(pk__in=promotion_ids).filter(
            Q(usage_limit__isnull=False) | Q(usage_limit_per_member__isnull=False)
        )
        list(limited.select_for_update().order_by("pk").values_list("pk", flat=True))
        list(coupon_rows.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
    coupons = {
        coupon.code: coupon for coupon in coupon_rows.prefetch_related("promotion__tiers", "promotion__segments")
    }
    promotions = list(automatic.prefetch_related("tiers", "segments"))
    ids = {p.pk for p in promotions} | {c.promotion_id for c in coupons.values()}
    uses = _counts(_live_uses(promotion_id__in=ids), "promotion_id")
    member_uses = _counts(_live_uses(promotion_id__in=ids, customer=customer), "promotion_id") if customer else {}
    coupon_member_uses = (
        _counts(_live_uses(coupon__in=coupons.values(), customer=customer), "coupon_id") if customer else {}
    )
    member = None
    if customer is not None:
        tier = account.tier if account is not None else None
        member = pricing.Member(
            customer_id=customer.pk,
            tier_id=tier.pk if tier else None,
            tier_name=tier.name if tier else "",
            tier_discount_percent=tier.discount_percent if tier else Decimal("0"),
            points_available=account.points_available if account is not None else 0,
            blocked=account is not None and account.blocked,
            segment_ids=_segments_of(account, promotions, coupons.values(), at),
        )
    policy = pricing.PointsPolicy(
        point_value=program.point_value if program else Decimal("0"),
        max_percent=program.points_payment_max_percent if program and program.active else Decimal("0"),
        min_points=program.points_payment_min_points if program else 0,
    )
    states = []
    for code in stored["couponCodes"]:
        coupon = coupons.get(code)
        state = None
        if coupon is not None:
            state = pricing.CouponState(
                code=code,
                promotion=_rule(
                    coupon.promotion, uses.get(coupon.promotion_id, 0), member_uses.get(coupon.promotion_id, 0)
                ),
                customer_id=coupon.customer_id,
                max_uses=coupon.max_uses,
                max_uses_per_member=coupon.max_uses_per_member,
                uses=coupon.uses,
                member_uses=coupon_member_uses.get(coupon.pk, 0),
                valid_from=coupon.valid_from,
                valid_until=coupon.valid_until,
                voided=coupon.voided_at is not None,
            )
        states.append((code, state))
    lines = [
        pricing.BasketLine(
            line_no=number,
            quantity=line["quantity"],
            unit_price=Decimal(line["unitPrice"]),
            product_id=line["productId"],
            category_slug=line["categorySlug"],
            brand=line.get("brand"),
        )
        for number, line in enumerate(stored["lines"], start=1)
    ]
    priced = pricing.price(
        currency=shop.currency,
        timezone=shop.timezone,
        lines=lines,
        member=member,
        promotions=[_rule(p, uses.get(p.pk, 0), member_uses.get(p.pk, 0)) for p in promotions],
        coupons=states,
        points_to_spend=stored["pointsToSpend"],
        payment_type=stored["paymentType"],
        policy=policy,
        at=at,
    )
    return _Snapshot(shop, program, customer, account, coupons, priced)


def _segments_of(
    account: MemberAccount | None, promotions: list[Promotion], coupons: Any, at: dt.datetime
) -> frozenset[int]:
    """Which of the segments the candidate promotions target hold ``account`` now (one query per segment)."""
    if account is None:
        return frozenset()
    targeted = {s.pk: s for p in promotions for s in p.segments.all()}
    targeted |= {s.pk: s for c in coupons for s in c.promotion.segments.all()}
    return frozenset(
        pk for pk, segment in targeted.items() if segment_members(segment, now=at).filter(pk=account.pk).exists()
    )


def _points_earned(snapshot: _Snapshot, at: dt.datetime) -> int:
    """Points the order would earn on the money paid (the worker's ``earning_quote``); 0 for a guest."""
    program = snapshot.program
    if program is None or not program.active or snapshot.customer is None:
        return 0
    if snapshot.account is not None and snapshot.account.blocked:  # earns nothing, as the worker will
        return 0
    slugs = {p.line.category_slug for p in snapshot.priced.lines if p.line.category_slug}
    categories = dict(Category.objects.filter(slug__in=slugs).values_list("slug", "pk")) if slugs else {}
    lines = [
        QuoteLine(amount=p.amount_due, category_id=categories.get(p.line.category_slug or ""))
        for p in snapshot.priced.lines
    ]
    tier = snapshot.account.tier if snapshot.account is not None else None
    if tier is None:
        tier = program.tiers.order_by("position").first()
    rules = program_rules(program)
    segments = member_segments_of(snapshot.account.pk if snapshot.account is not None else None, rules)
    extra = snapshot.account.membership_multiplier if snapshot.account is not None else Decimal("1")
    return earning_quote(
        program=program, rules=rules, lines=lines, at=at, tier=tier, segments=segments, extra_multiplier=extra
    ).points


def quote_token(quote: CheckoutQuote) -> str:
    """The signed token that commits ``quote`` (Django's signing with the secret key; not a secret itself)."""
    return signing.dumps({"q": quote.pk}, salt=_TOKEN_SALT)


def checkout_quote(
    *, user: AbstractBaseUser | AnonymousUser, data: QuoteInput, now: dt.datetime | None = None
) -> CheckoutQuote:
    """Price ``data`` and store the quote (valid for :func:`quote_minutes`); changes nothing else.

    Codes: NOT_AUTHENTICATED, PERMISSION_DENIED (no ``checkout:use`` capability in the shop),
    NOT_FOUND (shop, customer), INVALID_INPUT, RATE_LIMITED and SERVICE_UNAVAILABLE (unknown coupon
    codes, :func:`_count_guesses`). Coupons, promotions and points that do not apply
    are not errors: the quote lists them in ``result["notApplied"]`` with a reason code.
    """
    now = now or timezone.now()
    require(user, data.shop_id, Capability.CHECKOUT)
    shop = Shop.objects.filter(pk=data.shop_id).first()
    if shop is None:
        raise CheckoutError(CheckoutErrorCode.NOT_FOUND, "No such shop.", "shopId")
    _validate(data, pricing.currency_quantum(shop.currency))
    stored = _input_json(data)
    snapshot = _load(shop, stored, now)
    _count_guesses(user, shop.pk, snapshot.priced)
    result = snapshot.priced.as_json() | {"pointsEarned": _points_earned(snapshot, now)}
    return CheckoutQuote.objects.create(
        shop=shop,
        customer=snapshot.customer,
        account=snapshot.account,
        input=stored,
        result=result,
        currency=shop.currency,
        total_due=snapshot.priced.total_due,
        created_by_id=cast(int, user.pk),
        expires_at=now + dt.timedelta(minutes=quote_minutes()),
    )


def _count_guesses(user: AbstractBaseUser | AnonymousUser, shop_id: int, priced: pricing.Priced) -> None:
    """Count each unknown coupon code against the till's guessing limits (``COUPON_GUESS_RATES``).

    Known codes and quotes without coupons cost nothing, so a busy checkout is never slowed;
    someone trying codes gets RATE_LIMITED (nothing stored) after 30 misses a minute per caller or
    120 per shop, the redemption till's limits. SERVICE_UNAVAILABLE when the counters (Redis) cannot
    be reached, rather than guessing unchecked.
    """
    misses = sum(1 for n in priced.not_applied if n.reason is NotAppliedReason.COUPON_UNKNOWN)
    try:
        for _ in range(misses):
            staff_rate, shop_rate = COUPON_GUESS_RATES
            if not (
                throttle_hit(rate=staff_rate, scope="coupon-guess-staff", key=str(user.pk))
                and throttle_hit(rate=shop_rate, scope="coupon-guess-shop", key=str(shop_id))
            ):
                raise CheckoutError(
                    CheckoutErrorCode.RATE_LIMITED, "Too many unknown coupon codes; wait a minute.", "couponCodes"
                )
    except ThrottleUnavailable:
        raise CheckoutError(
            CheckoutErrorCode.SERVICE_UNAVAILABLE, "Coupons cannot be checked for a moment; try again.", "couponCodes"
        ) from None


def _money(result: dict[str, Any]) -> dict[str, Any]:
    """The part of a priced result that a commit must reproduce: every amount, discount and point spent."""
    return {key: value for key, value in result.items() if key not in ("notApplied", "pointsEarned")}


def _replay(shop_id: int, key: str, quote_id: int, order_id: str) -> CommitResult | None:
    existing = CheckoutCommit.objects.select_related("quote").filter(shop_id=shop_id, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.quote_id != quote_id or existing.order_external_id != order_id:
        raise CheckoutError(
            CheckoutErrorCode.IDEMPOTENCY_CONFLICT, "This key was used for another commit.", "idempotencyKey"
        )
    return CommitResult(commit=existing, replayed=True)


def checkout_commit(
    *,
    user: AbstractBaseUser | AnonymousUser,
    token: str,
    idempotency_key: str,
    order_external_id: str = "",
    now: dt.datetime | None = None,
) -> CommitResult:
    """Commit the quote ``token`` names, exactly once (see the module docstring for what it writes).

    Codes: NOT_AUTHENTICATED, QUOTE_INVALID (not a token of this server), PERMISSION_DENIED,
    INVALID_INPUT (key of 1-200 characters, order id of at most 120), IDEMPOTENCY_CONFLICT (the key
    committed another quote or order), QUOTE_EXPIRED, QUOTE_ALREADY_COMMITTED (under another key),
    QUOTE_STALE (priced again, the money differs). The same key and quote replay the first result.
    """
    now = now or timezone.now()
    if user is None or not user.is_authenticated:
        raise CheckoutError(CheckoutErrorCode.NOT_AUTHENTICATED, "Log in first.")
    try:
        quote_id = int(signing.loads(token, salt=_TOKEN_SALT)["q"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise CheckoutError(
            CheckoutErrorCode.QUOTE_INVALID, "This is not a quote of this server.", "quoteToken"
        ) from None
    quote = CheckoutQuote.objects.select_related("shop").filter(pk=quote_id).first()
    if quote is None:
        raise CheckoutError(CheckoutErrorCode.QUOTE_INVALID, "This is not a quote of this server.", "quoteToken")
    require(user, quote.shop_id, Capability.CHECKOUT)
    key = (idempotency_key or "").strip()
    if not 1 <= len(key) <= 200:
        raise _invalid("An idempotency key of 1 to 200 characters is required.", "idempotencyKey")
    if len(order_external_id) > 120:
        raise _invalid("An order id is at most 120 characters.", "orderId")
    replay = _replay(quote.shop_id, key, quote.pk, order_external_id)
    if replay is not None:
        return replay
    if now >= quote.expires_at:
        raise CheckoutError(CheckoutErrorCode.QUOTE_EXPIRED, "This quote has expired; quote again.", "quoteToken")
    try:
        with transaction.atomic(durable=True):
            return _commit(user, quote, key, order_external_id, now)
    except IntegrityError:  # a concurrent commit with the same key (or of the same quote) won
        replay = _replay(quote.shop_id, key, quote.pk, order_external_id)
        if replay is None:
            raise CheckoutError(
                CheckoutErrorCode.QUOTE_ALREADY_COMMITTED, "This quote was committed already.", "quoteToken"
            ) from None
        return replay


def _commit(user: AbstractBaseUser, quote: CheckoutQuote, key: str, order_id: str, now: dt.datetime) -> CommitResult:
    """The locked part of :func:`checkout_commit` (inside its durable transaction)."""
    CheckoutQuote.objects.select_for_update().filter(pk=quote.pk).values_list("pk", flat=True).get()
    if CheckoutCommit.objects.filter(quote=quote).exists():  # committed while this call waited for the lock
        replay = _replay(quote.shop_id, key, quote.pk, order_id)
        if replay is not None:
            return replay
        raise CheckoutError(
            CheckoutErrorCode.QUOTE_ALREADY_COMMITTED, "This quote was committed already.", "quoteToken"
        )
    snapshot = _load(quote.shop, quote.input, now, lock=True)
    priced = snapshot.priced
    if (
        _money(priced.as_json()) != _money(quote.result)
        or (snapshot.account and snapshot.account.pk) != quote.account_id
    ):
        raise CheckoutError(CheckoutErrorCode.QUOTE_STALE, "Prices changed since the quote; quote again.", "quoteToken")
    commit = CheckoutCommit.objects.create(
        shop=quote.shop,
        quote=quote,
        account=snapshot.account,
        idempotency_key=key,
        order_external_id=order_id,
        discount_total=priced.discount_total,
        points_spent=priced.points_spent,
        points_amount=priced.points_amount,
        total_due=priced.total_due,
        committed_by_id=user.pk,
    )
    revenue = priced.subtotal - priced.discount_total
    uses = []
    for discount in priced.discounts():
        if discount.source not in (pricing.PROMOTION, pricing.COUPON):
            continue
        coupon = snapshot.coupons.get(discount.coupon_code or "")
        uses.append(
            PromotionUse(
                commit=commit,
                promotion_id=cast(int, discount.promotion_id),  # PROMOTION and COUPON discounts name theirs
                coupon=coupon,
                customer=snapshot.customer,
                amount=discount.amount,
                revenue=revenue,
                staff_user_id=user.pk,
            )
        )
        if coupon is not None:
            Coupon.objects.filter(pk=coupon.pk).update(uses=F("uses") + 1)
    PromotionUse.objects.bulk_create(uses)
    if priced.points_spent:
        account = snapshot.account
        assert account is not None  # pricing spends points only for a member with an account
        reason = f"Paid {priced.points_amount} {quote.currency} at checkout" + (
            f" of order {order_id}" if order_id else ""
        )
        try:
            entry = points_spend(
                account=account,
                points=priced.points_spent,
                movement=Movement(
                    kind=EntryKind.REDEEM,
                    reason=reason,
                    reason_code=Reason.CHECKOUT_PAID_ORDER if order_id else Reason.CHECKOUT_PAID,
                    reason_params={"amount": str(priced.points_amount), "currency": quote.currency}
                    | ({"order": order_id} if order_id else {}),
                    source_type=SourceType.CHECKOUT,
                    source_id=str(commit.pk),
                    idempotency_key=f"checkout:{commit.pk}:spend",
                    at=now,
                    staff_user_id=user.pk,
                ),
            )
        except LoyaltyError:  # the balance moved under the lock: the priced result would have differed
            raise CheckoutError(
                CheckoutErrorCode.QUOTE_STALE, "Points changed since the quote.", "quoteToken"
            ) from None
        commit.points_entry = entry
        commit.save(update_fields=["points_entry"])
        broadcast_on_commit(
            AccountUpdate(
                account_id=account.pk,
                customer_id=account.customer_id,
                shop_id=quote.shop_id,
                entry_id=entry.pk,
                kind=entry.kind,
                points=entry.points,
                reason=entry.reason,
            )
        )
    commit_event_record(commit, quote, at=now)
    return CommitResult(commit=commit, replayed=False)
