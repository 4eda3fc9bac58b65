"""A member's own profile settings: birth date, the calendar of their occasions, marketing consent."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, fields

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from marketplace.errors import ProfileError, ProfileErrorCode
from marketplace.models import ConsentChange, Customer
from marketplace.selectors import customer_for_user

logger = logging.getLogger(__name__)

#: The "not given" marker of :class:`ProfileChanges` (``None`` is a value: "clear the birth date").
UNSET: object = object()
#: Earliest birth date accepted.
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
#: A birth date may be "today" anywhere on Earth (UTC+14 is a day ahead of UTC).
_AHEAD = dt.timedelta(hours=14)
_CONSENTS = ("consent_email", "consent_sms", "consent_push")


def calendars() -> tuple[str, ...]:
    """The calendars a member may choose (``Customer.calendar`` choices): gregorian, jalali."""
    return tuple(value for value, _ in Customer._meta.get_field("calendar").flatchoices)


@dataclass(frozen=True)
class ProfileChanges:
    """A partial change of one's profile: only fields not left as :data:`UNSET` change."""

    birth_date: dt.date | object | None = UNSET
    calendar: str | object = UNSET
    consent_email: bool | object = UNSET
    consent_sms: bool | object = UNSET
    consent_push: bool | object = UNSET

    def given(self) -> dict[str, object]:
        """The fields set, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not UNSET}


def _refuse(code: ProfileErrorCode, message: str, field: str | None = None) -> ProfileError:
    return ProfileError(code, message, field)


def _validate(given: dict[str, object], now: dt.datetime) -> None:
    """Raise the first ``ProfileError`` among the given values (field names in camelCase)."""
    if "birth_date" in given:
        value = given["birth_date"]
        latest = (now + _AHEAD).date()
        if value is not None and (
            not isinstance(value, dt.date)
            or isinstance(value, dt.datetime)
            or not EARLIEST_BIRTH_DATE <= value <= latest
        ):
            raise _refuse(
                ProfileErrorCode.INVALID_BIRTH_DATE,
                f"Give a birth date from {EARLIEST_BIRTH_DATE.isoformat()} to today, or null to remove it.",
                "birthDate",
            )
    if "calendar" in given and given["calendar"] not in calendars():
        raise _refuse(
            ProfileErrorCode.INVALID_CALENDAR, f"The calendar must be one of {', '.join(calendars())}.", "calendar"
        )
    for name in _CONSENTS:
        if name in given and not isinstance(given[name], bool):
            camel = "consent" + name.removeprefix("consent_").capitalize()
            raise _refuse(ProfileErrorCode.INVALID_INPUT, "A consent is true or false.", camel)


def member_profile_update(
    *, user: AbstractBaseUser | AnonymousUser, changes: ProfileChanges, now: dt.datetime | None = None
) -> Customer:
    """Change the logged-in customer's birth date, calendar and marketing consents.

    Partial: fields left :data:`UNSET` stay. The birth date (a Gregorian date, or ``None`` to
    remove it) must be from 1900-01-01 to today; the calendar ``gregorian`` or ``jalali`` (a
    Jalali member's birthday and anniversary recur on their Jalali dates); consents are booleans.
    Codes (``ProfileError``): NOT_AUTHENTICATED, NOT_A_CUSTOMER (a staff-only login),
    INVALID_BIRTH_DATE, INVALID_CALENDAR, INVALID_INPUT. Validates everything first, so a
    refusal changes nothing; then one durable transaction under a lock of the customer row.
    Consent changes are recorded (``ConsentChange``: channel, value, time, source ``member``).
    """
    now = now or timezone.now()
    if not user.is_authenticated:
        raise _refuse(ProfileErrorCode.NOT_AUTHENTICATED, "Log in first.")
    customer = customer_for_user(user=user)
    if customer is None:
        raise _refuse(ProfileErrorCode.NOT_A_CUSTOMER, "Only customers have a member profile.")
    given = changes.given()
    _validate(given, now)
    with transaction.atomic(durable=True):
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        changed = [name for name, value in given.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, given[name])
        if changed:
            locked.save(update_fields=changed)
        consents = {name: bool(given[name]) for name in changed if name in _CONSENTS}
        consent_changes_record(customer=locked, consents=consents, source="member", actor=user, at=now)
    if consents:
        logger.info("customer %s changed marketing consent: %s", locked.pk, consents)
    return locked


def consent_changes_record(
    *,
    customer: Customer,
    consents: dict[str, bool],
    source: str,
    actor: AbstractBaseUser | AnonymousUser | None,
    at: dt.datetime,
) -> None:
    """Append one ``ConsentChange`` per changed consent (``consent_email`` -> channel ``email``), in the
    caller's transaction. ``source`` says where: ``member``, ``staff``, ``import`` or ``erasure``."""
    ConsentChange.objects.bulk_create(
        ConsentChange(
            customer=customer,
            channel=name.removeprefix("consent_"),
            granted=granted,
            source=source,
            changed_by_id=actor.pk if actor is not None and actor.is_authenticated else None,
            changed_at=at,
        )
        for name, granted in consents.items()
    )
