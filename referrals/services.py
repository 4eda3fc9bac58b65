"""Referral writes: codes, applying a friend's code, completion and reversal by the order worker, expiry.

Flow (docs/referrals.md): a member's :class:`ReferralCode` is created when they join a program
whose referrals are enabled (:func:`on_member_account_saved`) or, for the members already there,
when the shop enables referrals (:func:`referral_codes_backfill`); reads never create one. A
customer with no delivered order in the shop applies it (:func:`referral_apply`, an OPEN referral). The
loyalty order worker sends ``loyalty.signals.order_points_posted`` inside its transaction; on a
DELIVERED event of the referee's order at or above the minimum, :func:`referral_complete_for_order`
posts both bonuses (BONUS entries, keys ``referral:<id>:referrer`` / ``referral:<id>:referee``);
a full return or refund of that order inside the shop's return window takes both back
(:func:`referral_reverse_for_order`). :func:`referrals_expire_due` closes open referrals past
``expires_at``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty.broadcasts import AccountUpdate, broadcast_on_commit
from loyalty.events import member_ref
from loyalty.models import EntryKind, LoyaltyProgram, MemberAccount, PointsEntry, PointsLot, SourceType
from loyalty.reasons import Reason
from loyalty.services.ledger import Movement, account_lock, entry_existing, points_grant, points_take_back
from loyalty.services.periods import lot_expires_at
from loyalty.services.tiers import program_config_cached
from marketplace.events import node_id, shop_event_record
from marketplace.models import Customer, EventType, Order, OrderStatus
from marketplace.permissions import Capability, has_capability
from referrals.errors import ReferralError, ReferralErrorCode
from referrals.models import Referral, ReferralCode, ReferralProgram, ReferralStatus
from referrals.selectors import code_normalise

#: Crockford base32 symbols (no I, L, O, U): readable aloud, no look-alikes.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Symbols of a referral code: 40 random bits from :mod:`secrets`, nothing derived from the member.
CODE_LENGTH = 8
#: Path of the shareable link; the dashboard turns ``/r/<code>`` into the apply screen.
LINK_PREFIX = "/r/"
#: Order statuses whose event reverses a completed referral (a partial return does not).
FULL_RETURN_STATUSES = frozenset({OrderStatus.RETURNED, OrderStatus.REFUNDED})


def referral_link(code: str) -> str:
    """The shareable link of ``code`` (relative; the dashboard's origin is prepended by clients)."""
    return f"{LINK_PREFIX}{code}"


def referral_code_draw() -> str:
    """A fresh random code: :data:`CODE_LENGTH` symbols of :data:`CODE_ALPHABET` from :mod:`secrets`.

    No query: the caller inserts it and retries on a unique violation (40 bits, so rarely).
    """
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def referral_code_for(account: MemberAccount, *, now: dt.datetime | None = None) -> ReferralCode:
    """The member's referral code in the account's shop, created (random, unique) when it has none.

    A write: reads go through ``referrals.selectors`` and never create a code. One query when
    the code exists, else a savepoint and an insert (retried on a collision, up to 10 draws,
    then ``RuntimeError``).
    """
    existing = ReferralCode.objects.filter(account=account).first()
    if existing is not None:
        return existing
    for _ in range(10):
        code = referral_code_draw()
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(account=account, code=code, created_at=now or timezone.now())
        except IntegrityError:  # the account got a code concurrently, or (rarely) the code is taken
            existing = ReferralCode.objects.filter(account=account).first()
            if existing is not None:
                return existing
    raise RuntimeError("could not draw a free referral code")


#: Most rounds of :func:`referral_codes_backfill`; a round repeats only for drawn codes that collided.
BACKFILL_ROUNDS = 10


def referral_codes_backfill(*, program_id: int, now: dt.datetime | None = None) -> int:
    """Give every member of the program who has no referral code one, in bulk; returns how many lacked one.

    Call it inside the transaction that enables the program's referrals (so the codes and the
    setting commit together). Each round is two queries whatever the members: the accounts
    without a code, then one ``INSERT ... ON CONFLICT DO NOTHING`` (in batches of 1,000 rows); a
    code that collided, or an account that got a code concurrently, is skipped and the next round
    picks up what is still missing. ``RuntimeError`` after :data:`BACKFILL_ROUNDS` rounds.
    """
    now = now or timezone.now()
    lacking: int | None = None
    for _ in range(BACKFILL_ROUNDS):
        missing = list(
            MemberAccount.objects.filter(program_id=program_id, referral_code__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if lacking is None:
            lacking = len(missing)
        if not missing:
            return lacking
        ReferralCode.objects.bulk_create(
            [ReferralCode(account_id=pk, code=referral_code_draw(), created_at=now) for pk in missing],
            batch_size=1000,
            ignore_conflicts=True,
        )
    raise RuntimeError("could not draw free referral codes")


def on_member_account_saved(sender, *, instance: MemberAccount, created: bool, raw: bool = False, **kwargs) -> None:
    """Receiver of ``post_save`` for :class:`~loyalty.models.MemberAccount` (connected in ``ReferralsConfig.ready``).

    A new member of a program whose referrals are enabled gets their code in the enrolment's
    transaction (one query to check the setting, and :func:`referral_code_for`'s insert), so
    that reads find it. Fixture loading (``raw``) and later saves of the account do nothing.
    The setting is read without a lock (enrolment is on the order worker's hot path), so an
    enrolment that commits while referrals are being switched on can miss both this and the
    backfill; its code then reads as null until the settings are saved again (which backfills it).
    """
    if not created or raw:
        return
    if ReferralProgram.objects.filter(program_id=instance.program_id, enabled=True).exists():
        referral_code_for(instance)


def referral_settings(program: LoyaltyProgram) -> ReferralProgram | None:
    """The program's referral settings, if any were saved."""
    return ReferralProgram.objects.filter(program=program).first()


def referral_settings_cached(program: LoyaltyProgram) -> ReferralProgram | None:
    """:func:`referral_settings` from the per-process cache of the order worker (no query on a hit).

    Keyed on ``program.config_version``, which a trigger on the settings table bumps on every
    change from any process (referrals migration 0003; ``loyalty.services.tiers.program_config_cached``).
    ``program`` must have been read in the current transaction, as the posting path does. The
    returned row is shared: read it, never change or save it.
    """
    return program_config_cached(program, "referrals", lambda: referral_settings(program))


@dataclass(frozen=True, kw_only=True)
class ReferralSettingsInput:
    """New referral settings; ``None`` leaves a field unchanged."""

    enabled: bool | None = None
    referrer_bonus_points: int | None = None
    referee_bonus_points: int | None = None
    min_order_amount: Decimal | None = None
    open_days: int | None = None
    monthly_cap: int | None = None
    clear_monthly_cap: bool = False


def referral_settings_update(*, program: LoyaltyProgram, data: ReferralSettingsInput) -> ReferralProgram:
    """Create or change the program's referral settings (the caller checked owner/manager rights).

    When the saved settings are enabled, every member without a code gets one in the same
    transaction (:func:`referral_codes_backfill`: one more query when none lacks one, three when
    some do, whatever the members).
    Raises ``ReferralError(INVALID_INPUT)`` for negative points or amounts, or ``open_days`` < 1.
    """
    for field in ("referrer_bonus_points", "referee_bonus_points", "monthly_cap"):
        value = getattr(data, field)
        if value is not None and value < 0:
            raise ReferralError(ReferralErrorCode.INVALID_INPUT, "Must not be negative.", field=_camel(field))
    if data.open_days is not None and data.open_days < 1:
        raise ReferralError(ReferralErrorCode.INVALID_INPUT, "A referral stays open at least a day.", field="openDays")
    if data.min_order_amount is not None and data.min_order_amount < 0:
        raise ReferralError(ReferralErrorCode.INVALID_INPUT, "Must not be negative.", field="minOrderAmount")
    with transaction.atomic():
        settings, _ = ReferralProgram.objects.select_for_update().get_or_create(program=program)
        for field in ("enabled", "referrer_bonus_points", "referee_bonus_points", "min_order_amount", "open_days"):
            value = getattr(data, field)
            if value is not None:
                setattr(settings, field, value)
        if data.clear_monthly_cap:
            settings.monthly_cap = None
        elif data.monthly_cap is not None:
            settings.monthly_cap = data.monthly_cap
        settings.save()
        if settings.enabled:
            referral_codes_backfill(program_id=program.pk)
    return settings


def referral_settings_save(*, user, shop_id: int, data: ReferralSettingsInput) -> ReferralProgram:
    """:func:`referral_settings_update` for the shop's owner or manager.

    Codes: NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND (the shop runs no program), INVALID_INPUT.
    """
    if user is None or not user.is_authenticated:
        raise ReferralError(ReferralErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.EDIT_PROGRAM):
        raise ReferralError(
            ReferralErrorCode.PERMISSION_DENIED, "Only the shop's owner or manager change referrals.", field="shopId"
        )
    program = LoyaltyProgram.objects.filter(shop_id=shop_id).first()
    if program is None:
        raise ReferralError(ReferralErrorCode.NOT_FOUND, "This shop runs no loyalty program.", field="shopId")
    return referral_settings_update(program=program, data=data)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _month_start(at: dt.datetime) -> dt.datetime:
    at = at.astimezone(dt.UTC)
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def completed_this_month(code: ReferralCode, at: dt.datetime) -> int:
    """Referrals of ``code`` completed in the calendar month (UTC) of ``at`` (reversed ones do not count)."""
    start = _month_start(at)
    return Referral.objects.filter(
        code=code,
        status=ReferralStatus.COMPLETED,
        completed_at__gte=start,
        completed_at__lt=start + relativedelta(months=1),
    ).count()


def has_delivered_order(*, customer_id: int, shop_id: int) -> bool:
    """Whether the customer already had an order delivered in the shop (then they are not a new customer)."""
    return Order.objects.filter(customer_id=customer_id, shop_id=shop_id, delivered_at__isnull=False).exists()


def _same_contact(a: Customer, b: Customer) -> bool:
    same_email = bool(a.email) and a.email.strip().lower() == b.email.strip().lower()
    digits_a = "".join(ch for ch in a.phone if ch.isdigit())
    digits_b = "".join(ch for ch in b.phone if ch.isdigit())
    return same_email or (bool(digits_a) and digits_a == digits_b)


def referral_apply(*, user, shop_id: int, code: str, now: dt.datetime | None = None) -> Referral:
    """The logged-in customer ``user`` applies a friend's ``code`` in shop ``shop_id``: an OPEN referral.

    Refusals (``ReferralError``, nothing written): NOT_AUTHENTICATED, NOT_A_CUSTOMER (the login
    has no customer), CODE_UNKNOWN (no such code in that shop), DISABLED (referrals off or the
    program inactive), CODE_EXPIRED, OWN_CODE, SAME_CONTACT (same e-mail or phone digits as
    the referrer), ALREADY_REFERRED (one referral per customer per shop, also under a race),
    ALREADY_CUSTOMER (an order of theirs was already delivered in the shop), CAP_REACHED (the
    referrer completed ``monthly_cap`` referrals this month).
    """
    now = now or timezone.now()
    if user is None or not user.is_authenticated:
        raise ReferralError(ReferralErrorCode.NOT_AUTHENTICATED, "Log in to apply a referral code.")
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        raise ReferralError(ReferralErrorCode.NOT_A_CUSTOMER, "Only customers can apply a referral code.")
    referral_code = (
        ReferralCode.objects.select_related("account__customer", "account__program")
        .filter(code=code_normalise(code), account__program__shop_id=shop_id)
        .first()
    )
    if referral_code is None:
        raise ReferralError(ReferralErrorCode.CODE_UNKNOWN, "No such referral code in this shop.", field="code")
    program = referral_code.account.program
    settings = referral_settings(program)
    if settings is None or not settings.enabled or not program.active:
        raise ReferralError(ReferralErrorCode.DISABLED, "This shop has no referral program running.")
    if referral_code.expires_at is not None and referral_code.expires_at <= now:
        raise ReferralError(ReferralErrorCode.CODE_EXPIRED, "This referral code has expired.", field="code")
    referrer = referral_code.account.customer
    if referrer.pk == customer.pk:
        raise ReferralError(ReferralErrorCode.OWN_CODE, "You cannot apply your own code.", field="code")
    if _same_contact(referrer, customer):
        raise ReferralError(
            ReferralErrorCode.SAME_CONTACT, "The code belongs to the same e-mail or phone.", field="code"
        )
    if Referral.objects.filter(program=program, referee=customer).exists():
        raise ReferralError(ReferralErrorCode.ALREADY_REFERRED, "You were already referred in this shop.")
    if has_delivered_order(customer_id=customer.pk, shop_id=shop_id):
        raise ReferralError(ReferralErrorCode.ALREADY_CUSTOMER, "Referral codes are for new customers of the shop.")
    if settings.monthly_cap is not None and completed_this_month(referral_code, now) >= settings.monthly_cap:
        raise ReferralError(ReferralErrorCode.CAP_REACHED, "This code has reached its referrals for the month.")
    try:
        with transaction.atomic():
            return Referral.objects.create(
                program=program,
                code=referral_code,
                referee=customer,
                applied_at=now,
                expires_at=now + dt.timedelta(days=settings.open_days),
            )
    except IntegrityError as exc:  # a concurrent apply by the same customer won
        raise ReferralError(ReferralErrorCode.ALREADY_REFERRED, "You were already referred in this shop.") from exc


def _lock_pair(referral: Referral, account: MemberAccount) -> tuple[MemberAccount, MemberAccount]:
    """Lock the referrer's account beside the referee's, which the order worker already holds:
    ``(referrer, referee)``. The referee's lock comes first whatever the ids, so two members who
    referred each other and whose first orders are processed at the same moment can deadlock;
    PostgreSQL aborts one and the worker retries it (docs/referrals.md)."""
    referrer_id = referral.code.account_id
    locked = {a.pk: a for a in account_lock(account_ids=[referrer_id, account.pk])}
    # the referee stays the worker's own (already locked) instance so its cached balances stay in step
    return locked[referrer_id], account


def _post_bonus(
    *,
    account: MemberAccount,
    points: int,
    referral: Referral,
    side: str,
    reason: str,
    at: dt.datetime,
    code: str = "",
    params: dict | None = None,
) -> PointsEntry | None:
    if points <= 0 or account.blocked:  # a blocked member earns no bonus (docs/crm.md, "Status")
        return None
    return points_grant(
        account=account,
        points=points,
        expires_at=lot_expires_at(program=referral.program, available_at=at),
        movement=Movement(
            kind=EntryKind.BONUS,
            reason=reason[:300],
            reason_code=code,
            reason_params=params or {},
            source_type=SourceType.REFERRAL,
            source_id=str(referral.pk),
            idempotency_key=f"referral:{referral.pk}:{side}",
            at=at,
        ),
    )


def _broadcast(account: MemberAccount, shop_id: int, entry: PointsEntry | None) -> None:
    if entry is None:
        return
    broadcast_on_commit(
        AccountUpdate(
            account_id=account.pk,
            customer_id=account.customer_id,
            shop_id=shop_id,
            entry_id=entry.pk,
            kind=entry.kind,
            points=entry.points,
            reason=entry.reason,
        )
    )


def referral_complete_for_order(
    *, order: Order, account: MemberAccount, at: dt.datetime, broadcast: bool = True
) -> Referral | None:
    """Complete the referee's OPEN referral with ``order`` (delivered) and post both bonuses.

    Runs inside the order worker's transaction with the referee's ``account`` locked. Nothing
    happens unless the customer has an OPEN referral in the order's program that has not
    expired by ``at``, referrals are enabled, and the order's goods (less the points-paid part)
    reach ``min_order_amount``; the first such delivered order completes it. The referrer's
    monthly cap is checked again (under the referrer's account lock): when it is reached the
    referral stays open. Exactly once: the referral row is locked and must still be OPEN, and
    the ledger keys ``referral:<id>:referrer`` / ``referral:<id>:referee`` are unique.
    """
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("code__account__customer", "program", "referee")
        .filter(program_id=account.program_id, referee_id=order.customer_id, status=ReferralStatus.OPEN)
        .first()
    )
    if referral is None or referral.expires_at <= at:
        return None
    settings = referral_settings(referral.program)
    if settings is None or not settings.enabled:
        return None
    if order.goods_amount - order.points_paid_amount < settings.min_order_amount:
        return None
    referrer, referee = _lock_pair(referral, account)
    if settings.monthly_cap is not None and completed_this_month(referral.code, at) >= settings.monthly_cap:
        return None
    friend = referral.referee.display_name or "a friend"
    referrer_entry = _post_bonus(
        account=referrer,
        points=settings.referrer_bonus_points,
        referral=referral,
        side="referrer",
        reason=f"Referral bonus: {friend} placed a first order with your code {referral.code.code}",
        at=at,
        code=Reason.REFERRAL_REFERRER,
        params={"friend": friend, "code": referral.code.code},
    )
    referee_entry = _post_bonus(
        account=referee,
        points=settings.referee_bonus_points,
        referral=referral,
        side="referee",
        reason=f"Referral bonus: first order {order.external_id} with code {referral.code.code}",
        at=at,
        code=Reason.REFERRAL_REFEREE,
        params={"order": order.external_id, "code": referral.code.code},
    )
    Referral.objects.filter(pk=referral.pk).update(
        status=ReferralStatus.COMPLETED,
        completed_at=at,
        qualifying_order=order,
        referrer_points=referrer_entry.points if referrer_entry else 0,
        referee_points=referee_entry.points if referee_entry else 0,
    )
    referral.refresh_from_db()
    _, referrer_ref = member_ref(referrer)
    _, referee_ref = member_ref(referee)
    shop_event_record(
        shop_id=order.shop_id,
        type=EventType.REFERRAL_COMPLETED,
        occurred_at=at,
        data={
            "referralId": node_id("Referral", referral.pk),
            "code": referral.code.code,
            "referrer": referrer_ref,
            "referee": referee_ref,
            "orderId": node_id("Order", order.pk),
            "orderExternalId": order.external_id,
            "referrerPoints": referral.referrer_points,
            "refereePoints": referral.referee_points,
        },
    )
    if broadcast:
        _broadcast(referrer, order.shop_id, referrer_entry)
        _broadcast(referee, order.shop_id, referee_entry)
    return referral


def _take_back(
    *, account: MemberAccount, referral: Referral, side: str, reason: str, at: dt.datetime, order_external_id: str
):
    bonus = entry_existing(idempotency_key=f"referral:{referral.pk}:{side}")
    if bonus is None:
        return None
    return points_take_back(
        account=account,
        lot=PointsLot.objects.get(entry=bonus),
        points=bonus.points,
        qualifying_delta=Decimal(0),
        movement=Movement(
            kind=EntryKind.REVERSE,
            reason=reason[:250],
            reason_code=Reason.REFERRAL_REVERSED,
            reason_params={"order": order_external_id},
            source_type=SourceType.REFERRAL,
            source_id=str(referral.pk),
            idempotency_key=f"referral:{referral.pk}:{side}:reverse",
            at=at,
        ),
    )


def referral_reverse_for_order(
    *, order: Order, account: MemberAccount, at: dt.datetime, broadcast: bool = True
) -> Referral | None:
    """Take both bonuses back when the qualifying ``order`` is fully returned or refunded in the return window.

    Runs inside the order worker's transaction (referee's ``account`` locked). Each side's
    bonus is taken back with ``points_take_back`` (REVERSE entries keyed
    ``referral:<id>:<side>:reverse``): from the bonus lot, then other available points, and
    what was already spent is written off as ``unrecovered_points`` (never a negative
    balance). The referral becomes REVERSED. A return after the window, or a partial return,
    changes nothing.
    """
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("code__account", "program")
        .filter(qualifying_order=order, status=ReferralStatus.COMPLETED)
        .first()
    )
    if referral is None:
        return None
    delivered = order.delivered_at or referral.completed_at
    if delivered is None:  # never delivered: the referral never completed, nothing to take back
        return None
    if at > delivered + dt.timedelta(days=order.shop.return_window_days):
        return None
    referrer, referee = _lock_pair(referral, account)
    reason = f"Referral bonus reversed: order {order.external_id} was returned"
    entries = [
        (
            referrer,
            _take_back(
                account=referrer,
                referral=referral,
                side="referrer",
                reason=reason,
                at=at,
                order_external_id=order.external_id,
            ),
        ),
        (
            referee,
            _take_back(
                account=referee,
                referral=referral,
                side="referee",
                reason=reason,
                at=at,
                order_external_id=order.external_id,
            ),
        ),
    ]
    Referral.objects.filter(pk=referral.pk).update(status=ReferralStatus.REVERSED, closed_at=at)
    referral.refresh_from_db()
    if broadcast:
        for owner, entry in entries:
            _broadcast(owner, order.shop_id, entry)
    return referral


def on_order_points_posted(
    sender, *, order: Order, account: MemberAccount, event_status: str, at: dt.datetime, broadcast: bool, **kwargs
) -> None:
    """Receiver of ``loyalty.signals.order_points_posted`` (connected in ``ReferralsConfig.ready``).

    A delivered order in a program whose referrals are off (the cached settings, no query)
    cannot complete a referral, so the referral lookup and its row lock are skipped: before,
    every delivered order paid a three-join ``SELECT ... FOR UPDATE`` (issue 15). Returns are
    always looked up: a completed referral is reversed even after referrals were switched off.
    """
    if event_status == OrderStatus.DELIVERED:
        settings = referral_settings_cached(account.program)
        if settings is None or not settings.enabled:
            return
        referral_complete_for_order(order=order, account=account, at=at, broadcast=broadcast)
    elif event_status in FULL_RETURN_STATUSES:
        referral_reverse_for_order(order=order, account=account, at=at, broadcast=broadcast)


def referrals_expire_due(now: dt.datetime | None = None, *, dry_run: bool = False) -> int:
    """Close OPEN referrals whose ``expires_at`` has passed (status EXPIRED). Returns how many.

    Idempotent (a second run finds none); safe against a concurrent completion, which locks
    the row and requires it OPEN. With ``dry_run`` it only counts.
    """
    now = now or timezone.now()
    due = Referral.objects.filter(status=ReferralStatus.OPEN, expires_at__lte=now)
    if dry_run:
        return due.count()
    return due.update(status=ReferralStatus.EXPIRED, closed_at=now)
