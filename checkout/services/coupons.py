"""Coupons: one by one, in batches from a pattern, voided, exported to and imported from CSV, as QR images.

Codes are stored in a canonical form (upper case, no spaces) unique per shop. Generated codes follow
the redemption codes' guarantees (``rewards.codes``): every random symbol comes from
:mod:`secrets`, uniqueness is enforced by the database (``coupon_code_unique_per_shop``) with
collisions drawn again, and a pattern too small for the batch is refused: the number of possible
codes must be at least :data:`GUESS_FACTOR` times the codes that exist in it, so a guessed code is
valid with odds of one in a million at most.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import segno
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from checkout.errors import CheckoutError, CheckoutErrorCode
from checkout.models import Coupon, CouponBatch, Promotion
from checkout.services.promotions import managed
from marketplace.models import Customer

#: Default alphabet of generated codes: Crockford's base32 symbols (``rewards.codes.ALPHABET``)
#: without 0 and 1, which read like O and I on paper.
DEFAULT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
GUESS_FACTOR = 1_000_000
MAX_BATCH = 100_000
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
_PREFIX = re.compile(r"^[A-Z0-9_-]{0,20}$")
CSV_FIELDS = [
    "code",
    "customer_id",
    "max_uses",
    "max_uses_per_member",
    "uses",
    "valid_from",
    "valid_until",
    "channel",
    "voided",
]


def coupon_code_normalise(text: str) -> str:
    """A code as stored: surrounding and inner spaces removed, upper case (``" bf-x7 k "`` -> ``"BF-X7K"``)."""
    return re.sub(r"\s+", "", text).upper()


@dataclass(frozen=True, kw_only=True)
class CouponInput:
    """One coupon, or the settings shared by a batch; ``customer_external_id`` makes it personal."""

    promotion_id: int
    code: str | None = None
    customer_external_id: str | None = None
    max_uses: int | None = 1
    max_uses_per_member: int | None = None
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    channel: str = ""


@dataclass(frozen=True, kw_only=True)
class BatchInput:
    """A batch: ``count`` codes of ``prefix`` + ``length`` symbols of ``alphabet``, with ``settings``."""

    settings: CouponInput
    name: str
    count: int
    prefix: str = ""
    length: int = 8
    alphabet: str = DEFAULT_ALPHABET


def _invalid(message: str, field_name: str) -> CheckoutError:
    return CheckoutError(CheckoutErrorCode.INVALID_INPUT, message, field_name)


def _promotion(user: AbstractBaseUser | AnonymousUser, promotion_id: int) -> Promotion:
    """The promotion if ``user`` may manage it: NOT_AUTHENTICATED or NOT_FOUND (``managed``) otherwise."""
    return managed(user, Promotion.objects.all(), promotion_id, "promotionId")


def _fields(promotion: Promotion, data: CouponInput) -> dict:
    """The model fields of ``data`` after validation (INVALID_INPUT / NOT_FOUND on the field at fault)."""
    for name, limit in (("maxUses", data.max_uses), ("maxUsesPerMember", data.max_uses_per_member)):
        if limit is not None and not 1 <= limit <= 1_000_000_000:
            raise _invalid("A use limit is 1 or more (null: unlimited).", name)
    if data.valid_from and data.valid_until and data.valid_until <= data.valid_from:
        raise _invalid("validUntil must be after validFrom.", "validUntil")
    if len(data.channel) > 40:
        raise _invalid("A channel name is at most 40 characters.", "channel")
    customer = None
    if data.customer_external_id:
        customer = Customer.objects.filter(external_id=data.customer_external_id).first()
        if customer is None:
            raise CheckoutError(CheckoutErrorCode.NOT_FOUND, "No customer with this id.", "customerId")
    return {
        "shop_id": promotion.shop_id,
        "promotion": promotion,
        "customer": customer,
        "max_uses": data.max_uses,
        "max_uses_per_member": data.max_uses_per_member,
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "channel": data.channel,
    }


def _draw(prefix: str, length: int, alphabet: str) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def coupon_create(*, user: AbstractBaseUser | AnonymousUser, data: CouponInput) -> Coupon:
    """One coupon for promotion ``data.promotion_id``, with the given code or a generated one (8 symbols).

    Codes: NOT_AUTHENTICATED, NOT_FOUND (also a promotion the caller may not manage), INVALID_INPUT (a code of 3-40 of
    A-Z 0-9 _ -), CODE_TAKEN (the shop has that code).
    """
    promotion = _promotion(user, data.promotion_id)
    fields = _fields(promotion, data)
    code = coupon_code_normalise(data.code) if data.code else None
    if code is not None and not _CODE.match(code):
        raise _invalid("A code is 3 to 40 letters, digits, '-' or '_'.", "code")
    for _ in range(5):
        try:
            with transaction.atomic():
                return Coupon.objects.create(code=code or _draw("", 8, DEFAULT_ALPHABET), **fields)
        except IntegrityError:
            if code is not None:
                raise CheckoutError(CheckoutErrorCode.CODE_TAKEN, "This shop already has this code.", "code") from None
    raise CheckoutError(CheckoutErrorCode.CODE_TAKEN, "Could not draw a free code; try again.", "code")


def coupon_batch_generate(*, user: AbstractBaseUser | AnonymousUser, data: BatchInput) -> CouponBatch:
    """Generate ``data.count`` coupons from the pattern in one transaction; return the batch.

    Codes: as :func:`coupon_create`; INVALID_INPUT for a count outside 1-100,000, a prefix of more
    than 20 of A-Z 0-9 _ -, a length outside 4-32, an alphabet of fewer than 2 or repeated symbols
    outside A-Z 0-9, or a pattern with fewer than ``GUESS_FACTOR x (codes of the shop + count)``
    possible codes.
    """
    promotion = _promotion(user, data.settings.promotion_id)
    fields = _fields(promotion, data.settings)
    prefix, alphabet = coupon_code_normalise(data.prefix), coupon_code_normalise(data.alphabet)
    if not 1 <= len(data.name.strip()) <= 200:
        raise _invalid("A batch needs a name of 1 to 200 characters.", "name")
    if not 1 <= data.count <= MAX_BATCH:
        raise _invalid(f"A batch has 1 to {MAX_BATCH:,} codes.", "count")
    if not _PREFIX.match(prefix):
        raise _invalid("A prefix is up to 20 letters, digits, '-' or '_'.", "prefix")
    if not 4 <= data.length <= 32:
        raise _invalid("Codes have 4 to 32 random symbols.", "length")
    if len(alphabet) < 2 or len(set(alphabet)) != len(alphabet) or not re.fullmatch(r"[A-Z0-9]+", alphabet):
        raise _invalid("An alphabet is 2 or more different letters or digits.", "alphabet")
    existing = Coupon.objects.filter(shop_id=promotion.shop_id, code__startswith=prefix).count()
    if len(alphabet) ** data.length < GUESS_FACTOR * (existing + data.count):
        raise _invalid("Too few possible codes for this many: make the codes longer.", "length")
    with transaction.atomic():
        batch = CouponBatch.objects.create(
            shop_id=promotion.shop_id,
            promotion=promotion,
            name=data.name.strip(),
            prefix=prefix,
            length=data.length,
            alphabet=alphabet,
            count=data.count,
            channel=data.settings.channel,
            created_by_id=user.pk,
        )
        codes: set[str] = set()
        while len(codes) < data.count:
            wanted = {_draw(prefix, data.length, alphabet) for _ in range(data.count - len(codes))}
            taken = set(
                Coupon.objects.filter(shop_id=promotion.shop_id, code__in=wanted).values_list("code", flat=True)
            )
            codes |= wanted - taken
        Coupon.objects.bulk_create(
            [Coupon(code=code, batch=batch, **fields) for code in sorted(codes)], batch_size=2000
        )
    return batch


def coupon_void(*, user: AbstractBaseUser | AnonymousUser, coupon_id: int) -> Coupon:
    """Void a coupon: it no longer applies; its uses stay. Codes: NOT_AUTHENTICATED, NOT_FOUND (``managed``)."""
    coupon = managed(user, Coupon.objects.all(), coupon_id, "couponId")
    if coupon.voided_at is None:
        coupon.voided_at = timezone.now()
        coupon.save(update_fields=["voided_at"])
    return coupon


def coupons_csv(coupons: Iterable[Coupon]) -> str:
    """The coupons as CSV text (header :data:`CSV_FIELDS`; times in ISO 8601), for printing or mailing."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for coupon in coupons:
        writer.writerow(
            [
                coupon.code,
                coupon.customer.external_id if coupon.customer else "",
                "" if coupon.max_uses is None else coupon.max_uses,
                "" if coupon.max_uses_per_member is None else coupon.max_uses_per_member,
                coupon.uses,
                coupon.valid_from.isoformat() if coupon.valid_from else "",
                coupon.valid_until.isoformat() if coupon.valid_until else "",
                coupon.channel,
                "yes" if coupon.voided_at else "",
            ]
        )
    return out.getvalue()


