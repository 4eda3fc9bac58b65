"""A member's privacy rights: a copy of their data (export) and its erasure (docs/privacy.md).

:func:`member_data_export` gives the logged-in customer everything the marketplace holds about
them across every shop, as one JSON document or one "long" CSV file. :func:`member_erase`
anonymises a customer everywhere in one durable transaction while the points ledger keeps its
amounts (it is the shops' accounting record and append-only); its entry points are
:func:`member_erase_by_staff` (an owner, capability ``members:erase``), :func:`viewer_erase` (the
member themselves) and the ``member_erase`` management command (the operator). Every export and
every erasure writes a :class:`~crm.models.PrivacyAudit` row.

Apps above crm (checkout) keep copies of a customer's data that crm may not import; they take
part through two signals sent here: :data:`customer_data_exporting` (each receiver returns extra
sections for the export) and :data:`customer_erasing` (sent inside the erasure's transaction;
receivers scrub their rows).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from crm.errors import CrmError, CrmErrorCode
from crm.models import MemberNote, MemberProfile, MemberTag, PrivacyAction, PrivacyAudit, TagSource
from loyalty.models import MemberAccount, PointsEntry
from loyalty.services.ledger import account_lock
from marketplace.models import ConsentChange, Customer, Order, StaffMembership
from marketplace.permissions import Capability, has_capability
from marketplace.selectors import customer_for_user
from marketplace.services.profile import consent_changes_record
from referrals.models import Referral, ReferralCode
from rewards.models import Redemption, RedemptionStatus
from rewards.services.redemptions import redemption_end

User = AbstractBaseUser | AnonymousUser
ExportFormat = Literal["json", "csv"]

#: The display name an erased customer keeps (the ledger's readers still see a member there).
ERASED_NAME = "Erased member"
#: The word a member types to erase their own data (``viewer_erase``).
ERASE_CONFIRMATION = "ERASE"
#: Longest erasure reason kept in the audit (characters).
MAX_REASON = 500
#: Version of the export document's shape (``format`` / ``version`` keys).
EXPORT_VERSION = 1
#: The consent flags of ``Customer``, all cleared by an erasure.
CONSENT_FIELDS = ("consent_email", "consent_sms", "consent_push")
#: Fields of ``Customer`` that hold personal data and what an erasure sets them to (the external
#: id becomes ``erased-<pk>``); tests walk this list.
CUSTOMER_ERASED_VALUES: dict[str, object] = {
    "display_name": ERASED_NAME,
    "email": "",
    "phone": "",
    "birth_date": None,
    "consent_email": False,
    "consent_sms": False,
    "consent_push": False,
}
#: Fields of a shop's ``MemberProfile`` blanked by an erasure.
PROFILE_ERASED_VALUES: dict[str, object] = {
    "first_name": "",
    "last_name": "",
    "email": "",
    "phone": "",
    "birth_date": None,
    "personal_dates": [],
    "preferences": {},
}
#: CSV cells that a spreadsheet would run as a formula get a leading apostrophe (OWASP's advice).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Sent by :func:`member_data_export` (kwargs ``customer``); each receiver returns a dict of extra
#: top-level sections (``{"checkoutCommits": [{...}, ...]}``), each a list of flat records whose
#: values are JSON scalars (amounts as strings) and which name their ``shop`` (slug).
customer_data_exporting = Signal()
#: Sent inside :func:`member_erase`'s transaction (kwargs ``customer``, the row already scrubbed;
#: ``former_external_id``, the id it had; ``at``). Receivers scrub their own copies of the
#: customer's data in that transaction; raising rolls the whole erasure back.
customer_erasing = Signal()


# ---- export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    """A member's data as a file: its suggested name, MIME type and text content."""

    filename: str
    content_type: str
    content: str


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _amount(value: int | Decimal | None) -> str | None:
    """Points and money as strings (no float ever; JSON readers keep them exact)."""
    return None if value is None else str(value)


def _customer_section(customer: Customer) -> dict[str, Any]:
    return {
        "displayName": customer.display_name,
        "email": customer.email,
        "phone": customer.phone,
        "birthDate": _iso(customer.birth_date),
        "calendar": customer.calendar,
        "locale": customer.locale,
        "externalId": customer.external_id,
        "createdAt": _iso(customer.created_at),
        "consents": {
            "email": customer.consent_email,
            "sms": customer.consent_sms,
            "push": customer.consent_push,
        },
    }


