"""Privacy mutations: a member's data export, the erasure by a shop's owner, and the member's own erasure.

Resolvers are thin: they decode ids, call one service of ``crm.services.privacy`` and map
:class:`crm.errors.CrmError` to the payload's coded errors (``handle_domain_errors``).
docs/privacy.md says what is exported, erased and kept.
"""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry
from django.http import HttpRequest
from strawberry.types import Info

from api_core.context import current_user, request_of
from api_core.errors import handle_domain_errors
from api_core.ids import decode_global_id
from crm.api.types import CrmError
from crm.services.privacy import (
    ErasureSummary,
    ExportFile,
    member_data_export,
    member_erase_by_staff,
    viewer_erase,
)
from marketplace.services.auth import session_logout

PRIVACY_CODES = "Codes: NOT_AUTHENTICATED, NOT_FOUND (a login that is not a customer's), INVALID_INPUT"


@strawberry.enum(description="The file format of a member's data export.")
class DataExportFormat(enum.Enum):
    """JSON (one document) or CSV (long form: section, shop, record, field, value)."""

    JSON = "json"
    CSV = "csv"


@strawberry.input(description="Which format the member's data comes in.")
class MemberDataExportInput:
    """Input of memberDataExport."""

    format: DataExportFormat = strawberry.field(
        default=DataExportFormat.JSON, description="JSON (one document) or CSV (one value a row)."
    )


@strawberry.type(description="A member's data as a file, for the browser to save.")
class DataExportFile:
    """The export's file name, MIME type and text."""

    filename: str = strawberry.field(description="Suggested file name, e.g. patron-data-20261206.json.")
    content_type: str = strawberry.field(description="MIME type: application/json or text/csv.")
    content: str = strawberry.field(
        description=(
            "The file's text (UTF-8). JSON: keys format, version, generatedAt, customer, consentChanges, accounts "
            "(each shop's profile, ledger, redemptions, referral code and referrals), orders, and sections of other "
            "apps (checkoutCommits); points and money as strings. CSV: columns section, shop, record, field, value."
        )
    )


@strawberry.type(description="Result of memberDataExport.")
class MemberDataExportPayload:
    """The file, or coded errors."""

    file: DataExportFile | None = strawberry.field(default=None, description="The export; null when refused.")
    errors: list[CrmError] = strawberry.field(default_factory=list, description="Why it was refused; empty on success.")


@strawberry.input(description="Which member a shop's owner erases, and why.")
class MemberEraseInput:
    """Input of memberErase."""

    shop_id: strawberry.ID = strawberry.field(
        description="Global id of the owner's shop, where the member has an account."
    )
    customer_id: str = strawberry.field(
        description="The customer's external id (as orders and checkout name them; an erased one is erased-<n>)."
    )
    reason: str = strawberry.field(description="Why, 1-500 characters; kept in the privacy audit.")


@strawberry.input(description="The member's confirmation that their data is to be erased.")
class ViewerEraseInput:
    """Input of viewerErase."""

    confirm: str = strawberry.field(description='Must be exactly "ERASE".')


@strawberry.type(description="What an erasure did. The ledger's amounts, orders and statistics stay, anonymous.")
class MemberErasure:
    """Counts of what was erased, cancelled and deactivated."""

    customer_id: str = strawberry.field(description="The customer's external id from now on: erased-<n>.")
    accounts: int = strawberry.field(description="Member accounts (shops) the customer had; they stay, anonymous.")
    profiles_blanked: int = strawberry.field(description="Shops' member profiles whose contact data was blanked.")
    notes_deleted: int = strawberry.field(description="Staff notes deleted.")
    redemptions_cancelled: int = strawberry.field(description="Issued redemption codes cancelled.")
    points_refunded: int = strawberry.field(description="Points those cancellations gave back.")
    referral_codes_deactivated: int = strawberry.field(description="Referral codes that stopped working.")
    consents_cleared: list[str] = strawberry.field(
        description="Marketing consents that were on and are now off (email, sms, push)."
    )

    @classmethod
    def of(cls, summary: ErasureSummary) -> MemberErasure:
        """The API form of a service's summary."""
        return cls(
            customer_id=summary.customer_ref,
            accounts=summary.accounts,
            profiles_blanked=summary.profiles_blanked,
            notes_deleted=summary.notes_deleted,
            redemptions_cancelled=summary.redemptions_cancelled,
            points_refunded=summary.points_refunded,
            referral_codes_deactivated=summary.referral_codes_deactivated,
            consents_cleared=[name.removeprefix("consent_") for name in summary.consents_cleared],
        )


