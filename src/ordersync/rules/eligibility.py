"""Is an offer price something this buyer may order right now?"""

from __future__ import annotations

from ordersync.domain.catalog import (
    BuyerContext,
    OfferPrice,
    Operation,
    OperationStatus,
    OperationType,
    Status,
)
from ordersync.domain.warnings import WarningCode


def offer_price_refusal(
    offer_price: OfferPrice | None, ctx: BuyerContext, currency: str
) -> tuple[WarningCode, str] | None:
    """The first reason the line cannot be ordered, or None when it is eligible.

    Checked in the order a buyer would want them explained: existence, supplier,
    validity, account eligibility, catalog visibility, stock.
    """
    if offer_price is None:
        return WarningCode.OFFER_NOT_FOUND, "The offer price does not exist."
    if offer_price.supplier_status is not Status.ACTIVE:
        return (
            WarningCode.SUPPLIER_INACTIVE,
            f"Supplier {offer_price.supplier_external_id} is inactive.",
        )
    if offer_price.offer_status is not Status.ACTIVE:
        return WarningCode.OFFER_NOT_FOUND, "The offer is no longer active."
    if offer_price.valid_from is not None and ctx.now < offer_price.valid_from:
        return WarningCode.LINE_NOT_ELIGIBLE, "The offer price is not valid yet."
    if offer_price.valid_to is not None and ctx.now > offer_price.valid_to:
        return WarningCode.LINE_NOT_ELIGIBLE, "The offer price has expired."
    if offer_price.currency != currency:
        return (
            WarningCode.LINE_NOT_ELIGIBLE,
            f"The offer price is in {offer_price.currency}, the order in {currency}.",
        )
    if not account_is_eligible(offer_price, ctx):
        return WarningCode.LINE_NOT_ELIGIBLE, "The account is not eligible to this offer price."
    if offer_price.variant_id not in ctx.visible_variant_ids:
        return (
            WarningCode.VARIANT_NOT_VISIBLE,
            f"Variant {offer_price.variant_external_id} is not visible in this store view.",
        )
    stock = None if ctx.stock_from_pricing else offer_price.available_quantity
    if stock is not None and stock <= 0:
        return WarningCode.OUT_OF_STOCK, "The offer is out of stock."
    return None


def account_is_eligible(offer_price: OfferPrice, ctx: BuyerContext) -> bool:
    """Empty account and group lists mean public; otherwise the account or one of its groups
    must be listed."""
    if not offer_price.eligible_account_ids and not offer_price.eligible_account_groups:
        return True
    return ctx.account.id in offer_price.eligible_account_ids or bool(
        offer_price.eligible_account_groups & ctx.account.groups
    )


def operation_refusal(operation: Operation, ctx: BuyerContext) -> str | None:
    """Why the operation is not open to this account now, or None."""
    if operation.status is not OperationStatus.ACTIVE:
        return f"Operation {operation.external_id} is not active."
    if operation.start_date is not None and ctx.now < operation.start_date:
        return f"Operation {operation.external_id} has not started."
    if operation.end_date is not None and ctx.now > operation.end_date:
        return f"Operation {operation.external_id} has ended."
    if operation.type is OperationType.PRIVATE and ctx.account.id not in operation.account_ids:
        return f"Operation {operation.external_id} is private to other accounts."
    return None