def _profile_section(profile: MemberProfile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    return {
        "firstName": profile.first_name,
        "lastName": profile.last_name,
        "email": profile.email,
        "phone": profile.phone,
        "birthDate": _iso(profile.birth_date),
        "personalDates": profile.personal_dates,
        "preferences": profile.preferences,
        "updatedAt": _iso(profile.updated_at),
    }


def _account_section(
    account: MemberAccount,
    *,
    profile: MemberProfile | None,
    entries: list[PointsEntry],
    redemptions: list[Redemption],
    code: ReferralCode | None,
    made: list[Referral],
    received: list[Referral],
) -> dict[str, Any]:
    shop = account.program.shop
    return {
        "shop": shop.slug,
        "shopName": shop.name,
        "currency": shop.currency,
        "program": account.program.name,
        "tier": account.tier.name if account.tier else None,
        "status": account.status,
        "enrolledAt": _iso(account.enrolled_at),
        "lastActivityAt": _iso(account.last_activity_at),
        "balances": {
            "available": _amount(account.points_available),
            "pending": _amount(account.points_pending),
            "lifetime": _amount(account.lifetime_points),
            "redeemed": _amount(account.points_redeemed),
            "expired": _amount(account.points_expired),
            "qualifyingValue": _amount(account.qualifying_value),
        },
        "profile": _profile_section(profile),
        "ledger": [
            {
                "kind": entry.kind,
                "points": _amount(entry.points),
                "reason": entry.reason,
                "createdAt": _iso(entry.created_at),
            }
            for entry in entries
        ],
        "redemptions": [
            {
                "reward": redemption.reward.name,
                "code": redemption.code,
                "status": redemption.status,
                "points": _amount(redemption.points),
                "issuedAt": _iso(redemption.issued_at),
                "expiresAt": _iso(redemption.expires_at),
                "usedAt": _iso(redemption.used_at),
                "cancelledAt": _iso(redemption.cancelled_at),
                "expiredAt": _iso(redemption.expired_at),
                "orderExternalId": redemption.order_external_id,
            }
            for redemption in redemptions
        ],
        "referralCode": (
            None
            if code is None
            else {"code": code.code, "createdAt": _iso(code.created_at), "expiresAt": _iso(code.expires_at)}
        ),
        # The friends a member referred are other people: their status and bonuses, never who they are.
        "referralsMade": [
            {
                "status": referral.status,
                "appliedAt": _iso(referral.applied_at),
                "completedAt": _iso(referral.completed_at),
                "closedAt": _iso(referral.closed_at),
                "bonusPoints": _amount(referral.referrer_points),
            }
            for referral in made
        ],
        "referralsReceived": [
            {
                "code": referral.code.code,
                "status": referral.status,
                "appliedAt": _iso(referral.applied_at),
                "completedAt": _iso(referral.completed_at),
                "closedAt": _iso(referral.closed_at),
                "bonusPoints": _amount(referral.referee_points),
            }
            for referral in received
        ],
    }


def _by_account(rows: Any) -> dict[int, list[Any]]:
    """Rows grouped by their ``account_id`` (a missing account reads as an empty list)."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.account_id].append(row)
    return grouped


def member_data_document(*, customer: Customer, now: dt.datetime) -> dict[str, Any]:
    """Everything held about ``customer``, as the export's JSON document (a read; no audit).

    Keys (stable; documented in docs/privacy.md): ``format``, ``version``, ``generatedAt``,
    ``customer``, ``consentChanges``, ``accounts`` (one per shop, each with its ``profile``,
    ``ledger``, ``redemptions``, ``referralCode``, ``referralsMade``, ``referralsReceived``),
    ``orders``, then the sections of :data:`customer_data_exporting`'s receivers. Points and
    money are strings. A fixed number of queries whatever the number of shops and rows.
    """
    accounts = list(
        MemberAccount.objects.filter(customer=customer)
        .select_related("program__shop", "tier", "profile")
        .order_by("program__shop__slug", "pk")
    )
    ids = [account.pk for account in accounts]
    entries = _by_account(PointsEntry.objects.filter(account_id__in=ids).order_by("created_at", "pk"))
    redemptions = _by_account(
        Redemption.objects.filter(account_id__in=ids).select_related("reward").order_by("issued_at", "pk")
    )
    codes = {code.account_id: code for code in ReferralCode.objects.filter(account_id__in=ids)}
    made: dict[int, list[Referral]] = defaultdict(list)
    for referral in (
        Referral.objects.filter(code__account_id__in=ids).select_related("code").order_by("applied_at", "pk")
    ):
        made[referral.code.account_id].append(referral)
    received: dict[int, list[Referral]] = defaultdict(list)
    program_accounts = {account.program_id: account.pk for account in accounts}
    for referral in Referral.objects.filter(referee=customer).select_related("code").order_by("applied_at", "pk"):
        received[program_accounts.get(referral.program_id, 0)].append(referral)
    document: dict[str, Any] = {
        "format": "patron-member-data",
        "version": EXPORT_VERSION,
        "generatedAt": _iso(now),
        "customer": _customer_section(customer),
        "consentChanges": [
            {
                "channel": change.channel,
                "granted": change.granted,
                "source": change.source,
                "changedAt": _iso(change.changed_at),
            }
            for change in ConsentChange.objects.filter(customer=customer).order_by("changed_at", "pk")
        ],
        "accounts": [
            _account_section(
                account,
                profile=getattr(account, "profile", None),
                entries=entries[account.pk],
                redemptions=redemptions[account.pk],
                code=codes.get(account.pk),
                made=made[account.pk],
                received=received[account.pk],
            )
            for account in accounts
        ],
        "orders": [
            {
                "shop": order.shop.slug,
                "orderId": order.external_id,
                "status": order.status,
                "currency": order.currency,
                "goodsAmount": _amount(order.goods_amount),
                "shippingAmount": _amount(order.shipping_amount),
                "pointsPaidAmount": _amount(order.points_paid_amount),
                "placedAt": _iso(order.placed_at),
                "deliveredAt": _iso(order.delivered_at),
            }
            for order in Order.objects.filter(customer=customer).select_related("shop").order_by("placed_at", "pk")
        ],
    }
    for _receiver, sections in customer_data_exporting.send(sender=Customer, customer=customer):
        extra = cast(dict[str, list[dict[str, Any]]], sections or {})
        for name, records in extra.items():
            document.setdefault(name, []).extend(records)
    return document


def _cell(value: Any) -> str:
    """One CSV value: text as is (formula-like text escaped), numbers' strings kept, JSON for lists."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        try:
            Decimal(text)
        except ArithmeticError:
            return "'" + text
    return text


def _flat(record: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(field, value)`` pairs of a record; nested objects as ``balances.available``."""
    for key, value in record.items():
        if isinstance(value, dict) and key not in {"preferences"}:
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _long_rows(document: dict[str, Any]) -> Iterator[tuple[str, str, str, str, Any]]:
    """``(section, shop, record, field, value)`` rows of the document (records numbered from 1)."""
    for key in ("format", "version", "generatedAt"):
        yield "export", "", "", key, document[key]
    for field, value in _flat(document["customer"]):
        yield "customer", "", "", field, value
    for number, change in enumerate(document["consentChanges"], 1):
        for field, value in _flat(change):
            yield "consentChanges", "", str(number), field, value
    for account in document["accounts"]:
        shop = account["shop"]
        lists = {key: value for key, value in account.items() if isinstance(value, list)}
        singles = {
            key: value for key, value in account.items() if key not in lists and key not in {"profile", "referralCode"}
        }
        for field, value in _flat(singles):
            yield "account", shop, "", field, value
        for section in ("profile", "referralCode"):
            if account[section] is not None:
                for field, value in _flat(account[section]):
                    yield section, shop, "", field, value
        for section, records in lists.items():
            for number, record in enumerate(records, 1):
                for field, value in _flat(record):
                    yield section, shop, str(number), field, value
    for section, records in document.items():
        if section in {"format", "version", "generatedAt", "customer", "consentChanges", "accounts"}:
            continue
        for number, record in enumerate(records, 1):
            shop = str(record.get("shop") or "")
            for field, value in _flat(record):
                if field != "shop":
                    yield section, shop, str(number), field, value


def member_data_csv(document: dict[str, Any]) -> str:
    """The export document as CSV in long form: header ``section,shop,record,field,value``, one value a row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("section", "shop", "record", "field", "value"))
    for section, shop, record, field, value in _long_rows(document):
        writer.writerow((section, shop, record, field, _cell(value)))
    return out.getvalue()


def member_data_export(*, user: User, fmt: str, now: dt.datetime | None = None) -> ExportFile:
    """The logged-in customer's data across every shop, as a file (``fmt``: ``"json"`` or ``"csv"``).

    JSON: :func:`member_data_document` serialised with sorted keys. CSV: :func:`member_data_csv`
    (columns ``section, shop, record, field, value``). Writes one ``PrivacyAudit(action=EXPORT)``
    (details: the format) in a durable transaction with the read, so the audit names exactly the
    export given. Codes (``CrmError``): NOT_AUTHENTICATED (anonymous), NOT_FOUND (a login with no
    customer record: staff only), INVALID_INPUT (another format; field ``format``).
    """
    now = now or timezone.now()
    if not user.is_authenticated:
        raise CrmError(CrmErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if fmt not in ("json", "csv"):
        raise CrmError(CrmErrorCode.INVALID_INPUT, "The format is json or csv.", "format")
    customer = customer_for_user(user=user)
    if customer is None:
        raise CrmError(CrmErrorCode.NOT_FOUND, "This login has no member data: it is not a customer's.")
    with transaction.atomic(durable=True):
        document = member_data_document(customer=customer, now=now)
        PrivacyAudit.objects.create(
            customer=customer,
            customer_ref=str(customer.pk),
            action=PrivacyAction.EXPORT,
            actor_id=user.pk,
            details={"format": fmt},
            at=now,
        )
    stamp = now.strftime("%Y%m%d")
    if fmt == "json":
        content = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False)
        return ExportFile(f"patron-data-{stamp}.json", "application/json", content)
    return ExportFile(f"patron-data-{stamp}.csv", "text/csv", member_data_csv(document))


# ---- erasure ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureSummary:
    """What an erasure did (or, for a dry run, would do) to one customer's data."""

    customer_id: int
    #: The customer's id from now on (``erased-<pk>``).
    customer_ref: str
    accounts: int
    profiles_blanked: int
    notes_deleted: int
    redemptions_cancelled: int
    points_refunded: int
    referral_codes_deactivated: int
    consents_cleared: tuple[str, ...]


def erased_ref(customer: Customer) -> str:
    """The external id an erased customer gets: ``erased-<pk>`` (unique, says nothing about them)."""
    return f"erased-{customer.pk}"


def customer_is_erased(customer: Customer) -> bool:
    """Whether ``customer`` was erased (an ERASURE audit row names them; one query)."""
    return PrivacyAudit.objects.filter(customer=customer, action=PrivacyAction.ERASURE).exists()


def _validate_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise CrmError(CrmErrorCode.INVALID_INPUT, "Say why the data is erased.", "reason")
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise CrmError(CrmErrorCode.INVALID_INPUT, f"A reason is 1 to {MAX_REASON} characters of text.", "reason")
    return reason


def _refuse_staff_login(customer: Customer) -> None:
    """A login that also works for a shop is not disabled by an erasure: refuse until its roles are removed."""
    if customer.user_id is not None and StaffMembership.objects.filter(user_id=customer.user_id).exists():
        raise CrmError(
            CrmErrorCode.INVALID_INPUT,
            "This customer's login is also a shop's staff login; remove its staff roles before erasing.",
        )


def member_erasure_plan(
    *, customer: Customer, reason: str | None = None, now: dt.datetime | None = None
) -> ErasureSummary:
    """What :func:`member_erase` would do to ``customer`` now (a read: the command's ``--dry-run``).

    Codes: INVALID_INPUT (``reason``, when given, as :func:`member_erase` checks it; the login is
    also staff's), ALREADY_ERASED.
    """
    now = now or timezone.now()
    if reason is not None:
        _validate_reason(reason)
    if customer_is_erased(customer):
        raise CrmError(CrmErrorCode.ALREADY_ERASED, "This customer's data was erased already.")
    _refuse_staff_login(customer)
    accounts = MemberAccount.objects.filter(customer=customer)
    issued = Redemption.objects.filter(account__in=accounts, status=RedemptionStatus.ISSUED)
    return ErasureSummary(
        customer_id=customer.pk,
        customer_ref=erased_ref(customer),
        accounts=accounts.count(),
        profiles_blanked=MemberProfile.objects.filter(account__in=accounts).count(),
        notes_deleted=MemberNote.objects.filter(account__in=accounts).count(),
        redemptions_cancelled=issued.count(),
        points_refunded=sum(issued.values_list("points", flat=True)),
        referral_codes_deactivated=ReferralCode.objects.filter(account__in=accounts)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .count(),
        consents_cleared=tuple(name for name in CONSENT_FIELDS if getattr(customer, name)),
    )


def _cancel_issued(redemption: Redemption, account: MemberAccount, actor: User | None, now: dt.datetime) -> int:
    """Cancel one ISSUED redemption of a locked ``account`` in the caller's transaction; the points refunded.

    ``rewards.services.redemptions.redemption_end``: the cancellation's own steps (a REFUND into the
    original lots, stock restored, the ``redemption.cancelled`` event, a live update after commit).
    """
    ended, changed = redemption_end(
        account=account,
        redemption=redemption,
        status=RedemptionStatus.CANCELLED,
        by=actor if actor is not None and actor.is_authenticated else None,
        now=now,
        refund=True,
        note=" (member data erased)",
    )
    if not changed or ended.refund_entry is None:
        return 0
    return ended.refund_entry.points


def member_erase(
    *, actor: User | None, customer: Customer, shop_id: int | None = None, reason: str, now: dt.datetime | None = None
) -> ErasureSummary:
    """Anonymise ``customer`` everywhere, keeping the ledger's amounts; returns what was done.

    The caller has checked who may ask (the entry points below). Validates first (``reason``
    1-500 characters; the customer not erased yet; their login not also a staff login), then in
    one durable transaction, under a lock of the customer row and then of their accounts (key
    order): the customer's personal fields take :data:`CUSTOMER_ERASED_VALUES` and the external
    id ``erased-<pk>`` (cleared consents recorded as ``ConsentChange`` with source ``erasure``);
    their login is disabled (inactive, unusable password, username ``erased-<user pk>``, e-mail
    and names blank); every shop's ``MemberProfile`` of theirs is blanked, staff notes deleted
    and manual tags' reasons cleared; issued redemption codes are cancelled with their points
    refunded; referral codes stop working (``expires_at`` now); :data:`customer_erasing` lets
    higher apps scrub their copies; a ``PrivacyAudit(action=ERASURE, details={"reason",
    "shop"})`` is written. Ledger entries, orders and statistics stay (anonymous now).

    Codes (``CrmError``): INVALID_INPUT (``reason``; a staff login), ALREADY_ERASED. A refusal
    changes nothing.
    """
    now = now or timezone.now()
    reason = _validate_reason(reason)
    _refuse_staff_login(customer)
    with transaction.atomic(durable=True):
        locked = Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
        if customer_is_erased(locked):
            raise CrmError(CrmErrorCode.ALREADY_ERASED, "This customer's data was erased already.")
        accounts = list(
            account_lock(account_ids=list(MemberAccount.objects.filter(customer=locked).values_list("pk", flat=True)))
        )
        account_ids = [account.pk for account in accounts]
        former_external_id = locked.external_id
        cleared = {name: False for name in CONSENT_FIELDS if getattr(locked, name)}
        for name, value in CUSTOMER_ERASED_VALUES.items():
            setattr(locked, name, value)
        locked.external_id = erased_ref(locked)
        locked.save(update_fields=[*CUSTOMER_ERASED_VALUES, "external_id"])
        consent_changes_record(customer=locked, consents=cleared, source="erasure", actor=actor, at=now)
        if locked.user is not None:
            login = locked.user
            login.is_active = False
            login.set_unusable_password()
            setattr(login, login.USERNAME_FIELD, f"erased-{login.pk}")
            for name in ("email", "first_name", "last_name"):
                if hasattr(login, name):
                    setattr(login, name, "")
            login.last_login = None
            login.save()
        profiles = MemberProfile.objects.filter(account_id__in=account_ids).update(
            **PROFILE_ERASED_VALUES, updated_by=None
        )
        notes, _ = MemberNote.objects.filter(account_id__in=account_ids).delete()
        MemberTag.objects.filter(account_id__in=account_ids, source=TagSource.MANUAL).update(reason="")
        by_id = {account.pk: account for account in accounts}
        for account in accounts:
            account.customer = locked  # the events name the erased id
        cancelled, refunded = 0, 0
        issued = Redemption.objects.filter(account_id__in=account_ids, status=RedemptionStatus.ISSUED).order_by("pk")
        for redemption in issued:
            points = _cancel_issued(redemption, by_id[redemption.account_id], actor, now)
            cancelled += points > 0
            refunded += points
        codes = (
            ReferralCode.objects.filter(account_id__in=account_ids)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .update(expires_at=now)
        )
        customer_erasing.send(sender=Customer, customer=locked, former_external_id=former_external_id, at=now)
        PrivacyAudit.objects.create(
            customer=locked,
            customer_ref=str(locked.pk),
            action=PrivacyAction.ERASURE,
            actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
            shop_id=shop_id,
            details={"reason": reason, "shop": shop_id},
            at=now,
        )
    customer.refresh_from_db()
    return ErasureSummary(
        customer_id=locked.pk,
        customer_ref=locked.external_id or "",
        accounts=len(accounts),
        profiles_blanked=profiles,
        notes_deleted=notes,
        redemptions_cancelled=cancelled,
        points_refunded=refunded,
        referral_codes_deactivated=codes,
        consents_cleared=tuple(cleared),
    )


def member_erase_by_staff(
    *, user: User, shop_id: int, customer_external_id: str, reason: str, now: dt.datetime | None = None
) -> ErasureSummary:
    """A shop owner erases a member of their shop (capability ``members:erase``), for every shop.

    Codes: NOT_AUTHENTICATED; PERMISSION_DENIED (no ``members:erase`` in ``shop_id``: a manager,
    a cashier, another shop's staff); NOT_FOUND (no customer with this external id holds an
    account in the shop; field ``customerId``); then :func:`member_erase`'s. The audit names the
    shop. A refusal changes nothing.
    """
    if not user.is_authenticated:
        raise CrmError(CrmErrorCode.NOT_AUTHENTICATED, "Log in first.")
    if not has_capability(user=user, shop_id=shop_id, capability=Capability.ERASE_MEMBERS):
        raise CrmError(CrmErrorCode.PERMISSION_DENIED, "Only the shop's owner may erase a member's data.")
    customer = (
        Customer.objects.filter(external_id=customer_external_id, accounts__program__shop_id=shop_id).first()
        if customer_external_id
        else None
    )
    if customer is None:
        raise CrmError(CrmErrorCode.NOT_FOUND, "No member of this shop has this customer id.", "customerId")
    return member_erase(actor=user, customer=customer, shop_id=shop_id, reason=reason, now=now)


def viewer_erase(*, user: User, confirm: str, now: dt.datetime | None = None) -> ErasureSummary:
    """The logged-in member erases their own data everywhere (``confirm`` must be ``"ERASE"``).

    Codes: NOT_AUTHENTICATED; NOT_FOUND (a login with no customer record); INVALID_INPUT
    (``confirm`` wrong: field ``confirm``; a login that is also staff's); ALREADY_ERASED. After
    it the login is disabled: the caller ends the session (the GraphQL mutation does).
    """
    if not user.is_authenticated:
        raise CrmError(CrmErrorCode.NOT_AUTHENTICATED, "Log in first.")
    customer = customer_for_user(user=user)
    if customer is None:
        raise CrmError(CrmErrorCode.NOT_FOUND, "This login has no member data: it is not a customer's.")
    if confirm != ERASE_CONFIRMATION:
        raise CrmError(CrmErrorCode.INVALID_INPUT, f'Type "{ERASE_CONFIRMATION}" to confirm.', "confirm")
    return member_erase(actor=user, customer=customer, reason="Erased by the member", now=now)