@strawberry.type(description="Result of memberErase and viewerErase.")
class MemberErasePayload:
    """What was erased, or coded errors."""

    erasure: MemberErasure | None = strawberry.field(default=None, description="What was done; null when refused.")
    errors: list[CrmError] = strawberry.field(default_factory=list, description="Why it was refused; empty on success.")


def _file(export: ExportFile) -> DataExportFile:
    return DataExportFile(filename=export.filename, content_type=export.content_type, content=export.content)


@strawberry.type
class PrivacyMutation:
    """A member's copy of their data and its erasure (docs/privacy.md)."""

    @strawberry.mutation(
        description=(
            "The logged-in member's data across every shop as a file (JSON or CSV); recorded in the privacy audit. "
            f"{PRIVACY_CODES}."
        )
    )
    @handle_domain_errors(MemberDataExportPayload, CrmError)
    def member_data_export(
        self,
        info: Info,
        input: Annotated[MemberDataExportInput, strawberry.argument(description="The format.")],
    ) -> MemberDataExportPayload:
        """Call ``member_data_export``."""
        export = member_data_export(user=current_user(info), fmt=input.format.value)
        return MemberDataExportPayload(file=_file(export))

    @strawberry.mutation(
        description=(
            "Erase a member's personal data in every shop (capability members:erase: the shop's owner): name, "
            "contacts, birth date, consents, shop profiles and notes; their login is disabled, issued codes are "
            "cancelled with points back; the ledger's amounts stay. Irreversible; audited. Codes: "
            "NOT_AUTHENTICATED, PERMISSION_DENIED, NOT_FOUND (no member of this shop has this customer id), "
            "INVALID_INPUT (reason; a login that is also staff's), ALREADY_ERASED."
        )
    )
    @handle_domain_errors(MemberErasePayload, CrmError)
    def member_erase(
        self,
        info: Info,
        input: Annotated[MemberEraseInput, strawberry.argument(description="Shop, customer and reason.")],
    ) -> MemberErasePayload:
        """Call ``member_erase_by_staff``."""
        summary = member_erase_by_staff(
            user=current_user(info),
            shop_id=decode_global_id(input.shop_id, "Shop") or 0,
            customer_external_id=input.customer_id,
            reason=input.reason,
        )
        return MemberErasePayload(erasure=MemberErasure.of(summary))

    @strawberry.mutation(
        description=(
            "The logged-in member erases their own personal data in every shop (as memberErase does) and is logged "
            'out; their login stops working. confirm must be "ERASE". Codes: NOT_AUTHENTICATED, NOT_FOUND (a login '
            "that is not a customer's), INVALID_INPUT (confirm; a login that is also staff's), ALREADY_ERASED."
        )
    )
    @handle_domain_errors(MemberErasePayload, CrmError)
    def viewer_erase(
        self,
        info: Info,
        input: Annotated[ViewerEraseInput, strawberry.argument(description="The typed confirmation.")],
    ) -> MemberErasePayload:
        """Call ``viewer_erase``, then end the session (and close its sockets)."""
        summary = viewer_erase(user=current_user(info), confirm=input.confirm)
        request = request_of(info)
        if isinstance(request, HttpRequest):
            session_logout(request=request)
        return MemberErasePayload(erasure=MemberErasure.of(summary))
