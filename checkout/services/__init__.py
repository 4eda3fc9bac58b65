"""Every write of the checkout app: promotions, coupons, quotes and commits, and returns of committed orders."""

from checkout.services.coupons import (
    BatchInput,
    CouponInput,
    coupon_batch_generate,
    coupon_code_normalise,
    coupon_create,
    coupon_qr_svg,
    coupon_void,
    coupons_csv,
    coupons_import,
)
from checkout.services.promotions import PromotionInput, promotion_create, promotion_update
from checkout.services.quotes import CommitResult, LineInput, QuoteInput, checkout_commit, checkout_quote, quote_token

__all__ = [
    "BatchInput",
    "CommitResult",
    "CouponInput",
    "LineInput",
    "PromotionInput",
    "QuoteInput",
    "checkout_commit",
    "checkout_quote",
    "coupon_batch_generate",
    "coupon_code_normalise",
    "coupon_create",
    "coupon_qr_svg",
    "coupon_void",
    "coupons_csv",
    "coupons_import",
    "promotion_create",
    "promotion_update",
    "quote_token",
]