def coupons_import(
    *, promotion: Promotion, rows: Iterable[dict[str, str]], progress: Callable[[int], None] = lambda _: None
) -> int:
    """Create a coupon of ``promotion`` per CSV row (columns of :data:`CSV_FIELDS`; ``code`` required).

    All or nothing: one transaction; a bad row raises ``CheckoutError(INVALID_INPUT)`` naming its
    line, a code the shop has raises CODE_TAKEN. ``progress`` is called with each row's number. For
    the operator's ``coupons_import`` command (no staff check: the operator runs it).
    """

    def number(text: str, line: int, name: str) -> int | None:
        if not text.strip():
            return None
        try:
            return int(text)
        except ValueError:
            raise _invalid(f"Line {line}: {name} is not a whole number.", name) from None

    def moment(text: str, line: int, name: str) -> dt.datetime | None:
        if not text.strip():
            return None
        value = parse_datetime(text.strip())
        if value is None or value.tzinfo is None:
            raise _invalid(f"Line {line}: {name} is not an ISO 8601 time with a zone.", name)
        return value

    created = 0
    with transaction.atomic():
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            code = coupon_code_normalise(row.get("code") or "")
            if not _CODE.match(code):
                raise _invalid(f"Line {line}: a code is 3 to 40 letters, digits, '-' or '_'.", "code")
            data = CouponInput(
                promotion_id=promotion.pk,
                code=code,
                customer_external_id=(row.get("customer_id") or "").strip() or None,
                max_uses=number(row.get("max_uses") or "", line, "max_uses"),
                max_uses_per_member=number(row.get("max_uses_per_member") or "", line, "max_uses_per_member"),
                valid_from=moment(row.get("valid_from") or "", line, "valid_from"),
                valid_until=moment(row.get("valid_until") or "", line, "valid_until"),
                channel=(row.get("channel") or "").strip(),
            )
            try:
                with transaction.atomic():
                    Coupon.objects.create(code=code, **_fields(promotion, data))
            except IntegrityError:
                raise CheckoutError(
                    CheckoutErrorCode.CODE_TAKEN, f"Line {line}: the shop has {code} already."
                ) from None
            created += 1
            progress(line)
    return created


def coupon_qr_svg(code: str) -> str:
    """A standalone SVG document (with its namespace, no XML declaration) of a QR code holding ``code``.

    Error correction M, 4 px modules; usable as an ``<img>`` ``data:`` URL or saved as a file.
    """
    out = io.BytesIO()
    segno.make(code, error="m", micro=False).save(out, kind="svg", xmldecl=False, scale=4)
    return out.getvalue().decode()
